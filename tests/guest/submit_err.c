// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_LPU_SUBMIT: one test per validation failure.
 *
 * Every case starts from the same valid submission (a 4 KiB DMA to SRAM,
 * one signalled in-syncobj, one binary and, with DRM_LPU_CAP_TIMELINE, one
 * timeline out-syncobj), breaks one thing and expects one errno. Then:
 *   - no out-syncobj changed (the binary one is still unsignalled, the
 *     timeline has no point), since on an error nothing may change;
 *   - the unbroken submission succeeds on the same file and signals, so
 *     the error came from the broken field and nothing else.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <sys/mman.h>
#include <unistd.h>

#include "lpu_test.h"

#define BO_SIZE		(2 * 4096ULL)
#define SRAM_SIZE	(2 * 4096ULL)

struct sub {
	int fd;
	struct drm_lpu_device_info info;
	struct lpu_bo bo;
	struct lpu_sram sram;
	uint32_t in_obj;	/* signalled binary syncobj */
	uint32_t out_obj;	/* unsignalled binary syncobj */
	uint32_t tl_obj;	/* timeline syncobj, 0 without the cap */
	uint32_t out_count;	/* out-syncs of the valid submission */
	struct drm_lpu_cmd cmds[DRM_LPU_MAX_CMDS + 1];
	struct drm_lpu_sync in[DRM_LPU_MAX_SYNCS + 1];
	struct drm_lpu_sync out[DRM_LPU_MAX_SYNCS + 1];
	struct drm_lpu_submit s;
};

/* (Re)build the valid submission. */
static void sub_reset(struct sub *t)
{
	memset(t->cmds, 0, sizeof(t->cmds));
	memset(t->in, 0, sizeof(t->in));
	memset(t->out, 0, sizeof(t->out));
	lpu_cmd_dma(&t->cmds[0], DRM_LPU_CMD_DMA_TO_SRAM, t->bo.handle, 0,
		    t->sram.handle, 0, 4096);
	t->in[0].handle = t->in_obj;
	t->out[0].handle = t->out_obj;
	t->out_count = 1;
	if (t->tl_obj) {
		t->out[1].handle = t->tl_obj;
		t->out[1].point = 1;
		t->out_count = 2;
	}
	t->s = (struct drm_lpu_submit){
		.cmds = (uintptr_t)t->cmds,
		.in_syncs = (uintptr_t)t->in,
		.out_syncs = (uintptr_t)t->out,
		.cmd_count = 1,
		.in_sync_count = 1,
		.out_sync_count = t->out_count,
		.queue = 0,
	};
}

static void sub_init(struct sub *t)
{
	t->fd = lpu_must_open();
	lpu_must_query(t->fd, &t->info);
	lpu_must_bo_new(t->fd, BO_SIZE, false, &t->bo);
	lpu_must_sram_alloc(t->fd, SRAM_SIZE, &t->sram);
	t->in_obj = lpu_must_syncobj(t->fd, true);
	t->out_obj = lpu_must_syncobj(t->fd, false);
	t->tl_obj = 0;
	if (t->info.caps & DRM_LPU_CAP_TIMELINE)
		t->tl_obj = lpu_must_syncobj(t->fd, false);
	sub_reset(t);
}

static int sub_submit(struct sub *t)
{
	return lpu_ioctl(t->fd, DRM_IOCTL_LPU_SUBMIT, &t->s);
}

/* The out-syncobjs are as they were made: no fence, no point. */
static void check_syncobjs_untouched(struct sub *t)
{
	int r = lpu_syncobj_is_signalled(t->fd, t->out_obj);

	if (r != 0)
		FAIL("the binary out-syncobj changed on a failed submit (%d)",
		     r);
	if (t->tl_obj) {
		uint64_t point = ~0ULL;

		CHECK_OK(drmSyncobjQuery2(t->fd, &t->tl_obj, &point, 1,
					  DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED));
		if (point != 0)
			FAIL("the timeline out-syncobj got point %llu on a failed submit",
			     (unsigned long long)point);
	}
}

