// SPDX-License-Identifier: MIT
/*
 * Shared helpers of the lpu guest tests; see lpu_test.h.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>

#include "lpu_test.h"

const char *lpu_test_name = "lpu_test";

/* ---- Results and checks ------------------------------------------------ */

static void lpu_alarm(int sig)
{
	static const char msg[] = ": FAIL: test timed out (alarm)\n";

	(void)sig;
	/* Only async-signal-safe calls here. */
	if (write(STDERR_FILENO, lpu_test_name, strlen(lpu_test_name)) < 0 ||
	    write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(LPU_FAIL);
	_exit(LPU_FAIL);
}

void lpu_test_init(const char *name)
{
	/* The runner's per-test limit in seconds (tests/guest/init.sh). */
	const char *t = getenv("LPU_TEST_TIMEOUT");
	unsigned int secs = t ? (unsigned int)strtoul(t, NULL, 0) : 60;

	lpu_test_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	/*
	 * The runner kills a test at its limit; failing 5 s earlier says
	 * that the test timed out and which one. A task blocked in the kernel
	 * does not see the signal; the runner's timeout covers that. 0 turns
	 * the alarm off.
	 */
	if (secs > 10)
		secs -= 5;
	if (secs) {
		signal(SIGALRM, lpu_alarm);
		alarm(secs);
	}
}

const char *lpu_errno_name(int err)
{
	switch (err) {
	case 0: return "success";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ETIME: return "ETIME";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECANCELED: return "ECANCELED";
	default: return "E?";
	}
}

void lpu_fail_at(const char *file, int line, const char *fmt, ...)
{
	const char *slash = strrchr(file, '/');
	va_list ap;

	file = slash ? slash + 1 : file;
	fflush(stdout);
	fprintf(stderr, "%s: FAIL: %s:%d: ", lpu_test_name, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(LPU_FAIL);
}

void lpu_skip(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: SKIP: ", lpu_test_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(LPU_SKIP);
}

void lpu_info(const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", lpu_test_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void lpu_check_errno_at(const char *file, int line, const char *call,
			long ret, int got_errno, int want, const char *want_name)
{
	if (ret >= 0)
		lpu_fail_at(file, line,
			    "%s: expected %s (%s), got success (%ld)",
			    call, want_name, strerror(want), ret);
	if (got_errno != want)
		lpu_fail_at(file, line, "%s: expected %s (%s), got %s (%s)",
			    call, want_name, strerror(want),
			    lpu_errno_name(got_errno), strerror(got_errno));
}

void lpu_check_ok_at(const char *file, int line, const char *call,
		     long ret, int got_errno)
{
	if (ret < 0)
		lpu_fail_at(file, line, "%s: expected success, got %s (%s)",
			    call, lpu_errno_name(got_errno),
			    strerror(got_errno));
}

/* ---- Device ------------------------------------------------------------ */

const char *lpu_dev_path(void)
{
	const char *p = getenv("LPU_DEVICE");

	return p && *p ? p : "/dev/accel/accel0";
}

int lpu_open(const char *path)
{
	int fd = open(path ? path : lpu_dev_path(), O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int lpu_must_open(void)
{
	int fd = lpu_open(NULL);

	if (fd < 0)
		FAIL("open %s: %s", lpu_dev_path(), strerror(-fd));
	return fd;
}

int lpu_ioctl(int fd, unsigned long request, void *arg)
{
	return drmIoctl(fd, request, arg) ? -errno : 0;
}

int lpu_query(int fd, struct drm_lpu_device_info *info)
{
	struct drm_lpu_query q = {
		.info = (uintptr_t)info,
		.size = sizeof(*info),
	};

	memset(info, 0, sizeof(*info));
	return lpu_ioctl(fd, DRM_IOCTL_LPU_QUERY, &q);
}

void lpu_must_query(int fd, struct drm_lpu_device_info *info)
{
	int r = lpu_query(fd, info);

	if (r)
		FAIL("DRM_IOCTL_LPU_QUERY: %s", strerror(-r));
}

/* ---- Buffers ----------------------------------------------------------- */

int lpu_bo_create(int fd, uint64_t size, uint32_t *handle, uint64_t *size_out)
{
	struct drm_lpu_bo_create c = { .size = size };
	int r = lpu_ioctl(fd, DRM_IOCTL_LPU_BO_CREATE, &c);

	if (r)
		return r;
	if (handle)
		*handle = c.handle;
	if (size_out)
		*size_out = c.size;
	return 0;
}

int lpu_bo_mmap_offset(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_lpu_bo_mmap_offset m = { .handle = handle };
	int r = lpu_ioctl(fd, DRM_IOCTL_LPU_BO_MMAP_OFFSET, &m);

	if (!r && offset)
		*offset = m.offset;
	return r;
}

int lpu_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return lpu_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

void *lpu_bo_map(int fd, uint32_t handle, uint64_t size)
{
	uint64_t offset;
	void *p;
	int r = lpu_bo_mmap_offset(fd, handle, &offset);

	if (r) {
		errno = -r;
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)offset);
	return p == MAP_FAILED ? NULL : p;
}

void lpu_must_bo_new(int fd, uint64_t size, bool map, struct lpu_bo *bo)
{
	int r = lpu_bo_create(fd, size, &bo->handle, &bo->size);

	if (r)
		FAIL("BO_CREATE of %llu bytes: %s", (unsigned long long)size,
		     strerror(-r));
	bo->map = NULL;
	if (map) {
		bo->map = lpu_bo_map(fd, bo->handle, bo->size);
		if (!bo->map)
			FAIL("mmap of a %llu-byte buffer: %s",
			     (unsigned long long)bo->size, strerror(errno));
	}
}

void lpu_must_bo_del(int fd, struct lpu_bo *bo)
{
	int r;

	if (bo->map && munmap(bo->map, bo->size))
		FAIL("munmap: %s", strerror(errno));
	bo->map = NULL;
	r = lpu_gem_close(fd, bo->handle);
	if (r)
		FAIL("GEM_CLOSE %u: %s", bo->handle, strerror(-r));
}

/* ---- SRAM -------------------------------------------------------------- */

int lpu_sram_alloc(int fd, uint64_t size, struct lpu_sram *out)
{
	struct drm_lpu_sram_alloc a = { .size = size };
	int r = lpu_ioctl(fd, DRM_IOCTL_LPU_SRAM_ALLOC, &a);

	if (!r && out) {
		out->handle = a.handle;
		out->size = a.size;
		out->addr = a.sram_addr;
	}
	return r;
}

int lpu_sram_free(int fd, uint32_t handle)
{
	struct drm_lpu_sram_free f = { .handle = handle };

	return lpu_ioctl(fd, DRM_IOCTL_LPU_SRAM_FREE, &f);
}

void lpu_must_sram_alloc(int fd, uint64_t size, struct lpu_sram *out)
{
	int r = lpu_sram_alloc(fd, size, out);

	if (r)
		FAIL("SRAM_ALLOC of %llu bytes: %s", (unsigned long long)size,
		     strerror(-r));
}

void lpu_must_sram_free(int fd, struct lpu_sram *sram)
{
	int r = lpu_sram_free(fd, sram->handle);

	if (r)
		FAIL("SRAM_FREE %u: %s", sram->handle, strerror(-r));
}

uint64_t lpu_wait_sram_free(int fd, uint64_t want, unsigned int timeout_ms)
{
	struct drm_lpu_device_info info;
	uint64_t end = lpu_deadline_ns(timeout_ms * 1000000ULL);

	for (;;) {
		lpu_must_query(fd, &info);
		if (info.sram_free >= want || lpu_now_ns() >= end)
			return info.sram_free;
		usleep(10000);
	}
}

/* ---- Commands and jobs ------------------------------------------------- */

void lpu_cmd_nop(struct drm_lpu_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = DRM_LPU_CMD_NOP;
}

void lpu_cmd_fence(struct drm_lpu_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = DRM_LPU_CMD_FENCE;
}

void lpu_cmd_dma(struct drm_lpu_cmd *cmd, uint32_t op, uint32_t bo_handle,
		 uint64_t bo_offset, uint32_t sram_handle, uint64_t sram_offset,
		 uint64_t size)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = op;
	cmd->dma.bo_handle = bo_handle;
	cmd->dma.sram_handle = sram_handle;
	cmd->dma.bo_offset = bo_offset;
	cmd->dma.sram_offset = sram_offset;
	cmd->dma.size = size;
}

int lpu_submit(int fd, uint32_t queue, const struct drm_lpu_cmd *cmds,
	       uint32_t cmd_count, const struct drm_lpu_sync *in,
	       uint32_t in_count, const struct drm_lpu_sync *out,
	       uint32_t out_count, uint64_t *job_id)
{
	struct drm_lpu_submit s = {
		.cmds = (uintptr_t)cmds,
		.in_syncs = (uintptr_t)in,
		.out_syncs = (uintptr_t)out,
		.cmd_count = cmd_count,
		.in_sync_count = in_count,
		.out_sync_count = out_count,
		.queue = queue,
	};
	int r = lpu_ioctl(fd, DRM_IOCTL_LPU_SUBMIT, &s);

	if (!r && job_id)
		*job_id = s.job_id;
	return r;
}

int lpu_submit_wait(int fd, uint32_t queue, const struct drm_lpu_cmd *cmds,
		    uint32_t cmd_count)
{
	struct drm_lpu_sync out = { 0 };
	int r;

	if (drmSyncobjCreate(fd, 0, &out.handle))
		return -errno;
	r = lpu_submit(fd, queue, cmds, cmd_count, NULL, 0, &out, 1, NULL);
	if (!r)
		r = lpu_syncobj_wait(fd, out.handle, LPU_JOB_TIMEOUT_NS);
	drmSyncobjDestroy(fd, out.handle);
	if (r)
		errno = -r;
	return r;
}

/* ---- Syncobjs and time ------------------------------------------------- */

uint64_t lpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t lpu_deadline_ns(uint64_t rel_ns)
{
	return lpu_now_ns() + rel_ns;
}

uint32_t lpu_must_syncobj(int fd, bool signalled)
{
	uint32_t h;

	if (drmSyncobjCreate(fd, signalled ? DRM_SYNCOBJ_CREATE_SIGNALED : 0,
			     &h))
		FAIL("drmSyncobjCreate: %s", strerror(errno));
	return h;
}

int lpu_syncobj_wait(int fd, uint32_t handle, uint64_t rel_ns)
{
	/*
	 * No WAIT_FOR_SUBMIT: a syncobj that should carry a job's fence but
	 * has none then fails at once with EINVAL instead of timing out.
	 */
	if (drmSyncobjWait(fd, &handle, 1, (int64_t)lpu_deadline_ns(rel_ns),
			   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL) < 0)
		return -errno;
	return 0;
}

int lpu_syncobj_wait_point(int fd, uint32_t handle, uint64_t point,
			   uint64_t rel_ns)
{
	if (drmSyncobjTimelineWait(fd, &handle, &point, 1,
				   (int64_t)lpu_deadline_ns(rel_ns),
				   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL) < 0)
		return -errno;
	return 0;
}

int lpu_syncobj_is_signalled(int fd, uint32_t handle)
{
	/* Deadline 0 is in the past: the wait only polls. */
	if (drmSyncobjWait(fd, &handle, 1, 0,
			   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL |
			   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL) == 0)
		return 1;
	if (errno == ETIME || errno == ETIMEDOUT)
		return 0;
	return -errno;
}

int lpu_syncobj_fence_status(int fd, uint32_t handle, int *status)
{
	struct sync_file_info info = { 0 };
	int sfd, r = 0;

	if (drmSyncobjExportSyncFile(fd, handle, &sfd))
		return -errno;
	if (ioctl(sfd, SYNC_IOC_FILE_INFO, &info))
		r = -errno;
	else
		*status = info.status;
	close(sfd);
	if (r)
		errno = -r;
	return r;
}

/* ---- Data -------------------------------------------------------------- */

void lpu_fill_random(void *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed ? seed : 0x9e3779b97f4a7c15ULL;
	unsigned char *p = buf;

	while (len) {
		uint64_t v;
		size_t n = len < 8 ? len : 8;

		/* xorshift64* (Marsaglia, Vigna) */
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		v = x * 0x2545f4914f6cdd1dULL;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

void lpu_fill_byte(void *buf, size_t len, uint8_t byte)
{
	memset(buf, byte, len);
}

bool lpu_same(const void *got, const void *want, size_t len, const char *what)
{
	const unsigned char *g = got, *w = want;
	size_t i, first = SIZE_MAX, diff = 0;

	if (!memcmp(got, want, len))
		return true;
	for (i = 0; i < len; i++) {
		if (g[i] != w[i]) {
			if (first == SIZE_MAX)
				first = i;
			diff++;
		}
	}
	fprintf(stderr,
		"%s: %s: %zu of %zu bytes differ, first at offset %zu: got 0x%02x, expected 0x%02x\n",
		lpu_test_name, what, diff, len, first, g[first], w[first]);
	return false;
}

bool lpu_all_bytes(const void *buf, size_t len, uint8_t byte, const char *what)
{
	const unsigned char *p = buf;
	size_t i, first = SIZE_MAX, diff = 0;

	for (i = 0; i < len; i++) {
		if (p[i] != byte) {
			if (first == SIZE_MAX)
				first = i;
			diff++;
		}
	}
	if (!diff)
		return true;
	fprintf(stderr,
		"%s: %s: %zu of %zu bytes are not 0x%02x, first at offset %zu: 0x%02x\n",
		lpu_test_name, what, diff, len, byte, first, p[first]);
	return false;
}

void lpu_must_round_trip(int fd, uint64_t size, uint64_t seed)
{
	struct lpu_bo src, dst;
	struct lpu_sram sram;
	struct drm_lpu_cmd cmds[2];
	int r;

	lpu_must_bo_new(fd, size, true, &src);
	lpu_must_bo_new(fd, size, true, &dst);
	lpu_must_sram_alloc(fd, size, &sram);
	lpu_fill_random(src.map, size, seed);
	lpu_fill_byte(dst.map, size, 0xa5);

	lpu_cmd_dma(&cmds[0], DRM_LPU_CMD_DMA_TO_SRAM, src.handle, 0,
		    sram.handle, 0, size);
	lpu_cmd_dma(&cmds[1], DRM_LPU_CMD_DMA_FROM_SRAM, dst.handle, 0,
		    sram.handle, 0, size);
	r = lpu_submit_wait(fd, 0, cmds, 2);
	if (r)
		FAIL("round trip of %llu bytes: %s", (unsigned long long)size,
		     strerror(-r));
	if (!lpu_same(dst.map, src.map, size, "round trip data"))
		FAIL("round trip of %llu bytes: data differ",
		     (unsigned long long)size);

	lpu_must_sram_free(fd, &sram);
	lpu_must_bo_del(fd, &dst);
	lpu_must_bo_del(fd, &src);
}

/* ---- sysfs ------------------------------------------------------------- */

int lpu_pci_bdf(const char *path, char *bdf, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *node, *slash;
	ssize_t n;

	path = path ? path : lpu_dev_path();
	slash = strrchr(path, '/');
	node = slash ? slash + 1 : path;
	snprintf(link, sizeof(link), "/sys/class/accel/%s/device", node);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(target, '/');
	snprintf(bdf, len, "%s", slash ? slash + 1 : target);
	return 0;
}

int lpu_sysfs_write(const char *file, const char *value)
{
	size_t len = strlen(value);
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	close(fd);
	if (r)
		errno = -r;
	return r;
}

bool lpu_wait_path(const char *path, bool exist, unsigned int timeout_ms)
{
	uint64_t end = lpu_deadline_ns(timeout_ms * 1000000ULL);

	for (;;) {
		bool there = access(path, F_OK) == 0;

		if (there == exist)
			return true;
		if (lpu_now_ns() >= end)
			return false;
		usleep(10000);
	}
}

int lpu_node_of_bdf(const char *bdf, char *node, size_t len,
		    unsigned int timeout_ms)
{
	uint64_t end = lpu_deadline_ns(timeout_ms * 1000000ULL);
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/accel", bdf);
	for (;;) {
		DIR *d = opendir(dir);
		struct dirent *e;
		bool found = false;

		while (d && !found && (e = readdir(d))) {
			if (strncmp(e->d_name, "accel", 5))
				continue;
			snprintf(node, len, "/dev/accel/%s", e->d_name);
			found = true;
		}
		if (d)
			closedir(d);
		/* The class device shows up before devtmpfs has the node. */
		if (found && access(node, F_OK) == 0)
			return 0;
		if (lpu_now_ns() >= end)
			return -ENOENT;
		usleep(10000);
	}
}

/* Numbers of the '@key' line of @file, at most @max of them; fails on junk. */
uint32_t lpu_must_parse_ids(const char *s, uint32_t *out, uint32_t max,
			  const char *file, const char *key)
{
	uint32_t n = 0;

	for (;;) {
		unsigned long v;
		char *end;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			return n;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (end == s || errno || v > UINT32_MAX)
			FAIL("%s: bad number in the '%s' line", file, key);
		if (n == max)
			FAIL("%s: more than %u numbers in the '%s' line", file,
			     max, key);
		out[n++] = (uint32_t)v;
		s = end;
	}
}
