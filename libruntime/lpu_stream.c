// SPDX-License-Identifier: MIT
/*
 * liblpu: token streams.
 *
 * A stream is one job on one hardware queue: a DMA of the prompt to the
 * model's prompt area (note.prompt_offset), then an EXEC that writes the
 * generated tokens to a buffer (struct drm_lpu_stream followed by the
 * tokens, uapi DOC "Token streams"). Progress comes as points of a fresh
 * timeline syncobj (point k: k tokens written), completion as the fence
 * of a binary syncobj.
 *
 * lpu_stream_next() reads tokens straight from the mapped buffer; it only
 * makes a system call when it has caught up with the card, to sleep in
 * DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT on "point consumed + 1 or the job's
 * end". lpu_stream_fd() is an eventfd the kernel signals for the same two
 * events (DRM_IOCTL_SYNCOBJ_EVENTFD); it is re-armed by lpu_stream_next()
 * when that catches up.
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lpu_insn.h"
#include "lpu_internal.h"

/* Not in libdrm 2.4.114's drm.h; Linux 6.6 added the ioctl. */
#ifndef DRM_IOCTL_SYNCOBJ_EVENTFD
struct drm_syncobj_eventfd {
	__u32 handle;
	__u32 flags;
	__u64 point;
	__s32 fd;
	__u32 pad;
};

#define DRM_IOCTL_SYNCOBJ_EVENTFD \
	DRM_IOWR(0xCF, struct drm_syncobj_eventfd)
#endif

#define LPU_DEFAULT_MAX_TOKENS	256
#define LPU_STREAM_HDR		sizeof(struct drm_lpu_stream)

_Static_assert(sizeof(struct drm_lpu_stream) == 64, "stream header size");

struct lpu_stream {
	struct lpu_model *model;
	struct lpu_device *dev;
	struct lpu_buffer *buf;
	struct drm_lpu_stream *hdr;	/* in the mapped buffer */
	const uint32_t *tokens;		/* little-endian, after the header */
	uint32_t capacity;
	uint32_t prompt_len;
	uint32_t consumed;		/* tokens handed out */
	uint32_t queue;
	uint64_t job_id;
	bool submitted;
	uint32_t progress;		/* timeline syncobj, 0 without */
	uint32_t done;			/* binary syncobj of the job */
	uint64_t predicted;
	uint64_t t_start, t_first, t_end;	/* CLOCK_MONOTONIC ns */
	int efd;			/* lpu_stream_fd(), -1 until then */
	atomic_bool cancelled;
	/* the job's end, once seen (done signalled) */
	bool job_done;
	int job_result;			/* 0 or -errno to return at the end */
	uint32_t state;			/* LPU_STREAM_STATE_* once job_done */
	/* lpu_stream_next() returned the end (0 or an error): sticky */
	bool ended;
	int end_result;
};

/* Positions a compiled model runs (Documentation/compiler.rst). */
static uint64_t model_positions(const struct lpu_program_note *n,
				uint32_t prompt_len, uint32_t budget)
{
	uint64_t p = prompt_len < n->prompt_max ? prompt_len : n->prompt_max;
	uint64_t b = budget < n->context_len ? budget : n->context_len;
	uint64_t end;

	if (!p || !budget)
		return 0;
	end = p + b - 1;
	return end < n->context_len ? end : n->context_len;
}

/*
 * The run's cycle limit for the card (drm_lpu_cmd_exec.max_kcycles): twice
 * the compiler's prediction, in thousands, rounded up. It lets a long
 * prompt compute past the queue timeout without a token (the watchdog
 * counts cycles under a limit as progress) while a program that runs away
 * still stops. 0 (no limit) for a program without a prediction.
 */
static uint32_t cycle_limit_k(const struct lpu_program_note *n,
			      uint64_t predicted)
{
	uint64_t k;

	if (!n->cycles_per_token)
		return 0;
	k = predicted / 500 + 1;	/* 2 * predicted / 1000, rounded up */
	return k < UINT32_MAX ? (uint32_t)k : UINT32_MAX;
}

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* Header fields written by the card. */
static uint32_t hdr_tokens(const struct lpu_stream *s)
{
	uint32_t n = le32toh(__atomic_load_n(&s->hdr->tokens,
					     __ATOMIC_ACQUIRE));

	return n < s->capacity ? n : s->capacity;
}

