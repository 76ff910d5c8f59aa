// SPDX-License-Identifier: MIT
/*
 * Unit tests of the EXEC descriptor of the card core
 * (tools/emulator/lpu_exec.c): parameter block checks, the token stream
 * through SG lists in a fake host memory, progress, faults, aborts and
 * host access failures. Every run is compared with the engine run
 * directly on a copy of the same window (tokens, cycles, instructions).
 */
#include <check.h>
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "lpu_card.h"
#include "lpu_engine.h"
#include "lpu_exec.h"
#include "lpu_insn.h"

/* ---- fake host memory -------------------------------------------------- */

#define HOST_BASE       0x100000000ull  /* above 4 GiB: 64-bit addresses */
#define HOST_SIZE       (4u << 20)
#define SRAM_SIZE       (2u << 20)

/* Areas of the fake host memory (offsets from HOST_BASE) */
#define DESC_AREA       0x000000u       /* parameter blocks */
#define SG_AREA         0x010000u       /* SG lists */
#define STREAM_AREA     0x100000u       /* streams */
#define HOST_FILL       0x5a            /* what untouched host bytes read */

#define PARAMS_ADDR     (HOST_BASE + DESC_AREA + 0x40)
#define STREAM_ADDR     (HOST_BASE + STREAM_AREA)

/* The window most tests use: 64 KiB at 128 KiB */
#define WIN_BASE        0x20000u
#define WIN_SIZE        0x10000u
#define DATA            0x400u          /* window offset of data */

/* What fh_progress() and fh_progress_cycles() count and do; zeroed by
 * setup() */
struct progress_hooks {
    unsigned int progress_calls;
    uint32_t last_progress;
    unsigned int cycles_calls;
    uint64_t last_cycles;
    unsigned int cycles_rises;  /* calls with more cycles than the last */
    uint64_t cycles_at_progress;    /* last_cycles when progress() came */
    unsigned int calls;         /* calls of either hook */
    unsigned int cycles_call;   /* calls when progress_cycles() last came */
    uint32_t abort_word_at;     /* set params.abort at this count (0: no) */
    uint32_t fail_hdr_at;       /* make header writes fail at this count */
    uint32_t fail_params_at;    /* make params reads fail at this count */
    uint32_t break_sg_at;       /* zero SG entry break_sg_entry then */
    unsigned int break_sg_entry;
    uint64_t stream;            /* bus address of the stream, for checks */
};

static struct fake_host fh;
static struct progress_hooks ph;
static struct lpu_card card;

static uint8_t *host_ptr(uint64_t addr)
{
    return fake_host_ptr(&fh, addr);
}

/*
 * Read stream bytes [off, off + len) through the SG list (the list the
 * last set_stream_sg() made), for checks.
 */
static uint64_t sg_addr_[512], sg_len_[512];
static unsigned int sg_n_;
static uint64_t sg_offset_;

static void stream_read(uint64_t off, void *buf, size_t len)
{
    uint64_t pos = sg_offset_ + off, start = 0;
    uint8_t *b = buf;
    unsigned int i;

    for (i = 0; i < sg_n_ && len; i++) {
        if (pos < start + sg_len_[i]) {
            uint64_t in = pos - start;
            uint64_t n = sg_len_[i] - in < len ? sg_len_[i] - in : len;

            memcpy(b, host_ptr(sg_addr_[i] + in), n);
            b += n;
            len -= n;
            pos += n;
        }
        start += sg_len_[i];
    }
    ck_assert_uint_eq(len, 0);
}

static uint32_t stream32(uint64_t off)
{
    uint8_t b[4];

    stream_read(off, b, 4);
    return lpu_get_le32(b);
}

static uint64_t stream64(uint64_t off)
{
    return (uint64_t)stream32(off + 4) << 32 | stream32(off);
}

static void fh_progress(void *opaque, uint32_t tokens)
{
    ck_assert_ptr_eq(opaque, &fh);
    ph.progress_calls++;
    /* once per token, in order */
    ck_assert_uint_eq(tokens, ph.last_progress + 1);
    ph.last_progress = tokens;
    /* the token and the count are in host memory already */
    ck_assert_uint_eq(stream32(offsetof(struct lpu_hw_stream, tokens)),
                      tokens);
    ck_assert_uint_eq(stream32(offsetof(struct lpu_hw_stream, state)),
                      LPU_STREAM_RUNNING);
    if (ph.abort_word_at && tokens == ph.abort_word_at) {
        lpu_put_le32(host_ptr(PARAMS_ADDR +
                              offsetof(struct lpu_hw_exec_params, abort)), 1);
    }
    if (ph.fail_hdr_at && tokens == ph.fail_hdr_at) {
        fake_host_fail(&fh, ph.stream, ph.stream + LPU_STREAM_HEADER_SIZE,
                       FAKE_HOST_FAIL_WRITES);
    }
    if (ph.fail_params_at && tokens == ph.fail_params_at) {
        fake_host_fail(&fh, PARAMS_ADDR, PARAMS_ADDR + LPU_EXEC_PARAMS_SIZE,
                       FAKE_HOST_FAIL_READS);
    }
    if (ph.break_sg_at && tokens == ph.break_sg_at) {
        lpu_card_put_le64(host_ptr(HOST_BASE + SG_AREA +
                                   16 * ph.break_sg_entry + 8), 0);
    }
    /* progress_cycles() came just before, for this token */
    ck_assert_uint_gt(ph.calls, 0);
    ck_assert_uint_eq(ph.cycles_call, ph.calls);
    ph.calls++;
    ph.cycles_at_progress = ph.last_cycles;
}

static void fh_progress_cycles(void *opaque, uint64_t cycles)
{
    ck_assert_ptr_eq(opaque, &fh);
    /* never decreasing */
    ck_assert_uint_ge(cycles, ph.last_cycles);
    ph.cycles_rises += cycles > ph.last_cycles;
    ph.cycles_calls++;
    ph.last_cycles = cycles;
    ph.cycles_call = ++ph.calls;
}

static struct lpu_exec_ops ops = {
    .abort_requested = fake_host_abort_requested,
    .progress = fh_progress,
    .progress_cycles = fh_progress_cycles,
    .opaque = &fh,
};

static void setup(void)
{
    fake_host_init(&fh, HOST_BASE, HOST_SIZE, HOST_FILL);
    memset(&ph, 0, sizeof(ph));
    ops.slice_insns = 0;
    ck_assert_int_eq(lpu_card_init(&card, SRAM_SIZE), 0);
}

static void teardown(void)
{
    lpu_card_fini(&card);
    fake_host_fini(&fh);
}

/* A fresh fixture inside a test that runs several cases */
static void refresh(void)
{
    teardown();
    setup();
}

/* ---- programs ---------------------------------------------------------- */

