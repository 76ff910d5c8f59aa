/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the lpu command-line tools: messages prefixed with the
 * program's name, the usage-error convention (exit status 2 and a pointer
 * to --help) and a monotonic clock.
 */
#ifndef LPU_CLI_H
#define LPU_CLI_H

#include <stddef.h>
#include <stdint.h>

#define LPU_CLI_EXIT_USAGE	2

/* The name every message starts with; set once, before anything else. */
void lpu_cli_set_prog(const char *prog);
const char *lpu_cli_prog(void);

/* "PROG: message" on stderr. */
__attribute__((format(printf, 1, 2)))
void lpu_cli_warn(const char *fmt, ...);
/* The same, then exit(EXIT_FAILURE). */
__attribute__((noreturn, format(printf, 1, 2)))
void lpu_cli_die(const char *fmt, ...);
/* The same plus "Try 'PROG --help'", then exit(LPU_CLI_EXIT_USAGE). */
__attribute__((noreturn, format(printf, 1, 2)))
void lpu_cli_usage_error(const char *fmt, ...);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t lpu_cli_now_ns(void);

/*
 * Sort @v (@n >= 1 values) and store its median (the mean of the two
 * middle values when @n is even) and 99th percentile (nearest rank): the
 * tools' figures for latencies and inter-token gaps.
 */
void lpu_cli_percentiles(double *v, size_t n, double *p50, double *p99);

#endif /* LPU_CLI_H */