static uint32_t hdr_u32(const uint32_t *field)
{
	return le32toh(__atomic_load_n(field, __ATOMIC_ACQUIRE));
}

static int check_options(const struct lpu_model *m,
			 const struct lpu_stream_options *o, size_t n)
{
	const struct lpu_program_note *note = &m->prog->note;

	if (o->size > sizeof(*o)) {
		const uint8_t *tail = (const uint8_t *)o + sizeof(*o);
		size_t i;

		for (i = 0; i < o->size - sizeof(*o); i++)
			if (tail[i])
				return lpu_error(-EINVAL,
						 "lpu_stream_start: options this library does not know are set (lpu_stream_options.size %zu, this library knows %zu bytes)",
						 o->size, sizeof(*o));
	}
	if (!(o->temperature >= 0.0f) || isinf(o->temperature))
		return lpu_error(-EINVAL,
				 "lpu_stream_start: temperature %g: must be finite and >= 0 (0 = greedy)",
				 (double)o->temperature);
	if (!(o->top_p >= 0.0f && o->top_p <= 1.0f))
		return lpu_error(-EINVAL,
				 "lpu_stream_start: top_p %g: must be in [0, 1] (0 or 1 = no nucleus cut)",
				 (double)o->top_p);
	if (o->queue < -1 || (o->queue >= 0 &&
			      (uint32_t)o->queue >= m->dev->info.queue_count))
		return lpu_error(-EINVAL,
				 "lpu_stream_start: queue %d: the card has queues 0 to %u (-1 picks one)",
				 o->queue, m->dev->info.queue_count - 1);
	if (n == 0 && note->prompt_max)
		return lpu_error(-EINVAL,
				 "lpu_stream_start: an empty prompt (%s takes 1 to %u tokens)",
				 m->name, note->prompt_max);
	if (n > note->prompt_max)
		return lpu_error(-E2BIG,
				 "lpu_stream_start: a prompt of %zu tokens, %s takes at most %u",
				 n, m->name, note->prompt_max);
	return 0;
}

static void stream_destroy(struct lpu_stream *s)
{
	if (s->efd >= 0)
		close(s->efd);
	lpu_syncobj_destroy(s->dev->fd, s->progress);
	lpu_syncobj_destroy(s->dev->fd, s->done);
	lpu_buffer_free(s->buf);
	if (s->queue < LPU_MAX_QUEUES && s->submitted)
		atomic_fetch_sub(&s->dev->queue_streams[s->queue], 1);
	atomic_store(&s->model->busy, false);
	free(s);
}

LPU_EXPORT int lpu_stream_start(struct lpu_model *model,
				const uint32_t *prompt, size_t n,
				const struct lpu_stream_options *opts,
				struct lpu_stream **out)
{
	struct lpu_stream_options o = {
		.size = sizeof(o), .queue = -1,
	};
	const struct lpu_program_note *note;
	struct drm_lpu_sync sync = { 0 };
	struct drm_lpu_cmd cmds[2];
	struct lpu_device *dev;
	struct lpu_stream *s;
	uint64_t tok_bytes, prompt_off, size;
	uint32_t ncmd = 0;
	void *map;
	size_t i;
	bool busy = false;
	int r;