#define I(op, rd, rs, rt, imm, dst, s0, s1, s2, n, m) \
    lpu_insn_make(LPU_OP_##op, rd, rs, rt, imm, dst, s0, s1, s2, n, m)
#define PC(i)           ((i) * LPU_INSN_SIZE)

static void put_prog(uint64_t win_base, const struct lpu_insn *p, size_t n)
{
    memcpy(card.sram + win_base, p, n * sizeof(*p));
}

/* Assemble lines of text (lpu_insn_parse) at window offset 0. */
static void put_asm(uint64_t win_base, const char *const *lines, size_t n)
{
    char err[128];
    size_t i;

    for (i = 0; i < n; i++) {
        struct lpu_insn in;

        ck_assert_msg(lpu_insn_parse(lines[i], &in, err, sizeof(err)) == 0,
                      "%s: %s", lines[i], err);
        memcpy(card.sram + win_base + i * LPU_INSN_SIZE, &in, sizeof(in));
    }
}

/* emit 1, 2, ..., r2 (the budget), then halt: tests/programs/emit_n.s */
static const char *const emit_n_asm[] = {
    "li r5, 1",
    "li r6, 0",
    "bltu r6, r2, 128",         /* loop: */
    "halt",
    "emit r5",                  /* 128 */
    "addi r5, r5, 1",
    "addi r6, r6, 1",
    "jmp 64",
};
#define EMIT_N_EMIT_PC  PC(4)

static void put_emit_n(uint64_t win_base)
{
    put_asm(win_base, emit_n_asm, sizeof(emit_n_asm) / sizeof(emit_n_asm[0]));
}

/* emit r5 = 0, 1, 2, ... forever */
static void put_emit_forever(uint64_t win_base)
{
    const struct lpu_insn p[] = {
        I(EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0),
        I(ADDI, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0),
        I(JMP, 0, 0, 0, PC(0), 0, 0, 0, 0, 0, 0),
    };

    put_prog(win_base, p, 3);
}

/* ---- descriptors and parameter blocks ---------------------------------- */

struct params {
    uint64_t win_base, win_size, entry;
    uint32_t prompt_len, budget, temperature, top_p;
    uint64_t seed;
    uint64_t sg_addr;
    uint32_t sg_count, capacity;
    uint64_t sg_offset;
    uint32_t abort;
    uint32_t max_kcycles;
};

/* A one-entry stream list: the stream at STREAM_ADDR, room for @cap. */
static void set_stream_one(struct params *p, uint32_t cap)
{
    sg_addr_[0] = STREAM_ADDR;
    sg_len_[0] = LPU_STREAM_HEADER_SIZE + 4ull * cap;
    sg_n_ = 1;
    sg_offset_ = 0;
    lpu_card_put_le64(host_ptr(HOST_BASE + SG_AREA), sg_addr_[0]);
    lpu_card_put_le64(host_ptr(HOST_BASE + SG_AREA + 8), sg_len_[0]);
    p->sg_addr = HOST_BASE + SG_AREA;
    p->sg_count = 1;
    p->sg_offset = 0;
    p->capacity = cap;
    ph.stream = STREAM_ADDR;
}

/* Write the list (addr/len pairs) at SG_AREA. */
static void set_stream_sg(struct params *p, const uint64_t *len,
                          unsigned int n, uint64_t sg_offset, uint32_t cap)
{
    uint64_t a = STREAM_ADDR;
    unsigned int i;

    ck_assert_uint_le(n, 512);
    for (i = 0; i < n; i++) {
        /* a gap of 3 bytes between entries: nothing is contiguous */
        sg_addr_[i] = a;
        sg_len_[i] = len[i];
        lpu_card_put_le64(host_ptr(HOST_BASE + SG_AREA + 16 * i), a);
        lpu_card_put_le64(host_ptr(HOST_BASE + SG_AREA + 16 * i + 8),
                          len[i]);
        a += len[i] + 3;
    }
    sg_n_ = n;
    sg_offset_ = sg_offset;
    p->sg_addr = HOST_BASE + SG_AREA;
    p->sg_count = n;
    p->sg_offset = sg_offset;
    p->capacity = cap;
    ph.stream = 0;
}

static void default_params(struct params *p, uint32_t budget, uint32_t cap)
{
    memset(p, 0, sizeof(*p));
    p->win_base = WIN_BASE;
    p->win_size = WIN_SIZE;
    p->budget = budget;
    set_stream_one(p, cap);
}

static void write_params(const struct params *p)
{
    uint8_t *b = host_ptr(PARAMS_ADDR);

    memset(b, 0, LPU_EXEC_PARAMS_SIZE);
    lpu_card_put_le64(b + 0, p->win_base);
    lpu_card_put_le64(b + 8, p->win_size);
    lpu_card_put_le64(b + 16, p->entry);
    lpu_put_le32(b + 24, p->prompt_len);
    lpu_put_le32(b + 28, p->budget);
    lpu_put_le32(b + 32, p->temperature);
    lpu_put_le32(b + 36, p->top_p);
    lpu_card_put_le64(b + 40, p->seed);
    lpu_card_put_le64(b + 48, p->sg_addr);
    lpu_put_le32(b + 56, p->sg_count);
    lpu_put_le32(b + 60, p->capacity);
    lpu_card_put_le64(b + 64, p->sg_offset);
    lpu_put_le32(b + 72, p->abort);
    lpu_put_le32(b + 76, p->max_kcycles);
}

static void make_exec(struct lpu_hw_desc *d, uint64_t seqno)
{
    memset(d, 0, sizeof(*d));
    d->opcode = LPU_OP_EXEC;
    d->flags = LPU_DESC_IRQ;
    d->seqno = htole64(seqno);
    d->exec.params_addr = htole64(PARAMS_ADDR);
    d->exec.params_size = htole32(LPU_EXEC_PARAMS_SIZE);
}

struct cpl {
    uint32_t status;
    uint64_t cycles;
    uint64_t info;
    struct lpu_exec_result res;
};

static struct cpl run_desc(const struct lpu_hw_desc *d)
{
    struct lpu_hw_cpl raw;
    struct cpl c;
    uint32_t st;

    memset(&raw, 0xa5, sizeof(raw));
    st = lpu_exec_run(&card, d, &fh.host, &ops, &raw, &c.res);
    c.status = le32toh(raw.status);
    c.cycles = le64toh(raw.cycles);
    c.info = le64toh(raw.info);
    ck_assert_uint_eq(st, c.status);
    ck_assert_uint_eq(le64toh(raw.seqno), le64toh(d->seqno));
    ck_assert_uint_eq(le32toh(raw.opcode), LPU_OP_EXEC);
    ck_assert_uint_eq(c.cycles, c.res.cycles);
    return c;
}

static struct cpl run(const struct params *p)
{
    struct lpu_hw_desc d;

    write_params(p);
    make_exec(&d, 42);
    return run_desc(&d);
}

/* ---- the reference: the engine alone on a copy of the window ----------- */

struct ref {
    struct lpu_engine e;
    uint32_t tokens[4096];
    uint32_t cap;
};

static int ref_emit(void *opaque, uint32_t token, uint32_t index)
{
    struct ref *r = opaque;

    if (index >= r->cap) {
        return 1;
    }
    r->tokens[index] = token;
    return 0;
}

static struct ref *ref_run(const struct params *p)
{
    struct ref *r = calloc(1, sizeof(*r));
    struct lpu_engine_io io = { ref_emit, r };
    struct lpu_engine_args a = {
        .prompt_len = p->prompt_len, .budget = p->budget,
        .temperature = lpu_bits_f32(p->temperature),
        .top_p = lpu_bits_f32(p->top_p), .seed = p->seed,
        .max_cycles = (uint64_t)p->max_kcycles * 1000,
    };
    uint8_t *w = aligned_alloc(64, p->win_size);

    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(w);
    memcpy(w, card.sram + p->win_base, p->win_size);
    r->cap = p->capacity < 4096 ? p->capacity : 4096;
    ck_assert_int_eq(lpu_engine_init(&r->e, w, p->win_size, p->entry, &a), 0);
    lpu_engine_run(&r->e, UINT64_MAX, &io);
    lpu_engine_fini(&r->e);
    free(w);
    return r;
}

/* The header and the tokens match the reference, and nothing past them. */
static void check_stream(const struct ref *r, uint32_t state, uint32_t n)
{
    uint32_t i;

    ck_assert_uint_eq(stream32(0), n);
    ck_assert_uint_eq(stream32(4), state);
    ck_assert_uint_eq(stream32(8), state == LPU_STREAM_FAULT ?
                      (uint32_t)r->e.fault : 0);
    ck_assert_uint_eq(stream32(12), state == LPU_STREAM_FAULT ?
                      (uint32_t)r->e.fault_pc : 0);
    if (state != LPU_STREAM_ABORTED) {
        ck_assert_uint_eq(stream64(16), r->e.cycles);
        ck_assert_uint_eq(stream64(24), r->e.insns);
    }
    for (i = 32; i < LPU_STREAM_HEADER_SIZE; i += 4) {
        ck_assert_uint_eq(stream32(i), 0);
    }
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(stream32(LPU_STREAM_HEADER_SIZE + 4 * i),
                          r->tokens[i]);
    }
}

