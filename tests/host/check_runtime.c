// SPDX-License-Identifier: MIT
/*
 * Tests of liblpu (libruntime/), on the host.
 *
 * There is no card here, so most suites put a fake card behind the
 * library: the internal system-call table (struct lpu_ops, installed with
 * the test-only lpu__set_ops(), not exported from liblpu.so) sends the
 * node "/fake/accel0" to an in-process model of the driver. The fake
 * answers every ioctl the library uses (DRM version, query, buffers, SRAM,
 * submit, cancel, syncobjs, sync_file info, syncobj eventfds) and runs
 * EXEC commands on the real engine (tools/emulator/lpu_engine.c), so
 * streams carry the tokens a card would produce. The fake card only makes
 * progress while someone waits on it (a syncobj wait with a deadline) or
 * when a test calls fake_run(): runs are deterministic.
 *
 * Suites, each with "core" and "errors" cases: errors (lpu_strerror,
 * lpu_last_error), device (discovery, open, query), buffer, model,
 * stream, tokenizer, exports (liblpu.so exports exactly lpu.h).
 *
 * Data (tests/host/runtime.mk makes it, in RT_DATA_DIR): the assembled
 * programs of tests/programs, and a tiny model with its tokenizer plus
 * what lpu-sim generates from it.
 */
#define _GNU_SOURCE
#include <check.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/sync_file.h>

#include "lpu.h"
#include "lpu_internal.h"
#include "lpu_engine.h"
#include "lpu_insn.h"
#include "lpu_program.h"

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

#ifndef RT_DATA_DIR
#define RT_DATA_DIR "build/tests/host/runtime"
#endif
#ifndef RT_PROGRAMS_DIR
#define RT_PROGRAMS_DIR "build/programs"
#endif
#ifndef RT_MALFORMED_DIR
#define RT_MALFORMED_DIR "tests/programs/malformed"
#endif
#ifndef RT_LIBLPU_SO
#define RT_LIBLPU_SO "build/lib/liblpu.so"
#endif
#ifndef RT_LPU_H
#define RT_LPU_H "libruntime/lpu.h"
#endif

#define FAKE_NODE	"/fake/accel0"
#define SYSFS_FILE	"/sys/kernel/uevent_seqnum"
#define FAKE_MAX	64
#define FAKE_SLICE	2000	/* instructions per step of the fake card */

/* ---- the fake card -------------------------------------------------------- */

struct fake_bo {
	bool used;
	uint64_t size;
	uint8_t *mem;
	bool user;		/* DRM_IOCTL_LPU_BO_USERPTR: mem is the caller's */
	bool read_only;
};

struct fake_sram {
	bool used;
	uint64_t size;
	uint8_t *mem;
};

struct fake_syncobj {
	bool used;
	bool has_fence;		/* binary: a job was attached */
	bool signalled;
	int status;		/* binary, once signalled: 1 or -errno */
	uint64_t point;		/* timeline: last signalled point */
};

struct fake_eventfd {
	bool used;
	uint32_t handle;
	uint64_t point;
	int fd;
};

struct fake_run {
	bool active;
	struct lpu_engine e;
	uint32_t done, progress, queue;
	uint64_t job_id;
	uint8_t *stream;	/* header, then tokens */
	uint32_t capacity;
};

static struct fake {
	int fd;				/* the open "node": a /dev/null fd */
	char driver[16];		/* what DRM_IOCTL_VERSION says */
	struct drm_lpu_device_info info;
	uint64_t other_used;		/* SRAM held by "other files" */
	int sram_alloc_error;		/* forced SRAM_ALLOC errno */
	int bo_create_error;		/* forced BO_CREATE errno */
	int userptr_error;		/* forced BO_USERPTR errno */
	unsigned int userptr_budget;	/* > 0: BO_USERPTRs before -ENOMEM */
	int dma_error;			/* a job with DMA fails with this */
	struct fake_bo bo[FAKE_MAX];
	struct fake_sram sram[FAKE_MAX];
	struct fake_syncobj so[FAKE_MAX];
	struct fake_eventfd ev[FAKE_MAX];
	int sync_fd[FAKE_MAX];		/* exported sync_files ... */
	int sync_status[FAKE_MAX];	/* ... and their status */
	struct fake_run run;
	uint64_t next_job;
	/* counters the tests look at */
	unsigned int n_sram_alloc, n_submit, n_cancel, n_eventfd;
	unsigned int n_bo_create, n_userptr;
	uint64_t dma_bytes;
	uint32_t last_queue;
	struct drm_lpu_cmd last_exec;
} fk;

static int fake_errno(int e)
{
	errno = e;
	return -1;
}

static struct fake_bo *fake_bo(uint32_t h)
{
	return h && h <= FAKE_MAX && fk.bo[h - 1].used ? &fk.bo[h - 1] : NULL;
}

static struct fake_sram *fake_sram(uint32_t h)
{
	return h && h <= FAKE_MAX && fk.sram[h - 1].used ? &fk.sram[h - 1] :
	       NULL;
}

static struct fake_syncobj *fake_so(uint32_t h)
{
	return h && h <= FAKE_MAX && fk.so[h - 1].used ? &fk.so[h - 1] : NULL;
}

static uint64_t fake_sram_used(void)
{
	uint64_t used = fk.other_used;
	int i;

	for (i = 0; i < FAKE_MAX; i++)
		if (fk.sram[i].used)
			used += fk.sram[i].size;
	return used;
}

static bool so_reached(const struct fake_syncobj *so, uint64_t point)
{
	if (point)
		return so->point >= point;
	return so->has_fence && so->signalled;
}

/* Fire the eventfds whose syncobj point has been reached. */
static void fake_fire(void)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++) {
		struct fake_eventfd *ev = &fk.ev[i];
		struct fake_syncobj *so;
		uint64_t one = 1;

		if (!ev->used)
			continue;
		so = fake_so(ev->handle);
		if (!so || !so_reached(so, ev->point))
			continue;
		ck_assert_int_eq(write(ev->fd, &one, sizeof(one)), 8);
		ev->used = false;
	}
}

static void fake_signal(uint32_t h, int status)
{
	struct fake_syncobj *so = fake_so(h);

	if (!so)
		return;
	so->signalled = true;
	so->status = status;
	fake_fire();
}

static void fake_progress(uint32_t h, uint64_t point)
{
	struct fake_syncobj *so = fake_so(h);

	if (so && point > so->point) {
		so->point = point;
		fake_fire();
	}
}

static int fake_emit(void *opaque, uint32_t token, uint32_t index)
{
	struct fake_run *r = opaque;
	struct drm_lpu_stream *h = (struct drm_lpu_stream *)r->stream;
	uint32_t *t = (uint32_t *)(h + 1);

	if (index >= r->capacity)
		return 1;
	t[index] = htole32(token);
	__atomic_store_n(&h->tokens, htole32(index + 1), __ATOMIC_RELEASE);
	fake_progress(r->progress, index + 1);
	return 0;
}

/* The end of the running job. */
static void fake_run_end(uint32_t state, int status)
{
	struct fake_run *r = &fk.run;
	struct drm_lpu_stream *h = (struct drm_lpu_stream *)r->stream;

	h->state = htole32(state);
	h->cycles = htole64(r->e.cycles);
	h->insns = htole64(r->e.insns);
	if (state == DRM_LPU_STREAM_FAULT) {
		h->fault = htole32(r->e.fault);
		h->fault_pc = htole32((uint32_t)r->e.fault_pc);
	}
	lpu_engine_fini(&r->e);
	r->active = false;
	fake_signal(r->done, status);
}

/* Let the card run @insns more instructions of the running program. */
static void fake_run(uint64_t insns)
{
	struct fake_run *r = &fk.run;
	struct lpu_engine_io io = { fake_emit, r };
	enum lpu_engine_status st;

	if (!r->active)
		return;
	st = lpu_engine_run(&r->e, insns, &io);
	if (st == LPU_ENGINE_HALTED)
		fake_run_end(DRM_LPU_STREAM_HALTED, 1);
	else if (st == LPU_ENGINE_FAULT)
		fake_run_end(DRM_LPU_STREAM_FAULT, -EIO);
}

/* The watchdog stops the running program. */
static void fake_watchdog(void)
{
	if (fk.run.active)
		fake_run_end(DRM_LPU_STREAM_ABORTED, -ETIMEDOUT);
}

static int fake_submit(struct drm_lpu_submit *s)
{
	const struct drm_lpu_cmd *cmds = (const void *)(uintptr_t)s->cmds;
	const struct drm_lpu_sync *out = (const void *)(uintptr_t)s->out_syncs;
	uint32_t i, done = 0;
	int status = 1;

	if (!s->cmd_count || s->queue >= fk.info.queue_count || s->flags ||
	    s->pad || s->in_sync_count)
		return fake_errno(EINVAL);
	if (s->cmd_count > DRM_LPU_MAX_CMDS)
		return fake_errno(E2BIG);
	for (i = 0; i < s->out_sync_count; i++)
		if (!fake_so(out[i].handle))
			return fake_errno(ENOENT);
	/* check everything first, as the driver does */
	for (i = 0; i < s->cmd_count; i++) {
		const struct drm_lpu_cmd *c = &cmds[i];
		struct fake_bo *bo;
		struct fake_sram *sr;

		if (c->flags)
			return fake_errno(EINVAL);
		if (c->op == DRM_LPU_CMD_DMA_TO_SRAM) {
			bo = fake_bo(c->dma.bo_handle);
			sr = fake_sram(c->dma.sram_handle);
			if (!bo || !sr)
				return fake_errno(ENOENT);
			if (!c->dma.size)
				return fake_errno(EINVAL);
			if (c->dma.bo_offset + c->dma.size > bo->size ||
			    c->dma.sram_offset + c->dma.size > sr->size)
				return fake_errno(ERANGE);
		} else if (c->op == DRM_LPU_CMD_EXEC) {
			const struct drm_lpu_cmd_exec *x = &c->exec;

			if (!(fk.info.caps & DRM_LPU_CAP_EXEC) || fk.run.active)
				return fake_errno(EINVAL);
			bo = fake_bo(x->stream_handle);
			if (!fake_sram(x->sram_handle) || !bo ||
			    (x->progress_syncobj && !fake_so(x->progress_syncobj)))
				return fake_errno(ENOENT);
			if (x->stream_offset % 64 || !x->stream_capacity ||
			    x->entry % 32)
				return fake_errno(EINVAL);
			if (x->stream_offset + 64 + 4ULL * x->stream_capacity >
			    bo->size)
				return fake_errno(ERANGE);
		} else {
			return fake_errno(EINVAL);
		}
	}
	s->job_id = ++fk.next_job;
	fk.n_submit++;
	fk.last_queue = s->queue;
	for (i = 0; i < s->out_sync_count; i++) {
		struct fake_syncobj *so = fake_so(out[i].handle);

		so->has_fence = true;
		so->signalled = false;
		done = out[i].handle;
	}
	for (i = 0; i < s->cmd_count; i++) {
		const struct drm_lpu_cmd *c = &cmds[i];

		if (c->op == DRM_LPU_CMD_DMA_TO_SRAM) {
			if (fk.dma_error) {
				status = -fk.dma_error;
				break;
			}
			memcpy(fake_sram(c->dma.sram_handle)->mem +
			       c->dma.sram_offset,
			       fake_bo(c->dma.bo_handle)->mem + c->dma.bo_offset,
			       c->dma.size);
			fk.dma_bytes += c->dma.size;
		} else {
			const struct drm_lpu_cmd_exec *x = &c->exec;
			struct fake_sram *sr = fake_sram(x->sram_handle);
			struct lpu_engine_args args = {
				.prompt_len = x->prompt_len,
				.budget = x->budget,
				.temperature = lpu_bits_f32(x->temperature),
				.top_p = lpu_bits_f32(x->top_p),
				.seed = x->seed,
			};
			struct fake_run *r = &fk.run;

			fk.last_exec = *c;
			memset(r, 0, sizeof(*r));
			ck_assert_int_eq(lpu_engine_init(&r->e, sr->mem,
							 sr->size, x->entry,
							 &args), 0);
			r->active = true;
			r->done = done;
			r->progress = x->progress_syncobj;
			r->queue = s->queue;
			r->job_id = s->job_id;
			r->stream = fake_bo(x->stream_handle)->mem +
				    x->stream_offset;
			r->capacity = x->stream_capacity;
			return 0;	/* runs while someone waits */
		}
	}
	fake_signal(done, status);
	return 0;
}

