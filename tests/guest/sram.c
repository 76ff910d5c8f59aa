// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_LPU_SRAM_ALLOC and DRM_IOCTL_LPU_SRAM_FREE.
 *
 * The tests assume they are the only SRAM user while they run (the runner
 * runs one test at a time), so sram_free moves only by their own calls.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <unistd.h>

#include "lpu_test.h"

static int sram_alloc_raw(int fd, uint64_t size, uint32_t flags)
{
	struct drm_lpu_sram_alloc a = { .size = size, .flags = flags };

	return lpu_ioctl(fd, DRM_IOCTL_LPU_SRAM_ALLOC, &a);
}

static int sram_free_raw(int fd, uint32_t handle, uint32_t pad)
{
	struct drm_lpu_sram_free f = { .handle = handle, .pad = pad };

	return lpu_ioctl(fd, DRM_IOCTL_LPU_SRAM_FREE, &f);
}

static uint64_t sram_free_now(int fd)
{
	struct drm_lpu_device_info info;

	lpu_must_query(fd, &info);
	return info.sram_free;
}

/*
 * After a free, sram_free comes back to @want. A driver may return a range
 * to the pool only once it is cleared, so allow it a moment.
 */
#define CHECK_FREE_BACK(fd, want) \
	CHECK_EQ(lpu_wait_sram_free((fd), (want), 2000), (want))

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) / align * align;
}

/* Copy @size bytes of SRAM at @off into @bo (offset 0) and wait. */
static void sram_read(int fd, struct lpu_sram *sram, uint64_t off,
		      struct lpu_bo *bo, uint64_t size)
{
	struct drm_lpu_cmd cmd;

	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_FROM_SRAM, bo->handle, 0,
		    sram->handle, off, size);
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));
}