/* ---- core -------------------------------------------------------------- */

START_TEST(test_emit_n)
{
    static const uint32_t budgets[] = { 0, 1, 7, 100 };
    unsigned int i, k;

    for (i = 0; i < 4; i++) {
        struct params p;
        struct ref *r;
        struct cpl c;

        refresh();
        put_emit_n(WIN_BASE);
        default_params(&p, budgets[i], 100);
        r = ref_run(&p);
        c = run(&p);
        ck_assert_uint_eq(c.status, LPU_STS_OK);
        ck_assert_uint_eq(c.info, budgets[i]);
        ck_assert_uint_eq(c.cycles, r->e.cycles);
        ck_assert_uint_eq(c.res.insns, r->e.insns);
        ck_assert_uint_eq(c.res.tokens, budgets[i]);
        ck_assert_uint_eq(c.res.state, LPU_STREAM_HALTED);
        ck_assert_str_eq(c.res.msg, "");
        ck_assert_uint_eq(ph.progress_calls, budgets[i]);
        ck_assert_uint_eq(ph.cycles_calls, c.res.slices + budgets[i]);
        ck_assert_uint_eq(ph.last_cycles, c.cycles);
        check_stream(r, LPU_STREAM_HALTED, budgets[i]);
        for (k = 0; k < budgets[i]; k++) {
            ck_assert_uint_eq(stream32(64 + 4 * k), k + 1);
        }
        /* untouched: the unused capacity and the bytes after the stream */
        for (k = 64 + 4 * budgets[i]; k < 64 + 4 * 100 + 256; k++) {
            ck_assert_uint_eq(host_ptr(STREAM_ADDR)[k], HOST_FILL);
        }
        /* one write per token and per count, the header twice */
        ck_assert_uint_eq(fh.writes, 2 * budgets[i] + 2);
        free(r);
    }
}
END_TEST

/* The same run however it is sliced; the abort word is read per slice. */
START_TEST(test_slices)
{
    static const uint64_t slices[] = { 1, 2, 3, 1000, 0 };
    unsigned int i;

    for (i = 0; i < 5; i++) {
        struct params p;
        struct ref *r;
        struct cpl c;

        refresh();
        ops.slice_insns = slices[i];
        put_emit_n(WIN_BASE);
        default_params(&p, 50, 64);
        r = ref_run(&p);
        c = run(&p);
        ck_assert_uint_eq(c.status, LPU_STS_OK);
        ck_assert_uint_eq(c.info, 50);
        ck_assert_uint_eq(c.cycles, r->e.cycles);
        check_stream(r, LPU_STREAM_HALTED, 50);
        if (slices[i]) {
            uint64_t n = (r->e.insns + slices[i] - 1) / slices[i];

            ck_assert_uint_eq(c.res.slices, n);
            /* one abort poll of each kind per slice */
            ck_assert_uint_eq(fh.request_polls, n);
            /* params block once, then the abort word once per slice */
            ck_assert_uint_eq(fh.reads, 1 + 1 + 1 + n);
        }
        free(r);
    }
}
END_TEST

/* r1..r4 come from the block; tokens are u32 LE */
START_TEST(test_args)
{
    const struct lpu_insn prog[] = {
        I(EMIT, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        I(EMIT, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0),
        I(EMIT, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0),
        I(EMIT, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0),
        I(EMIT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    struct params p;
    struct ref *r;
    struct cpl c;

    put_prog(WIN_BASE, prog, 6);
    default_params(&p, 0xdeadbeef, 5);
    p.prompt_len = 0x01020304;
    p.temperature = lpu_f32_bits(0.75f);
    p.top_p = 0xffffffff;       /* any bits pass through */
    r = ref_run(&p);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, 5);
    check_stream(r, LPU_STREAM_HALTED, 5);
    ck_assert_uint_eq(stream32(64), 0x01020304);
    ck_assert_uint_eq(stream32(68), 0xdeadbeef);
    ck_assert_uint_eq(stream32(72), lpu_f32_bits(0.75f));
    ck_assert_uint_eq(stream32(76), 0xffffffff);
    ck_assert_uint_eq(stream32(80), 0);
    ck_assert_uint_eq(host_ptr(STREAM_ADDR)[64 + 4], 0xef);
    free(r);
}
END_TEST

/* SAMPLE draws from the seeded PRNG: the seed reaches the engine. */
START_TEST(test_seed)
{
    const struct lpu_insn prog[] = {
        I(LI, 7, 0, 0, 16, 0, 0, 0, 0, 0, 0),
        I(SAMPLE, 5, 3, 4, 0, 0, DATA, 0, 0, 8, 0),     /* 32 */
        I(EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0),
        I(ADDI, 6, 6, 0, 1, 0, 0, 0, 0, 0, 0),
        I(BLTU, 0, 6, 7, PC(1), 0, 0, 0, 0, 0, 0),
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    static const uint64_t seeds[] = { 0, 1, 12345 };
    uint32_t first[3][16];
    unsigned int s, i;

    for (s = 0; s < 3; s++) {
        struct params p;
        struct ref *r;
        struct cpl c;

        refresh();
        put_prog(WIN_BASE, prog, 6);
        for (i = 0; i < 8; i++) {
            float v = (float)i * 0.25f;

            memcpy(card.sram + WIN_BASE + DATA + 4 * i, &v, 4);
        }
        default_params(&p, 0, 16);
        p.temperature = lpu_f32_bits(2.0f);
        p.top_p = lpu_f32_bits(0.9f);
        p.seed = seeds[s];
        r = ref_run(&p);
        c = run(&p);
        ck_assert_uint_eq(c.status, LPU_STS_OK);
        ck_assert_uint_eq(c.cycles, r->e.cycles);
        check_stream(r, LPU_STREAM_HALTED, 16);
        for (i = 0; i < 16; i++) {
            first[s][i] = r->tokens[i];
        }
        free(r);
    }
    /* seed 0 is the default seed, not "no PRNG"; seeds differ */
    ck_assert(memcmp(first[1], first[2], sizeof(first[1])) != 0);
    ck_assert(memcmp(first[0], first[1], sizeof(first[0])) != 0);
}
END_TEST

/* The window starts at win_base; the engine sees only it. */
START_TEST(test_window)
{
    const struct lpu_insn prog[] = {
        I(LOADW, 6, 0, 0, 0, DATA, 0, 0, 0, 1, 0),
        I(EMIT, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0),
        /* the word just past the window: an SRAM fault */
        I(LOADW, 6, 0, 0, 0, 0x1000, 0, 0, 0, 1, 0),
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    uint64_t base = SRAM_SIZE - 0x1000;
    struct params p;
    struct cpl c;

    put_prog(base, prog, 4);
    lpu_put_le32(card.sram + base + DATA, 0xfeedf00d);
    default_params(&p, 0, 4);
    p.win_base = base;
    p.win_size = 0x1000;        /* up to the end of SRAM */
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_FAULT);
    ck_assert_uint_eq(c.info, 1 | (uint64_t)LPU_FAULT_SRAM << 32);
    ck_assert_uint_eq(stream32(64), 0xfeedf00d);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_FAULT);
    ck_assert_uint_eq(stream32(8), LPU_FAULT_SRAM);
    ck_assert_uint_eq(stream32(12), PC(2));
}
END_TEST

/* The stream through a list of odd-sized entries, not at its start. */
START_TEST(test_stream_sg)
{
    /* 64-byte header at offset 128: split 5+1+58; tokens straddle too */
    static const uint64_t len[] = { 100, 33, 1, 5, 1, 58, 3, 7, 1, 2, 1000 };
    struct params p;
    struct ref *r;
    struct cpl c;
    unsigned int k;

    put_emit_n(WIN_BASE);
    default_params(&p, 40, 0);
    set_stream_sg(&p, len, 11, 128, 60);
    r = ref_run(&p);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, 40);
    check_stream(r, LPU_STREAM_HALTED, 40);
    for (k = 0; k < 40; k++) {
        ck_assert_uint_eq(stream32(64 + 4 * k), k + 1);
    }
    ck_assert_uint_eq(ph.progress_calls, 40);
    /* before the stream: untouched */
    for (k = 0; k < 100; k++) {
        ck_assert_uint_eq(host_ptr(STREAM_ADDR)[k], HOST_FILL);
    }
    free(r);
}
END_TEST

/* The range exactly fits the list; one SG batch and more entries. */
START_TEST(test_stream_exact_fit)
{
    static uint64_t len[300];
    struct params p;
    struct ref *r;
    struct cpl c;
    unsigned int k;

    /* 64 + 4 * 284 = 1200 bytes in 300 entries of 4 */
    for (k = 0; k < 300; k++) {
        len[k] = 4;
    }
    put_emit_n(WIN_BASE);
    default_params(&p, 284, 0);
    set_stream_sg(&p, len, 300, 0, 284);
    r = ref_run(&p);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, 284);
    check_stream(r, LPU_STREAM_HALTED, 284);
    free(r);
}
END_TEST

