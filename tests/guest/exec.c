// SPDX-License-Identifier: MIT
/*
 * DRM_LPU_CMD_EXEC: running programs on the card and streaming their
 * tokens (uapi/drm/lpu_accel.h, DOC "Token streams").
 *
 * The programs and what they must produce are test data made on the host
 * by data.mk: a tiny random model compiled with lpu-compile (f32 and
 * int8), the tokens lpu-sim (the host runner, on the same engine as the
 * card) generates from it for fixed prompts (*.expected), and the
 * hand-written programs of tests/programs/ assembled with lpu-as. The
 * tests read them from $LPU_DATA_DIR, by default /usr/share/lpu, where
 * scripts/build-initramfs.sh puts them.
 *
 * Every case skips when the card lacks DRM_LPU_CAP_EXEC (that EXEC is
 * then refused is submit_err.c's submit_einval_op_exec).
 *
 * Conventions: a stream buffer is filled with STREAM_FILL bytes around a
 * zeroed header, so that a test sees every byte the card wrote; progress
 * goes to a fresh timeline syncobj per run.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_test.h"
#include "lpu_insn.h"
#include "lpu_program.h"

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

_Static_assert(sizeof(struct drm_lpu_stream) == LPU_STREAM_HEADER_SIZE,
	       "stream header size");
_Static_assert(sizeof(struct drm_lpu_cmd_exec) == 56, "exec payload size");

/* Static helpers a case may not use: no -Wunused-function. */
#define EXEC_HELPER	static __attribute__((unused))

#define DATA_DIR_DEFAULT	"/usr/share/lpu"
#define PROG_EMIT_N		"programs/emit_n.lpu"
#define PROG_EMIT_PROMPT	"programs/emit_prompt.lpu"
#define PROG_LOOP		"programs/loop_forever.lpu"
#define PROG_FAULT		"programs/fault_sram.lpu"
#define PROG_LONG		"programs/long_compute.lpu"

/* Bytes around the stream header, to see what the card writes. */
#define STREAM_FILL		0xa5
#define MAX_PROMPT		256
#define MAX_TOKENS		1024

/* ---- Data files ------------------------------------------------------------ */

EXEC_HELPER const char *data_path(const char *name)
{
	static char path[PATH_MAX];
	const char *dir = getenv("LPU_DATA_DIR");

	snprintf(path, sizeof(path), "%s/%s",
		 dir && *dir ? dir : DATA_DIR_DEFAULT, name);
	return path;
}

#define DATA_HINT "(test data: tests/guest/data.mk builds it into " \
	"$BUILD/tests/guest/data, the guest has it in $LPU_DATA_DIR or " \
	DATA_DIR_DEFAULT ")"

/* Open and validate a program file of the data directory. */
EXEC_HELPER struct lpu_program *must_program(const char *name,
					     uint64_t sram_size)
{
	struct lpu_program *p;
	char err[512] = "";
	int r = lpu_program_open(data_path(name), sram_size, &p, err,
				 sizeof(err));

	if (r)
		FAIL("%s %s", err[0] ? err : strerror(-r), DATA_HINT);
	return p;
}

/* One run of the host runner: data.mk writes it, see there. */
struct expected {
	char file[64];
	char program[64];
	uint32_t prompt[MAX_PROMPT];
	uint32_t prompt_len;
	uint32_t steps;
	uint32_t tokens[MAX_TOKENS];
	uint32_t n_tokens;
};

EXEC_HELPER void must_expected(const char *name, struct expected *e)
{
	static char line[16384];
	const char *path = data_path(name);
	bool have_steps = false;
	FILE *f;

	memset(e, 0, sizeof(*e));
	if (strlen(name) >= sizeof(e->file))
		FAIL("expected-file name too long: %s", name);
	memcpy(e->file, name, strlen(name) + 1);
	f = fopen(path, "r");
	if (!f)
		FAIL("%s: %s %s", path, strerror(errno), DATA_HINT);
	while (fgets(line, sizeof(line), f)) {
		uint32_t v;

		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "program ", 8)) {
			size_t len = strlen(line + 8);

			if (len >= sizeof(e->program))
				FAIL("%s: program name too long", path);
			memcpy(e->program, line + 8, len + 1);
		} else if (!strncmp(line, "prompt ", 7)) {
			e->prompt_len = lpu_must_parse_ids(line + 7, e->prompt,
						  MAX_PROMPT, path, "prompt");
		} else if (!strncmp(line, "steps ", 6)) {
			if (lpu_must_parse_ids(line + 6, &v, 1, path, "steps") != 1)
				FAIL("%s: bad 'steps' line", path);
			e->steps = v;
			have_steps = true;
		} else if (!strncmp(line, "tokens", 6)) {
			e->n_tokens = lpu_must_parse_ids(line + 6, e->tokens,
						MAX_TOKENS, path, "tokens");
		}
	}
	fclose(f);
	if (!e->program[0] || !e->prompt_len || !have_steps)
		FAIL("%s: needs 'program', 'prompt' and 'steps' lines %s",
		     path, DATA_HINT);
}

/* ---- Device and program set-up --------------------------------------- */

/* Open the device; skip unless it runs programs. */
EXEC_HELPER int exec_open(struct drm_lpu_device_info *info)
{
	int fd = lpu_must_open();

	lpu_must_query(fd, info);
	if (!(info->caps & DRM_LPU_CAP_EXEC))
		SKIP("the card lacks DRM_LPU_CAP_EXEC (caps 0x%llx): it does not run programs",
		     (unsigned long long)info->caps);
	return fd;
}

/* The progress tests need timeline syncobjs. */
EXEC_HELPER void need_timeline(const struct drm_lpu_device_info *info)
{
	if (!(info->caps & DRM_LPU_CAP_TIMELINE))
		SKIP("the driver lacks DRM_LPU_CAP_TIMELINE (caps 0x%llx)",
		     (unsigned long long)info->caps);
}

/*
 * Allocate SRAM for @p, build its window in a buffer and DMA it there,
 * then DMA the prompt (u32 little-endian) to note.prompt_offset. The
 * window is the whole allocation.
 */
EXEC_HELPER void must_load(int fd, uint32_t queue, const struct lpu_program *p,
			   const uint32_t *prompt, uint32_t prompt_len,
			   struct lpu_sram *sram)
{
	struct drm_lpu_cmd cmds[2];
	struct lpu_bo win, pr = { 0 };
	uint32_t i, n = 0;
	int r;

	if (prompt_len > p->note.prompt_max)
		FAIL("a prompt of %u tokens, the program takes at most %u",
		     prompt_len, p->note.prompt_max);
	lpu_must_sram_alloc(fd, p->note.sram_footprint, sram);
	lpu_must_bo_new(fd, sram->size, true, &win);
	r = lpu_program_fill_window(p, win.map, sram->size);
	if (r)
		FAIL("lpu_program_fill_window(%llu bytes): %s",
		     (unsigned long long)sram->size, strerror(-r));
	lpu_cmd_dma(&cmds[n++], DRM_LPU_CMD_DMA_TO_SRAM, win.handle, 0,
		    sram->handle, 0, sram->size);
	if (prompt_len) {
		uint32_t *t;

		lpu_must_bo_new(fd, prompt_len * 4ULL, true, &pr);
		t = pr.map;
		for (i = 0; i < prompt_len; i++)
			t[i] = htole32(prompt[i]);
		lpu_cmd_dma(&cmds[n++], DRM_LPU_CMD_DMA_TO_SRAM, pr.handle, 0,
			    sram->handle, p->note.prompt_offset,
			    prompt_len * 4ULL);
	}
	r = lpu_submit_wait(fd, queue, cmds, n);
	if (r)
		FAIL("loading the program into SRAM on queue %u: %s", queue,
		     lpu_errno_name(-r));
	if (prompt_len)
		lpu_must_bo_del(fd, &pr);
	lpu_must_bo_del(fd, &win);
}

/* ---- Streams ----------------------------------------------------------- */

struct stream {
	struct lpu_bo bo;
	uint64_t offset;	/* of the header in the buffer */
	uint32_t capacity;	/* tokens */
};

static struct drm_lpu_stream *stream_hdr(const struct stream *s)
{
	return (struct drm_lpu_stream *)((char *)s->bo.map + s->offset);
}

/* Zero the header, fill every other byte of the buffer. */
EXEC_HELPER void stream_reset(const struct stream *s)
{
	memset(s->bo.map, STREAM_FILL, s->bo.size);
	memset(stream_hdr(s), 0, sizeof(struct drm_lpu_stream));
}

/* A stream at @offset of @capacity tokens, @slack more bytes after it. */
EXEC_HELPER void stream_new(int fd, uint64_t offset, uint32_t capacity,
			    uint64_t slack, struct stream *s)
{
	lpu_must_bo_new(fd, offset + sizeof(struct drm_lpu_stream) +
			4ULL * capacity + slack, true, &s->bo);
	s->offset = offset;
	s->capacity = capacity;
	stream_reset(s);
}

EXEC_HELPER void stream_del(int fd, struct stream *s)
{
	lpu_must_bo_del(fd, &s->bo);
}

/* The header's token count; the tokens below it may be read after it. */
static uint32_t stream_count(const struct stream *s)
{
	return le32toh(__atomic_load_n(&stream_hdr(s)->tokens,
				       __ATOMIC_ACQUIRE));
}

static uint32_t stream_token(const struct stream *s, uint32_t i)
{
	const uint32_t *t = (const uint32_t *)(stream_hdr(s) + 1);

	return le32toh(__atomic_load_n(&t[i], __ATOMIC_RELAXED));
}

static const char *state_name(uint32_t state)
{
	switch (state) {
	case DRM_LPU_STREAM_RUNNING: return "RUNNING";
	case DRM_LPU_STREAM_HALTED: return "HALTED";
	case DRM_LPU_STREAM_FAULT: return "FAULT";
	case DRM_LPU_STREAM_ABORTED: return "ABORTED";
	default: return "?";
	}
}

/* "tokens 3, state FAULT, fault index at 0x60" for messages. */
EXEC_HELPER const char *stream_desc(const struct stream *s)
{
	static char buf[160];
	const struct drm_lpu_stream *h = stream_hdr(s);
	uint32_t state = le32toh(h->state);

	snprintf(buf, sizeof(buf),
		 "the stream header says tokens %u, state %u (%s), fault %u (%s) at 0x%x",
		 stream_count(s), state, state_name(state), le32toh(h->fault),
		 lpu_fault_name((int)le32toh(h->fault)), le32toh(h->fault_pc));
	return buf;
}

EXEC_HELPER void check_state(const struct stream *s, uint32_t want)
{
	uint32_t got = le32toh(stream_hdr(s)->state);

	if (got != want)
		FAIL("stream state %u (%s), expected %u (%s); %s", got,
		     state_name(got), want, state_name(want), stream_desc(s));
}