/* Sizes round up to sram_align; sram_free drops and comes back. */
LPU_CASE(sram_alloc_ok)
{
	struct drm_lpu_device_info info;
	struct lpu_sram a, b;
	uint64_t free0;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	free0 = info.sram_free;
	CHECK(free0 >= 4ULL * info.sram_align + 8192);

	CHECK_OK(lpu_sram_alloc(fd, 1, &a));
	CHECK(a.handle != 0);
	CHECK_EQ(a.size, info.sram_align);
	CHECK_EQ(a.addr % info.sram_align, 0);
	CHECK(a.addr + a.size <= info.sram_size);
	CHECK_EQ(sram_free_now(fd), free0 - a.size);

	CHECK_OK(lpu_sram_alloc(fd, 8192 + 1, &b));
	CHECK(b.handle != 0);
	CHECK(b.handle != a.handle);
	CHECK_EQ(b.size, round_up(8192 + 1, info.sram_align));
	CHECK_EQ(b.addr % info.sram_align, 0);
	CHECK(b.addr + b.size <= info.sram_size);
	/* The ranges do not overlap. */
	CHECK(b.addr >= a.addr + a.size || a.addr >= b.addr + b.size);
	CHECK_EQ(sram_free_now(fd), free0 - a.size - b.size);

	CHECK_OK(lpu_sram_free(fd, a.handle));
	CHECK_FREE_BACK(fd, free0 - b.size);
	CHECK_OK(lpu_sram_free(fd, b.handle));
	CHECK_FREE_BACK(fd, free0);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(sram_alloc_einval_size)
{
	int fd = lpu_must_open();

	CHECK_ERRNO(sram_alloc_raw(fd, 0, 0), EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(sram_alloc_einval_flags)
{
	static const uint32_t flags[] = { 1, 0x80000000u, ~0u };
	unsigned int i;
	int fd = lpu_must_open();
	uint64_t free0 = sram_free_now(fd);

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		CHECK_ERRNO(sram_alloc_raw(fd, 4096, flags[i]), EINVAL);
	CHECK_EQ(sram_free_now(fd), free0);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(sram_alloc_e2big)
{
	struct drm_lpu_device_info info;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	CHECK_ERRNO(sram_alloc_raw(fd, info.sram_size + 1, 0), E2BIG);
	/* Must not wrap around when rounded up to sram_align. */
	CHECK_ERRNO(sram_alloc_raw(fd, UINT64_MAX, 0), E2BIG);
	close(fd);
	return LPU_PASS;
}

/* Allocate until SRAM runs out: ENOSPC; everything comes back after. */
LPU_CASE(sram_alloc_enospc)
{
	struct drm_lpu_device_info info;
	struct lpu_sram s[16];
	uint64_t chunk, free0;
	unsigned int n = 0, i;
	int r = 0;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	free0 = info.sram_free;
	chunk = info.sram_size / 8 / info.sram_align * info.sram_align;
	if (!chunk)
		chunk = info.sram_align;
	if (info.sram_size / chunk >= 16 - 1)
		SKIP("SRAM of %llu bytes too small for this test",
		     (unsigned long long)info.sram_size);

	while (n < 16) {
		r = lpu_sram_alloc(fd, chunk, &s[n]);
		if (r)
			break;
		n++;
	}
	if (!r)
		FAIL("%u allocations of %llu bytes (of %llu) all succeeded",
		     n, (unsigned long long)chunk,
		     (unsigned long long)info.sram_size);
	if (r != -ENOSPC)
		FAIL("allocation %u of %llu bytes: expected ENOSPC, got %s (%s)",
		     n, (unsigned long long)chunk, lpu_errno_name(-r),
		     strerror(-r));
	CHECK(n >= 1);
	CHECK(sram_free_now(fd) < chunk);
	/* More than what is left does not fit either. */
	CHECK_ERRNO(sram_alloc_raw(fd, sram_free_now(fd) + info.sram_align, 0),
		    ENOSPC);

	for (i = 0; i < n; i++)
		CHECK_OK(lpu_sram_free(fd, s[i].handle));
	CHECK_FREE_BACK(fd, free0);
	/* And SRAM is usable again. */
	CHECK_OK(lpu_sram_alloc(fd, chunk, &s[0]));
	CHECK_OK(lpu_sram_free(fd, s[0].handle));
	close(fd);
	return LPU_PASS;
}

LPU_CASE(sram_free_enoent)
{
	struct lpu_sram s;
	int fd = lpu_must_open();

	CHECK_ERRNO(sram_free_raw(fd, 0, 0), ENOENT);
	CHECK_ERRNO(sram_free_raw(fd, 1, 0), ENOENT);
	CHECK_ERRNO(sram_free_raw(fd, 0xffffffffu, 0), ENOENT);
	lpu_must_sram_alloc(fd, 4096, &s);
	CHECK_ERRNO(sram_free_raw(fd, s.handle + 1000, 0), ENOENT);
	CHECK_OK(lpu_sram_free(fd, s.handle));
	close(fd);
	return LPU_PASS;
}

LPU_CASE(sram_free_double)
{
	struct lpu_sram s;
	uint64_t free0;
	int fd = lpu_must_open();

	free0 = sram_free_now(fd);
	lpu_must_sram_alloc(fd, 4096, &s);
	CHECK_OK(lpu_sram_free(fd, s.handle));
	CHECK_ERRNO(lpu_sram_free(fd, s.handle), ENOENT);
	CHECK_FREE_BACK(fd, free0);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(sram_free_einval_pad)
{
	struct lpu_sram s;
	uint64_t free0;
	int fd = lpu_must_open();

	free0 = sram_free_now(fd);
	lpu_must_sram_alloc(fd, 4096, &s);
	CHECK_ERRNO(sram_free_raw(fd, s.handle, 1), EINVAL);
	CHECK_ERRNO(sram_free_raw(fd, s.handle, 0x80000000u), EINVAL);
	/* The failed calls did not free it. */
	CHECK_EQ(sram_free_now(fd), free0 - s.size);
	CHECK_OK(lpu_sram_free(fd, s.handle));
	CHECK_FREE_BACK(fd, free0);
	close(fd);
	return LPU_PASS;
}

/*
 * SRAM is zero when handed out: write random data, free, allocate the same
 * size again (with drm_mm that is normally the same range) and read it.
 */
LPU_CASE(sram_zeroed)
{
	const uint64_t size = 256 * LPU_KiB;
	struct lpu_bo src, dst;
	struct lpu_sram s;
	struct drm_lpu_cmd cmd;
	uint64_t addr;
	int fd = lpu_must_open();

	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);

	/* A fresh allocation reads zero. */
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_byte(dst.map, size, 0xa5);
	sram_read(fd, &s, 0, &dst, size);
	if (!lpu_all_bytes(dst.map, size, 0, "fresh SRAM"))
		FAIL("a fresh SRAM allocation is not zero");

	/* Write data and check it landed, so that zero later means cleared. */
	lpu_fill_random(src.map, size, 42);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_TO_SRAM, src.handle, 0, s.handle, 0,
		    size);
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));
	sram_read(fd, &s, 0, &dst, size);
	if (!lpu_same(dst.map, src.map, size, "SRAM data"))
		FAIL("SRAM does not hold what was written");
	addr = s.addr;
	lpu_must_sram_free(fd, &s);

	lpu_must_sram_alloc(fd, size, &s);
	if (s.addr != addr)
		lpu_info("note: the new allocation is at 0x%llx, not 0x%llx",
			 (unsigned long long)s.addr, (unsigned long long)addr);
	lpu_fill_byte(dst.map, size, 0xa5);
	sram_read(fd, &s, 0, &dst, size);
	if (!lpu_all_bytes(dst.map, size, 0, "reallocated SRAM"))
		FAIL("reallocated SRAM still holds old data");

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/*
 * SRAM is zero when handed out, checked over the whole free range: write
 * random data, free, allocate everything that is free and read back the
 * part that held the data (all of it if the addresses do not tell).
 */
LPU_CASE(sram_zeroed_all)
{
	const uint64_t size = LPU_MiB, chunk = 4 * LPU_MiB;
	struct drm_lpu_device_info info;
	struct lpu_bo src, dst;
	struct lpu_sram s, all;
	struct drm_lpu_cmd cmd;
	uint64_t from, to, off, old_addr;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (info.sram_free < 2 * size)
		SKIP("only %llu bytes of SRAM free",
		     (unsigned long long)info.sram_free);
	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, chunk, true, &dst);

	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(src.map, size, 7);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_TO_SRAM, src.handle, 0, s.handle, 0,
		    size);
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));
	old_addr = s.addr;
	lpu_must_sram_free(fd, &s);

	/* Wait until the range is back in the pool (it may be cleared first). */
	lpu_wait_sram_free(fd, info.sram_free, 2000);
	lpu_must_query(fd, &info);
	lpu_must_sram_alloc(fd, info.sram_free / info.sram_align *
				info.sram_align, &all);
	if (old_addr >= all.addr && old_addr + size <= all.addr + all.size) {
		from = old_addr - all.addr;
		to = from + size;
	} else {
		lpu_info("note: old range 0x%llx not inside new 0x%llx+0x%llx, reading all",
			 (unsigned long long)old_addr,
			 (unsigned long long)all.addr,
			 (unsigned long long)all.size);
		from = 0;
		to = all.size;
	}
	for (off = from; off < to; off += chunk) {
		uint64_t n = to - off < chunk ? to - off : chunk;

		lpu_fill_byte(dst.map, n, 0xa5);
		sram_read(fd, &all, off, &dst, n);
		if (!lpu_all_bytes(dst.map, n, 0, "SRAM"))
			FAIL("SRAM at offset 0x%llx of a new allocation is not zero",
			     (unsigned long long)off);
	}

	lpu_must_sram_free(fd, &all);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/*
 * Freeing SRAM that queued jobs still use succeeds at once; the range
 * returns to the free pool once the jobs are done.
 */
