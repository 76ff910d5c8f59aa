// SPDX-License-Identifier: MIT
/*
 * Unit tests of the LPU engine (tools/emulator/lpu_engine.c): every opcode
 * against a plain reference computed here with simple loops in the order
 * Documentation/isa.rst fixes, every fault path with its exact code,
 * determinism (also across run slices), the cycle count against the
 * formulas, and a fuzzer that checks the engine never touches memory
 * outside its window.
 */
/* the references must round like the engine: no fused multiply-add */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpu_engine.h"
#include "lpu_insn.h"

#define WIN_SIZE    (1u << 20)
#define CODE        0x0         /* code at 0..DATA */
#define DATA        0x4000

#define HALT()      mk(LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

static struct lpu_insn mk(uint8_t op, uint8_t rd, uint8_t rs, uint8_t rt,
                          uint32_t imm, uint32_t dst, uint32_t src0,
                          uint32_t src1, uint32_t src2, uint32_t n,
                          uint32_t m)
{
    return lpu_insn_make(op, rd, rs, rt, imm, dst, src0, src1, src2, n, m);
}

static struct lpu_insn li(uint8_t rd, uint32_t v)
{
    return mk(LPU_OP_LI, rd, 0, 0, v, 0, 0, 0, 0, 0, 0);
}

static uint32_t f32b(float f)
{
    return lpu_f32_bits(f);
}

/* ---- test machine: one window, a program at CODE ------------------------ */

static uint8_t *win;            /* malloc'ed, exactly WIN_SIZE bytes */
static struct lpu_engine eng;
static uint32_t npc;            /* where the next emitted insn goes */

struct sink {
    uint32_t tok[256];
    uint32_t idx[256];
    uint32_t count;
    uint32_t cap;               /* emit fails once count == cap */
};

static struct sink sink;

static int sink_emit(void *opaque, uint32_t token, uint32_t index)
{
    struct sink *s = opaque;

    ck_assert_ptr_eq(s, &sink);
    if (s->count >= s->cap) {
        return -1;
    }
    s->tok[s->count] = token;
    s->idx[s->count] = index;
    s->count++;
    return 0;
}

static const struct lpu_engine_io sink_io = { sink_emit, &sink };

static void setup(void)
{
    win = malloc(WIN_SIZE);
    ck_assert_ptr_nonnull(win);
    memset(win, 0, WIN_SIZE);
    memset(&eng, 0, sizeof(eng));
    memset(&sink, 0, sizeof(sink));
    sink.cap = 256;
    npc = CODE;
}

static void teardown(void)
{
    lpu_engine_fini(&eng);
    free(win);
}

static uint32_t put(struct lpu_insn insn)
{
    uint32_t at = npc;

    memcpy(win + npc, &insn, sizeof(insn));
    npc += LPU_INSN_SIZE;
    return at;
}

static float *F(uint32_t off)
{
    return (float *)(void *)(win + off);
}

static uint32_t *U(uint32_t off)
{
    return (uint32_t *)(void *)(win + off);
}

static enum lpu_engine_status run_args(const struct lpu_engine_args *args)
{
    lpu_engine_fini(&eng);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, CODE, args), 0);
    return lpu_engine_run(&eng, UINT64_MAX, &sink_io);
}

static enum lpu_engine_status run(void)
{
    return run_args(NULL);
}

static void run_ok(void)
{
    enum lpu_engine_status st = run();

    ck_assert_msg(st == LPU_ENGINE_HALTED, "status %d fault %d: %s", st,
                  eng.fault, eng.fault_msg);
}

/* Run a program that must fault at @at with @fault, without touching the
 * window, counting only the instructions before @at. */
static void run_fault(enum lpu_fault fault, uint64_t at)
{
    uint8_t *before = malloc(WIN_SIZE);
    uint64_t cycles = 0, pc;
    struct lpu_insn insn;

    ck_assert_ptr_nonnull(before);
    memcpy(before, win, WIN_SIZE);
    ck_assert_int_eq(run(), LPU_ENGINE_FAULT);
    ck_assert_msg(eng.fault == fault, "fault %d (%s), want %d: %s",
                  eng.fault, lpu_fault_name(eng.fault), fault, eng.fault_msg);
    ck_assert_uint_eq(eng.fault_pc, at);
    ck_assert_uint_eq(eng.pc, at);
    ck_assert_uint_eq(eng.status, LPU_ENGINE_FAULT);
    ck_assert_uint_gt(strlen(eng.fault_msg), 0);
    ck_assert_ptr_nonnull(strstr(eng.fault_msg, "pc 0x"));
    /* straight-line programs: cycles of the instructions before @at */
    for (pc = CODE; pc < at && pc + 32 <= WIN_SIZE; pc += 32) {
        memcpy(&insn, win + pc, sizeof(insn));
        cycles += lpu_insn_cycles(&insn);
    }
    if (at <= DATA) {
        ck_assert_uint_eq(eng.insns, (at - CODE) / 32);
        ck_assert_uint_eq(eng.cycles, cycles);
    }
    ck_assert_msg(memcmp(before, win, WIN_SIZE) == 0, "window changed");
    /* final: running again does nothing */
    ck_assert_int_eq(lpu_engine_run(&eng, UINT64_MAX, &sink_io),
                     LPU_ENGINE_FAULT);
    ck_assert_uint_eq(eng.fault_pc, at);
    free(before);
}

/* ---- references (Documentation/isa.rst, written independently) --------- */

static uint64_t ref_rng = 0x9e3779b97f4a7c15ull;

static float rndf(void)     /* [-1, 1) */
{
    return lpu_prng_f32(&ref_rng) * 2.0f - 1.0f;
}

static void fill(uint32_t off, uint32_t n, float scale)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        F(off)[i] = rndf() * scale;
    }
}