	if (!model || !out || (n && !prompt))
		return lpu_error(-EINVAL, "lpu_stream_start: NULL argument");
	dev = model->dev;
	note = &model->prog->note;
	if (opts) {
		r = lpu_check_size(opts->size, sizeof(*opts),
				   "lpu_stream_start", "lpu_stream_options");
		if (r)
			return r;
		memcpy(&o, opts, sizeof(o));
	}
	r = check_options(model, opts ? opts : &o, n);
	if (r)
		return r;
	if (!o.max_tokens)
		o.max_tokens = LPU_DEFAULT_MAX_TOKENS;
	for (i = 0; note->vocab_size && i < n; i++)
		if (prompt[i] >= note->vocab_size)
			return lpu_error(-EINVAL,
					 "lpu_stream_start: prompt token %zu is %u, not below %s's vocabulary size %u",
					 i, prompt[i], model->name,
					 note->vocab_size);
	tok_bytes = 4ULL * o.max_tokens;
	prompt_off = (LPU_STREAM_HDR + tok_bytes + 63) & ~63ULL;
	size = prompt_off + 4ULL * n;
	if (dev->info.max_bo_size && size > dev->info.max_bo_size)
		return lpu_error(-E2BIG,
				 "lpu_stream_start: max_tokens %u needs a %llu-byte stream buffer, the card's largest is %llu",
				 o.max_tokens, (unsigned long long)size,
				 (unsigned long long)dev->info.max_bo_size);
	if (!(dev->info.caps & DRM_LPU_CAP_EXEC))
		return lpu_error(-EOPNOTSUPP,
				 "%s: the card does not run programs (no DRM_LPU_CAP_EXEC)",
				 dev->node);
	if (!atomic_compare_exchange_strong(&model->busy, &busy, true))
		return lpu_error(-EBUSY,
				 "%s already runs a stream (free it first, or load the model again)",
				 model->name);

	s = calloc(1, sizeof(*s));
	if (!s) {
		atomic_store(&model->busy, false);
		return lpu_error(-ENOMEM, "lpu_stream_start: out of memory");
	}
	s->model = model;
	s->dev = dev;
	s->efd = -1;
	s->capacity = o.max_tokens;
	s->prompt_len = (uint32_t)n;
	s->predicted = note->cycles_prologue + note->cycles_epilogue +
		       model_positions(note, (uint32_t)n, o.max_tokens) *
		       note->cycles_per_token;

	r = lpu_buffer_create(dev, size, &s->buf);
	if (r)
		goto err;
	r = lpu_buffer_map(s->buf, &map);
	if (r)
		goto err;
	s->hdr = map;
	s->tokens = (const uint32_t *)((char *)map + LPU_STREAM_HDR);
	for (i = 0; i < n; i++)
		((uint32_t *)((char *)map + prompt_off))[i] = htole32(prompt[i]);

	r = lpu_syncobj_create(dev->fd, &s->done);
	if (!r && (dev->info.caps & DRM_LPU_CAP_TIMELINE))
		r = lpu_syncobj_create(dev->fd, &s->progress);
	if (r) {
		r = lpu_error(r, "%s: creating syncobjs: %s", dev->node,
			      strerror(-r));
		goto err;
	}

	memset(cmds, 0, sizeof(cmds));
	if (n) {
		cmds[ncmd].op = DRM_LPU_CMD_DMA_TO_SRAM;
		cmds[ncmd].dma.bo_handle = s->buf->handle;
		cmds[ncmd].dma.sram_handle = model->sram_handle;
		cmds[ncmd].dma.bo_offset = prompt_off;
		cmds[ncmd].dma.sram_offset = note->prompt_offset;
		cmds[ncmd].dma.size = 4ULL * n;
		ncmd++;
	}
	cmds[ncmd].op = DRM_LPU_CMD_EXEC;
	cmds[ncmd].exec.sram_handle = model->sram_handle;
	cmds[ncmd].exec.stream_handle = s->buf->handle;
	cmds[ncmd].exec.stream_offset = 0;
	cmds[ncmd].exec.stream_capacity = o.max_tokens;
	cmds[ncmd].exec.entry = (uint32_t)note->entry;
	cmds[ncmd].exec.prompt_len = (uint32_t)n;
	cmds[ncmd].exec.budget = o.max_tokens;
	cmds[ncmd].exec.temperature = f32_bits(o.temperature);
	cmds[ncmd].exec.top_p = f32_bits(o.top_p);
	cmds[ncmd].exec.seed = o.seed;
	cmds[ncmd].exec.progress_syncobj = s->progress;
	cmds[ncmd].exec.max_kcycles = cycle_limit_k(note, s->predicted);
	ncmd++;
	sync.handle = s->done;

