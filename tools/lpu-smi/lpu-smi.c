// SPDX-License-Identifier: MIT
/*
 * lpu-smi: list the LPU cards of this machine and what is going on on them:
 * PCI address, accel node, hardware version, SRAM use, queue states,
 * temperature, power and clock, and which processes hold the card open
 * with how much SRAM each.
 *
 * Cards are found through liblpu (libudev). The figures come from sysfs
 * and hwmon, which any user may read, and from the card's query ioctl when
 * the node can be opened; the processes from /proc/PID/fd (the node's
 * device number) and /proc/PID/fdinfo (drm-client-id, drm-total-sram).
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lpu.h"
#include "lpu_cli.h"
#include "lpu_accel.h"

#define EXIT_USAGE	2

/* The capability bits (lpu_device_status.caps), by name. */
static const struct {
	uint64_t bit;
	const char *name;
} cap_names[] = {
	{ DRM_LPU_CAP_DMA_SG, "dma-sg" },
	{ DRM_LPU_CAP_FENCE, "fence" },
	{ DRM_LPU_CAP_EXEC, "exec" },
	{ DRM_LPU_CAP_TIMELINE, "timeline" },
	{ DRM_LPU_CAP_USERPTR, "userptr" },
};

static const char *prog = "lpu-smi";

/* One DRM client (an open file description of the node) of a process. */
struct client {
	int fd;
	long long client_id;	/* -1 if fdinfo did not say */
	long long sram_bytes;	/* -1 if fdinfo did not say */
};

struct process {
	pid_t pid;
	char name[64];
	struct client *clients;
	size_t n_clients;
	uint64_t sram_bytes;	/* over distinct client ids */
};

struct card {
	size_t index;
	const char *node;
	const char *pci;
	const char *hw_version;
	bool have_sram;
	uint64_t sram_size;
	uint64_t sram_free;
	char **queues;		/* state words: idle, busy, halted */
	size_t n_queues;
	bool have_clock;
	uint32_t clock_mhz;
	bool have_temp;
	int64_t temp_mc;
	bool have_power;
	int64_t power_uw;
	bool have_caps;
	uint64_t caps;
	char *open_error;	/* why the node could not be queried */
	struct process *procs;
	size_t n_procs;
	size_t procs_hidden;	/* processes whose fds we may not read */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTION]...\n"
"Show the LPU cards of this machine and their state.\n"
"\n"
"For every card (or only the one given with --device): its index, accel\n"
"node and PCI address, the hardware interface version, SRAM used, free\n"
"and total, the state of each hardware queue (idle, busy or halted), the\n"
"core clock, the temperature and power from hwmon, the capabilities the\n"
"driver reports, and the processes that hold the node open: PID, command\n"
"name, DRM clients (open files) and the SRAM they hold, from\n"
"/proc/PID/fdinfo (drm-client-id, drm-total-sram).\n"
"\n"
"Options:\n"
"  -d, --device=SPEC   only this card: an index into the list (\"0\"), a PCI\n"
"                      address (\"0000:00:03.0\", or \"00:03.0\") or a node path\n"
"                      (\"/dev/accel/accel0\")\n"
"  -j, --json          print JSON (one object, see below) instead of text\n"
"  -h, --help          print this help and exit\n"
"  -V, --version       print the version and exit\n"
"\n"
"Access: any user sees what sysfs and hwmon say. The capabilities and the\n"
"exact free SRAM come from opening the node, which needs read-write access\n"
"to it (root, or the group the udev rule 70-lpu.rules gives it: render).\n"
"Other users' processes are listed only for root; the number left out is\n"
"shown.\n"
"\n"
"JSON output: {\"cards\": [CARD...]}, each CARD an object with\n"
"  index, node, pci_address, hw_version (\"MAJOR.MINOR\"),\n"
"  sram: {total_bytes, used_bytes, free_bytes},\n"
"  queues: [{index, state}], clock_mhz, temperature_mc (millidegrees C),\n"
"  power_uw (microwatts), caps ([names] or null when not readable),\n"
"  processes: [{pid, name, sram_bytes, clients: [{fd, client_id,\n"
"  sram_bytes}]}], processes_hidden, and error (a string, or null).\n"
"A figure that cannot be read is null.\n"
"\n"
"Examples:\n"
"  lpu-smi\n"
"  lpu-smi -d 0000:00:03.0 --json\n"
"\n"
"Exit status: 0 on success; 1 when there is no card, no card matches\n"
"--device, or the cards cannot be listed; 2 on a usage error.\n",
		prog);
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size);
	if (!p) {
		lpu_cli_warn("out of memory");
		exit(EXIT_FAILURE);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		lpu_cli_warn("out of memory");
		exit(EXIT_FAILURE);
	}
	return d;
}

