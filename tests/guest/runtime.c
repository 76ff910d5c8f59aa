// SPDX-License-Identifier: MIT
/*
 * The runtime library, liblpu (libruntime/lpu.h), on the card: discovery,
 * device query, the hotplug monitor (driver unbind and bind), model load,
 * token streams (blocking, polled, through epoll), cancellation, several
 * processes at once, a process killed mid-stream, SRAM exhaustion, access
 * as a user in the group "render" (libruntime/70-lpu.rules) and the tools
 * built on the library (lpu-run, lpu-smi).
 *
 * Test data (tests/guest/data.mk and runtime.mk build it on the host; the
 * guest has it in $LPU_DATA_DIR, default /usr/share/lpu): the tiny model
 * compiled as f32 and int8, what lpu-sim generates from it (*.expected),
 * programs/loop_forever.lpu (never emits), runtime/emit_slow.lpu (a long
 * stream), runtime/text.expected (a text prompt) and runtime/70-lpu.rules.
 *
 * The stream cases skip when the card lacks DRM_LPU_CAP_EXEC.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpu_test.h"
#include "lpu.h"
#include "lpu/lpu_prog.h"
#include "udev_rule.h"

#define DATA_DIR_DEFAULT	"/usr/share/lpu"
#define MODEL_F32		"tiny-f32.lpu"
#define MODEL_INT8		"tiny-int8.lpu"
#define PROG_LOOP		"programs/loop_forever.lpu"
#define PROG_SLOW		"runtime/emit_slow.lpu"
#define RULES_FILE		"runtime/70-lpu.rules"
/* The shape data.mk gives the tiny model (MODEL_OPTS). */
#define TINY_VOCAB		512
#define TINY_CONTEXT		64

#define MAX_PROMPT		256
#define MAX_TOKENS		1024
/* lpu_stream_next() waits at most this long in a test. */
#define NEXT_TIMEOUT_MS		20000

#define TOKEN_BOS		1

/* Users of the non-root cases (made in /etc/passwd and /etc/group). */
#define RENDER_GROUP		"render"
#define USER_RENDER		"lpuuser"
#define UID_RENDER		1000
#define USER_OTHER		"lpunogrp"
#define UID_OTHER		1001

/* ---- Data files ------------------------------------------------------------ */

static const char *data_path(const char *name)
{
	static char path[4][PATH_MAX];
	static int slot;
	const char *dir = getenv("LPU_DATA_DIR");
	char *p = path[slot++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", dir && *dir ? dir : DATA_DIR_DEFAULT,
		 name);
	return p;
}

#define DATA_HINT "(test data: tests/guest/data.mk and runtime.mk build it " \
	"into $BUILD/tests/guest/data, the guest has it in $LPU_DATA_DIR or " \
	DATA_DIR_DEFAULT ")"

/* One run of the host runner, lpu-sim: data.mk and runtime.mk write it. */
struct expected {
	char file[64];
	char program[64];
	char text[128];
	uint32_t prompt[MAX_PROMPT];
	uint32_t prompt_len;
	uint32_t steps;
	float temperature;	/* sampling (0: greedy) */
	float top_p;
	uint64_t seed;
	uint32_t tokens[MAX_TOKENS];
	uint32_t n_tokens;
};

static void must_expected(const char *name, struct expected *e)
{
	static char line[16384];
	const char *path = data_path(name);
	FILE *f;

	memset(e, 0, sizeof(*e));
	snprintf(e->file, sizeof(e->file), "%s", name);
	f = fopen(path, "r");
	if (!f)
		FAIL("%s: %s %s", path, strerror(errno), DATA_HINT);
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "program"))
			snprintf(e->program, sizeof(e->program), "%s", v);
		else if (!strcmp(line, "text"))
			snprintf(e->text, sizeof(e->text), "%s", v);
		else if (!strcmp(line, "prompt"))
			e->prompt_len = lpu_must_parse_ids(v, e->prompt, MAX_PROMPT,
						  path, "prompt");
		else if (!strcmp(line, "steps"))
			e->steps = lpu_must_parse_ids(v, &e->steps, 1, path, "steps") ?
				   e->steps : 0;
		else if (!strcmp(line, "tokens"))
			e->n_tokens = lpu_must_parse_ids(v, e->tokens, MAX_TOKENS, path,
						"tokens");
		else if (!strcmp(line, "temperature"))
			e->temperature = strtof(v, NULL);
		else if (!strcmp(line, "top_p"))
			e->top_p = strtof(v, NULL);
		else if (!strcmp(line, "seed"))
			e->seed = strtoull(v, NULL, 10);
	}
	fclose(f);
	if (!e->program[0] || !e->prompt_len || !e->steps || !e->n_tokens)
		FAIL("%s: incomplete (program, prompt, steps, tokens) %s",
		     path, DATA_HINT);
}

/* ---- liblpu helpers --------------------------------------------------------- */

/* Fail with the call, its errno name and the library's message. */
#define CHECK_LPU(call) do {						\
	int r_ = (call);						\
	if (r_ < 0)							\
		FAIL("%s: %s (%s)", #call, lpu_errno_name(-r_),		\
		     lpu_last_error());					\
} while (0)

/* Fail unless @call returns exactly @want (a negative errno or a count). */
#define CHECK_RET(call, want) do {					\
	int r_ = (call), w_ = (want);					\
	if (r_ != w_)							\
		FAIL("%s returned %d (%s), expected %d (%s); last error: %s", \
		     #call, r_, r_ < 0 ? lpu_errno_name(-r_) : "-", w_,	\
		     w_ < 0 ? lpu_errno_name(-w_) : "-", lpu_last_error()); \
} while (0)

static struct lpu_device *must_device(void)
{
	struct lpu_device *dev;

	CHECK_LPU(lpu_device_open(NULL, &dev));
	return dev;
}

static void must_status(struct lpu_device *dev, struct lpu_device_status *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	CHECK_LPU(lpu_device_query(dev, st));
}

/* The device, skipping the case if the card cannot run programs. */
static struct lpu_device *must_exec_device(void)
{
	struct lpu_device *dev = must_device();
	struct lpu_device_status st;

	must_status(dev, &st);
	if (!(st.caps & DRM_LPU_CAP_EXEC)) {
		lpu_device_close(dev);
		SKIP("the card does not run programs (no DRM_LPU_CAP_EXEC)");
	}
	return dev;
}

static uint64_t sram_free_of(struct lpu_device *dev)
{
	struct lpu_device_status st;

	must_status(dev, &st);
	return st.sram_free;
}

/*
 * Wait (up to 2 s) until @want bytes of SRAM are free again and fail if
 * they are not: an unloaded model's SRAM goes back when the driver has
 * retired the jobs that used it, a moment after lpu_model_unload().
 */
static void must_sram_free_again(struct lpu_device *dev, uint64_t want,
				  const char *what)
{
	uint64_t got = lpu_wait_sram_free(lpu_device_fd(dev), want, 2000);

	if (got < want)
		FAIL("%s: SRAM free %llu after 2 s, expected %llu", what,
		     (unsigned long long)got, (unsigned long long)want);
}

static struct lpu_model *must_load(struct lpu_device *dev, const char *name)
{
	struct lpu_model *model;
	int r = lpu_model_load(dev, data_path(name), &model);

	if (r)
		FAIL("lpu_model_load(%s): %s (%s) %s", data_path(name),
		     lpu_errno_name(-r), lpu_last_error(), DATA_HINT);
	return model;
}

static void must_info(const struct lpu_model *model,
		      struct lpu_model_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	CHECK_LPU(lpu_model_info(model, info));
}

static struct lpu_stream *must_start_opts(struct lpu_model *model,
					  const uint32_t *prompt, size_t n,
					  const struct lpu_stream_options *o)
{
	struct lpu_stream *stream;

	CHECK_LPU(lpu_stream_start(model, prompt, n, o, &stream));
	return stream;
}

/* A greedy stream of up to @budget tokens, on any queue. */
static struct lpu_stream *must_start(struct lpu_model *model,
				     const uint32_t *prompt, size_t n,
				     uint32_t budget)
{
	struct lpu_stream_options o = {
		.size = sizeof(o),
		.max_tokens = budget,
		.queue = -1,
	};

	return must_start_opts(model, prompt, n, &o);
}

static void must_stats(const struct lpu_stream *stream,
		       struct lpu_stream_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	CHECK_LPU(lpu_stream_stats(stream, st));
}

/* Next token, failing on anything but a token (1) or the end (0). */
static int must_next(struct lpu_stream *stream, uint32_t *token)
{
	int r = lpu_stream_next(stream, token, NEXT_TIMEOUT_MS);

	if (r < 0)
		FAIL("lpu_stream_next: %s (%s)", lpu_errno_name(-r),
		     lpu_last_error());
	return r;
}

/* Compare the tokens with the expected run; print the first difference. */
static void check_tokens(const uint32_t *got, uint32_t n,
			 const struct expected *e, const char *how)
{
	uint32_t i;

	for (i = 0; i < n && i < e->n_tokens; i++)
		if (got[i] != e->tokens[i])
			FAIL("%s (%s): token %u is %u, lpu-sim says %u", e->file,
			     how, i, got[i], e->tokens[i]);
	if (n != e->n_tokens)
		FAIL("%s (%s): %u tokens, lpu-sim generated %u", e->file, how,
		     n, e->n_tokens);
}

/* stream_expected() prints a line per run unless this is set. */
static bool quiet_streams;

/*
 * Run @e's prompt, budget and sampling on @model to the end of the stream
 * and check the tokens, the stream statistics and the cycle count.
 */
