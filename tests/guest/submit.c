// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_LPU_SUBMIT: jobs that must work.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <unistd.h>

#include "lpu_test.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A DMA size that fits twice in free SRAM and in a buffer. */
static uint64_t pick_size(const struct drm_lpu_device_info *info,
			  uint64_t want)
{
	uint64_t size = min_u64(want, info->sram_free / 2);

	size = min_u64(size, info->max_bo_size);
	size = size / info->sram_align * info->sram_align;
	if (!size)
		SKIP("not enough free SRAM");
	return size;
}

/* A NOP job signals its binary out-syncobj; jobs without syncs work. */
LPU_CASE(submit_nop)
{
	struct drm_lpu_cmd cmd;
	struct drm_lpu_sync out = { 0 };
	int fd = lpu_must_open();

	lpu_cmd_nop(&cmd);
	out.handle = lpu_must_syncobj(fd, false);
	CHECK_OK(lpu_submit(fd, 0, &cmd, 1, NULL, 0, &out, 1, NULL));
	CHECK_OK(lpu_syncobj_wait(fd, out.handle, LPU_JOB_TIMEOUT_NS));
	CHECK_EQ(lpu_syncobj_is_signalled(fd, out.handle), 1);

	/* No syncs at all (the fence just goes unobserved). */
	CHECK_OK(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL));
	/* Same again, on the same out-syncobj: its fence is replaced. */
	CHECK_OK(lpu_submit(fd, 0, &cmd, 1, NULL, 0, &out, 1, NULL));
	CHECK_OK(lpu_syncobj_wait(fd, out.handle, LPU_JOB_TIMEOUT_NS));
	CHECK_OK(drmSyncobjDestroy(fd, out.handle));
	close(fd);
	return LPU_PASS;
}

/*
 * A FENCE job signals; when it has, an earlier job of the same queue has
 * completed too.
 */
LPU_CASE(submit_fence)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_cmd dma[8], fence;
	struct drm_lpu_sync a = { 0 }, b = { 0 };
	struct lpu_bo bo;
	struct lpu_sram s;
	uint64_t size;
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (!(info.caps & DRM_LPU_CAP_FENCE))
		SKIP("the device lacks DRM_LPU_CAP_FENCE");
	size = pick_size(&info, 8 * LPU_MiB);
	lpu_must_bo_new(fd, size, false, &bo);
	lpu_must_sram_alloc(fd, size, &s);

	for (i = 0; i < 8; i++)
		lpu_cmd_dma(&dma[i], DRM_LPU_CMD_DMA_TO_SRAM, bo.handle, 0,
			    s.handle, 0, size);
	lpu_cmd_fence(&fence);
	a.handle = lpu_must_syncobj(fd, false);
	b.handle = lpu_must_syncobj(fd, false);
	CHECK_OK(lpu_submit(fd, 0, dma, 8, NULL, 0, &a, 1, NULL));
	CHECK_OK(lpu_submit(fd, 0, &fence, 1, NULL, 0, &b, 1, NULL));
	CHECK_OK(lpu_syncobj_wait(fd, b.handle, LPU_JOB_TIMEOUT_NS));
	CHECK_EQ(lpu_syncobj_is_signalled(fd, a.handle), 1);

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &bo);
	close(fd);
	return LPU_PASS;
}

/* The commands of one job run in order. */
LPU_CASE(submit_multi)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_cmd cmds[6];
	struct lpu_bo src, dst;
	struct lpu_sram s;
	const uint64_t size = LPU_MiB, half = size / 2;
	unsigned int n = 0;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(src.map, size, 3);
	lpu_fill_byte(dst.map, size, 0xa5);

	lpu_cmd_nop(&cmds[n++]);
	lpu_cmd_dma(&cmds[n++], DRM_LPU_CMD_DMA_TO_SRAM, src.handle, 0,
		    s.handle, 0, half);
	lpu_cmd_dma(&cmds[n++], DRM_LPU_CMD_DMA_TO_SRAM, src.handle, half,
		    s.handle, half, size - half);
	if (info.caps & DRM_LPU_CAP_FENCE)
		lpu_cmd_fence(&cmds[n++]);
	lpu_cmd_dma(&cmds[n++], DRM_LPU_CMD_DMA_FROM_SRAM, dst.handle, 0,
		    s.handle, 0, size);
	lpu_cmd_nop(&cmds[n++]);
	CHECK_OK(lpu_submit_wait(fd, 0, cmds, n));
	if (!lpu_same(dst.map, src.map, size, "data"))
		FAIL("a multi-command job did not run its commands in order");

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/*
 * Job B waits on job A's out-syncobj, on another queue when there is
 * one: B's DMA from SRAM reads what A's DMA wrote.
 */
