// SPDX-License-Identifier: MIT
/*
 * Unit tests of the LPU card core (tools/emulator/lpu_card.c): descriptor
 * validation, SG walking, DMA through a fake host memory, cycle model,
 * SRAM clear. Every status code path is asserted exactly.
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "fake_host.h"
#include "lpu_card.h"

/* ---- fake host memory -------------------------------------------------- */

#define HOST_BASE       0x100000000ull  /* above 4 GiB: 64-bit addresses */
#define HOST_SIZE       (8u << 20)
#define SRAM_SIZE       (4u << 20)
#define MiB             (1u << 20)

/* Areas of the fake host memory (offsets from HOST_BASE) */
#define SG_AREA         0x000000u       /* SG lists */
#define SRC_AREA        0x100000u       /* source data */
#define DST_AREA        0x400000u       /* destination data */

static struct fake_host fh;
static struct lpu_card card;

static void setup(void)
{
    fake_host_init(&fh, HOST_BASE, HOST_SIZE, 0);
    ck_assert_int_eq(lpu_card_init(&card, SRAM_SIZE), 0);
}

static void teardown(void)
{
    lpu_card_fini(&card);
    fake_host_fini(&fh);
}

/* ---- helpers ----------------------------------------------------------- */

static void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        p[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 8)) & 0xff);
    }
}

/* Write @n SG entries at SG_AREA + @off; returns the list's bus address. */
static uint64_t put_sg(uint32_t off, const uint64_t *addr, const uint64_t *len,
                       unsigned int n)
{
    struct lpu_hw_sg *e = (struct lpu_hw_sg *)(fh.mem + SG_AREA + off);
    unsigned int i;

    for (i = 0; i < n; i++) {
        e[i].addr = htole64(addr[i]);
        e[i].len = htole64(len[i]);
    }
    return HOST_BASE + SG_AREA + off;
}

static void make_dma(struct lpu_hw_desc *d, uint8_t op, uint64_t seqno,
                     uint64_t sg_addr, uint32_t sg_count, uint64_t sg_offset,
                     uint64_t sram_addr, uint64_t length)
{
    memset(d, 0, sizeof(*d));
    d->opcode = op;
    d->seqno = htole64(seqno);
    d->dma.sg_addr = htole64(sg_addr);
    d->dma.sg_count = htole32(sg_count);
    d->dma.sg_offset = htole64(sg_offset);
    d->dma.sram_addr = htole64(sram_addr);
    d->dma.length = htole64(length);
}

static void make_op(struct lpu_hw_desc *d, uint8_t op, uint64_t seqno)
{
    memset(d, 0, sizeof(*d));
    d->opcode = op;
    d->seqno = htole64(seqno);
}

/* A valid one-entry DMA: 4 KiB from SRC_AREA to SRAM 0 */
static void make_simple_dma(struct lpu_hw_desc *d, uint8_t op)
{
    uint64_t a = HOST_BASE + SRC_AREA, l = 4096;

    make_dma(d, op, 1, put_sg(0, &a, &l, 1), 1, 0, 0, 4096);
}

struct cpl {
    uint64_t seqno;
    uint32_t status;
    uint32_t opcode;
    uint64_t cycles;
    uint64_t info;
};

static struct cpl run(const struct lpu_hw_desc *d)
{
    struct lpu_hw_cpl raw;
    struct cpl c;
    uint32_t st;

    memset(&raw, 0xa5, sizeof(raw));
    st = lpu_card_execute(&card, d, &fh.host, &raw);
    c.seqno = le64toh(raw.seqno);
    c.status = le32toh(raw.status);
    c.opcode = le32toh(raw.opcode);
    c.cycles = le64toh(raw.cycles);
    c.info = le64toh(raw.info);
    ck_assert_uint_eq(st, c.status);
    ck_assert_uint_eq(c.seqno, le64toh(d->seqno));
    ck_assert_uint_eq(c.opcode, d->opcode);
    return c;
}

/* A rejected descriptor: exact status, no cycles, no info. */
static void expect_reject(const struct lpu_hw_desc *d, uint32_t status)
{
    struct cpl c = run(d);

    ck_assert_uint_eq(c.status, status);
    ck_assert_uint_eq(c.cycles, 0);
    ck_assert_uint_eq(c.info, 0);
}

static bool sram_is_zero(uint64_t off, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        if (card.sram[off + i]) {
            return false;
        }
    }
    return true;
}