/* ---- faults ------------------------------------------------------------ */

START_TEST(test_fault_index)
{
    const struct lpu_insn prog[] = {
        I(LI, 5, 0, 0, 10, 0, 0, 0, 0, 0, 0),
        I(EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0),
        I(LOADW, 6, 5, 0, 0, DATA, 0, 0, 0, 4, 0),      /* 10 >= 4 */
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    struct params p;
    struct ref *r;
    struct cpl c;

    put_prog(WIN_BASE, prog, 4);
    default_params(&p, 0, 8);
    r = ref_run(&p);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_FAULT);
    ck_assert_uint_eq(c.info, 1 | (uint64_t)LPU_FAULT_INDEX << 32);
    ck_assert_uint_eq(c.cycles, r->e.cycles);
    ck_assert_uint_eq(c.res.fault, LPU_FAULT_INDEX);
    ck_assert_uint_eq(c.res.fault_pc, PC(2));
    ck_assert_uint_eq(c.res.state, LPU_STREAM_FAULT);
    ck_assert_ptr_nonnull(strstr(c.res.msg, "index"));
    check_stream(r, LPU_STREAM_FAULT, 1);
    ck_assert_uint_eq(stream32(12), PC(2));
    free(r);
}
END_TEST

/* entry is not checked by the card: a bad one is the program's PC fault */
START_TEST(test_fault_entry)
{
    static const uint64_t entries[] = { 16, WIN_SIZE, WIN_SIZE - 16 };
    unsigned int i;

    for (i = 0; i < 3; i++) {
        struct params p;
        struct cpl c;

        refresh();
        put_emit_n(WIN_BASE);
        default_params(&p, 1, 8);
        p.entry = entries[i];
        c = run(&p);
        ck_assert_uint_eq(c.status, LPU_STS_FAULT);
        ck_assert_uint_eq(c.info, (uint64_t)LPU_FAULT_PC << 32);
        ck_assert_uint_eq(c.cycles, 0);
        ck_assert_uint_eq(stream32(0), 0);
        ck_assert_uint_eq(stream32(4), LPU_STREAM_FAULT);
        ck_assert_uint_eq(stream32(8), LPU_FAULT_PC);
        ck_assert_uint_eq(stream32(12), entries[i]);
        ck_assert_uint_eq(stream64(24), 0);
    }
}
END_TEST

START_TEST(test_stream_full)
{
    struct params p;
    struct ref *r;
    struct cpl c;

    put_emit_n(WIN_BASE);
    default_params(&p, 5, 3);
    r = ref_run(&p);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_FAULT);
    ck_assert_uint_eq(c.info, 3 | (uint64_t)LPU_FAULT_STREAM << 32);
    ck_assert_uint_eq(c.cycles, r->e.cycles);
    ck_assert_uint_eq(r->e.fault, LPU_FAULT_STREAM);
    check_stream(r, LPU_STREAM_FAULT, 3);
    ck_assert_uint_eq(stream32(12), EMIT_N_EMIT_PC);
    ck_assert_uint_eq(ph.progress_calls, 3);
    /* nothing past the capacity: the stream range ends there */
    ck_assert_uint_eq(host_ptr(STREAM_ADDR)[64 + 12], HOST_FILL);
    free(r);
}
END_TEST

/* ---- aborts ------------------------------------------------------------ */

/* The abort word, set by the host while the program runs */
START_TEST(test_abort_word)
{
    struct params p;
    struct cpl c;

    ops.slice_insns = 1;
    put_emit_forever(WIN_BASE);
    default_params(&p, 0, 1000);
    ph.abort_word_at = 10;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    /* seen before the next slice: right after the EMIT of token 10 */
    ck_assert_uint_eq(c.info, 10);
    ck_assert_uint_eq(c.res.tokens, 10);
    ck_assert_uint_eq(c.res.insns, 3 * 9 + 1);
    ck_assert_uint_eq(c.res.state, LPU_STREAM_ABORTED);
    ck_assert_uint_eq(stream32(0), 10);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_ABORTED);
    ck_assert_uint_eq(stream32(8), 0);
    ck_assert_uint_eq(stream64(16), c.cycles);
    ck_assert_uint_eq(stream64(24), c.res.insns);
    ck_assert_uint_eq(c.cycles, 10 * LPU_LAT_EMIT + 9 * 2);
    ck_assert_ptr_nonnull(strstr(c.res.msg, "abort word"));
}
END_TEST