EXEC_HELPER void check_fault(const struct stream *s, uint32_t fault,
			     uint32_t pc)
{
	const struct drm_lpu_stream *h = stream_hdr(s);

	check_state(s, DRM_LPU_STREAM_FAULT);
	if (le32toh(h->fault) != fault)
		FAIL("fault %u (%s), expected %u (%s)", le32toh(h->fault),
		     lpu_fault_name((int)le32toh(h->fault)), fault,
		     lpu_fault_name((int)fault));
	if (le32toh(h->fault_pc) != pc)
		FAIL("fault_pc 0x%x, expected 0x%x (the faulting instruction)",
		     le32toh(h->fault_pc), pc);
}

static void print_seq(const char *what, const uint32_t *t, uint32_t n)
{
	uint32_t i;

	fprintf(stderr, "%s: %s (%u):", lpu_test_name, what, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %u", t[i]);
	fputc('\n', stderr);
}

/* The stream holds exactly @want[0..n-1]; nothing was written past it. */
EXEC_HELPER void check_tokens(const struct stream *s, const uint32_t *want,
			      uint32_t n, const char *source)
{
	static uint32_t got[MAX_TOKENS];
	uint32_t count = stream_count(s), i, shown;
	const uint8_t *b = s->bo.map;
	uint64_t end;
	bool same = count == n;

	shown = count < s->capacity ? count : s->capacity;
	shown = shown < MAX_TOKENS ? shown : MAX_TOKENS;
	for (i = 0; i < shown; i++) {
		got[i] = stream_token(s, i);
		if (i < n && got[i] != want[i])
			same = false;
	}
	if (!same) {
		print_seq("expected", want, n);
		print_seq("got     ", got, shown);
		for (i = 0; i < shown && i < n && got[i] == want[i]; i++)
			;
		FAIL("the stream holds %u tokens, expected %u from %s; first difference at token %u",
		     count, n, source, i);
	}

	if (!lpu_all_bytes(b, s->offset, STREAM_FILL,
			   "buffer before the stream"))
		FAIL("the card wrote before the stream header");
	end = s->offset + sizeof(struct drm_lpu_stream) + 4ULL * count;
	if (!lpu_all_bytes(b + end, s->bo.size - end, STREAM_FILL,
			   "buffer after the last token"))
		FAIL("the card wrote past token %u of the stream (capacity %u)",
		     count, s->capacity);
}

/* ---- Jobs -------------------------------------------------------------- */

EXEC_HELPER void exec_cmd(struct drm_lpu_cmd *cmd, const struct lpu_sram *sram,
			  const struct stream *s, uint32_t entry,
			  uint32_t prompt_len, uint32_t budget,
			  uint32_t progress)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = DRM_LPU_CMD_EXEC;
	cmd->exec.sram_handle = sram->handle;
	cmd->exec.stream_handle = s->bo.handle;
	cmd->exec.stream_offset = s->offset;
	cmd->exec.stream_capacity = s->capacity;
	cmd->exec.entry = entry;
	cmd->exec.prompt_len = prompt_len;
	cmd->exec.budget = budget;
	cmd->exec.progress_syncobj = progress;
}

/* Submit one job; returns its new binary out-syncobj. */
EXEC_HELPER uint32_t must_submit(int fd, uint32_t queue,
				 const struct drm_lpu_cmd *cmds, uint32_t n)
{
	struct drm_lpu_sync out = { 0 };
	int r;

	out.handle = lpu_must_syncobj(fd, false);
	r = lpu_submit(fd, queue, cmds, n, NULL, 0, &out, 1, NULL);
	if (r)
		FAIL("SUBMIT of an EXEC job on queue %u: %s (%s)", queue,
		     lpu_errno_name(-r), strerror(-r));
	return out.handle;
}

/* Wait up to @rel_ns for the job; fail with the stream's state if not. */
EXEC_HELPER void must_wait_job(int fd, uint32_t done, uint64_t rel_ns,
			       const struct stream *s)
{
	int r = lpu_syncobj_wait(fd, done, rel_ns);

	if (r)
		FAIL("waiting %.1f s for the job: %s; %s", rel_ns / 1e9,
		     lpu_errno_name(-r), stream_desc(s));
}

/* The fence status of a finished job: 1 OK, else -errno. */
EXEC_HELPER int job_status(int fd, uint32_t done)
{
	int status = 0, r = lpu_syncobj_fence_status(fd, done, &status);

	if (r)
		FAIL("reading the job's fence status: %s", strerror(-r));
	return status;
}

EXEC_HELPER void check_job(int fd, uint32_t done, int want,
			   const struct stream *s)
{
	int got = job_status(fd, done);

	if (got == want)
		return;
	FAIL("job fence status %s, expected %s; %s",
	     got == 1 ? "OK" : got == 0 ? "pending" : lpu_errno_name(-got),
	     want == 1 ? "OK" : lpu_errno_name(-want), stream_desc(s));
}

/* Wait for point @point of a timeline, also for it to be submitted. */
EXEC_HELPER int wait_point(int fd, uint32_t syncobj, uint64_t point,
			   uint64_t rel_ns)
{
	if (drmSyncobjTimelineWait(fd, &syncobj, &point, 1,
				   (int64_t)lpu_deadline_ns(rel_ns),
				   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL |
				   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
				   NULL) < 0)
		return -errno;
	return 0;
}

/* The last signalled point of a timeline. */
EXEC_HELPER uint64_t timeline_point(int fd, uint32_t syncobj)
{
	uint64_t point = 0;

	if (drmSyncobjQuery(fd, &syncobj, &point, 1))
		FAIL("drmSyncobjQuery: %s", strerror(errno));
	return point;
}

/* After the last token: its point signalled, no point above it. */
EXEC_HELPER void check_progress_end(int fd, uint32_t progress, uint32_t n,
				    const struct stream *s)
{
	uint64_t last;
	int r;

	if (n) {
		r = wait_point(fd, progress, n, LPU_JOB_TIMEOUT_NS);
		if (r)
			FAIL("progress point %u (the last token): %s; %s", n,
			     lpu_errno_name(-r), stream_desc(s));
	}
	last = timeline_point(fd, progress);
	if (last != n)
		FAIL("the progress timeline is at point %llu after %u tokens",
		     (unsigned long long)last, n);
}

/*
 * Stream: for k = 1..n wait for progress point k, then the header must
 * say at least k tokens and token k-1 must be @want[k-1] already.
 */
EXEC_HELPER void follow_stream(int fd, uint32_t progress,
			       const struct stream *s, const uint32_t *want,
			       uint32_t n)
{
	uint32_t k, late = 0;

	for (k = 1; k <= n; k++) {
		uint32_t count, tok;
		int r = wait_point(fd, progress, k, LPU_JOB_TIMEOUT_NS);

		if (r)
			FAIL("progress point %u of %u: %s; %s", k, n,
			     lpu_errno_name(-r), stream_desc(s));
		count = stream_count(s);
		if (count < k)
			FAIL("progress point %u signalled while the stream header says %u tokens",
			     k, count);
		if (count > s->capacity)
			FAIL("the stream header says %u tokens, the capacity is %u",
			     count, s->capacity);
		if (count > k)
			late++;
		tok = stream_token(s, k - 1);
		if (tok != want[k - 1])
			FAIL("token %u, read at progress point %u: got %u, expected %u (host runner)",
			     k - 1, k, tok, want[k - 1]);
	}
	lpu_info("streamed %u tokens; at %u of the %u points the header was already further",
		 n, late, n);
}

/* ---- The tiny model ---------------------------------------------------- */

/* Positions a compiled model runs (Documentation/compiler.rst). */
EXEC_HELPER uint64_t model_positions(const struct lpu_program_note *note,
				     uint32_t prompt_len, uint32_t budget)
{
	uint64_t p = prompt_len < note->prompt_max ? prompt_len :
						      note->prompt_max;
	uint64_t b = budget < note->context_len ? budget : note->context_len;
	uint64_t end;

	if (!p || !budget)
		return 0;
	end = p + b - 1;
	return end < note->context_len ? end : note->context_len;
}

struct model_run {
	struct expected exp;
	struct lpu_program *prog;
	struct lpu_sram sram;
	struct stream stream;
	struct drm_lpu_cmd cmd;
	uint32_t queue;
	uint32_t progress;	/* timeline syncobj */
	uint32_t done;		/* binary out-syncobj */
};

/*
 * Load the program of an expected run with its prompt, make a stream of
 * steps + @cap_extra tokens at @stream_offset and the EXEC command.
 */
EXEC_HELPER void model_prepare(int fd, const struct drm_lpu_device_info *info,
			       const char *expected, uint32_t queue,
			       uint64_t stream_offset, uint32_t cap_extra,
			       struct model_run *m)
{
	const struct lpu_program_note *note;
	uint64_t pos;

	memset(m, 0, sizeof(*m));
	must_expected(expected, &m->exp);
	m->prog = must_program(m->exp.program, info->sram_size);
	note = &m->prog->note;
	pos = model_positions(note, m->exp.prompt_len, m->exp.steps);
	/* the host runner's count, by the rule the tests check cycles with */
	if (m->exp.n_tokens != pos - m->exp.prompt_len + 1)
		FAIL("%s: %u tokens, but %llu positions from a %u-token prompt make %llu",
		     expected, m->exp.n_tokens, (unsigned long long)pos,
		     m->exp.prompt_len,
		     (unsigned long long)(pos - m->exp.prompt_len + 1));
	m->queue = queue;
	must_load(fd, queue, m->prog, m->exp.prompt, m->exp.prompt_len,
		  &m->sram);
	stream_new(fd, stream_offset, m->exp.steps + cap_extra, 256,
		   &m->stream);
	m->progress = lpu_must_syncobj(fd, false);
	exec_cmd(&m->cmd, &m->sram, &m->stream, (uint32_t)note->entry,
		 m->exp.prompt_len, m->exp.steps, m->progress);
}

EXEC_HELPER void model_submit(int fd, struct model_run *m)
{
	m->done = must_submit(fd, m->queue, &m->cmd, 1);
}

/* Wait for the job and check everything the stream reports; clean up. */
EXEC_HELPER void model_finish(int fd, struct model_run *m)
{
	const struct lpu_program_note *note = &m->prog->note;
	const struct drm_lpu_stream *h = stream_hdr(&m->stream);
	uint64_t pos, want_cycles, cycles;
	char source[128];

	must_wait_job(fd, m->done, LPU_JOB_TIMEOUT_NS, &m->stream);
	check_job(fd, m->done, 1, &m->stream);
	check_state(&m->stream, DRM_LPU_STREAM_HALTED);
	if (le32toh(h->fault))
		FAIL("a halted run reports fault %u", le32toh(h->fault));
	snprintf(source, sizeof(source), "the host runner (%s)", m->exp.file);
	check_tokens(&m->stream, m->exp.tokens, m->exp.n_tokens, source);

	pos = model_positions(note, m->exp.prompt_len, m->exp.steps);
	want_cycles = note->cycles_prologue + pos * note->cycles_per_token +
		      note->cycles_epilogue;
	cycles = le64toh(h->cycles);
	if (cycles != want_cycles)
		FAIL("cycles %llu, expected %llu = prologue %llu + %llu positions * %llu + epilogue %llu",
		     (unsigned long long)cycles,
		     (unsigned long long)want_cycles,
		     (unsigned long long)note->cycles_prologue,
		     (unsigned long long)pos,
		     (unsigned long long)note->cycles_per_token,
		     (unsigned long long)note->cycles_epilogue);
	if (!le64toh(h->insns))
		FAIL("the stream header counts no instructions");
	if (h->reserved[0] || h->reserved[1] || h->reserved[2] ||
	    h->reserved[3])
		FAIL("the stream header's reserved fields are not zero");
	check_progress_end(fd, m->progress, m->exp.n_tokens, &m->stream);
	lpu_info("%s on queue %u: %u tokens, %llu positions, %llu cycles, %llu instructions",
		 m->exp.program, m->queue, m->exp.n_tokens,
		 (unsigned long long)pos, (unsigned long long)cycles,
		 (unsigned long long)le64toh(h->insns));

	drmSyncobjDestroy(fd, m->done);
	drmSyncobjDestroy(fd, m->progress);
	stream_del(fd, &m->stream);
	lpu_must_sram_free(fd, &m->sram);
	lpu_program_free(m->prog);
	m->prog = NULL;
}