/* the 8-lane dot product */
static float ref_dot(const float *a, const float *b, uint32_t n)
{
    float l[8] = { 0 };
    uint32_t c;

    for (c = 0; c < n; c++) {
        l[c % 8] = l[c % 8] + a[c] * b[c];
    }
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

static float ref_dot_q8(const int8_t *a, const float *b, uint32_t n)
{
    float l[8] = { 0 };
    uint32_t c;

    for (c = 0; c < n; c++) {
        l[c % 8] = l[c % 8] + (float)a[c] * b[c];
    }
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

static uint32_t ref_argmax(const float *x, uint32_t n)
{
    uint32_t i, best = 0;

    for (i = 1; i < n; i++) {
        if (x[i] > x[best]) {
            best = i;
        }
    }
    return best;
}

static void ref_softmax(float *x, uint32_t n)
{
    float max = x[0], sum = 0.0f;
    uint32_t i;

    for (i = 1; i < n; i++) {
        if (x[i] > max) {
            max = x[i];
        }
    }
    for (i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (i = 0; i < n; i++) {
        x[i] /= sum;
    }
}

struct pi {
    float p;
    uint32_t i;
};

/* llama2.c's sample_topp, with a stable insertion sort (prob descending,
 * then index ascending) and the "no candidate" rule of isa.rst */
static uint32_t ref_topp(const float *q, uint32_t n, float topp, float coin)
{
    struct pi *c = malloc(n * sizeof(*c));
    float cutoff = (1.0f - topp) / (float)(n - 1), cum = 0.0f, r, cdf = 0.0f;
    uint32_t k = 0, i, j, last, res;

    for (i = 0; i < n; i++) {
        if (q[i] >= cutoff) {
            c[k].p = q[i];
            c[k].i = i;
            k++;
        }
    }
    if (k == 0) {
        free(c);
        return ref_argmax(q, n);
    }
    for (i = 1; i < k; i++) {
        struct pi x = c[i];

        for (j = i; j > 0 && c[j - 1].p < x.p; j--) {
            c[j] = c[j - 1];
        }
        c[j] = x;
    }
    last = k - 1;
    for (i = 0; i < k; i++) {
        cum += c[i].p;
        if (cum > topp) {
            last = i;
            break;
        }
    }
    r = coin * cum;
    res = c[last].i;
    for (i = 0; i <= last; i++) {
        cdf += c[i].p;
        if (r < cdf) {
            res = c[i].i;
            break;
        }
    }
    free(c);
    return res;
}

/* SAMPLE: advances *prng like the engine */
static uint32_t ref_sample(const float *logits, uint32_t n, float t, float p,
                           uint64_t *prng)
{
    float *q, coin, cdf = 0.0f;
    uint32_t i, res;

    if (!(t > 0.0f)) {
        return ref_argmax(logits, n);
    }
    q = malloc(n * sizeof(*q));
    for (i = 0; i < n; i++) {
        q[i] = logits[i] / t;
    }
    ref_softmax(q, n);
    coin = lpu_prng_f32(prng);
    if (n == 1) {
        res = 0;
    } else if (p > 0.0f && p < 1.0f) {
        res = ref_topp(q, n, p, coin);
    } else {
        res = n - 1;
        for (i = 0; i < n; i++) {
            cdf += q[i];
            if (coin < cdf) {
                res = i;
                break;
            }
        }
    }
    free(q);
    return res;
}

static void assert_f32_eq(const float *got, const float *want, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        if (memcmp(&got[i], &want[i], 4) != 0) {
            ck_abort_msg("[%u]: %.9g != %.9g", i, (double)got[i],
                         (double)want[i]);
        }
    }
}

/* ---- scalar and control ------------------------------------------------ */

START_TEST(test_scalar)
{
    put(mk(LPU_OP_INOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    put(li(0, 0xffffffff));
    put(li(1, 2));
    put(mk(LPU_OP_ADD, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0));     /* wraps: 1 */
    put(mk(LPU_OP_ADDI, 6, 1, 0, (uint32_t)-5, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_SLTU, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0));    /* 2 < max */
    put(mk(LPU_OP_SLTU, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0));    /* unsigned */
    put(mk(LPU_OP_SLTU, 9, 1, 1, 0, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_SEL, 10, 0, 1, 7, 0, 0, 0, 0, 0, 0));    /* r7=1: r0 */
    put(mk(LPU_OP_SEL, 11, 0, 1, 8, 0, 0, 0, 0, 0, 0));    /* r8=0: r1 */
    put(mk(LPU_OP_SEL, 7, 1, 0, 7, 0, 0, 0, 0, 0, 0));     /* rd = cond */
    put(mk(LPU_OP_ADDI, 12, 12, 0, 7, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_ADD, 12, 12, 12, 0, 0, 0, 0, 0, 0, 0));
    put(li(0, 0));                                          /* r0 writable */
    put(HALT());
    run_ok();
    ck_assert_uint_eq(eng.r[0], 0);
    ck_assert_uint_eq(eng.r[1], 2);
    ck_assert_uint_eq(eng.r[5], 1);
    ck_assert_uint_eq(eng.r[6], 0xfffffffd);
    ck_assert_uint_eq(eng.r[7], 2);
    ck_assert_uint_eq(eng.r[8], 0);
    ck_assert_uint_eq(eng.r[9], 0);
    ck_assert_uint_eq(eng.r[10], 0xffffffff);
    ck_assert_uint_eq(eng.r[11], 2);
    ck_assert_uint_eq(eng.r[12], 14);
    ck_assert_uint_eq(eng.insns, 15);
    ck_assert_uint_eq(eng.cycles, 15);
    ck_assert_uint_eq(eng.pc, 14 * 32);     /* the HALT */
    ck_assert_int_eq(eng.fault, LPU_FAULT_NONE);
    ck_assert_str_eq(eng.fault_msg, "");
    /* final */
    ck_assert_int_eq(lpu_engine_run(&eng, UINT64_MAX, NULL),
                     LPU_ENGINE_HALTED);
    ck_assert_uint_eq(eng.insns, 15);
}
END_TEST

START_TEST(test_loadw_storew)
{
    uint32_t i;

    for (i = 0; i < 8; i++) {
        U(DATA)[i] = 100 + i;
    }
    put(li(1, 7));
    put(mk(LPU_OP_LOADW, 2, 1, 0, 0, DATA, 0, 0, 0, 8, 0));   /* r2 = 107 */
    put(li(3, 0));
    put(li(4, 0xcafef00d));
    put(mk(LPU_OP_STOREW, 0, 3, 4, 0, DATA, 0, 0, 0, 8, 0));  /* t[0] = */
    put(mk(LPU_OP_LOADW, 3, 3, 0, 0, DATA, 0, 0, 0, 8, 0));   /* rd == rs */
    put(mk(LPU_OP_STOREW, 0, 1, 1, 0, DATA, 0, 0, 0, 8, 0));  /* t[7] = 7 */
    put(HALT());
    run_ok();
    ck_assert_uint_eq(eng.r[2], 107);
    ck_assert_uint_eq(eng.r[3], 0xcafef00d);
    ck_assert_uint_eq(U(DATA)[0], 0xcafef00d);
    ck_assert_uint_eq(win[DATA], 0x0d);     /* little-endian */
    ck_assert_uint_eq(U(DATA)[7], 7);
    ck_assert_uint_eq(U(DATA)[8], 0);
    ck_assert_uint_eq(U(DATA)[1], 101);
    ck_assert_uint_eq(eng.cycles, 8);
}
END_TEST

START_TEST(test_branches)
{
    /* r5 counts to 10 with bltu; bne and jmp skip over traps */
    put(li(6, 10));                                                 /* 0x00 */
    put(mk(LPU_OP_ADDI, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0));             /* 0x20 */
    put(mk(LPU_OP_BLTU, 0, 5, 6, 0x20, 0, 0, 0, 0, 0, 0));          /* 0x40 */
    put(mk(LPU_OP_BNE, 0, 5, 6, 0x100, 0, 0, 0, 0, 0, 0));  /* 0x60 no */
    put(mk(LPU_OP_JMP, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0));           /* 0x80 */
    put(mk(0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));          /* 0xa0 trap */
    put(li(7, 0xffffffff));                                         /* 0xc0 */
    put(mk(LPU_OP_BLTU, 0, 7, 6, 0x100, 0, 0, 0, 0, 0, 0));  /* unsigned */
    put(mk(LPU_OP_BNE, 0, 7, 6, 0x140, 0, 0, 0, 0, 0, 0));   /* 0x100 */
    put(mk(0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));          /* 0x120 trap */
    put(HALT());                                                    /* 0x140 */
    run_ok();
    ck_assert_uint_eq(eng.r[5], 10);
    /* li + 10 * (addi + bltu) + bne + jmp + li + bltu + bne + halt */
    ck_assert_uint_eq(eng.insns, 1 + 20 + 6);
    ck_assert_uint_eq(eng.cycles, 27);
    ck_assert_uint_eq(eng.pc, 0x140);
}
END_TEST

/* The worked example of Documentation/isa.rst, assembled from text */
START_TEST(test_worked_example)
{
    static const char *const text[] = {
        "li r5, 0", "li r6, 5", "li r7, 100",
        "emit r7",                          /* 0x60: loop */
        "addi r7, r7, 1", "addi r5, r5, 1", "bltu r5, r6, 0x60", "halt",
    };
    struct lpu_insn insn;
    char err[128];
    size_t i;

    for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
        ck_assert_msg(lpu_insn_parse(text[i], &insn, err, sizeof(err)) == 0,
                      "%s: %s", text[i], err);
        put(insn);
    }
    run_ok();
    ck_assert_uint_eq(eng.emitted, 5);
    ck_assert_uint_eq(sink.count, 5);
    for (i = 0; i < 5; i++) {
        ck_assert_uint_eq(sink.tok[i], 100 + i);
        ck_assert_uint_eq(sink.idx[i], i);
    }
    ck_assert_uint_eq(eng.insns, 3 + 5 * 4 + 1);
    ck_assert_uint_eq(eng.cycles, 3 + 5 * (64 + 3) + 1);    /* 339 */
}
END_TEST

/* ---- vector ops -------------------------------------------------------- */

START_TEST(test_embed_kvstore)
{
    const uint32_t n = 13, m = 9, tab = DATA, out = DATA + 0x1000;
    const uint32_t cache = DATA + 0x2000, vec = DATA + 0x3000;
    uint32_t row;

    fill(tab, n * m, 1.0f);
    fill(vec, n, 1.0f);
    for (row = 0; row < m; row += m - 1) {   /* first and last row */
        npc = CODE;
        memset(win + out, 0, 4 * (n + 1));
        memset(win + cache, 0, 4 * n * m + 4);
        put(li(3, row));
        put(mk(LPU_OP_EMBED, 0, 3, 0, 0, out, tab, 0, 0, n, m));
        put(mk(LPU_OP_KVSTORE, 0, 3, 0, 0, cache, vec, 0, 0, n, m));
        put(HALT());
        run_ok();
        assert_f32_eq(F(out), F(tab) + row * n, n);
        ck_assert(F(out)[n] == 0.0f);
        assert_f32_eq(F(cache) + row * n, F(vec), n);
        ck_assert(F(cache)[row ? 0 : n] == 0.0f);
        ck_assert(F(cache)[n * m] == 0.0f);
        ck_assert_uint_eq(eng.cycles, 1 + 2 * (4 + 1) + 1);
    }
}
END_TEST

START_TEST(test_elementwise)
{
    static const uint32_t sizes[] = { 1, 7, 8, 300 };
    const uint32_t a = DATA, b = DATA + 0x1000, d = DATA + 0x2000;
    float want[300];
    size_t k;
    uint32_t i, n;

    for (k = 0; k < 4; k++) {
        n = sizes[k];
        fill(a, n, 8.0f);
        fill(b, n, 8.0f);
        /* VCOPY */
        npc = CODE;
        put(mk(LPU_OP_VCOPY, 0, 0, 0, 0, d, a, 0, 0, n, 0));
        put(HALT());
        run_ok();
        assert_f32_eq(F(d), F(a), n);
        ck_assert_uint_eq(eng.cycles, 4 + (n + 319) / 320 + 1);
        /* VADD */
        npc = CODE;
        put(mk(LPU_OP_VADD, 0, 0, 0, 0, d, a, b, 0, n, 0));
        put(HALT());
        run_ok();
        for (i = 0; i < n; i++) {
            want[i] = F(a)[i] + F(b)[i];
        }
        assert_f32_eq(F(d), want, n);
        /* VMUL */
        npc = CODE;
        put(mk(LPU_OP_VMUL, 0, 0, 0, 0, d, a, b, 0, n, 0));
        put(HALT());
        run_ok();
        for (i = 0; i < n; i++) {
            want[i] = F(a)[i] * F(b)[i];
        }
        assert_f32_eq(F(d), want, n);
        /* SILU */
        npc = CODE;
        put(mk(LPU_OP_SILU, 0, 0, 0, 0, d, a, 0, 0, n, 0));
        put(HALT());
        run_ok();
        for (i = 0; i < n; i++) {
            want[i] = F(a)[i] / (1.0f + expf(-F(a)[i]));
        }
        assert_f32_eq(F(d), want, n);
        /* in place: a = a * a, then a = a + a, silu(a), vcopy a to a */
        for (i = 0; i < n; i++) {
            want[i] = F(a)[i] * F(a)[i];
            want[i] = want[i] + want[i];
            want[i] = want[i] / (1.0f + expf(-want[i]));
        }
        npc = CODE;
        put(mk(LPU_OP_VMUL, 0, 0, 0, 0, a, a, a, 0, n, 0));
        put(mk(LPU_OP_VADD, 0, 0, 0, 0, a, a, a, 0, n, 0));
        put(mk(LPU_OP_SILU, 0, 0, 0, 0, a, a, 0, 0, n, 0));
        put(mk(LPU_OP_VCOPY, 0, 0, 0, 0, a, a, 0, 0, n, 0));
        put(HALT());
        run_ok();
        assert_f32_eq(F(a), want, n);
    }
    /* silu edge values */
    F(a)[0] = -100.0f;
    F(a)[1] = 100.0f;
    F(a)[2] = 0.0f;
    F(a)[3] = -0.0f;
    npc = CODE;
    put(mk(LPU_OP_SILU, 0, 0, 0, 0, d, a, 0, 0, 4, 0));
    put(HALT());
    run_ok();
    ck_assert(F(d)[0] == -100.0f / (1.0f + expf(100.0f)));
    ck_assert(F(d)[1] == 100.0f);
    ck_assert(F(d)[2] == 0.0f);
}
END_TEST

START_TEST(test_rmsnorm)
{
    const uint32_t n = 288, x = DATA, w = DATA + 0x1000, d = DATA + 0x2000;
    float want[288], ss = 0.0f, eps = 1e-5f;
    uint32_t i;

    fill(x, n, 3.0f);
    fill(w, n, 1.0f);
    for (i = 0; i < n; i++) {
        ss += F(x)[i] * F(x)[i];
    }
    ss = ss / (float)n + eps;
    for (i = 0; i < n; i++) {
        want[i] = F(w)[i] * (F(x)[i] / sqrtf(ss));
    }
    put(mk(LPU_OP_RMSNORM, 0, 0, 0, f32b(eps), d, x, w, 0, n, 0));
    put(mk(LPU_OP_RMSNORM, 0, 0, 0, f32b(eps), x, x, w, 0, n, 0));
    put(HALT());
    run_ok();
    assert_f32_eq(F(d), want, n);
    assert_f32_eq(F(x), want, n);       /* in place */
    ck_assert_uint_eq(eng.cycles, 2 * (4 + 2 * 1) + 1);
    /* all zeros with eps: 0, not NaN */
    memset(win + x, 0, 4 * n);
    run_ok();
    ck_assert(F(d)[5] == 0.0f);
}
END_TEST

START_TEST(test_softmax)
{
    const uint32_t x = DATA, d = DATA + 0x1000;
    float want[100], sum = 0.0f;
    uint32_t i, n = 100;

    fill(x, n, 20.0f);
    F(x)[37] = 1000.0f;                  /* large: max-subtracted */
    F(x)[38] = 999.0f;
    memcpy(want, F(x), 4 * n);
    ref_softmax(want, n);
    put(mk(LPU_OP_SOFTMAX, 0, 0, 0, 0, d, x, 0, 0, n, 0));
    put(mk(LPU_OP_SOFTMAX, 0, 0, 0, 0, x, x, 0, 0, n, 0));
    put(HALT());
    run_ok();
    assert_f32_eq(F(d), want, n);
    assert_f32_eq(F(x), want, n);
    for (i = 0; i < n; i++) {
        sum += F(d)[i];
    }
    ck_assert(fabsf(sum - 1.0f) < 1e-5f);
    ck_assert(F(d)[37] > 0.7f);
    ck_assert_uint_eq(eng.cycles, 2 * (4 + 3) + 1);
    /* n = 1: exactly 1 */
    npc = CODE;
    put(mk(LPU_OP_SOFTMAX, 0, 0, 0, 0, d, x, 0, 0, 1, 0));
    put(HALT());
    run_ok();
    ck_assert(F(d)[0] == 1.0f);
}
END_TEST

START_TEST(test_rope)
{
    const uint32_t n = 288, hs = 48, x = DATA;
    const uint32_t positions[] = { 0, 1, 17, 255, 100000 };
    float want[288], theta = 10000.0f;
    size_t k;
    uint32_t i;

    for (k = 0; k < sizeof(positions) / sizeof(positions[0]); k++) {
        uint32_t pos = positions[k];

        fill(x, n, 2.0f);
        for (i = 0; i < n; i += 2) {
            uint32_t head_dim = i % hs;
            float freq = 1.0f / powf(theta, (float)head_dim / (float)hs);
            float val = (float)pos * freq;
            float fcr = cosf(val), fci = sinf(val);
            float v0 = F(x)[i], v1 = F(x)[i + 1];

            want[i] = v0 * fcr - v1 * fci;
            want[i + 1] = v0 * fci + v1 * fcr;
        }
        npc = CODE;
        put(li(9, pos));
        put(mk(LPU_OP_ROPE, 0, 9, 0, f32b(theta), x, 0, 0, 0, n, hs));
        put(HALT());
        run_ok();
        assert_f32_eq(F(x), want, n);
        if (pos == 0) {
            /* angle 0: rotation by 0 is the identity */
            ck_assert(fabsf(F(x)[3] - want[3]) == 0.0f);
        }
        ck_assert_uint_eq(eng.cycles, 1 + 4 + 2 * 1 + 1);
    }
}
END_TEST

/* ---- matrix ops -------------------------------------------------------- */

START_TEST(test_matvec)
{
    static const uint32_t dims[][2] = {
        { 1, 1 }, { 3, 7 }, { 5, 8 }, { 4, 13 }, { 16, 288 }, { 7, 300 },
        { 2, 17 }, { 33, 64 },
    };
    const uint32_t w = DATA, x = DATA + 0x40000, d = DATA + 0x41000;
    size_t k;
    uint32_t r, c;

    for (k = 0; k < sizeof(dims) / sizeof(dims[0]); k++) {
        uint32_t n = dims[k][0], m = dims[k][1];
        float want[64];

        fill(w, n * m, 1.0f);
        fill(x, m, 1.0f);
        for (r = 0; r < n; r++) {
            want[r] = ref_dot(F(w) + r * m, F(x), m);
        }
        npc = CODE;
        put(mk(LPU_OP_MATVEC, 0, 0, 0, 0, d, w, x, 0, n, m));
        put(HALT());
        run_ok();
        assert_f32_eq(F(d), want, n);
        for (r = 0; r < n; r++) {
            double s = 0.0;

            for (c = 0; c < m; c++) {
                s += (double)F(w)[r * m + c] * F(x)[c];
            }
            ck_assert_msg(fabs(F(d)[r] - s) <= 1e-5 * m, "row %u", r);
        }
        {
            uint64_t nm = (uint64_t)n * m, a = (nm + 25599) / 25600;
            uint64_t b = (4 * nm + 88887) / 88888;

            ck_assert_uint_eq(eng.cycles, 16 + (a > b ? a : b) + 1);
        }
    }
    /* the lane order matters: this sum is 1 in index order, but lane 0
     * gets 1e8 + 1 - 1e8 ... */
    memset(win + w, 0, 4 * 16);
    F(w)[0] = 1e8f;
    F(w)[1] = 1.0f;
    F(w)[8] = -1e8f;
    for (c = 0; c < 16; c++) {
        F(x)[c] = 1.0f;
    }
    npc = CODE;
    put(mk(LPU_OP_MATVEC, 0, 0, 0, 0, d, w, x, 0, 1, 16));
    put(HALT());
    run_ok();
    ck_assert(F(d)[0] == 1.0f);     /* lane 0: (0 + 1e8) - 1e8; lane 1: 1 */
    F(w)[1] = 0.0f;
    F(w)[9] = 1.0f;                 /* lane 1 still */
    F(w)[0] = 1.0f;
    F(w)[8] = 1e8f;
    F(w)[2] = -1e8f;                /* lane 2 */
    run_ok();
    /* lanes: l0 = 1 + 1e8 = 1e8, l1 = 1, l2 = -1e8:
     * ((1e8 + 1) + -1e8) + 0 = 0 in f32 */
    ck_assert_float_eq(F(d)[0], ((1e8f + 1.0f) + (-1e8f + 0.0f)));
}
END_TEST

START_TEST(test_matvec_q8)
{
    static const uint32_t dims[][2] = {
        { 1, 1 }, { 3, 7 }, { 5, 8 }, { 4, 13 }, { 16, 288 }, { 7, 301 },
    };
    const uint32_t w = DATA + 1, x = DATA + 0x40000, d = DATA + 0x41000;
    const uint32_t s = DATA + 0x42000;
    size_t k;
    uint32_t r, i;

    for (k = 0; k < sizeof(dims) / sizeof(dims[0]); k++) {
        uint32_t n = dims[k][0], m = dims[k][1];
        int8_t *q = (int8_t *)(win + w);
        float want[16];

        for (i = 0; i < n * m; i++) {
            q[i] = (int8_t)(lpu_prng_u32(&ref_rng) & 0xff);
        }
        q[0] = -128;
        q[n * m - 1] = 127;
        fill(x, m, 1.0f);
        fill(s, n, 0.05f);
        for (r = 0; r < n; r++) {
            want[r] = F(s)[r] * ref_dot_q8(q + r * m, F(x), m);
        }
        npc = CODE;
        put(mk(LPU_OP_MATVEC_Q8, 0, 0, 0, 0, d, w, x, s, n, m));
        put(HALT());
        run_ok();
        assert_f32_eq(F(d), want, n);
        {
            uint64_t nm = (uint64_t)n * m, a = (nm + 102399) / 102400;
            uint64_t b = (nm + 88887) / 88888;

            ck_assert_uint_eq(eng.cycles, 16 + (a > b ? a : b) + 1);
        }
    }
}
END_TEST

/* reference attention, llama2.c's loop with the isa.rst dot product */
static void ref_attn(const float *q, const float *kc, const float *vc,
                     float *out, uint32_t heads, uint32_t kv_heads,
                     uint32_t hs, uint32_t pos)
{
    uint32_t kv_dim = kv_heads * hs, kv_mul = heads / kv_heads, h, t, i;
    float att[64];

    for (h = 0; h < heads; h++) {
        const float *qh = q + h * hs;
        float *xb = out + h * hs;

        for (t = 0; t <= pos; t++) {
            const float *k = kc + t * kv_dim + (h / kv_mul) * hs;

            att[t] = ref_dot(qh, k, hs) / sqrtf((float)hs);
        }
        ref_softmax(att, pos + 1);
        for (i = 0; i < hs; i++) {
            xb[i] = 0.0f;
        }
        for (t = 0; t <= pos; t++) {
            const float *v = vc + t * kv_dim + (h / kv_mul) * hs;

            for (i = 0; i < hs; i++) {
                xb[i] += att[t] * v[i];
            }
        }
    }
}

START_TEST(test_attn)
{
    static const uint32_t cfg[][4] = {     /* heads, kv_heads, hs, ctx */
        { 1, 1, 8, 1 }, { 2, 2, 6, 8 }, { 4, 2, 16, 12 }, { 6, 6, 48, 20 },
        { 6, 1, 5, 3 },
    };
    const uint32_t q = DATA, kc = DATA + 0x10000, vc = DATA + 0x30000;
    const uint32_t d = DATA + 0x50000;
    size_t k;

    for (k = 0; k < sizeof(cfg) / sizeof(cfg[0]); k++) {
        uint32_t heads = cfg[k][0], kvh = cfg[k][1], hs = cfg[k][2];
        uint32_t ctx = cfg[k][3], p;
        float want[6 * 48];

        fill(q, heads * hs, 2.0f);
        fill(kc, ctx * kvh * hs, 2.0f);
        fill(vc, ctx * kvh * hs, 2.0f);
        for (p = 0; p < ctx; p = p * 2 + 1) {
            ref_attn(F(q), F(kc), F(vc), want, heads, kvh, hs, p);
            memset(win + d, 0xff, 4 * heads * hs + 4);
            npc = CODE;
            put(li(4, p));
            put(mk(LPU_OP_ATTN, 0, 4, 0, ctx, d, q, kc, vc,
                   heads | kvh << 16, hs));
            put(HALT());
            run_ok();
            assert_f32_eq(F(d), want, heads * hs);
            ck_assert_uint_eq(U(d)[heads * hs], 0xffffffff);
            ck_assert_uint_eq(eng.cycles,
                              1 + 16 + heads * (2 * ((ctx * hs + 319) / 320) +
                                                3 * ((ctx + 319) / 320)) + 1);
        }
    }
    /* p = 0: the output is v_0 exactly (softmax of one score is 1) */
    npc = CODE;
    put(li(4, 0));
    put(mk(LPU_OP_ATTN, 0, 4, 0, 4, d, q, kc, vc, 2 | 2 << 16, 8));
    put(HALT());
    run_ok();
    assert_f32_eq(F(d), F(vc), 16);
}
END_TEST

/* ---- sampling and output ----------------------------------------------- */

START_TEST(test_argmax)
{
    const uint32_t x = DATA;

    fill(x, 1000, 1.0f);
    F(x)[500] = 5.0f;
    F(x)[700] = 5.0f;            /* tie: the first wins */
    put(mk(LPU_OP_ARGMAX, 3, 0, 0, 0, 0, x, 0, 0, 1000, 0));
    put(mk(LPU_OP_ARGMAX, 4, 0, 0, 0, 0, x, 0, 0, 1, 0));
    put(mk(LPU_OP_ARGMAX, 5, 0, 0, 0, 0, x + 4 * 600, 0, 0, 400, 0));
    put(HALT());
    run_ok();
    ck_assert_uint_eq(eng.r[3], 500);
    ck_assert_uint_eq(eng.r[4], 0);
    ck_assert_uint_eq(eng.r[5], 100);
    ck_assert_uint_eq(eng.cycles, (4 + 4) + (4 + 1) + (4 + 2) + 1);
    /* all equal: 0; -inf and NaN never win over the first element */
    F(x)[0] = -INFINITY;
    F(x)[1] = -INFINITY;
    F(x)[2] = NAN;
    npc = CODE;
    put(mk(LPU_OP_ARGMAX, 3, 0, 0, 0, 0, x, 0, 0, 3, 0));
    put(HALT());
    run_ok();
    ck_assert_uint_eq(eng.r[3], 0);
    F(x)[0] = NAN;
    F(x)[1] = 1.0f;
    run_ok();
    ck_assert_uint_eq(eng.r[3], 0);         /* nothing is > NaN */
}
END_TEST

/* A program that samples @count tokens from the logits at DATA (n) with
 * temperature r3 and top-p r4 and emits them. */
static void sample_prog(uint32_t n, uint32_t count)
{
    npc = CODE;
    put(li(5, 0));
    put(li(6, count));
    put(mk(LPU_OP_SAMPLE, 7, 3, 4, 0, 0, DATA, 0, 0, n, 0));   /* 0x40 */
    put(mk(LPU_OP_EMIT, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_ADDI, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_BLTU, 0, 5, 6, 0x40, 0, 0, 0, 0, 0, 0));
    put(HALT());
}

static void check_sampling(uint32_t n, float t, float p, uint64_t seed,
                           uint32_t count)
{
    struct lpu_engine_args args = {
        .prompt_len = 0, .budget = count, .temperature = t, .top_p = p,
        .seed = seed,
    };
    uint64_t prng = seed ? seed : LPU_PRNG_DEFAULT_SEED;
    uint32_t i;

    sample_prog(n, count);
    sink.count = 0;
    ck_assert_int_eq(run_args(&args), LPU_ENGINE_HALTED);
    ck_assert_uint_eq(sink.count, count);
    for (i = 0; i < count; i++) {
        uint32_t want = ref_sample(F(DATA), n, t, p, &prng);

        ck_assert_msg(sink.tok[i] == want, "t %g p %g draw %u: %u != %u",
                      (double)t, (double)p, i, sink.tok[i], want);
    }
    ck_assert_uint_eq(eng.prng, prng);
    ck_assert_uint_eq(eng.cycles,
                      2 + count * ((4 + 4 * ((n + 319) / 320)) + 64 + 2) + 1);
}

START_TEST(test_sample_greedy)
{
    fill(DATA, 500, 3.0f);
    F(DATA)[321] = 10.0f;
    check_sampling(500, 0.0f, 0.9f, 7, 3);
    ck_assert_uint_eq(sink.tok[0], 321);
    ck_assert_uint_eq(eng.prng, 7);              /* no PRNG step */
    check_sampling(500, -1.0f, 0.0f, 7, 2);      /* negative: greedy */
    ck_assert_uint_eq(sink.tok[1], 321);
    ck_assert_uint_eq(eng.prng, 7);
    check_sampling(500, NAN, 0.0f, 0, 2);        /* NaN: greedy */
    ck_assert_uint_eq(eng.prng, LPU_PRNG_DEFAULT_SEED);
    check_sampling(500, -0.0f, 0.0f, 0, 1);
    ck_assert_uint_eq(sink.tok[0], 321);
}
END_TEST

START_TEST(test_sample_full)
{
    uint32_t i, hist[8] = { 0 };

    fill(DATA, 1000, 4.0f);
    check_sampling(1000, 1.0f, 0.0f, 0, 100);
    check_sampling(1000, 0.7f, 1.0f, 12345, 100);
    check_sampling(1000, 2.0f, 1.5f, 99, 50);
    check_sampling(1000, 1.0f, NAN, 99, 10);
    check_sampling(1000, 1.0f, -0.5f, 99, 10);
    /* the draw follows the distribution: logits log(1..8) */
    for (i = 0; i < 8; i++) {
        F(DATA)[i] = logf((float)(i + 1));
    }
    check_sampling(8, 1.0f, 0.0f, 1, 200);
    for (i = 0; i < 200; i++) {
        hist[sink.tok[i]]++;
    }
    ck_assert_uint_gt(hist[7], hist[0]);
    /* n = 1: always 0, the PRNG still steps */
    check_sampling(1, 1.0f, 0.9f, 5, 3);
    ck_assert_uint_eq(sink.tok[2], 0);
    ck_assert_uint_ne(eng.prng, 5);
}
END_TEST

START_TEST(test_sample_topp)
{
    uint32_t i;

    fill(DATA, 32000, 6.0f);
    check_sampling(32000, 1.0f, 0.9f, 0, 40);
    check_sampling(32000, 0.8f, 0.5f, 77, 40);
    check_sampling(32000, 1.0f, 0.01f, 3, 10);
    /* ties: equal probabilities, sorted by index ascending */
    for (i = 0; i < 64; i++) {
        F(DATA)[i] = (float)(i % 4);
    }
    check_sampling(64, 1.0f, 0.3f, 11, 100);
    for (i = 0; i < 100; i++) {
        /* 16 tokens share the top probability 0.040: the nucleus of 0.3
         * is the first 8 of them by index, 3, 7, ..., 31 */
        ck_assert_uint_eq(sink.tok[i] % 4, 3);
        ck_assert_uint_lt(sink.tok[i], 32);
    }
    check_sampling(64, 1.0f, 0.99f, 11, 100);
    /* no candidate passes the cutoff: argmax of q */
    F(DATA)[0] = 0.0f;
    F(DATA)[1] = 0.0f;
    check_sampling(2, 1.0f, 0.01f, 3, 5);     /* cutoff 0.99 > 0.5 */
    ck_assert_uint_eq(sink.tok[4], 0);
}
END_TEST

START_TEST(test_emit)
{
    put(li(5, 42));
    put(li(6, 0));
    put(mk(LPU_OP_EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0));     /* emits */
    put(mk(LPU_OP_EMIT, 0, 5, 6, 1, 0, 0, 0, 0, 0, 0));     /* r6 = 0: no */
    put(li(6, 0x100));
    put(mk(LPU_OP_EMIT, 0, 6, 6, 1, 0, 0, 0, 0, 0, 0));     /* emits 256 */
    put(HALT());
    run_ok();
    ck_assert_uint_eq(eng.emitted, 2);
    ck_assert_uint_eq(sink.count, 2);
    ck_assert_uint_eq(sink.tok[0], 42);
    ck_assert_uint_eq(sink.idx[0], 0);
    ck_assert_uint_eq(sink.tok[1], 256);
    ck_assert_uint_eq(sink.idx[1], 1);
    ck_assert_uint_eq(eng.cycles, 3 + 3 * 64 + 1);   /* same cost either way */
    /* no io: counted, dropped */
    lpu_engine_fini(&eng);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, 0, NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, UINT64_MAX, NULL), LPU_ENGINE_HALTED);
    ck_assert_uint_eq(eng.emitted, 2);
    lpu_engine_fini(&eng);
    {
        struct lpu_engine_io none = { NULL, NULL };

        ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, 0, NULL), 0);
        ck_assert_int_eq(lpu_engine_run(&eng, UINT64_MAX, &none),
                         LPU_ENGINE_HALTED);
        ck_assert_uint_eq(eng.emitted, 2);
    }
}
END_TEST