/* ---- core -------------------------------------------------------------- */

START_TEST(test_init_sizes)
{
    struct lpu_card c;

    ck_assert_int_eq(lpu_card_init(&c, 0), -EINVAL);
    ck_assert_int_eq(lpu_card_init(&c, LPU_CARD_SRAM_MIN - 64 * 1024), -EINVAL);
    ck_assert_int_eq(lpu_card_init(&c, LPU_CARD_SRAM_MIN + 4096), -EINVAL);
    ck_assert_int_eq(lpu_card_init(&c, LPU_CARD_SRAM_MAX + 64 * 1024),
                     -EINVAL);
    ck_assert_int_eq(lpu_card_init(&c, UINT64_MAX - 65535), -EINVAL);
    ck_assert_int_eq(lpu_card_init(&c, LPU_CARD_SRAM_MIN), 0);
    ck_assert_uint_eq(c.sram_size, LPU_CARD_SRAM_MIN);
    lpu_card_fini(&c);
    ck_assert_ptr_null(c.sram);
    lpu_card_fini(&c);  /* twice is harmless */

    /* the default 230 MiB: allocated lazily, reads as zero */
    ck_assert_int_eq(lpu_card_init(&c, 230ull * MiB), 0);
    ck_assert_uint_eq(c.sram[0], 0);
    ck_assert_uint_eq(c.sram[230ull * MiB - 1], 0);
    lpu_card_fini(&c);
}
END_TEST

START_TEST(test_nop_fence)
{
    struct lpu_hw_desc d;
    struct cpl c;

    make_op(&d, LPU_OP_NOP, 0x1122334455667788ull);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.cycles, LPU_NOP_CYCLES);
    ck_assert_uint_eq(c.info, 0);

    make_op(&d, LPU_OP_FENCE, 7);
    d.flags = LPU_DESC_IRQ | LPU_DESC_CHAIN;
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.opcode, LPU_OP_FENCE);
    ck_assert_uint_eq(c.cycles, LPU_NOP_CYCLES);
    ck_assert_uint_eq(fh.reads + fh.writes, 0);
}
END_TEST

START_TEST(test_skip)
{
    struct lpu_hw_desc d;
    struct lpu_hw_cpl raw;

    make_simple_dma(&d, LPU_OP_DMA_TO_SRAM);
    d.seqno = htole64(99);
    memset(&raw, 0xff, sizeof(raw));
    lpu_card_skip(&d, &raw);
    ck_assert_uint_eq(le64toh(raw.seqno), 99);
    ck_assert_uint_eq(le32toh(raw.status), LPU_STS_SKIPPED);
    ck_assert_uint_eq(le32toh(raw.opcode), LPU_OP_DMA_TO_SRAM);
    ck_assert_uint_eq(le64toh(raw.cycles), 0);
    ck_assert_uint_eq(le64toh(raw.info), 0);
    ck_assert_uint_eq(fh.reads + fh.writes, 0);
}
END_TEST

START_TEST(test_cycle_model)
{
    ck_assert_uint_eq(lpu_card_dma_cycles(0), LPU_DMA_SETUP_CYCLES);
    ck_assert_uint_eq(lpu_card_dma_cycles(1), 9000);
    ck_assert_uint_eq(lpu_card_dma_cycles(26), 9000);
    ck_assert_uint_eq(lpu_card_dma_cycles(27), 9001);
    ck_assert_uint_eq(lpu_card_dma_cycles(26667), 10000);
    ck_assert_uint_eq(lpu_card_dma_cycles(4096), 9000 + 4096000 / 26667);
    /* 1 GiB: the plain formula, no overflow */
    ck_assert_uint_eq(lpu_card_dma_cycles(1ull << 30),
                      9000 + (1ull << 30) * 1000 / 26667);
    /* huge values do not overflow the intermediate product */
    ck_assert_uint_eq(lpu_card_dma_cycles(UINT64_MAX),
                      9000 + (UINT64_MAX / 26667) * 1000 +
                      (UINT64_MAX % 26667) * 1000 / 26667);
}
END_TEST