/* Run a model end to end, following its stream point by point. */
EXEC_HELPER void run_model(int fd, const struct drm_lpu_device_info *info,
			   const char *expected, uint32_t queue,
			   uint64_t stream_offset, uint32_t cap_extra)
{
	static struct model_run m;

	need_timeline(info);
	model_prepare(fd, info, expected, queue, stream_offset, cap_extra, &m);
	model_submit(fd, &m);
	follow_stream(fd, m.progress, &m.stream, m.exp.tokens,
		      m.exp.n_tokens);
	model_finish(fd, &m);
}

/* ---- emit_n.s ---------------------------------------------------------- */

/*
 * Check that @p (the file @name) is the program a test knows: @n
 * instructions from its entry with the opcodes @ops; their cycle costs in
 * @cost[0..n).
 */
EXEC_HELPER void known_program(const struct lpu_program *p, const char *name,
			       const uint8_t *ops, uint32_t n, uint64_t *cost)
{
	uint32_t i;

	if (p->n_insns != n || p->text_offset != p->note.entry)
		FAIL("%s is not the program this test knows: update exec.c",
		     name);
	for (i = 0; i < n; i++) {
		if (p->text[i].op != ops[i])
			FAIL("%s: instruction %u has opcode 0x%02x, expected 0x%02x: update exec.c",
			     name, i, p->text[i].op, ops[i]);
		cost[i] = lpu_insn_cycles(&p->text[i]);
	}
}

/*
 * Cycles and instructions of emit_n.s: li, li, then per token bltu,
 * emit, addi, addi, jmp, and at the end bltu, halt. The costs come from
 * the cycle model (lpu_insn_cycles()).
 */
EXEC_HELPER void emit_n_cost(const struct lpu_program *p, uint32_t n,
			     uint64_t *cycles, uint64_t *insns)
{
	static const uint8_t ops[] = {
		LPU_OP_LI, LPU_OP_LI, LPU_OP_BLTU, LPU_OP_HALT, LPU_OP_EMIT,
		LPU_OP_ADDI, LPU_OP_ADDI, LPU_OP_JMP,
	};
	uint64_t c[8];

	known_program(p, "emit_n.lpu", ops, 8, c);
	*cycles = c[0] + c[1] + c[2] + c[3] +
		  n * (c[2] + c[4] + c[5] + c[6] + c[7]);
	*insns = 4 + 5ULL * n;
}

/* Window offset of the first instruction with opcode @op. */
EXEC_HELPER uint32_t insn_offset(const struct lpu_program *p, uint8_t op,
				 const char *name)
{
	uint64_t i;

	for (i = 0; i < p->n_insns; i++)
		if (p->text[i].op == op)
			return (uint32_t)(p->text_offset + i * LPU_INSN_SIZE);
	FAIL("%s has no instruction with opcode 0x%02x", name, op);
}

/*
 * Run emit_n with budget @n on @queue and check its tokens 1..n: the
 * "does the queue still run programs" check after a failure.
 */
EXEC_HELPER void must_run_emit_n(int fd, const struct drm_lpu_device_info *info,
				 uint32_t queue, uint32_t n)
{
	struct lpu_program *p = must_program(PROG_EMIT_N, info->sram_size);
	uint32_t want[64], i, done;
	struct drm_lpu_cmd cmd;
	struct lpu_sram sram;
	struct stream s;

	if (n > 64)
		FAIL("must_run_emit_n: n %u > 64", n);
	for (i = 0; i < n; i++)
		want[i] = i + 1;
	must_load(fd, queue, p, NULL, 0, &sram);
	stream_new(fd, 0, n, 64, &s);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, n, 0);
	done = must_submit(fd, queue, &cmd, 1);
	must_wait_job(fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(fd, done, 1, &s);
	check_state(&s, DRM_LPU_STREAM_HALTED);
	check_tokens(&s, want, n, "emit_n");
	drmSyncobjDestroy(fd, done);
	stream_del(fd, &s);
	lpu_must_sram_free(fd, &sram);
	lpu_program_free(p);
}

/* ---- Timing ------------------------------------------------------------ */

/* The driver's job_timeout_ms (module parameter), default 10000. */
EXEC_HELPER unsigned int job_timeout_ms(void)
{
	FILE *f = fopen("/sys/module/lpu/parameters/job_timeout_ms", "r");
	unsigned int ms = 10000;

	if (f) {
		if (fscanf(f, "%u", &ms) != 1)
			ms = 10000;
		fclose(f);
	}
	return ms;
}

/* The runner's per-test limit in seconds (lpu_test_init() uses it too). */
EXEC_HELPER unsigned int test_limit_s(void)
{
	const char *t = getenv("LPU_TEST_TIMEOUT");

	return t ? (unsigned int)strtoul(t, NULL, 0) : 60;
}

/* ---- Cases: models ----------------------------------------------------- */

/*
 * The tiny f32 model on queue 0: the tokens stream in one by one (each
 * progress point finds its token in place), then the run halts with
 * exactly the host runner's tokens and the predicted cycles. The stream
 * is exactly as long as the budget.
 */
LPU_CASE(exec_model)
{
	struct drm_lpu_device_info info;
	int fd = exec_open(&info);

	run_model(fd, &info, "tiny-f32.expected", 0, 0, 0);
	close(fd);
	return LPU_PASS;
}

/*
 * The int8 program of the same model, on the last queue, with the stream
 * header at the end of one page and the tokens on the next.
 */
LPU_CASE(exec_model_int8)
{
	struct drm_lpu_device_info info;
	int fd = exec_open(&info);

	run_model(fd, &info, "tiny-int8.expected", info.queue_count - 1,
		  4096 - sizeof(struct drm_lpu_stream), 8);
	close(fd);
	return LPU_PASS;
}

/*
 * A budget past the context: the run stops at the last position with
 * fewer tokens than the budget, and the cycles count the context's
 * positions.
 */
LPU_CASE(exec_model_context)
{
	struct drm_lpu_device_info info;
	struct expected e;
	int fd = exec_open(&info);

	must_expected("tiny-f32-ctx.expected", &e);
	if (e.n_tokens >= e.steps)
		FAIL("tiny-f32-ctx.expected: %u tokens for budget %u; the run should end at the context",
		     e.n_tokens, e.steps);
	run_model(fd, &info, "tiny-f32-ctx.expected", 0, 128, 0);
	close(fd);
	return LPU_PASS;
}

/*
 * The prompt reaches the program: emit_prompt.s echoes the prompt DMA'd
 * to note.prompt_offset, as far as the budget allows.
 */
LPU_CASE(exec_emit_prompt)
{
	static const uint32_t prompt[] = { 9, 8, 7, 100000, 0, 0xffffffff };
	const uint32_t n = sizeof(prompt) / sizeof(prompt[0]);
	struct drm_lpu_device_info info;
	struct lpu_program *p;
	struct drm_lpu_cmd cmd;
	struct lpu_sram sram;
	struct stream s;
	uint32_t done;
	int fd = exec_open(&info);

	p = must_program(PROG_EMIT_PROMPT, info.sram_size);
	must_load(fd, 0, p, prompt, n, &sram);
	stream_new(fd, 0, n, 64, &s);

	/* budget above the prompt: the whole prompt */
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, n, n + 10, 0);
	done = must_submit(fd, 0, &cmd, 1);
	must_wait_job(fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(fd, done, 1, &s);
	check_state(&s, DRM_LPU_STREAM_HALTED);
	check_tokens(&s, prompt, n, "the prompt");
	drmSyncobjDestroy(fd, done);

	/* budget 2: the first two */
	stream_reset(&s);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, n, 2, 0);
	done = must_submit(fd, 0, &cmd, 1);
	must_wait_job(fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(fd, done, 1, &s);
	check_state(&s, DRM_LPU_STREAM_HALTED);
	check_tokens(&s, prompt, 2, "the prompt's first 2 tokens");
	drmSyncobjDestroy(fd, done);

	stream_del(fd, &s);
	lpu_must_sram_free(fd, &sram);
	lpu_program_free(p);
	close(fd);
	return LPU_PASS;
}

/*
 * Progress through DRM_IOCTL_SYNCOBJ_EVENTFD: eventfds registered before
 * the submit for points 1, n/2 and n fire, and each finds its tokens in
 * the stream; one for point n + 1 never fires; one registered after the
 * run for a past point fires at once.
 */
LPU_CASE(exec_eventfd)
{
	struct drm_lpu_device_info info;
	static struct model_run m;
	uint64_t points[4];
	int efd[4], fd = exec_open(&info);
	uint32_t n, i;

	need_timeline(&info);
	model_prepare(fd, &info, "tiny-f32.expected", 0, 64, 0, &m);
	n = m.exp.n_tokens;
	if (n < 2)
		FAIL("tiny-f32.expected: %u tokens, this test needs 2", n);
	points[0] = 1;
	points[1] = n / 2;
	points[2] = n;
	points[3] = n + 1;
	for (i = 0; i < 4; i++) {
		struct drm_syncobj_eventfd ev = {
			.handle = m.progress,
			.point = points[i],
		};
		int r;

		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd[i] < 0)
			FAIL("eventfd: %s", strerror(errno));
		ev.fd = efd[i];
		r = lpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_EVENTFD, &ev);
		if (r == -ENOTTY || r == -EOPNOTSUPP)
			SKIP("the kernel lacks DRM_IOCTL_SYNCOBJ_EVENTFD (%s)",
			     lpu_errno_name(-r));
		if (r)
			FAIL("DRM_IOCTL_SYNCOBJ_EVENTFD point %llu: %s",
			     (unsigned long long)points[i], lpu_errno_name(-r));
	}

	model_submit(fd, &m);
	for (i = 0; i < 3; i++) {
		struct pollfd pfd = { .fd = efd[i], .events = POLLIN };
		uint32_t k = (uint32_t)points[i], count, j;
		uint64_t v = 0;
		int r = poll(&pfd, 1, (int)(LPU_JOB_TIMEOUT_NS / 1000000));

		if (r < 0)
			FAIL("poll: %s", strerror(errno));
		if (r == 0)
			FAIL("the eventfd of progress point %u did not fire; %s",
			     k, stream_desc(&m.stream));
		if (read(efd[i], &v, sizeof(v)) != sizeof(v) || v != 1)
			FAIL("eventfd of point %u: counter %llu, expected 1", k,
			     (unsigned long long)v);
		count = stream_count(&m.stream);
		if (count < k)
			FAIL("eventfd of point %u fired while the stream header says %u tokens",
			     k, count);
		for (j = 0; j < k; j++)
			if (stream_token(&m.stream, j) != m.exp.tokens[j])
				FAIL("token %u at point %u: got %u, expected %u",
				     j, k, stream_token(&m.stream, j),
				     m.exp.tokens[j]);
	}

	/* model_finish() frees the syncobj: look at point n + 1 first. */
	must_wait_job(fd, m.done, LPU_JOB_TIMEOUT_NS, &m.stream);
	check_progress_end(fd, m.progress, n, &m.stream);
	{
		struct pollfd pfd = { .fd = efd[3], .events = POLLIN };
		struct drm_syncobj_eventfd ev = {
			.handle = m.progress,
			.point = 1,
		};
		int r = poll(&pfd, 1, 100);

		if (r != 0)
			FAIL("the eventfd of point %u (past the last token) fired (poll %d)",
			     n + 1, r);
		/* a point that is already signalled fires at once */
		close(efd[0]);
		efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd[0] < 0)
			FAIL("eventfd: %s", strerror(errno));
		ev.fd = efd[0];
		CHECK_OK(lpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_EVENTFD, &ev));
		pfd.fd = efd[0];
		if (poll(&pfd, 1, 2000) != 1)
			FAIL("an eventfd for the past point 1 did not fire");
	}
	model_finish(fd, &m);
	for (i = 0; i < 4; i++)
		close(efd[i]);
	close(fd);
	return LPU_PASS;
}

