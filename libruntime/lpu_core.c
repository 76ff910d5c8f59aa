// SPDX-License-Identifier: MIT
/*
 * liblpu: errors, the system-call table, syncobj helpers.
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>
#include <xf86drm.h>

#include "lpu_internal.h"

/* ---- system calls ------------------------------------------------------ */

static int sys_open(const char *path, int flags)
{
	return open(path, flags);
}

static const struct lpu_ops lpu_sys_ops = {
	.open = sys_open,
	.ioctl = drmIoctl,	/* retries on EINTR and EAGAIN */
	.mmap = mmap,
	.munmap = munmap,
};

const struct lpu_ops *lpu_ops = &lpu_sys_ops;

void lpu__set_ops(const struct lpu_ops *ops)
{
	lpu_ops = ops ? ops : &lpu_sys_ops;
}

int lpu_ioctl(int fd, unsigned long request, void *arg)
{
	if (lpu_ops->ioctl(fd, request, arg))
		return errno ? -errno : -EIO;
	return 0;
}

uint64_t lpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- errors ------------------------------------------------------------ */

static __thread char lpu_err_msg[512];
static __thread char lpu_err_text[128];

int lpu_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lpu_err_msg, sizeof(lpu_err_msg), fmt, ap);
	va_end(ap);
	return err;
}

int lpu_check_size(size_t size, size_t min, const char *func,
		   const char *what)
{
	if (size < min)
		return lpu_error(-EINVAL,
				 "%s: %s.size is %zu, at least %zu expected (set it to sizeof(struct %s))",
				 func, what, size, min, what);
	return 0;
}

LPU_EXPORT const char *lpu_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "Success";
	case ENODEV:
		return "No LPU card (no such card, or the card was removed)";
	case ENOSPC:
		return "Not enough space (free card SRAM, or the caller's buffer)";
	case ENOEXEC:
		return "Not an LPU program file";
	case EPROTONOSUPPORT:
		return "Program built for another ISA version";
	case EOVERFLOW:
		return "Program layout lies outside its SRAM window";
	case E2BIG:
		return "Too large (for the card's SRAM or a limit of the API)";
	case EFBIG:
		return "Program file too large";
	case EBUSY:
		return "The model is already running a stream";
	case ECANCELED:
		return "The stream was cancelled";
	case EIO:
		return "The program faulted or the card failed (see lpu_last_error())";
	case ETIME:
		return "The program made no progress (the driver's watchdog stopped it)";
	case ETIMEDOUT:
		return "Timed out waiting for the card";
	case EACCES:
		return "Permission denied (no access to the accel node)";
	default:
		return strerror_r(err, lpu_err_text, sizeof(lpu_err_text));
	}
}

LPU_EXPORT const char *lpu_last_error(void)
{
	return lpu_err_msg;
}

/* ---- syncobjs ---------------------------------------------------------- */

int lpu_syncobj_create(int fd, uint32_t *handle)
{
	struct drm_syncobj_create c = { 0 };
	int r = lpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c);

	if (r)
		return r;
	*handle = c.handle;
	return 0;
}

void lpu_syncobj_destroy(int fd, uint32_t handle)
{
	struct drm_syncobj_destroy d = { .handle = handle };

	if (handle)
		lpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
}

int lpu_syncobj_wait(int fd, const uint32_t *handles, const uint64_t *points,
		     uint32_t count, int64_t deadline_ns, uint32_t flags,
		     uint32_t *first)
{
	struct drm_syncobj_timeline_wait w;
	int r;

	do {
		memset(&w, 0, sizeof(w));
		w.handles = (uintptr_t)handles;
		w.points = (uintptr_t)points;
		w.timeout_nsec = deadline_ns;
		w.count_handles = count;
		w.flags = flags;
		r = lpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
	} while (r == -EINTR);
	if (!r && first)
		*first = w.first_signaled;
	return r;
}

int lpu_syncobj_status(int fd, uint32_t handle, int *status)
{
	struct drm_syncobj_handle h = {
		.handle = handle,
		.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
		.fd = -1,
	};
	struct sync_file_info info;
	int r;

	r = lpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);
	if (r)
		return r;
	memset(&info, 0, sizeof(info));
	r = lpu_ioctl(h.fd, SYNC_IOC_FILE_INFO, &info);
	close(h.fd);
	if (r)
		return r;
	*status = info.status;
	return 0;
}

int lpu_submit(struct lpu_device *dev, uint32_t queue,
	       const struct drm_lpu_cmd *cmds, uint32_t n,
	       const struct drm_lpu_sync *out, uint32_t n_out,
	       uint64_t *job_id)
{
	struct drm_lpu_submit s = {
		.cmds = (uintptr_t)cmds,
		.out_syncs = (uintptr_t)out,
		.cmd_count = n,
		.out_sync_count = n_out,
		.queue = queue,
	};
	int r = lpu_ioctl(dev->fd, DRM_IOCTL_LPU_SUBMIT, &s);

	if (!r && job_id)
		*job_id = s.job_id;
	return r;
}