START_TEST(test_dma_round_trip)
{
    /* Three uneven entries, out of address order, with a sg_offset. */
    uint64_t addr[3] = {
        HOST_BASE + SRC_AREA + 0x20000,
        HOST_BASE + SRC_AREA + 0x00100,
        HOST_BASE + SRC_AREA + 0x40000,
    };
    uint64_t len[3] = { 1000, 70001, 50000 };
    const uint64_t off = 500, length = 1000 - 500 + 70001 + 20000;
    const uint64_t sram_at = 0x12340;
    uint8_t *expect = malloc(length);
    uint8_t *src = fh.mem + SRC_AREA;
    struct lpu_hw_desc d;
    struct cpl c;
    uint64_t sg;

    ck_assert_ptr_nonnull(expect);
    fill_pattern(src, 0x60000, 1);
    memcpy(expect, src + 0x20000 + off, 1000 - off);
    memcpy(expect + 1000 - off, src + 0x100, 70001);
    memcpy(expect + 1000 - off + 70001, src + 0x40000, 20000);

    sg = put_sg(0, addr, len, 3);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 42, sg, 3, off, sram_at, length);
    d.flags = LPU_DESC_IRQ;
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, length);
    ck_assert_uint_eq(c.cycles, LPU_DMA_SETUP_CYCLES +
                      length * 1000 / LPU_DMA_BYTES_PER_KCYCLE);
    ck_assert_int_eq(memcmp(card.sram + sram_at, expect, length), 0);
    ck_assert(sram_is_zero(0, sram_at));
    ck_assert(sram_is_zero(sram_at + length, 4096));
    ck_assert_uint_eq(fh.writes, 0);

    /* Back out through a different list: two entries, offset 3. */
    addr[0] = HOST_BASE + DST_AREA + 0x30000;
    len[0] = 10;
    addr[1] = HOST_BASE + DST_AREA;
    len[1] = length;        /* longer than needed */
    sg = put_sg(0x1000, addr, len, 2);
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 43, sg, 2, 3, sram_at, length);
    d.flags = LPU_DESC_CHAIN;
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, length);
    ck_assert_uint_eq(c.cycles, lpu_card_dma_cycles(length));
    ck_assert_int_eq(memcmp(fh.mem + DST_AREA + 0x30003, expect, 7), 0);
    ck_assert_int_eq(memcmp(fh.mem + DST_AREA, expect + 7, length - 7), 0);
    ck_assert_uint_eq(fh.mem[DST_AREA + 0x30000 + 2], 0);
    ck_assert_uint_eq(fh.mem[DST_AREA + length - 7], 0);
    free(expect);
}
END_TEST

START_TEST(test_dma_chunks)
{
    /* One 3 MiB + 5 entry: data moves in pieces of at most 1 MiB. */
    uint64_t a = HOST_BASE + SRC_AREA, l = 3 * MiB + 5;
    struct lpu_hw_desc d;
    struct cpl c;

    fill_pattern(fh.mem + SRC_AREA, l, 2);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, put_sg(0, &a, &l, 1), 1, 0, 0, l);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, l);
    ck_assert_uint_eq(c.cycles, lpu_card_dma_cycles(l));
    ck_assert_uint_eq(fh.max_len, LPU_CARD_CHUNK);
    /* 2 SG batch reads + 4 data chunks */
    ck_assert_uint_eq(fh.reads, 2 + 4);
    ck_assert_int_eq(memcmp(card.sram, fh.mem + SRC_AREA, l), 0);
}
END_TEST

START_TEST(test_dma_sg_batches)
{
    /* 600 entries of 16 bytes: SG list read in batches of 256. */
    enum { N = 600 };
    uint64_t addr[N], len[N];
    struct lpu_hw_desc d;
    struct cpl c;
    unsigned int i;

    for (i = 0; i < N; i++) {
        addr[i] = HOST_BASE + SRC_AREA + (uint64_t)(N - 1 - i) * 64;
        len[i] = 16;
    }
    fill_pattern(fh.mem + SRC_AREA, N * 64, 3);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 5, put_sg(0, addr, len, N), N, 0, 64,
             N * 16);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, N * 16);
    /* 2 passes x 3 batches + one read per entry */
    ck_assert_uint_eq(fh.reads, 2 * 3 + N);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(memcmp(card.sram + 64 + i * 16,
                                fh.mem + SRC_AREA + (N - 1 - i) * 64, 16), 0);
    }
}
END_TEST