/* ---- Cases: failing programs -------------------------------------------- */

/*
 * The end of a case whose program stopped one way or another: let go of
 * its job's syncobjs, its stream, SRAM and program, then check the queue
 * still moves data (a 64 KiB round trip of pattern @seed) and runs
 * programs (emit_n, @n tokens), and close @fd.
 */
EXEC_HELPER void release_and_reuse(int fd,
				   const struct drm_lpu_device_info *info,
				   uint32_t done, uint32_t progress,
				   struct stream *s, struct lpu_sram *sram,
				   struct lpu_program *p, uint64_t seed,
				   uint32_t n)
{
	drmSyncobjDestroy(fd, done);
	drmSyncobjDestroy(fd, progress);
	stream_del(fd, s);
	lpu_must_sram_free(fd, sram);
	lpu_program_free(p);

	lpu_must_round_trip(fd, 64 * LPU_KiB, seed);
	must_run_emit_n(fd, info, 0, n);
	close(fd);
}

/*
 * loop_forever.s neither halts nor emits: the watchdog aborts it after
 * job_timeout_ms without progress, the job fails with -ETIMEDOUT and the
 * stream says ABORTED. The queue then still moves data and runs programs.
 */
LPU_CASE(exec_loop_abort)
{
	struct drm_lpu_device_info info;
	unsigned int tmo = job_timeout_ms(), margin = 10000;
	uint64_t t0, elapsed_ms;
	struct lpu_program *p;
	struct drm_lpu_cmd cmd;
	struct lpu_sram sram;
	struct stream s;
	uint32_t progress, done;
	int r, fd = exec_open(&info);

	if ((tmo + margin) / 1000 + 15 > test_limit_s())
		SKIP("job_timeout_ms=%u: the watchdog would fire too close to the %u s test limit",
		     tmo, test_limit_s());
	p = must_program(PROG_LOOP, info.sram_size);
	must_load(fd, 0, p, NULL, 0, &sram);
	stream_new(fd, 0, 16, 64, &s);
	progress = lpu_must_syncobj(fd, false);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 16, progress);

	t0 = lpu_now_ns();
	done = must_submit(fd, 0, &cmd, 1);
	usleep(500 * 1000);
	if (lpu_syncobj_is_signalled(fd, done) != 0)
		FAIL("loop_forever finished within 0.5 s (status %d); %s",
		     job_status(fd, done), stream_desc(&s));
	check_state(&s, DRM_LPU_STREAM_RUNNING);

	r = lpu_syncobj_wait(fd, done, (tmo + margin) * 1000000ULL);
	elapsed_ms = (lpu_now_ns() - t0) / 1000000;
	if (r)
		FAIL("loop_forever still runs %llu ms after the submit (%s): the watchdog (job_timeout_ms=%u) did not stop it; %s",
		     (unsigned long long)elapsed_ms, lpu_errno_name(-r), tmo,
		     stream_desc(&s));
	lpu_info("the job ended %llu ms after the submit (job_timeout_ms=%u)",
		 (unsigned long long)elapsed_ms, tmo);
	check_job(fd, done, -ETIMEDOUT, &s);
	if (elapsed_ms < tmo * 9ULL / 10)
		FAIL("the watchdog stopped the program after %llu ms, before the %u ms timeout",
		     (unsigned long long)elapsed_ms, tmo);
	check_state(&s, DRM_LPU_STREAM_ABORTED);
	check_tokens(&s, NULL, 0, "loop_forever (no tokens)");
	if (timeline_point(fd, progress))
		FAIL("the progress timeline moved without tokens");

	release_and_reuse(fd, &info, done, progress, &s, &sram, p, 11, 5);
	return LPU_PASS;
}

/*
 * loop_forever.s under a cycle limit of 1000 kcycles: the card stops it at
 * the first instruction boundary at or past 10^6 cycles, long before the
 * watchdog would (the stream's cycle count says which one did): the job
 * fails with -ETIMEDOUT within 2 s, the stream says ABORTED. The queue
 * then still moves data and runs programs.
 */
LPU_CASE(exec_cycle_limit)
{
	const uint32_t kcycles = 1000;
	const uint64_t limit = kcycles * 1000ULL;
	struct drm_lpu_device_info info;
	uint64_t t0, elapsed_ms, cycles, max_cost = 0, i;
	const struct drm_lpu_stream *h;
	struct lpu_program *p;
	struct drm_lpu_cmd cmd;
	struct lpu_sram sram;
	struct stream s;
	uint32_t progress, done;
	int r, fd = exec_open(&info);

	p = must_program(PROG_LOOP, info.sram_size);
	for (i = 0; i < p->n_insns; i++)
		if (lpu_insn_cycles(&p->text[i]) > max_cost)
			max_cost = lpu_insn_cycles(&p->text[i]);
	must_load(fd, 0, p, NULL, 0, &sram);
	stream_new(fd, 0, 16, 64, &s);
	h = stream_hdr(&s);
	progress = lpu_must_syncobj(fd, false);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 16, progress);
	cmd.exec.max_kcycles = kcycles;

	t0 = lpu_now_ns();
	done = must_submit(fd, 0, &cmd, 1);
	r = lpu_syncobj_wait(fd, done, 2000000000ULL);
	elapsed_ms = (lpu_now_ns() - t0) / 1000000;
	if (r)
		FAIL("loop_forever with max_kcycles %u still runs %llu ms after the submit (%s): the card did not stop it at the limit; %s",
		     kcycles, (unsigned long long)elapsed_ms,
		     lpu_errno_name(-r), stream_desc(&s));
	cycles = le64toh(h->cycles);
	lpu_info("the job ended %llu ms after the submit, after %llu cycles (limit %llu, job_timeout_ms=%u)",
		 (unsigned long long)elapsed_ms, (unsigned long long)cycles,
		 (unsigned long long)limit, job_timeout_ms());
	check_job(fd, done, -ETIMEDOUT, &s);
	check_state(&s, DRM_LPU_STREAM_ABORTED);
	if (cycles < limit || cycles >= limit + max_cost)
		FAIL("the run stopped after %llu cycles, expected %llu up to %llu (the limit plus the largest instruction cost, %llu, less one)",
		     (unsigned long long)cycles, (unsigned long long)limit,
		     (unsigned long long)(limit + max_cost - 1),
		     (unsigned long long)max_cost);
	if (h->fault)
		FAIL("a run stopped at its cycle limit reports fault %u",
		     le32toh(h->fault));
	check_tokens(&s, NULL, 0, "loop_forever (no tokens)");
	if (timeline_point(fd, progress))
		FAIL("the progress timeline moved without tokens");

	release_and_reuse(fd, &info, done, progress, &s, &sram, p, 13, 5);
	return LPU_PASS;
}

/* ---- Cases: the watchdog and long computations -------------------------- */

/* The queue timeout exec_long_compute reloads the module with. */
#define LONG_TIMEOUT_MS		1000
/* Its runs last about this many queue timeouts. */
#define LONG_RUN_TIMEOUTS	4
/* Iterations of the calibration run. */
#define LONG_CAL_ITERS		3000

/*
 * Cycles of long_compute.s for @n iterations: li, then per iteration
 * bltu, matvec, addi, jmp, and at the end bltu, emit, halt.
 */
EXEC_HELPER uint64_t long_compute_cycles(const struct lpu_program *p,
					 uint64_t n)
{
	static const uint8_t ops[] = {
		LPU_OP_LI, LPU_OP_BLTU, LPU_OP_EMIT, LPU_OP_HALT,
		LPU_OP_MATVEC, LPU_OP_ADDI, LPU_OP_JMP,
	};
	uint64_t c[7];

	known_program(p, "long_compute.lpu", ops, 7, c);
	return c[0] + n * (c[1] + c[4] + c[5] + c[6]) + c[1] + c[2] + c[3];
}

/* Twice the prediction, in thousands, as liblpu sets it. */
EXEC_HELPER uint32_t long_compute_limit(uint64_t cycles)
{
	uint64_t k = cycles * 2 / 1000 + 1;

	if (k > UINT32_MAX)
		FAIL("a run of %llu cycles: its limit does not fit max_kcycles",
		     (unsigned long long)cycles);
	return (uint32_t)k;
}

/*
 * One run of long_compute for @iters iterations with cycle limit
 * @max_kcycles, on @sram; returns its wall time in ms. The job's status,
 * stream and cycles are left in @s for the caller to check; *@status gets
 * the job's fence status.
 */
EXEC_HELPER uint64_t long_compute_run(int fd, const struct lpu_program *p,
				      const struct lpu_sram *sram,
				      struct stream *s, uint32_t iters,
				      uint32_t max_kcycles, int *status)
{
	struct drm_lpu_cmd cmd;
	uint64_t t0, ms;
	uint32_t done;
	int r;

	stream_reset(s);
	exec_cmd(&cmd, sram, s, (uint32_t)p->note.entry, 0, iters, 0);
	cmd.exec.max_kcycles = max_kcycles;
	t0 = lpu_now_ns();
	done = must_submit(fd, 0, &cmd, 1);
	r = lpu_syncobj_wait(fd, done, 30000000000ULL);
	ms = (lpu_now_ns() - t0) / 1000000;
	if (r)
		FAIL("long_compute (%u iterations, max_kcycles %u) still runs %llu ms after the submit (%s); %s",
		     iters, max_kcycles, (unsigned long long)ms,
		     lpu_errno_name(-r), stream_desc(s));
	*status = job_status(fd, done);
	drmSyncobjDestroy(fd, done);
	return ms;
}

