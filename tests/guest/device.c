// SPDX-License-Identifier: MIT
/*
 * The device going away and coming back under a running program: driver
 * unbind with jobs in flight, and a PCI function reset.
 *
 * These tests unbind or reset the card through sysfs, so they need root
 * and no other user of the card.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_test.h"

#define IN_FLIGHT	4

/* The PCI address of the card and the sysfs directory of its driver. */
static void find_card(char *bdf, size_t bdf_len, char *drv, size_t drv_len)
{
	char link[2 * PATH_MAX], target[PATH_MAX];
	const char *name;
	ssize_t n;
	int r = lpu_pci_bdf(NULL, bdf, bdf_len);

	if (r)
		FAIL("no PCI device behind %s: %s", lpu_dev_path(),
		     strerror(-r));
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		FAIL("readlink %s: %s", link, strerror(errno));
	target[n] = '\0';
	name = strrchr(target, '/');
	if (snprintf(drv, drv_len, "/sys/bus/pci/drivers/%s",
		     name ? name + 1 : target) >= (int)drv_len)
		FAIL("driver path too long");
}

/*
 * Child of unbind_inflight: keep IN_FLIGHT large DMA jobs queued until
 * the device goes away. Tells the parent through @ready once the first job
 * completed. Exit 0 when it saw the device go (ENODEV, or fences failed
 * and then ENODEV), 1 on a hang or an unexpected error.
 */
static void __attribute__((noreturn)) stream_jobs(int ready)
{
	struct drm_lpu_device_info info;
	struct drm_lpu_sync out[IN_FLIGHT];
	struct lpu_bo bo;
	struct lpu_sram s;
	uint64_t size, deadline;
	unsigned int i, done = 0, failed = 0;
	int fd = lpu_must_open();
	int r = 0;

	lpu_must_query(fd, &info);
	size = 16 * LPU_MiB;
	if (size > info.sram_free / 2)
		size = info.sram_free / 2 / info.sram_align * info.sram_align;
	if (size > info.max_bo_size)
		size = info.max_bo_size;
	lpu_must_bo_new(fd, size, false, &bo);
	lpu_must_sram_alloc(fd, size, &s);
	memset(out, 0, sizeof(out));
	for (i = 0; i < IN_FLIGHT; i++)
		out[i].handle = lpu_must_syncobj(fd, false);

	deadline = lpu_deadline_ns(40ULL * 1000000000ULL);
	for (i = 0; lpu_now_ns() < deadline; i++) {
		struct drm_lpu_sync *o = &out[i % IN_FLIGHT];
		struct drm_lpu_cmd cmd;
		int status;

		/* Reuse a syncobj only once its last job is done. */
		if (i >= IN_FLIGHT) {
			r = lpu_syncobj_wait(fd, o->handle, LPU_JOB_TIMEOUT_NS);
			if (r)
				break;
			r = lpu_syncobj_fence_status(fd, o->handle, &status);
			if (r)
				break;
			if (status < 0) {
				if (status != -ECANCELED && status != -EIO &&
				    status != -ENODEV) {
					fprintf(stderr, "%s: child: a fence failed with %s\n",
						lpu_test_name,
						lpu_errno_name(-status));
					_exit(LPU_FAIL);
				}
				failed++;
			} else {
				done++;
			}
			if (done == 1 && failed == 0 && ready >= 0) {
				if (write(ready, "r", 1) != 1)
					_exit(LPU_FAIL);
				close(ready);
				ready = -1;
			}
		}
		lpu_cmd_dma(&cmd, i & 1 ? DRM_LPU_CMD_DMA_FROM_SRAM :
			    DRM_LPU_CMD_DMA_TO_SRAM, bo.handle, 0, s.handle, 0,
			    size);
		r = lpu_submit(fd, i % info.queue_count, &cmd, 1, NULL, 0, o, 1,
			       NULL);
		if (r)
			break;
	}
	if (!r) {
		fprintf(stderr, "%s: child: no error after 40 s of jobs\n",
			lpu_test_name);
		_exit(LPU_FAIL);
	}
	fprintf(stderr, "%s: child: %u jobs done, %u failed, then %s\n",
		lpu_test_name, done, failed, lpu_errno_name(-r));
	if (r == -ETIME || r == -ETIMEDOUT) {
		fprintf(stderr, "%s: child: a job's fence never signalled\n",
			lpu_test_name);
		_exit(LPU_FAIL);
	}
	_exit(r == -ENODEV ? LPU_PASS : LPU_FAIL);
}