LPU_CASE(submit_in_sync)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_cmd a_cmds[16], b_cmd;
	struct drm_lpu_sync a = { 0 }, b = { 0 };
	struct lpu_bo src, dst;
	struct lpu_sram s;
	uint64_t size, piece;
	uint32_t qb;
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	size = pick_size(&info, 16 * LPU_MiB);
	piece = size / 16;
	CHECK(piece > 0);
	qb = info.queue_count > 1 ? 1 : 0;
	if (!qb)
		lpu_info("note: one queue only, B runs on A's queue");

	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(src.map, size, 11);
	lpu_fill_byte(dst.map, size, 0xa5);

	/* A: many pieces, so it takes a while. */
	for (i = 0; i < 16; i++)
		lpu_cmd_dma(&a_cmds[i], DRM_LPU_CMD_DMA_TO_SRAM, src.handle,
			    i * piece, s.handle, i * piece,
			    i == 15 ? size - 15 * piece : piece);
	lpu_cmd_dma(&b_cmd, DRM_LPU_CMD_DMA_FROM_SRAM, dst.handle, 0,
		    s.handle, 0, size);
	a.handle = lpu_must_syncobj(fd, false);
	b.handle = lpu_must_syncobj(fd, false);
	CHECK_OK(lpu_submit(fd, 0, a_cmds, 16, NULL, 0, &a, 1, NULL));
	CHECK_OK(lpu_submit(fd, qb, &b_cmd, 1, &a, 1, &b, 1, NULL));
	CHECK_OK(lpu_syncobj_wait(fd, b.handle, LPU_JOB_TIMEOUT_NS));
	CHECK_EQ(lpu_syncobj_is_signalled(fd, a.handle), 1);
	if (!lpu_same(dst.map, src.map, size, "B's data"))
		FAIL("job B did not wait for job A");

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/* A DMA round trip whose fence is waited for at a timeline point. */
LPU_CASE(submit_timeline)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_cmd cmds[2];
	struct drm_lpu_sync out = { 0 };
	struct lpu_bo src, dst;
	struct lpu_sram s;
	const uint64_t size = 2 * LPU_MiB;
	uint64_t point = 0;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (!(info.caps & DRM_LPU_CAP_TIMELINE))
		SKIP("the device lacks DRM_LPU_CAP_TIMELINE");
	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(src.map, size, 5);
	lpu_fill_byte(dst.map, size, 0xa5);

	lpu_cmd_dma(&cmds[0], DRM_LPU_CMD_DMA_TO_SRAM, src.handle, 0,
		    s.handle, 0, size);
	lpu_cmd_dma(&cmds[1], DRM_LPU_CMD_DMA_FROM_SRAM, dst.handle, 0,
		    s.handle, 0, size);
	out.handle = lpu_must_syncobj(fd, false);
	out.point = 5;
	CHECK_OK(lpu_submit(fd, 0, cmds, 2, NULL, 0, &out, 1, NULL));
	CHECK_OK(lpu_syncobj_wait_point(fd, out.handle, 5,
					LPU_JOB_TIMEOUT_NS));
	CHECK_OK(drmSyncobjQuery(fd, &out.handle, &point, 1));
	CHECK_EQ(point, 5);
	if (!lpu_same(dst.map, src.map, size, "data"))
		FAIL("data differ after the timeline point signalled");

	/* A later point on the same timeline. */
	out.point = 9;
	lpu_fill_byte(dst.map, size, 0xa5);
	CHECK_OK(lpu_submit(fd, 0, &cmds[1], 1, NULL, 0, &out, 1, NULL));
	CHECK_OK(lpu_syncobj_wait_point(fd, out.handle, 9,
					LPU_JOB_TIMEOUT_NS));
	CHECK_OK(drmSyncobjQuery(fd, &out.handle, &point, 1));
	CHECK_EQ(point, 9);
	if (!lpu_same(dst.map, src.map, size, "data"))
		FAIL("data differ after the second point signalled");

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/*
 * Jobs chained through points of one timeline: B waits on A's point 1 and
 * signals point 2; a third job signals a binary syncobj and point 3 at once.
 */