static int fake_wait(struct drm_syncobj_timeline_wait *w)
{
	const uint32_t *h = (const void *)(uintptr_t)w->handles;
	const uint64_t *p = (const void *)(uintptr_t)w->points;
	uint64_t budget = 20000000;	/* instructions before "deadlock" */
	uint32_t i;

	for (i = 0; i < w->count_handles; i++) {
		struct fake_syncobj *so = fake_so(h[i]);

		if (!so)
			return fake_errno(ENOENT);
		if (!p[i] && !so->has_fence &&
		    !(w->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT))
			return fake_errno(EINVAL);
	}
	for (;;) {
		uint32_t n = 0, first = UINT32_MAX;

		for (i = 0; i < w->count_handles; i++) {
			if (so_reached(fake_so(h[i]), p[i])) {
				n++;
				if (first == UINT32_MAX)
					first = i;
			}
		}
		if ((w->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL) ?
		    n == w->count_handles : n > 0) {
			w->first_signaled = first;
			return 0;
		}
		/* a poll, or past the deadline */
		if (w->timeout_nsec <= 0 ||
		    (uint64_t)w->timeout_nsec <= lpu_now_ns())
			return fake_errno(ETIME);
		if (!fk.run.active) {
			if (w->timeout_nsec == INT64_MAX)
				return fake_errno(EDEADLK);
			return fake_errno(ETIME);
		}
		if (w->timeout_nsec == INT64_MAX && !budget--)
			return fake_errno(EDEADLK);
		fake_run(FAKE_SLICE);
	}
}

static int fake_export(struct drm_syncobj_handle *a)
{
	struct fake_syncobj *so = fake_so(a->handle);
	int i;

	if (!so)
		return fake_errno(ENOENT);
	if (a->flags != DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE)
		return fake_errno(EINVAL);
	for (i = 0; i < FAKE_MAX; i++) {
		if (fk.sync_fd[i] >= 0)
			continue;
		fk.sync_fd[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fk.sync_fd[i] < 0)
			return -1;
		fk.sync_status[i] = so->signalled ? so->status : 0;
		a->fd = fk.sync_fd[i];
		return 0;
	}
	return fake_errno(EMFILE);
}

static int fake_card_ioctl(unsigned long req, void *arg)
{
	int i;

	switch (req) {
	case DRM_IOCTL_VERSION: {
		struct drm_version *v = arg;
		size_t len = strlen(fk.driver);

		if (!fk.driver[0])
			return fake_errno(ENOTTY);
		if (v->name && v->name_len)
			memcpy(v->name, fk.driver,
			       len < v->name_len ? len : v->name_len);
		v->name_len = len;
		return 0;
	}
	case DRM_IOCTL_LPU_QUERY: {
		struct drm_lpu_query *q = arg;
		struct drm_lpu_device_info info = fk.info;

		if (q->flags || q->size < 8)
			return fake_errno(EINVAL);
		info.struct_size = sizeof(info);
		info.sram_free = info.sram_size - fake_sram_used();
		memcpy((void *)(uintptr_t)q->info, &info,
		       q->size < sizeof(info) ? q->size : sizeof(info));
		return 0;
	}
	case DRM_IOCTL_LPU_BO_CREATE: {
		struct drm_lpu_bo_create *c = arg;

		if (!c->size || c->flags)
			return fake_errno(EINVAL);
		if (c->size > fk.info.max_bo_size)
			return fake_errno(E2BIG);
		if (fk.bo_create_error)
			return fake_errno(fk.bo_create_error);
		for (i = 0; i < FAKE_MAX && fk.bo[i].used; i++)
			;
		if (i == FAKE_MAX)
			return fake_errno(ENOMEM);
		fk.bo[i].size = (c->size + 4095) & ~4095ULL;
		fk.bo[i].mem = aligned_alloc(4096, fk.bo[i].size);
		ck_assert_ptr_nonnull(fk.bo[i].mem);
		memset(fk.bo[i].mem, 0, fk.bo[i].size);
		fk.bo[i].used = true;
		fk.n_bo_create++;
		c->size = fk.bo[i].size;
		c->handle = i + 1;
		return 0;
	}
	case DRM_IOCTL_LPU_BO_MMAP_OFFSET: {
		struct drm_lpu_bo_mmap_offset *m = arg;

		if (!fake_bo(m->handle))
			return fake_errno(ENOENT);
		m->offset = (uint64_t)m->handle << 32;
		return 0;
	}
	case DRM_IOCTL_GEM_CLOSE: {
		struct drm_gem_close *g = arg;
		struct fake_bo *bo = fake_bo(g->handle);

		if (!bo)
			return fake_errno(EINVAL);
		ck_assert_msg(!fk.run.active || fk.run.stream < bo->mem ||
			      fk.run.stream >= bo->mem + bo->size,
			      "the stream buffer was closed while its program runs");
		if (!bo->user)
			free(bo->mem);
		memset(bo, 0, sizeof(*bo));
		return 0;
	}
	case DRM_IOCTL_LPU_BO_USERPTR: {
		struct drm_lpu_bo_userptr *u = arg;

		if (!(fk.info.caps & DRM_LPU_CAP_USERPTR))
			return fake_errno(EINVAL);	/* unknown ioctl */
		if (u->flags & ~DRM_LPU_BO_USERPTR_READ_ONLY || !u->size ||
		    u->addr % 4096 || u->size % 4096)
			return fake_errno(EINVAL);
		if (u->size > fk.info.max_bo_size)
			return fake_errno(E2BIG);
		if (fk.userptr_error)
			return fake_errno(fk.userptr_error);
		if (fk.userptr_budget && fk.n_userptr == fk.userptr_budget)
			return fake_errno(ENOMEM);	/* RLIMIT_MEMLOCK */
		for (i = 0; i < FAKE_MAX && fk.bo[i].used; i++)
			;
		if (i == FAKE_MAX)
			return fake_errno(ENOMEM);
		fk.bo[i].size = u->size;
		fk.bo[i].mem = (uint8_t *)(uintptr_t)u->addr;
		fk.bo[i].user = true;
		fk.bo[i].read_only = u->flags & DRM_LPU_BO_USERPTR_READ_ONLY;
		fk.bo[i].used = true;
		fk.n_userptr++;
		u->handle = i + 1;
		return 0;
	}
	case DRM_IOCTL_LPU_SRAM_ALLOC: {
		struct drm_lpu_sram_alloc *a = arg;

		if (!a->size || a->flags)
			return fake_errno(EINVAL);
		if (fk.sram_alloc_error)
			return fake_errno(fk.sram_alloc_error);
		a->size = (a->size + 4095) & ~4095ULL;
		if (a->size > fk.info.sram_size - fake_sram_used())
			return fake_errno(ENOSPC);
		for (i = 0; i < FAKE_MAX && fk.sram[i].used; i++)
			;
		fk.sram[i].mem = calloc(1, a->size);
		ck_assert_ptr_nonnull(fk.sram[i].mem);
		fk.sram[i].size = a->size;
		fk.sram[i].used = true;
		a->handle = i + 1;
		a->sram_addr = 0x100000ULL * (i + 1);
		fk.n_sram_alloc++;
		return 0;
	}
	case DRM_IOCTL_LPU_SRAM_FREE: {
		struct drm_lpu_sram_free *f = arg;
		struct fake_sram *s = fake_sram(f->handle);

		if (!s)
			return fake_errno(ENOENT);
		free(s->mem);
		memset(s, 0, sizeof(*s));
		return 0;
	}
	case DRM_IOCTL_LPU_SUBMIT:
		return fake_submit(arg);
	case DRM_IOCTL_LPU_JOB_CANCEL: {
		struct drm_lpu_job_cancel *c = arg;

		if (c->flags || c->queue >= fk.info.queue_count)
			return fake_errno(EINVAL);
		fk.n_cancel++;
		if (fk.run.active && fk.run.queue == c->queue &&
		    fk.run.job_id <= c->job_id)
			fake_run_end(DRM_LPU_STREAM_ABORTED, -ECANCELED);
		return 0;
	}
	case DRM_IOCTL_SYNCOBJ_CREATE: {
		struct drm_syncobj_create *c = arg;

		for (i = 0; i < FAKE_MAX && fk.so[i].used; i++)
			;
		memset(&fk.so[i], 0, sizeof(fk.so[i]));
		fk.so[i].used = true;
		c->handle = i + 1;
		return 0;
	}
	case DRM_IOCTL_SYNCOBJ_DESTROY: {
		struct drm_syncobj_destroy *d = arg;
		struct fake_syncobj *so = fake_so(d->handle);

		if (!so)
			return fake_errno(EINVAL);
		so->used = false;
		for (i = 0; i < FAKE_MAX; i++)
			if (fk.ev[i].used && fk.ev[i].handle == d->handle)
				fk.ev[i].used = false;
		return 0;
	}
	case DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT:
		return fake_wait(arg);
	case DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD:
		return fake_export(arg);
	case DRM_IOCTL_SYNCOBJ_EVENTFD: {
		struct drm_syncobj_eventfd *e = arg;

		if (e->flags || e->pad)
			return fake_errno(EINVAL);
		if (!fake_so(e->handle))
			return fake_errno(ENOENT);
		for (i = 0; i < FAKE_MAX && fk.ev[i].used; i++)
			;
		fk.ev[i].used = true;
		fk.ev[i].handle = e->handle;
		fk.ev[i].point = e->point;
		fk.ev[i].fd = e->fd;
		fk.n_eventfd++;
		fake_fire();
		return 0;
	}
	default:
		return fake_errno(ENOTTY);
	}
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	int i;

	if (fk.fd >= 0 && fd == fk.fd)
		return fake_card_ioctl(req, arg);
	for (i = 0; i < FAKE_MAX; i++) {
		if (fk.sync_fd[i] < 0 || fk.sync_fd[i] != fd)
			continue;
		if (req != SYNC_IOC_FILE_INFO)
			return fake_errno(ENOTTY);
		((struct sync_file_info *)arg)->status = fk.sync_status[i];
		fk.sync_fd[i] = -1;	/* the library closes it */
		return 0;
	}
	return ioctl(fd, req, arg);
}

static int fake_open(const char *path, int flags)
{
	if (strcmp(path, FAKE_NODE))
		return open(path, flags);
	fk.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return fk.fd;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	struct fake_bo *bo;

	if (fd != fk.fd)
		return mmap(addr, len, prot, flags, fd, off);
	bo = fake_bo((uint32_t)((uint64_t)off >> 32));
	if (!bo || (uint64_t)off & 0xffffffffULL || len > bo->size) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	return bo->mem;
}