static void stream_expected(struct lpu_model *model, const struct expected *e)
{
	struct lpu_stream_options o = {
		.size = sizeof(o),
		.max_tokens = e->steps,
		.seed = e->seed,
		.temperature = e->temperature,
		.top_p = e->top_p,
		.queue = -1,
	};
	struct lpu_model_info info;
	struct lpu_stream_stats st;
	struct lpu_stream *stream;
	uint32_t got[MAX_TOKENS], n = 0, token, positions;
	uint64_t predicted;
	int r;

	must_info(model, &info);
	stream = must_start_opts(model, e->prompt, e->prompt_len, &o);
	while ((r = must_next(stream, &token)) == 1) {
		if (n == MAX_TOKENS)
			FAIL("%s: more than %u tokens", e->file, MAX_TOKENS);
		got[n++] = token;
	}
	check_tokens(got, n, e, "lpu_stream_next");
	/* the end stays the end */
	CHECK_RET(lpu_stream_next(stream, &token, 0), 0);

	must_stats(stream, &st);
	CHECK_EQ(st.state, LPU_STREAM_STATE_DONE);
	CHECK_EQ(st.tokens, n);
	positions = e->prompt_len + n - 1;
	predicted = info.cycles_prologue + info.cycles_epilogue +
		    (uint64_t)positions * info.cycles_per_token;
	CHECK_EQ(st.predicted_cycles, predicted);
	CHECK_EQ(st.cycles, predicted);
	CHECK(st.first_token_ns > 0);
	if (st.elapsed_ns < st.first_token_ns)
		FAIL("%s: stream statistics: elapsed %llu ns is less than the "
		     "time to the first token, %llu ns", e->file,
		     (unsigned long long)st.elapsed_ns,
		     (unsigned long long)st.first_token_ns);
	if (!quiet_streams)
		lpu_info("%s: %u tokens, first after %.2f ms, %.2f ms in all, "
			 "%llu cycles (as predicted)", e->file, n,
			 st.first_token_ns / 1e6, st.elapsed_ns / 1e6,
			 (unsigned long long)st.cycles);
	lpu_stream_free(stream);
}

static void must_write_byte(int wfd, char c)
{
	if (write(wfd, &c, 1) != 1)
		FAIL("write to a pipe: %s", strerror(errno));
}

static void must_read_byte(int rfd, char want, const char *what)
{
	char c;
	ssize_t n = read(rfd, &c, 1);

	if (n != 1)
		FAIL("%s: %s", what, n ? strerror(errno) :
		     "the other end closed the pipe (it failed)");
	if (c != want)
		FAIL("%s: got '%c', expected '%c'", what, c, want);
}

/* Wait for a child; fail unless it passed. */
static void must_reap(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid %s: %s", what, strerror(errno));
	if (WIFSIGNALED(status))
		FAIL("%s died of signal %d", what, WTERMSIG(status));
	if (WEXITSTATUS(status) != LPU_PASS)
		FAIL("%s exited with status %d", what, WEXITSTATUS(status));
}

/* A child's alarm: what the parent has left (fork clears alarms). */
static unsigned int alarm_left(void)
{
	unsigned int left = alarm(0);

	alarm(left);
	return left;
}

static pid_t must_fork(void)
{
	unsigned int left = alarm_left();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0 && left)
		alarm(left);
	return pid;
}

/* The accel node's sysfs device: /sys/class/accel/<node>. */
static void node_sysfs(const char *node, char *out, size_t len)
{
	const char *slash = strrchr(node, '/');

	if (snprintf(out, len, "/sys/class/accel/%s",
		     slash ? slash + 1 : node) >= (int)len)
		FAIL("node name too long: %s", node);
}

/* ---- Running the tools ------------------------------------------------------ */

/*
 * Run @argv (PATH lookup), capture its stdout and stderr (cut to the
 * buffers' sizes), return its exit status (128 + signal when killed).
 */
static int run_tool(char *const argv[], char *out, size_t out_len,
		    char *err, size_t err_len)
{
	char *buf[2] = { out, err };
	size_t len[2] = { out_len, err_len }, used[2] = { 0, 0 };
	struct pollfd p[2];
	int fds[2][2], status, i, open = 2;
	pid_t pid;

	for (i = 0; i < 2; i++)
		if (pipe(fds[i]))
			FAIL("pipe: %s", strerror(errno));
	pid = must_fork();
	if (pid == 0) {
		dup2(fds[0][1], STDOUT_FILENO);
		dup2(fds[1][1], STDERR_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (i = 0; i < 2; i++) {
		close(fds[i][1]);
		p[i].fd = fds[i][0];
		p[i].events = POLLIN;
	}
	while (open) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			FAIL("poll: %s", strerror(errno));
		}
		for (i = 0; i < 2; i++) {
			char chunk[4096];
			ssize_t n, k;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;	/* poll() ignores it now */
				open--;
			}
			for (k = 0; k < n && used[i] + 1 < len[i]; k++)
				buf[i][used[i]++] = chunk[k];
		}
	}
	out[used[0]] = '\0';
	err[used[1]] = '\0';
	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid %s: %s", argv[0], strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	       128 + WTERMSIG(status);
}

/* @n ids as text, separated by @sep: "1,65,66" for --tokens. */
static void ids_list(const uint32_t *ids, uint32_t n, char sep, char *out,
		     size_t len)
{
	size_t pos = 0;
	uint32_t i;

	out[0] = '\0';
	for (i = 0; i < n && pos < len; i++)
		pos += (size_t)snprintf(out + pos, len - pos, "%s%u",
					i ? (char[]){ sep, 0 } : "", ids[i]);
}

/* ---- A minimal JSON checker (for lpu-smi --json) ---------------------------- */

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_value(const char *p, int depth);

static const char *json_string(const char *p)
{
	if (*p != '"')
		return NULL;
	for (p++; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p) || !*p) {
				return NULL;
			}
		}
	}
	return p + 1;
}

static const char *json_value(const char *p, int depth)
{
	p = json_ws(p);
	if (depth > 32)
		return NULL;
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p, depth + 1);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	if (*p == '-' || isdigit((unsigned char)*p)) {
		char *end;

		strtod(p, &end);
		return end == p ? NULL : end;
	}
	return NULL;
}

/* Is @s one valid JSON value (and nothing else)? */
static bool json_valid(const char *s)
{
	const char *end = json_value(s, 0);

	return end && !*json_ws(end);
}

/* ---- Discovery and query ------------------------------------------------------ */

/*
 * The device list: one card (the guest's), its node a character device,
 * its PCI address the one sysfs gives for the node, its attributes sane.
 */
LPU_CASE(runtime_discovery)
{
	struct lpu_device_list *list;
	const char *node, *pci, *v;
	char bdf[64], status[256], *word, *save;
	unsigned long long size, used, queues;
	unsigned int major, minor, words = 0;
	struct stat sb;

	CHECK_LPU(lpu_device_list_new(&list));
	CHECK_EQ(lpu_device_list_count(list), 1);
	node = lpu_device_list_node(list, 0);
	pci = lpu_device_list_pci_address(list, 0);
	CHECK(node && pci);
	lpu_info("card 0: %s, PCI %s", node, pci);
	CHECK(!strncmp(node, "/dev/accel/accel", 16));
	CHECK(stat(node, &sb) == 0 && S_ISCHR(sb.st_mode));
	CHECK_OK(lpu_pci_bdf(node, bdf, sizeof(bdf)));
	if (strcmp(pci, bdf))
		FAIL("PCI address %s, sysfs says %s", pci, bdf);

	v = lpu_device_list_attr(list, 0, "sram_size");
	CHECK(v && sscanf(v, "%llu", &size) == 1 && size > 0);
	v = lpu_device_list_attr(list, 0, "sram_used");
	CHECK(v && sscanf(v, "%llu", &used) == 1 && used <= size);
	v = lpu_device_list_attr(list, 0, "hw_version");
	CHECK(v && sscanf(v, "%u.%u", &major, &minor) == 2 && !strchr(v, '\n'));
	v = lpu_device_list_attr(list, 0, "queue_count");
	CHECK(v && sscanf(v, "%llu", &queues) == 1 && queues >= 1);
	v = lpu_device_list_attr(list, 0, "queue_status");
	CHECK(v && strlen(v) < sizeof(status));
	snprintf(status, sizeof(status), "%s", v);
	for (word = strtok_r(status, " ", &save); word;
	     word = strtok_r(NULL, " ", &save)) {
		if (strcmp(word, "idle") && strcmp(word, "busy") &&
		    strcmp(word, "halted"))
			FAIL("queue_status word '%s' (in '%s')", word, v);
		words++;
	}
	CHECK_EQ(words, queues);
	CHECK(lpu_device_list_attr(list, 0, "no_such_attribute") == NULL);
	/* past the end */
	CHECK(lpu_device_list_node(list, 1) == NULL);
	CHECK(lpu_device_list_pci_address(list, 1) == NULL);
	CHECK(lpu_device_list_attr(list, 1, "sram_size") == NULL);
	lpu_info("SRAM %llu bytes, %llu used, hw %u.%u, queues: %s", size,
		 used, major, minor, v);
	lpu_device_list_free(list);
	return LPU_PASS;
}

/*
 * lpu_device_open() finds the same card by every kind of spec, and says
 * -ENODEV for a card that is not there.
 */