LPU_CASE(submit_timeline_chain)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_cmd a_cmd, b_cmd, nop;
	struct drm_lpu_sync tl1 = { 0 }, tl2 = { 0 }, outs[2] = { { 0 } };
	struct lpu_bo src, dst;
	struct lpu_sram s;
	uint64_t size, point;
	uint32_t qb;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (!(info.caps & DRM_LPU_CAP_TIMELINE))
		SKIP("the device lacks DRM_LPU_CAP_TIMELINE");
	size = pick_size(&info, 8 * LPU_MiB);
	qb = info.queue_count > 1 ? 1 : 0;
	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(src.map, size, 6);
	lpu_fill_byte(dst.map, size, 0xa5);

	tl1.handle = lpu_must_syncobj(fd, false);
	tl1.point = 1;
	tl2 = tl1;
	tl2.point = 2;
	lpu_cmd_dma(&a_cmd, DRM_LPU_CMD_DMA_TO_SRAM, src.handle, 0, s.handle,
		    0, size);
	lpu_cmd_dma(&b_cmd, DRM_LPU_CMD_DMA_FROM_SRAM, dst.handle, 0,
		    s.handle, 0, size);
	CHECK_OK(lpu_submit(fd, 0, &a_cmd, 1, NULL, 0, &tl1, 1, NULL));
	CHECK_OK(lpu_submit(fd, qb, &b_cmd, 1, &tl1, 1, &tl2, 1, NULL));
	CHECK_OK(lpu_syncobj_wait_point(fd, tl1.handle, 2,
					LPU_JOB_TIMEOUT_NS));
	CHECK_OK(drmSyncobjQuery(fd, &tl1.handle, &point, 1));
	CHECK_EQ(point, 2);
	if (!lpu_same(dst.map, src.map, size, "B's data"))
		FAIL("job B did not wait for timeline point 1");

	lpu_cmd_nop(&nop);
	outs[0].handle = lpu_must_syncobj(fd, false);
	outs[1].handle = tl1.handle;
	outs[1].point = 3;
	CHECK_OK(lpu_submit(fd, 0, &nop, 1, &tl2, 1, outs, 2, NULL));
	CHECK_OK(lpu_syncobj_wait_point(fd, tl1.handle, 3,
					LPU_JOB_TIMEOUT_NS));
	CHECK_OK(lpu_syncobj_wait(fd, outs[0].handle, LPU_JOB_TIMEOUT_NS));

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/* job_id increases from job to job on a queue. */
LPU_CASE(submit_job_id)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_cmd cmd;
	uint64_t id, last;
	uint32_t q;
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	lpu_cmd_nop(&cmd);
	for (q = 0; q < info.queue_count; q++) {
		CHECK_OK(lpu_submit(fd, q, &cmd, 1, NULL, 0, NULL, 0, &last));
		for (i = 0; i < 8; i++) {
			CHECK_OK(lpu_submit(fd, q, &cmd, 1, NULL, 0, NULL, 0,
					    &id));
			if (id <= last)
				FAIL("queue %u: job_id %llu after %llu", q,
				     (unsigned long long)id,
				     (unsigned long long)last);
			last = id;
		}
	}
	/* Let them finish before close, to keep this test about job_id. */
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));
	close(fd);
	return LPU_PASS;
}