static int fake_munmap(void *addr, size_t len)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++)
		if (fk.bo[i].used && fk.bo[i].mem == addr)
			return 0;
	return munmap(addr, len);
}

static const struct lpu_ops fake_ops = {
	.open = fake_open,
	.ioctl = fake_ioctl,
	.mmap = fake_mmap,
	.munmap = fake_munmap,
};

static void fake_setup(void)
{
	int i;

	memset(&fk, 0, sizeof(fk));
	fk.fd = -1;
	for (i = 0; i < FAKE_MAX; i++)
		fk.sync_fd[i] = -1;
	strcpy(fk.driver, "lpu");
	fk.info.hw_version = 1 << 16;
	fk.info.caps = DRM_LPU_CAP_DMA_SG | DRM_LPU_CAP_FENCE |
		       DRM_LPU_CAP_EXEC | DRM_LPU_CAP_TIMELINE;
	fk.info.sram_size = 16ULL << 20;
	fk.info.queue_count = 4;
	fk.info.clock_mhz = 900;
	fk.info.max_bo_size = 1ULL << 30;
	fk.info.max_cmds = DRM_LPU_MAX_CMDS;
	fk.info.sram_align = 4096;
	lpu__set_ops(&fake_ops);
}

/* After a test: everything the library made is gone again. */
static void fake_teardown(void)
{
	int i;

	lpu__set_ops(NULL);
	for (i = 0; i < FAKE_MAX; i++) {
		ck_assert_msg(!fk.bo[i].used, "buffer %d leaked", i + 1);
		ck_assert_msg(!fk.sram[i].used, "SRAM %d leaked", i + 1);
		ck_assert_msg(!fk.so[i].used, "syncobj %d leaked", i + 1);
		ck_assert_msg(fk.sync_fd[i] < 0, "sync_file leaked");
	}
	if (fk.run.active)
		lpu_engine_fini(&fk.run.e);
	if (fk.fd >= 0)
		close(fk.fd);
}

static struct lpu_device *fake_open_device(void)
{
	struct lpu_device *dev = NULL;
	int r = lpu_device_open(FAKE_NODE, &dev);

	ck_assert_msg(r == 0, "open the fake card: %s (%s)", lpu_strerror(r),
		      lpu_last_error());
	return dev;
}

/* ---- helpers --------------------------------------------------------------- */

static const char *prog_path(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.lpu", RT_PROGRAMS_DIR, name);
	return path;
}

static const char *data_path(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", RT_DATA_DIR, name);
	return path;
}

static struct lpu_model *must_load(struct lpu_device *dev, const char *path)
{
	struct lpu_model *m = NULL;
	int r = lpu_model_load(dev, path, &m);

	ck_assert_msg(r == 0, "load %s: %s (%s)", path, lpu_strerror(r),
		      lpu_last_error());
	return m;
}

static bool contains(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

/* Buffers the fake card holds now. */
static unsigned int fake_bos(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < FAKE_MAX; i++)
		n += fk.bo[i].used;
	return n;
}

static bool inside(const void *p, const void *buf, size_t len)
{
	return (const uint8_t *)p >= (const uint8_t *)buf &&
	       (const uint8_t *)p < (const uint8_t *)buf + len;
}

/*
 * The model's SRAM holds exactly the window of the program at @path
 * (lpu_program_fill_window(): .text and .lpu.sram, zero elsewhere).
 */
static void check_window(const struct lpu_model *m, const char *path)
{
	struct fake_sram *sr = fake_sram(m->sram_handle);
	struct lpu_program *p;
	uint8_t *w;

	ck_assert_ptr_nonnull(sr);
	ck_assert_int_eq(lpu_program_open(path, 0, &p, NULL, 0), 0);
	w = calloc(1, sr->size);
	ck_assert_uint_ge(sr->size, p->note.sram_footprint);
	ck_assert_int_eq(lpu_program_fill_window(p, w, sr->size), 0);
	ck_assert_msg(!memcmp(sr->mem, w, sr->size),
		      "%s: the SRAM is not the program's window", path);
	free(w);
	lpu_program_free(p);
}

