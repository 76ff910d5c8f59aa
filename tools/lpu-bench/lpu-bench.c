// SPDX-License-Identifier: MIT
/*
 * lpu-bench: measure the data path of an LPU card against the host.
 *
 * All numbers come from one run on one machine, so they compare: memcpy
 * bandwidth of the host, DMA bandwidth between host memory and card SRAM,
 * and the submit-to-fence latency of an empty job against the cheapest
 * ioctl there is (DRM_IOCTL_VERSION).
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "lpu_accel.h"

#define EXIT_USAGE	2
#define BEST_OF		5
#define WAIT_NS		(30ULL * 1000 * 1000 * 1000)

static const char *prog = "lpu-bench";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTION]...\n"
"Measure the data path of an LPU card against the host, all in one run:\n"
"\n"
"  memcpy      host-to-host memcpy() of BYTES (--size), best of 5, in GB/s;\n"
"  DMA         one job copying BYTES from host memory to card SRAM, and\n"
"              one copying them back, each timed from submit until its\n"
"              fence signals, best of 5, in GB/s and as a ratio to memcpy;\n"
"  latency     N (--iterations) empty jobs (one NOP command), each submitted\n"
"              and waited for through a syncobj, against N calls of the\n"
"              trivial DRM_IOCTL_VERSION;\n"
"              median and 99th percentile in microseconds, and the ratio of\n"
"              the medians.\n"
"\n"
"The data moved by DMA is checked after the run.\n"
"\n"
"Options:\n"
"  -d, --device=PATH       the card's accel node (default: $LPU_DEVICE, else\n"
"                          /dev/accel/accel0)\n"
"  -s, --size=BYTES        bytes per memcpy and per DMA job (default 64M);\n"
"                          a suffix K, M or G multiplies by 1024, 1024^2\n"
"                          or 1024^3; must fit in free SRAM and in one buffer\n"
"  -n, --iterations=N      jobs and ioctls for the latency test (default 1000)\n"
"  -q, --queue=N           hardware queue to submit to (default 0)\n"
"  -h, --help              print this help and exit\n"
"\n"
"Output: lines starting with '#' describe the run; every result is one\n"
"line \"NAME: VALUE ...\", for example\n"
"\n"
"  memcpy_64MiB: 9.81 GB/s\n"
"  dma_to_sram_64MiB: 2.35 GB/s (0.24x memcpy)\n"
"  dma_from_sram_64MiB: 2.41 GB/s (0.25x memcpy)\n"
"  nop_job: median 38.20 us, p99 61.04 us (1000 jobs)\n"
"  ioctl_version: median 0.60 us, p99 1.12 us (1000 calls)\n"
"  nop_job_vs_ioctl: 63.7x (median)\n"
"\n"
"GB/s is 10^9 bytes per second. Times are CLOCK_MONOTONIC.\n"
"\n"
"Exit status: 0 on success, 1 when the device fails or a result is wrong,\n"
"2 on a usage error.\n",
		prog);
}

__attribute__((format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

__attribute__((format(printf, 1, 2)))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(EXIT_USAGE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Parse "123", "64M", "1g"...; false if malformed, zero or too large. */
static bool parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	default: break;
	}
	if (*end == 'i' && end[1] == 'B' && mult > 1)
		end += 2;
	if (*end || v == 0 || v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s || v > max)
		return false;
	*out = v;
	return true;
}

/* "64MiB", "4KiB" or "1000B", for result names. */
static void size_label(uint64_t size, char *buf, size_t len)
{
	if (size % (1ULL << 30) == 0)
		snprintf(buf, len, "%" PRIu64 "GiB", size >> 30);
	else if (size % (1ULL << 20) == 0)
		snprintf(buf, len, "%" PRIu64 "MiB", size >> 20);
	else if (size % (1ULL << 10) == 0)
		snprintf(buf, len, "%" PRIu64 "KiB", size >> 10);
	else
		snprintf(buf, len, "%" PRIu64 "B", size);
}

static double gbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (double)ns : 0.0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort @v and return its median and 99th percentile (nearest rank). */
static void percentiles(uint64_t *v, size_t n, double *median_us,
			double *p99_us)
{
	size_t rank = (n * 99 + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_u64);
	*median_us = (n % 2 ? (double)v[n / 2] :
		      ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2) / 1000.0;
	*p99_us = (double)v[rank ? rank - 1 : 0] / 1000.0;
}

struct bench {
	int fd;
	uint32_t queue;
	uint32_t syncobj;
	struct drm_lpu_device_info info;
};

static void lpu_ioctl_or_die(struct bench *b, unsigned long req, void *arg,
			     const char *what)
{
	if (drmIoctl(b->fd, req, arg))
		die("%s: %s", what, strerror(errno));
}