LPU_CASE(runtime_open_spec)
{
	struct lpu_device_list *list;
	struct lpu_device *dev;
	char node[PATH_MAX], pci[64];
	const char *specs[5];
	int i, r;

	CHECK_LPU(lpu_device_list_new(&list));
	CHECK(lpu_device_list_count(list) >= 1);
	snprintf(node, sizeof(node), "%s", lpu_device_list_node(list, 0));
	snprintf(pci, sizeof(pci), "%s", lpu_device_list_pci_address(list, 0));
	lpu_device_list_free(list);

	specs[0] = NULL;
	specs[1] = "";
	specs[2] = "0";
	specs[3] = pci;
	specs[4] = node;
	for (i = 0; i < 5; i++) {
		r = lpu_device_open(specs[i], &dev);
		if (r)
			FAIL("lpu_device_open(%s%s%s): %s (%s)",
			     specs[i] ? "\"" : "", specs[i] ? specs[i] : "NULL",
			     specs[i] ? "\"" : "", lpu_errno_name(-r),
			     lpu_last_error());
		CHECK(!strcmp(lpu_device_node(dev), node));
		CHECK(!strcmp(lpu_device_pci_address(dev), pci));
		CHECK(lpu_device_fd(dev) >= 0);
		lpu_device_close(dev);
	}
	CHECK_RET(lpu_device_open("1", &dev), -ENODEV);
	CHECK_RET(lpu_device_open("0000:ff:1f.7", &dev), -ENODEV);
	r = lpu_device_open("/dev/accel/accel9", &dev);
	if (r != -ENODEV && r != -ENOENT)
		FAIL("lpu_device_open(/dev/accel/accel9): %d (%s), expected "
		     "ENODEV or ENOENT", r, r < 0 ? lpu_errno_name(-r) : "-");
	lpu_info("no card: %s", lpu_last_error());
	r = lpu_device_open("/dev/null", &dev);
	if (r >= 0)
		FAIL("lpu_device_open(/dev/null) succeeded");
	lpu_info("/dev/null: %s: %s", lpu_errno_name(-r), lpu_last_error());
	return LPU_PASS;
}

static unsigned long long sysfs_ull(const char *pci, const char *attr)
{
	char path[PATH_MAX], buf[64];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", pci, attr);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f) || sscanf(buf, "%llu", &v) != 1)
		FAIL("%s: cannot read a number", path);
	fclose(f);
	return v;
}

/*
 * lpu_device_query() agrees with sysfs; a status struct whose size was
 * not set is refused.
 */
LPU_CASE(runtime_query)
{
	struct lpu_device *dev = must_device();
	struct lpu_device_status st, old;
	const char *pci = lpu_device_pci_address(dev);
	char path[PATH_MAX], buf[64];
	unsigned int major, minor;
	FILE *f;

	must_status(dev, &st);
	lpu_info("hw 0x%x, %u queues, caps 0x%llx, SRAM %llu free of %llu, "
		 "%u MHz, %d mC, %lld uW, busy 0x%x", st.hw_version,
		 st.queue_count, (unsigned long long)st.caps,
		 (unsigned long long)st.sram_free,
		 (unsigned long long)st.sram_size, st.clock_mhz,
		 st.temperature_mc, (long long)st.power_uw, st.queue_busy);
	CHECK_EQ(st.size, sizeof(st));
	CHECK_EQ(st.sram_size, sysfs_ull(pci, "sram_size"));
	CHECK_EQ(st.sram_free, st.sram_size - sysfs_ull(pci, "sram_used"));
	CHECK_EQ(st.queue_count, sysfs_ull(pci, "queue_count"));
	CHECK_EQ(st.clock_mhz, sysfs_ull(pci, "clock_mhz"));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/hw_version", pci);
	f = fopen(path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) &&
	      sscanf(buf, "%u.%u", &major, &minor) == 2);
	fclose(f);
	CHECK_EQ(st.hw_version, major << 16 | minor);
	CHECK(st.caps & DRM_LPU_CAP_DMA_SG);
	CHECK(st.temperature_mc == INT32_MIN ||
	      (st.temperature_mc > -50000 && st.temperature_mc < 150000));
	CHECK(st.power_uw >= -1);
	CHECK(st.queue_count >= 32 || !(st.queue_busy >> st.queue_count));

	/* a caller that forgot to set the size is refused */
	memset(&old, 0, sizeof(old));
	CHECK_RET(lpu_device_query(dev, &old), -EINVAL);
	lpu_info("size 0: %s", lpu_last_error());
	lpu_device_close(dev);
	return LPU_PASS;
}

/* ---- Hotplug ------------------------------------------------------------------ */

#define LPU_DRIVER_DIR		"/sys/bus/pci/drivers/lpu"
/* How long an unbind or bind may take to show up as an event. */
#define HOTPLUG_TIMEOUT_MS	10000

/*
 * The next card event of @mon within @timeout_ms, waiting in poll() on
 * its fd: 1 with *@event and @node, 0 when none came (events of other
 * devices are skipped by the library and do not count), or the library's
 * -errno.
 */
static int monitor_wait(struct lpu_monitor *mon, int *event, char *node,
			size_t len, unsigned int timeout_ms)
{
	uint64_t end = lpu_deadline_ns(timeout_ms * 1000000ULL);
	struct pollfd p = { .fd = lpu_monitor_fd(mon), .events = POLLIN };

	CHECK(p.fd >= 0);
	for (;;) {
		uint64_t now;
		int r = lpu_monitor_read(mon, event, node, len);

		if (r)
			return r;
		now = lpu_now_ns();
		if (now >= end)
			return 0;
		r = poll(&p, 1, (int)((end - now + 999999) / 1000000));
		if (r < 0 && errno != EINTR)
			FAIL("poll on the monitor's fd: %s", strerror(errno));
		if (!r)
			return 0;	/* the fd never became readable */
	}
}

static const char *monitor_event_name(int event)
{
	return event == LPU_MONITOR_ADD ? "add" :
	       event == LPU_MONITOR_REMOVE ? "remove" : "?";
}

/* Is PCI device @pci bound to the lpu driver? */
static bool pci_bound_to_lpu(const char *pci)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *name;
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/driver", pci);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	name = strrchr(target, '/');
	return !strcmp(name ? name + 1 : target, "lpu");
}

/*
 * Write @pci to the driver's sysfs file @what ("bind", "unbind") and
 * expect exactly one monitor event, @want, within HOTPLUG_TIMEOUT_MS; its
 * node in @got.
 */
static void driver_write_event(struct lpu_monitor *mon, const char *what,
			       const char *pci, int want, char *got,
			       size_t len)
{
	char path[PATH_MAX];
	uint64_t t0 = lpu_now_ns();
	int event, r;

	snprintf(path, sizeof(path), LPU_DRIVER_DIR "/%s", what);
	r = lpu_sysfs_write(path, pci);
	if (r)
		FAIL("writing %s to %s: %s", pci, path, strerror(-r));
	r = monitor_wait(mon, &event, got, len, HOTPLUG_TIMEOUT_MS);
	if (r < 0)
		FAIL("lpu_monitor_read after the %s: %s (%s)", what,
		     lpu_errno_name(-r), lpu_last_error());
	if (!r)
		FAIL("no event within %u ms of the %s of %s",
		     HOTPLUG_TIMEOUT_MS, what, pci);
	lpu_info("%s: %s %s after %.1f ms", what, monitor_event_name(event),
		 got, (lpu_now_ns() - t0) / 1e6);
	if (event != want)
		FAIL("after the %s: event %s for %s, expected %s", what,
		     monitor_event_name(event), got, monitor_event_name(want));
	/* one event, no more */
	CHECK_RET(monitor_wait(mon, &event, path, sizeof(path), 200), 0);
}

/*
 * Child of runtime_monitor_hotplug: unbind card @pci (node @node) from the
 * driver and bind it again, with a monitor watching. Exits with the
 * result; the parent binds the card again whatever happened.
 */
static void __attribute__((noreturn)) hotplug_child(const char *pci,
						    const char *node)
{
	struct lpu_device_list *list;
	struct lpu_monitor *mon;
	struct lpu_device *dev;
	struct lpu_device_status st;
	char got[PATH_MAX];
	int event = 0;

	CHECK_LPU(lpu_monitor_new(&mon));
	CHECK(lpu_monitor_fd(mon) >= 0);
	/* nothing has happened yet */
	CHECK_RET(lpu_monitor_read(mon, &event, got, sizeof(got)), 0);

	driver_write_event(mon, "unbind", pci, LPU_MONITOR_REMOVE, got,
			   sizeof(got));
	if (strcmp(got, node))
		FAIL("after the unbind: removal of %s, expected %s", got, node);
	/* the card is gone from the list */
	CHECK_LPU(lpu_device_list_new(&list));
	CHECK_EQ(lpu_device_list_count(list), 0);
	lpu_device_list_free(list);
	CHECK_RET(lpu_device_open(pci, &dev), -ENODEV);

	driver_write_event(mon, "bind", pci, LPU_MONITOR_ADD, got,
			   sizeof(got));

	/* the node of the event is the same card, and it works */
	CHECK_LPU(lpu_device_open(got, &dev));
	if (strcmp(lpu_device_pci_address(dev), pci))
		FAIL("the added node %s is PCI %s, expected %s", got,
		     lpu_device_pci_address(dev), pci);
	must_status(dev, &st);
	CHECK(st.sram_size > 0);
	CHECK_EQ(st.sram_free, st.sram_size - sysfs_ull(pci, "sram_used"));
	CHECK(st.queue_count >= 1);
	lpu_must_round_trip(lpu_device_fd(dev), LPU_MiB, 71);
	lpu_device_close(dev);
	CHECK_LPU(lpu_device_list_new(&list));
	CHECK_EQ(lpu_device_list_count(list), 1);
	CHECK(!strcmp(lpu_device_list_node(list, 0), got));
	CHECK(!strcmp(lpu_device_list_pci_address(list, 0), pci));
	lpu_device_list_free(list);
	lpu_monitor_free(mon);
	exit(LPU_PASS);
}

/*
 * The hotplug monitor sees the card go and come back: unbinding it from
 * the driver (sysfs) gives one remove event for its node, binding it
 * again one add event for a node of the same PCI device, which opens and
 * works. The guest runs no udevd, so this is the library's fallback to
 * the kernel's events. The work runs in a child; this process binds the
 * card again however the child ended (failure, alarm, the runner's
 * SIGTERM), so that later tests have a card.
 */