#define ck_assert_msg_has(sub) \
	ck_assert_msg(contains(lpu_last_error(), sub), \
		      "lpu_last_error() \"%s\" lacks \"%s\"", \
		      lpu_last_error(), sub)

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_text(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s (tests/host/runtime.mk makes it)",
		      path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Numbers after @key in @text ("prompt: 1 2 3"), up to the line's end. */
static size_t parse_ids(const char *text, const char *key, uint32_t *out,
			size_t max)
{
	const char *p = key ? strstr(text, key) : text;
	size_t n = 0;

	ck_assert_ptr_nonnull(p);
	if (key)
		p += strlen(key);
	while (n < max) {
		char *end;
		unsigned long v;

		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		v = strtoul(p, &end, 10);
		out[n++] = (uint32_t)v;
		p = end;
	}
	return n;
}

/* Drain a stream: its tokens into @out, returns the final code. */
static int drain(struct lpu_stream *s, uint32_t *out, size_t max,
		 size_t *n)
{
	uint32_t t;
	int r;

	*n = 0;
	while ((r = lpu_stream_next(s, &t, 5000)) == 1) {
		ck_assert_uint_lt(*n, max);
		out[(*n)++] = t;
	}
	return r;
}

/* ---- Suite: errors ----------------------------------------------------------- */

START_TEST(test_strerror_core)
{
	ck_assert_str_eq(lpu_strerror(0), "Success");
	ck_assert_str_eq(lpu_strerror(-ENODEV), lpu_strerror(ENODEV));
	ck_assert(contains(lpu_strerror(-ENODEV), "LPU"));
	ck_assert(contains(lpu_strerror(-ENOSPC), "SRAM"));
	ck_assert(contains(lpu_strerror(-ENOEXEC), "LPU program"));
	ck_assert(contains(lpu_strerror(-EBUSY), "stream"));
	ck_assert(contains(lpu_strerror(-ECANCELED), "cancel"));
	ck_assert(contains(lpu_strerror(-ETIME), "progress"));
	ck_assert(contains(lpu_strerror(-ETIMEDOUT), "Timed out"));
	/* errno values without LPU wording: the C library's text */
	ck_assert_str_eq(lpu_strerror(-EINVAL), strerror(EINVAL));
	ck_assert_str_eq(lpu_strerror(ENOENT), strerror(ENOENT));
	ck_assert_ptr_nonnull(lpu_strerror(-99999));
	ck_assert_ptr_nonnull(lpu_strerror(INT_MIN + 1));
}
END_TEST

static void *thread_last_error(void *arg)
{
	(void)arg;
	return (void *)lpu_last_error();
}

START_TEST(test_last_error_core)
{
	struct lpu_device *dev = NULL;
	pthread_t th;
	void *other;

	ck_assert_ptr_nonnull(lpu_last_error());
	ck_assert_int_eq(lpu_device_open("/nonexistent/accel7", &dev), -ENOENT);
	ck_assert_ptr_null(dev);
	ck_assert_msg_has("/nonexistent/accel7");
	/* per thread: a new thread has no message */
	ck_assert_int_eq(pthread_create(&th, NULL, thread_last_error, NULL), 0);
	ck_assert_int_eq(pthread_join(th, &other), 0);
	ck_assert_ptr_nonnull(other);
	ck_assert_msg_has("/nonexistent/accel7");
}
END_TEST

START_TEST(test_last_error_errors)
{
	struct lpu_device_status st = { .size = 8 };
	struct lpu_device *dev;

	fake_setup();
	dev = fake_open_device();
	/* every failure leaves a message naming the call or the object */
	ck_assert_int_eq(lpu_device_query(dev, &st), -EINVAL);
	ck_assert_msg_has("lpu_device_status.size");
	ck_assert_int_eq(lpu_device_query(dev, NULL), -EINVAL);
	ck_assert_msg_has("lpu_device_query");
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* ---- Suite: device ----------------------------------------------------------- */

START_TEST(test_device_core)
{
	struct lpu_device_status st;
	struct lpu_device *dev;

	fake_setup();
	fk.other_used = 1 << 20;
	dev = fake_open_device();
	ck_assert_int_ge(lpu_device_fd(dev), 0);
	ck_assert_str_eq(lpu_device_node(dev), FAKE_NODE);
	/* no sysfs behind the fake: address unknown */
	ck_assert_str_eq(lpu_device_pci_address(dev), "");

	memset(&st, 0xff, sizeof(st));
	st.size = sizeof(st);
	ck_assert_int_eq(lpu_device_query(dev, &st), 0);
	ck_assert_uint_eq(st.size, sizeof(st));
	ck_assert_uint_eq(st.hw_version, 1 << 16);
	ck_assert_uint_eq(st.queue_count, 4);
	ck_assert_uint_eq(st.caps, fk.info.caps);
	ck_assert_uint_eq(st.sram_size, 16 << 20);
	ck_assert_uint_eq(st.sram_free, 15 << 20);
	ck_assert_uint_eq(st.clock_mhz, 900);
	ck_assert_int_eq(st.temperature_mc, INT32_MIN);
	ck_assert_int_eq(st.power_uw, -1);
	ck_assert_uint_eq(st.queue_busy, 0);
	lpu_device_close(dev);
	lpu_device_close(NULL);
	fake_teardown();
}
END_TEST

/* A newer caller's larger struct: the tail it knows and we do not is 0. */
START_TEST(test_device_query_larger_struct)
{
	struct {
		struct lpu_device_status st;
		uint64_t future[4];
	} big;
	struct lpu_device *dev;

	fake_setup();
	dev = fake_open_device();
	memset(&big, 0xff, sizeof(big));
	big.st.size = sizeof(big);
	ck_assert_int_eq(lpu_device_query(dev, &big.st), 0);
	ck_assert_uint_eq(big.st.size, sizeof(big));
	ck_assert_uint_eq(big.future[0], 0);
	ck_assert_uint_eq(big.future[3], 0);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

START_TEST(test_device_list_core)
{
	struct lpu_device_list *list = NULL;
	size_t i, n;

	ck_assert_int_eq(lpu_device_list_new(&list), 0);
	ck_assert_ptr_nonnull(list);
	n = lpu_device_list_count(list);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(lpu_device_list_node(list, i));
		ck_assert_ptr_nonnull(lpu_device_list_pci_address(list, i));
	}
	ck_assert_ptr_null(lpu_device_list_node(list, n));
	ck_assert_ptr_null(lpu_device_list_pci_address(list, n));
	ck_assert_ptr_null(lpu_device_list_attr(list, n, "sram_size"));
	ck_assert_ptr_null(lpu_device_list_attr(list, 0, "../x"));
	ck_assert_uint_eq(lpu_device_list_count(NULL), 0);
	lpu_device_list_free(list);
	lpu_device_list_free(NULL);
}
END_TEST

START_TEST(test_monitor_core)
{
	struct lpu_monitor *mon = NULL;
	char node[64];
	int ev = 0, r;

	r = lpu_monitor_new(&mon);
	if (r == -EPERM || r == -EACCES || r == -EPROTONOSUPPORT ||
	    r == -EAFNOSUPPORT) {
		/* a sandbox without netlink sockets */
		fprintf(stderr, "monitor: no netlink here (%s), not tested\n",
			lpu_last_error());
		ck_assert_ptr_null(mon);
		return;
	}
	ck_assert_msg(r == 0, "%s", lpu_last_error());
	ck_assert_int_ge(lpu_monitor_fd(mon), 0);
	/* nothing pending: 0, without blocking */
	ck_assert_int_eq(lpu_monitor_read(mon, &ev, node, sizeof(node)), 0);
	ck_assert_int_eq(lpu_monitor_read(mon, NULL, node, sizeof(node)),
			 -EINVAL);
	lpu_monitor_free(mon);
	lpu_monitor_free(NULL);
}
END_TEST

/* Without a card: -ENODEV for every kind of spec but a missing path. */
START_TEST(test_device_open_errors)
{
	struct lpu_device_list *list;
	struct lpu_device *dev = NULL;
	size_t cards;

	ck_assert_int_eq(lpu_device_list_new(&list), 0);
	cards = lpu_device_list_count(list);
	lpu_device_list_free(list);
	if (!cards) {
		ck_assert_int_eq(lpu_device_open(NULL, &dev), -ENODEV);
		ck_assert_msg_has("no LPU card");
		ck_assert_int_eq(lpu_device_open("", &dev), -ENODEV);
	}
	ck_assert_int_eq(lpu_device_open("7", &dev), -ENODEV);
	ck_assert_int_eq(lpu_device_open("0000:99:1f.7", &dev), -ENODEV);
	ck_assert_int_eq(lpu_device_open("99:1f.7", &dev), -ENODEV);
	ck_assert_int_eq(lpu_device_open("/dev/accel/accel99", &dev), -ENOENT);
	ck_assert_msg_has("/dev/accel/accel99");
	/* a node that is not a DRM device */
	ck_assert_int_eq(lpu_device_open("/dev/null", &dev), -ENODEV);
	ck_assert_msg_has("/dev/null: not a DRM device");
	ck_assert_int_eq(lpu_device_open(NULL, NULL), -EINVAL);
	ck_assert_ptr_null(dev);
}
END_TEST

/* A DRM device of another driver: -ENODEV. */
START_TEST(test_device_other_driver)
{
	struct lpu_device *dev = NULL;

	fake_setup();
	strcpy(fk.driver, "i915");
	ck_assert_int_eq(lpu_device_open(FAKE_NODE, &dev), -ENODEV);
	ck_assert_msg_has("'i915' driver");
	ck_assert_ptr_null(dev);
	fake_teardown();
}
END_TEST

/* ---- Suite: buffer ----------------------------------------------------------- */

START_TEST(test_buffer_core)
{
	struct lpu_device *dev;
	struct lpu_buffer *buf = NULL;
	void *p = NULL, *q = NULL;

	fake_setup();
	dev = fake_open_device();
	ck_assert_int_eq(lpu_buffer_new(dev, 100, &buf), 0);
	ck_assert_uint_eq(lpu_buffer_size(buf), 4096);
	ck_assert_int_eq(lpu_buffer_map(buf, &p), 0);
	ck_assert_int_eq(lpu_buffer_map(buf, &q), 0);
	ck_assert_ptr_eq(p, q);
	ck_assert_uint_eq(((uint8_t *)p)[4095], 0);
	memset(p, 0x5a, 4096);
	ck_assert_int_eq(lpu_buffer_unmap(buf), 0);
	ck_assert_int_eq(lpu_buffer_unmap(buf), 0);
	ck_assert_int_eq(lpu_buffer_map(buf, &q), 0);
	ck_assert_uint_eq(((uint8_t *)q)[17], 0x5a);
	lpu_buffer_free(buf);
	lpu_buffer_free(NULL);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

START_TEST(test_buffer_errors)
{
	struct lpu_device *dev;
	struct lpu_buffer *buf = NULL;
	void *p;

	fake_setup();
	dev = fake_open_device();
	ck_assert_int_eq(lpu_buffer_new(dev, 0, &buf), -EINVAL);
	ck_assert_int_eq(lpu_buffer_new(dev, (1ULL << 30) + 1, &buf), -E2BIG);
	ck_assert_int_eq(lpu_buffer_new(NULL, 4096, &buf), -EINVAL);
	ck_assert_int_eq(lpu_buffer_new(dev, 4096, NULL), -EINVAL);
	ck_assert_int_eq(lpu_buffer_map(NULL, &p), -EINVAL);
	ck_assert_ptr_null(buf);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* ---- Suite: model -------------------------------------------------------------- */

START_TEST(test_model_core)
{
	struct lpu_model_info info;
	struct lpu_program *p;
	struct lpu_device *dev;
	struct lpu_model *m, *m2;
	uint8_t *window;
	int i, found = -1;

	fake_setup();
	dev = fake_open_device();
	ck_assert_int_eq(lpu_program_open(data_path("tiny.lpu"), 0, &p, NULL,
					  0), 0);
	m = must_load(dev, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.n_sram_alloc, 1);

	/* the SRAM holds the window, scratch zero */
	for (i = 0; i < FAKE_MAX; i++)
		if (fk.sram[i].used)
			found = i;
	ck_assert_int_ge(found, 0);
	ck_assert_uint_ge(fk.sram[found].size, p->note.sram_footprint);
	window = calloc(1, p->note.sram_footprint);
	ck_assert_int_eq(lpu_program_fill_window(p, window,
						 p->note.sram_footprint), 0);
	ck_assert(!memcmp(fk.sram[found].mem, window, p->note.sram_footprint));
	free(window);
	/* only .text and .lpu.sram travel: no gap, no byte of the scratch */
	ck_assert_uint_eq(fk.dma_bytes, p->text_size + p->image_size);

	info.size = sizeof(info);
	ck_assert_int_eq(lpu_model_info(m, &info), 0);
	ck_assert_uint_eq(info.sram_footprint, p->note.sram_footprint);
	ck_assert_uint_eq(info.vocab_size, p->note.vocab_size);
	ck_assert_uint_eq(info.context_len, p->note.context_len);
	ck_assert_uint_eq(info.prompt_max, p->note.prompt_max);
	ck_assert_uint_eq(info.flags, p->note.flags);
	ck_assert_uint_eq(info.cycles_prologue, p->note.cycles_prologue);
	ck_assert_uint_eq(info.cycles_per_token, p->note.cycles_per_token);
	ck_assert_uint_eq(info.cycles_epilogue, p->note.cycles_epilogue);
	ck_assert(info.has_vocab);

	/* twice: two SRAM allocations */
	m2 = must_load(dev, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.n_sram_alloc, 2);
	lpu_model_unload(m2);
	lpu_model_unload(m);
	lpu_model_unload(NULL);
	lpu_program_free(p);
	lpu_device_close(dev);
	fake_teardown();	/* checks the SRAM was freed */
}
END_TEST

START_TEST(test_model_memory)
{
	struct lpu_model_info info = { .size = sizeof(info) };
	struct lpu_device *dev;
	struct lpu_model *m = NULL;
	FILE *f = fopen(prog_path("emit_n"), "rb");
	char data[65536];
	size_t len;

	ck_assert_ptr_nonnull(f);
	len = fread(data, 1, sizeof(data), f);
	fclose(f);
	fake_setup();
	dev = fake_open_device();
	ck_assert_int_eq(lpu_model_load_memory(dev, data, len, &m), 0);
	/* the caller's bytes are not used after the load */
	memset(data, 0xee, len);
	ck_assert_int_eq(lpu_model_info(m, &info), 0);
	ck_assert_uint_eq(info.sram_footprint, 4096);
	ck_assert(!info.has_vocab);
	check_window(m, prog_path("emit_n"));
	lpu_model_unload(m);
	f = fopen(prog_path("emit_n"), "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(data, 1, sizeof(data), f), len);
	fclose(f);
	/* malformed bytes: the validator's errno */
	data[0] = 'X';
	ck_assert_int_eq(lpu_model_load_memory(dev, data, len, &m), -ENOEXEC);
	ck_assert_msg_has("<memory>");
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* Every file of the malformed corpus: the validator's errno and message. */
/* Every malformed file fails as the validator says, with its message. */
static void check_malformed(bool userptr)
{
	static const struct {
		const char *name;
		int err;
	} known[] = {
		{ "not_elf.lpu", -ENOEXEC },
		{ "x86_64.lpu", -ENOEXEC },
		{ "elf32.lpu", -ENOEXEC },
		{ "truncated.lpu", -EINVAL },
		{ "isa_v2.lpu", -EPROTONOSUPPORT },
		{ "out_of_window.lpu", -EOVERFLOW },
	};
	struct lpu_device *dev;
	unsigned int i;

	fake_setup();
	if (userptr)
		fk.info.caps |= DRM_LPU_CAP_USERPTR;
	dev = fake_open_device();
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char path[PATH_MAX], err[512] = "";
		struct lpu_program *p = NULL;
		struct lpu_model *m = NULL;
		int want;

		snprintf(path, sizeof(path), "%s/%s", RT_MALFORMED_DIR,
			 known[i].name);
		want = lpu_program_open(path, fk.info.sram_size, &p, err,
					sizeof(err));
		ck_assert_msg(want == known[i].err, "%s: validator says %d",
			      path, want);
		ck_assert_int_eq(lpu_model_load(dev, path, &m), want);
		ck_assert_ptr_null(m);
		ck_assert_str_eq(lpu_last_error(), err);
		ck_assert_msg_has(path);
	}
	/* rejected before anything reached the card */
	ck_assert_uint_eq(fk.n_sram_alloc, 0);
	ck_assert_uint_eq(fk.n_submit, 0);
	ck_assert_uint_eq(fk.n_userptr, 0);
	lpu_device_close(dev);
	fake_teardown();
}

/* Through the staging buffer, and from the file's pages: same verdicts. */
START_TEST(test_model_malformed)
{
	check_malformed(false);
	check_malformed(true);
}
END_TEST

START_TEST(test_model_errors)
{
	char dir[] = "/tmp/lpu-rt-XXXXXX", path[PATH_MAX];
	struct lpu_model_info info = { .size = 4 };
	struct lpu_device *dev;
	struct lpu_model *m = NULL;

	fake_setup();
	dev = fake_open_device();
	ck_assert_int_eq(lpu_model_load(dev, "/nonexistent/model.lpu", &m),
			 -ENOENT);
	ck_assert_msg_has("/nonexistent/model.lpu");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(lpu_model_load(dev, dir, &m), -EISDIR);
	snprintf(path, sizeof(path), "%s/empty.lpu", dir);
	write_file(path, "", 0);
	ck_assert_int_eq(lpu_model_load(dev, path, &m), -ENOEXEC);
	ck_assert_msg_has(path);
	unlink(path);
	rmdir(dir);
	/*
	 * A regular file that cannot be mapped (sysfs): read(), and shorter
	 * than its size says.
	 */
	if (!access(SYSFS_FILE, R_OK)) {
		ck_assert_int_eq(lpu_model_load(dev, SYSFS_FILE, &m), -ENOEXEC);
		ck_assert_msg_has(SYSFS_FILE ": not an ELF file");
	}
	ck_assert_int_eq(lpu_model_load(NULL, prog_path("emit_n"), &m),
			 -EINVAL);
	ck_assert_int_eq(lpu_model_load(dev, NULL, &m), -EINVAL);
	ck_assert_int_eq(lpu_model_load_memory(dev, NULL, 0, &m), -EINVAL);
	ck_assert_ptr_null(m);

	m = must_load(dev, prog_path("emit_n"));
	ck_assert_int_eq(lpu_model_info(m, &info), -EINVAL);
	ck_assert_int_eq(lpu_model_info(m, NULL), -EINVAL);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* A program of @image_size bytes of image (a pattern) in @path. */
static void write_big_program(const char *path, size_t image_size)
{
	struct lpu_insn halt = lpu_insn_make(LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0);
	struct lpu_program_desc d;
	uint8_t *img = malloc(image_size);
	char err[512];
	size_t i;

	for (i = 0; i < image_size; i++)
		img[i] = (uint8_t)(i * 7 + 1);
	memset(&d, 0, sizeof(d));
	d.note.isa_version = LPU_ISA_VERSION;
	d.note.sram_footprint = 4096 + image_size + 4096;
	d.note.scratch_size = 4096;
	d.text = &halt;
	d.n_insns = 1;
	d.image = img;
	d.image_size = image_size;
	d.image_offset = 4096;
	d.scratch_offset = 4096 + image_size;
	d.scratch_size = 4096;
	ck_assert_msg(lpu_program_write(path, &d, err, sizeof(err)) == 0,
		      "%s", err);
	free(img);
}

/*
 * The staging buffer: made by the first load, kept by the device and
 * reused, grown for a larger file, freed by lpu_device_close(); a load
 * that finds it busy uses a buffer of its own. A model keeps .text and its
 * vocabulary, not the staged file.
 */
START_TEST(test_model_staging)
{
	char dir[] = "/tmp/lpu-rt-XXXXXX", big[PATH_MAX];
	struct lpu_tokenizer *tok;
	struct lpu_device *dev;
	struct lpu_model *m, *m2;
	struct lpu_program *p;
	struct lpu_buffer *stage;

	fake_setup();
	dev = fake_open_device();
	ck_assert_int_eq(lpu_program_open(data_path("tiny.lpu"), 0, &p, NULL,
					  0), 0);
	m = must_load(dev, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.n_bo_create, 1);
	ck_assert_uint_eq(fake_bos(), 1);	/* kept after the load */
	ck_assert_ptr_nonnull(dev->stage);
	ck_assert_uint_ge(dev->stage->size, p->file_size);
	check_window(m, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.dma_bytes, p->text_size + p->image_size);
	ck_assert_ptr_null(m->prog->image);
	ck_assert(!inside(m->prog->vocab, dev->stage_map, dev->stage->size));
	ck_assert(!inside(m->prog->text, dev->stage_map, dev->stage->size));

	/* the next load reuses it (and overwrites what m was loaded from) */
	m2 = must_load(dev, prog_path("emit_n"));
	ck_assert_uint_eq(fk.n_bo_create, 1);
	ck_assert_uint_eq(fake_bos(), 1);
	check_window(m2, prog_path("emit_n"));
	ck_assert_mem_eq(m->prog->vocab, p->vocab, p->vocab_size);
	ck_assert_mem_eq(m->prog->text, p->text, p->text_size);
	ck_assert_int_eq(lpu_tokenizer_from_model(m, &tok), 0);
	ck_assert_uint_eq(lpu_tokenizer_vocab_size(tok), p->note.vocab_size);
	lpu_tokenizer_free(tok);
	lpu_model_unload(m2);
	lpu_model_unload(m);

	/* a larger file: a larger buffer replaces it */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(big, sizeof(big), "%s/big.lpu", dir);
	write_big_program(big, p->file_size + 65536);
	m = must_load(dev, big);
	ck_assert_uint_eq(fk.n_bo_create, 2);
	ck_assert_uint_eq(fake_bos(), 1);
	ck_assert_uint_gt(dev->stage->size, p->file_size + 65536);
	check_window(m, big);
	lpu_model_unload(m);

	/* busy (another thread loads): a buffer of this load only */
	stage = dev->stage;
	atomic_store(&dev->stage_busy, true);
	m = must_load(dev, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.n_bo_create, 3);
	ck_assert_uint_eq(fake_bos(), 1);
	ck_assert_ptr_eq(dev->stage, stage);
	check_window(m, data_path("tiny.lpu"));
	atomic_store(&dev->stage_busy, false);
	lpu_model_unload(m);

	/* the buffer cannot be made: its error, nothing allocated */
	lpu_model_stage_free(dev);
	fk.bo_create_error = ENOMEM;
	ck_assert_int_eq(lpu_model_load(dev, big, &m), -ENOMEM);
	ck_assert_msg_has("creating a buffer");
	ck_assert_uint_eq(fake_bos(), 0);
	ck_assert(!atomic_load(&dev->stage_busy));
	fk.bo_create_error = 0;
	m = must_load(dev, big);
	lpu_model_unload(m);

	unlink(big);
	rmdir(dir);
	lpu_program_free(p);
	lpu_device_close(dev);
	fake_teardown();	/* the staging buffer went with the device */
}
END_TEST

struct pipe_writer {
	const char *fifo, *src;
};

static void *pipe_write(void *arg)
{
	const struct pipe_writer *pw = arg;
	FILE *in = fopen(pw->src, "rb"), *out = fopen(pw->fifo, "wb");
	char buf[4096];
	size_t n;

	if (in && out)
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				break;
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	return NULL;
}

/*
 * Files that cannot be staged whole: a pipe, and a file larger than the
 * card's largest buffer, go through lpu_program_open(); .text and
 * .lpu.sram are then staged from the program.
 */
START_TEST(test_model_not_staged)
{
	char dir[] = "/tmp/lpu-rt-XXXXXX", fifo[PATH_MAX];
	struct pipe_writer pw = { fifo, NULL };
	struct lpu_program *p;
	struct lpu_device *dev;
	struct lpu_model *m;
	pthread_t t;

	ck_assert_int_eq(lpu_program_open(data_path("tiny.lpu"), 0, &p, NULL,
					  0), 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pw.src = data_path("tiny.lpu");

	fake_setup();
	dev = fake_open_device();
	ck_assert_int_eq(pthread_create(&t, NULL, pipe_write, &pw), 0);
	m = must_load(dev, fifo);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	check_window(m, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.dma_bytes, p->text_size + p->image_size);
	ck_assert_uint_lt(dev->stage->size, p->file_size);
	ck_assert_ptr_null(m->prog->image);
	ck_assert_mem_eq(m->prog->vocab, p->vocab, p->vocab_size);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();

	/* the whole file does not fit a buffer, its sections do */
	fake_setup();
	fk.info.max_bo_size = (p->text_size + p->image_size + 4095) & ~4095ULL;
	ck_assert_uint_lt(fk.info.max_bo_size, p->file_size);
	dev = fake_open_device();
	m = must_load(dev, data_path("tiny.lpu"));
	check_window(m, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.n_bo_create, 1);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();

	unlink(fifo);
	rmdir(dir);
	lpu_program_free(p);
}
END_TEST

/* A footprint above the card's SRAM: the validator's -E2BIG. */
/*
 * With DRM_IOCTL_LPU_BO_USERPTR a file is loaded from its own pages: the
 * image piece by piece (16 MiB and more each), .text from the validated
 * private copy, no staging buffer; every userptr buffer is closed again.
 */
START_TEST(test_model_userptr)
{
	char dir[] = "/tmp/lpu-rt-XXXXXX", big[PATH_MAX];
	const size_t image = 40u << 20;		/* three pieces */
	struct lpu_tokenizer *tok;
	struct lpu_device *dev;
	struct lpu_program *p;
	struct lpu_model *m;

	fake_setup();
	fk.info.caps |= DRM_LPU_CAP_USERPTR;
	fk.info.sram_size = 64ULL << 20;
	dev = fake_open_device();
	ck_assert_int_eq(lpu_program_open(data_path("tiny.lpu"), 0, &p, NULL,
					  0), 0);
	ck_assert_uint_gt(p->image_size, 0);
	m = must_load(dev, data_path("tiny.lpu"));
	check_window(m, data_path("tiny.lpu"));
	ck_assert_uint_eq(fk.n_userptr, 2);	/* the image, .text */
	ck_assert_uint_eq(fk.n_bo_create, 0);
	ck_assert_uint_eq(fake_bos(), 0);
	ck_assert_ptr_null(dev->stage);
	ck_assert_uint_eq(fk.dma_bytes, p->text_size + p->image_size);
	/* what the model keeps is its own: the private copy of the file */
	ck_assert_ptr_nonnull(m->keep);
	ck_assert(inside(m->prog->text, m->keep, m->keep_len));
	ck_assert(inside(m->prog->vocab, m->keep, m->keep_len));
	ck_assert_mem_eq(m->prog->text, p->text, p->text_size);
	ck_assert_mem_eq(m->prog->vocab, p->vocab, p->vocab_size);
	ck_assert_int_eq(lpu_tokenizer_from_model(m, &tok), 0);
	ck_assert_uint_eq(lpu_tokenizer_vocab_size(tok), p->note.vocab_size);
	lpu_tokenizer_free(tok);
	lpu_model_unload(m);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(big, sizeof(big), "%s/big.lpu", dir);
	write_big_program(big, image);
	fk.n_userptr = 0;
	fk.dma_bytes = 0;
	m = must_load(dev, big);
	check_window(m, big);
	ck_assert_uint_eq(fk.n_userptr, 3 + 1);
	ck_assert_uint_eq(fk.n_bo_create, 0);
	ck_assert_uint_eq(fake_bos(), 0);
	ck_assert_uint_eq(fk.dma_bytes, image + 32);	/* + one HALT */
	lpu_model_unload(m);

	/* a file larger than the largest buffer: pieces of half of that */
	fk.info.max_bo_size = 8u << 20;
	lpu_device_close(dev);
	dev = fake_open_device();
	fk.n_userptr = 0;
	m = must_load(dev, big);
	check_window(m, big);
	ck_assert_uint_eq(fk.n_userptr, 10 + 1);
	ck_assert_uint_eq(fk.n_bo_create, 0);
	lpu_model_unload(m);

	unlink(big);
	rmdir(dir);
	lpu_program_free(p);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/*
 * Pages that cannot be pinned (RLIMIT_MEMLOCK: -ENOMEM; -EFAULT) are no
 * error: the rest of the image, and .text, are staged instead; the SRAM
 * is the same.
 */
START_TEST(test_model_userptr_fallback)
{
	char dir[] = "/tmp/lpu-rt-XXXXXX", big[PATH_MAX];
	const size_t image = 40u << 20;
	static const int errs[] = { ENOMEM, EFAULT };
	struct lpu_device *dev;
	struct lpu_model *m;
	unsigned int i;

	fake_setup();
	fk.info.caps |= DRM_LPU_CAP_USERPTR;
	fk.info.sram_size = 64ULL << 20;
	dev = fake_open_device();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(big, sizeof(big), "%s/big.lpu", dir);
	write_big_program(big, image);

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		fk.userptr_error = errs[i];
		fk.dma_bytes = 0;
		m = must_load(dev, big);
		check_window(m, big);
		ck_assert_uint_eq(fk.n_userptr, 0);
		ck_assert_uint_eq(fk.dma_bytes, image + 32);
		ck_assert_uint_eq(fake_bos(), 1);	/* the kept stage */
		lpu_model_unload(m);
		lpu_model_stage_free(dev);
	}
	fk.userptr_error = 0;

	/* the first piece pinned, then the limit: the rest is staged */
	for (i = 1; i <= 3; i++) {
		fk.n_userptr = 0;
		fk.userptr_budget = i;
		fk.dma_bytes = 0;
		m = must_load(dev, big);
		check_window(m, big);
		ck_assert_uint_eq(fk.n_userptr, i);
		ck_assert_uint_eq(fk.dma_bytes, image + 32);
		lpu_model_unload(m);
		lpu_model_stage_free(dev);
		ck_assert_uint_eq(fake_bos(), 0);
	}
	fk.userptr_budget = 0;

	/* a failed DMA: its error, and nothing is left behind */
	fk.dma_error = EIO;
	ck_assert_int_eq(lpu_model_load(dev, big, &m), -EIO);
	ck_assert_msg_has("DMA to SRAM failed");
	ck_assert_uint_eq(fake_bos(), 0);
	ck_assert_uint_eq(fake_sram_used(), 0);
	fk.dma_error = 0;

	unlink(big);
	rmdir(dir);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/*
 * From the file's pages the vocabulary is checked while the card copies:
 * a malformed one fails the load with the validator's verdict and
 * message, and nothing is left (SRAM, buffers, syncobjs).
 */
START_TEST(test_model_userptr_vocab)
{
	char dir[] = "/tmp/lpu-rt-XXXXXX", bad[PATH_MAX], err[512] = "";
	struct lpu_program *p, *q = NULL;
	struct lpu_device *dev;
	struct lpu_model *m = NULL;
	uint8_t *bytes;
	size_t len, voff;
	FILE *f;

	fake_setup();
	fk.info.caps |= DRM_LPU_CAP_USERPTR;
	dev = fake_open_device();
	f = fopen(data_path("tiny.lpu"), "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = (size_t)ftell(f);
	rewind(f);
	bytes = malloc(len);
	ck_assert_uint_eq(fread(bytes, 1, len, f), len);
	fclose(f);
	ck_assert_int_eq(lpu_program_from_memory_borrowed(bytes, len, 0, &p,
							  NULL, 0), 0);
	ck_assert_ptr_nonnull(p->vocab);
	voff = (size_t)(p->vocab - bytes);
	ck_assert_uint_gt(voff, p->image_file_offset);	/* after the image */
	lpu_program_free(p);
	/* the first record's length runs past the end of the section */
	bytes[voff + 8] = 0xff;
	bytes[voff + 9] = 0xff;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(bad, sizeof(bad), "%s/bad-vocab.lpu", dir);
	write_file(bad, bytes, len);

	ck_assert_int_eq(lpu_program_open(bad, fk.info.sram_size, &q, err,
					  sizeof(err)), -EINVAL);
	ck_assert_int_eq(lpu_model_load(dev, bad, &m), -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(lpu_last_error(), err);
	ck_assert_uint_gt(fk.n_userptr, 0);	/* it was on its way */
	ck_assert_uint_eq(fake_bos(), 0);
	ck_assert_uint_eq(fake_sram_used(), 0);

	unlink(bad);
	rmdir(dir);
	free(bytes);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* Read the whole file @path into malloc()ed memory; its size in *@len. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	b = malloc(*len);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

/*
 * lpu_model_load_memory() with userptr: the image from the caller's own
 * pages, the rest validated in a private copy; the caller's bytes are not
 * used after the call.
 */
START_TEST(test_model_userptr_memory)
{
	char dir[] = "/tmp/lpu-rt-XXXXXX", big[PATH_MAX];
	struct lpu_tokenizer *tok;
	struct lpu_device *dev;
	struct lpu_program *p;
	struct lpu_model *m = NULL;
	uint8_t *b;
	size_t len;

	fake_setup();
	fk.info.caps |= DRM_LPU_CAP_USERPTR;
	fk.info.sram_size = 64ULL << 20;
	dev = fake_open_device();
	ck_assert_int_eq(lpu_program_open(data_path("tiny.lpu"), 0, &p, NULL,
					  0), 0);
	b = slurp(data_path("tiny.lpu"), &len);
	ck_assert_int_eq(lpu_model_load_memory(dev, b, len, &m), 0);
	ck_assert_uint_eq(fk.n_userptr, 2);
	ck_assert_uint_eq(fk.n_bo_create, 0);
	ck_assert_uint_eq(fake_bos(), 0);
	memset(b, 0xee, len);
	free(b);
	check_window(m, data_path("tiny.lpu"));
	ck_assert_mem_eq(m->prog->text, p->text, p->text_size);
	ck_assert_int_eq(lpu_tokenizer_from_model(m, &tok), 0);
	ck_assert_uint_eq(lpu_tokenizer_vocab_size(tok), p->note.vocab_size);
	lpu_tokenizer_free(tok);
	lpu_model_unload(m);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(big, sizeof(big), "%s/big.lpu", dir);
	write_big_program(big, 40u << 20);
	b = slurp(big, &len);
	fk.n_userptr = 0;
	ck_assert_int_eq(lpu_model_load_memory(dev, b, len, &m), 0);
	ck_assert_uint_eq(fk.n_userptr, 3 + 1);
	free(b);
	check_window(m, big);
	lpu_model_unload(m);

	unlink(big);
	rmdir(dir);
	lpu_program_free(p);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

START_TEST(test_model_e2big)
{
	struct lpu_device *dev;
	struct lpu_model *m = NULL;

	fake_setup();
	fk.info.sram_size = 6 * 1024;
	dev = fake_open_device();
	ck_assert_int_eq(lpu_model_load(dev, prog_path("emit_prompt"), &m),
			 -E2BIG);
	ck_assert_msg_has(prog_path("emit_prompt"));
	ck_assert_uint_eq(fk.n_sram_alloc, 0);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* Not enough free SRAM: -ENOSPC before anything is allocated. */
START_TEST(test_model_enospc)
{
	char want[PATH_MAX + 64];
	struct lpu_device *dev;
	struct lpu_model *m = NULL;

	fake_setup();
	fk.info.sram_size = 64 * 1024;
	fk.other_used = 60 * 1024;
	dev = fake_open_device();
	ck_assert_int_eq(lpu_model_load(dev, prog_path("emit_prompt"), &m),
			 -ENOSPC);
	snprintf(want, sizeof(want),
		 "%s: needs 8.0 KiB of SRAM, card has 4.0 KiB free",
		 prog_path("emit_prompt"));
	ck_assert_str_eq(lpu_last_error(), want);
	ck_assert_uint_eq(fk.n_sram_alloc, 0);
	ck_assert_ptr_null(m);

	/* the driver's -ENOSPC (another file was faster) */
	fk.other_used = 0;
	fk.sram_alloc_error = ENOSPC;
	ck_assert_int_eq(lpu_model_load(dev, prog_path("emit_prompt"), &m),
			 -ENOSPC);
	ck_assert_msg_has("needs 8.0 KiB of SRAM");
	fk.sram_alloc_error = 0;

	/* a failed DMA: its error, SRAM freed again */
	fk.dma_error = EIO;
	ck_assert_int_eq(lpu_model_load(dev, prog_path("emit_prompt"), &m),
			 -EIO);
	ck_assert_msg_has("DMA");
	ck_assert_ptr_null(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* ---- Suite: stream --------------------------------------------------------------- */

/* emit_n: no prompt (prompt_max 0), tokens 1..N, then the end. */
START_TEST(test_stream_core)
{
	struct lpu_stream_options o = { .size = sizeof(o), .max_tokens = 5,
					.queue = -1 };
	struct lpu_stream_stats st = { .size = sizeof(st) };
	struct lpu_device *dev;
	struct lpu_stream *s = NULL, *s2 = NULL;
	struct lpu_model *m;
	uint32_t t[16];
	size_t n, i;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, prog_path("emit_n"));
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, &o, &s), 0);
	ck_assert_int_eq(lpu_stream_stats(s, &st), 0);
	ck_assert_uint_eq(st.state, LPU_STREAM_STATE_RUNNING);
	ck_assert_uint_eq(st.tokens, 0);
	/* a model runs one stream at a time */
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, &o, &s2), -EBUSY);
	ck_assert_ptr_null(s2);
	ck_assert_msg_has("already runs a stream");

	ck_assert_int_eq(drain(s, t, 16, &n), 0);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(t[i], i + 1);
	/* the end is sticky */
	ck_assert_int_eq(lpu_stream_next(s, t, 0), 0);
	ck_assert_int_eq(lpu_stream_stats(s, &st), 0);
	ck_assert_uint_eq(st.state, LPU_STREAM_STATE_DONE);
	ck_assert_uint_eq(st.tokens, 5);
	ck_assert_uint_gt(st.cycles, 0);
	ck_assert_uint_eq(st.predicted_cycles, 0);	/* no prediction */
	ck_assert_uint_le(st.first_token_ns, st.elapsed_ns);
	ck_assert_uint_eq(fk.last_exec.exec.budget, 5);
	ck_assert_uint_eq(fk.last_exec.exec.stream_capacity, 5);
	ck_assert_uint_eq(fk.last_exec.exec.max_kcycles, 0);	/* no limit */
	lpu_stream_free(s);

	/* free: the model takes a stream again; default options */
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, NULL, &s), 0);
	ck_assert_uint_eq(fk.last_exec.exec.budget, 256);
	ck_assert_uint_eq(fk.last_exec.exec.temperature, 0);
	ck_assert_uint_eq(fk.last_exec.exec.top_p, 0);
	ck_assert_uint_eq(fk.last_exec.exec.seed, 0);
	ck_assert_int_eq(lpu_stream_next(s, t, -1), 1);
	ck_assert_uint_eq(t[0], 1);
	lpu_stream_free(s);	/* still running: cancelled */
	ck_assert_uint_eq(fk.n_cancel, 1);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* The prompt reaches the program at note.prompt_offset. */
START_TEST(test_stream_prompt)
{
	static const uint32_t prompt[] = { 9, 8, 7, 100000, 0 };
	struct lpu_stream_options o = { .size = sizeof(o), .max_tokens = 3,
					.queue = 2, .temperature = 0.5f,
					.top_p = 0.9f, .seed = 42 };
	struct lpu_device *dev;
	struct lpu_stream *s;
	struct lpu_model *m;
	uint32_t t[16];
	size_t n;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, prog_path("emit_prompt"));
	ck_assert_int_eq(lpu_stream_start(m, prompt, 5, &o, &s), 0);
	ck_assert_uint_eq(fk.last_queue, 2);
	ck_assert_uint_eq(fk.last_exec.exec.prompt_len, 5);
	ck_assert_uint_eq(fk.last_exec.exec.temperature, lpu_f32_bits(0.5f));
	ck_assert_uint_eq(fk.last_exec.exec.top_p, lpu_f32_bits(0.9f));
	ck_assert_uint_eq(fk.last_exec.exec.seed, 42);
	ck_assert_int_eq(drain(s, t, 16, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(t[0], 9);
	ck_assert_uint_eq(t[1], 8);
	ck_assert_uint_eq(t[2], 7);
	lpu_stream_free(s);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/*
 * The tiny compiled model: liblpu's tokens for a text prompt are what
 * lpu-sim generates, and the card's cycles are the prediction.
 */
START_TEST(test_stream_model)
{
	struct lpu_stream_options o = { .size = sizeof(o), .max_tokens = 12,
					.queue = -1 };
	struct lpu_stream_stats st = { .size = sizeof(st) };
	uint32_t prompt[256], want_prompt[256], want[64], got[64];
	size_t n_prompt, n_want, n;
	struct lpu_tokenizer *tok;
	struct lpu_device *dev;
	struct lpu_stream *s;
	struct lpu_model *m;
	const char *text;
	int k;

	n_prompt = parse_ids(read_text(data_path("tiny.err")), "prompt:",
			     want_prompt, 256);
	n_want = parse_ids(read_text(data_path("tiny.out")), NULL, want, 64);
	text = read_text(data_path("tiny.text"));
	ck_assert_uint_gt(n_prompt, 2);
	ck_assert_uint_eq(n_want, 12);

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, data_path("tiny.lpu"));
	ck_assert_int_eq(lpu_tokenizer_from_model(m, &tok), 0);
	k = lpu_tokenizer_encode(tok, text, true, prompt, 256);
	ck_assert_int_eq(k, (int)n_prompt);
	ck_assert(!memcmp(prompt, want_prompt, n_prompt * 4));

	ck_assert_int_eq(lpu_stream_start(m, prompt, n_prompt, &o, &s), 0);
	ck_assert_int_eq(drain(s, got, 64, &n), 0);
	ck_assert_uint_eq(n, n_want);
	ck_assert(!memcmp(got, want, n * 4));
	ck_assert_int_eq(lpu_stream_stats(s, &st), 0);
	ck_assert_uint_eq(st.state, LPU_STREAM_STATE_DONE);
	ck_assert_uint_eq(st.tokens, n_want);
	ck_assert_uint_gt(st.predicted_cycles, 0);
	ck_assert_uint_eq(st.cycles, st.predicted_cycles);
	/* the card's cycle limit: twice the prediction, in thousands */
	ck_assert_uint_eq(fk.last_exec.exec.max_kcycles,
			  (2 * st.predicted_cycles + 999) / 1000);
	lpu_stream_free(s);
	lpu_tokenizer_free(tok);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* poll()ing the stream's fd: readable exactly when next() will not wait. */
START_TEST(test_stream_fd)
{
	struct lpu_stream_options o = { .size = sizeof(o), .max_tokens = 3,
					.queue = -1 };
	struct lpu_device *dev;
	struct lpu_stream *s;
	struct lpu_model *m;
	struct pollfd pfd;
	uint32_t t;
	int fd, i;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, prog_path("emit_n"));
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, &o, &s), 0);
	fd = lpu_stream_fd(s);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lpu_stream_fd(s), fd);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(lpu_stream_next(s, &t, 0), -ETIMEDOUT);

	/* the card writes one token: readable; next() has it at once */
	fake_run(3);	/* li, li, bltu */
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	fake_run(2);	/* emit */
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(lpu_stream_next(s, &t, 0), 1);
	ck_assert_uint_eq(t, 1);
	/* caught up: re-armed for token 2, not readable */
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	/* the rest at once: readable until every token is read */
	fake_run(1000);
	for (i = 2; i <= 3; i++) {
		ck_assert_int_eq(poll(&pfd, 1, 0), 1);
		ck_assert_int_eq(lpu_stream_next(s, &t, 0), 1);
		ck_assert_uint_eq(t, i);
	}
	/* the end is there: still readable, next() returns 0 */
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(lpu_stream_next(s, &t, 0), 0);
	ck_assert_uint_gt(fk.n_eventfd, 1);
	lpu_stream_free(s);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* A program that faults: its tokens, then -EIO naming the fault. */
START_TEST(test_stream_fault)
{
	struct lpu_stream_stats st = { .size = sizeof(st) };
	struct lpu_device *dev;
	struct lpu_stream *s;
	struct lpu_model *m;
	uint32_t t[8];
	size_t n;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, prog_path("fault_sram"));
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, NULL, &s), 0);
	ck_assert_int_eq(drain(s, t, 8, &n), -EIO);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(t[0], 7);
	ck_assert_msg_has("fault 5 (index) at pc 0x");
	ck_assert_msg_has("after 1 tokens");
	ck_assert_int_eq(lpu_stream_stats(s, &st), 0);
	ck_assert_uint_eq(st.state, LPU_STREAM_STATE_FAULT);
	ck_assert_uint_eq(st.fault, LPU_FAULT_INDEX);
	ck_assert_uint_eq(st.fault_pc, fk.run.e.fault_pc);
	/* sticky */
	ck_assert_int_eq(lpu_stream_next(s, t, 0), -EIO);
	lpu_stream_free(s);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* A program that runs forever: timeouts, cancel, free. */
START_TEST(test_stream_cancel)
{
	struct lpu_stream_stats st = { .size = sizeof(st) };
	struct lpu_device *dev;
	struct lpu_stream *s;
	struct lpu_model *m;
	struct pollfd pfd;
	uint32_t t;
	uint64_t t0;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, prog_path("loop_forever"));
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, NULL, &s), 0);
	ck_assert_int_eq(lpu_stream_next(s, &t, 0), -ETIMEDOUT);
	ck_assert_msg_has("no token within 0 ms");
	t0 = lpu_now_ns();
	ck_assert_int_eq(lpu_stream_next(s, &t, 30), -ETIMEDOUT);
	ck_assert_uint_ge(lpu_now_ns() - t0, 30000000ULL);
	ck_assert_uint_gt(fk.run.e.insns, 0);	/* it ran meanwhile */

	pfd.fd = lpu_stream_fd(s);
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(lpu_stream_cancel(s), 0);
	ck_assert_uint_eq(fk.n_cancel, 1);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(lpu_stream_next(s, &t, -1), -ECANCELED);
	ck_assert_msg_has("cancelled");
	ck_assert_int_eq(lpu_stream_next(s, &t, -1), -ECANCELED);
	ck_assert_int_eq(lpu_stream_stats(s, &st), 0);
	ck_assert_uint_eq(st.state, LPU_STREAM_STATE_CANCELED);
	lpu_stream_free(s);

	/* free while running: cancelled, waited for, freed */
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, NULL, &s), 0);
	fake_run(100);
	lpu_stream_free(s);
	ck_assert_uint_eq(fk.n_cancel, 2);
	ck_assert(!fk.run.active);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* The driver's watchdog stopped the program: -ETIME, not -ETIMEDOUT. */
START_TEST(test_stream_watchdog)
{
	struct lpu_stream_stats st = { .size = sizeof(st) };
	struct lpu_device *dev;
	struct lpu_stream *s;
	struct lpu_model *m;
	uint32_t t;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, prog_path("loop_forever"));
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, NULL, &s), 0);
	fake_run(1000);
	fake_watchdog();
	ck_assert_int_eq(lpu_stream_next(s, &t, 1000), -ETIME);
	ck_assert_msg_has("no progress");
	ck_assert_int_eq(lpu_stream_stats(s, &st), 0);
	ck_assert_uint_eq(st.state, LPU_STREAM_STATE_CANCELED);
	lpu_stream_free(s);
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

