// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_LPU_QUERY: values, size versioning, errors.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <sys/mman.h>
#include <unistd.h>

#include "lpu_test.h"

#define KNOWN_CAPS (DRM_LPU_CAP_DMA_SG | DRM_LPU_CAP_FENCE | \
		    DRM_LPU_CAP_EXEC | DRM_LPU_CAP_TIMELINE | \
		    DRM_LPU_CAP_USERPTR)

static int query_raw(int fd, void *info, uint32_t size, uint32_t flags,
		     uint32_t *size_out)
{
	struct drm_lpu_query q = {
		.info = (uintptr_t)info,
		.size = size,
		.flags = flags,
	};
	int r = lpu_ioctl(fd, DRM_IOCTL_LPU_QUERY, &q);

	if (size_out)
		*size_out = q.size;
	return r;
}

/* Every field has a sane value; the full struct is written. */
LPU_CASE(query_ok)
{
	struct drm_lpu_device_info info;
	uint32_t size_out;
	int fd = lpu_must_open();

	memset(&info, 0xa5, sizeof(info));
	CHECK_OK(query_raw(fd, &info, sizeof(info), 0, &size_out));
	CHECK_EQ(size_out, sizeof(info));
	CHECK_EQ(info.struct_size, sizeof(info));
	CHECK_EQ(info.hw_version, (LPU_HW_VERSION_MAJOR << 16) |
				  LPU_HW_VERSION_MINOR);
	CHECK(info.caps & DRM_LPU_CAP_DMA_SG);
	CHECK_EQ(info.caps & ~KNOWN_CAPS, 0);
	CHECK(info.sram_size > 0);
	CHECK(info.sram_free <= info.sram_size);
	CHECK(info.queue_count >= 1);
	CHECK(info.queue_count <= LPU_MAX_QUEUES);
	CHECK(info.clock_mhz > 0);
	CHECK_EQ(info.pci_vendor, LPU_PCI_VENDOR_ID);
	CHECK_EQ(info.pci_device, LPU_PCI_DEVICE_ID);
	CHECK_EQ(info.pci_revision, LPU_PCI_REVISION);
	CHECK_EQ(info.pad[0], 0);
	CHECK_EQ(info.pad[1], 0);
	CHECK_EQ(info.pad[2], 0);
	CHECK(info.max_bo_size >= (uint64_t)getpagesize());
	CHECK_EQ(info.max_cmds, DRM_LPU_MAX_CMDS);
	CHECK(info.sram_align >= 1);
	CHECK_EQ(info.sram_align & (info.sram_align - 1), 0);
	CHECK_EQ(info.sram_size % info.sram_align, 0);
	lpu_info("hw %u.%u caps 0x%llx sram %llu (free %llu, align %u) "
		 "queues %u clock %u MHz max_bo %llu",
		 info.hw_version >> 16, info.hw_version & 0xffff,
		 (unsigned long long)info.caps,
		 (unsigned long long)info.sram_size,
		 (unsigned long long)info.sram_free, info.sram_align,
		 info.queue_count, info.clock_mhz,
		 (unsigned long long)info.max_bo_size);
	close(fd);
	return LPU_PASS;
}

/* A short size gets the prefix only; @size out says how much. */
LPU_CASE(query_short)
{
	static const uint32_t sizes[] = { 8, 12, 20 };
	struct drm_lpu_device_info full;
	unsigned char buf[sizeof(full)];
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_query(fd, &full);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t size_out = 0;

		memset(buf, 0xa5, sizeof(buf));
		CHECK_OK(query_raw(fd, buf, sizes[i], 0, &size_out));
		CHECK_EQ(size_out, sizes[i]);
		/* The prefix matches a full query (no field in it changes). */
		CHECK(!memcmp(buf, &full, 8));
		if (sizes[i] > 8 &&
		    !lpu_same(buf + 8, (unsigned char *)&full + 8,
			      sizes[i] - 8, "prefix"))
			FAIL("size %u: prefix differs from a full query",
			     sizes[i]);
		if (!lpu_all_bytes(buf + sizes[i], sizeof(buf) - sizes[i],
				   0xa5, "bytes past size"))
			FAIL("size %u: the kernel wrote past size", sizes[i]);
	}
	close(fd);
	return LPU_PASS;
}

/* A larger buffer than the kernel's struct gets struct_size bytes. */
LPU_CASE(query_large)
{
	unsigned char buf[256];
	struct drm_lpu_device_info info;
	uint32_t size_out = 0;
	int fd = lpu_must_open();

	memset(buf, 0xa5, sizeof(buf));
	CHECK_OK(query_raw(fd, buf, sizeof(buf), 0, &size_out));
	memcpy(&info, buf, sizeof(info));
	CHECK_EQ(info.struct_size, sizeof(info));
	CHECK_EQ(size_out, info.struct_size);
	if (!lpu_all_bytes(buf + size_out, sizeof(buf) - size_out, 0xa5,
			   "bytes past struct_size"))
		FAIL("the kernel wrote past its struct_size");
	close(fd);
	return LPU_PASS;
}

LPU_CASE(query_einval_size)
{
	static const uint32_t sizes[] = { 0, 1, 4, 7 };
	struct drm_lpu_device_info info;
	unsigned int i;
	int fd = lpu_must_open();

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		CHECK_ERRNO(query_raw(fd, &info, sizes[i], 0, NULL), EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(query_einval_flags)
{
	static const uint32_t flags[] = { 1, 0x80000000u, ~0u };
	struct drm_lpu_device_info info;
	unsigned int i;
	int fd = lpu_must_open();

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		CHECK_ERRNO(query_raw(fd, &info, sizeof(info), flags[i], NULL),
			    EINVAL);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(query_efault)
{
	long page = getpagesize();
	void *gone, *ro;
	int fd = lpu_must_open();

	/* An unmapped page. */
	gone = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(gone != MAP_FAILED);
	CHECK_OK(munmap(gone, page));
	CHECK_ERRNO(query_raw(fd, gone, sizeof(struct drm_lpu_device_info), 0,
			      NULL), EFAULT);

	/* A read-only page: the kernel must write there. */
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_ERRNO(query_raw(fd, ro, sizeof(struct drm_lpu_device_info), 0,
			      NULL), EFAULT);
	munmap(ro, page);

	/* A buffer that runs into an unmapped page. */
	ro = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED);
	CHECK_OK(munmap((char *)ro + page, page));
	CHECK_ERRNO(query_raw(fd, (char *)ro + page - 8,
			      sizeof(struct drm_lpu_device_info), 0, NULL),
		    EFAULT);
	munmap(ro, page);
	close(fd);
	return LPU_PASS;
}