LPU_CASE(runtime_monitor_hotplug)
{
	struct lpu_device_list *list;
	char node[PATH_MAX], pci[64];
	unsigned int left;
	int status, r;
	pid_t pid;

	if (geteuid())
		SKIP("needs root (sysfs bind and unbind)");
	if (access(LPU_DRIVER_DIR "/unbind", W_OK))
		SKIP(LPU_DRIVER_DIR "/unbind: %s", strerror(errno));
	CHECK_LPU(lpu_device_list_new(&list));
	CHECK_EQ(lpu_device_list_count(list), 1);
	snprintf(node, sizeof(node), "%s", lpu_device_list_node(list, 0));
	snprintf(pci, sizeof(pci), "%s", lpu_device_list_pci_address(list, 0));
	lpu_device_list_free(list);
	CHECK(pci_bound_to_lpu(pci));
	lpu_info("card %s, PCI %s", node, pci);

	/*
	 * The child fails at its alarm (5 s earlier than this process's
	 * would have) or by the runner's SIGTERM; this process waits for it
	 * through both.
	 */
	left = alarm_left();
	signal(SIGTERM, SIG_IGN);
	pid = must_fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		if (left > 10)
			alarm(left - 5);
		hotplug_child(pci, node);
	}
	alarm(0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			FAIL("waitpid: %s", strerror(errno));

	if (!pci_bound_to_lpu(pci)) {
		lpu_info("binding %s again", pci);
		r = lpu_sysfs_write(LPU_DRIVER_DIR "/bind", pci);
		if (r)
			FAIL("writing %s to " LPU_DRIVER_DIR "/bind: %s", pci,
			     strerror(-r));
	}
	r = lpu_node_of_bdf(pci, node, sizeof(node), 5000);
	if (r)
		FAIL("no accel node for %s after the test: %s", pci,
		     strerror(-r));
	signal(SIGTERM, SIG_DFL);
	if (WIFSIGNALED(status))
		FAIL("the child died of signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) == LPU_SKIP)
		return LPU_SKIP;
	if (WEXITSTATUS(status) != LPU_PASS)
		FAIL("the child failed (exit status %d)", WEXITSTATUS(status));
	return LPU_PASS;
}

/* ---- Models ----------------------------------------------------------------- */

/*
 * Load a tiny model: its description is the model's, it holds its SRAM
 * footprint until unloaded; loading the same bytes from memory gives the
 * same description.
 */
static void load_model(const char *name, bool int8)
{
	struct lpu_device *dev = must_device();
	struct lpu_model_info info, info2;
	struct lpu_model *model, *model2;
	uint64_t free0, free1;
	struct stat sb;
	void *buf;
	int fd;

	free0 = sram_free_of(dev);
	model = must_load(dev, name);
	must_info(model, &info);
	lpu_info("%s: footprint %llu, vocab %u, context %u, prompt_max %u, "
		 "flags 0x%x, cycles %llu + %llu/position + %llu, vocab %s",
		 name, (unsigned long long)info.sram_footprint,
		 info.vocab_size, info.context_len, info.prompt_max,
		 info.flags, (unsigned long long)info.cycles_prologue,
		 (unsigned long long)info.cycles_per_token,
		 (unsigned long long)info.cycles_epilogue,
		 info.has_vocab ? "yes" : "no");
	CHECK_EQ(info.vocab_size, TINY_VOCAB);
	CHECK_EQ(info.context_len, TINY_CONTEXT);
	CHECK_EQ(info.prompt_max, TINY_CONTEXT);
	CHECK_EQ(!!(info.flags & LPU_PROG_INT8), int8);
	CHECK(info.sram_footprint > 0);
	CHECK(info.cycles_per_token > 0);
	CHECK(info.has_vocab);
	free1 = sram_free_of(dev);
	CHECK(free1 + info.sram_footprint <= free0);

	/* the same file from memory, loaded a second time */
	fd = open(data_path(name), O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && fstat(fd, &sb) == 0);
	buf = malloc((size_t)sb.st_size);
	CHECK(buf && read(fd, buf, (size_t)sb.st_size) == sb.st_size);
	close(fd);
	CHECK_LPU(lpu_model_load_memory(dev, buf, (size_t)sb.st_size,
					&model2));
	free(buf);
	must_info(model2, &info2);
	CHECK(!memcmp(&info, &info2, sizeof(info)));
	CHECK(sram_free_of(dev) + info.sram_footprint <= free1);
	lpu_model_unload(model2);
	must_sram_free_again(dev, free1, "after unloading the second copy");

	lpu_model_unload(model);
	must_sram_free_again(dev, free0, "after unloading");
	lpu_device_close(dev);
}

LPU_CASE(runtime_load_f32)
{
	load_model(MODEL_F32, false);
	return LPU_PASS;
}

LPU_CASE(runtime_load_int8)
{
	load_model(MODEL_INT8, true);
	return LPU_PASS;
}

/*
 * A missing file and malformed ones fail with a message naming the file,
 * and hold no SRAM.
 */
LPU_CASE(runtime_load_errors)
{
	static const char trunc_path[] = "/tmp/runtime-truncated.lpu";
	static const char junk_path[] = "/tmp/runtime-junk.lpu";
	struct lpu_device *dev = must_device();
	struct lpu_model *model;
	uint64_t free0 = sram_free_of(dev);
	char buf[8192];
	ssize_t n;
	int in, out, r;

	CHECK_RET(lpu_model_load(dev, "/nonexistent/model.lpu", &model),
		  -ENOENT);
	lpu_info("missing: %s", lpu_last_error());
	CHECK(strstr(lpu_last_error(), "/nonexistent/model.lpu"));

	/* the first 8 KiB of the model: a cut ELF file */
	in = open(data_path(MODEL_F32), O_RDONLY | O_CLOEXEC);
	CHECK(in >= 0);
	n = read(in, buf, sizeof(buf));
	CHECK(n == (ssize_t)sizeof(buf));
	close(in);
	out = open(trunc_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(out >= 0 && write(out, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(out);
	r = lpu_model_load(dev, trunc_path, &model);
	if (r >= 0)
		FAIL("a truncated program loaded");
	lpu_info("truncated: %s: %s", lpu_errno_name(-r), lpu_last_error());
	CHECK(strstr(lpu_last_error(), trunc_path));

	/* not an ELF file at all */
	out = open(junk_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	lpu_fill_random(buf, sizeof(buf), 42);
	CHECK(out >= 0 && write(out, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(out);
	r = lpu_model_load(dev, junk_path, &model);
	if (r >= 0)
		FAIL("random bytes loaded as a program");
	lpu_info("junk: %s: %s", lpu_errno_name(-r), lpu_last_error());
	CHECK(strstr(lpu_last_error(), junk_path));
	r = lpu_model_load_memory(dev, buf, 16, &model);
	if (r >= 0)
		FAIL("16 random bytes loaded as a program");

	unlink(trunc_path);
	unlink(junk_path);
	CHECK_EQ(sram_free_of(dev), free0);
	lpu_device_close(dev);
	return LPU_PASS;
}

/*
 * With most of the SRAM taken by this process (an allocation on the
 * library's own file), a model that does not fit fails with -ENOSPC and
 * a message naming the file, takes nothing, and loads once there is room.
 */
LPU_CASE(runtime_enospc)
{
	struct lpu_device *dev = must_device();
	struct drm_lpu_device_info dinfo;
	struct lpu_model_info info;
	struct lpu_model *model;
	struct lpu_sram big;
	uint64_t free0, need, size;
	int fd = lpu_device_fd(dev), r;

	free0 = sram_free_of(dev);
	model = must_load(dev, MODEL_F32);
	must_info(model, &info);
	lpu_model_unload(model);
	must_sram_free_again(dev, free0, "after unloading");
	lpu_must_query(fd, &dinfo);
	/* what the model takes, in whole allocation granules */
	need = (info.sram_footprint + dinfo.sram_align - 1) /
	       dinfo.sram_align * dinfo.sram_align;
	CHECK(free0 >= need);
	/* leave one granule less than the model needs */
	size = free0 - need + dinfo.sram_align;
	lpu_info("SRAM free %llu, model needs %llu: allocating %llu",
		 (unsigned long long)free0, (unsigned long long)need,
		 (unsigned long long)size);
	lpu_must_sram_alloc(fd, size, &big);
	CHECK_EQ(sram_free_of(dev), free0 - big.size);

	r = lpu_model_load(dev, data_path(MODEL_F32), &model);
	CHECK_RET(r, -ENOSPC);
	lpu_info("message: %s", lpu_last_error());
	CHECK(strstr(lpu_last_error(), data_path(MODEL_F32)));
	CHECK_EQ(sram_free_of(dev), free0 - big.size);

	lpu_must_sram_free(fd, &big);
	model = must_load(dev, MODEL_F32);
	lpu_model_unload(model);
	must_sram_free_again(dev, free0, "after unloading");
	lpu_device_close(dev);
	return LPU_PASS;
}

/* ---- Streams ---------------------------------------------------------------- */

static void stream_case(const char *model_name, const char *expected_name)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model = must_load(dev, model_name);
	struct expected e;

	must_expected(expected_name, &e);
	stream_expected(model, &e);
	/* a model streams again and again */
	stream_expected(model, &e);
	lpu_model_unload(model);
	lpu_device_close(dev);
}

LPU_CASE(runtime_stream_f32)
{
	stream_case(MODEL_F32, "tiny-f32.expected");
	return LPU_PASS;
}

LPU_CASE(runtime_stream_int8)
{
	stream_case(MODEL_INT8, "tiny-int8.expected");
	return LPU_PASS;
}

/*
 * Sampling on the card: temperature, top-p and seed give lpu-sim's tokens
 * (on every queue), and another seed other tokens.
 */
LPU_CASE(runtime_stream_sampled)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model = must_load(dev, MODEL_F32);
	struct lpu_device_status dst;
	struct lpu_stream_options o;
	struct lpu_stream *stream;
	struct expected e;
	uint32_t token, i, same = 0;
	int q;

	must_expected("runtime/sampled.expected", &e);
	CHECK(e.temperature > 0 && e.seed);
	stream_expected(model, &e);
	must_status(dev, &dst);
	for (q = 0; q < (int)dst.queue_count; q++) {
		o = (struct lpu_stream_options){
			.size = sizeof(o), .max_tokens = e.steps,
			.seed = e.seed, .temperature = e.temperature,
			.top_p = e.top_p, .queue = q,
		};
		stream = must_start_opts(model, e.prompt, e.prompt_len, &o);
		for (i = 0; i < e.n_tokens; i++) {
			CHECK_RET(must_next(stream, &token), 1);
			if (token != e.tokens[i])
				FAIL("queue %d: token %u is %u, lpu-sim says %u",
				     q, i, token, e.tokens[i]);
		}
		CHECK_RET(must_next(stream, &token), 0);
		lpu_stream_free(stream);
	}

	o.queue = -1;
	o.seed = e.seed + 1;
	stream = must_start_opts(model, e.prompt, e.prompt_len, &o);
	for (i = 0; must_next(stream, &token) == 1; i++)
		same += i < e.n_tokens && token == e.tokens[i];
	lpu_info("seed %llu: %u of %u tokens as with seed %llu",
		 (unsigned long long)o.seed, same, i,
		 (unsigned long long)e.seed);
	CHECK(same < e.n_tokens);
	lpu_stream_free(stream);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}

/* Another prompt; and a budget beyond the context (the run ends there). */
LPU_CASE(runtime_stream_prompts)
{
	stream_case(MODEL_F32, "tiny-f32-b.expected");
	stream_case(MODEL_F32, "tiny-f32-ctx.expected");
	return LPU_PASS;
}

/*
 * Text in: the model's tokenizer encodes the prompt as lpu-sim does, and
 * the tokens generated from it are lpu-sim's; every one decodes.
 */
LPU_CASE(runtime_stream_text)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model = must_load(dev, MODEL_F32);
	struct lpu_tokenizer *tok;
	struct expected e;
	uint32_t ids[MAX_PROMPT], i;
	int n;

	must_expected("runtime/text.expected", &e);
	CHECK_LPU(lpu_tokenizer_from_model(model, &tok));
	CHECK_EQ(lpu_tokenizer_vocab_size(tok), TINY_VOCAB);
	n = lpu_tokenizer_encode(tok, e.text, true, ids, MAX_PROMPT);
	CHECK_LPU(n);
	CHECK_EQ(n, e.prompt_len);
	for (i = 0; i < e.prompt_len; i++)
		if (ids[i] != e.prompt[i])
			FAIL("\"%s\": token %u is %u, lpu-sim says %u", e.text,
			     i, ids[i], e.prompt[i]);
	CHECK_EQ(ids[0], TOKEN_BOS);
	CHECK_RET(lpu_tokenizer_encode(tok, e.text, true, ids, 1), -ENOSPC);
	stream_expected(model, &e);
	for (i = 0; i < e.n_tokens; i++)
		if (!lpu_tokenizer_decode(tok, i ? e.tokens[i - 1] :
					  e.prompt[e.prompt_len - 1],
					  e.tokens[i]))
			FAIL("token %u (%u) does not decode", i, e.tokens[i]);
	CHECK(lpu_tokenizer_decode(tok, 0, TINY_VOCAB) == NULL);
	lpu_tokenizer_free(tok);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}

/* A model runs one stream at a time: -EBUSY, then fine once it is freed. */
LPU_CASE(runtime_stream_busy)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model = must_load(dev, PROG_SLOW);
	struct lpu_stream *stream, *second;
	struct lpu_stream_options o = { .size = sizeof(o), .queue = -1 };
	uint32_t prompt = 1, token;
	struct expected e;

	stream = must_start(model, &prompt, 1, 100000);
	CHECK_RET(lpu_stream_start(model, &prompt, 1, &o, &second), -EBUSY);
	CHECK_RET(must_next(stream, &token), 1);
	CHECK_EQ(token, 1);
	lpu_stream_free(stream);	/* cancels the running stream */
	lpu_model_unload(model);

	model = must_load(dev, MODEL_F32);
	must_expected("tiny-f32.expected", &e);
	stream = must_start(model, e.prompt, e.prompt_len, e.steps);
	CHECK_RET(lpu_stream_start(model, e.prompt, e.prompt_len, &o,
				   &second), -EBUSY);
	lpu_stream_free(stream);
	stream_expected(model, &e);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}

/*
 * Cancel mid-stream: lpu_stream_next() says -ECANCELED from then on, the
 * statistics say cancelled, and the model runs again from the start.
 */
LPU_CASE(runtime_cancel)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model = must_load(dev, PROG_SLOW);
	struct lpu_stream_stats st;
	struct lpu_stream *stream;
	uint32_t prompt = 1, token, i;
	struct expected e;
	uint64_t t0;
	int r;

	stream = must_start(model, &prompt, 1, 100000);
	for (i = 1; i <= 3; i++) {
		CHECK_RET(must_next(stream, &token), 1);
		CHECK_EQ(token, i);
	}
	t0 = lpu_now_ns();
	CHECK_LPU(lpu_stream_cancel(stream));
	CHECK_RET(lpu_stream_next(stream, &token, NEXT_TIMEOUT_MS),
		  -ECANCELED);
	CHECK_RET(lpu_stream_next(stream, &token, 0), -ECANCELED);
	lpu_info("cancelled in %.2f ms", (lpu_now_ns() - t0) / 1e6);
	/* cancelling again is harmless */
	lpu_stream_cancel(stream);
	must_stats(stream, &st);
	CHECK_EQ(st.state, LPU_STREAM_STATE_CANCELED);
	CHECK(st.tokens >= 3);
	lpu_stream_free(stream);

	/* the same model, from the start: 1..5 and the end */
	stream = must_start(model, &prompt, 1, 5);
	for (i = 1; i <= 5; i++) {
		CHECK_RET(must_next(stream, &token), 1);
		CHECK_EQ(token, i);
	}
	CHECK_RET(must_next(stream, &token), 0);
	must_stats(stream, &st);
	CHECK_EQ(st.state, LPU_STREAM_STATE_DONE);
	lpu_stream_free(stream);
	lpu_model_unload(model);

	/* a real model cancelled after its first token, then run in full */
	model = must_load(dev, MODEL_F32);
	must_expected("tiny-f32.expected", &e);
	stream = must_start(model, e.prompt, e.prompt_len, e.steps);
	CHECK_RET(must_next(stream, &token), 1);
	CHECK_EQ(token, e.tokens[0]);
	CHECK_LPU(lpu_stream_cancel(stream));
	r = lpu_stream_next(stream, &token, NEXT_TIMEOUT_MS);
	must_stats(stream, &st);
	/* cancelled, unless it had finished already */
	if (r != -ECANCELED && !(r >= 0 &&
				 st.state == LPU_STREAM_STATE_DONE))
		FAIL("lpu_stream_next after cancel: %d (%s), state %u", r,
		     r < 0 ? lpu_errno_name(-r) : "-", st.state);
	lpu_info("tiny model after cancel: %s, %u tokens",
		 r == -ECANCELED ? "cancelled" : "had finished", st.tokens);
	lpu_stream_free(stream);
	stream_expected(model, &e);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}

/*
 * Timeouts: on a program that never emits, lpu_stream_next() with timeout
 * 0 returns -ETIMEDOUT at once and with 200 ms after about that long; on
 * a slow stream, polling with timeout 0 sees -ETIMEDOUT or the next token
 * in order.
 */
LPU_CASE(runtime_timeout)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model = must_load(dev, PROG_LOOP);
	struct lpu_stream *stream;
	uint32_t prompt = 1, token, want = 1, polls = 0;
	uint64_t t0, dt, end;
	int r, i;

	/* it takes no prompt (prompt_max 0) */
	stream = must_start(model, NULL, 0, 16);
	for (i = 0; i < 3; i++) {
		t0 = lpu_now_ns();
		CHECK_RET(lpu_stream_next(stream, &token, 0), -ETIMEDOUT);
		dt = lpu_now_ns() - t0;
		if (dt > 500000000ULL)
			FAIL("timeout 0 took %.1f ms", dt / 1e6);
	}
	t0 = lpu_now_ns();
	CHECK_RET(lpu_stream_next(stream, &token, 200), -ETIMEDOUT);
	dt = lpu_now_ns() - t0;
	lpu_info("timeout 200 ms returned after %.1f ms", dt / 1e6);
	if (dt < 190000000ULL || dt > 5000000000ULL)
		FAIL("timeout 200 ms returned after %.1f ms", dt / 1e6);
	CHECK_LPU(lpu_stream_cancel(stream));
	CHECK_RET(lpu_stream_next(stream, &token, NEXT_TIMEOUT_MS),
		  -ECANCELED);
	lpu_stream_free(stream);
	lpu_model_unload(model);

	model = must_load(dev, PROG_SLOW);
	stream = must_start(model, &prompt, 1, 100000);
	end = lpu_deadline_ns(NEXT_TIMEOUT_MS * 1000000ULL);
	while (want <= 3) {
		r = lpu_stream_next(stream, &token, 0);
		polls++;
		if (r == 1) {
			CHECK_EQ(token, want);
			want++;
			continue;
		}
		if (r != -ETIMEDOUT)
			FAIL("lpu_stream_next(timeout 0): %d (%s)", r,
			     r < 0 ? lpu_errno_name(-r) : "-");
		if (lpu_now_ns() > end)
			FAIL("no token %u in %d ms of polling", want,
			     NEXT_TIMEOUT_MS);
		usleep(1000);
	}
	lpu_info("3 tokens in %u polls", polls);
	lpu_stream_free(stream);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}

/*
 * Read @stream to its end with an epoll loop on lpu_stream_fd(), taking
 * tokens only with lpu_stream_next(timeout 0). Returns the token count;
 * *@wakeups and *@empty count the wakeups and those with nothing to read.
 */
static uint32_t epoll_collect(struct lpu_stream *stream, uint32_t *got,
			      uint32_t max, uint32_t *wakeups, uint32_t *empty)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	uint32_t n = 0, token;
	bool done = false;
	int ep, sfd, r;

	*wakeups = *empty = 0;
	sfd = lpu_stream_fd(stream);
	CHECK_LPU(sfd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0);
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev));
	while (!done) {
		bool any = false;

		r = epoll_wait(ep, &out, 1, NEXT_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			FAIL("epoll_wait: %s after %u tokens",
			     r ? strerror(errno) : "timed out", n);
		(*wakeups)++;
		/* drain what is there without waiting */
		for (;;) {
			r = lpu_stream_next(stream, &token, 0);
			if (r == -ETIMEDOUT)
				break;
			if (r < 0)
				FAIL("lpu_stream_next: %s (%s)",
				     lpu_errno_name(-r), lpu_last_error());
			any = true;
			if (r == 0) {
				done = true;
				break;
			}
			if (n == max)
				FAIL("more than %u tokens", max);
			got[n++] = token;
		}
		if (!any)
			(*empty)++;
	}
	close(ep);
	/* readable means something to read: no busy loop */
	if (*empty > n / 2 + 2)
		FAIL("%u of %u wakeups found nothing to read", *empty,
		     *wakeups);
	return n;
}