START_TEST(test_dma_sram_end)
{
    /* Exactly up to the last SRAM byte is fine. */
    uint64_t a = HOST_BASE + SRC_AREA, l = 4096;
    struct lpu_hw_desc d;
    struct cpl c;

    fill_pattern(fh.mem + SRC_AREA, l, 4);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, put_sg(0, &a, &l, 1), 1, 0,
             SRAM_SIZE - 100, 100);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, 100);
    ck_assert_int_eq(memcmp(card.sram + SRAM_SIZE - 100, fh.mem + SRC_AREA,
                            100), 0);

    /* the whole SRAM in one descriptor */
    l = SRAM_SIZE;
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 2, put_sg(0, &a, &l, 1), 1, 0, 0,
             SRAM_SIZE);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, SRAM_SIZE);
    ck_assert_uint_eq(c.cycles, lpu_card_dma_cycles(SRAM_SIZE));
}
END_TEST

START_TEST(test_no_abort_callback)
{
    /* should_abort is optional */
    const struct lpu_card_host plain = {
        .read_host = fake_host_read,
        .write_host = fake_host_write,
        .opaque = &fh,
    };
    uint64_t a = HOST_BASE + SRC_AREA, l = 2 * MiB + 3;
    struct lpu_hw_desc d;
    struct lpu_hw_cpl raw;

    fill_pattern(fh.mem + SRC_AREA, l, 9);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 8, put_sg(0, &a, &l, 1), 1, 0, 0, l);
    ck_assert_uint_eq(lpu_card_execute(&card, &d, &plain, &raw), LPU_STS_OK);
    ck_assert_uint_eq(le64toh(raw.info), l);
    ck_assert_int_eq(memcmp(card.sram, fh.mem + SRC_AREA, l), 0);
    ck_assert_int_eq(fh.abort_polls, 0);
}
END_TEST

/* Pages of the span [off, off + len) of SRAM that are in memory. */
static size_t sram_resident(uint64_t off, uint64_t len)
{
    static unsigned char vec[SRAM_SIZE / 4096];
    size_t i, n = 0, pg = (size_t)sysconf(_SC_PAGESIZE);

    ck_assert_int_eq(mincore(card.sram + off, len, vec), 0);
    for (i = 0; i < len / pg; i++) {
        n += vec[i] & 1;
    }
    return n;
}

/*
 * A clear keeps SRAM that was written in memory (a DMA into it afterwards
 * costs no page faults) and never commits SRAM that was not.
 */
START_TEST(test_sram_clear_residency)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const uint64_t span = SRAM_SIZE / 2;
    size_t before;

    ck_assert(card.sram_mmapped);
    memset(card.sram, 0x5a, span);
    ck_assert_uint_eq(sram_resident(0, span), span / pg);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 0, span), 0);
    ck_assert(sram_is_zero(0, span));
    ck_assert_uint_eq(sram_resident(0, span), span / pg);

    /*
     * never written (some pages may be in memory all the same, with the
     * huge page of the first half): the clear brings in no page
     */
    before = sram_resident(span, span);
    ck_assert_uint_lt(before, span / pg);
    ck_assert_int_eq(lpu_card_sram_clear(&card, span, span), 0);
    ck_assert_uint_le(sram_resident(span, span), before);
    ck_assert(sram_is_zero(span, span));
}
END_TEST

START_TEST(test_sram_clear)
{
    memset(card.sram, 0xee, SRAM_SIZE);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 128, 256), 0);
    ck_assert_uint_eq(card.sram[127], 0xee);
    ck_assert(sram_is_zero(128, 256));
    ck_assert_uint_eq(card.sram[384], 0xee);

    /* zero length: valid no-op, even at the very end */
    ck_assert_int_eq(lpu_card_sram_clear(&card, SRAM_SIZE, 0), 0);
    ck_assert_uint_eq(card.sram[SRAM_SIZE - 1], 0xee);

    /* last 64 bytes, then everything */
    ck_assert_int_eq(lpu_card_sram_clear(&card, SRAM_SIZE - 64, 64), 0);
    ck_assert(sram_is_zero(SRAM_SIZE - 64, 64));
    ck_assert_uint_eq(card.sram[SRAM_SIZE - 65], 0xee);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 0, SRAM_SIZE), 0);
    ck_assert(sram_is_zero(0, SRAM_SIZE));

    /* a large clear with edges that are not page aligned */
    memset(card.sram, 0xee, SRAM_SIZE);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 4096 + 64, 3 * MiB + 128), 0);
    ck_assert_uint_eq(card.sram[4096 + 63], 0xee);
    ck_assert(sram_is_zero(4096 + 64, 3 * MiB + 128));
    ck_assert_uint_eq(card.sram[4096 + 64 + 3 * MiB + 128], 0xee);
    ck_assert_uint_eq(card.sram[SRAM_SIZE - 1], 0xee);
    /* and the memory is still usable */
    card.sram[8192] = 1;
    ck_assert_uint_eq(card.sram[8192], 1);
}
END_TEST

