/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the lpu guest tests.
 *
 * Every test is one small program: exit 0 = pass, 1 = fail, 77 = skip.
 * A source file holds one or more cases, each written as
 *
 *	LPU_CASE(query_ok)
 *	{
 *		...
 *		return LPU_PASS;
 *	}
 *
 * at the start of a line. The Makefile finds these lines and builds one
 * binary t_<name> per case, compiled with -DCASE=<name>; this header then
 * supplies a main() that runs that case only.
 *
 * Conventions of the helpers: a function named lpu_*() that can fail
 * returns 0 (or a non-negative value) on success and -errno on failure,
 * with errno also set, so CHECK_OK()/CHECK_ERRNO() work on them and on raw
 * ioctl() calls alike. Functions named lpu_must_*() fail the test
 * themselves (exit 1) with a diagnostic, for set-up steps that are not
 * what the test is about.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef LPU_TEST_H
#define LPU_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <xf86drm.h>

#include "lpu_accel.h"
#include "lpu/lpu_hw.h"

#define LPU_PASS	0
#define LPU_FAIL	1
#define LPU_SKIP	77

#define LPU_KiB		(1024ULL)
#define LPU_MiB		(1024ULL * 1024)

/* Default time a test waits for one job: far above any sane job time. */
#define LPU_JOB_TIMEOUT_NS	(10ULL * 1000 * 1000 * 1000)

/* The ABI is fixed-size; catch a header change that breaks it. */
_Static_assert(sizeof(struct drm_lpu_cmd) == 64, "drm_lpu_cmd is 64 bytes");
_Static_assert(sizeof(struct drm_lpu_cmd_dma) == 56, "dma payload size");
_Static_assert(sizeof(struct drm_lpu_sync) == 16, "drm_lpu_sync size");
_Static_assert(sizeof(struct drm_lpu_submit) == 56, "drm_lpu_submit size");
_Static_assert(sizeof(struct drm_lpu_query) == 16, "drm_lpu_query size");
_Static_assert(sizeof(struct drm_lpu_device_info) == 64, "device_info size");

/* ---- Results and checks ------------------------------------------------ */

/* Name of the running test ("t_query_ok"), for messages. */
extern const char *lpu_test_name;

void lpu_test_init(const char *name);
const char *lpu_errno_name(int err);