/*
 * An epoll loop on lpu_stream_fd() gets every token: the fd is readable
 * whenever lpu_stream_next() has something, and at the stream's end; on
 * a slow stream it wakes the loop token by token.
 */
LPU_CASE(runtime_epoll)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model = must_load(dev, MODEL_F32);
	struct lpu_stream *stream;
	struct expected e;
	uint32_t got[MAX_TOKENS], n, wakeups, empty, prompt = 1, i;

	must_expected("tiny-f32-b.expected", &e);
	stream = must_start(model, e.prompt, e.prompt_len, e.steps);
	n = epoll_collect(stream, got, MAX_TOKENS, &wakeups, &empty);
	check_tokens(got, n, &e, "epoll");
	lpu_info("%s: %u tokens in %u wakeups (%u with nothing to read)",
		 e.file, n, wakeups, empty);
	lpu_stream_free(stream);
	lpu_model_unload(model);

	model = must_load(dev, PROG_SLOW);
	stream = must_start(model, &prompt, 1, 10);
	n = epoll_collect(stream, got, MAX_TOKENS, &wakeups, &empty);
	lpu_info("emit_slow: %u tokens in %u wakeups (%u with nothing to "
		 "read)", n, wakeups, empty);
	CHECK_EQ(n, 10);
	for (i = 0; i < n; i++)
		CHECK_EQ(got[i], i + 1);
	CHECK(wakeups >= 2);
	lpu_stream_free(stream);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}