/* ---- engine API -------------------------------------------------------- */

START_TEST(test_init)
{
    struct lpu_engine_args args = {
        .prompt_len = 17, .budget = 256, .temperature = 0.8f, .top_p = 0.9f,
        .seed = 0,
    };
    struct lpu_engine e;
    int i;

    ck_assert_int_eq(lpu_engine_init(NULL, win, WIN_SIZE, 0, NULL), -EINVAL);
    ck_assert_int_eq(lpu_engine_init(&e, NULL, WIN_SIZE, 0, NULL), -EINVAL);
    ck_assert_int_eq(lpu_engine_init(&e, win + 2, WIN_SIZE - 4, 0, NULL),
                     -EINVAL);
    ck_assert_int_eq(lpu_engine_init(&e, NULL, 0, 0, NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&e, 10, NULL), LPU_ENGINE_FAULT);
    ck_assert_int_eq(e.fault, LPU_FAULT_PC);
    lpu_engine_fini(&e);
    lpu_engine_fini(&e);        /* twice is fine */

    ck_assert_int_eq(lpu_engine_init(&e, win, WIN_SIZE, 0x40, &args), 0);
    ck_assert_uint_eq(e.r[LPU_REG_PROMPT_LEN], 17);
    ck_assert_uint_eq(e.r[LPU_REG_BUDGET], 256);
    ck_assert_uint_eq(e.r[LPU_REG_TEMPERATURE], f32b(0.8f));
    ck_assert_uint_eq(e.r[LPU_REG_TOP_P], f32b(0.9f));
    ck_assert_uint_eq(e.r[0], 0);
    for (i = 5; i < LPU_NUM_REGS; i++) {
        ck_assert_uint_eq(e.r[i], 0);
    }
    ck_assert_uint_eq(e.prng, LPU_PRNG_DEFAULT_SEED);
    ck_assert_uint_eq(e.pc, 0x40);
    ck_assert_uint_eq(e.cycles, 0);
    ck_assert_uint_eq(e.insns, 0);
    ck_assert_uint_eq(e.emitted, 0);
    ck_assert_int_eq(e.status, LPU_ENGINE_RUNNING);
    ck_assert_int_eq(e.fault, LPU_FAULT_NONE);
    lpu_engine_fini(&e);
    args.seed = 0x1234;
    ck_assert_int_eq(lpu_engine_init(&e, win, WIN_SIZE, 0, &args), 0);
    ck_assert_uint_eq(e.prng, 0x1234);
    lpu_engine_fini(&e);
    ck_assert_int_eq(lpu_engine_init(&e, win, WIN_SIZE, 0, NULL), 0);
    for (i = 0; i < LPU_NUM_REGS; i++) {
        ck_assert_uint_eq(e.r[i], 0);
    }
    lpu_engine_fini(&e);
}
END_TEST