/* ---- errors ------------------------------------------------------------ */

START_TEST(test_nop_bad_desc)
{
    static const uint8_t ops[] = { LPU_OP_NOP, LPU_OP_FENCE };
    struct lpu_hw_desc d;
    unsigned int i, j;

    for (i = 0; i < 2; i++) {
        make_op(&d, ops[i], 1);
        d.flags = 1u << 2;
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_op(&d, ops[i], 1);
        d.flags = 0x80;
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_op(&d, ops[i], 1);
        d.rsvd0 = htole16(0x100);
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_op(&d, ops[i], 1);
        d.rsvd1 = htole32(0x80000000u);
        expect_reject(&d, LPU_STS_BAD_DESC);
        for (j = 0; j < 6; j++) {
            make_op(&d, ops[i], 1);
            d.raw[j] = htole64(1ull << (j * 11));
            expect_reject(&d, LPU_STS_BAD_DESC);
        }
    }
}
END_TEST

START_TEST(test_dma_bad_desc)
{
    static const uint8_t ops[] = { LPU_OP_DMA_TO_SRAM, LPU_OP_DMA_FROM_SRAM };
    struct lpu_hw_desc d;
    unsigned int i;

    fill_pattern(card.sram, 4096, 5);
    for (i = 0; i < 2; i++) {
        make_simple_dma(&d, ops[i]);
        d.flags = LPU_DESC_IRQ | 0x04;
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_simple_dma(&d, ops[i]);
        d.flags = 0x40;
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_simple_dma(&d, ops[i]);
        d.rsvd0 = htole16(1);
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_simple_dma(&d, ops[i]);
        d.rsvd1 = htole32(1);
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_simple_dma(&d, ops[i]);
        d.dma.rsvd = htole32(0x10000);
        expect_reject(&d, LPU_STS_BAD_DESC);
        make_simple_dma(&d, ops[i]);
        d.dma.length = 0;
        expect_reject(&d, LPU_STS_BAD_DESC);
        /* BAD_DESC wins over an also-bad SRAM range */
        make_simple_dma(&d, ops[i]);
        d.rsvd0 = htole16(1);
        d.dma.sram_addr = htole64(SRAM_SIZE);
        expect_reject(&d, LPU_STS_BAD_DESC);
    }
    ck_assert_uint_eq(fh.reads + fh.writes, 0);
}
END_TEST

START_TEST(test_unsupported)
{
    static const uint8_t ops[] = {
        LPU_OP_EXEC, 0x02, 0x0f, 0x12, 0x21, 0x7f, 0xff,
    };
    struct lpu_hw_desc d;
    unsigned int i;

    for (i = 0; i < sizeof(ops); i++) {
        make_op(&d, ops[i], 1000 + i);
        expect_reject(&d, LPU_STS_UNSUPPORTED);
        /* even with otherwise invalid fields */
        d.flags = 0xff;
        d.rsvd1 = htole32(5);
        expect_reject(&d, LPU_STS_UNSUPPORTED);
    }
    ck_assert_uint_eq(fh.reads + fh.writes, 0);
}
END_TEST

START_TEST(test_sram_range)
{
    static const struct {
        uint64_t addr, len;
    } bad[] = {
        { SRAM_SIZE - 4095, 4096 },             /* one byte past the end */
        { SRAM_SIZE, 1 },                       /* starts at the end */
        { SRAM_SIZE + 4096, 16 },               /* starts past the end */
        { 0, SRAM_SIZE + 1ull },                /* longer than SRAM */
        { UINT64_MAX - 10, 100 },               /* addr + len wraps */
        { 64, UINT64_MAX },                     /* addr + len wraps */
        { UINT64_MAX, 1 },
    };
    uint64_t a = HOST_BASE + SRC_AREA, l = 8 * MiB - SRC_AREA;
    struct lpu_hw_desc d;
    unsigned int i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        make_dma(&d, LPU_OP_DMA_TO_SRAM, i, put_sg(0, &a, &l, 1), 1, 0,
                 bad[i].addr, bad[i].len);
        expect_reject(&d, LPU_STS_SRAM_RANGE);
        d.opcode = LPU_OP_DMA_FROM_SRAM;
        expect_reject(&d, LPU_STS_SRAM_RANGE);
    }
    ck_assert_uint_eq(fh.reads + fh.writes, 0);
}
END_TEST

