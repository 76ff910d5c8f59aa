// SPDX-License-Identifier: MIT
/*
 * lpu-bench: measure the data path of an LPU card against the host.
 *
 * All numbers come from one run on one machine, so they compare: memcpy
 * bandwidth of the host, DMA bandwidth between host memory and card SRAM,
 * and the submit-to-fence latency of an empty job against the cheapest
 * ioctl there is (DRM_IOCTL_VERSION). With --program it also measures,
 * through liblpu, how fast the program loads (against the DMA bandwidth)
 * and how fast its tokens stream to the host; with --host-engine each
 * streaming run is paired with a run of the engine alone on the machine
 * that hosts the (emulated) card, asked for over a serial line.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "lpu_accel.h"
#include "lpu.h"
#include "lpu_cli.h"

#define EXIT_USAGE	2
#define BEST_OF		5
#define WAIT_NS		(30ULL * 1000 * 1000 * 1000)
#define LOAD_BEST_OF	3
#define STREAM_RUNS	5
#define MAX_PROMPT	4096
/* how long the host may take to answer an engine request */
#define HOST_REPLY_S	120
#define HOST_LINE_MAX	512

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
"              the medians;\n"
"  model load  with --program: lpu_model_load() of the program file (parse,\n"
"              validate, allocate SRAM, DMA the image), best of 3, in GB/s\n"
"              of file size and as a ratio to the DMA host->SRAM figure;\n"
"  streaming   with --program: generations of --tokens tokens after the\n"
"              prompt --prompt-tokens (an untimed warm-up, then 5 timed\n"
"              runs), read with lpu_stream_next() as the card emits them:\n"
"              each run's rate is its tokens over the time from the start\n"
"              of the stream to the last token; the figure is the median\n"
"              of the 5 rates, with the median (p50) and 99th percentile\n"
"              (p99) of the time between consecutive tokens over the gaps\n"
"              of all 5 runs;\n"
"  engine      with --host-engine (and --program): before each of the 5\n"
"              timed streaming runs, the host runs the engine alone on the\n"
"              same program, prompt and budget (lpu-sim, which reports its\n"
"              rate and the p50 and p99 of its own gaps), while this\n"
"              program waits idle for the reply; then the stream runs while\n"
"              the host is idle. Each pair gives a ratio stream/engine\n"
"              measured at nearly the same moment, so that a machine whose\n"
"              speed drifts still compares like with like.\n"
"\n"
"The data moved by DMA is checked after the run.\n"
"\n"
"The streaming rate includes everything between the application and the\n"
"card (library, driver, interrupts, the card's own work). What that costs\n"
"is the ratio to the engine alone running the same program: lpu-sim\n"
"PROGRAM --tokens LIST --steps N on the machine that runs the emulated\n"
"card. --host-engine=DEV asks for those runs through the serial port DEV,\n"
"one line \"engine PATH PROMPT TOKENS\" each (PATH absolute, PROMPT the\n"
"ids separated by commas), answered by \"ok TOKENS_PER_S P50_MS P99_MS\"\n"
"(\"-\" for the gaps if fewer than two tokens) or \"error MESSAGE\";\n"
"tests/run-guest.sh --host-service scripts/engine-service.sh provides\n"
"that in the test guest, where /init exports the port as\n"
"$LPU_HOST_SERVICE, and \"make demo\" uses it. The line is raw (no echo,\n"
"no character mapping); a reply must come within 120 s.\n"
"\n"
"Options:\n"
"  -d, --device=PATH       the card's accel node (default: $LPU_DEVICE, else\n"
"                          /dev/accel/accel0)\n"
"  -s, --size=BYTES        bytes per memcpy and per DMA job (default 64M);\n"
"                          a suffix K, M or G multiplies by 1024, 1024^2\n"
"                          or 1024^3; must fit in free SRAM and in one buffer\n"
"  -n, --iterations=N      jobs and ioctls for the latency test (default 1000)\n"
"  -q, --queue=N           hardware queue to submit to (default 0)\n"
"  -p, --program=FILE      also measure loading and streaming this program\n"
"                          (from lpu-compile; a stories15M-sized f32 model\n"
"                          is a ~60 MB image)\n"
"      --prompt-tokens=LIST  the prompt for the streaming run, token ids\n"
"                          (commas or blanks; default 1, the BOS token)\n"
"      --tokens=N          tokens to generate in the streaming run (default\n"
"                          64; fewer when the program's context ends first)\n"
"      --host-engine=DEV   pair each streaming run with a run of the engine\n"
"                          alone on the host, asked for through the serial\n"
"                          port DEV (see above; needs --program)\n"
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
"  model_load_60MB: 0.41 GB/s (0.17x dma_to_sram)\n"
"  stream_tokens_per_s: 120.3 (p50 8.11 ms, p99 9.02 ms, p99/p50 1.11)\n"
"  engine_tokens_per_s: 126.0 (host runner, median of 5 runs interleaved\n"
"    with the streams; gaps p50 7.71 ms, p99 8.64 ms, p99/p50 1.12)\n"
"  stream_vs_engine: 0.955 (median of the 5 per-pair ratios\n"
"    stream/engine; min 0.921, max 0.987)\n"
"\n"
"(the last two only with --host-engine, each on one line).\n"
"model_load_<N>MB names the file size in MB (10^6 bytes), rounded to ten\n"
"above 10 MB. Before the streaming figure a line\n"
"\"# stream: program FILE prompt LIST tokens N ...\" says what ran, with\n"
"the card's cycle count and the compiler's prediction (of the run of\n"
"median rate). With --host-engine a line \"# pair K of 5: engine ...,\n"
"then stream ...: stream/engine R\" follows each pair as it completes.\n"
"stream_tokens_per_s is the median of the 5 runs' rates; its p50 and p99\n"
"are over the gaps of all 5 runs. engine_tokens_per_s is the median of\n"
"the host's 5 rates, its p50 and p99 the medians of the runs' own p50\n"
"and p99. stream_vs_engine is the median of the 5 ratios of a stream's\n"
"rate to the rate of the engine run just before it (not the ratio of the\n"
"two medians), with the smallest and the largest.\n"
"\n"
"GB/s is 10^9 bytes per second. Times are CLOCK_MONOTONIC.\n"
"\n"
"Exit status: 0 on success, 1 when the device fails, a result is wrong\n"
"or the host's engine fails or does not answer, 2 on a usage error.\n",
		prog);
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