/* ---- reading sysfs, hwmon and /proc ------------------------------------ */

static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* First line of a small file, newline removed; false if unreadable. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* A hwmon input of the PCI device (hwmon/hwmonN/@name) as an integer. */
static bool read_hwmon(const char *pci, const char *name, int64_t *out)
{
	char pattern[PATH_MAX], buf[64];
	glob_t g;
	bool ok = false;
	size_t i;

	snprintf(pattern, sizeof(pattern),
		 "/sys/bus/pci/devices/%s/hwmon/hwmon*/%s", pci, name);
	if (glob(pattern, 0, NULL, &g))
		return false;
	for (i = 0; i < g.gl_pathc && !ok; i++) {
		char *end;
		long long v;

		if (!read_line(g.gl_pathv[i], buf, sizeof(buf)))
			continue;
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (!errno && end != buf && !*end) {
			*out = v;
			ok = true;
		}
	}
	globfree(&g);
	return ok;
}

/* Split the queue_status attribute ("idle busy idle") into words. */
static void parse_queues(struct card *c, const char *status)
{
	const char *p = status;

	while (p && *p) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (!n)
			break;
		c->queues = xrealloc(c->queues, c->n_queues + 1,
				     sizeof(*c->queues));
		c->queues[c->n_queues] = strndup(p, n);
		if (!c->queues[c->n_queues])
			exit(EXIT_FAILURE);
		c->n_queues++;
		p += n;
	}
}

/* What sysfs and hwmon say: readable by anyone. */
static void read_sysfs(struct card *c, const struct lpu_device_list *list)
{
	uint64_t size, used, clock;

	c->hw_version = lpu_device_list_attr(list, c->index, "hw_version");
	if (parse_u64(lpu_device_list_attr(list, c->index, "sram_size"),
		      &size) &&
	    parse_u64(lpu_device_list_attr(list, c->index, "sram_used"),
		      &used) && used <= size) {
		c->have_sram = true;
		c->sram_size = size;
		c->sram_free = size - used;
	}
	parse_queues(c, lpu_device_list_attr(list, c->index, "queue_status"));
	if (parse_u64(lpu_device_list_attr(list, c->index, "clock_mhz"),
		      &clock) && clock <= UINT32_MAX) {
		c->have_clock = true;
		c->clock_mhz = (uint32_t)clock;
	}
	if (c->pci) {
		c->have_temp = read_hwmon(c->pci, "temp1_input", &c->temp_mc);
		c->have_power = read_hwmon(c->pci, "power1_input",
					   &c->power_uw);
	}
}

/* The query ioctl through liblpu, when the node may be opened. */
static void read_query(struct card *c)
{
	struct lpu_device_status st = { .size = sizeof(st) };
	struct lpu_device *dev;
	char msg[512];
	int r;

	r = lpu_device_open(c->node, &dev);
	if (r == 0) {
		r = lpu_device_query(dev, &st);
		if (r)
			snprintf(msg, sizeof(msg), "%s", lpu_last_error());
		lpu_device_close(dev);
	} else {
		snprintf(msg, sizeof(msg), "%s", lpu_last_error());
	}
	if (r) {
		/* lpu_last_error() names the node; fall back to our words. */
		if (!*msg || !strstr(msg, c->node))
			snprintf(msg, sizeof(msg), "%s: %s", c->node,
				 lpu_strerror(r));
		c->open_error = xstrdup(msg);
		return;
	}
	c->have_sram = true;
	c->sram_size = st.sram_size;
	c->sram_free = st.sram_free;
	c->have_caps = true;
	c->caps = st.caps;
	if (st.clock_mhz) {
		c->have_clock = true;
		c->clock_mhz = st.clock_mhz;
	}
	if (st.temperature_mc != INT32_MIN) {
		c->have_temp = true;
		c->temp_mc = st.temperature_mc;
	}
	if (st.power_uw >= 0) {
		c->have_power = true;
		c->power_uw = st.power_uw;
	}
	/* sysfs has the states by name; the query only busy bits. */
	if (!c->n_queues) {
		uint32_t q;

		for (q = 0; q < st.queue_count && q < 32; q++)
			parse_queues(c, st.queue_busy & (1u << q) ?
				     "busy" : "idle");
	}
}

