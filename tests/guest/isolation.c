// SPDX-License-Identifier: MIT
/*
 * Objects belong to the open file that made them: handles of one file do
 * not resolve in another, and SRAM data does not leak to a new owner.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_test.h"

#define SIZE	(256 * LPU_KiB)

/* Objects of the first file, with data in its buffer and SRAM. */
struct owner {
	int fd;
	struct lpu_bo bo;
	struct lpu_sram sram;
	uint32_t syncobj;
};

static void owner_init(struct owner *o)
{
	struct drm_lpu_cmd cmd;

	o->fd = lpu_must_open();
	lpu_must_bo_new(o->fd, SIZE, true, &o->bo);
	lpu_must_sram_alloc(o->fd, SIZE, &o->sram);
	o->syncobj = lpu_must_syncobj(o->fd, true);
	lpu_fill_random(o->bo.map, SIZE, 31);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_TO_SRAM, o->bo.handle, 0,
		    o->sram.handle, 0, SIZE);
	CHECK_OK(lpu_submit_wait(o->fd, 0, &cmd, 1));
}

/* The owner's SRAM still holds its data. */
static void owner_check(struct owner *o)
{
	struct lpu_bo back;
	struct drm_lpu_cmd cmd;

	lpu_must_bo_new(o->fd, SIZE, true, &back);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_FROM_SRAM, back.handle, 0,
		    o->sram.handle, 0, SIZE);
	CHECK_OK(lpu_submit_wait(o->fd, 0, &cmd, 1));
	if (!lpu_same(back.map, o->bo.map, SIZE, "owner's SRAM"))
		FAIL("the owner's SRAM data changed");
	lpu_must_bo_del(o->fd, &back);
}

/*
 * In @fd, which holds no objects yet, the owner's handles do not resolve.
 */
static void check_foreign_handles(int fd, const struct owner *o)
{
	struct drm_lpu_cmd cmd;
	struct drm_lpu_sync sync = { .handle = o->syncobj };
	struct lpu_bo own;

	CHECK_ERRNO(lpu_bo_mmap_offset(fd, o->bo.handle, NULL), ENOENT);
	CHECK_ERRNO(lpu_sram_free(fd, o->sram.handle), ENOENT);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_FROM_SRAM, o->bo.handle, 0,
		    o->sram.handle, 0, SIZE);
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    ENOENT);
	lpu_cmd_nop(&cmd);
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, &sync, 1, NULL, 0, NULL),
		    ENOENT);
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, &sync, 1, NULL),
		    ENOENT);

	/* With a buffer of its own, the owner's SRAM handle still fails. */
	lpu_must_bo_new(fd, SIZE, true, &own);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_FROM_SRAM, own.handle, 0,
		    o->sram.handle, 0, SIZE);
	CHECK_ERRNO(lpu_submit(fd, 0, &cmd, 1, NULL, 0, NULL, 0, NULL),
		    ENOENT);
	/* Its own buffer is a different object, even at the same number. */
	if (own.handle == o->bo.handle)
		lpu_info("note: both files have buffer handle %u", own.handle);
	if (!lpu_all_bytes(own.map, SIZE, 0, "own buffer"))
		FAIL("a new buffer of the second file shows the owner's data");
	lpu_fill_byte(own.map, SIZE, 0x5a);
	lpu_must_bo_del(fd, &own);
}

/* A fresh SRAM allocation of @fd reads zero. */
static void check_fresh_sram_zero(int fd, uint64_t size)
{
	struct lpu_bo bo;
	struct lpu_sram s;
	struct drm_lpu_cmd cmd;

	lpu_must_bo_new(fd, size, true, &bo);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_byte(bo.map, size, 0xa5);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_FROM_SRAM, bo.handle, 0, s.handle, 0,
		    size);
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));
	if (!lpu_all_bytes(bo.map, size, 0, "new owner's SRAM"))
		FAIL("a new SRAM allocation shows another file's data");
	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &bo);
}

/* Write random data to a new SRAM range of @fd and free it again. */
static void dirty_and_free_sram(int fd, uint64_t size)
{
	struct lpu_bo bo;
	struct lpu_sram s;
	struct drm_lpu_cmd cmd;

	lpu_must_bo_new(fd, size, true, &bo);
	lpu_must_sram_alloc(fd, size, &s);
	lpu_fill_random(bo.map, size, 32);
	lpu_cmd_dma(&cmd, DRM_LPU_CMD_DMA_TO_SRAM, bo.handle, 0, s.handle, 0,
		    size);
	CHECK_OK(lpu_submit_wait(fd, 0, &cmd, 1));
	lpu_must_sram_free(fd, &s);
	lpu_must_bo_del(fd, &bo);
}

/*
 * A child process opens its own file: the parent's handle numbers do not
 * resolve there, and SRAM the parent filled and freed reads zero.
 */
LPU_CASE(isolation_fork)
{
	struct owner o;
	pid_t pid;
	int status;

	owner_init(&o);
	dirty_and_free_sram(o.fd, SIZE);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int fd;

		/* The inherited fd is the parent's file: drop it. */
		close(o.fd);
		fd = lpu_must_open();
		check_foreign_handles(fd, &o);
		check_fresh_sram_zero(fd, SIZE);
		close(fd);
		exit(LPU_PASS);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != LPU_PASS)
		FAIL("the child failed (status 0x%x)", status);
	owner_check(&o);
	close(o.fd);
	return LPU_PASS;
}

/*
 * Two files of one process: handles of the first are unknown in the
 * second; closing the second leaves the first working.
 */
LPU_CASE(isolation_two_fds)
{
	struct owner o;
	int fd2;

	owner_init(&o);
	fd2 = lpu_must_open();
	check_foreign_handles(fd2, &o);
	/* The owner's buffer was not touched by the second file's writes. */
	owner_check(&o);
	dirty_and_free_sram(o.fd, SIZE);
	check_fresh_sram_zero(fd2, SIZE);
	close(fd2);
	owner_check(&o);
	lpu_must_round_trip(o.fd, SIZE, 33);
	close(o.fd);
	return LPU_PASS;
}