/* A round trip on every queue, all in flight together. */
LPU_CASE(submit_all_queues)
{
	struct drm_lpu_device_info info;
	struct lpu_bo src[LPU_MAX_QUEUES], dst[LPU_MAX_QUEUES];
	struct lpu_sram s[LPU_MAX_QUEUES];
	uint32_t handles[LPU_MAX_QUEUES];
	const uint64_t size = LPU_MiB;
	uint32_t q, n;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	n = info.queue_count;
	CHECK(n >= 1 && n <= LPU_MAX_QUEUES);
	if (info.sram_free < n * size)
		SKIP("not enough free SRAM for %u queues", n);

	for (q = 0; q < n; q++) {
		struct drm_lpu_cmd cmds[2];
		struct drm_lpu_sync out = { 0 };

		lpu_must_bo_new(fd, size, true, &src[q]);
		lpu_must_bo_new(fd, size, true, &dst[q]);
		lpu_must_sram_alloc(fd, size, &s[q]);
		lpu_fill_random(src[q].map, size, 100 + q);
		lpu_fill_byte(dst[q].map, size, 0xa5);
		lpu_cmd_dma(&cmds[0], DRM_LPU_CMD_DMA_TO_SRAM, src[q].handle,
			    0, s[q].handle, 0, size);
		lpu_cmd_dma(&cmds[1], DRM_LPU_CMD_DMA_FROM_SRAM,
			    dst[q].handle, 0, s[q].handle, 0, size);
		out.handle = handles[q] = lpu_must_syncobj(fd, false);
		CHECK_OK(lpu_submit(fd, q, cmds, 2, NULL, 0, &out, 1, NULL));
	}
	CHECK_OK(drmSyncobjWait(fd, handles, n,
				(int64_t)lpu_deadline_ns(LPU_JOB_TIMEOUT_NS),
				DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL));
	for (q = 0; q < n; q++) {
		if (!lpu_same(dst[q].map, src[q].map, size, "data"))
			FAIL("queue %u: data differ", q);
		lpu_must_sram_free(fd, &s[q]);
		lpu_must_bo_del(fd, &dst[q]);
		lpu_must_bo_del(fd, &src[q]);
	}
	lpu_info("%u queue(s)", n);
	close(fd);
	return LPU_PASS;
}

/* DRM_LPU_MAX_CMDS commands in one job: 4 KiB DMA pieces each way. */
LPU_CASE(submit_max_cmds)
{
	static struct drm_lpu_cmd cmds[DRM_LPU_MAX_CMDS];
	const uint64_t piece = 4096, size = DRM_LPU_MAX_CMDS * piece;
	struct lpu_bo src, dst;
	struct lpu_sram s;
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(src.map, size, 8);
	lpu_fill_byte(dst.map, size, 0xa5);

	/* Reverse order, so a dropped or reordered piece shows. */
	for (i = 0; i < DRM_LPU_MAX_CMDS; i++)
		lpu_cmd_dma(&cmds[i], DRM_LPU_CMD_DMA_TO_SRAM, src.handle,
			    i * piece, s.handle,
			    (DRM_LPU_MAX_CMDS - 1 - i) * piece, piece);
	CHECK_OK(lpu_submit_wait(fd, 0, cmds, DRM_LPU_MAX_CMDS));
	for (i = 0; i < DRM_LPU_MAX_CMDS; i++)
		lpu_cmd_dma(&cmds[i], DRM_LPU_CMD_DMA_FROM_SRAM, dst.handle,
			    i * piece, s.handle,
			    (DRM_LPU_MAX_CMDS - 1 - i) * piece, piece);
	CHECK_OK(lpu_submit_wait(fd, 0, cmds, DRM_LPU_MAX_CMDS));
	if (!lpu_same(dst.map, src.map, size, "data"))
		FAIL("data differ after two %u-command jobs",
		     DRM_LPU_MAX_CMDS);

	/* And all NOPs. */
	for (i = 0; i < DRM_LPU_MAX_CMDS; i++)
		lpu_cmd_nop(&cmds[i]);
	CHECK_OK(lpu_submit_wait(fd, 0, cmds, DRM_LPU_MAX_CMDS));

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/* DRM_LPU_MAX_SYNCS in-syncs and as many out-syncs in one job. */
LPU_CASE(submit_max_syncs)
{
	struct drm_lpu_sync in[DRM_LPU_MAX_SYNCS], out[DRM_LPU_MAX_SYNCS];
	uint32_t handles[DRM_LPU_MAX_SYNCS];
	struct drm_lpu_cmd cmd;
	unsigned int i;
	int fd = lpu_must_open();

	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	for (i = 0; i < DRM_LPU_MAX_SYNCS; i++) {
		in[i].handle = lpu_must_syncobj(fd, true);
		out[i].handle = handles[i] = lpu_must_syncobj(fd, false);
	}
	lpu_cmd_nop(&cmd);
	CHECK_OK(lpu_submit(fd, 0, &cmd, 1, in, DRM_LPU_MAX_SYNCS, out,
			    DRM_LPU_MAX_SYNCS, NULL));
	CHECK_OK(drmSyncobjWait(fd, handles, DRM_LPU_MAX_SYNCS,
				(int64_t)lpu_deadline_ns(LPU_JOB_TIMEOUT_NS),
				DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL));
	close(fd);
	return LPU_PASS;
}