/* Set before the start: nothing runs. Adaptive slices too. */
START_TEST(test_abort_word_before)
{
    struct params p;
    struct cpl c;

    put_emit_forever(WIN_BASE);
    default_params(&p, 0, 1000);
    p.abort = 0x80000000;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.cycles, 0);
    ck_assert_uint_eq(c.res.insns, 0);
    ck_assert_uint_eq(c.res.slices, 0);
    ck_assert_uint_eq(stream32(0), 0);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_ABORTED);
    ck_assert_uint_eq(ph.progress_calls, 0);
}
END_TEST

/* LPU_Q_ABORT: the glue's abort request, polled once per slice */
START_TEST(test_abort_request)
{
    struct params p;
    struct cpl c;

    ops.slice_insns = 7;
    put_emit_forever(WIN_BASE);
    default_params(&p, 0, 1000);
    fh.request_after = 5;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.res.slices, 5);
    ck_assert_uint_eq(c.res.insns, 35);
    /* 35 insns: 12 emits (insn 0, 3, ..., 33) */
    ck_assert_uint_eq(c.info, 12);
    ck_assert_uint_eq(stream32(0), 12);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_ABORTED);
    ck_assert_uint_eq(stream64(24), 35);
    ck_assert_ptr_nonnull(strstr(c.res.msg, "LPU_Q_ABORT"));
}
END_TEST

/* A reset (should_abort) stops it the same way, adaptive slices */
START_TEST(test_abort_reset)
{
    const struct lpu_insn prog[] = {
        I(ADDI, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0),
        I(JMP, 0, 0, 0, PC(0), 0, 0, 0, 0, 0, 0),
    };
    struct params p;
    struct cpl c;

    put_prog(WIN_BASE, prog, 2);
    default_params(&p, 0, 1);
    /* polls: 1 in the SG check, 1 mapping the header, then per slice */
    fh.abort_after = 2 + 20;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.res.slices, 20);
    ck_assert_uint_ge(c.res.insns, 20);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_ABORTED);
    ck_assert_uint_eq(stream64(16), c.res.insns);
    ck_assert_ptr_nonnull(strstr(c.res.msg, "reset"));
}
END_TEST

/* A reset seen while the stream's SG list is read for a token */
START_TEST(test_abort_reset_sg)
{
    static uint64_t len[300];
    struct params p;
    struct cpl c;
    unsigned int k;

    for (k = 0; k < 300; k++) {
        len[k] = 4;
    }
    ops.slice_insns = 1ull << 30;
    put_emit_n(WIN_BASE);
    default_params(&p, 284, 0);
    set_stream_sg(&p, len, 300, 0, 284);
    /* polls: 2 batches checked, 1 for the header, 1 slice; then entry 256 */
    fh.abort_after = 4;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.info, 240);
    ck_assert_uint_eq(stream32(0), 240);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_ABORTED);
    ck_assert_uint_eq(stream32(8), 0);
    ck_assert_uint_eq(stream64(16), c.cycles);
    ck_assert_ptr_nonnull(strstr(c.res.msg, "reset"));
}
END_TEST

/* ---- host access failures ---------------------------------------------- */

START_TEST(test_dma_token_write)
{
    struct params p;
    struct cpl c;

    put_emit_n(WIN_BASE);
    default_params(&p, 10, 10);
    /* token 2 */
    fake_host_fail(&fh, STREAM_ADDR + 64 + 8, STREAM_ADDR + 64 + 12,
                   FAKE_HOST_FAIL_RW);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 2);
    ck_assert_uint_gt(c.cycles, 0);
    ck_assert_uint_eq(ph.progress_calls, 2);
    /* nothing more was written: the state still reads RUNNING */
    ck_assert_uint_eq(stream32(0), 2);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_RUNNING);
    ck_assert_uint_eq(stream64(16), 0);
    ck_assert_uint_eq(host_ptr(STREAM_ADDR)[64 + 12], HOST_FILL);
}
END_TEST

START_TEST(test_dma_header_first)
{
    struct params p;
    struct cpl c;

    put_emit_n(WIN_BASE);
    default_params(&p, 10, 10);
    fake_host_fail(&fh, STREAM_ADDR + 63, STREAM_ADDR + 64, FAKE_HOST_FAIL_RW);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.cycles, 0);
    ck_assert_uint_eq(c.res.insns, 0);
    ck_assert_uint_eq(ph.progress_calls, 0);
}
END_TEST

/* The count write of token 3 fails after its token was written */
START_TEST(test_dma_count_write)
{
    struct params p;
    struct cpl c;

    put_emit_n(WIN_BASE);
    default_params(&p, 10, 10);
    ph.fail_hdr_at = 3;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 3);
    ck_assert_uint_eq(stream32(0), 3);
    ck_assert_uint_eq(stream32(64 + 12), 4);    /* token 3 got there */
    ck_assert_uint_eq(ph.progress_calls, 3);
}
END_TEST

/* The final header write fails after the last token */
START_TEST(test_dma_final_header)
{
    struct params p;
    struct cpl c;

    put_emit_n(WIN_BASE);
    default_params(&p, 4, 10);
    ph.fail_hdr_at = 4;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 4);
    ck_assert_uint_eq(stream32(0), 4);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_RUNNING);
    ck_assert_ptr_nonnull(strstr(c.res.msg, "final"));
}
END_TEST

/* Re-reading the abort word fails */
START_TEST(test_dma_abort_word)
{
    struct params p;
    struct cpl c;

    ops.slice_insns = 1;
    put_emit_forever(WIN_BASE);
    default_params(&p, 0, 100);
    ph.fail_params_at = 5;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 5);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_RUNNING);
}
END_TEST

START_TEST(test_dma_params_read)
{
    struct lpu_hw_desc d;
    struct params p;
    struct cpl c;

    put_emit_n(WIN_BASE);
    default_params(&p, 1, 10);
    write_params(&p);
    make_exec(&d, 1);
    d.exec.params_addr = htole64(HOST_BASE + HOST_SIZE);
    c = run_desc(&d);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.cycles, 0);
    ck_assert_uint_eq(fh.writes, 0);
}
END_TEST

START_TEST(test_dma_sg_read)
{
    struct params p;
    struct cpl c;

    put_emit_n(WIN_BASE);
    default_params(&p, 1, 10);
    p.sg_addr = HOST_BASE + HOST_SIZE - 16;
    p.sg_count = 2;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_DMA_ERROR);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(fh.writes, 0);
}
END_TEST

/* The guest rewrote an SG entry the run had not reached yet */
START_TEST(test_sg_changed)
{
    static uint64_t len[300];
    struct params p;
    struct cpl c;
    unsigned int k;

    for (k = 0; k < 300; k++) {
        len[k] = 4;
    }
    put_emit_n(WIN_BASE);
    default_params(&p, 284, 0);
    set_stream_sg(&p, len, 300, 0, 284);
    /* entry 280 holds token 264; the first batch is entries 0..255 */
    ph.break_sg_at = 10;
    ph.break_sg_entry = 280;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_BAD_PARAMS);
    ck_assert_uint_eq(c.info, 264);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_RUNNING);
}
END_TEST

/* ---- bad descriptors and parameter blocks ------------------------------ */