/* drm-client-id and drm-total-sram of /proc/@pid/fdinfo/@fd. */
static void read_fdinfo(pid_t pid, int fd, struct client *cl)
{
	char path[64], line[256];
	FILE *f;

	cl->fd = fd;
	cl->client_id = -1;
	cl->sram_bytes = -1;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		long long v;
		char unit[16] = "";

		if (sscanf(line, "drm-client-id: %lld", &v) == 1) {
			cl->client_id = v;
		} else if (sscanf(line, "drm-total-sram: %lld %15s", &v,
				  unit) >= 1) {
			if (!strcmp(unit, "KiB"))
				v *= 1024;
			else if (!strcmp(unit, "MiB"))
				v *= 1024 * 1024;
			else if (!strcmp(unit, "GiB"))
				v *= 1024LL * 1024 * 1024;
			cl->sram_bytes = v;
		}
	}
	fclose(f);
}

static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Has process @pid a command line (kernel threads have none)? */
static bool has_cmdline(pid_t pid)
{
	char path[64], c;
	FILE *f;
	bool yes;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	yes = fread(&c, 1, 1, f) == 1;
	fclose(f);
	return yes;
}

/* One process: its clients of the node @rdev, if it has any. */
static void scan_process(struct card *c, pid_t pid, dev_t rdev)
{
	struct process p = { .pid = pid };
	char path[64];
	struct dirent *e;
	DIR *d;
	size_t i, j;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d) {
		/* another user's; kernel threads (no command line) have no
		 * files to hide */
		if ((errno == EACCES || errno == EPERM) && has_cmdline(pid))
			c->procs_hidden++;
		return;	/* else gone in the meantime */
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!is_pid(e->d_name))
			continue;
		/* follows the link to the open file's inode */
		if (fstatat(dirfd(d), e->d_name, &st, 0) ||
		    !S_ISCHR(st.st_mode) ||
		    st.st_rdev != rdev)
			continue;
		p.clients = xrealloc(p.clients, p.n_clients + 1,
				     sizeof(*p.clients));
		read_fdinfo(pid, atoi(e->d_name), &p.clients[p.n_clients++]);
	}
	closedir(d);
	if (!p.n_clients)
		return;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (!read_line(path, p.name, sizeof(p.name)))
		snprintf(p.name, sizeof(p.name), "?");
	/* Sum over clients; a dup()ed fd is the same client once. */
	for (i = 0; i < p.n_clients; i++) {
		bool seen = false;

		if (p.clients[i].sram_bytes < 0)
			continue;
		for (j = 0; j < i && p.clients[i].client_id >= 0; j++)
			if (p.clients[j].client_id == p.clients[i].client_id)
				seen = true;
		if (!seen)
			p.sram_bytes += (uint64_t)p.clients[i].sram_bytes;
	}
	c->procs = xrealloc(c->procs, c->n_procs + 1, sizeof(*c->procs));
	c->procs[c->n_procs++] = p;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct process *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void scan_processes(struct card *c)
{
	struct stat st;
	struct dirent *e;
	DIR *d;

	if (stat(c->node, &st) || !S_ISCHR(st.st_mode))
		return;
	d = opendir("/proc");
	if (!d)
		return;
	while ((e = readdir(d)))
		if (is_pid(e->d_name))
			scan_process(c, (pid_t)atoi(e->d_name), st.st_rdev);
	closedir(d);
	qsort(c->procs, c->n_procs, sizeof(*c->procs), cmp_pid);
}

static void card_free(struct card *c)
{
	size_t i;

	for (i = 0; i < c->n_queues; i++)
		free(c->queues[i]);
	free(c->queues);
	for (i = 0; i < c->n_procs; i++)
		free(c->procs[i].clients);
	free(c->procs);
	free(c->open_error);
}

/* ---- card selection ---------------------------------------------------- */

