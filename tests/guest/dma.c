// SPDX-License-Identifier: MIT
/*
 * DMA round trips of random data, host -> SRAM -> host into a second
 * buffer, checked bit for bit, and the exact bounds of a range.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <unistd.h>

#include "lpu_test.h"

/*
 * Copy @size bytes from @src at @src_off to SRAM at @sram_off (one job),
 * then from SRAM to @dst at @dst_off (a second job), @pieces commands per
 * job. @dst is pre-filled with 0xa5; afterwards the range must equal the
 * source and everything around it must still be 0xa5.
 */
static void round_trip(int fd, struct lpu_bo *src, uint64_t src_off,
		       struct lpu_sram *sram, uint64_t sram_off,
		       struct lpu_bo *dst, uint64_t dst_off, uint64_t size,
		       unsigned int pieces)
{
	struct drm_lpu_cmd cmds[DRM_LPU_MAX_CMDS];
	uint64_t piece = (size + pieces - 1) / pieces, off;
	unsigned int n;
	unsigned char *d = dst->map;

	CHECK(pieces >= 1 && pieces <= DRM_LPU_MAX_CMDS);
	lpu_fill_byte(dst->map, dst->size, 0xa5);
	for (n = 0, off = 0; off < size; off += piece, n++)
		lpu_cmd_dma(&cmds[n], DRM_LPU_CMD_DMA_TO_SRAM, src->handle,
			    src_off + off, sram->handle, sram_off + off,
			    size - off < piece ? size - off : piece);
	CHECK_OK(lpu_submit_wait(fd, 0, cmds, n));
	for (n = 0, off = 0; off < size; off += piece, n++)
		lpu_cmd_dma(&cmds[n], DRM_LPU_CMD_DMA_FROM_SRAM, dst->handle,
			    dst_off + off, sram->handle, sram_off + off,
			    size - off < piece ? size - off : piece);
	CHECK_OK(lpu_submit_wait(fd, 0, cmds, n));

	if (!lpu_same(d + dst_off, (unsigned char *)src->map + src_off, size,
		      "copied range"))
		FAIL("round trip of %llu bytes (offsets %llu -> %llu -> %llu) differs",
		     (unsigned long long)size, (unsigned long long)src_off,
		     (unsigned long long)sram_off,
		     (unsigned long long)dst_off);
	if (!lpu_all_bytes(d, dst_off, 0xa5, "bytes before the range") ||
	    !lpu_all_bytes(d + dst_off + size, dst->size - dst_off - size,
			   0xa5, "bytes after the range"))
		FAIL("the DMA wrote outside its range of the destination");
}

/* Simple round trip of @size bytes at offset 0, @pieces commands a way. */
static int simple(uint64_t size, unsigned int pieces, uint64_t seed)
{
	struct drm_lpu_device_info info;
	struct lpu_bo src, dst;
	struct lpu_sram s;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	if (info.sram_free < size || info.max_bo_size < size)
		SKIP("needs %llu bytes of SRAM and buffer (free SRAM %llu, max buffer %llu)",
		     (unsigned long long)size,
		     (unsigned long long)info.sram_free,
		     (unsigned long long)info.max_bo_size);
	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(src.map, src.size, seed);
	round_trip(fd, &src, 0, &s, 0, &dst, 0, size, pieces);
	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

LPU_CASE(dma_1b)
{
	return simple(1, 1, 21);
}

LPU_CASE(dma_4k)
{
	return simple(4096, 1, 22);
}

LPU_CASE(dma_64m)
{
	return simple(64 * LPU_MiB, 1, 23);
}

/* 64 MiB as 64 commands of 1 MiB in one job each way. */
LPU_CASE(dma_64m_split)
{
	return simple(64 * LPU_MiB, 64, 24);
}

/*
 * Odd offsets and size, crossing page boundaries on both sides: buffer
 * offset 4093, SRAM offset 7, 10001 bytes, back to buffer offset 8190.
 */
LPU_CASE(dma_unaligned)
{
	const uint64_t size = 10001;
	struct lpu_bo src, dst, whole;
	struct lpu_sram s;
	struct drm_lpu_cmd cmd;
	unsigned char *w;
	int fd = lpu_must_open();

	lpu_must_bo_new(fd, 6 * 4096, true, &src);
	lpu_must_bo_new(fd, 6 * 4096, true, &dst);
	lpu_must_sram_alloc(fd, 7 + size + 4096, &s);
	lpu_must_bo_new(fd, s.size, true, &whole);
	lpu_fill_random(src.map, src.size, 25);
	round_trip(fd, &src, 4093, &s, 7, &dst, 8190, size, 1);

	/* In SRAM, only [7, 7 + size) was written; the rest is still zero. */
	lpu_fill_byte(whole.map, whole.size, 0xa5);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_FROM_SRAM, whole.handle, 0,
		    s.handle, 0, s.size);
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));
	w = whole.map;
	if (!lpu_all_bytes(w, 7, 0, "SRAM before the range") ||
	    !lpu_all_bytes(w + 7 + size, s.size - 7 - size, 0,
			   "SRAM after the range"))
		FAIL("the DMA to SRAM wrote outside its range");
	if (!lpu_same(w + 7, (unsigned char *)src.map + 4093, size,
		      "SRAM range"))
		FAIL("SRAM does not hold the copied range");

	/* Every alignment of a short copy, 1..67 bytes at offsets 0..63. */
	{
		unsigned int off, len;

		for (off = 0; off < 64; off += 7)
			for (len = 1; len < 68; len += 11)
				round_trip(fd, &src, 4096 - off, &s, off, &dst,
					   4096 + 63 - off, len, 1);
	}

	lpu_must_bo_del(fd, &whole);
	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	close(fd);
	return LPU_PASS;
}