	s->queue = o.queue >= 0 ? (uint32_t)o.queue :
		   lpu_device_pick_queue(dev);
	s->t_start = lpu_now_ns();
	r = lpu_submit(dev, s->queue, cmds, ncmd, &sync, 1, &s->job_id);
	if (r) {
		r = lpu_error(r, "%s: submitting %s on queue %u: %s",
			      dev->node, model->name, s->queue, strerror(-r));
		goto err;
	}
	s->submitted = true;
	if (s->queue < LPU_MAX_QUEUES)
		atomic_fetch_add(&dev->queue_streams[s->queue], 1);
	*out = s;
	return 0;
err:
	stream_destroy(s);
	return r;
}

/* The job has ended: read its result (fence status and header). */
static int stream_finish(struct lpu_stream *s)
{
	const char *name = s->model->name;
	uint32_t state, fault, pc, n;
	int status = 0, r;

	r = lpu_syncobj_status(s->dev->fd, s->done, &status);
	if (r)
		return lpu_error(r, "%s: reading the job's status: %s",
				 s->dev->node, strerror(-r));
	if (status == 0)
		return 0;	/* not signalled after all */
	s->job_done = true;
	s->t_end = lpu_now_ns();
	state = hdr_u32(&s->hdr->state);
	fault = hdr_u32(&s->hdr->fault);
	pc = hdr_u32(&s->hdr->fault_pc);
	n = hdr_tokens(s);
	if (status == 1) {
		s->state = LPU_STREAM_STATE_DONE;
		s->job_result = 0;
	} else if (status == -ETIMEDOUT) {
		/* the watchdog; not -ETIMEDOUT, which is our own timeout */
		s->state = LPU_STREAM_STATE_CANCELED;
		s->job_result = -ETIME;
		lpu_error(-ETIME,
			  "%s: the program made no progress within the driver's job timeout and was stopped, after %u tokens",
			  name, n);
	} else if (state == DRM_LPU_STREAM_FAULT) {
		s->state = LPU_STREAM_STATE_FAULT;
		s->job_result = -EIO;
		lpu_error(-EIO,
			  "%s: the program faulted: fault %u (%s) at pc 0x%x, after %u tokens",
			  name, fault, lpu_fault_name((int)fault), pc, n);
	} else if (status == -ECANCELED || state == DRM_LPU_STREAM_ABORTED) {
		s->state = LPU_STREAM_STATE_CANCELED;
		s->job_result = -ECANCELED;
		lpu_error(-ECANCELED, atomic_load(&s->cancelled) ?
			  "%s: the stream was cancelled after %u tokens" :
			  "%s: the stream was aborted by the driver (card reset or file closed) after %u tokens",
			  name, n);
	} else {
		s->state = LPU_STREAM_STATE_FAULT;
		s->job_result = status;
		lpu_error(status, "%s: the job failed: %s (after %u tokens)",
			  name, strerror(-status), n);
	}
	return 0;
}

/* Return the end of the stream (sticky). */
static int stream_end(struct lpu_stream *s, int result)
{
	s->ended = true;
	s->end_result = result;
	if (result == -ECANCELED && atomic_load(&s->cancelled))
		lpu_error(-ECANCELED, "%s: the stream was cancelled",
			  s->model->name);
	return result;
}

/*
 * Re-arm the eventfd after catching up: drain it, then make it readable
 * again at once if a token or the end is there, else when point
 * consumed + 1 is signalled (the end is registered once, at creation).
 */