static void *bo_new(struct bench *b, uint64_t size, uint32_t *handle)
{
	struct drm_lpu_bo_create c = { .size = size };
	struct drm_lpu_bo_mmap_offset m = { 0 };
	void *p;

	lpu_ioctl_or_die(b, DRM_IOCTL_LPU_BO_CREATE, &c, "BO_CREATE");
	m.handle = c.handle;
	lpu_ioctl_or_die(b, DRM_IOCTL_LPU_BO_MMAP_OFFSET, &m,
			 "BO_MMAP_OFFSET");
	p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
		 (off_t)m.offset);
	if (p == MAP_FAILED)
		die("mmap of a %" PRIu64 "-byte buffer: %s", (uint64_t)c.size,
		    strerror(errno));
	*handle = c.handle;
	return p;
}

/* Submit @cmd as a job, wait for its fence; return the time in ns. */
static uint64_t run_job(struct bench *b, const struct drm_lpu_cmd *cmd)
{
	struct drm_lpu_sync out = { .handle = b->syncobj };
	struct drm_lpu_submit s = {
		.cmds = (uintptr_t)cmd,
		.out_syncs = (uintptr_t)&out,
		.cmd_count = 1,
		.out_sync_count = 1,
		.queue = b->queue,
	};
	uint64_t t0, t1;

	t0 = now_ns();
	if (drmIoctl(b->fd, DRM_IOCTL_LPU_SUBMIT, &s))
		die("SUBMIT: %s", strerror(errno));
	if (drmSyncobjWait(b->fd, &b->syncobj, 1, (int64_t)(t0 + WAIT_NS),
			   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL) < 0)
		die("waiting for a job: %s", strerror(errno));
	t1 = now_ns();
	return t1 - t0;
}

static double bench_memcpy(uint64_t size)
{
	unsigned char *src = malloc(size), *dst = malloc(size);
	uint64_t best = UINT64_MAX;
	int i;

	if (!src || !dst)
		die("out of memory for two %" PRIu64 "-byte buffers", size);
	/* Fault every page in before timing. */
	memset(src, 0x5a, size);
	memset(dst, 0, size);
	for (i = 0; i < BEST_OF; i++) {
		uint64_t t0 = now_ns(), t;

		memcpy(dst, src, size);
		t = now_ns() - t0;
		/* Keep the copy from being optimised away. */
		if (dst[i % size] != 0x5a)
			die("memcpy went wrong");
		if (t < best)
			best = t;
	}
	free(src);
	free(dst);
	return gbps(size, best);
}

static void bench_dma(struct bench *b, uint64_t size, double *to_gbps,
		      double *from_gbps)
{
	struct drm_lpu_sram_alloc a = { .size = size };
	struct drm_lpu_sram_free f = { 0 };
	struct drm_lpu_cmd cmd;
	uint32_t src_h, dst_h;
	unsigned char *src, *dst;
	uint64_t best_to = UINT64_MAX, best_from = UINT64_MAX, i;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int n;

	src = bo_new(b, size, &src_h);
	dst = bo_new(b, size, &dst_h);
	lpu_ioctl_or_die(b, DRM_IOCTL_LPU_SRAM_ALLOC, &a, "SRAM_ALLOC");
	/* Data to check afterwards (xorshift64), and dst's pages faulted. */
	for (i = 0; i < size; i += sizeof(x)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(src + i, &x, size - i < sizeof(x) ? size - i : sizeof(x));
	}
	memset(dst, 0, size);

	memset(&cmd, 0, sizeof(cmd));
	cmd.dma.bo_handle = src_h;
	cmd.dma.sram_handle = a.handle;
	cmd.dma.size = size;
	cmd.op = DRM_LPU_CMD_DMA_TO_SRAM;
	for (n = 0; n < BEST_OF; n++) {
		uint64_t t = run_job(b, &cmd);

		if (t < best_to)
			best_to = t;
	}
	cmd.op = DRM_LPU_CMD_DMA_FROM_SRAM;
	cmd.dma.bo_handle = dst_h;
	for (n = 0; n < BEST_OF; n++) {
		uint64_t t = run_job(b, &cmd);

		if (t < best_from)
			best_from = t;
	}
	if (memcmp(src, dst, size))
		die("DMA check failed: the data back from SRAM differ");

	f.handle = a.handle;
	lpu_ioctl_or_die(b, DRM_IOCTL_LPU_SRAM_FREE, &f, "SRAM_FREE");
	munmap(src, size);
	munmap(dst, size);
	drmCloseBufferHandle(b->fd, src_h);
	drmCloseBufferHandle(b->fd, dst_h);
	*to_gbps = gbps(size, best_to);
	*from_gbps = gbps(size, best_from);
}

static void bench_nop(struct bench *b, uint64_t *lat, uint64_t n)
{
	struct drm_lpu_cmd cmd;
	uint64_t i;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = DRM_LPU_CMD_NOP;
	/* One untimed job, so that first-use costs stay out. */
	run_job(b, &cmd);
	for (i = 0; i < n; i++)
		lat[i] = run_job(b, &cmd);
}