static void expect_desc(const struct lpu_hw_desc *d, uint32_t status)
{
    struct cpl c = run_desc(d);

    ck_assert_uint_eq(c.status, status);
    ck_assert_uint_eq(c.cycles, 0);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(fh.writes, 0);
    ck_assert_uint_eq(ph.progress_calls, 0);
    ck_assert_uint_ne(c.res.msg[0], '\0');
}

START_TEST(test_bad_desc)
{
    struct lpu_hw_desc d;
    struct params p;
    unsigned int i;

    put_emit_n(WIN_BASE);
    default_params(&p, 1, 10);
    write_params(&p);
    make_exec(&d, 1);
    d.flags = 4;
    expect_desc(&d, LPU_STS_BAD_DESC);
    make_exec(&d, 1);
    d.rsvd0 = htole16(1);
    expect_desc(&d, LPU_STS_BAD_DESC);
    make_exec(&d, 1);
    d.rsvd1 = htole32(0x80000000);
    expect_desc(&d, LPU_STS_BAD_DESC);
    make_exec(&d, 1);
    d.exec.rsvd = htole32(1);
    expect_desc(&d, LPU_STS_BAD_DESC);
    for (i = 0; i < 4; i++) {
        make_exec(&d, 1);
        d.exec.rsvd2[i] = htole64(1ull << 63);
        expect_desc(&d, LPU_STS_BAD_DESC);
    }
    /* BAD_DESC before BAD_PARAMS */
    make_exec(&d, 1);
    d.exec.rsvd = htole32(1);
    d.exec.params_size = htole32(64);
    expect_desc(&d, LPU_STS_BAD_DESC);
    ck_assert_uint_eq(fh.reads, 0);
}
END_TEST

START_TEST(test_bad_params_desc)
{
    static const uint32_t sizes[] = { 0, 64, 127, 129, 256, 0xffffffff };
    struct lpu_hw_desc d;
    struct params p;
    unsigned int i;

    put_emit_n(WIN_BASE);
    default_params(&p, 1, 10);
    write_params(&p);
    for (i = 0; i < 6; i++) {
        make_exec(&d, 1);
        d.exec.params_size = htole32(sizes[i]);
        expect_desc(&d, LPU_STS_BAD_PARAMS);
    }
    for (i = 1; i < 64; i *= 2) {
        make_exec(&d, 1);
        d.exec.params_addr = htole64(PARAMS_ADDR + i);
        expect_desc(&d, LPU_STS_BAD_PARAMS);
    }
    /* 64-byte aligned, but its 128 bytes wrap */
    make_exec(&d, 1);
    d.exec.params_addr = htole64(0xffffffffffffffc0ull);
    expect_desc(&d, LPU_STS_BAD_PARAMS);
    ck_assert_uint_eq(fh.reads, 0);
}
END_TEST

enum bad_field {
    BAD_RSVD, BAD_WIN_ALIGN, BAD_WIN_SIZE0, BAD_WIN_PAST,
    BAD_WIN_PAST1, BAD_WIN_BASE_PAST, BAD_WIN_WRAP, BAD_CAP0, BAD_OFF_ALIGN,
    BAD_SG_ALIGN, BAD_SG_COUNT0, BAD_SG_COUNT_MAX, BAD_SG_LIST_WRAP,
    BAD_RANGE_WRAP, BAD_SG_SHORT, BAD_SG_SHORT_OFF, BAD_SG_ENTRY0,
    BAD_SG_ENTRY_WRAP, BAD_SG_ENTRY_UNUSED, BAD_COUNT,
};

START_TEST(test_bad_params)
{
    unsigned int w;

    for (w = 0; w < BAD_COUNT; w++) {
        uint64_t lens[2] = { 64 + 40, 64 };
        struct lpu_hw_desc d;
        struct params p;
        unsigned int i;
        uint8_t *sg;

        refresh();
        sg = host_ptr(HOST_BASE + SG_AREA);
        put_emit_n(WIN_BASE);
        default_params(&p, 1, 10);
        write_params(&p);
        switch (w) {
        case BAD_RSVD:
            break;              /* below */
        case BAD_WIN_ALIGN:
            p.win_base = WIN_BASE + 32;
            break;
        case BAD_WIN_SIZE0:
            p.win_size = 0;
            break;
        case BAD_WIN_PAST:
            p.win_base = SRAM_SIZE - 64;
            p.win_size = 128;
            break;
        case BAD_WIN_PAST1:
            p.win_base = 0;
            p.win_size = SRAM_SIZE + 1;
            break;
        case BAD_WIN_BASE_PAST:
            p.win_base = SRAM_SIZE + 64;
            p.win_size = 64;
            break;
        case BAD_WIN_WRAP:
            p.win_base = 0xffffffffffffffc0ull;
            p.win_size = 0x80;
            break;
        case BAD_CAP0:
            p.capacity = 0;
            break;
        case BAD_OFF_ALIGN:
            p.sg_offset = 32;
            break;
        case BAD_SG_ALIGN:
            p.sg_addr += 8;
            break;
        case BAD_SG_COUNT0:
            p.sg_count = 0;
            break;
        case BAD_SG_COUNT_MAX:
            p.sg_count = LPU_SG_MAX_ENTRIES + 1;
            break;
        case BAD_SG_LIST_WRAP:
            p.sg_addr = 0xfffffffffffffff0ull;
            p.sg_count = 2;
            break;
        case BAD_RANGE_WRAP:
            p.sg_offset = 0xffffffffffffff00ull;
            break;
        case BAD_SG_SHORT:
            /* the entry holds 64 + 4 * 10 - 1 bytes */
            lpu_card_put_le64(sg + 8, 64 + 39);
            break;
        case BAD_SG_SHORT_OFF:
            p.sg_offset = 64;   /* the same list, 64 bytes further */
            break;
        case BAD_SG_ENTRY0:
            lens[0] = 0;
            lens[1] = 200;
            break;
        case BAD_SG_ENTRY_WRAP:
            break;              /* below */
        case BAD_SG_ENTRY_UNUSED:
            lens[1] = 0;        /* an entry the stream never reaches */
            break;
        }
        if (w == BAD_SG_ENTRY0 || w == BAD_SG_ENTRY_UNUSED ||
            w == BAD_SG_ENTRY_WRAP) {
            p.sg_count = 2;
            for (i = 0; i < 2; i++) {
                lpu_card_put_le64(sg + 16 * i, STREAM_ADDR + 0x1000 * i);
                lpu_card_put_le64(sg + 16 * i + 8, lens[i]);
            }
            if (w == BAD_SG_ENTRY_WRAP) {
                lpu_card_put_le64(sg + 16, 0xfffffffffffffff0ull);
                lpu_card_put_le64(sg + 24, 0x11);
            }
        }
        write_params(&p);
        if (w == BAD_RSVD) {
            for (i = 0; i < 6; i++) {
                write_params(&p);
                lpu_card_put_le64(host_ptr(PARAMS_ADDR + 80 + 8 * i),
                                  1ull << (7 * i));
                make_exec(&d, 1);
                expect_desc(&d, LPU_STS_BAD_PARAMS);
            }
            continue;
        }
        make_exec(&d, 1);
        {
            struct cpl c = run_desc(&d);

            ck_assert_msg(c.status == LPU_STS_BAD_PARAMS,
                          "case %u: status %u (%s)", w, c.status, c.res.msg);
            ck_assert_uint_eq(c.cycles, 0);
            ck_assert_uint_eq(c.info, 0);
            ck_assert_uint_eq(fh.writes, 0);
            ck_assert_ptr_nonnull(strstr(c.res.msg, "bad parameter block"));
        }
    }
}
END_TEST

