// SPDX-License-Identifier: MIT
/*
 * A file that goes away with jobs still queued: close() and process exit.
 * The jobs finish or are cancelled, every resource comes back, and the
 * device keeps working.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_test.h"

#define JOBS		16
#define JOB_SIZE	(16 * LPU_MiB)

/*
 * On a new file, queue JOBS large DMA jobs over all queues, each with an
 * out-syncobj, and return the file without waiting.
 */
static int queue_big_jobs(void)
{
	struct drm_lpu_device_info info;
	struct lpu_bo bo;
	struct lpu_sram s;
	uint64_t size;
	unsigned int i;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	size = JOB_SIZE;
	if (size > info.sram_free / 2)
		size = info.sram_free / 2 / info.sram_align * info.sram_align;
	if (size > info.max_bo_size)
		size = info.max_bo_size;
	CHECK(size > 0);
	/* Not mapped: the device copies zeros, no CPU time spent here. */
	lpu_must_bo_new(fd, size, false, &bo);
	lpu_must_sram_alloc(fd, size, &s);
	for (i = 0; i < JOBS; i++) {
		struct drm_lpu_cmd cmds[2];
		struct drm_lpu_sync out = {
			.handle = lpu_must_syncobj(fd, false),
		};

		lpu_cmd_dma(&cmds[0], DRM_LPU_CMD_DMA_TO_SRAM, bo.handle, 0,
			    s.handle, 0, size);
		lpu_cmd_dma(&cmds[1], DRM_LPU_CMD_DMA_FROM_SRAM, bo.handle, 0,
			    s.handle, 0, size);
		CHECK_OK(lpu_submit(fd, i % info.queue_count, cmds, 2, NULL, 0,
				    &out, 1, NULL));
	}
	return fd;
}

/*
 * On a new file: all SRAM comes back within 10 s (the jobs finish or are
 * cancelled), and a round trip works.
 */
static void check_recovered(void)
{
	struct drm_lpu_device_info info;
	uint64_t free_now;
	int fd = lpu_must_open();

	lpu_must_query(fd, &info);
	free_now = lpu_wait_sram_free(fd, info.sram_size, 10000);
	if (free_now != info.sram_size)
		FAIL("sram_free is %llu of %llu bytes 10 s after the file went away",
		     (unsigned long long)free_now,
		     (unsigned long long)info.sram_size);
	lpu_must_round_trip(fd, LPU_MiB, 41);
	close(fd);
}

/* close() right after queueing a lot of work. */
LPU_CASE(close_pending)
{
	int fd = queue_big_jobs();

	CHECK_OK(close(fd));
	check_recovered();
	return LPU_PASS;
}

/* A child queues a lot of work and exits without closing its file. */
LPU_CASE(exit_pending)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		queue_big_jobs();
		_exit(LPU_PASS);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != LPU_PASS)
		FAIL("the child failed (status 0x%x)", status);
	check_recovered();
	return LPU_PASS;
}

/*
 * close() while another file of the same process has work queued: the
 * other file is not disturbed.
 */
LPU_CASE(close_pending_other_file)
{
	int busy = queue_big_jobs();
	int fd = lpu_must_open();

	lpu_must_round_trip(fd, LPU_MiB, 42);
	CHECK_OK(close(busy));
	lpu_must_round_trip(fd, LPU_MiB, 43);
	close(fd);
	check_recovered();
	return LPU_PASS;
}