/* ---- Several processes ------------------------------------------------------ */

/*
 * A child: its own device and model; stream @file @rounds times, or with
 * @rounds 0 until the parent writes 'S' (at least once).
 */
static void stream_child(const char *file, int rounds, int ready_w, int go_r)
{
	struct lpu_device *dev = must_device();
	struct expected e;
	struct lpu_model *model;
	int i;

	must_expected(file, &e);
	model = must_load(dev, e.program);
	quiet_streams = !rounds;
	must_write_byte(ready_w, 'R');
	must_read_byte(go_r, 'G', "waiting for the parent");
	for (i = 0; rounds ? i < rounds : true; i++) {
		struct pollfd p = { .fd = go_r, .events = POLLIN };

		stream_expected(model, &e);
		if (!rounds && poll(&p, 1, 0) == 1) {
			must_read_byte(go_r, 'S', "waiting for the parent");
			lpu_info("%s: %d rounds, every token right", file,
				 i + 1);
			break;
		}
	}
	lpu_model_unload(model);
	lpu_device_close(dev);
	_exit(LPU_PASS);
}

static const char *const four_files[4] = {
	"tiny-f32.expected", "tiny-f32-b.expected", "tiny-int8.expected",
	"tiny-f32-ctx.expected",
};

/* A child streaming its expected file (stream_child()), seen from above. */
struct streamer {
	const char *file;
	pid_t pid;
	int ready;	/* read end: 'R' when its model is loaded */
	int go;		/* write end: 'G' to start, 'S' to stop */
};

/* Fork @n streamers of four_files[], each @rounds; wait until loaded. */
static void streamers_start(struct streamer *c, int n, int rounds)
{
	int i;

	signal(SIGPIPE, SIG_IGN);	/* a dead child: EPIPE, not a signal */
	for (i = 0; i < n; i++) {
		int ready[2], go[2];

		if (pipe(ready) || pipe(go))
			FAIL("pipe: %s", strerror(errno));
		c[i].file = four_files[i];
		c[i].pid = must_fork();
		if (c[i].pid == 0) {
			close(ready[0]);
			close(go[1]);
			stream_child(c[i].file, rounds, ready[1], go[0]);
		}
		close(ready[1]);
		close(go[0]);
		c[i].ready = ready[0];
		c[i].go = go[1];
	}
	for (i = 0; i < n; i++)
		must_read_byte(c[i].ready, 'R', c[i].file);
}

static void streamers_send(struct streamer *c, int n, char what)
{
	int i;

	for (i = 0; i < n; i++)
		must_write_byte(c[i].go, what);
}

/* Wait for every streamer: each must pass. */
static void streamers_reap(struct streamer *c, int n)
{
	char what[96];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "the child streaming %s",
			 c[i].file);
		must_reap(c[i].pid, what);
		close(c[i].ready);
		close(c[i].go);
	}
}

/*
 * Four processes stream at once on the one card, each with its own
 * prompt or model; each gets exactly its own tokens, twice.
 */
LPU_CASE(runtime_four_procs)
{
	struct lpu_device *dev = must_exec_device();
	uint64_t free0 = sram_free_of(dev);
	struct streamer c[4];

	streamers_start(c, 4, 2);
	lpu_info("4 models loaded: SRAM free %llu of %llu before",
		 (unsigned long long)sram_free_of(dev),
		 (unsigned long long)free0);
	streamers_send(c, 4, 'G');
	streamers_reap(c, 4);
	must_sram_free_again(dev, free0, "after the four processes");
	lpu_device_close(dev);
	return LPU_PASS;
}

/*
 * The victim: the tiny model loaded (SRAM to free) and a long stream,
 * reported running after two tokens.
 */
static void victim_child(int ready_w)
{
	struct lpu_device *dev = must_device();
	struct lpu_model *tiny = must_load(dev, MODEL_F32);
	struct lpu_model *model = must_load(dev, PROG_SLOW);
	struct lpu_stream *stream;
	uint32_t prompt = 1, token;

	stream = must_start(model, &prompt, 1, 100000);
	CHECK_RET(must_next(stream, &token), 1);
	CHECK_RET(must_next(stream, &token), 1);
	must_write_byte(ready_w, 'R');
	/* stream until killed, the tiny model loaded all the while */
	while (must_next(stream, &token) == 1)
		;
	lpu_model_unload(tiny);
	FAIL("the victim's stream ended before it was killed");
}

/*
 * A process SIGKILLed mid-stream: the two others streaming at the same
 * time get all their tokens right, the victim's SRAM is free again within
 * 2 s, and the card runs a new stream afterwards.
 */
LPU_CASE(runtime_sigkill)
{
	struct lpu_device *dev = must_exec_device();
	struct lpu_model *model;
	struct streamer c[2];
	struct expected e;
	uint64_t free0, held, t0;
	int ready[2], status;
	pid_t victim;

	streamers_start(c, 2, 0);
	free0 = sram_free_of(dev);
	if (pipe(ready))
		FAIL("pipe: %s", strerror(errno));
	victim = must_fork();
	if (victim == 0) {
		close(ready[0]);
		victim_child(ready[1]);
	}
	close(ready[1]);
	must_read_byte(ready[0], 'R', "the victim");
	close(ready[0]);
	held = free0 - sram_free_of(dev);
	CHECK(held > 0);

	streamers_send(c, 2, 'G');
	usleep(50000);	/* the others are streaming now */
	t0 = lpu_now_ns();
	CHECK_OK(kill(victim, SIGKILL));
	if (waitpid(victim, &status, 0) != victim)
		FAIL("waitpid: %s", strerror(errno));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	must_sram_free_again(dev, free0, "after the victim was killed");
	lpu_info("victim held %llu bytes; free again after %.1f ms",
		 (unsigned long long)held, (lpu_now_ns() - t0) / 1e6);
	usleep(50000);	/* the others go on streaming for a while */
	streamers_send(c, 2, 'S');
	streamers_reap(c, 2);

	/* and the card goes on */
	model = must_load(dev, MODEL_F32);
	must_expected("tiny-f32.expected", &e);
	stream_expected(model, &e);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}

/* ---- Access: the udev rule and non-root users ------------------------------- */