/* Boundaries that are fine: the window ending at SRAM's end, capacity 1. */
START_TEST(test_params_edges)
{
    struct params p;
    struct cpl c;

    put_emit_n(SRAM_SIZE - 4096);
    default_params(&p, 3, 1);
    p.win_base = SRAM_SIZE - 4096;
    p.win_size = 4096;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_FAULT);
    ck_assert_uint_eq(c.info, 1 | (uint64_t)LPU_FAULT_STREAM << 32);
    ck_assert_uint_eq(stream32(64), 1);
    /* the whole of SRAM as the window */
    refresh();
    put_emit_n(0);
    default_params(&p, 3, 3);
    p.win_base = 0;
    p.win_size = SRAM_SIZE;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, 3);
}
END_TEST

/* A stories15M-like inner loop: tensor ops, cycles as the reference. */
START_TEST(test_tensor_program)
{
    enum { N = 64, M = 96, X = 0x1000, W = 0x2000, Y = 0x9000 };
    const struct lpu_insn prog[] = {
        I(LI, 7, 0, 0, 6, 0, 0, 0, 0, 0, 0),
        I(MATVEC, 0, 0, 0, 0, Y, W, X, 0, N, M),                /* 32 */
        I(SOFTMAX, 0, 0, 0, 0, Y, Y, 0, 0, 0 + N, 0),
        I(ARGMAX, 5, 0, 0, 0, 0, Y, 0, 0, N, 0),
        I(EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0),
        I(VADD, 0, 0, 0, 0, X, X, X, 0, M, 0),
        I(ADDI, 6, 6, 0, 1, 0, 0, 0, 0, 0, 0),
        I(BLTU, 0, 6, 7, PC(1), 0, 0, 0, 0, 0, 0),
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    struct params p;
    struct ref *r;
    struct cpl c;
    unsigned int i;

    put_prog(WIN_BASE, prog, 9);
    for (i = 0; i < M; i++) {
        float v = (float)((i * 37) % 11) - 5.0f;

        memcpy(card.sram + WIN_BASE + X + 4 * i, &v, 4);
    }
    for (i = 0; i < N * M; i++) {
        float v = (float)((i * 7919) % 13) * 0.125f - 0.75f;

        memcpy(card.sram + WIN_BASE + W + 4 * i, &v, 4);
    }
    default_params(&p, 0, 6);
    r = ref_run(&p);
    c = run(&p);
    ck_assert_uint_eq(r->e.status, LPU_ENGINE_HALTED);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.info, 6);
    ck_assert_uint_eq(c.cycles, r->e.cycles);
    check_stream(r, LPU_STREAM_HALTED, 6);
    free(r);
}
END_TEST

/* ---- cycle limit (params.max_kcycles) ---------------------------------- */

/* A loop of tensor ops emitting one token per iteration, r2 iterations */
enum { LIM_N = 256, LIM_M = 384, LIM_X = 0x1000, LIM_W = 0x2000,
       LIM_Y = 0x80000 };

/* The program and its data in a window of 1 MiB; returns its largest
 * single-instruction cost. */