static int stream_rearm(struct lpu_stream *s)
{
	struct drm_syncobj_eventfd ev;
	uint64_t v;
	uint32_t first;
	int r;

	if (s->efd < 0)
		return 0;
	while (read(s->efd, &v, sizeof(v)) == sizeof(v))
		;
	if (hdr_tokens(s) > s->consumed || s->job_done ||
	    atomic_load(&s->cancelled) ||
	    !lpu_syncobj_wait(s->dev->fd, &s->done, (const uint64_t[]){ 0 }, 1,
			      0, 0, &first)) {
		v = 1;
		if (write(s->efd, &v, sizeof(v)) != sizeof(v))
			return lpu_error(-errno, "eventfd write: %s",
					 strerror(errno));
		return 0;
	}
	if (!s->progress)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.handle = s->progress;
	ev.point = (uint64_t)s->consumed + 1;
	ev.fd = s->efd;
	r = lpu_ioctl(s->dev->fd, DRM_IOCTL_SYNCOBJ_EVENTFD, &ev);
	if (r)
		return lpu_error(r, "DRM_IOCTL_SYNCOBJ_EVENTFD: %s",
				 strerror(-r));
	return 0;
}

LPU_EXPORT int lpu_stream_next(struct lpu_stream *s, uint32_t *token,
			       int timeout_ms)
{
	int64_t deadline;

	if (!s || !token)
		return lpu_error(-EINVAL, "lpu_stream_next: NULL argument");
	if (s->ended) {
		if (s->end_result)
			lpu_error(s->end_result,
				  "%s: the stream has already ended: %s",
				  s->model->name, lpu_strerror(s->end_result));
		return s->end_result;
	}
	if (timeout_ms < 0)
		deadline = INT64_MAX;
	else if (timeout_ms == 0)
		deadline = 0;
	else
		deadline = (int64_t)(lpu_now_ns() +
				     (uint64_t)timeout_ms * 1000000ULL);

	for (;;) {
		uint32_t handles[2], first = 0, nh = 0;
		uint64_t points[2];
		int r;

		if (atomic_load(&s->cancelled))
			return stream_end(s, -ECANCELED);
		if (hdr_tokens(s) > s->consumed) {
			*token = le32toh(__atomic_load_n(&s->tokens[s->consumed],
							 __ATOMIC_RELAXED));
			/* seen now, or already when the end was seen */
			if (!s->consumed)
				s->t_first = s->job_done ? s->t_end :
					     lpu_now_ns();
			s->consumed++;
			if (s->efd >= 0 && hdr_tokens(s) == s->consumed) {
				r = stream_rearm(s);
				if (r)
					return r;
			}
			return 1;
		}
		if (s->job_done) {
			/* every token was written before the fence signalled */
			if (hdr_tokens(s) > s->consumed)
				continue;
			if (s->job_result)
				return stream_end(s, s->job_result);
			return stream_end(s, 0);
		}
		if (s->progress) {
			handles[nh] = s->progress;
			points[nh++] = (uint64_t)s->consumed + 1;
		}
		handles[nh] = s->done;
		points[nh++] = 0;
		r = lpu_syncobj_wait(s->dev->fd, handles, points, nh, deadline,
				     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
				     &first);
		if (r == -ETIME)
			return lpu_error(-ETIMEDOUT,
					 "%s: no token within %d ms (%u so far)",
					 s->model->name, timeout_ms,
					 s->consumed);
		if (r)
			return lpu_error(r, "%s: waiting for tokens: %s",
					 s->dev->node, strerror(-r));
		if (first == nh - 1 || hdr_tokens(s) <= s->consumed) {
			r = stream_finish(s);
			if (r)
				return r;
		}
	}
}