/* A run that must have halted after @iters iterations, emitting @iters. */
EXEC_HELPER void long_compute_check_ok(const struct lpu_program *p,
				       const struct stream *s, uint32_t iters,
				       int status, const char *what)
{
	uint64_t want = long_compute_cycles(p, iters);

	if (status != 1)
		FAIL("%s: job fence status %s, expected OK; %s", what,
		     status == 0 ? "pending" : lpu_errno_name(-status),
		     stream_desc(s));
	check_state(s, DRM_LPU_STREAM_HALTED);
	check_tokens(s, &iters, 1, what);
	if (le64toh(stream_hdr(s)->cycles) != want)
		FAIL("%s: %llu cycles, expected %llu", what,
		     (unsigned long long)le64toh(stream_hdr(s)->cycles),
		     (unsigned long long)want);
}

/*
 * The body of exec_long_compute, in a child, with the module loaded with
 * job_timeout_ms=LONG_TIMEOUT_MS. Calibrates the number of iterations
 * that runs LONG_RUN_TIMEOUTS queue timeouts on this host, then runs it
 * with a cycle limit (it finishes) and without one (aborted).
 */
EXEC_HELPER void __attribute__((noreturn)) long_compute_child(void)
{
	struct drm_lpu_device_info info;
	uint64_t cal_ms, ms, n, cycles, want_ms;
	struct lpu_program *p;
	struct lpu_sram sram;
	struct stream s;
	uint32_t iters;
	int status, fd;

	if (job_timeout_ms() != LONG_TIMEOUT_MS)
		FAIL("job_timeout_ms is %u after the reload, expected %u",
		     job_timeout_ms(), LONG_TIMEOUT_MS);
	fd = exec_open(&info);
	p = must_program(PROG_LONG, info.sram_size);
	must_load(fd, 0, p, NULL, 0, &sram);
	stream_new(fd, 0, 1, 64, &s);

	/* Calibration: a short run, well within the timeout. */
	iters = LONG_CAL_ITERS;
	cal_ms = long_compute_run(fd, p, &sram, &s, iters,
				  long_compute_limit(long_compute_cycles(p, iters)),
				  &status);
	long_compute_check_ok(p, &s, iters, status, "the calibration run");
	want_ms = (uint64_t)LONG_RUN_TIMEOUTS * LONG_TIMEOUT_MS;
	n = (uint64_t)iters * want_ms / (cal_ms ? cal_ms : 1);
	if (n < iters)
		n = iters;
	if (n > 100000000)
		n = 100000000;
	iters = (uint32_t)n;
	cycles = long_compute_cycles(p, iters);
	lpu_info("calibration: %u iterations in %llu ms; %u iterations (%llu cycles) for about %llu ms",
		 LONG_CAL_ITERS, (unsigned long long)cal_ms, iters,
		 (unsigned long long)cycles, (unsigned long long)want_ms);

	/* With a limit: the cycles it runs are progress, it finishes. */
	ms = long_compute_run(fd, p, &sram, &s, iters,
			      long_compute_limit(cycles), &status);
	lpu_info("with max_kcycles %u: %llu ms, status %d",
		 long_compute_limit(cycles), (unsigned long long)ms, status);
	long_compute_check_ok(p, &s, iters, status,
			      "the run with a cycle limit, longer than the queue timeout");
	if (ms < LONG_TIMEOUT_MS * 3ULL / 2)
		FAIL("the run with a cycle limit took %llu ms, not well past the %u ms queue timeout: the test proves nothing (calibration %llu ms for %u iterations)",
		     (unsigned long long)ms, LONG_TIMEOUT_MS,
		     (unsigned long long)cal_ms, LONG_CAL_ITERS);

	/* Without a limit: no token within the timeout, the watchdog aborts it. */
	ms = long_compute_run(fd, p, &sram, &s, iters, 0, &status);
	lpu_info("without a limit: %llu ms, status %d, %llu cycles run",
		 (unsigned long long)ms, status,
		 (unsigned long long)le64toh(stream_hdr(&s)->cycles));
	if (status != -ETIMEDOUT)
		FAIL("the run without a cycle limit: job fence status %s, expected ETIMEDOUT; %s",
		     status == 1 ? "OK" : status == 0 ? "pending" :
		     lpu_errno_name(-status), stream_desc(&s));
	check_state(&s, DRM_LPU_STREAM_ABORTED);
	check_tokens(&s, NULL, 0, "long_compute aborted (no tokens)");
	if (le64toh(stream_hdr(&s)->cycles) >= cycles)
		FAIL("the aborted run counts %llu cycles, the whole run is %llu",
		     (unsigned long long)le64toh(stream_hdr(&s)->cycles),
		     (unsigned long long)cycles);
	if (ms < LONG_TIMEOUT_MS * 9ULL / 10)
		FAIL("the watchdog stopped the program after %llu ms, before the %u ms timeout",
		     (unsigned long long)ms, LONG_TIMEOUT_MS);

	stream_del(fd, &s);
	lpu_must_sram_free(fd, &sram);
	lpu_program_free(p);
	must_run_emit_n(fd, &info, 0, 3);
	close(fd);
	exit(LPU_PASS);
}

/* The lpu module file, as t_module_reload.sh finds it. */
EXEC_HELPER const char *module_path(void)
{
	const char *m = getenv("LPU_MODULE");

	return m && *m ? m : "/lib/modules/lpu.ko";
}

EXEC_HELPER bool module_loaded(void)
{
	return access("/sys/module/lpu", F_OK) == 0;
}

/*
 * Unload lpu (if loaded) and load it again with job_timeout_ms=@ms; wait
 * for the node. Returns 0 or a message for the caller to fail with.
 */
EXEC_HELPER const char *module_reload(unsigned int ms)
{
	static char msg[256];
	char args[64];
	int i, fd, r;

	for (i = 0; module_loaded(); i++) {
		if (!syscall(SYS_delete_module, "lpu", O_NONBLOCK))
			break;
		if ((errno != EAGAIN && errno != EBUSY) || i == 50) {
			snprintf(msg, sizeof(msg), "rmmod lpu: %s",
				 strerror(errno));
			return msg;
		}
		usleep(100 * 1000);
	}
	if (!lpu_wait_path(lpu_dev_path(), false, 5000)) {
		snprintf(msg, sizeof(msg), "%s still there 5 s after rmmod",
			 lpu_dev_path());
		return msg;
	}
	fd = open(module_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "open %s: %s", module_path(),
			 strerror(errno));
		return msg;
	}
	snprintf(args, sizeof(args), "job_timeout_ms=%u", ms);
	r = (int)syscall(SYS_finit_module, fd, args, 0);
	if (r)
		snprintf(msg, sizeof(msg), "insmod %s %s: %s", module_path(),
			 args, strerror(errno));
	close(fd);
	if (r)
		return msg;
	if (!lpu_wait_path(lpu_dev_path(), true, 5000)) {
		snprintf(msg, sizeof(msg), "%s did not come back 5 s after insmod %s",
			 lpu_dev_path(), args);
		return msg;
	}
	return NULL;
}

/*
 * A program that computes without emitting for longer than the queue
 * timeout (long_compute.s) runs to its end when it has a cycle limit:
 * the watchdog counts its cycles (PROGRESS_KCYCLES) as progress. Without
 * a limit the watchdog aborts it (-ETIMEDOUT, ABORTED, no token), as it
 * did before limits existed. For speed the module is reloaded with a
 * short queue timeout (job_timeout_ms=LONG_TIMEOUT_MS); the work runs in
 * a child, and this process loads the module again with the value it had
 * however the child ended (failure, alarm, the runner's SIGTERM).
 */
LPU_CASE(exec_long_compute)
{
	struct drm_lpu_device_info info;
	unsigned int old_ms = job_timeout_ms(), left;
	char fail[256] = "";
	const char *err;
	int status = 0, fd;
	pid_t pid;

	if (geteuid())
		SKIP("needs root (rmmod and insmod)");
	if (!module_loaded())
		SKIP("the lpu module is not loaded");
	if (access(module_path(), R_OK))
		SKIP("no module at %s ($LPU_MODULE): %s", module_path(),
		     strerror(errno));
	fd = exec_open(&info);
	close(fd);
	lpu_info("reloading lpu with job_timeout_ms=%u (was %u)",
		 LONG_TIMEOUT_MS, old_ms);

	left = alarm(0);
	signal(SIGTERM, SIG_IGN);
	err = module_reload(LONG_TIMEOUT_MS);
	if (err) {
		snprintf(fail, sizeof(fail), "%s", err);
	} else {
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			if (left > 10)
				alarm(left - 5);
			long_compute_child();
		}
		if (pid < 0)
			snprintf(fail, sizeof(fail), "fork: %s", strerror(errno));
		else
			while (waitpid(pid, &status, 0) < 0)
				if (errno != EINTR)
					FAIL("waitpid: %s", strerror(errno));
	}

	lpu_info("reloading lpu with job_timeout_ms=%u", old_ms);
	err = module_reload(old_ms);
	if (err) {
		lpu_info("%s; once more", err);
		usleep(500 * 1000);
		err = module_reload(old_ms);
	}
	if (err)
		FAIL("restoring the module with job_timeout_ms=%u: %s", old_ms,
		     err);
	if (job_timeout_ms() != old_ms)
		FAIL("job_timeout_ms is %u after the restore, expected %u",
		     job_timeout_ms(), old_ms);
	if (fail[0])
		FAIL("%s", fail);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	FAIL("the child died of signal %d", WTERMSIG(status));
}

/*
 * fault_sram.s emits 7, then its LOADW indexes past its table: the job
 * fails with -EIO, the stream says FAULT, LPU_FAULT_INDEX at the LOADW,
 * with the one token before it. The queue works afterwards.
 */
LPU_CASE(exec_fault)
{
	static const uint32_t want[] = { 7 };
	struct drm_lpu_device_info info;
	struct lpu_program *p;
	struct drm_lpu_cmd cmd;
	struct lpu_sram sram;
	struct stream s;
	uint32_t progress, done, pc;
	int fd = exec_open(&info);

	need_timeline(&info);
	p = must_program(PROG_FAULT, info.sram_size);
	pc = insn_offset(p, LPU_OP_LOADW, PROG_FAULT);
	if (pc % LPU_INSN_SIZE || pc < p->text_offset ||
	    pc >= p->text_offset + p->text_size)
		FAIL("the LOADW offset 0x%x is not an instruction of .text", pc);
	must_load(fd, 0, p, NULL, 0, &sram);
	stream_new(fd, 0, 8, 64, &s);
	progress = lpu_must_syncobj(fd, false);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 8, progress);
	done = must_submit(fd, 0, &cmd, 1);
	must_wait_job(fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(fd, done, -EIO, &s);
	check_fault(&s, LPU_FAULT_INDEX, pc);
	check_tokens(&s, want, 1, "fault_sram (token 7 before the fault)");
	check_progress_end(fd, progress, 1, &s);

	release_and_reuse(fd, &info, done, progress, &s, &sram, p, 12, 3);
	return LPU_PASS;
}