START_TEST(test_stream_errors)
{
	uint32_t prompt[2048], t;
	struct lpu_stream_options o;
	struct lpu_stream_stats st;
	struct lpu_model_info info = { .size = sizeof(info) };
	struct {
		struct lpu_stream_options o;
		uint32_t future;
	} big;
	struct lpu_device *dev;
	struct lpu_stream *s = NULL;
	struct lpu_model *m;
	unsigned int i;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, data_path("tiny.lpu"));
	ck_assert_int_eq(lpu_model_info(m, &info), 0);
	ck_assert_uint_lt(info.prompt_max, 2048);
	for (i = 0; i < 2048; i++)
		prompt[i] = 1;

#define START_FAILS(opts_init, n, err, msg) do {			\
		memset(&o, 0, sizeof(o));				\
		o.size = sizeof(o);					\
		o.queue = -1;						\
		opts_init;						\
		ck_assert_int_eq(lpu_stream_start(m, prompt, n, &o, &s), err); \
		ck_assert_ptr_null(s);					\
		ck_assert_msg_has(msg);					\
	} while (0)

	START_FAILS(o.size = sizeof(o) - 1, 2, -EINVAL, "lpu_stream_options.size");
	START_FAILS(o.size = 0, 2, -EINVAL, "lpu_stream_options.size");
	START_FAILS(o.temperature = -1.0f, 2, -EINVAL, "temperature");
	START_FAILS(o.temperature = -0.0001f, 2, -EINVAL, "temperature");
	START_FAILS(o.temperature = NAN, 2, -EINVAL, "temperature");
	START_FAILS(o.temperature = INFINITY, 2, -EINVAL, "temperature");
	START_FAILS(o.top_p = 1.5f, 2, -EINVAL, "top_p");
	START_FAILS(o.top_p = -0.1f, 2, -EINVAL, "top_p");
	START_FAILS(o.top_p = NAN, 2, -EINVAL, "top_p");
	START_FAILS(o.queue = 4, 2, -EINVAL, "queue 4");
	START_FAILS(o.queue = -2, 2, -EINVAL, "queue -2");
	START_FAILS((void)0, 0, -EINVAL, "empty prompt");
	START_FAILS((void)0, info.prompt_max + 1, -E2BIG, "at most");
	START_FAILS(prompt[1] = info.vocab_size, 2, -EINVAL,
		    "vocabulary size");
	prompt[1] = 1;
	START_FAILS(o.max_tokens = UINT32_MAX, 2, -E2BIG, "max_tokens");
	ck_assert_uint_eq(fk.n_submit, 1);	/* only the load */

	/* a larger struct from a newer caller: unknown fields must be 0 */
	memset(&big, 0, sizeof(big));
	big.o.size = sizeof(big);
	big.o.queue = -1;
	big.future = 1;
	ck_assert_int_eq(lpu_stream_start(m, prompt, 2, &big.o, &s), -EINVAL);
	ck_assert_msg_has("does not know");
	big.future = 0;
	ck_assert_int_eq(lpu_stream_start(m, prompt, 2, &big.o, &s), 0);
	st.size = sizeof(st) - 8;
	ck_assert_int_eq(lpu_stream_stats(s, &st), -EINVAL);
	ck_assert_int_eq(lpu_stream_next(s, NULL, 0), -EINVAL);
	ck_assert_int_eq(lpu_stream_next(NULL, &t, 0), -EINVAL);
	lpu_stream_free(s);
	s = NULL;

	ck_assert_int_eq(lpu_stream_start(NULL, prompt, 2, NULL, &s), -EINVAL);
	ck_assert_int_eq(lpu_stream_start(m, NULL, 2, NULL, &s), -EINVAL);
	ck_assert_int_eq(lpu_stream_start(m, prompt, 2, NULL, NULL), -EINVAL);
	ck_assert_int_eq(lpu_stream_cancel(NULL), -EINVAL);
	ck_assert_int_eq(lpu_stream_fd(NULL), -EINVAL);
	lpu_stream_free(NULL);

	/* a card that runs no programs */
	fk.info.caps &= ~DRM_LPU_CAP_EXEC;
	lpu_model_unload(m);
	lpu_device_close(dev);
	dev = fake_open_device();
	m = must_load(dev, prog_path("emit_n"));
	ck_assert_int_eq(lpu_stream_start(m, NULL, 0, NULL, &s), -EOPNOTSUPP);
	ck_assert_msg_has("DRM_LPU_CAP_EXEC");
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
#undef START_FAILS
}
END_TEST