/* Does card @i match the --device @spec? */
static bool spec_matches(const struct lpu_device_list *list, size_t i,
			 const char *spec)
{
	const char *node = lpu_device_list_node(list, i);
	const char *pci = lpu_device_list_pci_address(list, i);
	uint64_t idx;

	if (parse_u64(spec, &idx))
		return idx == i;
	if (spec[0] == '/') {
		char a[PATH_MAX], b[PATH_MAX];

		if (node && !strcmp(node, spec))
			return true;
		return node && realpath(node, a) && realpath(spec, b) &&
		       !strcmp(a, b);
	}
	if (!pci)
		return false;
	if (!strcasecmp(pci, spec))
		return true;
	/* "00:03.0": the address without its PCI domain */
	return strlen(pci) == strlen(spec) + 5 && pci[4] == ':' &&
	       !strncmp(pci, "0000", 4) && !strcasecmp(pci + 5, spec);
}

/* ---- output ------------------------------------------------------------ */

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.1f GiB", (double)b / (1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, len, "%.1f MiB", (double)b / (1ULL << 20));
	else if (b >= (1ULL << 10))
		snprintf(buf, len, "%.1f KiB", (double)b / (1ULL << 10));
	else
		snprintf(buf, len, "%" PRIu64 " B", b);
}

static void print_text(const struct card *c)
{
	char used[32], free_[32], total[32];
	size_t i;

	printf("Card %zu  %s  PCI %s  hw %s\n", c->index, c->node,
	       c->pci ? c->pci : "?", c->hw_version ? c->hw_version : "?");
	if (c->have_sram) {
		human_bytes(c->sram_size - c->sram_free, used, sizeof(used));
		human_bytes(c->sram_free, free_, sizeof(free_));
		human_bytes(c->sram_size, total, sizeof(total));
		printf("  %-10s %s used, %s free, %s total (%.1f %% used)\n",
		       "SRAM", used, free_, total, c->sram_size ?
		       100.0 * (double)(c->sram_size - c->sram_free) /
		       (double)c->sram_size : 0.0);
	} else {
		printf("  %-10s ?\n", "SRAM");
	}
	printf("  %-10s %zu:", "Queues", c->n_queues);
	for (i = 0; i < c->n_queues; i++)
		printf(" %zu %s%s", i, c->queues[i],
		       i + 1 < c->n_queues ? "," : "");
	printf("\n");
	if (c->have_clock)
		printf("  %-10s %" PRIu32 " MHz\n", "Clock", c->clock_mhz);
	else
		printf("  %-10s ?\n", "Clock");
	if (c->have_temp)
		printf("  %-10s %.1f C\n", "Temp", (double)c->temp_mc / 1000);
	else
		printf("  %-10s ?\n", "Temp");
	if (c->have_power)
		printf("  %-10s %.3f W\n", "Power", (double)c->power_uw / 1e6);
	else
		printf("  %-10s ?\n", "Power");
	printf("  %-10s", "Caps");
	if (c->have_caps) {
		for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
			if (c->caps & cap_names[i].bit)
				printf(" %s", cap_names[i].name);
		printf("\n");
	} else {
		printf(" ? (%s)\n", c->open_error ? c->open_error :
		       "not queried");
	}
	if (!c->n_procs) {
		printf("  %-10s none\n", "Processes");
	} else {
		printf("  %-10s %-8s %-16s %-8s %s\n", "Processes", "PID",
		       "NAME", "CLIENTS", "SRAM");
		for (i = 0; i < c->n_procs; i++) {
			const struct process *p = &c->procs[i];

			human_bytes(p->sram_bytes, used, sizeof(used));
			printf("  %-10s %-8d %-16s %-8zu %s\n", "", (int)p->pid,
			       p->name, p->n_clients, used);
		}
	}
	if (c->procs_hidden)
		printf("  (%zu other processes could not be inspected: "
		       "run as root to see them all)\n", c->procs_hidden);
}

static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				printf("\\u%04x", ch);
			else
				putchar(ch);
		}
	}
	putchar('"');
}

static void json_opt_i64(bool have, int64_t v)
{
	if (have)
		printf("%" PRId64, v);
	else
		fputs("null", stdout);
}