/*
 * emit_n.s emits 1..budget: budget 10 gives exactly 1..10 with the
 * modelled cycles and instruction count; a stream of 4 tokens makes the
 * fifth EMIT fault STREAM (-EIO) with nothing written past the stream;
 * budget 0 halts at once with no token and no progress point.
 */
LPU_CASE(exec_emit_n)
{
	static const uint32_t want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct drm_lpu_device_info info;
	const struct drm_lpu_stream *h;
	uint64_t cycles, insns;
	struct lpu_program *p;
	struct drm_lpu_cmd cmd;
	struct lpu_sram sram;
	struct stream s;
	uint32_t progress, done;
	int fd = exec_open(&info);

	need_timeline(&info);
	p = must_program(PROG_EMIT_N, info.sram_size);
	must_load(fd, 0, p, NULL, 0, &sram);

	/* budget 10, capacity 16 */
	stream_new(fd, 64, 16, 64, &s);
	h = stream_hdr(&s);
	progress = lpu_must_syncobj(fd, false);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 10, progress);
	done = must_submit(fd, 0, &cmd, 1);
	follow_stream(fd, progress, &s, want, 10);
	must_wait_job(fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(fd, done, 1, &s);
	check_state(&s, DRM_LPU_STREAM_HALTED);
	check_tokens(&s, want, 10, "emit_n budget 10");
	check_progress_end(fd, progress, 10, &s);
	emit_n_cost(p, 10, &cycles, &insns);
	CHECK_EQ(le64toh(h->cycles), cycles);
	CHECK_EQ(le64toh(h->insns), insns);
	drmSyncobjDestroy(fd, done);
	drmSyncobjDestroy(fd, progress);
	stream_del(fd, &s);

	/* budget 10, capacity 4: the fifth EMIT faults */
	stream_new(fd, 0, 4, 256, &s);
	progress = lpu_must_syncobj(fd, false);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 10, progress);
	done = must_submit(fd, 0, &cmd, 1);
	must_wait_job(fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(fd, done, -EIO, &s);
	check_fault(&s, LPU_FAULT_STREAM,
		    insn_offset(p, LPU_OP_EMIT, PROG_EMIT_N));
	check_tokens(&s, want, 4, "emit_n into a 4-token stream");
	check_progress_end(fd, progress, 4, &s);
	drmSyncobjDestroy(fd, done);
	drmSyncobjDestroy(fd, progress);
	stream_del(fd, &s);

	/* budget 0 */
	stream_new(fd, 0, 4, 64, &s);
	h = stream_hdr(&s);
	progress = lpu_must_syncobj(fd, false);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 0, progress);
	done = must_submit(fd, 0, &cmd, 1);
	must_wait_job(fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(fd, done, 1, &s);
	check_state(&s, DRM_LPU_STREAM_HALTED);
	check_tokens(&s, NULL, 0, "emit_n budget 0");
	check_progress_end(fd, progress, 0, &s);
	emit_n_cost(p, 0, &cycles, &insns);
	CHECK_EQ(le64toh(h->cycles), cycles);
	CHECK_EQ(le64toh(h->insns), insns);
	drmSyncobjDestroy(fd, done);
	drmSyncobjDestroy(fd, progress);
	stream_del(fd, &s);

	lpu_must_sram_free(fd, &sram);
	lpu_program_free(p);
	close(fd);
	return LPU_PASS;
}

/* ---- Cases: files ---------------------------------------------------------- */

static void must_read_byte(int rfd, char want, const char *what)
{
	char c = 0;
	ssize_t n = read(rfd, &c, 1);

	if (n != 1 || c != want)
		FAIL("%s: %s", what, n < 0 ? strerror(errno) :
		     "the child failed (see its message above)");
}

static void must_write_byte(int wfd, char c)
{
	if (write(wfd, &c, 1) != 1)
		FAIL("write to a pipe: %s", strerror(errno));
}

EXEC_HELPER void must_reap(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid %s: %s", what, strerror(errno));
	if (WIFSIGNALED(status))
		FAIL("%s died of signal %d", what, WTERMSIG(status));
	if (WEXITSTATUS(status) != LPU_PASS)
		FAIL("%s exited with status %d", what, WEXITSTATUS(status));
}

/* A child's alarm: what the parent has left (fork clears alarms). */
EXEC_HELPER unsigned int alarm_left(void)
{
	unsigned int left = alarm(0);

	alarm(left);
	return left;
}

/*
 * A child runs loop_forever on queue 0 and closes its file while the
 * program runs: closing stops the program at once, so its SRAM is free
 * again within 2 s (the watchdog would take job_timeout_ms). A new EXEC
 * then works on the same queue.
 */
LPU_CASE(exec_close_running)
{
	struct drm_lpu_device_info info;
	uint64_t base, t0, ms, free_now;
	unsigned int left = alarm_left();
	int pipefd[2], fd = exec_open(&info);
	pid_t pid;

	lpu_program_free(must_program(PROG_LOOP, info.sram_size));
	signal(SIGPIPE, SIG_IGN);
	lpu_must_query(fd, &info);
	base = info.sram_free;
	if (pipe(pipefd))
		FAIL("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		struct lpu_program *p;
		struct drm_lpu_cmd cmd;
		struct lpu_sram sram;
		struct stream s;
		uint32_t done;
		int cfd;

		lpu_test_name = "t_exec_close_running (child)";
		alarm(left);
		close(pipefd[0]);
		close(fd);
		cfd = lpu_must_open();
		p = must_program(PROG_LOOP, info.sram_size);
		must_load(cfd, 0, p, NULL, 0, &sram);
		stream_new(cfd, 0, 16, 64, &s);
		exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 16, 0);
		done = must_submit(cfd, 0, &cmd, 1);
		usleep(300 * 1000);
		if (lpu_syncobj_is_signalled(cfd, done) != 0)
			FAIL("loop_forever finished within 0.3 s; %s",
			     stream_desc(&s));
		check_state(&s, DRM_LPU_STREAM_RUNNING);
		must_write_byte(pipefd[1], 'R');
		/* a mapping keeps the file open: unmap first */
		if (munmap(s.bo.map, s.bo.size))
			FAIL("munmap: %s", strerror(errno));
		close(cfd);
		must_write_byte(pipefd[1], 'C');
		_exit(LPU_PASS);
	}
	close(pipefd[1]);
	must_read_byte(pipefd[0], 'R', "waiting for the child's program");
	lpu_must_query(fd, &info);
	if (info.sram_free >= base)
		FAIL("the child's program runs, but sram_free is %llu, as before (%llu)",
		     (unsigned long long)info.sram_free,
		     (unsigned long long)base);
	must_read_byte(pipefd[0], 'C', "waiting for the child's close()");
	t0 = lpu_now_ns();
	free_now = lpu_wait_sram_free(fd, base, 2000);
	ms = (lpu_now_ns() - t0) / 1000000;
	if (free_now < base)
		FAIL("2 s after the child closed its file sram_free is %llu, expected %llu: closing did not stop its program (job_timeout_ms=%u)",
		     (unsigned long long)free_now, (unsigned long long)base,
		     job_timeout_ms());
	lpu_info("the child's SRAM was free %llu ms after its close()",
		 (unsigned long long)ms);
	must_reap(pid, "the child");
	close(pipefd[0]);
	if (base != info.sram_size)
		lpu_info("note: %llu of %llu bytes of SRAM were in use before the test",
			 (unsigned long long)(info.sram_size - base),
			 (unsigned long long)info.sram_size);

	must_run_emit_n(fd, &info, 0, 5);
	close(fd);
	return LPU_PASS;
}

/*
 * A child with its own file runs one expected run of the model: it loads
 * it, says 'R', waits for 'G', then submits and follows the stream.
 */
static void model_child(const char *expected, uint32_t queue,
			unsigned int left, int ready_w, int go_r)
{
	static char name[96];
	struct drm_lpu_device_info info;
	static struct model_run m;
	int fd;

	snprintf(name, sizeof(name), "%s (child, %s, queue %u)",
		 lpu_test_name, expected, queue);
	lpu_test_name = name;
	alarm(left);
	fd = lpu_must_open();
	lpu_must_query(fd, &info);
	model_prepare(fd, &info, expected, queue, 0, 0, &m);
	must_write_byte(ready_w, 'R');
	must_read_byte(go_r, 'G', "waiting for the parent");
	model_submit(fd, &m);
	follow_stream(fd, m.progress, &m.stream, m.exp.tokens,
		      m.exp.n_tokens);
	model_finish(fd, &m);
	close(fd);
	_exit(LPU_PASS);
}