START_TEST(test_slices)
{
    uint64_t k;

    put(li(1, 0));
    put(li(2, 100));
    put(mk(LPU_OP_ADDI, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0));    /* 0x40 */
    put(mk(LPU_OP_BNE, 0, 1, 2, 0x40, 0, 0, 0, 0, 0, 0));
    put(HALT());
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, 0, NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, 0, NULL), LPU_ENGINE_RUNNING);
    ck_assert_uint_eq(eng.insns, 0);
    for (k = 1; k <= 202; k++) {
        ck_assert_int_eq(lpu_engine_run(&eng, 1, NULL), LPU_ENGINE_RUNNING);
        ck_assert_uint_eq(eng.insns, k);
        ck_assert_uint_eq(eng.cycles, k);
    }
    ck_assert_int_eq(lpu_engine_run(&eng, 1, NULL), LPU_ENGINE_HALTED);
    ck_assert_uint_eq(eng.insns, 203);
    ck_assert_uint_eq(eng.r[1], 100);
}
END_TEST

/* ---- faults ------------------------------------------------------------ */

START_TEST(test_fault_opcode)
{
    put(li(1, 1));
    put(mk(0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    put(HALT());
    run_fault(LPU_FAULT_OPCODE, 0x20);
    ck_assert_uint_eq(eng.r[1], 1);
    ck_assert_ptr_nonnull(strstr(eng.fault_msg, "0x7f"));
}
END_TEST

START_TEST(test_fault_operand)
{
    /* register >= 16 */
    put(mk(LPU_OP_ADD, 16, 1, 2, 0, 0, 0, 0, 0, 0, 0));
    run_fault(LPU_FAULT_OPERAND, 0);
    /* non-zero unused field */
    npc = CODE;
    put(li(1, 1));
    put(mk(LPU_OP_ADD, 1, 1, 2, 0, 0, 0, 0, 0, 0, 4));
    run_fault(LPU_FAULT_OPERAND, 0x20);
    /* zero dimension */
    npc = CODE;
    put(mk(LPU_OP_VADD, 0, 0, 0, 0, DATA, DATA, DATA, 0, 0, 0));
    run_fault(LPU_FAULT_OPERAND, 0);
    /* misaligned tensor */
    npc = CODE;
    put(mk(LPU_OP_VADD, 0, 0, 0, 0, DATA, DATA + 2, DATA + 0x100, 0, 4, 0));
    run_fault(LPU_FAULT_OPERAND, 0);
    /* overlapping destination */
    npc = CODE;
    put(mk(LPU_OP_MATVEC, 0, 0, 0, 0, DATA, DATA + 4, DATA + 0x1000, 0, 4,
           4));
    run_fault(LPU_FAULT_OPERAND, 0);
    /* bad SEL condition register, bad EMIT flags */
    npc = CODE;
    put(mk(LPU_OP_SEL, 1, 2, 3, 16, 0, 0, 0, 0, 0, 0));
    run_fault(LPU_FAULT_OPERAND, 0);
    npc = CODE;
    put(mk(LPU_OP_EMIT, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0));
    run_fault(LPU_FAULT_OPERAND, 0);
    ck_assert_uint_eq(sink.count, 0);
}
END_TEST

START_TEST(test_fault_sram)
{
    put(li(1, 1));
    put(mk(LPU_OP_VCOPY, 0, 0, 0, 0, WIN_SIZE - 16, DATA, 0, 0, 5, 0));
    run_fault(LPU_FAULT_SRAM, 0x20);
    /* 32-bit overflow of offset + size: 0xfffffff0 + 32 wraps to 0x10 */
    npc = CODE;
    put(mk(LPU_OP_VCOPY, 0, 0, 0, 0, DATA, 0xfffffff0, 0, 0, 8, 0));
    run_fault(LPU_FAULT_SRAM, 0);
    /* n * m * 4 wraps 32 bits: 0x10000 * 0x4000 * 4 = 2^32 */
    npc = CODE;
    put(mk(LPU_OP_MATVEC, 0, 0, 0, 0, DATA, DATA + 0x100, DATA + 0x80,
           0, 0x10000, 0x4000));
    run_fault(LPU_FAULT_SRAM, 0);
    /* the whole table counts, even if the row read is in the window */
    npc = CODE;
    put(mk(LPU_OP_EMBED, 0, 0, 0, 0, DATA, DATA + 0x100, 0, 0, 16,
           WIN_SIZE / 64));
    run_fault(LPU_FAULT_SRAM, 0);
    npc = CODE;
    put(mk(LPU_OP_ATTN, 0, 0, 0, 0x10000, DATA, DATA + 0x100, DATA + 0x200,
           DATA + 0x300, 1 | 1 << 16, 8));
    run_fault(LPU_FAULT_SRAM, 0);
    npc = CODE;
    put(mk(LPU_OP_LOADW, 1, 0, 0, 0, WIN_SIZE - 4, 0, 0, 0, 2, 0));
    run_fault(LPU_FAULT_SRAM, 0);
}
END_TEST

START_TEST(test_fault_pc)
{
    struct lpu_engine e;

    /* misaligned entry */
    put(HALT());
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, 4, NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, 10, NULL), LPU_ENGINE_FAULT);
    ck_assert_int_eq(eng.fault, LPU_FAULT_PC);
    ck_assert_uint_eq(eng.fault_pc, 4);
    lpu_engine_fini(&eng);
    /* entry past the window, and the last slot exactly */
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, WIN_SIZE, NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, 10, NULL), LPU_ENGINE_FAULT);
    ck_assert_int_eq(eng.fault, LPU_FAULT_PC);
    lpu_engine_fini(&eng);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, UINT64_MAX - 31,
                                     NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, 10, NULL), LPU_ENGINE_FAULT);
    ck_assert_int_eq(eng.fault, LPU_FAULT_PC);
    lpu_engine_fini(&eng);
    memcpy(win + WIN_SIZE - 32, win, 32);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, WIN_SIZE - 32,
                                     NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, 10, NULL), LPU_ENGINE_HALTED);
    lpu_engine_fini(&eng);
    /* falling off the end of the window */
    memset(win + WIN_SIZE - 32, 0, 32);         /* a nop */
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, WIN_SIZE - 32,
                                     NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, 10, NULL), LPU_ENGINE_FAULT);
    ck_assert_int_eq(eng.fault, LPU_FAULT_PC);
    ck_assert_uint_eq(eng.fault_pc, WIN_SIZE);
    ck_assert_uint_eq(eng.insns, 1);
    lpu_engine_fini(&eng);
    /* a window too small for one instruction */
    ck_assert_int_eq(lpu_engine_init(&e, win, 28, 0, NULL), 0);
    ck_assert_int_eq(lpu_engine_run(&e, 10, NULL), LPU_ENGINE_FAULT);
    ck_assert_int_eq(e.fault, LPU_FAULT_PC);
    lpu_engine_fini(&e);
    /* misaligned branch target faults even when not taken */
    npc = CODE;
    put(li(1, 1));
    put(mk(LPU_OP_BLTU, 0, 1, 0, 0x50, 0, 0, 0, 0, 0, 0));  /* 1 < 0: no */
    put(HALT());
    run_fault(LPU_FAULT_PC, 0x20);
    npc = CODE;
    put(mk(LPU_OP_JMP, 0, 0, 0, WIN_SIZE, 0, 0, 0, 0, 0, 0));
    run_fault(LPU_FAULT_PC, 0);
}
END_TEST