/* Sort @ns and return its median and 99th percentile in microseconds. */
static void percentiles_us(double *ns, size_t n, double *median_us,
			   double *p99_us)
{
	lpu_cli_percentiles(ns, n, median_us, p99_us);
	*median_us /= 1000.0;
	*p99_us /= 1000.0;
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
		lpu_cli_die("%s: %s", what, strerror(errno));
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
		lpu_cli_die("mmap of a %" PRIu64 "-byte buffer: %s", (uint64_t)c.size,
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

	t0 = lpu_cli_now_ns();
	if (drmIoctl(b->fd, DRM_IOCTL_LPU_SUBMIT, &s))
		lpu_cli_die("SUBMIT: %s", strerror(errno));
	if (drmSyncobjWait(b->fd, &b->syncobj, 1, (int64_t)(t0 + WAIT_NS),
			   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL) < 0)
		lpu_cli_die("waiting for a job: %s", strerror(errno));
	t1 = lpu_cli_now_ns();
	return t1 - t0;
}

static double bench_memcpy(uint64_t size)
{
	unsigned char *src = malloc(size), *dst = malloc(size);
	uint64_t best = UINT64_MAX;
	int i;

	if (!src || !dst)
		lpu_cli_die("out of memory for two %" PRIu64 "-byte buffers", size);
	/* Fault every page in before timing. */
	memset(src, 0x5a, size);
	memset(dst, 0, size);
	for (i = 0; i < BEST_OF; i++) {
		uint64_t t0 = lpu_cli_now_ns(), t;

		memcpy(dst, src, size);
		t = lpu_cli_now_ns() - t0;
		/* Keep the copy from being optimised away. */
		if (dst[i % size] != 0x5a)
			lpu_cli_die("memcpy went wrong");
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
		lpu_cli_die("DMA check failed: the data back from SRAM differ");

	f.handle = a.handle;
	lpu_ioctl_or_die(b, DRM_IOCTL_LPU_SRAM_FREE, &f, "SRAM_FREE");
	munmap(src, size);
	munmap(dst, size);
	drmCloseBufferHandle(b->fd, src_h);
	drmCloseBufferHandle(b->fd, dst_h);
	*to_gbps = gbps(size, best_to);
	*from_gbps = gbps(size, best_from);
}

static void bench_nop(struct bench *b, double *lat, uint64_t n)
{
	struct drm_lpu_cmd cmd;
	uint64_t i;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = DRM_LPU_CMD_NOP;
	/* One untimed job, so that first-use costs stay out. */
	run_job(b, &cmd);
	for (i = 0; i < n; i++)
		lat[i] = (double)run_job(b, &cmd);
}

static void bench_version(struct bench *b, double *lat, uint64_t n)
{
	uint64_t i;

	for (i = 0; i <= n; i++) {
		/* Zero lengths: the kernel only reports them. */
		struct drm_version v = { 0 };
		uint64_t t0 = lpu_cli_now_ns();

		if (ioctl(b->fd, DRM_IOCTL_VERSION, &v))
			lpu_cli_die("DRM_IOCTL_VERSION: %s", strerror(errno));
		if (i)	/* the first call is a warm-up */
			lat[i - 1] = (double)(lpu_cli_now_ns() - t0);
	}
}

/* ---- through liblpu: model load and token streaming ---------------------- */

/* "1,65,66" or "1 65 66"; false if malformed or longer than @max. */
static bool parse_ids(const char *s, uint32_t *ids, size_t max, size_t *n)
{
	size_t len = 0;

	for (;;) {
		unsigned long long v;
		char *end;

		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (!isdigit((unsigned char)*s) || len == max)
			return false;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || v > UINT32_MAX ||
		    (*end && *end != ',' && !isspace((unsigned char)*end)))
			return false;
		ids[len++] = (uint32_t)v;
		s = end;
	}
	*n = len;
	return len > 0;
}

__attribute__((noreturn))
static void die_lpu(int err, const char *what)
{
	const char *msg = lpu_last_error();

	lpu_cli_die("%s: %s", what, msg && *msg ? msg : lpu_strerror(err));
}

/*
 * Load @path LOAD_BEST_OF times (unloading in between) and return the
 * best time in ns; the model of the last load stays loaded in *@model.
 */
static uint64_t bench_model_load(struct lpu_device *dev, const char *path,
				 struct lpu_model **model)
{
	uint64_t best = UINT64_MAX;
	int i, r;

	for (i = 0; i < LOAD_BEST_OF; i++) {
		uint64_t t0 = lpu_cli_now_ns(), t;

		r = lpu_model_load(dev, path, model);
		t = lpu_cli_now_ns() - t0;
		if (r)
			die_lpu(r, "loading the program");
		if (t < best)
			best = t;
		if (i + 1 < LOAD_BEST_OF)
			lpu_model_unload(*model);
	}
	return best;
}

struct stream_result {
	uint32_t tokens;
	uint64_t total_ns;	/* start to the last token */
	uint64_t first_ns;	/* start to the first token */
	double rate;		/* tokens / total_ns */
	double p50_ms, p99_ms;	/* between consecutive tokens */
	size_t n_gaps;		/* how many gaps they are of */
	struct lpu_stream_stats stats;
};

/* One generation; with @arrivals, the time of every token from start. */
static void run_stream(struct lpu_model *model, const uint32_t *prompt,
		       size_t n_prompt, uint32_t budget, uint64_t *arrivals,
		       struct stream_result *res)
{
	struct lpu_stream_options o = {
		.size = sizeof(o),
		.max_tokens = budget,
		.queue = -1,
	};
	struct lpu_stream *stream;
	uint64_t t0, t = 0;
	uint32_t token;
	int r;

	memset(res, 0, sizeof(*res));
	t0 = lpu_cli_now_ns();
	r = lpu_stream_start(model, prompt, n_prompt, &o, &stream);
	if (r)
		die_lpu(r, "starting the stream");
	while ((r = lpu_stream_next(stream, &token, -1)) == 1) {
		t = lpu_cli_now_ns() - t0;
		if (arrivals)
			arrivals[res->tokens] = t;
		if (!res->tokens)
			res->first_ns = t;
		if (++res->tokens == budget)
			break;
	}
	if (r < 0)
		die_lpu(r, "streaming");
	/* the end of the stream, so that the card's cycle count is there */
	while (r == 1)
		r = lpu_stream_next(stream, &token, -1);
	if (r < 0)
		die_lpu(r, "streaming");
	res->total_ns = t;
	res->rate = t ? res->tokens / (t / 1e9) : 0.0;
	res->stats.size = sizeof(res->stats);
	r = lpu_stream_stats(stream, &res->stats);
	if (r)
		die_lpu(r, "stream statistics");
	lpu_stream_free(stream);
}

/*
 * The median of @v (1 <= n <= STREAM_RUNS; the mean of the two middle
 * values if n is even), sorting a copy.
 */
static double median_of(const double *v, size_t n)
{
	double s[STREAM_RUNS], p50, p99;

	memcpy(s, v, n * sizeof(*s));
	lpu_cli_percentiles(s, n, &p50, &p99);
	return p50;
}

/* ---- the host's engine (--host-engine) ----------------------------------- */

/*
 * A line-oriented channel to a service on the machine that runs the card:
 * the serial port that tests/run-guest.sh --host-service sets up (see
 * scripts/engine-service.sh for the one request there is).
 */
struct host_engine {
	int fd;
	const char *dev;
};

/* What the host's engine did for one request. */
struct engine_result {
	double rate;		/* tokens per second */
	double p50_ms, p99_ms;	/* between tokens; < 0 when not reported */
};

static void host_open(struct host_engine *h, const char *dev)
{
	struct termios t;
	int fl;

	h->dev = dev;
	/* O_NONBLOCK: no wait for a carrier before CLOCAL is set */
	h->fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (h->fd < 0)
		lpu_cli_die("--host-engine: cannot open %s: %s", dev,
			    strerror(errno));
	if (tcgetattr(h->fd, &t))
		lpu_cli_die("--host-engine: %s is not a terminal: %s", dev,
			    strerror(errno));
	/* raw bytes both ways: no echo, no line editing, no CR/NL mapping */
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~CRTSCTS;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(h->fd, TCSANOW, &t))
		lpu_cli_die("--host-engine: %s: cannot set raw mode: %s", dev,
			    strerror(errno));
	fl = fcntl(h->fd, F_GETFL);
	if (fl < 0 || fcntl(h->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		lpu_cli_die("--host-engine: %s: %s", dev, strerror(errno));
	/* whatever an earlier user left unread */
	tcflush(h->fd, TCIOFLUSH);
}

static void host_close(struct host_engine *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* Send @req (one line with its '\n') and read the reply line into @line. */
static void host_request(struct host_engine *h, const char *req,
			 char *line, size_t size)
{
	uint64_t deadline = lpu_cli_now_ns() + HOST_REPLY_S * 1000000000ULL;
	size_t len = strlen(req), done = 0, n = 0;

	tcflush(h->fd, TCIFLUSH);
	while (done < len) {
		ssize_t w = write(h->fd, req + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			lpu_cli_die("--host-engine: writing to %s: %s", h->dev,
				    w < 0 ? strerror(errno) : "nothing written");
		done += (size_t)w;
	}
	for (;;) {
		struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
		uint64_t now = lpu_cli_now_ns();
		char c;
		ssize_t r;
		int p;

		if (now >= deadline)
			goto timeout;
		p = poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1));
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			lpu_cli_die("--host-engine: poll on %s: %s", h->dev,
				    strerror(errno));
		if (!p)
			goto timeout;
		r = read(h->fd, &c, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			lpu_cli_die("--host-engine: reading from %s: %s",
				    h->dev, strerror(errno));
		if (!r)
			lpu_cli_die("--host-engine: %s: end of file", h->dev);
		if (c == '\r')
			continue;
		if (c == '\n') {
			if (!n)		/* a stray empty line */
				continue;
			line[n] = '\0';
			return;
		}
		if (n + 1 < size)
			line[n++] = c;
	}
timeout:
	lpu_cli_die("--host-engine: no reply from the host on %s within %d s "
		    "(is the guest running under tests/run-guest.sh "
		    "--host-service scripts/engine-service.sh?)", h->dev,
		    HOST_REPLY_S);
}

/* A figure of an "ok" reply: a number, or "-" (*v = -1). */
static bool host_figure(const char *s, double *v)
{
	char *end;

	if (!strcmp(s, "-")) {
		*v = -1;
		return true;
	}
	errno = 0;
	*v = strtod(s, &end);
	return !errno && end != s && !*end && *v >= 0;
}

/*
 * Have the host run the engine alone on @path (its path here, which the
 * host maps to its own copy), the prompt and the budget:
 * "engine PATH PROMPT TOKENS" -> "ok TOKENS_PER_S P50_MS P99_MS".
 */
static void host_engine_run(struct host_engine *h, const char *path,
			    const uint32_t *prompt, size_t n_prompt,
			    uint32_t budget, struct engine_result *res)
{
	size_t cap = strlen(path) + n_prompt * 11 + 64, len, i;
	char *req = malloc(cap), line[HOST_LINE_MAX];
	char w[4][HOST_LINE_MAX];
	int n;

	if (!req)
		lpu_cli_die("out of memory");
	len = (size_t)snprintf(req, cap, "engine %s ", path);
	for (i = 0; i < n_prompt; i++)
		len += (size_t)snprintf(req + len, cap - len, "%s%u",
					i ? "," : "", prompt[i]);
	snprintf(req + len, cap - len, " %u\n", budget);
	host_request(h, req, line, sizeof(line));
	free(req);

	if (!strncmp(line, "error", 5) && (!line[5] || line[5] == ' '))
		lpu_cli_die("--host-engine: the host's engine failed: %s",
			    line[5] ? line + 6 : "(no message)");
	n = sscanf(line, "%511s %511s %511s %511s", w[0], w[1], w[2], w[3]);
	if (n != 4 || strcmp(w[0], "ok") || !host_figure(w[1], &res->rate) ||
	    res->rate <= 0 || !host_figure(w[2], &res->p50_ms) ||
	    !host_figure(w[3], &res->p99_ms))
		lpu_cli_die("--host-engine: unexpected reply from %s: '%s'",
			    h->dev, line);
}

/* ---- streaming ----------------------------------------------------------- */

struct stream_bench {
	struct stream_result res;	/* the median run; gaps over all */
	double rate;			/* median of the runs' rates */
	/* with the host's engine: */
	bool host;
	struct engine_result engine;	/* medians of the engine's runs */
	double ratio, ratio_min, ratio_max; /* stream / engine, per pair */
};

/* The p50 and p99 in ms of @n gaps in ns (sorting them); 0 if none. */
static void gap_percentiles(double *gaps, size_t n, double *p50_ms,
			    double *p99_ms)
{
	*p50_ms = *p99_ms = 0;
	if (!n)
		return;
	lpu_cli_percentiles(gaps, n, p50_ms, p99_ms);
	*p50_ms /= 1e6;
	*p99_ms /= 1e6;
}

/*
 * STREAM_RUNS timed generations (after an untimed warm-up): the figures
 * of the run of median rate, the median rate, the gap percentiles over
 * the gaps of all runs. With @host, each run is paired with a run of the
 * engine alone on the host just before it (the guest waits idle while
 * the host computes, the host's service is idle while the guest streams).
 */
static void bench_stream(struct lpu_model *model, const char *path,
			 const uint32_t *prompt, size_t n_prompt,
			 uint32_t budget, struct host_engine *host,
			 struct stream_bench *sb)
{
	uint64_t *arrivals = calloc(budget, sizeof(*arrivals));
	double *gaps = calloc((size_t)budget * STREAM_RUNS, sizeof(*gaps));
	struct stream_result runs[STREAM_RUNS], warm;
	struct engine_result eng[STREAM_RUNS];
	double rates[STREAM_RUNS], ratios[STREAM_RUNS];
	double e_rates[STREAM_RUNS], e_p50[STREAM_RUNS], e_p99[STREAM_RUNS];
	size_t n_gaps = 0, n_eg = 0, first;
	uint32_t i;
	int k, mid = 0;

	if (!arrivals || !gaps)
		lpu_cli_die("out of memory");
	memset(sb, 0, sizeof(*sb));
	sb->host = host != NULL;
	/* warm-up: first-use costs stay out of the figure */
	run_stream(model, prompt, n_prompt, budget < 4 ? budget : 4, NULL,
		   &warm);
	for (k = 0; k < STREAM_RUNS; k++) {
		struct stream_result *run = &runs[k];

		if (host)
			host_engine_run(host, path, prompt, n_prompt, budget,
					&eng[k]);
		run_stream(model, prompt, n_prompt, budget, arrivals, run);
		first = n_gaps;
		for (i = 1; i < run->tokens; i++)
			gaps[n_gaps++] = (double)(arrivals[i] - arrivals[i - 1]);
		/* this run's own (sorting its part of gaps is harmless) */
		gap_percentiles(gaps + first, n_gaps - first, &run->p50_ms,
				&run->p99_ms);
		run->n_gaps = n_gaps - first;
		rates[k] = run->rate;
		if (!host)
			continue;
		ratios[k] = run->rate / eng[k].rate;
		if (eng[k].p50_ms >= 0 && eng[k].p99_ms >= 0) {
			e_p50[n_eg] = eng[k].p50_ms;
			e_p99[n_eg++] = eng[k].p99_ms;
		}
		e_rates[k] = eng[k].rate;
		printf("# pair %d of %d: engine %.1f tokens/s", k + 1,
		       STREAM_RUNS, eng[k].rate);
		if (eng[k].p50_ms >= 0 && eng[k].p99_ms >= 0)
			printf(" (gaps p50 %.2f ms, p99 %.2f ms)",
			       eng[k].p50_ms, eng[k].p99_ms);
		printf(", then stream %.1f tokens/s (gaps p50 %.2f ms, p99 "
		       "%.2f ms): stream/engine %.3f\n", run->rate,
		       run->p50_ms, run->p99_ms, ratios[k]);
		fflush(stdout);
	}

	/* the run of median rate (for an even count, the upper middle one) */
	for (k = 1; k < STREAM_RUNS; k++) {
		int below = 0, j;

		for (j = 0; j < STREAM_RUNS; j++)
			below += rates[j] < rates[k] ||
				 (rates[j] == rates[k] && j < k);
		if (below == STREAM_RUNS / 2)
			mid = k;
	}
	sb->res = runs[mid];
	sb->rate = median_of(rates, STREAM_RUNS);
	gap_percentiles(gaps, n_gaps, &sb->res.p50_ms, &sb->res.p99_ms);
	sb->res.n_gaps = n_gaps;
	if (host) {
		sb->engine.rate = median_of(e_rates, STREAM_RUNS);
		sb->engine.p50_ms = n_eg ? median_of(e_p50, n_eg) : -1;
		sb->engine.p99_ms = n_eg ? median_of(e_p99, n_eg) : -1;
		sb->ratio = median_of(ratios, STREAM_RUNS);
		sb->ratio_min = sb->ratio_max = ratios[0];
		for (k = 1; k < STREAM_RUNS; k++) {
			if (ratios[k] < sb->ratio_min)
				sb->ratio_min = ratios[k];
			if (ratios[k] > sb->ratio_max)
				sb->ratio_max = ratios[k];
		}
	}
	free(gaps);
	free(arrivals);
}

/*
 * The liblpu figures of @path: load time against the DMA host->SRAM
 * bandwidth @dma_gbps of this run, then the streaming rate (paired with
 * the host's engine when @host_dev is given).
 */
static void bench_program(const char *device, const char *path,
			  const uint32_t *prompt, size_t n_prompt,
			  uint32_t budget, double dma_gbps,
			  const char *host_dev)
{
	struct lpu_model_info info = { .size = sizeof(info) };
	struct lpu_device_status st = { .size = sizeof(st) };
	struct host_engine host = { .fd = -1 };
	struct stream_bench sb;
	struct stream_result *res = &sb.res;
	struct lpu_device *dev;
	struct lpu_model *model;
	struct stat sb_file;
	uint64_t load_ns, mb;
	double load_gbps, card_rate = 0;
	char *abs_path = NULL;
	size_t i;
	int r;

	if (stat(path, &sb_file))
		lpu_cli_die("%s: %s", path, strerror(errno));
	if (host_dev) {
		/* the host finds its copy by the absolute path */
		abs_path = realpath(path, NULL);
		if (!abs_path)
			lpu_cli_die("%s: %s", path, strerror(errno));
		if (strpbrk(abs_path, " \t\r\n"))
			lpu_cli_die("--host-engine: the path %s has blanks, "
				    "which the request line cannot carry",
				    abs_path);
		host_open(&host, host_dev);
	}
	r = lpu_device_open(device, &dev);
	if (r)
		die_lpu(r, "opening the card through liblpu");
	r = lpu_device_query(dev, &st);
	if (r)
		die_lpu(r, "querying the card through liblpu");

	load_ns = bench_model_load(dev, path, &model);
	r = lpu_model_info(model, &info);
	if (r)
		die_lpu(r, "model information");
	/* the label: MB (10^6), to the nearest ten above 10 MB */
	mb = ((uint64_t)sb_file.st_size + 500000) / 1000000;
	if (mb > 10)
		mb = (mb + 5) / 10 * 10;
	load_gbps = gbps((uint64_t)sb_file.st_size, load_ns);
	printf("# model_load: %s, %" PRIu64 " bytes, SRAM footprint %" PRIu64
	       " bytes, best of %d: %.2f ms\n", path, (uint64_t)sb_file.st_size,
	       (uint64_t)info.sram_footprint, LOAD_BEST_OF, load_ns / 1e6);
	printf("model_load_%" PRIu64 "MB: %.2f GB/s (%.2fx dma_to_sram)\n", mb,
	       load_gbps, dma_gbps > 0 ? load_gbps / dma_gbps : 0.0);
	fflush(stdout);

	/* (lpu_stream_start() checks the prompt against the program) */
	bench_stream(model, abs_path ? abs_path : path, prompt, n_prompt,
		     budget, host_dev ? &host : NULL, &sb);
	host_close(&host);
	if (!res->tokens)
		lpu_cli_die("%s generated no tokens", path);
	if (info.cycles_per_token && st.clock_mhz)
		card_rate = st.clock_mhz * 1e6 / info.cycles_per_token;
	printf("# stream: program %s prompt ", path);
	for (i = 0; i < n_prompt; i++)
		printf("%s%u", i ? "," : "", prompt[i]);
	printf(" tokens %u: %u generated, first after %.2f ms, card %" PRIu64
	       " cycles (predicted %" PRIu64 "), cycle model %.0f tokens/s at "
	       "%u MHz; median of %d runs, %zu gaps\n", budget, res->tokens,
	       res->first_ns / 1e6, (uint64_t)res->stats.cycles,
	       (uint64_t)res->stats.predicted_cycles, card_rate, st.clock_mhz,
	       STREAM_RUNS, res->n_gaps);
	printf("stream_tokens_per_s: %.1f (p50 %.2f ms, p99 %.2f ms, p99/p50 "
	       "%.2f)\n", sb.rate, res->p50_ms, res->p99_ms,
	       res->p50_ms > 0 ? res->p99_ms / res->p50_ms : 0.0);
	if (sb.host) {
		printf("engine_tokens_per_s: %.1f (host runner, median of %d "
		       "runs interleaved with the streams; ", sb.engine.rate,
		       STREAM_RUNS);
		if (sb.engine.p50_ms >= 0 && sb.engine.p99_ms >= 0)
			printf("gaps p50 %.2f ms, p99 %.2f ms, p99/p50 %.2f)\n",
			       sb.engine.p50_ms, sb.engine.p99_ms,
			       sb.engine.p50_ms > 0 ?
			       sb.engine.p99_ms / sb.engine.p50_ms : 0.0);
		else
			printf("gaps not reported)\n");
		printf("stream_vs_engine: %.3f (median of the %d per-pair "
		       "ratios stream/engine; min %.3f, max %.3f)\n", sb.ratio,
		       STREAM_RUNS, sb.ratio_min, sb.ratio_max);
	}
	fflush(stdout);
	free(abs_path);
	lpu_model_unload(model);
	lpu_device_close(dev);
}

int main(int argc, char **argv)
{
	enum { OPT_PROMPT = 256, OPT_TOKENS, OPT_HOST_ENGINE };
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "queue", required_argument, NULL, 'q' },
		{ "program", required_argument, NULL, 'p' },
		{ "prompt-tokens", required_argument, NULL, OPT_PROMPT },
		{ "tokens", required_argument, NULL, OPT_TOKENS },
		{ "host-engine", required_argument, NULL, OPT_HOST_ENGINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = getenv("LPU_DEVICE");
	uint64_t size = 64ULL << 20, iterations = 1000, queue = 0;
	struct drm_lpu_query q = { 0 };
	struct bench b = { 0 };
	double mc, to, from, nop_med, nop_p99, ver_med, ver_p99;
	double *nop_lat, *ver_lat;
	char label[32];
	int c;
	const char *program = NULL, *host_engine = NULL;
	static uint32_t prompt[MAX_PROMPT] = { 1 };
	size_t n_prompt = 1;
	uint64_t budget = 64;

	if (argc > 0 && argv[0] && *argv[0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	lpu_cli_set_prog(prog);
	if (!device || !*device)
		device = "/dev/accel/accel0";

	while ((c = getopt_long(argc, argv, "d:s:n:q:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 's':
			if (!parse_size(optarg, &size))
				lpu_cli_usage_error("invalid size '%s'", optarg);
			break;
		case 'n':
			if (!parse_uint(optarg, 100000000, &iterations) ||
			    !iterations)
				lpu_cli_usage_error("invalid iteration count '%s'",
					    optarg);
			break;
		case 'q':
			if (!parse_uint(optarg, UINT32_MAX, &queue))
				lpu_cli_usage_error("invalid queue '%s'", optarg);
			break;
		case 'p':
			program = optarg;
			break;
		case OPT_PROMPT:
			if (!parse_ids(optarg, prompt, MAX_PROMPT, &n_prompt))
				lpu_cli_usage_error("invalid prompt token list '%s'",
					    optarg);
			break;
		case OPT_TOKENS:
			if (!parse_uint(optarg, UINT32_MAX, &budget) || !budget)
				lpu_cli_usage_error("invalid token count '%s'", optarg);
			break;
		case OPT_HOST_ENGINE:
			if (!*optarg)
				lpu_cli_usage_error("--host-engine needs a device");
			host_engine = optarg;
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
		lpu_cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (size > SIZE_MAX)
		lpu_cli_usage_error("size too large for this machine");
	if (host_engine && !program)
		lpu_cli_usage_error("--host-engine needs --program");

	b.fd = open(device, O_RDWR | O_CLOEXEC);
	if (b.fd < 0)
		lpu_cli_die("cannot open %s: %s", device, strerror(errno));
	q.info = (uintptr_t)&b.info;
	q.size = sizeof(b.info);
	lpu_ioctl_or_die(&b, DRM_IOCTL_LPU_QUERY, &q, "QUERY");
	if (queue >= b.info.queue_count)
		lpu_cli_die("queue %" PRIu64 " out of range: the card has %u",
		    queue, b.info.queue_count);
	if (size > b.info.sram_free)
		lpu_cli_die("size %" PRIu64 " is more than the free SRAM (%" PRIu64
		    " bytes)", size, (uint64_t)b.info.sram_free);
	if (size > b.info.max_bo_size)
		lpu_cli_die("size %" PRIu64 " is more than the largest buffer (%"
		    PRIu64 " bytes)", size, (uint64_t)b.info.max_bo_size);
	b.queue = (uint32_t)queue;
	if (drmSyncobjCreate(b.fd, 0, &b.syncobj))
		lpu_cli_die("drmSyncobjCreate: %s", strerror(errno));
	nop_lat = calloc(iterations, sizeof(*nop_lat));
	ver_lat = calloc(iterations, sizeof(*ver_lat));
	if (!nop_lat || !ver_lat)
		lpu_cli_die("out of memory");

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
	percentiles_us(nop_lat, iterations, &nop_med, &nop_p99);
	percentiles_us(ver_lat, iterations, &ver_med, &ver_p99);
	printf("nop_job: median %.2f us, p99 %.2f us (%" PRIu64 " jobs)\n",
	       nop_med, nop_p99, iterations);
	printf("ioctl_version: median %.2f us, p99 %.2f us (%" PRIu64
	       " calls)\n", ver_med, ver_p99, iterations);
	printf("nop_job_vs_ioctl: %.1fx (median)\n",
	       ver_med > 0 ? nop_med / ver_med : 0.0);
	fflush(stdout);

	if (program)
		bench_program(device, program, prompt, n_prompt,
			      (uint32_t)budget, to, host_engine);

	free(nop_lat);
	free(ver_lat);
	drmSyncobjDestroy(b.fd, b.syncobj);
	close(b.fd);
	return EXIT_SUCCESS;
}