/* Run two children at once, on queues @qa and @qb. */
static void two_at_once(uint32_t qa, uint32_t qb)
{
	static const char *const files[2] = {
		"tiny-f32.expected", "tiny-f32-b.expected",
	};
	const uint32_t queue[2] = { qa, qb };
	unsigned int left = alarm_left();
	int ready[2][2], go[2][2];
	char what[96];
	pid_t pid[2];
	int i;

	/* a child that died early: EPIPE, not death by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 2; i++) {
		if (pipe(ready[i]) || pipe(go[i]))
			FAIL("pipe: %s", strerror(errno));
		pid[i] = fork();
		if (pid[i] < 0)
			FAIL("fork: %s", strerror(errno));
		if (pid[i] == 0) {
			close(ready[i][0]);
			close(go[i][1]);
			model_child(files[i], queue[i], left, ready[i][1],
				    go[i][0]);
		}
		close(ready[i][1]);
		close(go[i][0]);
	}
	for (i = 0; i < 2; i++) {
		snprintf(what, sizeof(what), "child %s on queue %u", files[i],
			 queue[i]);
		must_read_byte(ready[i][0], 'R', what);
	}
	for (i = 0; i < 2; i++)
		must_write_byte(go[i][1], 'G');
	for (i = 0; i < 2; i++) {
		snprintf(what, sizeof(what), "the child running %s on queue %u",
			 files[i], queue[i]);
		must_reap(pid[i], what);
		close(ready[i][0]);
		close(go[i][1]);
	}
}

/*
 * Two processes, each with its own file, run the model at once with
 * different prompts, first on different queues, then on the same one;
 * each gets exactly its own tokens.
 */
LPU_CASE(exec_two_files)
{
	struct drm_lpu_device_info info;
	struct expected e;
	int fd = exec_open(&info);

	need_timeline(&info);
	/* the data is there (a child's failure is harder to read) */
	must_expected("tiny-f32.expected", &e);
	must_expected("tiny-f32-b.expected", &e);
	if (info.queue_count > 1)
		two_at_once(0, 1);
	else
		lpu_info("one queue only: no run on two queues");
	two_at_once(0, 0);
	close(fd);
	return LPU_PASS;
}

/* ---- Cases: submit checks ---------------------------------------------- */

/*
 * A valid EXEC of emit_n (budget 4) to derive bad ones from; the stream
 * buffer has room for 8 tokens, rounded up to a page.
 */
struct vctx {
	int fd;
	struct drm_lpu_device_info info;
	struct lpu_program *prog;
	struct lpu_sram sram;
	struct stream stream;
	uint32_t progress;
	struct drm_lpu_cmd cmd;
};

#define VCTX_BUDGET	4

EXEC_HELPER void vctx_init(struct vctx *v)
{
	v->fd = exec_open(&v->info);
	v->prog = must_program(PROG_EMIT_N, v->info.sram_size);
	must_load(v->fd, 0, v->prog, NULL, 0, &v->sram);
	stream_new(v->fd, 0, 8, 0, &v->stream);
	v->progress = lpu_must_syncobj(v->fd, false);
	exec_cmd(&v->cmd, &v->sram, &v->stream, (uint32_t)v->prog->note.entry,
		 0, VCTX_BUDGET, v->progress);
}

EXEC_HELPER void vctx_fini(struct vctx *v)
{
	drmSyncobjDestroy(v->fd, v->progress);
	stream_del(v->fd, &v->stream);
	lpu_must_sram_free(v->fd, &v->sram);
	lpu_program_free(v->prog);
	close(v->fd);
}

/*
 * The job @cmds must be refused with @err, and nothing may run: its
 * out-syncobj gets no fence, the stream buffer and the progress timeline
 * stay as they were (checked after a later job of the same queue, which
 * completes after anything the refused one could have queued).
 */
EXEC_HELPER void expect_refused(struct vctx *v, const struct drm_lpu_cmd *cmds,
				uint32_t n, int err, const char *what)
{
	struct drm_lpu_sync out = { 0 };
	struct drm_lpu_cmd nop;
	int r;

	memset(v->stream.bo.map, 0x5a, v->stream.bo.size);
	out.handle = lpu_must_syncobj(v->fd, false);
	r = lpu_submit(v->fd, 0, cmds, n, NULL, 0, &out, 1, NULL);
	if (!r)
		FAIL("%s: SUBMIT succeeded, expected %s", what,
		     lpu_errno_name(err));
	if (-r != err)
		FAIL("%s: SUBMIT failed with %s, expected %s", what,
		     lpu_errno_name(-r), lpu_errno_name(err));
	lpu_cmd_nop(&nop);
	r = lpu_submit_wait(v->fd, 0, &nop, 1);
	if (r)
		FAIL("a NOP job after the refused one: %s", lpu_errno_name(-r));
	r = lpu_syncobj_is_signalled(v->fd, out.handle);
	if (r != 0)
		FAIL("%s: the refused job's out-syncobj has a fence (%d)", what,
		     r);
	if (!lpu_all_bytes(v->stream.bo.map, v->stream.bo.size, 0x5a, what))
		FAIL("%s: the refused job wrote the stream buffer", what);
	if (timeline_point(v->fd, v->progress))
		FAIL("%s: the refused job moved the progress timeline", what);
	drmSyncobjDestroy(v->fd, out.handle);
}

/* Variant of the valid command with a field changed, refused. */
#define REFUSED(v, field, value, err) do {				\
	struct drm_lpu_cmd c_ = (v)->cmd;				\
	c_.field = (value);						\
	expect_refused((v), &c_, 1, (err), #field " = " #value);	\
} while (0)

/*
 * @cmd (from the valid one) must run: emit_n's tokens 1..budget in its
 * stream. Progress is left out (the refusals check the timeline).
 */
EXEC_HELPER void expect_runs(struct vctx *v, const struct drm_lpu_cmd *cmds,
			     uint32_t n, const char *what)
{
	static const uint32_t want[] = { 1, 2, 3, 4 };
	struct drm_lpu_cmd c[4];
	struct stream s = v->stream;
	uint32_t i, done;

	if (n > 4)
		FAIL("expect_runs: %u commands", n);
	for (i = 0; i < n; i++) {
		c[i] = cmds[i];
		if (c[i].op == DRM_LPU_CMD_EXEC) {
			c[i].exec.progress_syncobj = 0;
			s.offset = c[i].exec.stream_offset;
			s.capacity = c[i].exec.stream_capacity;
		}
	}
	stream_reset(&s);
	done = must_submit(v->fd, 0, c, n);
	must_wait_job(v->fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(v->fd, done, 1, &s);
	check_state(&s, DRM_LPU_STREAM_HALTED);
	check_tokens(&s, want, VCTX_BUDGET, what);
	drmSyncobjDestroy(v->fd, done);
}

/* Variant of the valid command with a field changed, accepted. */
#define RUNS(v, field, value) do {					\
	struct drm_lpu_cmd c_ = (v)->cmd;				\
	c_.field = (value);						\
	expect_runs((v), &c_, 1, #field " = " #value);			\
} while (0)

/* Non-zero command flags: EINVAL. */
LPU_CASE(exec_err_flags)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, flags, 1, EINVAL);
	REFUSED(&v, flags, 0x80000000u, EINVAL);
	expect_runs(&v, &v.cmd, 1, "the valid EXEC");
	vctx_fini(&v);
	return LPU_PASS;
}

/*
 * Any max_kcycles is valid. emit_n with budget 4 runs 276 cycles, below
 * the least limit (1000 cycles), so every one of these runs to its end.
 */
LPU_CASE(exec_max_kcycles_any)
{
	struct vctx v;

	vctx_init(&v);
	RUNS(&v, exec.max_kcycles, 1);
	RUNS(&v, exec.max_kcycles, 1000);
	RUNS(&v, exec.max_kcycles, 0x80000000u);
	RUNS(&v, exec.max_kcycles, 0xffffffffu);
	vctx_fini(&v);
	return LPU_PASS;
}

/* stream_capacity 0: EINVAL (1 is the least). */
LPU_CASE(exec_err_capacity_zero)
{
	struct vctx v;
	struct drm_lpu_cmd c;

	vctx_init(&v);
	REFUSED(&v, exec.stream_capacity, 0, EINVAL);
	/* the least stream that holds the budget runs */
	c = v.cmd;
	c.exec.stream_capacity = VCTX_BUDGET;
	expect_runs(&v, &c, 1, "stream_capacity = budget");
	vctx_fini(&v);
	return LPU_PASS;
}

/* An entry that is not 32-byte aligned: EINVAL. */
LPU_CASE(exec_err_entry_align)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.entry, 1, EINVAL);
	REFUSED(&v, exec.entry, 4, EINVAL);
	REFUSED(&v, exec.entry, 16, EINVAL);
	REFUSED(&v, exec.entry, 31, EINVAL);
	REFUSED(&v, exec.entry, 33, EINVAL);
	expect_runs(&v, &v.cmd, 1, "entry 0");
	vctx_fini(&v);
	return LPU_PASS;
}

/*
 * An entry at or past the end of the SRAM allocation: ERANGE. The last
 * instruction slot of the allocation is accepted; it holds zeros (a nop)
 * and the pc then leaves the window: fault PC.
 */
LPU_CASE(exec_err_entry_range)
{
	struct vctx v;
	struct drm_lpu_cmd c;
	struct stream s;
	uint32_t done;

	vctx_init(&v);
	REFUSED(&v, exec.entry, (uint32_t)v.sram.size, ERANGE);
	REFUSED(&v, exec.entry, (uint32_t)v.sram.size + 32, ERANGE);
	REFUSED(&v, exec.entry, 0xffffffe0u, ERANGE);
	expect_runs(&v, &v.cmd, 1, "entry 0");

	c = v.cmd;
	c.exec.entry = (uint32_t)v.sram.size - LPU_INSN_SIZE;
	c.exec.progress_syncobj = 0;
	s = v.stream;
	stream_reset(&s);
	done = must_submit(v.fd, 0, &c, 1);
	must_wait_job(v.fd, done, LPU_JOB_TIMEOUT_NS, &s);
	check_job(v.fd, done, -EIO, &s);
	check_state(&s, DRM_LPU_STREAM_FAULT);
	CHECK_EQ(le32toh(stream_hdr(&s)->fault), LPU_FAULT_PC);
	drmSyncobjDestroy(v.fd, done);
	vctx_fini(&v);
	return LPU_PASS;
}

/* A stream_offset that is not 64-byte aligned: EINVAL. */
LPU_CASE(exec_err_stream_align)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.stream_offset, 1, EINVAL);
	REFUSED(&v, exec.stream_offset, 4, EINVAL);
	REFUSED(&v, exec.stream_offset, 32, EINVAL);
	REFUSED(&v, exec.stream_offset, 63, EINVAL);
	RUNS(&v, exec.stream_offset, 64);
	vctx_fini(&v);
	return LPU_PASS;
}

/*
 * A stream (64-byte header + 4 bytes a token) past the end of its buffer:
 * ERANGE, also when 4 * capacity overflows 32 bits or offset + size
 * overflows 64 bits. A stream that ends exactly at the end is accepted.
 */
LPU_CASE(exec_err_stream_range)
{
	struct vctx v;
	struct drm_lpu_cmd c;
	uint64_t size;
	uint32_t fit;

	vctx_init(&v);
	size = v.stream.bo.size;
	fit = (uint32_t)((size - sizeof(struct drm_lpu_stream)) / 4);
	c = v.cmd;

	c.exec.stream_offset = size;
	c.exec.stream_capacity = 1;
	expect_refused(&v, &c, 1, ERANGE, "stream at the end of the buffer");
	c.exec.stream_offset = size - 64;
	expect_refused(&v, &c, 1, ERANGE, "header fits, the token does not");
	c.exec.stream_offset = 0;
	c.exec.stream_capacity = fit + 1;
	expect_refused(&v, &c, 1, ERANGE, "one token more than fits");
	c.exec.stream_capacity = 0x40000000u;
	expect_refused(&v, &c, 1, ERANGE,
		       "capacity 2^30 (4 * capacity wraps 32 bits to 0)");
	c.exec.stream_capacity = 0xfffffff0u;
	expect_refused(&v, &c, 1, ERANGE,
		       "capacity 2^32 - 16 (header + tokens wrap 32 bits)");
	c.exec.stream_capacity = 0xffffffffu;
	expect_refused(&v, &c, 1, ERANGE, "capacity 2^32 - 1");
	c.exec.stream_offset = 0xffffffffffffffc0ULL;
	c.exec.stream_capacity = 1;
	expect_refused(&v, &c, 1, ERANGE, "offset + size wraps 64 bits");
	c.exec.stream_offset = 1ULL << 63;
	expect_refused(&v, &c, 1, ERANGE, "offset 2^63");

	/* exactly fitting: from the start, and at the end */
	c.exec.stream_offset = 0;
	c.exec.stream_capacity = fit;
	expect_runs(&v, &c, 1, "a stream filling the buffer");
	c.exec.stream_offset = size - 64 - 64;
	c.exec.stream_capacity = 16;
	expect_runs(&v, &c, 1, "a stream ending at the end of the buffer");
	vctx_fini(&v);
	return LPU_PASS;
}