START_TEST(test_fault_index)
{
    /* EMBED row == m */
    put(li(3, 4));
    put(mk(LPU_OP_EMBED, 0, 3, 0, 0, DATA, DATA + 0x100, 0, 0, 8, 4));
    run_fault(LPU_FAULT_INDEX, 0x20);
    /* KVSTORE position 0xffffffff */
    npc = CODE;
    put(li(3, 0xffffffff));
    put(mk(LPU_OP_KVSTORE, 0, 3, 0, 0, DATA + 0x100, DATA, 0, 0, 8, 4));
    run_fault(LPU_FAULT_INDEX, 0x20);
    /* LOADW / STOREW index == n */
    npc = CODE;
    put(li(3, 16));
    put(mk(LPU_OP_LOADW, 1, 3, 0, 0, DATA, 0, 0, 0, 16, 0));
    run_fault(LPU_FAULT_INDEX, 0x20);
    npc = CODE;
    put(li(3, 16));
    put(mk(LPU_OP_STOREW, 0, 3, 3, 0, DATA, 0, 0, 0, 16, 0));
    run_fault(LPU_FAULT_INDEX, 0x20);
    /* ATTN position == context */
    npc = CODE;
    put(li(3, 8));
    put(mk(LPU_OP_ATTN, 0, 3, 0, 8, DATA, DATA + 0x100, DATA + 0x200,
           DATA + 0x400, 1 | 1 << 16, 8));
    run_fault(LPU_FAULT_INDEX, 0x20);
    /* ... and the last valid index of each runs */
    npc = CODE;
    put(li(3, 7));
    put(mk(LPU_OP_ATTN, 0, 3, 0, 8, DATA, DATA + 0x100, DATA + 0x200,
           DATA + 0x400, 1 | 1 << 16, 8));
    put(li(3, 3));
    put(mk(LPU_OP_EMBED, 0, 3, 0, 0, DATA, DATA + 0x100, 0, 0, 8, 4));
    put(mk(LPU_OP_KVSTORE, 0, 3, 0, 0, DATA + 0x100, DATA, 0, 0, 8, 4));
    put(li(3, 15));
    put(mk(LPU_OP_LOADW, 1, 3, 0, 0, DATA, 0, 0, 0, 16, 0));
    put(mk(LPU_OP_STOREW, 0, 3, 3, 0, DATA, 0, 0, 0, 16, 0));
    put(HALT());
    run_ok();
}
END_TEST

