/* SPDX-License-Identifier: MIT */
/*
 * Fake host memory for the card core tests (check_card.c, check_exec.c):
 * the struct lpu_card_host callbacks of tools/emulator/lpu_card.h on a
 * fixed-size buffer that stands at a bus address, with counters and
 * failure injection.
 *
 * - Memory: @size bytes at bus addresses [@base, @base + @size), every byte
 *   set to @fill by fake_host_init(). An access that is not wholly inside
 *   fails (the callback returns -1).
 * - Counters: read_host and write_host calls, the largest access, the polls
 *   of each abort callback. Tests read and reset them directly.
 * - Failure injection: an access touching the window [fail_lo, fail_hi)
 *   fails, for reads, writes or both (fake_host_fail()).
 * - Aborts: should_abort (the card's reset poll) and abort_requested (the
 *   EXEC unit's LPU_Q_ABORT poll, struct lpu_exec_ops) each answer true
 *   from poll @after + 1 on; @after -1 (what fake_host_init() sets) never.
 *
 * Every callback checks (Check assertions) that it got the live fake as
 * its opaque and, for the host accesses, a length in 1..LPU_CARD_CHUNK.
 * One fake is live at a time: the one fake_host_init() made last, until
 * fake_host_fini().
 */
#ifndef LPU_TESTS_FAKE_HOST_H
#define LPU_TESTS_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpu_card.h"

/* Which accesses touching the failure window fail */
enum fake_host_fail {
    FAKE_HOST_FAIL_RW,          /* reads and writes */
    FAKE_HOST_FAIL_READS,       /* reads only */
    FAKE_HOST_FAIL_WRITES,      /* writes only */
};

struct fake_host {
    uint8_t *mem;               /* size bytes, the byte at bus address base */
    uint64_t base;
    size_t size;
    unsigned int reads, writes; /* read_host / write_host calls */
    size_t max_len;             /* largest single access */
    uint64_t fail_lo, fail_hi;  /* accesses touching [lo, hi) fail */
    enum fake_host_fail fail_only;
    int abort_after;            /* should_abort: -1 never, else poll n+1 */
    int abort_polls;
    int request_after;          /* abort_requested: same */
    int request_polls;
    /* read_host, write_host, should_abort on this fake (opaque: it) */
    struct lpu_card_host host;
};

/*
 * Make @fh the live fake: @size bytes of memory set to @fill at bus address
 * @base, counters 0, no failure window, no abort (both @after -1), and
 * @fh->host filled in.
 */
void fake_host_init(struct fake_host *fh, uint64_t base, size_t size,
                    uint8_t fill);
/* Free @fh's memory; it is no longer live. */
void fake_host_fini(struct fake_host *fh);

/* The byte of @fh's memory at bus address @addr (which must be inside). */
uint8_t *fake_host_ptr(struct fake_host *fh, uint64_t addr);

/*
 * From now on, make the accesses of kind @which that touch bus addresses
 * [@lo, @hi) fail. @lo >= @hi: no window (accesses outside memory still
 * fail).
 */
void fake_host_fail(struct fake_host *fh, uint64_t lo, uint64_t hi,
                    enum fake_host_fail which);

/* lpu_card_host.read_host: count, fail as set, else copy out of memory. */
int fake_host_read(void *opaque, uint64_t addr, void *buf, size_t len);
/* lpu_card_host.write_host: count, fail as set, else copy into memory. */
int fake_host_write(void *opaque, uint64_t addr, const void *buf,
                    size_t len);
/* lpu_card_host.should_abort: count the poll, true after abort_after. */
bool fake_host_should_abort(void *opaque);
/* lpu_exec_ops.abort_requested: count the poll, true after request_after. */
bool fake_host_abort_requested(void *opaque);

#endif /* LPU_TESTS_FAKE_HOST_H */
