// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_LPU_BO_CREATE and DRM_IOCTL_LPU_BO_MMAP_OFFSET.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <sys/mman.h>
#include <unistd.h>

#include "lpu_test.h"

static int bo_create_raw(int fd, uint64_t size, uint32_t flags)
{
	struct drm_lpu_bo_create c = { .size = size, .flags = flags };

	return lpu_ioctl(fd, DRM_IOCTL_LPU_BO_CREATE, &c);
}

static int mmap_offset_raw(int fd, uint32_t handle, uint32_t flags)
{
	struct drm_lpu_bo_mmap_offset m = { .handle = handle, .flags = flags };

	return lpu_ioctl(fd, DRM_IOCTL_LPU_BO_MMAP_OFFSET, &m);
}

/* Sizes round up to pages, handles are distinct, memory is zero. */
LPU_CASE(bo_create_ok)
{
	const uint64_t page = getpagesize();
	const uint64_t sizes[] = { 1, page - 1, page, page + 1, 5 * page + 7,
				   LPU_MiB };
	struct lpu_bo bo[sizeof(sizes) / sizeof(sizes[0])];
	unsigned int i, j;
	int fd = lpu_must_open();

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		lpu_must_bo_new(fd, sizes[i], true, &bo[i]);
		CHECK(bo[i].handle != 0);
		CHECK_EQ(bo[i].size, (sizes[i] + page - 1) / page * page);
		for (j = 0; j < i; j++)
			CHECK(bo[i].handle != bo[j].handle);
		if (!lpu_all_bytes(bo[i].map, bo[i].size, 0, "new buffer"))
			FAIL("a new %llu-byte buffer is not zero-filled",
			     (unsigned long long)bo[i].size);
		/* Dirty it, so a recycled page would show. */
		lpu_fill_byte(bo[i].map, bo[i].size, 0x5a);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		lpu_must_bo_del(fd, &bo[i]);

	/* Closed buffers' pages must not come back dirty. */
	lpu_must_bo_new(fd, LPU_MiB, true, &bo[0]);
	if (!lpu_all_bytes(bo[0].map, bo[0].size, 0, "buffer after free"))
		FAIL("a new buffer shows data of a closed one");
	lpu_must_bo_del(fd, &bo[0]);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(bo_create_einval_size)
{
	int fd = lpu_must_open();

	CHECK_ERRNO(bo_create_raw(fd, 0, 0), EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(bo_create_einval_flags)
{
	static const uint32_t flags[] = { 1, 0x80000000u, ~0u };
	unsigned int i;
	int fd = lpu_must_open();

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		CHECK_ERRNO(bo_create_raw(fd, 4096, flags[i]), EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(bo_create_e2big)
{
	struct drm_lpu_device_info info;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (info.max_bo_size == UINT64_MAX)
		SKIP("max_bo_size is unlimited");
	CHECK_ERRNO(bo_create_raw(fd, info.max_bo_size + 1, 0), E2BIG);
	/* Must not wrap around when rounded up to a page. */
	CHECK_ERRNO(bo_create_raw(fd, UINT64_MAX, 0), E2BIG);
	CHECK_ERRNO(bo_create_raw(fd, UINT64_MAX - 4095, 0), E2BIG);
	close(fd);
	return LPU_PASS;
}

/* Data written through one mapping reads back through a second one. */
LPU_CASE(bo_mmap_ok)
{
	const uint64_t size = 3 * LPU_MiB + 4096;
	struct lpu_bo bo;
	uint64_t off1, off2;
	unsigned char *a, *b, *want;
	int fd = lpu_must_open();

	lpu_must_bo_new(fd, size, false, &bo);
	CHECK_OK(lpu_bo_mmap_offset(fd, bo.handle, &off1));
	CHECK(off1 != 0);
	CHECK_EQ(off1 % getpagesize(), 0);
	CHECK_OK(lpu_bo_mmap_offset(fd, bo.handle, &off2));
	CHECK_EQ(off2, off1);

	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)off1);
	CHECK(a != MAP_FAILED);
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)off2);
	CHECK(b != MAP_FAILED);
	CHECK(a != b);

	want = malloc(size);
	CHECK(want);
	lpu_fill_random(want, size, 1);
	memcpy(a, want, size);
	if (!lpu_same(b, want, size, "second mapping"))
		FAIL("writes through one mapping do not show in the other");

	/* The object outlives the first mapping and its handle. */
	CHECK_OK(munmap(a, size));
	CHECK_OK(lpu_gem_close(fd, bo.handle));
	if (!lpu_same(b, want, size, "mapping after close"))
		FAIL("data changed after munmap and GEM_CLOSE");
	CHECK_OK(munmap(b, size));
	free(want);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(bo_mmap_enoent)
{
	struct lpu_bo bo;
	int fd = lpu_must_open();

	CHECK_ERRNO(mmap_offset_raw(fd, 0, 0), ENOENT);
	CHECK_ERRNO(mmap_offset_raw(fd, 1, 0), ENOENT);
	CHECK_ERRNO(mmap_offset_raw(fd, 0x7fffffff, 0), ENOENT);
	lpu_must_bo_new(fd, 4096, false, &bo);
	CHECK_ERRNO(mmap_offset_raw(fd, bo.handle + 1000, 0), ENOENT);
	lpu_must_bo_del(fd, &bo);
	/* A closed handle. */
	CHECK_ERRNO(mmap_offset_raw(fd, bo.handle, 0), ENOENT);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(bo_mmap_einval_flags)
{
	static const uint32_t flags[] = { 1, 0x80000000u, ~0u };
	struct lpu_bo bo;
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_bo_new(fd, 4096, false, &bo);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		CHECK_ERRNO(mmap_offset_raw(fd, bo.handle, flags[i]), EINVAL);
	lpu_must_bo_del(fd, &bo);
	close(fd);
	return LPU_PASS;
}