/* A DMA that ends exactly at the end of the SRAM allocation and buffer. */
LPU_CASE(dma_sram_end)
{
	struct lpu_bo src, dst;
	struct lpu_sram s;
	uint64_t size = 1000;
	int fd = lpu_must_open();

	lpu_must_sram_alloc(fd, 3 * 4096 + 5, &s);
	lpu_must_bo_new(fd, s.size, true, &src);
	lpu_must_bo_new(fd, s.size, true, &dst);
	lpu_fill_random(src.map, src.size, 26);
	/* Buffer end and SRAM end, both ways. */
	round_trip(fd, &src, src.size - size, &s, s.size - size, &dst,
		   dst.size - size, size, 1);
	/* The whole allocation. */
	round_trip(fd, &src, 0, &s, 0, &dst, 0, s.size, 1);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/* One byte past the end of the SRAM allocation: ERANGE, both ways. */
LPU_CASE(dma_sram_end_erange)
{
	struct lpu_bo bo;
	struct lpu_sram s;
	struct drm_lpu_cmd cmd;
	const uint64_t size = 1000;
	int fd = lpu_must_open();

	lpu_must_sram_alloc(fd, 3 * 4096 + 5, &s);
	lpu_must_bo_new(fd, s.size + 4096, false, &bo);

	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_TO_SRAM, bo.handle, 0, s.handle,
		    s.size - size + 1, size);
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    ERANGE);
	cmd.op = DRM_LPU_CMD_DMA_FROM_SRAM;
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    ERANGE);
	/* The whole allocation plus one byte. */
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_TO_SRAM, bo.handle, 0, s.handle, 0,
		    s.size + 1);
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    ERANGE);
	/* Exactly the whole allocation is fine. */
	cmd.dma.size = s.size;
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));

	lpu_must_bo_del(fd, &bo);
	lpu_must_sram_free(fd, &s);
	close(fd);
	return LPU_PASS;
}

/* One byte past the end of the buffer: ERANGE, both ways. */
LPU_CASE(dma_bo_end_erange)
{
	struct lpu_bo bo;
	struct lpu_sram s;
	struct drm_lpu_cmd cmd;
	const uint64_t size = 1000;
	int fd = lpu_must_open();

	lpu_must_bo_new(fd, 3 * 4096, false, &bo);
	lpu_must_sram_alloc(fd, bo.size + 4096, &s);

	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_TO_SRAM, bo.handle,
		    bo.size - size + 1, s.handle, 0, size);
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    ERANGE);
	cmd.op = DRM_LPU_CMD_DMA_FROM_SRAM;
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    ERANGE);
	cmd.dma.bo_offset = bo.size - size;
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));

	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &bo);
	close(fd);
	return LPU_PASS;
}