START_TEST(test_fault_stream)
{
    put(li(5, 1));
    put(mk(LPU_OP_EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_EMIT, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0));
    put(HALT());
    sink.cap = 2;
    run_fault(LPU_FAULT_STREAM, 0x60);
    ck_assert_uint_eq(eng.emitted, 2);
    ck_assert_uint_eq(sink.count, 2);
    ck_assert_uint_eq(eng.cycles, 1 + 2 * 64);
    /* a conditional emit that does not emit never faults */
    npc = 0x60;
    put(mk(LPU_OP_EMIT, 0, 5, 6, 1, 0, 0, 0, 0, 0, 0));
    sink.count = 0;
    run_ok();
    ck_assert_uint_eq(eng.emitted, 2);
}
END_TEST

/* ---- determinism and cycles on a small model-like program -------------- */

#define M_DIM       32
#define M_HID       48
#define M_VOCAB     100
#define M_CTX       16
#define M_HEADS     4
#define M_KVH       2
#define M_HS        (M_DIM / M_HEADS)

enum {
    M_EMB = DATA, M_WQ = M_EMB + 4 * M_DIM * M_VOCAB,
    M_WK = M_WQ + 4 * M_DIM * M_DIM,
    M_W1 = M_WK + 4 * M_DIM * M_KVH * M_HS,
    M_W1S = M_W1 + M_HID * M_DIM + 32,
    M_CLS = M_W1S + 4 * M_HID,
    M_NORM = M_CLS + 4 * M_VOCAB * M_HID,
    M_KC = M_NORM + 4 * M_DIM, M_VC = M_KC + 4 * M_CTX * M_KVH * M_HS,
    M_X = M_VC + 4 * M_CTX * M_KVH * M_HS, M_XB = M_X + 4 * M_DIM,
    M_Q = M_XB + 4 * M_DIM, M_K = M_Q + 4 * M_DIM, M_ATT = M_K + 4 * M_DIM,
    M_H = M_ATT + 4 * M_DIM, M_LOG = M_H + 4 * M_HID,
    M_END = M_LOG + 4 * M_VOCAB,
};

static void model_prog(void)
{
    npc = CODE;
    put(li(8, 0));                   /* position */
    put(li(9, 1));                   /* token */
    put(li(10, M_CTX));
    /* 0x60: loop */
    put(mk(LPU_OP_EMBED, 0, 9, 0, 0, M_X, M_EMB, 0, 0, M_DIM, M_VOCAB));
    put(mk(LPU_OP_RMSNORM, 0, 0, 0, f32b(1e-5f), M_XB, M_X, M_NORM, 0, M_DIM,
           0));
    put(mk(LPU_OP_MATVEC, 0, 0, 0, 0, M_Q, M_WQ, M_XB, 0, M_DIM, M_DIM));
    put(mk(LPU_OP_MATVEC, 0, 0, 0, 0, M_K, M_WK, M_XB, 0, M_KVH * M_HS,
           M_DIM));
    put(mk(LPU_OP_ROPE, 0, 8, 0, f32b(10000.0f), M_Q, 0, 0, 0, M_DIM, M_HS));
    put(mk(LPU_OP_ROPE, 0, 8, 0, f32b(10000.0f), M_K, 0, 0, 0, M_KVH * M_HS,
           M_HS));
    put(mk(LPU_OP_KVSTORE, 0, 8, 0, 0, M_KC, M_K, 0, 0, M_KVH * M_HS, M_CTX));
    put(mk(LPU_OP_KVSTORE, 0, 8, 0, 0, M_VC, M_XB, 0, 0, M_KVH * M_HS,
           M_CTX));
    put(mk(LPU_OP_ATTN, 0, 8, 0, M_CTX, M_ATT, M_Q, M_KC, M_VC,
           M_HEADS | M_KVH << 16, M_HS));
    put(mk(LPU_OP_VADD, 0, 0, 0, 0, M_X, M_X, M_ATT, 0, M_DIM, 0));
    put(mk(LPU_OP_MATVEC_Q8, 0, 0, 0, 0, M_H, M_W1 + 1, M_X, M_W1S, M_HID,
           M_DIM));
    put(mk(LPU_OP_SILU, 0, 0, 0, 0, M_H, M_H, 0, 0, M_HID, 0));
    put(mk(LPU_OP_VMUL, 0, 0, 0, 0, M_H, M_H, M_H, 0, M_HID, 0));
    put(mk(LPU_OP_MATVEC, 0, 0, 0, 0, M_LOG, M_CLS, M_H, 0, M_VOCAB, M_HID));
    put(mk(LPU_OP_SOFTMAX, 0, 0, 0, 0, M_LOG, M_LOG, 0, 0, M_VOCAB, 0));
    put(mk(LPU_OP_SAMPLE, 9, 3, 4, 0, 0, M_LOG, 0, 0, M_VOCAB, 0));
    put(mk(LPU_OP_ARGMAX, 11, 0, 0, 0, 0, M_LOG, 0, 0, M_VOCAB, 0));
    put(mk(LPU_OP_EMIT, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_ADDI, 8, 8, 0, 1, 0, 0, 0, 0, 0, 0));
    put(mk(LPU_OP_BLTU, 0, 8, 10, 0x60, 0, 0, 0, 0, 0, 0));
    put(HALT());
}

static void model_init(void)
{
    int8_t *q = (int8_t *)(win + M_W1 + 1);
    uint32_t i;

    ref_rng = 0x5eed;
    memset(win, 0, WIN_SIZE);
    fill(M_EMB, M_DIM * M_VOCAB, 1.0f);
    fill(M_WQ, M_DIM * M_DIM, 0.3f);
    fill(M_WK, M_DIM * M_KVH * M_HS, 0.3f);
    for (i = 0; i < M_HID * M_DIM; i++) {
        q[i] = (int8_t)lpu_prng_u32(&ref_rng);
    }
    fill(M_W1S, M_HID, 0.01f);
    fill(M_CLS, M_VOCAB * M_HID, 1.0f);
    fill(M_NORM, M_DIM, 1.0f);
    model_prog();
}

/* the cycles of one loop iteration, from the lpu_isa.h formulas */
static uint64_t model_cycles(void)
{
#define V(k) (((uint64_t)(k) + 319) / 320)
#define MV(n, m) (16 + ((((uint64_t)(n) * (m) + 25599) / 25600) > \
        ((4ull * (n) * (m) + 88887) / 88888) ? \
        (((uint64_t)(n) * (m) + 25599) / 25600) : \
        ((4ull * (n) * (m) + 88887) / 88888)))
    uint64_t c = 0;

    c += 4 + V(M_DIM);                              /* embed */
    c += 4 + 2 * V(M_DIM);                          /* rmsnorm */
    c += MV(M_DIM, M_DIM) + MV(M_KVH * M_HS, M_DIM);
    c += 4 + 2 * V(M_DIM) + 4 + 2 * V(M_KVH * M_HS);    /* rope */
    c += 2 * (4 + V(M_KVH * M_HS));                 /* kvstore */
    c += 16 + M_HEADS * (2 * V(M_CTX * M_HS) + 3 * V(M_CTX));
    c += 4 + V(M_DIM);                              /* vadd */
    c += 16 + ((uint64_t)M_HID * M_DIM + 88887) / 88888;     /* q8 */
    c += 2 * (4 + V(M_HID));                        /* silu, vmul */
    c += MV(M_VOCAB, M_HID);
    c += 4 + 3 * V(M_VOCAB);                        /* softmax */
    c += 4 + 4 * V(M_VOCAB);                        /* sample */
    c += 4 + V(M_VOCAB);                            /* argmax */
    c += 64 + 1 + 1;                                /* emit addi bltu */
    return c;