/* ---- Suite: tokenizer -------------------------------------------------------------- */

struct tb {
	uint8_t data[16384];
	size_t len;
	uint32_t n;
};

static void tb_add(struct tb *b, const char *piece, float score)
{
	uint32_t len = (uint32_t)strlen(piece);

	memcpy(b->data + b->len, &score, 4);
	memcpy(b->data + b->len + 4, &len, 4);
	memcpy(b->data + b->len + 8, piece, len);
	b->len += 8 + len;
	b->n++;
}

/* A small vocabulary: specials, byte tokens, a few characters and merges. */
static void tb_make(struct tb *b)
{
	static const char *pieces[] = {
		" ", "a", "b", "c", "d", "h", "l", "o", "e", "w", "r",
		"ab", " ab", "abc", "he", "ll", "hell", "hello", " hello",
		"wo", "wor", "worl", "world", " world",
	};
	char name[8];
	unsigned int i;

	memset(b, 0, sizeof(*b));
	b->len = 4;
	b->data[0] = 8;
	tb_add(b, "<unk>", 0);
	tb_add(b, "\n<s>\n", 0);
	tb_add(b, "\n</s>\n", 0);
	for (i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "<0x%02X>", i);
		tb_add(b, name, 0);
	}
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		tb_add(b, pieces[i], (float)strlen(pieces[i]) + i * 0.01f);
}