START_TEST(test_sg_invalid_header)
{
    uint64_t a = HOST_BASE + SRC_AREA, l = 4096;
    uint64_t sg = put_sg(0, &a, &l, 1);
    struct lpu_hw_desc d;
    unsigned int i;

    /* sg_addr not 16-byte aligned */
    for (i = 1; i < 16; i++) {
        make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg + i, 1, 0, 0, 16);
        expect_reject(&d, LPU_STS_SG_INVALID);
    }
    /* sg_count 0, LPU_SG_MAX_ENTRIES + 1, 0xffffffff */
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, 0, 0, 0, 16);
    expect_reject(&d, LPU_STS_SG_INVALID);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, LPU_SG_MAX_ENTRIES + 1, 0, 0, 16);
    expect_reject(&d, LPU_STS_SG_INVALID);
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 1, sg, 0xffffffffu, 0, 0, 16);
    expect_reject(&d, LPU_STS_SG_INVALID);
    /* the list itself wraps around the bus address space */
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, UINT64_MAX - 15, 2, 0, 0, 16);
    expect_reject(&d, LPU_STS_SG_INVALID);
    /* sg_offset + length wraps */
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, 1, UINT64_MAX - 5, 0, 10);
    expect_reject(&d, LPU_STS_SG_INVALID);
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 1, sg, 1, UINT64_MAX, 0, 1);
    expect_reject(&d, LPU_STS_SG_INVALID);
    /* none of these touched the host */
    ck_assert_uint_eq(fh.reads + fh.writes, 0);
}
END_TEST

START_TEST(test_sg_invalid_entries)
{
    enum { N = 300 };
    uint64_t addr[N], len[N];
    struct lpu_hw_desc d;
    uint64_t sg;
    unsigned int i;

    for (i = 0; i < N; i++) {
        addr[i] = HOST_BASE + SRC_AREA + i * 16;
        len[i] = 16;
    }
    fill_pattern(card.sram, 8192, 6);
    /* a zero-length entry in the second batch, past the bytes needed */
    len[290] = 0;
    sg = put_sg(0, addr, len, N);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, N, 0, 0, 32);
    expect_reject(&d, LPU_STS_SG_INVALID);
    /* ... at bus address 0 */
    addr[290] = 0;
    sg = put_sg(0, addr, len, N);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, N, 0, 0, 32);
    expect_reject(&d, LPU_STS_SG_INVALID);
    addr[290] = HOST_BASE + SRC_AREA + 290 * 16;
    /* ... and as the first entry */
    len[290] = 16;
    len[0] = 0;
    sg = put_sg(0, addr, len, N);
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 1, sg, N, 0, 0, 32);
    expect_reject(&d, LPU_STS_SG_INVALID);
    len[0] = 16;

    /* sg_offset + length one byte past the total */
    sg = put_sg(0, addr, len, N);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, N, 100, 0, N * 16 - 99);
    expect_reject(&d, LPU_STS_SG_INVALID);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, N, N * 16, 0, 1);
    expect_reject(&d, LPU_STS_SG_INVALID);
    /* exactly the total is fine */
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, N, 100, 0, N * 16 - 100);
    ck_assert_uint_eq(run(&d).status, LPU_STS_OK);

    /* an entry whose addr + len wraps */
    addr[1] = UINT64_MAX - 7;
    sg = put_sg(0, addr, len, 2);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, 2, 0, 0, 16);
    expect_reject(&d, LPU_STS_SG_INVALID);

    /* entry lengths summing past 2^64 are fine as long as the bytes used
     * are reachable; the first entry covers the request */
    addr[0] = HOST_BASE + SRC_AREA;
    len[0] = 64;
    addr[1] = 0x1000;
    len[1] = UINT64_MAX - 0x1000;
    addr[2] = 0x2000;
    len[2] = UINT64_MAX - 0x2000;
    sg = put_sg(0, addr, len, 3);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, 3, 0, 0, 64);
    ck_assert_uint_eq(run(&d).status, LPU_STS_OK);

    /* SRAM past the bytes of the two OK runs is untouched */
    {
        uint8_t want[8192];

        fill_pattern(want, sizeof(want), 6);
        ck_assert_int_eq(memcmp(card.sram + N * 16 - 100,
                                want + N * 16 - 100,
                                sizeof(want) - (N * 16 - 100)), 0);
    }
}
END_TEST