#undef V
#undef MV
}

struct snapshot {
    uint32_t r[LPU_NUM_REGS];
    uint64_t cycles, insns, prng, pc;
    uint32_t emitted, tok[256], count;
    uint8_t *win;
};

static void take(struct snapshot *s)
{
    memcpy(s->r, eng.r, sizeof(s->r));
    s->cycles = eng.cycles;
    s->insns = eng.insns;
    s->prng = eng.prng;
    s->pc = eng.pc;
    s->emitted = eng.emitted;
    s->count = sink.count;
    memcpy(s->tok, sink.tok, sizeof(s->tok));
    s->win = malloc(WIN_SIZE);
    memcpy(s->win, win, WIN_SIZE);
}

static void same(const struct snapshot *a, const struct snapshot *b)
{
    ck_assert_mem_eq(a->r, b->r, sizeof(a->r));
    ck_assert_uint_eq(a->cycles, b->cycles);
    ck_assert_uint_eq(a->insns, b->insns);
    ck_assert_uint_eq(a->prng, b->prng);
    ck_assert_uint_eq(a->pc, b->pc);
    ck_assert_uint_eq(a->emitted, b->emitted);
    ck_assert_uint_eq(a->count, b->count);
    ck_assert_mem_eq(a->tok, b->tok, sizeof(a->tok));
    ck_assert(memcmp(a->win, b->win, WIN_SIZE) == 0);
}

static void model_run(uint64_t slice, float t, float p, struct snapshot *s)
{
    struct lpu_engine_args args = {
        .prompt_len = 1, .budget = M_CTX, .temperature = t, .top_p = p,
        .seed = 42,
    };
    enum lpu_engine_status st;

    model_init();
    sink.count = 0;
    lpu_engine_fini(&eng);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, CODE, &args), 0);
    do {
        st = lpu_engine_run(&eng, slice, &sink_io);
    } while (st == LPU_ENGINE_RUNNING);
    ck_assert_msg(st == LPU_ENGINE_HALTED, "%s", eng.fault_msg);
    take(s);
}

START_TEST(test_determinism)
{
    static const float temps[][2] = { { 0.0f, 0.0f }, { 0.9f, 0.0f },
                                      { 1.0f, 0.9f } };
    struct snapshot a, b, c, d;
    size_t k;

    ck_assert_uint_lt(M_END, WIN_SIZE);
    for (k = 0; k < 3; k++) {
        model_run(UINT64_MAX, temps[k][0], temps[k][1], &a);
        model_run(UINT64_MAX, temps[k][0], temps[k][1], &b);
        model_run(1, temps[k][0], temps[k][1], &c);
        model_run(7, temps[k][0], temps[k][1], &d);
        same(&a, &b);
        same(&a, &c);
        same(&a, &d);
        ck_assert_uint_eq(a.emitted, M_CTX);
        ck_assert_uint_eq(a.insns, 3 + M_CTX * 20 + 1);
        ck_assert_uint_eq(a.cycles, 3 + M_CTX * model_cycles() + 1);
        if (temps[k][0] == 0.0f) {
            ck_assert_uint_eq(a.prng, 42);
        } else {
            ck_assert_uint_ne(a.prng, 42);
        }
        free(a.win);
        free(b.win);
        free(c.win);
        free(d.win);
    }
}
END_TEST

/* ---- cycle limit ------------------------------------------------------- */

/*
 * The model run with a cycle limit, in slices of @slice instructions: stops
 * with LIMIT (or HALTED when the limit is past the run's cycles).
 */
static enum lpu_engine_status model_limit_run(uint64_t slice,
                                              uint64_t max_cycles,
                                              struct snapshot *s)
{
    struct lpu_engine_args args = {
        .prompt_len = 1, .budget = M_CTX, .temperature = 0.9f,
        .top_p = 0.9f, .seed = 42, .max_cycles = max_cycles,
    };
    enum lpu_engine_status st;

    model_init();
    sink.count = 0;
    lpu_engine_fini(&eng);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, CODE, &args), 0);
    do {
        st = lpu_engine_run(&eng, slice, &sink_io);
    } while (st == LPU_ENGINE_RUNNING);
    ck_assert_msg(st == LPU_ENGINE_LIMIT || st == LPU_ENGINE_HALTED,
                  "status %d: %s", st, eng.fault_msg);
    take(s);
    return st;
}

/*
 * The stop is exact: at the first instruction boundary where the cycles
 * are at or past the limit, the same one for every slicing, with the
 * machine state of an unlimited run stepped to that boundary.
 */
START_TEST(test_cycle_limit)
{
    static const uint64_t slices[] = { 1, 7, UINT64_MAX };
    uint64_t *cum, total, n, k, j, lim[8];
    struct snapshot ref, got[3];
    unsigned int l, t;

    /* an unlimited run, one instruction at a time: cycles after each */
    model_init();
    lpu_engine_fini(&eng);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, CODE, NULL), 0);
    n = 3 + M_CTX * 20 + 1;
    cum = calloc(n + 1, sizeof(*cum));
    ck_assert_ptr_nonnull(cum);
    for (k = 1; k <= n; k++) {
        enum lpu_engine_status st = lpu_engine_run(&eng, 1, NULL);

        ck_assert_int_eq(st, k < n ? LPU_ENGINE_RUNNING : LPU_ENGINE_HALTED);
        cum[k] = eng.cycles;
    }
    total = cum[n];

    /* limits: the first instruction, a boundary exactly, one past it,
     * the middle, just before the HALT, the HALT's own boundary */
    lim[0] = 1;
    lim[1] = cum[n / 3];
    lim[2] = cum[n / 3] + 1;
    lim[3] = total / 2;
    lim[4] = cum[n - 1] - 1;
    lim[5] = cum[n - 1];        /* before the HALT: stops, HALT not run */
    lim[6] = total;             /* the HALT starts below it: halts */
    lim[7] = total + 1000;
    for (l = 0; l < 8; l++) {
        /* k: instructions run at the stop (n: halted) */
        for (k = 1; k < n && cum[k] < lim[l]; k++) {
        }
        for (t = 0; t < 3; t++) {
            enum lpu_engine_status st;

            st = model_limit_run(slices[t], lim[l], &got[t]);
            ck_assert_msg(st == (l < 6 ? LPU_ENGINE_LIMIT :
                                 LPU_ENGINE_HALTED),
                          "limit %" PRIu64 " slice %" PRIu64 ": status %d",
                          lim[l], slices[t], st);
            ck_assert_uint_eq(eng.insns, k);
            ck_assert_uint_eq(eng.cycles, cum[k]);
            if (st == LPU_ENGINE_LIMIT) {
                ck_assert_uint_ge(eng.cycles, lim[l]);
                ck_assert_uint_lt(cum[k - 1], lim[l]);
                ck_assert_int_eq(eng.fault, LPU_FAULT_NONE);
                ck_assert_str_eq(eng.fault_msg, "");
                /* final: nothing runs any more, whatever max_insns */
                ck_assert_int_eq(lpu_engine_run(&eng, UINT64_MAX, &sink_io),
                                 LPU_ENGINE_LIMIT);
                ck_assert_int_eq(lpu_engine_run(&eng, 0, &sink_io),
                                 LPU_ENGINE_LIMIT);
                ck_assert_uint_eq(eng.insns, k);
                ck_assert_uint_eq(eng.cycles, cum[k]);
                ck_assert_int_eq(eng.status, LPU_ENGINE_LIMIT);
            }
            if (t > 0) {
                same(&got[0], &got[t]);
            }
        }
        /* the machine of an unlimited run stepped to the same boundary */
        model_init();
        sink.count = 0;
        lpu_engine_fini(&eng);
        {
            struct lpu_engine_args args = {
                .prompt_len = 1, .budget = M_CTX, .temperature = 0.9f,
                .top_p = 0.9f, .seed = 42,
            };

            ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, CODE,
                                             &args), 0);
        }
        for (j = 0; j < k; j++) {
            ck_assert_int_ne(lpu_engine_run(&eng, 1, &sink_io),
                             LPU_ENGINE_FAULT);
        }
        take(&ref);
        same(&ref, &got[0]);
        free(ref.win);
        for (t = 0; t < 3; t++) {
            free(got[t].win);
        }
    }
    free(cum);
}
END_TEST

/* 0 is no limit; the check comes before the next instruction's faults */
START_TEST(test_cycle_limit_api)
{
    struct lpu_engine_args args = { .max_cycles = 0 };
    uint64_t k;

    put(li(1, 0));
    put(li(2, 100));
    put(mk(LPU_OP_ADDI, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0));    /* 0x40 */
    put(mk(LPU_OP_BNE, 0, 1, 2, 0x40, 0, 0, 0, 0, 0, 0));
    put(mk(0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));           /* faults */
    ck_assert_int_eq(run_args(&args), LPU_ENGINE_FAULT);
    ck_assert_uint_eq(eng.cycles, 202);
    ck_assert_uint_eq(eng.pc, 0x80);

    /* stops at the bad opcode's boundary without faulting */
    args.max_cycles = 202;
    ck_assert_int_eq(run_args(&args), LPU_ENGINE_LIMIT);
    ck_assert_uint_eq(eng.cycles, 202);
    ck_assert_uint_eq(eng.insns, 202);
    ck_assert_uint_eq(eng.pc, 0x80);
    ck_assert_int_eq(eng.fault, LPU_FAULT_NONE);
    ck_assert_str_eq(eng.fault_msg, "");
    ck_assert_uint_eq(eng.r[1], 100);

    /* one instruction at a time: LIMIT comes with the instruction that
     * reaches it, not one call later */
    args.max_cycles = 50;
    lpu_engine_fini(&eng);
    ck_assert_int_eq(lpu_engine_init(&eng, win, WIN_SIZE, CODE, &args), 0);
    ck_assert_int_eq(lpu_engine_run(&eng, 0, NULL), LPU_ENGINE_RUNNING);
    for (k = 1; k < 50; k++) {
        ck_assert_int_eq(lpu_engine_run(&eng, 1, NULL), LPU_ENGINE_RUNNING);
    }
    ck_assert_int_eq(lpu_engine_run(&eng, 1, NULL), LPU_ENGINE_LIMIT);
    ck_assert_uint_eq(eng.insns, 50);
    ck_assert_uint_eq(eng.cycles, 50);
    ck_assert_int_eq(lpu_engine_run(&eng, 1, NULL), LPU_ENGINE_LIMIT);
    ck_assert_uint_eq(eng.insns, 50);

    /* a limit of 1: exactly one instruction runs */
    args.max_cycles = 1;
    ck_assert_int_eq(run_args(&args), LPU_ENGINE_LIMIT);
    ck_assert_uint_eq(eng.insns, 1);
    ck_assert_uint_eq(eng.pc, 0x20);

    /* the largest limit is no limit in practice */
    args.max_cycles = UINT64_MAX;
    ck_assert_int_eq(run_args(&args), LPU_ENGINE_FAULT);
    ck_assert_uint_eq(eng.cycles, 202);
}
END_TEST