LPU_EXPORT int lpu_stream_fd(struct lpu_stream *s)
{
	struct drm_syncobj_eventfd ev;
	int efd, r;

	if (!s)
		return lpu_error(-EINVAL, "lpu_stream_fd: stream is NULL");
	if (s->efd >= 0)
		return s->efd;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return lpu_error(-errno, "eventfd: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));
	ev.handle = s->done;
	ev.fd = efd;
	r = lpu_ioctl(s->dev->fd, DRM_IOCTL_SYNCOBJ_EVENTFD, &ev);
	if (r == -ENOTTY || r == -EINVAL) {
		/* the DRM core's answer to an ioctl it does not know */
		r = lpu_error(-EOPNOTSUPP,
			      "%s: the kernel lacks DRM_IOCTL_SYNCOBJ_EVENTFD (Linux 6.6 and later have it)",
			      s->dev->node);
	} else if (r) {
		r = lpu_error(r, "DRM_IOCTL_SYNCOBJ_EVENTFD: %s",
			      strerror(-r));
	}
	if (r) {
		close(efd);
		return r;
	}
	/* lpu_stream_cancel() may write to it from now on */
	__atomic_store_n(&s->efd, efd, __ATOMIC_RELEASE);
	r = stream_rearm(s);
	return r ? r : efd;
}

LPU_EXPORT int lpu_stream_cancel(struct lpu_stream *s)
{
	struct drm_lpu_job_cancel c = { 0 };
	int efd, r;

	if (!s)
		return lpu_error(-EINVAL, "lpu_stream_cancel: stream is NULL");
	atomic_store(&s->cancelled, true);
	c.job_id = s->job_id;
	c.queue = s->queue;
	r = lpu_ioctl(s->dev->fd, DRM_IOCTL_LPU_JOB_CANCEL, &c);
	if (r)
		return lpu_error(r, "%s: DRM_IOCTL_LPU_JOB_CANCEL: %s",
				 s->dev->node, strerror(-r));
	/* wake a poll()er: the next lpu_stream_next() returns at once */
	efd = __atomic_load_n(&s->efd, __ATOMIC_ACQUIRE);
	if (efd >= 0) {
		uint64_t v = 1;

		if (write(efd, &v, sizeof(v)) != sizeof(v))
			return lpu_error(-errno, "eventfd write: %s",
					 strerror(errno));
	}
	return 0;
}

LPU_EXPORT int lpu_stream_stats(const struct lpu_stream *s,
				struct lpu_stream_stats *st)
{
	uint32_t state;
	size_t size;
	int r;

	if (!s || !st)
		return lpu_error(-EINVAL, "lpu_stream_stats: NULL argument");
	r = lpu_check_size(st->size, sizeof(*st), "lpu_stream_stats",
			   "lpu_stream_stats");
	if (r)
		return r;
	size = st->size;
	memset(st, 0, size);
	st->size = size;
	state = hdr_u32(&s->hdr->state);
	if (s->job_done)
		st->state = s->state;
	else if (state == DRM_LPU_STREAM_HALTED)
		st->state = LPU_STREAM_STATE_DONE;
	else if (state == DRM_LPU_STREAM_FAULT)
		st->state = LPU_STREAM_STATE_FAULT;
	else if (state == DRM_LPU_STREAM_ABORTED)
		st->state = LPU_STREAM_STATE_CANCELED;
	else
		st->state = LPU_STREAM_STATE_RUNNING;
	if (atomic_load(&s->cancelled) && st->state == LPU_STREAM_STATE_RUNNING)
		st->state = LPU_STREAM_STATE_CANCELED;
	st->tokens = hdr_tokens(s);
	if (state != DRM_LPU_STREAM_RUNNING) {
		st->cycles = le64toh(__atomic_load_n(&s->hdr->cycles,
						     __ATOMIC_ACQUIRE));
		if (state == DRM_LPU_STREAM_FAULT) {
			st->fault = hdr_u32(&s->hdr->fault);
			st->fault_pc = hdr_u32(&s->hdr->fault_pc);
		}
	}
	st->predicted_cycles = s->predicted;
	st->first_token_ns = s->t_first ? s->t_first - s->t_start : 0;
	st->elapsed_ns = (s->job_done ? s->t_end : lpu_now_ns()) - s->t_start;
	return 0;
}

LPU_EXPORT void lpu_stream_free(struct lpu_stream *s)
{
	if (!s)
		return;
	if (!s->job_done && s->submitted) {
		struct drm_lpu_job_cancel c = {
			.job_id = s->job_id, .queue = s->queue,
		};

		/* harmless when the job has completed meanwhile */
		if (!atomic_load(&s->cancelled))
			lpu_ioctl(s->dev->fd, DRM_IOCTL_LPU_JOB_CANCEL, &c);
		/* the card lets go of the buffer and SRAM at the fence */
		lpu_syncobj_wait(s->dev->fd, &s->done, (const uint64_t[]){ 0 },
				 1, INT64_MAX,
				 DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL);
	}
	stream_destroy(s);
}