/* The one rule of 70-lpu.rules that matches the card's node. */
static void must_card_rule(const char *node, struct udev_rule *out)
{
	struct udev_rule rules[16];
	char sys[PATH_MAX], err[512];
	int n, i, matched = 0;

	n = udev_rules_load(data_path(RULES_FILE), rules, 16, err, sizeof(err));
	if (n < 0)
		FAIL("%s %s", err, DATA_HINT);
	node_sysfs(node, sys, sizeof(sys));
	for (i = 0; i < n; i++) {
		int r = udev_rule_match(&rules[i], sys, "add", err,
					sizeof(err));

		if (r < 0)
			FAIL("%s: %s", data_path(RULES_FILE), err);
		if (r) {
			*out = rules[i];
			matched++;
		}
	}
	if (matched != 1)
		FAIL("%d rules of %s match %s (%s), expected 1", matched,
		     data_path(RULES_FILE), node, sys);
}

/*
 * 70-lpu.rules, read as udev reads it, matches the card's accel device
 * (its sysfs: SUBSYSTEM accel, the PCI parent's DRIVERS lpu) and gives it
 * group render, mode 0660; it matches neither the PCI device itself nor
 * other devices.
 */
LPU_CASE(runtime_udev_rule)
{
	struct lpu_device *dev = must_device();
	struct udev_rule rule;
	char sys[PATH_MAX], err[512];
	const char *others[] = { "/sys/devices/virtual/mem/null",
				 "/sys/class/tty/console" };
	unsigned int i;

	must_card_rule(lpu_device_node(dev), &rule);
	CHECK(udev_rule_assigned(&rule, "GROUP") &&
	      !strcmp(udev_rule_assigned(&rule, "GROUP"), RENDER_GROUP));
	CHECK(udev_rule_assigned(&rule, "MODE") &&
	      !strcmp(udev_rule_assigned(&rule, "MODE"), "0660"));
	snprintf(sys, sizeof(sys), "/sys/bus/pci/devices/%s",
		 lpu_device_pci_address(dev));
	CHECK_RET(udev_rule_match(&rule, sys, "add", err, sizeof(err)), 0);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (access(others[i], F_OK))
			continue;
		CHECK_RET(udev_rule_match(&rule, others[i], "add", err,
					  sizeof(err)), 0);
	}
	lpu_device_close(dev);
	return LPU_PASS;
}

/* gid of @group in /etc/group, or -1. */
static long group_gid(const char *group)
{
	char line[512];
	size_t len = strlen(group);
	long gid = -1;
	FILE *f = fopen("/etc/group", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, group, len) && line[len] == ':') {
			char *p = strchr(line + len + 1, ':');

			if (p)
				gid = strtol(p + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return gid;
}

static bool passwd_has(const char *user)
{
	char line[512];
	size_t len = strlen(user);
	bool found = false;
	FILE *f = fopen("/etc/passwd", "r");

	while (f && fgets(line, sizeof(line), f) && !found)
		found = !strncmp(line, user, len) && line[len] == ':';
	if (f)
		fclose(f);
	return found;
}

static void must_append(const char *file, const char *line)
{
	FILE *f = fopen(file, "a");

	if (!f || fputs(line, f) < 0 || fclose(f))
		FAIL("appending to %s: %s", file, strerror(errno));
}

/*
 * The users of these cases, made once per boot: USER_RENDER in the group
 * render (made if missing), USER_OTHER in a group of its own only.
 */
static gid_t must_users(void)
{
	char line[256];
	long render;

	if (geteuid())
		SKIP("needs root to make users (running as uid %d)",
		     (int)geteuid());
	render = group_gid(RENDER_GROUP);
	if (render < 0) {
		render = 990;
		snprintf(line, sizeof(line), "%s:x:%ld:%s\n", RENDER_GROUP,
			 render, USER_RENDER);
		must_append("/etc/group", line);
	}
	if (!passwd_has(USER_RENDER)) {
		snprintf(line, sizeof(line), "%s:x:%d:%d::/tmp:/bin/sh\n",
			 USER_RENDER, UID_RENDER, UID_RENDER);
		must_append("/etc/passwd", line);
		snprintf(line, sizeof(line), "%s:x:%d:\n", USER_RENDER,
			 UID_RENDER);
		must_append("/etc/group", line);
	}
	if (!passwd_has(USER_OTHER)) {
		snprintf(line, sizeof(line), "%s:x:%d:%d::/tmp:/bin/sh\n",
			 USER_OTHER, UID_OTHER, UID_OTHER);
		must_append("/etc/passwd", line);
		snprintf(line, sizeof(line), "%s:x:%d:\n", USER_OTHER,
			 UID_OTHER);
		must_append("/etc/group", line);
	}
	return (gid_t)render;
}

struct node_perm {
	char node[PATH_MAX];
	struct stat old;
};

/*
 * What udevd would do on the card's "add" event with 70-lpu.rules: the
 * rule that matches the node (checked against sysfs) sets its group and
 * mode. Undone by restore_node().
 */
static void apply_rule(const char *node, gid_t render, struct node_perm *p)
{
	struct udev_rule rule;
	const char *group, *mode;
	long gid;

	snprintf(p->node, sizeof(p->node), "%s", node);
	CHECK_OK(stat(node, &p->old));
	must_card_rule(node, &rule);
	group = udev_rule_assigned(&rule, "GROUP");
	mode = udev_rule_assigned(&rule, "MODE");
	CHECK(group && mode);
	gid = group_gid(group);
	CHECK(gid >= 0);
	CHECK_EQ(gid, render);
	CHECK_OK(chown(node, (uid_t)-1, (gid_t)gid));
	CHECK_OK(chmod(node, (mode_t)strtoul(mode, NULL, 8)));
	lpu_info("%s: group %s (%ld), mode %s, as the rule of %s line %d says",
		 node, group, gid, mode, RULES_FILE, rule.line);
}

static void restore_node(const struct node_perm *p)
{
	CHECK_OK(chown(p->node, p->old.st_uid, p->old.st_gid));
	CHECK_OK(chmod(p->node, p->old.st_mode & 07777));
}

/* In a child: become @uid with primary group @gid and @groups. */
static void become(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	CHECK_OK(setgroups(n, groups));
	CHECK_OK(setgid(gid));
	CHECK_OK(setuid(uid));
	CHECK_EQ(geteuid(), uid);
}

/*
 * A user in the group render opens the card and streams once the rule
 * is applied; a user outside it gets -EACCES, by index and by node.
 */
LPU_CASE(runtime_nonroot)
{
	struct lpu_device *dev = must_exec_device();
	struct node_perm perm;
	gid_t render = must_users();
	char node[PATH_MAX];
	pid_t pid;

	snprintf(node, sizeof(node), "%s", lpu_device_node(dev));
	lpu_device_close(dev);
	apply_rule(node, render, &perm);

	pid = must_fork();
	if (pid == 0) {
		struct expected e;
		struct lpu_model *model;

		become(UID_RENDER, UID_RENDER, &render, 1);
		CHECK_LPU(lpu_device_open(node, &dev));
		lpu_device_close(dev);
		dev = must_device();
		must_expected("tiny-f32.expected", &e);
		model = must_load(dev, MODEL_F32);
		stream_expected(model, &e);
		lpu_model_unload(model);
		lpu_device_close(dev);
		_exit(LPU_PASS);
	}
	must_reap(pid, "the user " USER_RENDER " (group " RENDER_GROUP ")");

	pid = must_fork();
	if (pid == 0) {
		gid_t own = UID_OTHER;

		become(UID_OTHER, UID_OTHER, &own, 1);
		CHECK_RET(lpu_device_open(node, &dev), -EACCES);
		lpu_info("%s: %s", USER_OTHER, lpu_last_error());
		CHECK(strstr(lpu_last_error(), node));
		CHECK_RET(lpu_device_open(NULL, &dev), -EACCES);
		_exit(LPU_PASS);
	}
	must_reap(pid, "the user " USER_OTHER " (not in " RENDER_GROUP ")");
	restore_node(&perm);
	return LPU_PASS;
}

/*
 * A normal user whose RLIMIT_MEMLOCK allows no pinning (0), or .text but
 * not the image (8 KiB), still loads a model: liblpu copies what it cannot
 * pin into its staging buffer, and the stream is the reference sequence.
 */
LPU_CASE(runtime_memlock_fallback)
{
	static const rlim_t limits[] = { 0, 8192 };
	struct lpu_device *dev = must_exec_device();
	struct node_perm perm;
	gid_t render = must_users();
	char node[PATH_MAX];
	unsigned int i;
	pid_t pid;

	snprintf(node, sizeof(node), "%s", lpu_device_node(dev));
	lpu_device_close(dev);
	apply_rule(node, render, &perm);
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		pid = must_fork();
		if (pid == 0) {
			struct rlimit rl = { limits[i], limits[i] };
			struct drm_lpu_bo_userptr u = { 0 };
			struct expected e;
			struct lpu_model *model;
			void *mem;

			CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
			become(UID_RENDER, UID_RENDER, &render, 1);
			dev = must_device();
			/* the limit is real: 64 KiB cannot be pinned */
			mem = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				   -1, 0);
			CHECK(mem != MAP_FAILED);
			u.addr = (uintptr_t)mem;
			u.size = 65536;
			u.flags = DRM_LPU_BO_USERPTR_READ_ONLY;
			CHECK(ioctl(lpu_device_fd(dev), DRM_IOCTL_LPU_BO_USERPTR,
				    &u) == -1 && errno == ENOMEM);
			must_expected("tiny-f32.expected", &e);
			model = must_load(dev, MODEL_F32);
			stream_expected(model, &e);
			lpu_model_unload(model);
			lpu_device_close(dev);
			_exit(LPU_PASS);
		}
		must_reap(pid, "the user " USER_RENDER " with a memlock limit");
	}
	restore_node(&perm);
	return LPU_PASS;
}

/*
 * The same with the tools, through busybox su: lpu-run as a member of
 * render streams the reference tokens; as another user it fails naming
 * the card, and lpu-smi shows what sysfs says and why it could not
 * query the card.
 */