/* The unbroken submission works and signals. */
static void check_valid_submit(struct sub *t)
{
	sub_reset(t);
	if (sub_submit(t))
		FAIL("the valid submission failed after the case: %s (%s)",
		     lpu_errno_name(errno), strerror(errno));
	CHECK_OK(lpu_syncobj_wait(t->fd, t->out_obj, LPU_JOB_TIMEOUT_NS));
	if (t->tl_obj)
		CHECK_OK(lpu_syncobj_wait_point(t->fd, t->tl_obj, 1,
						LPU_JOB_TIMEOUT_NS));
}

static int run_case(void (*mutate)(struct sub *), int want,
		    const char *want_name)
{
	static struct sub t;
	int r;

	sub_init(&t);
	mutate(&t);
	errno = 0;
	r = sub_submit(&t);
	lpu_check_errno_at(__FILE__, __LINE__, "DRM_IOCTL_LPU_SUBMIT", r,
			   errno, want, want_name);
	check_syncobjs_untouched(&t);
	check_valid_submit(&t);
	close(t.fd);
	return LPU_PASS;
}

/*
 * One case: its name (the test is t_<name>), the errno it expects and a
 * body that breaks the valid submission in @t.
 */
#define LPU_SUBMIT_CASE(name, err)					\
	static void mutate_##name(struct sub *t);			\
	LPU_CASE(name)							\
	{								\
		return run_case(mutate_##name, err, #err);		\
	}								\
	static void mutate_##name(__attribute__((unused)) struct sub *t)

/* An address that is not mapped. */
static uint64_t unmapped_address(void)
{
	long page = getpagesize();
	void *p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED || munmap(p, page))
		FAIL("mmap/munmap: %s", strerror(errno));
	return (uintptr_t)p;
}

/* ---- flags, padding, reserved ----------------------------------------- */

LPU_SUBMIT_CASE(submit_einval_flags, EINVAL)
{
	t->s.flags = 1;
}

LPU_SUBMIT_CASE(submit_einval_flags_high, EINVAL)
{
	t->s.flags = 0x80000000u;
}

LPU_SUBMIT_CASE(submit_einval_pad, EINVAL)
{
	t->s.pad = 1;
}

LPU_SUBMIT_CASE(submit_einval_cmd_flags, EINVAL)
{
	t->cmds[0].flags = 1;
}

LPU_SUBMIT_CASE(submit_einval_dma_reserved0, EINVAL)
{
	t->cmds[0].dma.reserved[0] = 1;
}

LPU_SUBMIT_CASE(submit_einval_dma_reserved2, EINVAL)
{
	t->cmds[0].dma.reserved[2] = 1ULL << 63;
}

LPU_SUBMIT_CASE(submit_einval_nop_payload, EINVAL)
{
	lpu_cmd_nop(&t->cmds[0]);
	t->cmds[0].raw[0] = 1;
}

LPU_SUBMIT_CASE(submit_einval_nop_payload_last, EINVAL)
{
	lpu_cmd_nop(&t->cmds[0]);
	t->cmds[0].raw[6] = 1ULL << 63;
}

LPU_SUBMIT_CASE(submit_einval_fence_payload, EINVAL)
{
	lpu_cmd_fence(&t->cmds[0]);
	t->cmds[0].raw[3] = 1;
}

/* A broken command after a valid one: the whole job is refused. */
LPU_SUBMIT_CASE(submit_einval_second_cmd, EINVAL)
{
	lpu_cmd_nop(&t->cmds[1]);
	t->cmds[1].flags = 1;
	t->s.cmd_count = 2;
}

LPU_SUBMIT_CASE(submit_einval_in_sync_flags, EINVAL)
{
	t->in[0].flags = 1;
}

LPU_SUBMIT_CASE(submit_einval_out_sync_flags, EINVAL)
{
	t->out[0].flags = 1;
}