LPU_CASE(sram_free_busy)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_cmd cmds[16];
	struct drm_lpu_sync out;
	struct lpu_bo bo;
	struct lpu_sram s;
	uint64_t size, free0;
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	free0 = info.sram_free;
	size = 16 * LPU_MiB;
	if (size > info.sram_free / 2)
		size = info.sram_free / 2 / info.sram_align * info.sram_align;
	if (size > info.max_bo_size)
		size = info.max_bo_size;
	lpu_must_bo_new(fd, size, false, &bo);
	lpu_must_sram_alloc(fd, size, &s);
	for (i = 0; i < 16; i++)
		lpu_cmd_dma(&cmds[i], i & 1 ? DRM_LPU_CMD_DMA_FROM_SRAM :
			    DRM_LPU_CMD_DMA_TO_SRAM, bo.handle, 0, s.handle, 0,
			    size);
	out = (struct drm_lpu_sync){ .handle = lpu_must_syncobj(fd, false) };
	CHECK_OK(lpu_submit(fd, 0, cmds, 16, NULL, 0, &out, 1, NULL));
	CHECK_OK(lpu_sram_free(fd, s.handle));
	/* The handle is gone at once. */
	CHECK_ERRNO(lpu_sram_free(fd, s.handle), ENOENT);
	CHECK_OK(lpu_syncobj_wait(fd, out.handle, LPU_JOB_TIMEOUT_NS));
	CHECK_EQ(lpu_wait_sram_free(fd, free0, 5000), free0);
	lpu_must_bo_del(fd, &bo);
	close(fd);
	return LPU_PASS;
}