LPU_CASE(runtime_nonroot_tools)
{
	struct lpu_device *dev = must_exec_device();
	static char out[65536], err[65536];
	struct node_perm perm;
	gid_t render = must_users();
	char node[PATH_MAX], ids[4096], cmd[8192], want[4096];
	struct expected e;
	int st;

	snprintf(node, sizeof(node), "%s", lpu_device_node(dev));
	lpu_device_close(dev);
	apply_rule(node, render, &perm);
	must_expected("tiny-f32.expected", &e);
	ids_list(e.prompt, e.prompt_len, ',', ids, sizeof(ids));
	ids_list(e.tokens, e.n_tokens, ' ', want, sizeof(want));

	snprintf(cmd, sizeof(cmd), "id; lpu-run -q --ids --tokens %s "
		 "--max-tokens %u %s", ids, e.steps, data_path(MODEL_F32));
	st = run_tool((char *[]){ "su", USER_RENDER, "-c", cmd, NULL }, out,
		      sizeof(out), err, sizeof(err));
	lpu_info("su %s -c '%s': exit %d\n%s%s", USER_RENDER, cmd, st, out,
		 err);
	CHECK_EQ(st, 0);
	CHECK(strstr(out, "uid=1000"));
	CHECK(strstr(out, want));

	st = run_tool((char *[]){ "su", USER_OTHER, "-c", cmd, NULL }, out,
		      sizeof(out), err, sizeof(err));
	lpu_info("su %s: exit %d\n%s%s", USER_OTHER, st, out, err);
	CHECK_EQ(st, 1);
	CHECK(strstr(err, node));

	/* lpu-smi without access: what sysfs says, and why no more */
	st = run_tool((char *[]){ "su", USER_OTHER, "-c", "lpu-smi --json",
				  NULL }, out, sizeof(out), err, sizeof(err));
	lpu_info("su %s -c 'lpu-smi --json': exit %d\n%s%s", USER_OTHER, st,
		 out, err);
	CHECK_EQ(st, 0);
	CHECK(json_valid(out));
	CHECK(strstr(out, "\"caps\": null"));
	CHECK(strstr(out, "\"total_bytes\": "));
	CHECK(strstr(out, "Permission denied"));
	restore_node(&perm);
	return LPU_PASS;
}

/* ---- The tools -------------------------------------------------------------- */

/*
 * lpu-run: --ids gives lpu-sim's tokens; text mode prints the prompt and
 * statistics; errors name the file or device and exit 1; bad usage 2.
 */
LPU_CASE(runtime_tool_lpu_run)
{
	static char out[65536], err[65536];
	struct lpu_device *dev = must_exec_device();
	char ids[4096], want[4096], steps[16];
	const char *model = data_path(MODEL_F32);
	struct expected e;
	int st;

	lpu_device_close(dev);
	must_expected("tiny-f32.expected", &e);
	ids_list(e.prompt, e.prompt_len, ',', ids, sizeof(ids));
	ids_list(e.tokens, e.n_tokens, ' ', want, sizeof(want));
	snprintf(steps, sizeof(steps), "%u", e.steps);

	st = run_tool((char *[]){ "lpu-run", (char *)model, "--tokens", ids,
				  "--max-tokens", steps, "--ids", "-q", NULL },
		      out, sizeof(out), err, sizeof(err));
	if (st)
		FAIL("lpu-run --ids: exit %d: %s", st, err);
	out[strcspn(out, "\n")] = '\0';
	if (strcmp(out, want))
		FAIL("lpu-run --ids printed\n  %s\nlpu-sim says\n  %s", out,
		     want);
	CHECK(!err[0]);

	st = run_tool((char *[]){ "lpu-run", (char *)model, "--prompt",
				  "Once upon a time", "--max-tokens", "16",
				  NULL }, out, sizeof(out), err, sizeof(err));
	lpu_info("lpu-run text: exit %d\n%s%s", st, out, err);
	CHECK_EQ(st, 0);
	CHECK(!strncmp(out, "Once upon a time", 16));
	CHECK(strstr(err, "tokens/s") && strstr(err, "cycles"));
	CHECK(strstr(err, "compiler"));

	/* sampling options: lpu-sim's sampled tokens */
	must_expected("runtime/sampled.expected", &e);
	ids_list(e.prompt, e.prompt_len, ',', ids, sizeof(ids));
	ids_list(e.tokens, e.n_tokens, ' ', want, sizeof(want));
	st = run_tool((char *[]){ "lpu-run", (char *)model, "--tokens", ids,
				  "--max-tokens", "24", "--temperature", "0.8",
				  "--top-p", "0.9", "--seed", "42", "--ids",
				  "-q", NULL }, out, sizeof(out), err,
		      sizeof(err));
	CHECK_EQ(st, 0);
	CHECK_EQ(e.steps, 24);
	out[strcspn(out, "\n")] = '\0';
	if (strcmp(out, want))
		FAIL("lpu-run sampled\n  %s\nlpu-sim says\n  %s", out, want);

	/* a hand-written program without a prompt or a vocabulary */
	st = run_tool((char *[]){ "lpu-run",
				  (char *)data_path("programs/emit_n.lpu"),
				  "--max-tokens", "5", "--ids", NULL },
		      out, sizeof(out), err, sizeof(err));
	lpu_info("emit_n: exit %d\n%s%s", st, out, err);
	CHECK_EQ(st, 0);
	CHECK(!strcmp(out, "1 2 3 4 5\n"));

	st = run_tool((char *[]){ "lpu-run", "/nonexistent.lpu", "--tokens",
				  "1", "--ids", NULL }, out, sizeof(out), err,
		      sizeof(err));
	lpu_info("missing file: exit %d: %s", st, err);
	CHECK_EQ(st, 1);
	CHECK(strstr(err, "/nonexistent.lpu"));

	st = run_tool((char *[]){ "lpu-run", "-d", "7", (char *)model,
				  "--tokens", "1", NULL }, out, sizeof(out),
		      err, sizeof(err));
	lpu_info("no card 7: exit %d: %s", st, err);
	CHECK_EQ(st, 1);
	CHECK(strstr(err, "7"));

	st = run_tool((char *[]){ "lpu-run", (char *)model, "--tokens",
				  "1,99999", "--ids", NULL }, out, sizeof(out),
		      err, sizeof(err));
	CHECK_EQ(st, 2);
	st = run_tool((char *[]){ "lpu-run", "--no-such-option", NULL }, out,
		      sizeof(out), err, sizeof(err));
	CHECK_EQ(st, 2);
	st = run_tool((char *[]){ "lpu-run", "--help", NULL }, out,
		      sizeof(out), err, sizeof(err));
	CHECK_EQ(st, 0);
	CHECK(strstr(out, "Usage: lpu-run"));
	return LPU_PASS;
}

/*
 * lpu-smi: valid JSON naming the card, showing this process with the
 * SRAM its model holds (from fdinfo); the text output too; -d picks the
 * card or fails with exit 1; bad usage exits 2.
 */
LPU_CASE(runtime_tool_lpu_smi)
{
	static char out[65536], err[65536];
	struct lpu_device *dev = must_device();
	struct lpu_model *model = must_load(dev, MODEL_F32);
	struct lpu_model_info info;
	char key[64], *p;
	unsigned long long sram = 0;
	const char *pci = lpu_device_pci_address(dev);
	int st;

	must_info(model, &info);
	st = run_tool((char *[]){ "lpu-smi", "--json", NULL }, out,
		      sizeof(out), err, sizeof(err));
	lpu_info("lpu-smi --json: exit %d\n%s%s", st, out, err);
	CHECK_EQ(st, 0);
	if (!json_valid(out))
		FAIL("lpu-smi --json printed invalid JSON");
	CHECK(strstr(out, lpu_device_node(dev)));
	CHECK(strstr(out, pci));
	snprintf(key, sizeof(key), "{\"pid\": %d,", (int)getpid());
	p = strstr(out, key);
	if (!p)
		FAIL("lpu-smi --json does not list this process (%s)", key);
	p = strstr(p, "\"sram_bytes\": ");
	CHECK(p && sscanf(p, "\"sram_bytes\": %llu", &sram) == 1);
	lpu_info("this process holds %llu bytes of SRAM, model footprint "
		 "%llu", sram, (unsigned long long)info.sram_footprint);
	CHECK(sram >= info.sram_footprint);

	st = run_tool((char *[]){ "lpu-smi", NULL }, out, sizeof(out), err,
		      sizeof(err));
	lpu_info("lpu-smi: exit %d\n%s%s", st, out, err);
	CHECK_EQ(st, 0);
	CHECK(strstr(out, "Card 0") && strstr(out, lpu_device_node(dev)));
	CHECK(strstr(out, "SRAM") && strstr(out, "Queues"));
	snprintf(key, sizeof(key), "%d ", (int)getpid());
	CHECK(strstr(out, key));

	st = run_tool((char *[]){ "lpu-smi", "-d", (char *)pci, "--json",
				  NULL }, out, sizeof(out), err, sizeof(err));
	CHECK_EQ(st, 0);
	CHECK(json_valid(out));
	st = run_tool((char *[]){ "lpu-smi", "-d", "9", NULL }, out,
		      sizeof(out), err, sizeof(err));
	lpu_info("lpu-smi -d 9: exit %d: %s", st, err);
	CHECK_EQ(st, 1);
	CHECK(strstr(err, "'9'"));
	st = run_tool((char *[]){ "lpu-smi", "--no-such-option", NULL }, out,
		      sizeof(out), err, sizeof(err));
	CHECK_EQ(st, 2);
	st = run_tool((char *[]){ "lpu-smi", "--help", NULL }, out,
		      sizeof(out), err, sizeof(err));
	CHECK_EQ(st, 0);
	CHECK(strstr(out, "Usage: lpu-smi"));

	lpu_model_unload(model);
	lpu_device_close(dev);
	return LPU_PASS;
}