/* ---- commands ----------------------------------------------------------- */

LPU_SUBMIT_CASE(submit_einval_op_unknown, EINVAL)
{
	lpu_cmd_nop(&t->cmds[0]);
	t->cmds[0].op = DRM_LPU_CMD_EXEC + 1;
}

LPU_SUBMIT_CASE(submit_einval_op_huge, EINVAL)
{
	lpu_cmd_nop(&t->cmds[0]);
	t->cmds[0].op = 0xffffffffu;
}

/*
 * An EXEC with an all-zero payload is refused: without DRM_LPU_CAP_EXEC
 * because the card cannot run programs, with it because stream_capacity
 * is 0 (tests/guest/exec.c checks every EXEC field on its own).
 */
LPU_SUBMIT_CASE(submit_einval_op_exec, EINVAL)
{
	lpu_cmd_nop(&t->cmds[0]);
	t->cmds[0].op = DRM_LPU_CMD_EXEC;
}

LPU_SUBMIT_CASE(submit_einval_cmd_count_zero, EINVAL)
{
	t->s.cmd_count = 0;
}

LPU_SUBMIT_CASE(submit_e2big_cmd_count, E2BIG)
{
	unsigned int i;

	for (i = 0; i <= DRM_LPU_MAX_CMDS; i++)
		lpu_cmd_nop(&t->cmds[i]);
	t->s.cmd_count = DRM_LPU_MAX_CMDS + 1;
}

LPU_SUBMIT_CASE(submit_e2big_cmd_count_huge, E2BIG)
{
	t->s.cmd_count = 0xffffffffu;
}

LPU_SUBMIT_CASE(submit_e2big_in_syncs, E2BIG)
{
	unsigned int i;

	for (i = 0; i <= DRM_LPU_MAX_SYNCS; i++)
		t->in[i].handle = t->in_obj;
	t->s.in_sync_count = DRM_LPU_MAX_SYNCS + 1;
}

LPU_SUBMIT_CASE(submit_e2big_out_syncs, E2BIG)
{
	unsigned int i;

	for (i = 0; i <= DRM_LPU_MAX_SYNCS; i++)
		t->out[i].handle = t->out_obj;
	t->s.out_sync_count = DRM_LPU_MAX_SYNCS + 1;
}

LPU_SUBMIT_CASE(submit_einval_queue, EINVAL)
{
	t->s.queue = t->info.queue_count;
}

LPU_SUBMIT_CASE(submit_einval_queue_huge, EINVAL)
{
	t->s.queue = 0xffffffffu;
}

/* ---- handles ------------------------------------------------------------ */

LPU_SUBMIT_CASE(submit_enoent_bo, ENOENT)
{
	t->cmds[0].dma.bo_handle = t->bo.handle + 1000;
}

LPU_SUBMIT_CASE(submit_enoent_bo_zero, ENOENT)
{
	t->cmds[0].dma.bo_handle = 0;
}

LPU_SUBMIT_CASE(submit_enoent_sram, ENOENT)
{
	t->cmds[0].dma.sram_handle = t->sram.handle + 1000;
}

LPU_SUBMIT_CASE(submit_enoent_sram_zero, ENOENT)
{
	t->cmds[0].dma.sram_handle = 0;
}

/* A freed SRAM handle no longer resolves. */
LPU_SUBMIT_CASE(submit_enoent_sram_freed, ENOENT)
{
	struct lpu_sram s;

	lpu_must_sram_alloc(t->fd, 4096, &s);
	lpu_must_sram_free(t->fd, &s);
	t->cmds[0].dma.sram_handle = s.handle;
}

LPU_SUBMIT_CASE(submit_enoent_in_sync, ENOENT)
{
	t->in[0].handle = t->out_obj + 1000;
}

