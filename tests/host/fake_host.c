// SPDX-License-Identifier: MIT
/*
 * Fake host memory for the card core tests; see fake_host.h.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

/* The fake between fake_host_init() and fake_host_fini() */
static struct fake_host *live;

/* The fake a callback got as @opaque, which must be the live one. */
static struct fake_host *fake_of(void *opaque)
{
    ck_assert_ptr_nonnull(live);
    ck_assert_ptr_eq(opaque, live);
    return opaque;
}

/* True if an access of @len bytes at @addr is inside memory and not failed */
static bool access_ok(const struct fake_host *fh, uint64_t addr, size_t len,
                      bool write)
{
    if (addr < fh->base || addr - fh->base > fh->size ||
        len > fh->size - (addr - fh->base)) {
        return false;
    }
    if (fh->fail_hi > fh->fail_lo && addr < fh->fail_hi &&
        addr + len > fh->fail_lo &&
        !(fh->fail_only == FAKE_HOST_FAIL_READS && write) &&
        !(fh->fail_only == FAKE_HOST_FAIL_WRITES && !write)) {
        return false;
    }
    return true;
}

/* Count an access of @len bytes (every call, failed or not) */
static void count_access(struct fake_host *fh, size_t len, bool write)
{
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_le(len, LPU_CARD_CHUNK);
    if (write) {
        fh->writes++;
    } else {
        fh->reads++;
    }
    if (len > fh->max_len) {
        fh->max_len = len;
    }
}

void fake_host_init(struct fake_host *fh, uint64_t base, size_t size,
                    uint8_t fill)
{
    memset(fh, 0, sizeof(*fh));
    fh->mem = malloc(size);
    ck_assert_ptr_nonnull(fh->mem);
    memset(fh->mem, fill, size);
    fh->base = base;
    fh->size = size;
    fh->fail_only = FAKE_HOST_FAIL_RW;
    fh->abort_after = -1;
    fh->request_after = -1;
    fh->host.read_host = fake_host_read;
    fh->host.write_host = fake_host_write;
    fh->host.should_abort = fake_host_should_abort;
    fh->host.opaque = fh;
    live = fh;
}

void fake_host_fini(struct fake_host *fh)
{
    free(fh->mem);
    fh->mem = NULL;
    if (live == fh) {
        live = NULL;
    }
}

uint8_t *fake_host_ptr(struct fake_host *fh, uint64_t addr)
{
    ck_assert_uint_ge(addr, fh->base);
    ck_assert_uint_lt(addr - fh->base, fh->size);
    return fh->mem + (addr - fh->base);
}

void fake_host_fail(struct fake_host *fh, uint64_t lo, uint64_t hi,
                    enum fake_host_fail which)
{
    fh->fail_lo = lo;
    fh->fail_hi = hi;
    fh->fail_only = which;
}

int fake_host_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
    struct fake_host *fh = fake_of(opaque);

    count_access(fh, len, false);
    if (!access_ok(fh, addr, len, false)) {
        return -1;
    }
    memcpy(buf, fh->mem + (addr - fh->base), len);
    return 0;
}

int fake_host_write(void *opaque, uint64_t addr, const void *buf, size_t len)
{
    struct fake_host *fh = fake_of(opaque);

    count_access(fh, len, true);
    if (!access_ok(fh, addr, len, true)) {
        return -1;
    }
    memcpy(fh->mem + (addr - fh->base), buf, len);
    return 0;
}

bool fake_host_should_abort(void *opaque)
{
    struct fake_host *fh = fake_of(opaque);

    fh->abort_polls++;
    return fh->abort_after >= 0 && fh->abort_polls > fh->abort_after;
}

bool fake_host_abort_requested(void *opaque)
{
    struct fake_host *fh = fake_of(opaque);

    fh->request_polls++;
    return fh->request_after >= 0 && fh->request_polls > fh->request_after;
}