/* ---- fuzzing: random programs never touch memory outside the window ---- */

#define FZ_WIN      8192
#define FZ_GUARD    4096

static uint64_t fz_rng = 0xf00dfacecafebeefull;

static uint32_t fz(uint32_t n)
{
    return lpu_prng_u32(&fz_rng) % n;
}

static uint32_t fz_off(void)
{
    switch (fz(8)) {
    case 0: return lpu_prng_u32(&fz_rng);
    case 1: return FZ_WIN - 4 * fz(8);
    case 2: return 2048 + fz(FZ_WIN - 2048);
    default: return 2048 + 4 * fz((FZ_WIN - 2048) / 4);
    }
}

static uint32_t fz_dim(void)
{
    switch (fz(6)) {
    case 0: return lpu_prng_u32(&fz_rng);
    case 1: return 0;
    default: return 1 + fz(40);
    }
}

static void fz_insn(uint8_t *at)
{
    size_t count;
    const struct lpu_op_info *t = lpu_op_table(&count);
    const struct lpu_op_info *info = &t[fz((uint32_t)count)];
    struct lpu_insn_fields f;

    memset(&f, 0, sizeof(f));
    if (fz(4)) {        /* tame: likely to run */
        f.op = info->op;
        f.rd = (uint8_t)(info->fields & LPU_F_RD ? fz(16) : 0);
        f.rs = (uint8_t)(info->fields & LPU_F_RS ? fz(16) : 0);
        f.rt = (uint8_t)(info->fields & LPU_F_RT ? fz(16) : 0);
        if (info->fields & LPU_F_IMM) {
            f.imm = (info->flags & LPU_OPF_BRANCH) ? 32 * fz(64) :
                    info->op == LPU_OP_EMIT ? fz(2) : 1 + fz(15);
        }
        f.dst = info->fields & LPU_F_DST ? 2048 + 4 * fz(1024) : 0;
        f.src0 = info->fields & LPU_F_SRC0 ? 2048 + 4 * fz(1024) : 0;
        f.src1 = info->fields & LPU_F_SRC1 ? 2048 + 4 * fz(1024) : 0;
        f.src2 = info->fields & LPU_F_SRC2 ? 2048 + 4 * fz(1024) : 0;
        f.n = info->fields & LPU_F_N ? 2 * (1 + fz(8)) : 0;
        f.m = info->fields & LPU_F_M ? 2 * (1 + fz(4)) : 0;
        if (info->op == LPU_OP_ATTN) {
            f.n = 2 | (1 + fz(2)) << 16;
        }
        lpu_insn_encode(&f, at);
        return;
    }
    if (fz(50) == 0) {
        f.op = (uint8_t)fz(256);
    } else {
        f.op = info->op;
    }
    f.rd = (uint8_t)(fz(40) ? fz(16) : fz(256));
    f.rs = (uint8_t)(fz(40) ? fz(16) : fz(256));
    f.rt = (uint8_t)(fz(40) ? fz(16) : fz(256));
    f.imm = fz(2) ? fz(64) : lpu_prng_u32(&fz_rng);
    if (info->flags & LPU_OPF_BRANCH) {
        f.imm = fz(30) ? 32 * fz(64) : lpu_prng_u32(&fz_rng);
    }
    if (info->op == LPU_OP_ATTN && fz(2)) {
        f.n = (1 + fz(4)) | (1 + fz(2)) << 16;
    } else {
        f.n = fz_dim();
    }
    f.m = fz_dim();
    f.dst = fz_off();
    f.src0 = fz_off();
    f.src1 = fz_off();
    f.src2 = fz_off();
    if (fz(3)) {        /* keep unused fields zero most of the time */
        uint32_t used = info->fields;

        if (!(used & LPU_F_RD)) f.rd = 0;
        if (!(used & LPU_F_RS)) f.rs = 0;
        if (!(used & LPU_F_RT)) f.rt = 0;
        if (!(used & LPU_F_IMM)) f.imm = 0;
        if (!(used & LPU_F_DST)) f.dst = 0;
        if (!(used & LPU_F_SRC0)) f.src0 = 0;
        if (!(used & LPU_F_SRC1)) f.src1 = 0;
        if (!(used & LPU_F_SRC2)) f.src2 = 0;
        if (!(used & LPU_F_N)) f.n = 0;
        if (!(used & LPU_F_M)) f.m = 0;
    }
    lpu_insn_encode(&f, at);
}

START_TEST(test_fuzz_window)
{
    uint8_t *buf = malloc(FZ_WIN + 2 * FZ_GUARD), *w = buf + FZ_GUARD;
    uint32_t prog, i, status_count[4] = { 0 }, faults[8] = { 0 };
    uint64_t executed = 0;
    struct lpu_engine_args args = { 0 };
    struct lpu_engine e;

    ck_assert_ptr_nonnull(buf);
    for (prog = 0; prog < 3000; prog++) {
        enum lpu_engine_status st;

        memset(buf, 0xa5, FZ_WIN + 2 * FZ_GUARD);
        for (i = 0; i < FZ_WIN / 4; i++) {      /* data: small floats */
            float v = (float)((int)fz(200) - 100) / 16.0f;

            memcpy(w + 4 * i, &v, 4);
        }
        /* registers get random small values first */
        for (i = 0; i < 8; i++) {
            struct lpu_insn insn = li((uint8_t)(i + 1), fz(2) ? fz(64) :
                                      lpu_prng_u32(&fz_rng));

            memcpy(w + 32 * i, &insn, 32);
        }
        for (i = 8; i < 64; i++) {
            fz_insn(w + 32 * i);
        }
        /* one program in four with a cycle limit */
        args.max_cycles = prog % 4 == 3 ? 1 + fz(4000) : 0;
        ck_assert_int_eq(lpu_engine_init(&e, w, FZ_WIN, 0, &args), 0);
        sink.count = 0;
        sink.cap = fz(4);
        st = lpu_engine_run(&e, 2000, &sink_io);
        status_count[st]++;
        if (st == LPU_ENGINE_LIMIT) {
            ck_assert_uint_gt(args.max_cycles, 0);
            ck_assert_uint_ge(e.cycles, args.max_cycles);
        } else if (args.max_cycles) {
            ck_assert_uint_lt(e.cycles, args.max_cycles +
                              (st == LPU_ENGINE_HALTED ? 1 : 0));
        }
        if (st == LPU_ENGINE_FAULT) {
            ck_assert_int_ge(e.fault, LPU_FAULT_OPCODE);
            ck_assert_int_le(e.fault, LPU_FAULT_STREAM);
            faults[e.fault]++;
        }
        executed += e.insns;
        lpu_engine_fini(&e);
        for (i = 0; i < FZ_GUARD; i++) {
            if (buf[i] != 0xa5 || buf[FZ_GUARD + FZ_WIN + i] != 0xa5) {
                ck_abort_msg("program %u wrote outside its window", prog);
            }
        }
    }
    free(buf);
    /* the fuzzer reaches every fault and runs real instructions */
    for (i = LPU_FAULT_OPCODE; i <= LPU_FAULT_STREAM; i++) {
        ck_assert_msg(faults[i] > 0, "fault %u never seen", i);
    }
    ck_assert_uint_gt(executed, 3000 * 10);
    ck_assert_uint_gt(status_count[LPU_ENGINE_RUNNING], 0);
    ck_assert_uint_gt(status_count[LPU_ENGINE_HALTED], 0);
    ck_assert_uint_gt(status_count[LPU_ENGINE_LIMIT], 0);
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_scalar);
    tcase_add_test(core, test_loadw_storew);
    tcase_add_test(core, test_branches);
    tcase_add_test(core, test_worked_example);
    tcase_add_test(core, test_embed_kvstore);
    tcase_add_test(core, test_elementwise);
    tcase_add_test(core, test_rmsnorm);
    tcase_add_test(core, test_softmax);
    tcase_add_test(core, test_rope);
    tcase_add_test(core, test_matvec);
    tcase_add_test(core, test_matvec_q8);
    tcase_add_test(core, test_attn);
    tcase_add_test(core, test_argmax);
    tcase_add_test(core, test_sample_greedy);
    tcase_add_test(core, test_sample_full);
    tcase_add_test(core, test_sample_topp);
    tcase_add_test(core, test_emit);
    tcase_add_test(core, test_init);
    tcase_add_test(core, test_slices);
    tcase_add_test(core, test_determinism);
    tcase_add_test(core, test_cycle_limit);
    tcase_add_test(core, test_cycle_limit_api);
    suite_add_tcase(s, core);

    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_set_timeout(errors, 300);
    tcase_add_test(errors, test_fault_opcode);
    tcase_add_test(errors, test_fault_operand);
    tcase_add_test(errors, test_fault_sram);
    tcase_add_test(errors, test_fault_pc);
    tcase_add_test(errors, test_fault_index);
    tcase_add_test(errors, test_fault_stream);
    tcase_add_test(errors, test_fuzz_window);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(engine_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