START_TEST(test_sg_invalid_no_data_moved)
{
    uint64_t addr[2] = { HOST_BASE + SRC_AREA, HOST_BASE + SRC_AREA + 4096 };
    uint64_t len[2] = { 4096, 4096 };
    uint8_t save[8192];
    struct lpu_hw_desc d;

    fill_pattern(fh.mem + SRC_AREA, 8192, 7);
    fill_pattern(card.sram, 8192, 8);
    memcpy(save, card.sram, sizeof(save));
    /* needs 8193 bytes of an 8192-byte list */
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, put_sg(0, addr, len, 2), 2, 1, 0,
             8192);
    expect_reject(&d, LPU_STS_SG_INVALID);
    ck_assert_int_eq(memcmp(card.sram, save, sizeof(save)), 0);
    /* only the SG list was read */
    ck_assert_uint_eq(fh.reads, 1);
    ck_assert_uint_eq(fh.writes, 0);
}
END_TEST

START_TEST(test_dma_error_data)
{
    uint64_t addr[3] = {
        HOST_BASE + SRC_AREA,
        HOST_BASE + SRC_AREA + 0x10000,
        HOST_BASE + SRC_AREA + 0x20000,
    };
    uint64_t len[3] = { 0x3000, 0x3000, 0x3000 };
    struct lpu_hw_desc d;
    struct cpl c;
    uint64_t sg = put_sg(0, addr, len, 3);

    /* reading the second entry fails: offset reached = 0x3000 - 0x100 */
    fake_host_fail(&fh, addr[1] + 0x10, addr[1] + 0x11, FAKE_HOST_FAIL_RW);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, 3, 0x100, 0, 0x8000);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0x2f00);
    ck_assert_uint_eq(c.cycles, lpu_card_dma_cycles(0x2f00));

    /* writing the third entry fails */
    fake_host_fail(&fh, addr[2], addr[2] + 1, FAKE_HOST_FAIL_RW);
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 2, sg, 3, 0, 0, 0x9000);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0x6000);
    ck_assert_uint_eq(c.cycles, lpu_card_dma_cycles(0x6000));

    /* the very first chunk fails: offset 0 */
    fake_host_fail(&fh, addr[0], addr[0] + 1, FAKE_HOST_FAIL_RW);
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 3, sg, 3, 0, 0, 16);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.cycles, LPU_DMA_SETUP_CYCLES);

    /* an entry pointing outside host memory, inside a 1 MiB chunking */
    addr[1] = 0x10;
    len[1] = 2 * MiB;
    sg = put_sg(0, addr, len, 3);
    fake_host_fail(&fh, 0, 0, FAKE_HOST_FAIL_RW);
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 4, sg, 3, 0, 0, 0x4000);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0x3000);
}
END_TEST

START_TEST(test_dma_error_sg_list)
{
    uint64_t addr[300], len[300];
    struct lpu_hw_desc d;
    struct cpl c;
    unsigned int i;

    /* the SG list itself is unreadable */
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, 0x1000, 1, 0, 0, 16);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.cycles, 0);

    /* its second batch is unreadable */
    for (i = 0; i < 300; i++) {
        addr[i] = HOST_BASE + SRC_AREA;
        len[i] = 16;
    }
    fake_host_fail(&fh, HOST_BASE + SG_AREA + 256 * 16,
                   HOST_BASE + SG_AREA + 256 * 16 + 1, FAKE_HOST_FAIL_RW);
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 2, put_sg(0, addr, len, 300), 300, 0,
             0, 16);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(fh.writes, 0);
}
END_TEST