static struct lpu_tokenizer *tb_load(struct tb *b)
{
	char path[] = "/tmp/lpu-rt-tok-XXXXXX";
	struct lpu_tokenizer *tok = NULL;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(path, b->data, b->len);
	ck_assert_int_eq(lpu_tokenizer_load(path, b->n, &tok), 0);
	unlink(path);
	return tok;
}

/* Concatenated text of @n tokens after BOS. */
static const char *decode_all(const struct lpu_tokenizer *tok,
			      const uint32_t *t, int n)
{
	static char out[4096];
	uint32_t prev = 1;
	size_t len = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *p = lpu_tokenizer_decode(tok, prev, t[i]);

		ck_assert_ptr_nonnull(p);
		len += snprintf(out + len, sizeof(out) - len, "%s", p);
		prev = t[i];
	}
	return out;
}

START_TEST(test_tokenizer_core)
{
	static const char *texts[] = {
		"hello world", "abc abcd", "hello", "x", "world€ hello",
		"tab\tnew\nline", "",
	};
	struct lpu_tokenizer *tok;
	uint32_t t[256];
	unsigned int i;
	struct tb b;
	int n;

	tb_make(&b);
	tok = tb_load(&b);
	ck_assert_uint_eq(lpu_tokenizer_vocab_size(tok), b.n);

	/* merges: " hello" and " world" are single tokens */
	n = lpu_tokenizer_encode(tok, "hello world", true, t, 256);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(t[0], 1);
	ck_assert_str_eq(lpu_tokenizer_decode(tok, 0, t[1]), " hello");
	ck_assert_str_eq(lpu_tokenizer_decode(tok, 1, t[1]), "hello");
	ck_assert_str_eq(lpu_tokenizer_decode(tok, t[1], t[2]), " world");
	n = lpu_tokenizer_encode(tok, "hello world", false, t, 256);
	ck_assert_int_eq(n, 2);

	/* round trips: the text after the dummy-prefix space */
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char want[256];

		n = lpu_tokenizer_encode(tok, texts[i], true, t, 256);
		ck_assert_int_ge(n, 1);
		ck_assert_uint_eq(t[0], 1);
		snprintf(want, sizeof(want), "%s", texts[i]);
		ck_assert_str_eq(decode_all(tok, t + 1, n - 1), want);
	}
	/* a character outside the vocabulary: its UTF-8 bytes */
	n = lpu_tokenizer_encode(tok, "€", false, t, 256);
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(t[1], 3 + 0xe2);
	ck_assert_uint_eq(t[2], 3 + 0x82);
	ck_assert_uint_eq(t[3], 3 + 0xac);
	ck_assert_str_eq(lpu_tokenizer_decode(tok, 0, 3 + 'A'), "A");
	/* exactly enough room */
	ck_assert_int_eq(lpu_tokenizer_encode(tok, "hello world", true, t, 3),
			 3);
	lpu_tokenizer_free(tok);
	lpu_tokenizer_free(NULL);
}
END_TEST