/* Wait up to @ms for @pid; SIGKILL it and fail if it does not exit. */
static int wait_child(pid_t pid, unsigned int ms)
{
	uint64_t end = lpu_deadline_ns(ms * 1000000ULL);
	int status;

	for (;;) {
		pid_t p = waitpid(pid, &status, WNOHANG);

		if (p == pid)
			return status;
		if (p < 0)
			FAIL("waitpid: %s", strerror(errno));
		if (lpu_now_ns() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
}

/*
 * Unbind the driver while a child streams DMA jobs: the child sees errors
 * and exits instead of hanging; after a bind the card works again.
 */
LPU_CASE(unbind_inflight)
{
	char bdf[PATH_MAX], drv[PATH_MAX], file[2 * PATH_MAX], node[PATH_MAX];
	int pipefd[2], status, r;
	bool child_ok;
	uint64_t t0;
	pid_t pid;
	char c;

	find_card(bdf, sizeof(bdf), drv, sizeof(drv));
	CHECK_OK(pipe(pipefd));
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		stream_jobs(pipefd[1]);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1) {
		status = wait_child(pid, 1000);
		FAIL("the child stopped before its first job completed (status 0x%x)",
		     status);
	}
	close(pipefd[0]);
	/* Let the queues fill up. */
	usleep(200000);

	snprintf(file, sizeof(file), "%s/unbind", drv);
	t0 = lpu_now_ns();
	r = lpu_sysfs_write(file, bdf);
	if (r) {
		wait_child(pid, 1000);
		FAIL("writing %s to %s: %s", bdf, file, strerror(-r));
	}
	lpu_info("unbind took %llu ms",
		 (unsigned long long)((lpu_now_ns() - t0) / 1000000));

	status = wait_child(pid, 30000);
	child_ok = status >= 0 && WIFEXITED(status) &&
		   WEXITSTATUS(status) == LPU_PASS;

	/* Bind again in any case, so that later tests have a card. */
	snprintf(file, sizeof(file), "%s/bind", drv);
	r = lpu_sysfs_write(file, bdf);
	if (r)
		FAIL("writing %s to %s: %s", bdf, file, strerror(-r));
	if (status < 0)
		FAIL("the child did not exit within 30 s of the unbind (hang)");
	if (!child_ok)
		FAIL("the child failed (status 0x%x)", status);

	r = lpu_node_of_bdf(bdf, node, sizeof(node), 5000);
	if (r)
		FAIL("no accel node for %s after bind: %s", bdf, strerror(-r));
	lpu_info("card is back as %s", node);
	r = lpu_open(node);
	if (r < 0)
		FAIL("open %s after bind: %s", node, strerror(-r));
	lpu_must_round_trip(r, LPU_MiB, 51);
	close(r);
	return LPU_PASS;
}

/* The reset file of the card's PCI function; skips the test without one. */
static void find_reset(char *file, size_t len)
{
	char bdf[PATH_MAX], drv[PATH_MAX];

	find_card(bdf, sizeof(bdf), drv, sizeof(drv));
	if (snprintf(file, len, "/sys/bus/pci/devices/%s/reset", bdf) >=
	    (int)len)
		FAIL("reset path too long");
	if (access(file, W_OK))
		SKIP("%s: %s", file, strerror(errno));
}

/*
 * Reset the idle card through sysfs (function-level reset); then a file
 * opened after the reset works.
 */
LPU_CASE(pci_reset)
{
	char file[2 * PATH_MAX];
	int fd, r;

	find_reset(file, sizeof(file));
	fd = lpu_must_open();
	lpu_must_round_trip(fd, LPU_MiB, 61);
	close(fd);

	r = lpu_sysfs_write(file, "1");
	if (r)
		FAIL("writing 1 to %s: %s", file, strerror(-r));
	fd = lpu_must_open();
	lpu_must_round_trip(fd, LPU_MiB, 62);
	close(fd);
	return LPU_PASS;
}

/*
 * A file that is open (holding no SRAM, no job queued) across a reset of
 * the card keeps working afterwards.
 */
LPU_CASE(pci_reset_open_file)
{
	char file[2 * PATH_MAX];
	int fd, r;

	find_reset(file, sizeof(file));
	fd = lpu_must_open();
	lpu_must_round_trip(fd, LPU_MiB, 63);
	r = lpu_sysfs_write(file, "1");
	if (r)
		FAIL("writing 1 to %s: %s", file, strerror(-r));
	lpu_must_round_trip(fd, LPU_MiB, 64);
	close(fd);
	return LPU_PASS;
}
