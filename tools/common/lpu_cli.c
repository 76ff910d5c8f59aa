// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the lpu command-line tools (see lpu_cli.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lpu_cli.h"

static const char *cli_prog = "lpu";

void lpu_cli_set_prog(const char *prog)
{
	cli_prog = prog;
}

const char *lpu_cli_prog(void)
{
	return cli_prog;
}

static void cli_vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", cli_prog);
	vfprintf(stderr, fmt, ap);
}

void lpu_cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmessage(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void lpu_cli_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmessage(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

void lpu_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vmessage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli_prog);
	exit(LPU_CLI_EXIT_USAGE);
}

uint64_t lpu_cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void lpu_cli_percentiles(double *v, size_t n, double *p50, double *p99)
{
	size_t rank = (n * 99 + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	*p50 = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*p99 = v[rank ? rank - 1 : 0];
}