START_TEST(test_aborted)
{
    uint64_t a = HOST_BASE + SRC_AREA, l = 3 * MiB;
    struct lpu_hw_desc d;
    struct cpl c;
    uint64_t sg = put_sg(0, &a, &l, 1);

    /*
     * Polls: SG pass 1 batch, SG pass 2 batch, then one per chunk. Abort
     * at the third chunk: two chunks moved.
     */
    fh.abort_after = 4;
    make_dma(&d, LPU_OP_DMA_TO_SRAM, 1, sg, 1, 0, 0, l);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.info, 2 * MiB);
    ck_assert_uint_eq(c.cycles, lpu_card_dma_cycles(2 * MiB));
    ck_assert_int_eq(fh.abort_polls, 5);

    /* abort before anything moves */
    fh.abort_polls = 0;
    fh.abort_after = 0;
    fh.reads = 0;
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 2, sg, 1, 0, 0, l);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.cycles, 0);
    ck_assert_uint_eq(fh.reads + fh.writes, 0);

    /* abort after the first pass, before the first chunk */
    fh.abort_polls = 0;
    fh.abort_after = 2;
    make_dma(&d, LPU_OP_DMA_FROM_SRAM, 3, sg, 1, 0, 0, l);
    c = run(&d);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.cycles, LPU_DMA_SETUP_CYCLES);
    ck_assert_uint_eq(fh.writes, 0);

    /* NOP does not poll */
    fh.abort_polls = 0;
    fh.abort_after = 0;
    make_op(&d, LPU_OP_NOP, 4);
    ck_assert_uint_eq(run(&d).status, LPU_STS_OK);
}
END_TEST

START_TEST(test_sram_clear_bounds)
{
    memset(card.sram, 0xcc, SRAM_SIZE);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 32, 64), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 1, 64), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 64, 63), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 64, 65), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, 0, SRAM_SIZE + 64), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, SRAM_SIZE - 64, 128), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, SRAM_SIZE, 64), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, SRAM_SIZE + 64, 0), -EINVAL);
    /* base + len wraps around 2^64 */
    ck_assert_int_eq(lpu_card_sram_clear(&card, SRAM_SIZE - 64,
                                         UINT64_MAX - 63), -EINVAL);
    ck_assert_int_eq(lpu_card_sram_clear(&card, UINT64_MAX - 63, 128),
                     -EINVAL);
    /* nothing was cleared */
    ck_assert_uint_eq(card.sram[0], 0xcc);
    ck_assert_uint_eq(card.sram[64], 0xcc);
    ck_assert_uint_eq(card.sram[SRAM_SIZE - 1], 0xcc);
}
END_TEST

/* ---- runner ------------------------------------------------------------ */

static Suite *card_suite(void)
{
    Suite *s = suite_create("card");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_init_sizes);
    tcase_add_test(core, test_nop_fence);
    tcase_add_test(core, test_skip);
    tcase_add_test(core, test_cycle_model);
    tcase_add_test(core, test_dma_round_trip);
    tcase_add_test(core, test_dma_chunks);
    tcase_add_test(core, test_dma_sg_batches);
    tcase_add_test(core, test_dma_sram_end);
    tcase_add_test(core, test_no_abort_callback);
    tcase_add_test(core, test_sram_clear);
    tcase_add_test(core, test_sram_clear_residency);
    suite_add_tcase(s, core);

    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_nop_bad_desc);
    tcase_add_test(errors, test_dma_bad_desc);
    tcase_add_test(errors, test_unsupported);
    tcase_add_test(errors, test_sram_range);
    tcase_add_test(errors, test_sg_invalid_header);
    tcase_add_test(errors, test_sg_invalid_entries);
    tcase_add_test(errors, test_sg_invalid_no_data_moved);
    tcase_add_test(errors, test_dma_error_data);
    tcase_add_test(errors, test_dma_error_sg_list);
    tcase_add_test(errors, test_aborted);
    tcase_add_test(errors, test_sram_clear_bounds);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(card_suite());
    TestResult **res;
    int i, n, failed;

    srunner_run_all(sr, CK_SILENT);
    /* Details first, so the summary is the last line. */
    n = srunner_ntests_run(sr);
    res = srunner_results(sr);
    for (i = 0; i < n; i++) {
        if (tr_rtype(res[i]) != CK_PASS) {
            printf("%s:%d:%s:%s: %s\n", tr_lfile(res[i]), tr_lno(res[i]),
                   tr_tcname(res[i]),
                   tr_rtype(res[i]) == CK_FAILURE ? "F" : "E",
                   tr_msg(res[i]));
        }
    }
    free(res);
    fflush(stdout);
    srunner_print(sr, CK_MINIMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