__attribute__((noreturn, format(printf, 3, 4)))
void lpu_fail_at(const char *file, int line, const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2)))
void lpu_skip(const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void lpu_info(const char *fmt, ...);

void lpu_check_errno_at(const char *file, int line, const char *call,
			long ret, int got_errno, int want, const char *want_name);
void lpu_check_ok_at(const char *file, int line, const char *call,
		     long ret, int got_errno);

/* Fail the test with a message (printf format). */
#define FAIL(...)	lpu_fail_at(__FILE__, __LINE__, __VA_ARGS__)
/* Skip the test (exit 77) with a message saying why. */
#define SKIP(...)	lpu_skip(__VA_ARGS__)

/* Fail unless @cond holds. */
#define CHECK(cond) do {						\
	if (!(cond))							\
		lpu_fail_at(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
} while (0)

/* Fail unless the unsigned integers @got and @want are equal. */
#define CHECK_EQ(got, want) do {					\
	unsigned long long got_ = (unsigned long long)(got);		\
	unsigned long long want_ = (unsigned long long)(want);		\
	if (got_ != want_)						\
		lpu_fail_at(__FILE__, __LINE__,				\
			    "%s == %llu (0x%llx), expected %s == %llu (0x%llx)", \
			    #got, got_, got_, #want, want_, want_);	\
} while (0)

/*
 * Fail unless @call succeeds. @call returns >= 0 on success, and a negative
 * value with errno set on failure (-1 like ioctl(), or -errno like the
 * lpu_*() helpers and libdrm's syncobj waits).
 */
#define CHECK_OK(call) do {						\
	long r_;							\
	errno = 0;							\
	r_ = (long)(call);						\
	lpu_check_ok_at(__FILE__, __LINE__, #call, r_, errno);		\
} while (0)

/* Fail unless @call fails with errno @err (EINVAL, not -EINVAL). */
#define CHECK_ERRNO(call, err) do {					\
	long r_;							\
	errno = 0;							\
	r_ = (long)(call);						\
	lpu_check_errno_at(__FILE__, __LINE__, #call, r_, errno,	\
			   (err), #err);				\
} while (0)

/* ---- Device ------------------------------------------------------------ */

/* The accel node: $LPU_DEVICE, else /dev/accel/accel0. */
const char *lpu_dev_path(void);
/* Open @path (NULL: lpu_dev_path()) read-write; -errno on failure. */
int lpu_open(const char *path);
/* Open the device or fail the test. */
int lpu_must_open(void);

/* drmIoctl() returning 0 or -errno (errno set too). */
int lpu_ioctl(int fd, unsigned long request, void *arg);

int lpu_query(int fd, struct drm_lpu_device_info *info);
void lpu_must_query(int fd, struct drm_lpu_device_info *info);

/* ---- Buffers ----------------------------------------------------------- */

/* A host buffer and its CPU mapping (NULL when not mapped). */
struct lpu_bo {
	uint32_t handle;
	uint64_t size;		/* rounded-up size from the kernel */
	void *map;
};

int lpu_bo_create(int fd, uint64_t size, uint32_t *handle, uint64_t *size_out);
int lpu_bo_mmap_offset(int fd, uint32_t handle, uint64_t *offset);
int lpu_gem_close(int fd, uint32_t handle);
/* mmap() a buffer; NULL with errno set on failure. */
void *lpu_bo_map(int fd, uint32_t handle, uint64_t size);

/* Create a buffer of @size bytes; map it when @map. Fails the test. */
void lpu_must_bo_new(int fd, uint64_t size, bool map, struct lpu_bo *bo);
/* Unmap and close a buffer made by lpu_must_bo_new(). Fails the test. */
void lpu_must_bo_del(int fd, struct lpu_bo *bo);

/* ---- SRAM -------------------------------------------------------------- */

struct lpu_sram {
	uint32_t handle;
	uint64_t size;		/* rounded-up size from the kernel */
	uint64_t addr;		/* informational device address */
};

/* Allocate; fills @out (which may be NULL) on success. */
int lpu_sram_alloc(int fd, uint64_t size, struct lpu_sram *out);
int lpu_sram_free(int fd, uint32_t handle);
void lpu_must_sram_alloc(int fd, uint64_t size, struct lpu_sram *out);
void lpu_must_sram_free(int fd, struct lpu_sram *sram);

/*
 * Wait until the query reports at least @want bytes of free SRAM, polling
 * for up to @timeout_ms. Returns the last sram_free seen.
 */
uint64_t lpu_wait_sram_free(int fd, uint64_t want, unsigned int timeout_ms);

/* ---- Commands and jobs ------------------------------------------------- */

void lpu_cmd_nop(struct drm_lpu_cmd *cmd);
void lpu_cmd_fence(struct drm_lpu_cmd *cmd);
/* @op is DRM_LPU_CMD_DMA_TO_SRAM or DRM_LPU_CMD_DMA_FROM_SRAM. */
void lpu_cmd_dma(struct drm_lpu_cmd *cmd, uint32_t op, uint32_t bo_handle,
		 uint64_t bo_offset, uint32_t sram_handle, uint64_t sram_offset,
		 uint64_t size);

/* Submit a job; @job_id may be NULL. 0 or -errno. */
int lpu_submit(int fd, uint32_t queue, const struct drm_lpu_cmd *cmds,
	       uint32_t cmd_count, const struct drm_lpu_sync *in,
	       uint32_t in_count, const struct drm_lpu_sync *out,
	       uint32_t out_count, uint64_t *job_id);

/*
 * Submit a job with a new binary out-syncobj, wait for it (up to
 * LPU_JOB_TIMEOUT_NS) and destroy the syncobj. 0 or -errno (-ETIME when
 * the job did not finish in time).
 */
int lpu_submit_wait(int fd, uint32_t queue, const struct drm_lpu_cmd *cmds,
		    uint32_t cmd_count);

/* ---- Syncobjs and time ------------------------------------------------- */

uint64_t lpu_now_ns(void);
/* Absolute CLOCK_MONOTONIC deadline @rel_ns from now. */
uint64_t lpu_deadline_ns(uint64_t rel_ns);

uint32_t lpu_must_syncobj(int fd, bool signalled);
/* Wait for a binary syncobj for up to @rel_ns. 0 or -errno. */
int lpu_syncobj_wait(int fd, uint32_t handle, uint64_t rel_ns);
/* Wait for a timeline point for up to @rel_ns. 0 or -errno. */
int lpu_syncobj_wait_point(int fd, uint32_t handle, uint64_t point,
			   uint64_t rel_ns);
/* 1 if the binary syncobj has a signalled fence, 0 if not, or -errno. */
int lpu_syncobj_is_signalled(int fd, uint32_t handle);
/*
 * Status of the fence in a syncobj, through an exported sync_file:
 * 1 signalled without error, 0 pending, or the fence's -errno.
 */
int lpu_syncobj_fence_status(int fd, uint32_t handle, int *status);

/* ---- Data -------------------------------------------------------------- */

/* Fill @buf with bytes of a xorshift64* stream started at @seed. */
/*
 * Parse the blank-separated decimal u32 numbers of @s into @out (at most
 * @max); @file and @key name the line in a failure message.
 */
uint32_t lpu_must_parse_ids(const char *s, uint32_t *out, uint32_t max,
			    const char *file, const char *key);

void lpu_fill_random(void *buf, size_t len, uint64_t seed);
/* Fill with a repeated byte. */
void lpu_fill_byte(void *buf, size_t len, uint8_t byte);
/*
 * Compare @got with @want; on a mismatch print @what, the first differing
 * offset and the number of differing bytes, and return false.
 */
bool lpu_same(const void *got, const void *want, size_t len, const char *what);
/* True if every byte is @byte; else print the first other one. */
bool lpu_all_bytes(const void *buf, size_t len, uint8_t byte, const char *what);

/*
 * One full round trip on @fd: @size random bytes (seed @seed) from one
 * buffer to a fresh SRAM allocation and back into a second buffer, then a
 * bit-exact compare. Fails the test on any error.
 */
void lpu_must_round_trip(int fd, uint64_t size, uint64_t seed);

/* ---- sysfs ------------------------------------------------------------- */

/*
 * PCI address ("0000:00:04.0") of the card behind the accel node @path
 * (NULL: lpu_dev_path()), from /sys/class/accel/<node>/device. 0 or -errno.
 */
int lpu_pci_bdf(const char *path, char *bdf, size_t len);
/* Write a string to a sysfs file. 0 or -errno. */
int lpu_sysfs_write(const char *file, const char *value);
/* Wait up to @timeout_ms for @path to exist (@exist) or not. */
bool lpu_wait_path(const char *path, bool exist, unsigned int timeout_ms);
/*
 * Find the accel node of PCI device @bdf (/dev/accel/accelN) after a bind,
 * waiting up to @timeout_ms. 0 or -errno.
 */
int lpu_node_of_bdf(const char *bdf, char *node, size_t len,
		    unsigned int timeout_ms);

/* ---- main() ------------------------------------------------------------ */

#define LPU_STR_(x)	#x
#define LPU_STR(x)	LPU_STR_(x)
#define LPU_CAT_(a, b)	a##b
#define LPU_CAT(a, b)	LPU_CAT_(a, b)

/* Start of one test case; the body returns LPU_PASS or LPU_SKIP. */
#define LPU_CASE(name) \
	__attribute__((unused)) static int lpu_case_##name(void)

#ifdef CASE
static int LPU_CAT(lpu_case_, CASE)(void);

int main(void)
{
	lpu_test_init("t_" LPU_STR(CASE));
	return LPU_CAT(lpu_case_, CASE)();
}
#endif

#endif /* LPU_TEST_H */