/* The compiled model's vocabulary and the tokenizer.bin it came from. */
START_TEST(test_tokenizer_model)
{
	static const char text[] = "Once upon a time, the little dog played.";
	struct lpu_tokenizer *a, *b;
	uint32_t ta[256], tb_[256];
	struct lpu_device *dev;
	struct lpu_model *m;
	int na, nb;

	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, data_path("tiny.lpu"));
	ck_assert_int_eq(lpu_tokenizer_from_model(m, &a), 0);
	lpu_model_unload(m);	/* the tokenizer outlives its model */
	ck_assert_int_eq(lpu_tokenizer_load(data_path("tok.bin"), 512, &b), 0);
	ck_assert_uint_eq(lpu_tokenizer_vocab_size(a), 512);
	na = lpu_tokenizer_encode(a, text, true, ta, 256);
	nb = lpu_tokenizer_encode(b, text, true, tb_, 256);
	ck_assert_int_gt(na, 2);
	ck_assert_int_lt(na, (int)strlen(text));
	ck_assert_int_eq(na, nb);
	ck_assert(!memcmp(ta, tb_, na * 4));
	ck_assert_str_eq(decode_all(a, ta + 1, na - 1), text);
	lpu_tokenizer_free(a);
	lpu_tokenizer_free(b);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

START_TEST(test_tokenizer_errors)
{
	char path[] = "/tmp/lpu-rt-tok-XXXXXX";
	struct lpu_tokenizer *tok = NULL;
	struct lpu_device *dev;
	struct lpu_model *m;
	uint32_t t[256];
	struct tb b;
	int fd;

	tb_make(&b);
	ck_assert_int_eq(lpu_tokenizer_load("/nonexistent/tok.bin", 10, &tok),
			 -ENOENT);
	ck_assert_msg_has("/nonexistent/tok.bin");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(path, b.data, b.len - 3);	/* last piece cut */
	ck_assert_int_eq(lpu_tokenizer_load(path, b.n, &tok), -EINVAL);
	ck_assert_msg_has("truncated");
	ck_assert_msg_has(path);
	ck_assert_int_eq(lpu_tokenizer_load(path, 0, &tok), -EINVAL);
	ck_assert_int_eq(lpu_tokenizer_load(path, b.n - 1, &tok), 0);
	unlink(path);

	/* too little room */
	ck_assert_int_eq(lpu_tokenizer_encode(tok, "hello world", true, t, 2),
			 -ENOSPC);
	ck_assert_int_eq(lpu_tokenizer_encode(tok, "hello", false, t, 0),
			 -ENOSPC);
	ck_assert_int_eq(lpu_tokenizer_encode(tok, NULL, false, t, 8), -EINVAL);
	ck_assert_ptr_null(lpu_tokenizer_decode(tok, 1, b.n + 5));
	ck_assert_ptr_null(lpu_tokenizer_decode(NULL, 1, 3));
	lpu_tokenizer_free(tok);

	/* a model without a vocabulary */
	fake_setup();
	dev = fake_open_device();
	m = must_load(dev, prog_path("emit_n"));
	tok = NULL;
	ck_assert_int_eq(lpu_tokenizer_from_model(m, &tok), -ENOENT);
	ck_assert_ptr_null(tok);
	ck_assert_msg_has("no vocabulary");
	lpu_model_unload(m);
	lpu_device_close(dev);
	fake_teardown();
}
END_TEST

/* ---- Suite: exports ---------------------------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the functions lpu.h declares. */
static size_t header_functions(char **names, size_t max)
{
	char *text = strdup(read_text(RT_LPU_H)), *p = text;
	size_t n = 0, i;

	while ((p = strstr(p, "lpu_"))) {
		char *q = p;

		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) {
			p++;
			continue;
		}
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		if (*q == '(') {
			char *name = strndup(p, q - p);

			for (i = 0; i < n && strcmp(names[i], name); i++)
				;
			if (i == n && n < max)
				names[n++] = name;
			else
				free(name);
		}
		p = q;
	}
	free(text);
	qsort(names, n, sizeof(*names), str_cmp);
	return n;
}

START_TEST(test_exports_core)
{
	char *want[128], *got[128], line[512], cmd[PATH_MAX + 64];
	size_t nw, ng = 0, i;
	FILE *f;

	nw = header_functions(want, 128);
	ck_assert_uint_ge(nw, 30);
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s", RT_LIBLPU_SO);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char addr[64], type[8], name[256], *at;

		if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3)
			continue;
		if (!strcmp(name, "LPU_0.1"))
			continue;	/* the version node */
		at = strchr(name, '@');
		ck_assert_msg(at && !strcmp(at, "@@LPU_0.1"),
			      "%s is not versioned LPU_0.1", name);
		*at = '\0';
		ck_assert_uint_lt(ng, 128);
		got[ng++] = strdup(name);
	}
	ck_assert_int_eq(pclose(f), 0);
	qsort(got, ng, sizeof(*got), str_cmp);
	for (i = 0; i < nw && i < ng; i++)
		ck_assert_str_eq(got[i], want[i]);
	ck_assert_uint_eq(ng, nw);
	for (i = 0; i < nw; i++)
		free(want[i]);
	for (i = 0; i < ng; i++)
		free(got[i]);
}
END_TEST

/* The test hook and the shared code are not part of the ABI. */
START_TEST(test_exports_errors)
{
	char line[512], cmd[PATH_MAX + 64];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s", RT_LIBLPU_SO);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		ck_assert_msg(!strstr(line, "lpu__set_ops"), "%s", line);
		ck_assert_msg(!strstr(line, "lpu_program_"), "%s", line);
		ck_assert_msg(!strstr(line, "lpu_bpe_"), "%s", line);
		ck_assert_msg(!strstr(line, "lpu_insn_"), "%s", line);
	}
	ck_assert_int_eq(pclose(f), 0);
}
END_TEST

/* ---- main ------------------------------------------------------------------------- */

static Suite *suite(const char *name, const TTest *core[],
		    const TTest *errors[])
{
	Suite *s = suite_create(name);
	TCase *c = tcase_create("core"), *e = tcase_create("errors");
	int i;

	tcase_set_timeout(c, 30);
	tcase_set_timeout(e, 30);
	for (i = 0; core[i]; i++)
		tcase_add_test(c, core[i]);
	for (i = 0; errors[i]; i++)
		tcase_add_test(e, errors[i]);
	suite_add_tcase(s, c);
	suite_add_tcase(s, e);
	return s;
}

int main(void)
{
	const TTest *err_c[] = { test_strerror_core, test_last_error_core,
				  NULL };
	const TTest *err_e[] = { test_last_error_errors, NULL };
	const TTest *dev_c[] = { test_device_core,
				  test_device_query_larger_struct,
				  test_device_list_core, test_monitor_core,
				  NULL };
	const TTest *dev_e[] = { test_device_open_errors,
				  test_device_other_driver, NULL };
	const TTest *buf_c[] = { test_buffer_core, NULL };
	const TTest *buf_e[] = { test_buffer_errors, NULL };
	const TTest *mod_c[] = { test_model_core, test_model_memory,
				  test_model_staging, test_model_not_staged,
				  test_model_userptr,
				  test_model_userptr_fallback,
				  test_model_userptr_memory, NULL };
	const TTest *mod_e[] = { test_model_malformed, test_model_errors,
				  test_model_userptr_vocab,
				  test_model_e2big, test_model_enospc, NULL };
	const TTest *str_c[] = { test_stream_core, test_stream_prompt,
				  test_stream_model, test_stream_fd,
				  test_stream_fault, test_stream_cancel, NULL };
	const TTest *str_e[] = { test_stream_watchdog, test_stream_errors,
				  NULL };
	const TTest *tok_c[] = { test_tokenizer_core, test_tokenizer_model,
				  NULL };
	const TTest *tok_e[] = { test_tokenizer_errors, NULL };
	const TTest *exp_c[] = { test_exports_core, NULL };
	const TTest *exp_e[] = { test_exports_errors, NULL };
	SRunner *sr;
	int failed;

	sr = srunner_create(suite("errors", err_c, err_e));
	srunner_add_suite(sr, suite("device", dev_c, dev_e));
	srunner_add_suite(sr, suite("buffer", buf_c, buf_e));
	srunner_add_suite(sr, suite("model", mod_c, mod_e));
	srunner_add_suite(sr, suite("stream", str_c, str_e));
	srunner_add_suite(sr, suite("tokenizer", tok_c, tok_e));
	srunner_add_suite(sr, suite("exports", exp_c, exp_e));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