/* An SRAM handle this file does not have: ENOENT. */
LPU_CASE(exec_err_sram_handle)
{
	struct lpu_sram other[2];
	struct vctx v;
	int fd2, i;

	vctx_init(&v);
	REFUSED(&v, exec.sram_handle, 0, ENOENT);
	REFUSED(&v, exec.sram_handle, v.sram.handle + 1000, ENOENT);
	REFUSED(&v, exec.sram_handle, 0xffffffffu, ENOENT);

	/* another file's allocation, by a handle this file does not use */
	fd2 = lpu_must_open();
	for (i = 0; i < 2; i++)
		lpu_must_sram_alloc(fd2, 4 * LPU_KiB, &other[i]);
	i = other[0].handle != v.sram.handle ? 0 : 1;
	if (other[i].handle == v.sram.handle)
		FAIL("two SRAM handles of another file equal this file's %u",
		     v.sram.handle);
	REFUSED(&v, exec.sram_handle, other[i].handle, ENOENT);
	close(fd2);

	expect_runs(&v, &v.cmd, 1, "the valid EXEC");
	vctx_fini(&v);
	return LPU_PASS;
}

/* A stream buffer handle this file does not have: ENOENT. */
LPU_CASE(exec_err_stream_handle)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.stream_handle, 0, ENOENT);
	REFUSED(&v, exec.stream_handle, v.stream.bo.handle + 1000, ENOENT);
	REFUSED(&v, exec.stream_handle, 0xffffffffu, ENOENT);
	expect_runs(&v, &v.cmd, 1, "the valid EXEC");
	vctx_fini(&v);
	return LPU_PASS;
}

/* A progress syncobj handle this file does not have: ENOENT. */
LPU_CASE(exec_err_progress_handle)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.progress_syncobj, v.progress + 1000, ENOENT);
	REFUSED(&v, exec.progress_syncobj, 0xffffffffu, ENOENT);
	expect_runs(&v, &v.cmd, 1, "no progress syncobj");
	vctx_fini(&v);
	return LPU_PASS;
}

/* A negative temperature: EINVAL. */
LPU_CASE(exec_err_temp_negative)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.temperature, lpu_f32_bits(-1.0f), EINVAL);
	REFUSED(&v, exec.temperature, lpu_f32_bits(-0.5f), EINVAL);
	REFUSED(&v, exec.temperature, 0x80800000u /* -FLT_MIN */, EINVAL);
	REFUSED(&v, exec.temperature, 0x80000001u /* -denormal */, EINVAL);
	RUNS(&v, exec.temperature, lpu_f32_bits(0.5f));
	vctx_fini(&v);
	return LPU_PASS;
}

/* A NaN temperature: EINVAL. */
LPU_CASE(exec_err_temp_nan)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.temperature, 0x7fc00000u /* qNaN */, EINVAL);
	REFUSED(&v, exec.temperature, 0x7f800001u /* sNaN */, EINVAL);
	REFUSED(&v, exec.temperature, 0xffc00000u /* -qNaN */, EINVAL);
	REFUSED(&v, exec.temperature, 0x7fffffffu, EINVAL);
	RUNS(&v, exec.temperature, lpu_f32_bits(1.0f));
	vctx_fini(&v);
	return LPU_PASS;
}

/* An infinite temperature: EINVAL; the largest finite one runs. */
LPU_CASE(exec_err_temp_inf)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.temperature, 0x7f800000u /* +inf */, EINVAL);
	REFUSED(&v, exec.temperature, 0xff800000u /* -inf */, EINVAL);
	RUNS(&v, exec.temperature, 0x7f7fffffu /* FLT_MAX */);
	vctx_fini(&v);
	return LPU_PASS;
}

/* top_p above 1.0: EINVAL; exactly 1.0 runs. */
LPU_CASE(exec_err_top_p_above_one)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.top_p, 0x3f800001u /* 1 + 2^-23 */, EINVAL);
	REFUSED(&v, exec.top_p, lpu_f32_bits(2.0f), EINVAL);
	REFUSED(&v, exec.top_p, 0x7f800000u /* +inf */, EINVAL);
	REFUSED(&v, exec.top_p, 0x7fc00000u /* NaN */, EINVAL);
	RUNS(&v, exec.top_p, lpu_f32_bits(1.0f));
	vctx_fini(&v);
	return LPU_PASS;
}

/* A negative top_p: EINVAL; 0.5 runs. */
LPU_CASE(exec_err_top_p_negative)
{
	struct vctx v;

	vctx_init(&v);
	REFUSED(&v, exec.top_p, lpu_f32_bits(-0.5f), EINVAL);
	REFUSED(&v, exec.top_p, lpu_f32_bits(-1.0f), EINVAL);
	REFUSED(&v, exec.top_p, 0xff800000u /* -inf */, EINVAL);
	RUNS(&v, exec.top_p, lpu_f32_bits(0.5f));
	vctx_fini(&v);
	return LPU_PASS;
}

/* Two EXEC commands in one job: EINVAL; one EXEC after a NOP runs. */
LPU_CASE(exec_err_two_exec)
{
	struct drm_lpu_cmd c[3];
	struct vctx v;

	vctx_init(&v);
	c[0] = v.cmd;
	c[1] = v.cmd;
	expect_refused(&v, c, 2, EINVAL, "EXEC, EXEC");
	lpu_cmd_nop(&c[1]);
	c[2] = v.cmd;
	expect_refused(&v, c, 3, EINVAL, "EXEC, NOP, EXEC");
	expect_runs(&v, &c[1], 2, "NOP, EXEC");
	vctx_fini(&v);
	return LPU_PASS;
}

/*
 * DRM_IOCTL_LPU_JOB_CANCEL stops a running program at once, without the
 * watchdog: its job fails with -ECANCELED, the stream says ABORTED, and a
 * job submitted afterwards on the same queue runs normally.
 */
LPU_CASE(exec_cancel)
{
	struct drm_lpu_job_cancel c = { 0 };
	struct drm_lpu_sync out = { 0 };
	struct drm_lpu_device_info info;
	struct lpu_program *p;
	struct drm_lpu_cmd cmd;
	struct lpu_sram sram;
	uint64_t job_id, t0;
	struct stream s;
	int r, fd = exec_open(&info);

	p = must_program(PROG_LOOP, info.sram_size);
	must_load(fd, 0, p, NULL, 0, &sram);
	stream_new(fd, 0, 16, 64, &s);
	exec_cmd(&cmd, &sram, &s, (uint32_t)p->note.entry, 0, 16, 0);
	out.handle = lpu_must_syncobj(fd, false);
	CHECK_OK(lpu_submit(fd, 0, &cmd, 1, NULL, 0, &out, 1, &job_id));
	usleep(300 * 1000);
	if (lpu_syncobj_is_signalled(fd, out.handle) != 0)
		FAIL("loop_forever finished within 0.3 s; %s", stream_desc(&s));

	c.job_id = job_id;
	t0 = lpu_now_ns();
	CHECK_OK(lpu_ioctl(fd, DRM_IOCTL_LPU_JOB_CANCEL, &c));
	r = lpu_syncobj_wait(fd, out.handle, 5000000000ULL);
	if (r)
		FAIL("the cancelled program still runs 5 s later (%s); %s",
		     lpu_errno_name(-r), stream_desc(&s));
	lpu_info("cancel took %llu ms",
		 (unsigned long long)((lpu_now_ns() - t0) / 1000000));
	check_job(fd, out.handle, -ECANCELED, &s);
	check_state(&s, DRM_LPU_STREAM_ABORTED);

	/* Cancelling again, or a finished job, is harmless. */
	CHECK_OK(lpu_ioctl(fd, DRM_IOCTL_LPU_JOB_CANCEL, &c));
	must_run_emit_n(fd, &info, 0, 5);

	drmSyncobjDestroy(fd, out.handle);
	stream_del(fd, &s);
	lpu_must_sram_free(fd, &sram);
	lpu_program_free(p);
	close(fd);
	return LPU_PASS;
}

/* A job_id past the last job submitted cancels nothing submitted later. */
LPU_CASE(exec_cancel_future)
{
	struct drm_lpu_job_cancel c = { .job_id = 1000000 };
	struct drm_lpu_device_info info;
	int fd = exec_open(&info);

	c.queue = info.queue_count - 1;
	CHECK_OK(lpu_ioctl(fd, DRM_IOCTL_LPU_JOB_CANCEL, &c));
	must_run_emit_n(fd, &info, c.queue, 3);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(exec_cancel_einval_flags)
{
	struct drm_lpu_job_cancel c = { .job_id = 1, .flags = 1 };
	struct drm_lpu_device_info info;
	int fd = exec_open(&info);

	CHECK_ERRNO(lpu_ioctl(fd, DRM_IOCTL_LPU_JOB_CANCEL, &c), EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(exec_cancel_einval_queue)
{
	struct drm_lpu_job_cancel c = { .job_id = 1 };
	struct drm_lpu_device_info info;
	int fd = exec_open(&info);

	c.queue = info.queue_count;
	CHECK_ERRNO(lpu_ioctl(fd, DRM_IOCTL_LPU_JOB_CANCEL, &c), EINVAL);
	c.queue = 0xffffffffu;
	CHECK_ERRNO(lpu_ioctl(fd, DRM_IOCTL_LPU_JOB_CANCEL, &c), EINVAL);
	close(fd);
	return LPU_PASS;
}

/*
 * A job whose in-sync failed does not run: fault_sram's job fails with
 * -EIO, and an emit_n job waiting on it fails with -ECANCELED without the
 * card ever starting it (its stream header stays as the test left it).
 */
LPU_CASE(exec_insync_failed)
{
	struct drm_lpu_sync in = { 0 }, out = { 0 };
	struct lpu_program *pf, *pe;
	struct drm_lpu_device_info info;
	struct lpu_sram sf, se;
	struct drm_lpu_cmd cmd;
	struct stream s1, s2;
	uint32_t bad;
	int fd = exec_open(&info);

	pf = must_program(PROG_FAULT, info.sram_size);
	pe = must_program(PROG_EMIT_N, info.sram_size);
	must_load(fd, 0, pf, NULL, 0, &sf);
	must_load(fd, 0, pe, NULL, 0, &se);
	stream_new(fd, 0, 16, 64, &s1);
	stream_new(fd, 0, 16, 64, &s2);
	stream_hdr(&s2)->cycles = htole64(0x5eed);

	exec_cmd(&cmd, &sf, &s1, (uint32_t)pf->note.entry, 0, 16, 0);
	bad = must_submit(fd, 0, &cmd, 1);
	in.handle = bad;
	out.handle = lpu_must_syncobj(fd, false);
	exec_cmd(&cmd, &se, &s2, (uint32_t)pe->note.entry, 0, 5, 0);
	CHECK_OK(lpu_submit(fd, 1 % info.queue_count, &cmd, 1, &in, 1, &out,
			    1, NULL));
	if (lpu_syncobj_wait(fd, out.handle, 10000000000ULL))
		FAIL("the dependent job did not finish");
	check_job(fd, bad, -EIO, &s1);
	check_job(fd, out.handle, -ECANCELED, &s2);
	if (le64toh(stream_hdr(&s2)->cycles) != 0x5eed ||
	    stream_count(&s2) != 0)
		FAIL("the dependent program ran: %s", stream_desc(&s2));

	drmSyncobjDestroy(fd, bad);
	drmSyncobjDestroy(fd, out.handle);
	stream_del(fd, &s1);
	stream_del(fd, &s2);
	lpu_must_sram_free(fd, &sf);
	lpu_must_sram_free(fd, &se);
	lpu_program_free(pf);
	lpu_program_free(pe);
	close(fd);
	return LPU_PASS;
}