static uint64_t put_limit_prog(struct params *p, uint32_t iters)
{
    const struct lpu_insn prog[] = {
        I(LI, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        I(BLTU, 0, 6, 2, PC(3), 0, 0, 0, 0, 0, 0),             /* loop: */
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        I(MATVEC, 0, 0, 0, 0, LIM_Y, LIM_W, LIM_X, 0, LIM_N, LIM_M),
        I(SOFTMAX, 0, 0, 0, 0, LIM_Y, LIM_Y, 0, 0, LIM_N, 0),
        I(ARGMAX, 5, 0, 0, 0, 0, LIM_Y, 0, 0, LIM_N, 0),
        I(EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0),
        I(ADDI, 6, 6, 0, 1, 0, 0, 0, 0, 0, 0),
        I(JMP, 0, 0, 0, PC(1), 0, 0, 0, 0, 0, 0),
    };
    const size_t len = sizeof(prog) / sizeof(prog[0]);
    uint64_t max = 0;
    unsigned int i;

    put_prog(WIN_BASE, prog, len);
    for (i = 0; i < LIM_M; i++) {
        float v = (float)((i * 37) % 11) - 5.0f;

        memcpy(card.sram + WIN_BASE + LIM_X + 4 * i, &v, 4);
    }
    for (i = 0; i < LIM_N * LIM_M; i++) {
        float v = (float)((i * 7919) % 13) * 0.125f - 0.75f;

        memcpy(card.sram + WIN_BASE + LIM_W + 4 * i, &v, 4);
    }
    for (i = 0; i < len; i++) {
        uint64_t c = lpu_insn_cycles(&prog[i]);

        max = c > max ? c : max;
    }
    default_params(p, iters, iters);
    p->win_size = 1u << 20;
    return max;
}

/*
 * The program stops at the first instruction boundary at or past the limit:
 * CYCLE_LIMIT, the stream ABORTED with its cycles and insns, exactly where
 * the engine alone stops with the same limit, however the run is sliced.
 */
START_TEST(test_cycle_limit)
{
    static const uint32_t kcycles[] = { 1, 2, 5, 9 };
    static const uint64_t slices[] = { 1, 7, 0 };
    unsigned int i, k;

    for (i = 0; i < 4; i++) {
        uint64_t limit = 1000ull * kcycles[i], stop_insns = 0;

        for (k = 0; k < 3; k++) {
            struct params p;
            struct ref *r;
            struct cpl c;
            uint64_t maxcost;

            refresh();
            ops.slice_insns = slices[k];
            maxcost = put_limit_prog(&p, 100);
            p.max_kcycles = kcycles[i];
            r = ref_run(&p);
            ck_assert_int_eq(r->e.status, LPU_ENGINE_LIMIT);
            c = run(&p);
            ck_assert_msg(c.status == LPU_STS_CYCLE_LIMIT,
                          "limit %u slice %u: status %u (%s)", kcycles[i],
                          (unsigned int)slices[k], c.status, c.res.msg);
            ck_assert_uint_eq(c.res.state, LPU_STREAM_ABORTED);
            ck_assert_uint_eq(c.res.fault, 0);
            ck_assert_uint_eq(c.cycles, r->e.cycles);
            ck_assert_uint_eq(c.res.insns, r->e.insns);
            ck_assert_uint_eq(c.res.tokens, r->e.emitted);
            ck_assert_uint_eq(c.info, r->e.emitted);
            ck_assert_uint_gt(c.res.tokens, 0);
            ck_assert_uint_lt(c.res.tokens, 100);
            /* at or past the limit, by less than one instruction */
            ck_assert_uint_ge(c.cycles, limit);
            ck_assert_uint_lt(c.cycles, limit + maxcost);
            /* the same instruction whatever the slices */
            if (k == 0) {
                stop_insns = c.res.insns;
            }
            ck_assert_uint_eq(c.res.insns, stop_insns);
            check_stream(r, LPU_STREAM_ABORTED, c.res.tokens);
            ck_assert_uint_eq(stream64(16), c.cycles);
            ck_assert_uint_eq(stream64(24), c.res.insns);
            ck_assert_ptr_nonnull(strstr(c.res.msg, "cycle limit"));
            /* progress_cycles: after every slice and every token */
            ck_assert_uint_eq(ph.progress_calls, c.res.tokens);
            ck_assert_uint_eq(ph.cycles_calls, c.res.slices + c.res.tokens);
            ck_assert_uint_eq(ph.last_cycles, c.cycles);
            ck_assert_uint_gt(ph.cycles_rises, c.res.tokens);
            if (slices[k]) {
                ck_assert_uint_eq(c.res.slices,
                                  (c.res.insns + slices[k] - 1) / slices[k]);
            }
            free(r);
        }
    }
}
END_TEST

/* No limit (0) and a limit above the run's cycles change nothing. */
START_TEST(test_cycle_limit_none)
{
    static const uint32_t kcycles[] = { 0, 1000, 0xffffffff };
    struct ref *r0 = NULL;
    unsigned int i;

    for (i = 0; i < 3; i++) {
        struct params p;
        struct ref *r;
        struct cpl c;

        refresh();
        put_limit_prog(&p, 20);
        p.max_kcycles = kcycles[i];
        r = ref_run(&p);
        c = run(&p);
        ck_assert_uint_eq(r->e.status, LPU_ENGINE_HALTED);
        ck_assert_msg(c.status == LPU_STS_OK, "status %u (%s)", c.status,
                      c.res.msg);
        ck_assert_uint_eq(c.info, 20);
        ck_assert_uint_eq(c.cycles, r->e.cycles);
        ck_assert_uint_lt(c.cycles, 1000000);
        check_stream(r, LPU_STREAM_HALTED, 20);
        ck_assert_uint_eq(ph.cycles_calls, c.res.slices + 20);
        ck_assert_uint_eq(ph.last_cycles, c.cycles);
        /* per token: the cycles before its EMIT */
        ck_assert_uint_lt(ph.cycles_at_progress, c.cycles);
        if (!r0) {
            r0 = r;
        } else {
            ck_assert_uint_eq(r->e.cycles, r0->e.cycles);
            ck_assert_uint_eq(r->e.insns, r0->e.insns);
            free(r);
        }
    }
    free(r0);
}
END_TEST

/*
 * The limit is on the engine's cycles, exactly: a run that reaches it
 * just before its HALT stops there, the HALT not run; one whose HALT
 * starts below it halts (the HALT taking it to the limit).
 */
START_TEST(test_cycle_limit_edge)
{
    /* 2 + 499 x 2 = 1000 one-cycle instructions before the HALT */
    const struct lpu_insn stops[] = {
        I(LI, 7, 0, 0, 499, 0, 0, 0, 0, 0, 0),
        I(LI, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        I(ADDI, 6, 6, 0, 1, 0, 0, 0, 0, 0, 0),                 /* 64 */
        I(BLTU, 0, 6, 7, PC(2), 0, 0, 0, 0, 0, 0),
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    /* 1 + 499 x 2 = 999 before the HALT, 1000 with it */
    const struct lpu_insn halts[] = {
        I(LI, 7, 0, 0, 499, 0, 0, 0, 0, 0, 0),
        I(ADDI, 6, 6, 0, 1, 0, 0, 0, 0, 0, 0),                 /* 32 */
        I(BLTU, 0, 6, 7, PC(1), 0, 0, 0, 0, 0, 0),
        I(HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    struct params p;
    struct cpl c;

    /* without a limit: 1001 cycles */
    put_prog(WIN_BASE, stops, 5);
    default_params(&p, 0, 1);
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_OK);
    ck_assert_uint_eq(c.cycles, 1001);
    ck_assert_uint_eq(c.res.insns, 1001);

    refresh();
    put_prog(WIN_BASE, stops, 5);
    default_params(&p, 0, 1);
    p.max_kcycles = 1;
    ops.slice_insns = 1000;
    c = run(&p);
    ck_assert_msg(c.status == LPU_STS_CYCLE_LIMIT, "status %u (%s)",
                  c.status, c.res.msg);
    ck_assert_uint_eq(c.cycles, 1000);
    ck_assert_uint_eq(c.res.insns, 1000);
    ck_assert_uint_eq(c.info, 0);
    ck_assert_uint_eq(c.res.state, LPU_STREAM_ABORTED);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_ABORTED);
    ck_assert_uint_eq(stream64(16), 1000);
    ck_assert_uint_eq(stream64(24), 1000);
    /* reached with the slice's last instruction: no second slice */
    ck_assert_uint_eq(c.res.slices, 1);
    ck_assert_uint_eq(ph.cycles_calls, 1);
    ck_assert_uint_eq(ph.last_cycles, 1000);
    ck_assert_str_eq(c.res.msg, "stopped at its cycle limit of 1000 cycles "
                     "(1000 cycles run)");

    refresh();
    put_prog(WIN_BASE, halts, 4);
    default_params(&p, 0, 1);
    p.max_kcycles = 1;
    c = run(&p);
    ck_assert_msg(c.status == LPU_STS_OK, "status %u (%s)", c.status,
                  c.res.msg);
    ck_assert_uint_eq(c.cycles, 1000);
    ck_assert_uint_eq(stream32(4), LPU_STREAM_HALTED);

    /* the abort word comes first: nothing runs */
    refresh();
    put_prog(WIN_BASE, stops, 5);
    default_params(&p, 0, 1);
    p.max_kcycles = 1;
    p.abort = 1;
    c = run(&p);
    ck_assert_uint_eq(c.status, LPU_STS_ABORTED);
    ck_assert_uint_eq(c.cycles, 0);
    ck_assert_uint_eq(ph.cycles_calls, 0);
}
END_TEST

static Suite *exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *core = tcase_create("core");
    TCase *faults = tcase_create("faults");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_emit_n);
    tcase_add_test(core, test_slices);
    tcase_add_test(core, test_args);
    tcase_add_test(core, test_seed);
    tcase_add_test(core, test_window);
    tcase_add_test(core, test_stream_sg);
    tcase_add_test(core, test_stream_exact_fit);
    tcase_add_test(core, test_params_edges);
    tcase_add_test(core, test_tensor_program);
    suite_add_tcase(s, core);

    tcase_add_checked_fixture(faults, setup, teardown);
    tcase_add_test(faults, test_fault_index);
    tcase_add_test(faults, test_fault_entry);
    tcase_add_test(faults, test_stream_full);
    tcase_add_test(faults, test_abort_word);
    tcase_add_test(faults, test_abort_word_before);
    tcase_add_test(faults, test_abort_request);
    tcase_add_test(faults, test_abort_reset);
    tcase_add_test(faults, test_abort_reset_sg);
    tcase_add_test(faults, test_cycle_limit);
    tcase_add_test(faults, test_cycle_limit_none);
    tcase_add_test(faults, test_cycle_limit_edge);
    suite_add_tcase(s, faults);

    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_bad_desc);
    tcase_add_test(errors, test_bad_params_desc);
    tcase_add_test(errors, test_bad_params);
    tcase_add_test(errors, test_dma_token_write);
    tcase_add_test(errors, test_dma_header_first);
    tcase_add_test(errors, test_dma_count_write);
    tcase_add_test(errors, test_dma_final_header);
    tcase_add_test(errors, test_dma_abort_word);
    tcase_add_test(errors, test_dma_params_read);
    tcase_add_test(errors, test_dma_sg_read);
    tcase_add_test(errors, test_sg_changed);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exec_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