static void bench_version(struct bench *b, uint64_t *lat, uint64_t n)
{
	uint64_t i;

	for (i = 0; i <= n; i++) {
		/* Zero lengths: the kernel only reports them. */
		struct drm_version v = { 0 };
		uint64_t t0 = now_ns();

		if (ioctl(b->fd, DRM_IOCTL_VERSION, &v))
			die("DRM_IOCTL_VERSION: %s", strerror(errno));
		if (i)	/* the first call is a warm-up */
			lat[i - 1] = now_ns() - t0;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "queue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = getenv("LPU_DEVICE");
	uint64_t size = 64ULL << 20, iterations = 1000, queue = 0;
	struct drm_lpu_query q = { 0 };
	struct bench b = { 0 };
	double mc, to, from, nop_med, nop_p99, ver_med, ver_p99;
	uint64_t *nop_lat, *ver_lat;
	char label[32];
	int c;

	if (argc > 0 && argv[0] && *argv[0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	if (!device || !*device)
		device = "/dev/accel/accel0";

	while ((c = getopt_long(argc, argv, "d:s:n:q:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 's':
			if (!parse_size(optarg, &size))
				usage_error("invalid size '%s'", optarg);
			break;
		case 'n':
			if (!parse_uint(optarg, 100000000, &iterations) ||
			    !iterations)
				usage_error("invalid iteration count '%s'",
					    optarg);
			break;
		case 'q':
			if (!parse_uint(optarg, UINT32_MAX, &queue))
				usage_error("invalid queue '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n",
				prog);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (size > SIZE_MAX)
		usage_error("size too large for this machine");

	b.fd = open(device, O_RDWR | O_CLOEXEC);
	if (b.fd < 0)
		die("cannot open %s: %s", device, strerror(errno));
	q.info = (uintptr_t)&b.info;
	q.size = sizeof(b.info);
	lpu_ioctl_or_die(&b, DRM_IOCTL_LPU_QUERY, &q, "QUERY");
	if (queue >= b.info.queue_count)
		die("queue %" PRIu64 " out of range: the card has %u",
		    queue, b.info.queue_count);
	if (size > b.info.sram_free)
		die("size %" PRIu64 " is more than the free SRAM (%" PRIu64
		    " bytes)", size, (uint64_t)b.info.sram_free);
	if (size > b.info.max_bo_size)
		die("size %" PRIu64 " is more than the largest buffer (%"
		    PRIu64 " bytes)", size, (uint64_t)b.info.max_bo_size);
	b.queue = (uint32_t)queue;
	if (drmSyncobjCreate(b.fd, 0, &b.syncobj))
		die("drmSyncobjCreate: %s", strerror(errno));
	nop_lat = calloc(iterations, sizeof(*nop_lat));
	ver_lat = calloc(iterations, sizeof(*ver_lat));
	if (!nop_lat || !ver_lat)
		die("out of memory");

	size_label(size, label, sizeof(label));
	printf("# %s: device %s, hw %u.%u, %u queue(s), %u MHz, SRAM %" PRIu64
	       " bytes\n", prog, device, b.info.hw_version >> 16,
	       b.info.hw_version & 0xffff, b.info.queue_count,
	       b.info.clock_mhz, (uint64_t)b.info.sram_size);
	printf("# size %" PRIu64 " bytes (%s), queue %u, %" PRIu64
	       " iterations\n", size, label, b.queue, iterations);
	fflush(stdout);

	mc = bench_memcpy(size);
	printf("memcpy_%s: %.2f GB/s\n", label, mc);
	fflush(stdout);

	bench_dma(&b, size, &to, &from);
	printf("dma_to_sram_%s: %.2f GB/s (%.2fx memcpy)\n", label, to,
	       mc > 0 ? to / mc : 0.0);
	printf("dma_from_sram_%s: %.2f GB/s (%.2fx memcpy)\n", label, from,
	       mc > 0 ? from / mc : 0.0);
	fflush(stdout);

	bench_nop(&b, nop_lat, iterations);
	bench_version(&b, ver_lat, iterations);
	percentiles(nop_lat, iterations, &nop_med, &nop_p99);
	percentiles(ver_lat, iterations, &ver_med, &ver_p99);
	printf("nop_job: median %.2f us, p99 %.2f us (%" PRIu64 " jobs)\n",
	       nop_med, nop_p99, iterations);
	printf("ioctl_version: median %.2f us, p99 %.2f us (%" PRIu64
	       " calls)\n", ver_med, ver_p99, iterations);
	printf("nop_job_vs_ioctl: %.1fx (median)\n",
	       ver_med > 0 ? nop_med / ver_med : 0.0);

	free(nop_lat);
	free(ver_lat);
	drmSyncobjDestroy(b.fd, b.syncobj);
	close(b.fd);
	return EXIT_SUCCESS;
}
