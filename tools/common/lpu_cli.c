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