static void print_json(const struct card *c)
{
	size_t i, j;

	printf("    {\n      \"index\": %zu,\n      \"node\": ", c->index);
	json_str(c->node);
	printf(",\n      \"pci_address\": ");
	json_str(c->pci);
	printf(",\n      \"hw_version\": ");
	json_str(c->hw_version);
	printf(",\n      \"sram\": ");
	if (c->have_sram)
		printf("{\"total_bytes\": %" PRIu64 ", \"used_bytes\": %"
		       PRIu64 ", \"free_bytes\": %" PRIu64 "}", c->sram_size,
		       c->sram_size - c->sram_free, c->sram_free);
	else
		printf("null");
	printf(",\n      \"queues\": [");
	for (i = 0; i < c->n_queues; i++) {
		printf("%s{\"index\": %zu, \"state\": ", i ? ", " : "", i);
		json_str(c->queues[i]);
		printf("}");
	}
	printf("],\n      \"clock_mhz\": ");
	json_opt_i64(c->have_clock, c->clock_mhz);
	printf(",\n      \"temperature_mc\": ");
	json_opt_i64(c->have_temp, c->temp_mc);
	printf(",\n      \"power_uw\": ");
	json_opt_i64(c->have_power, c->power_uw);
	printf(",\n      \"caps\": ");
	if (c->have_caps) {
		bool first = true;

		printf("[");
		for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
			if (!(c->caps & cap_names[i].bit))
				continue;
			printf("%s\"%s\"", first ? "" : ", ", cap_names[i].name);
			first = false;
		}
		printf("]");
	} else {
		printf("null");
	}
	printf(",\n      \"processes\": [");
	for (i = 0; i < c->n_procs; i++) {
		const struct process *p = &c->procs[i];

		printf("%s\n        {\"pid\": %d, \"name\": ", i ? "," : "",
		       (int)p->pid);
		json_str(p->name);
		printf(", \"sram_bytes\": %" PRIu64 ", \"clients\": [",
		       p->sram_bytes);
		for (j = 0; j < p->n_clients; j++) {
			const struct client *cl = &p->clients[j];

			printf("%s{\"fd\": %d, \"client_id\": ", j ? ", " : "",
			       cl->fd);
			json_opt_i64(cl->client_id >= 0, cl->client_id);
			printf(", \"sram_bytes\": ");
			json_opt_i64(cl->sram_bytes >= 0, cl->sram_bytes);
			printf("}");
		}
		printf("]}");
	}
	printf("%s],\n      \"processes_hidden\": %zu,\n      \"error\": ",
	       c->n_procs ? "\n      " : "", c->procs_hidden);
	json_str(c->open_error);
	printf("\n    }");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lpu_device_list *list;
	const char *spec = NULL;
	bool json = false;
	size_t n, i, shown = 0;
	int c, r;

	if (argc > 0 && argv[0] && *argv[0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	lpu_cli_set_prog(prog);
	while ((c = getopt_long(argc, argv, "d:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg) {
				lpu_cli_warn("--device needs a card: an index, a PCI "
				      "address or a node path");
				goto usage_error;
			}
			spec = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("%s (lpu) %d.%d\n", prog, LPU_VERSION_MAJOR,
			       LPU_VERSION_MINOR);
			return EXIT_SUCCESS;
		default:
			goto usage_error;
		}
	}
	if (optind < argc) {
		lpu_cli_warn("unexpected argument '%s'", argv[optind]);
		goto usage_error;
	}

	r = lpu_device_list_new(&list);
	if (r) {
		lpu_cli_warn("cannot list the LPU cards: %s", lpu_last_error());
		if (json)
			printf("{\"cards\": []}\n");
		return EXIT_FAILURE;
	}
	n = lpu_device_list_count(list);
	if (json)
		printf("{\n  \"cards\": [");
	else
		printf("%s: %zu LPU card%s\n", prog, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		struct card card = {
			.index = i,
			.node = lpu_device_list_node(list, i),
			.pci = lpu_device_list_pci_address(list, i),
		};

		if (!card.node || (spec && !spec_matches(list, i, spec)))
			continue;
		read_sysfs(&card, list);
		read_query(&card);
		/* after read_query(): our own open file is closed again */
		scan_processes(&card);
		if (json) {
			printf("%s\n", shown ? "," : "");
			print_json(&card);
		} else {
			print_text(&card);
		}
		fflush(stdout);
		shown++;
		card_free(&card);
	}
	if (json)
		printf("%s]\n}\n", shown ? "\n  " : "");
	lpu_device_list_free(list);

	if (!n) {
		lpu_cli_warn("no LPU card found (is the lpu driver loaded? "
		      "ls /sys/class/accel)");
		return EXIT_FAILURE;
	}
	if (!shown) {
		lpu_cli_warn("no LPU card matches '%s' (there %s %zu: indexes "
		      "from 0, PCI addresses and node paths as lpu-smi "
		      "lists them)", spec, n == 1 ? "is" : "are", n);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;

usage_error:
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}