/* The first out-sync is valid, the second is not: neither may change. */
LPU_SUBMIT_CASE(submit_enoent_out_sync, ENOENT)
{
	t->out[t->out_count].handle = t->out_obj + 1000;
	t->s.out_sync_count = t->out_count + 1;
}

/* ---- sizes and ranges --------------------------------------------------- */

LPU_SUBMIT_CASE(submit_einval_dma_size_zero, EINVAL)
{
	t->cmds[0].dma.size = 0;
}

LPU_SUBMIT_CASE(submit_erange_bo_end, ERANGE)
{
	t->cmds[0].dma.bo_offset = t->bo.size - 100;
	t->cmds[0].dma.size = 101;
}

LPU_SUBMIT_CASE(submit_erange_bo_offset, ERANGE)
{
	t->cmds[0].dma.bo_offset = t->bo.size;
	t->cmds[0].dma.size = 1;
}

LPU_SUBMIT_CASE(submit_erange_bo_size, ERANGE)
{
	/* Larger than the buffer, but still inside the SRAM allocation. */
	struct lpu_sram big;

	lpu_must_sram_alloc(t->fd, t->bo.size + 4096, &big);
	t->cmds[0].dma.sram_handle = big.handle;
	t->cmds[0].dma.size = t->bo.size + 1;
}

LPU_SUBMIT_CASE(submit_erange_sram_end, ERANGE)
{
	t->cmds[0].dma.sram_offset = t->sram.size - 100;
	t->cmds[0].dma.size = 101;
}

LPU_SUBMIT_CASE(submit_erange_sram_offset, ERANGE)
{
	t->cmds[0].dma.sram_offset = t->sram.size;
	t->cmds[0].dma.size = 1;
}

LPU_SUBMIT_CASE(submit_erange_sram_size, ERANGE)
{
	/* Larger than the allocation, but still inside the buffer. */
	struct lpu_bo big;

	lpu_must_bo_new(t->fd, t->sram.size + 4096, false, &big);
	t->cmds[0].dma.bo_handle = big.handle;
	t->cmds[0].dma.size = t->sram.size + 1;
}

/* The other direction is checked the same way. */
LPU_SUBMIT_CASE(submit_erange_from_sram_end, ERANGE)
{
	t->cmds[0].op = DRM_LPU_CMD_DMA_FROM_SRAM;
	t->cmds[0].dma.sram_offset = t->sram.size - 100;
	t->cmds[0].dma.size = 101;
}

/* offset + size wraps around to a small, in-range value. */
LPU_SUBMIT_CASE(submit_erange_bo_overflow, ERANGE)
{
	t->cmds[0].dma.bo_offset = UINT64_MAX;
	t->cmds[0].dma.size = 2;
}

LPU_SUBMIT_CASE(submit_erange_bo_overflow_size, ERANGE)
{
	t->cmds[0].dma.bo_offset = 4096;
	t->cmds[0].dma.size = UINT64_MAX - 4095 + 16;
}

LPU_SUBMIT_CASE(submit_erange_sram_overflow, ERANGE)
{
	t->cmds[0].dma.sram_offset = UINT64_MAX;
	t->cmds[0].dma.size = 2;
}

LPU_SUBMIT_CASE(submit_erange_sram_overflow_size, ERANGE)
{
	t->cmds[0].dma.sram_offset = 4096;
	t->cmds[0].dma.size = UINT64_MAX - 4095 + 16;
}

/* ---- user pointers ------------------------------------------------------ */

LPU_SUBMIT_CASE(submit_efault_cmds, EFAULT)
{
	t->s.cmds = unmapped_address();
}

LPU_SUBMIT_CASE(submit_efault_cmds_null, EFAULT)
{
	t->s.cmds = 0;
}

LPU_SUBMIT_CASE(submit_efault_in_syncs, EFAULT)
{
	t->s.in_syncs = unmapped_address();
}

LPU_SUBMIT_CASE(submit_efault_out_syncs, EFAULT)
{
	t->s.out_syncs = unmapped_address();
}
