/* SPDX-License-Identifier: MIT */
/*
 * LPU engine: interpreter of the LPU ISA over an SRAM window, with the
 * static cycle model. The semantics, the summation order and the sampling
 * algorithm implemented here are specified in Documentation/isa.rst; any
 * change to an arithmetic loop is an ISA change.
 *
 * f32 arithmetic must be evaluated exactly as written: every operation
 * rounded on its own, no fused multiply-add. GCC contracts a * b + c into
 * an FMA when the target has one and -ffp-contract is "fast" (the GNU C
 * default), hence the pragma below; build without -ffast-math.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lpu_engine.h"
#include "lpu_insn.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the engine reads f32 tensors in host order: little-endian hosts only"
#endif

/* One top-p candidate */
struct lpu_cand {
    float p;
    uint32_t i;
};

/* ---- Kernels ----------------------------------------------------------- */

/*
 * Dot products (MATVEC, MATVEC_Q8, ATTN scores) use eight partial sums:
 * lane j accumulates the products of the elements c with c % 8 == j in
 * increasing c, starting from 0; the result is
 * ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)).
 */
#define LANES 8

static float lanes_sum(const float l[LANES])
{
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

#if defined(__GNUC__)
/* two 4-lane vectors: lanes 0..3 and 4..7 (SSE2 registers on x86-64) */
typedef float v4sf __attribute__((vector_size(16)));
typedef int8_t v4qi __attribute__((vector_size(4)));

static float dot_f32(const float *restrict a, const float *restrict b,
                     uint32_t len)
{
    v4sf acc0 = { 0 }, acc1 = { 0 }, x0, x1, y0, y1;
    float l[LANES];
    uint32_t c;

    for (c = 0; c + LANES <= len; c += LANES) {
        memcpy(&x0, a + c, sizeof(x0));
        memcpy(&x1, a + c + 4, sizeof(x1));
        memcpy(&y0, b + c, sizeof(y0));
        memcpy(&y1, b + c + 4, sizeof(y1));
        acc0 += x0 * y0;
        acc1 += x1 * y1;
    }
    memcpy(l, &acc0, sizeof(acc0));
    memcpy(l + 4, &acc1, sizeof(acc1));
    for (; c < len; c++) {
        l[c % LANES] += a[c] * b[c];
    }
    return lanes_sum(l);
}

static float dot_q8(const int8_t *restrict a, const float *restrict b,
                    uint32_t len)
{
    v4sf acc0 = { 0 }, acc1 = { 0 }, x0, x1, y0, y1;
    float l[LANES];
    uint32_t c;

    for (c = 0; c + LANES <= len; c += LANES) {
#if defined(__SSE2__)
        /* sign-extend 8 int8 to int32 (exact), then convert to f32 */
        __m128i q = _mm_loadl_epi64((const __m128i *)(const void *)(a + c));
        __m128i w = _mm_srai_epi16(_mm_unpacklo_epi8(q, q), 8);

        x0 = (v4sf)_mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(w, w),
                                                  16));
        x1 = (v4sf)_mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(w, w),
                                                  16));
#else
        v4qi q0, q1;

        memcpy(&q0, a + c, sizeof(q0));
        memcpy(&q1, a + c + 4, sizeof(q1));
        x0 = __builtin_convertvector(q0, v4sf);
        x1 = __builtin_convertvector(q1, v4sf);
#endif
        memcpy(&y0, b + c, sizeof(y0));
        memcpy(&y1, b + c + 4, sizeof(y1));
        acc0 += x0 * y0;
        acc1 += x1 * y1;
    }
    memcpy(l, &acc0, sizeof(acc0));
    memcpy(l + 4, &acc1, sizeof(acc1));
    for (; c < len; c++) {
        l[c % LANES] += (float)a[c] * b[c];
    }
    return lanes_sum(l);
}
#else
static float dot_f32(const float *restrict a, const float *restrict b,
                     uint32_t len)
{
    float l[LANES] = { 0 };
    uint32_t c;

    for (c = 0; c < len; c++) {
        l[c % LANES] += a[c] * b[c];
    }
    return lanes_sum(l);
}

static float dot_q8(const int8_t *restrict a, const float *restrict b,
                    uint32_t len)
{
    float l[LANES] = { 0 };
    uint32_t c;

    for (c = 0; c < len; c++) {
        l[c % LANES] += (float)a[c] * b[c];
    }
    return lanes_sum(l);
}
#endif

/* Index of the first maximum: best = 0, then i wins if x[i] > x[best]. */
static uint32_t argmax_f32(const float *x, uint32_t n)
{
    uint32_t i, best = 0;

    for (i = 1; i < n; i++) {
        if (x[i] > x[best]) {
            best = i;
        }
    }
    return best;
}

/*
 * dst = softmax(src), dst == src allowed: max as argmax_f32 finds it,
 * dst[i] = expf(src[i] - max), sum over i in increasing order from 0,
 * then dst[i] = dst[i] / sum.
 */
static void softmax_f32(float *dst, const float *src, uint32_t n)
{
    float max = src[argmax_f32(src, n)], sum = 0.0f;
    uint32_t i;

    for (i = 0; i < n; i++) {
        dst[i] = expf(src[i] - max);
        sum += dst[i];
    }
    for (i = 0; i < n; i++) {
        dst[i] = dst[i] / sum;
    }
}

/*
 * Sort candidates by probability descending, then index ascending. The
 * candidates arrive in ascending index order and their probabilities are
 * finite and > 0, so the IEEE bits order like the values: a stable LSD
 * radix sort on ~bits gives exactly that order (a total order, so any
 * correct sort gives the same result). Returns the sorted array: @c or
 * @tmp.
 */
#define RADIX_BITS 11
#define RADIX (1u << RADIX_BITS)

static struct lpu_cand *sort_cands(struct lpu_cand *c, struct lpu_cand *tmp,
                                   uint32_t k)
{
    uint32_t count[RADIX], i, d, sum, shift;
    struct lpu_cand *t;

    for (shift = 0; shift < 32; shift += RADIX_BITS) {
        memset(count, 0, sizeof(count));
        for (i = 0; i < k; i++) {
            count[(~lpu_f32_bits(c[i].p) >> shift) & (RADIX - 1)]++;
        }
        for (d = 0, sum = 0; d < RADIX; d++) {
            uint32_t n = count[d];

            count[d] = sum;
            sum += n;
        }
        for (i = 0; i < k; i++) {
            d = (~lpu_f32_bits(c[i].p) >> shift) & (RADIX - 1);
            tmp[count[d]++] = c[i];
        }
        t = c;
        c = tmp;
        tmp = t;
    }
    return c;
}

/*
 * Top-p (nucleus) sampling of the probabilities q[0..n), n >= 2, 0 < p < 1,
 * with the uniform u in [0, 1). Documentation/isa.rst, "SAMPLE".
 */
static uint32_t sample_topp(const float *q, uint32_t n, float p, float u,
                            struct lpu_cand *cand, struct lpu_cand *tmp)
{
    const float cutoff = (1.0f - p) / (float)(n - 1);
    uint32_t i, k = 0, last;
    float cum = 0.0f, r, cdf = 0.0f;

    for (i = 0; i < n; i++) {
        if (q[i] >= cutoff) {
            cand[k].p = q[i];
            cand[k].i = i;
            k++;
        }
    }
    if (k == 0) {
        return argmax_f32(q, n);
    }
    cand = sort_cands(cand, tmp, k);

    last = k - 1;
    for (i = 0; i < k; i++) {
        cum += cand[i].p;
        if (cum > p) {
            last = i;
            break;
        }
    }
    r = u * cum;
    for (i = 0; i <= last; i++) {
        cdf += cand[i].p;
        if (r < cdf) {
            return cand[i].i;
        }
    }
    return cand[last].i;
}

/* ---- Engine ------------------------------------------------------------ */

int lpu_engine_init(struct lpu_engine *e, uint8_t *window,
                    uint64_t window_size, uint64_t entry,
                    const struct lpu_engine_args *args)
{
    static const struct lpu_engine_args no_args;
    uint64_t len;

    if (!e) {
        return -EINVAL;
    }
    memset(e, 0, sizeof(*e));
    if ((!window && window_size) || ((uintptr_t)window % 4)) {
        return -EINVAL;
    }
    if (!args) {
        args = &no_args;
    }

    len = window_size / 4;
    if (len > LPU_INSN_MAX_SCRATCH) {
        len = LPU_INSN_MAX_SCRATCH;
    }
    if (len) {
        /* only the pages a run touches are ever committed */
        e->scratch = malloc(len * sizeof(float));
        e->cand = malloc(2 * len * sizeof(struct lpu_cand));
        if (!e->scratch || !e->cand) {
            lpu_engine_fini(e);
            return -ENOMEM;
        }
    }
    e->scratch_len = len;
    e->window = window;
    e->window_size = window_size;

    e->r[LPU_REG_PROMPT_LEN] = args->prompt_len;
    e->r[LPU_REG_BUDGET] = args->budget;
    e->r[LPU_REG_TEMPERATURE] = lpu_f32_bits(args->temperature);
    e->r[LPU_REG_TOP_P] = lpu_f32_bits(args->top_p);
    e->prng = lpu_prng_seed(args->seed);
    e->max_cycles = args->max_cycles;
    e->pc = entry;
    e->status = LPU_ENGINE_RUNNING;
    e->fault = LPU_FAULT_NONE;
    return 0;
}

void lpu_engine_fini(struct lpu_engine *e)
{
    if (!e) {
        return;
    }
    free(e->scratch);
    free(e->cand);
    e->scratch = NULL;
    e->cand = NULL;
    e->scratch_len = 0;
}

__attribute__((format(printf, 3, 4)))
static enum lpu_engine_status fault(struct lpu_engine *e, enum lpu_fault f,
                                    const char *fmt, ...)
{
    va_list ap;
    int len;

    len = snprintf(e->fault_msg, sizeof(e->fault_msg), "pc 0x%" PRIx64 ": ",
                   e->pc);
    if (len > 0 && (size_t)len < sizeof(e->fault_msg)) {
        va_start(ap, fmt);
        vsnprintf(e->fault_msg + len, sizeof(e->fault_msg) - (size_t)len,
                  fmt, ap);
        va_end(ap);
    }
    e->fault = f;
    e->fault_pc = e->pc;
    e->status = LPU_ENGINE_FAULT;
    return LPU_ENGINE_FAULT;
}

static inline float *fptr(struct lpu_engine *e, uint64_t off)
{
    return (float *)(void *)(e->window + off);
}

static inline uint32_t load_u32(struct lpu_engine *e, uint64_t off)
{
    return lpu_get_le32(e->window + off);
}

static void op_rope(struct lpu_engine *e, const struct lpu_insn_fields *f)
{
    float *x = fptr(e, f->dst);
    float theta = lpu_bits_f32(f->imm), pos = (float)e->r[f->rs];
    uint32_t i;

    for (i = 0; i < f->n; i += 2) {
        float freq = 1.0f / powf(theta, (float)(i % f->m) / (float)f->m);
        float a = pos * freq, c = cosf(a), s = sinf(a);
        float v0 = x[i], v1 = x[i + 1];

        x[i] = v0 * c - v1 * s;
        x[i + 1] = v0 * s + v1 * c;
    }
}

static void op_matvec(struct lpu_engine *e, const struct lpu_insn_fields *f)
{
    float *restrict dst = fptr(e, f->dst);
    const float *w = fptr(e, f->src0), *x = fptr(e, f->src1);
    uint32_t r;

    for (r = 0; r < f->n; r++) {
        dst[r] = dot_f32(w + (uint64_t)r * f->m, x, f->m);
    }
}

static void op_matvec_q8(struct lpu_engine *e,
                         const struct lpu_insn_fields *f)
{
    float *restrict dst = fptr(e, f->dst);
    const int8_t *w = (const int8_t *)(e->window + f->src0);
    const float *x = fptr(e, f->src1), *scale = fptr(e, f->src2);
    uint32_t r;

    for (r = 0; r < f->n; r++) {
        dst[r] = scale[r] * dot_q8(w + (uint64_t)r * f->m, x, f->m);
    }
}

static void op_attn(struct lpu_engine *e, const struct lpu_insn_fields *f,
                    uint32_t p)
{
    uint32_t heads = f->n & 0xffff, kv_heads = f->n >> 16;
    uint32_t group = heads / kv_heads, hs = f->m, h, t, i;
    uint64_t kv_dim = (uint64_t)kv_heads * hs;
    const float *q = fptr(e, f->src0);
    const float *kc = fptr(e, f->src1), *vc = fptr(e, f->src2);
    float *restrict s = e->scratch, *restrict out;
    const float scale = sqrtf((float)hs);

    for (h = 0; h < heads; h++) {
        uint64_t g_off = (uint64_t)(h / group) * hs;
        const float *qh = q + (uint64_t)h * hs;

        for (t = 0; t <= p; t++) {
            s[t] = dot_f32(qh, kc + t * kv_dim + g_off, hs) / scale;
        }
        softmax_f32(s, s, p + 1);
        out = fptr(e, f->dst) + (uint64_t)h * hs;
        for (i = 0; i < hs; i++) {
            out[i] = 0.0f;
        }
        for (t = 0; t <= p; t++) {
            const float *v = vc + t * kv_dim + g_off;
            const float a = s[t];

            for (i = 0; i < hs; i++) {
                out[i] += a * v[i];
            }
        }
    }
}

static uint32_t op_sample(struct lpu_engine *e,
                          const struct lpu_insn_fields *f)
{
    const float *logits = fptr(e, f->src0);
    float t = lpu_bits_f32(e->r[f->rs]), p = lpu_bits_f32(e->r[f->rt]);
    float *q = e->scratch, u, cdf = 0.0f;
    uint32_t i;

    if (!(t > 0.0f)) {      /* 0, negative or NaN: greedy, no PRNG step */
        return argmax_f32(logits, f->n);
    }
    for (i = 0; i < f->n; i++) {
        q[i] = logits[i] / t;
    }
    softmax_f32(q, q, f->n);
    u = lpu_prng_f32(&e->prng);
    if (f->n == 1) {
        return 0;
    }
    if (p > 0.0f && p < 1.0f) {
        return sample_topp(q, f->n, p, u, e->cand,
                           (struct lpu_cand *)e->cand + e->scratch_len);
    }
    for (i = 0; i < f->n; i++) {
        cdf += q[i];
        if (u < cdf) {
            return i;
        }
    }
    return f->n - 1;
}

enum lpu_engine_status lpu_engine_run(struct lpu_engine *e,
                                      uint64_t max_insns,
                                      const struct lpu_engine_io *io)
{
    struct lpu_insn_fields f;
    char msg[sizeof(e->fault_msg)];
    uint64_t done, next;
    uint32_t *r = e->r, idx, v, i;
    float *d;
    const float *a, *b;
    int ft;

    if (e->status != LPU_ENGINE_RUNNING) {
        return e->status;
    }
    for (done = 0;; done++) {
        /* at an instruction boundary: the cycle limit, then the slice */
        if (e->max_cycles && e->cycles >= e->max_cycles) {
            e->status = LPU_ENGINE_LIMIT;
            return LPU_ENGINE_LIMIT;
        }
        if (done >= max_insns) {
            break;
        }
        if (e->pc % LPU_INSN_SIZE || e->window_size < LPU_INSN_SIZE ||
            e->pc > e->window_size - LPU_INSN_SIZE) {
            return fault(e, LPU_FAULT_PC,
                         "pc misaligned or outside the window of 0x%"
                         PRIx64 " bytes", e->window_size);
        }
        lpu_insn_decode(e->window + e->pc, &f);
        ft = lpu_insn_check_fields(&f, e->window_size, NULL, 0);
        if (ft) {
            lpu_insn_check_fields(&f, e->window_size, msg, sizeof(msg));
            return fault(e, ft, "%s", msg);
        }
        next = e->pc + LPU_INSN_SIZE;

        switch (f.op) {
        case LPU_OP_INOP:
            break;
        case LPU_OP_HALT:
            e->cycles += lpu_insn_cycles_fields(&f);
            e->insns++;
            e->status = LPU_ENGINE_HALTED;
            return LPU_ENGINE_HALTED;
        case LPU_OP_LI:
            r[f.rd] = f.imm;
            break;
        case LPU_OP_ADD:
            r[f.rd] = r[f.rs] + r[f.rt];
            break;
        case LPU_OP_ADDI:
            r[f.rd] = r[f.rs] + f.imm;
            break;
        case LPU_OP_SLTU:
            r[f.rd] = r[f.rs] < r[f.rt];
            break;
        case LPU_OP_SEL:
            r[f.rd] = r[f.imm] ? r[f.rs] : r[f.rt];
            break;
        case LPU_OP_LOADW:
        case LPU_OP_STOREW:
            idx = r[f.rs];
            if (idx >= f.n) {
                return fault(e, LPU_FAULT_INDEX,
                             "%s: index r%u = %u, bound %u",
                             lpu_op_info(f.op)->name, f.rs, idx, f.n);
            }
            if (f.op == LPU_OP_LOADW) {
                r[f.rd] = load_u32(e, f.dst + 4ull * idx);
            } else {
                lpu_put_le32(e->window + f.dst + 4ull * idx, r[f.rt]);
            }
            break;
        case LPU_OP_JMP:
            next = f.imm;
            break;
        case LPU_OP_BLTU:
            if (r[f.rs] < r[f.rt]) {
                next = f.imm;
            }
            break;
        case LPU_OP_BNE:
            if (r[f.rs] != r[f.rt]) {
                next = f.imm;
            }
            break;
        case LPU_OP_EMBED:
        case LPU_OP_KVSTORE:
            idx = r[f.rs];
            if (idx >= f.m) {
                return fault(e, LPU_FAULT_INDEX,
                             "%s: row r%u = %u, bound %u",
                             lpu_op_info(f.op)->name, f.rs, idx, f.m);
            }
            if (f.op == LPU_OP_EMBED) {
                memcpy(e->window + f.dst,
                       e->window + f.src0 + 4ull * idx * f.n, 4ull * f.n);
            } else {
                memcpy(e->window + f.dst + 4ull * idx * f.n,
                       e->window + f.src0, 4ull * f.n);
            }
            break;
        case LPU_OP_VCOPY:
            memmove(e->window + f.dst, e->window + f.src0, 4ull * f.n);
            break;
        case LPU_OP_VADD:
            d = fptr(e, f.dst);
            a = fptr(e, f.src0);
            b = fptr(e, f.src1);
            for (i = 0; i < f.n; i++) {
                d[i] = a[i] + b[i];
            }
            break;
        case LPU_OP_VMUL:
            d = fptr(e, f.dst);
            a = fptr(e, f.src0);
            b = fptr(e, f.src1);
            for (i = 0; i < f.n; i++) {
                d[i] = a[i] * b[i];
            }
            break;
        case LPU_OP_SILU:
            d = fptr(e, f.dst);
            a = fptr(e, f.src0);
            for (i = 0; i < f.n; i++) {
                float x = a[i];

                d[i] = x / (1.0f + expf(-x));
            }
            break;
        case LPU_OP_RMSNORM: {
            float ss = 0.0f, rms;

            d = fptr(e, f.dst);
            a = fptr(e, f.src0);
            b = fptr(e, f.src1);
            for (i = 0; i < f.n; i++) {
                ss += a[i] * a[i];
            }
            ss = ss / (float)f.n + lpu_bits_f32(f.imm);
            rms = sqrtf(ss);
            for (i = 0; i < f.n; i++) {
                d[i] = b[i] * (a[i] / rms);
            }
            break;
        }
        case LPU_OP_SOFTMAX:
            softmax_f32(fptr(e, f.dst), fptr(e, f.src0), f.n);
            break;
        case LPU_OP_ROPE:
            op_rope(e, &f);
            break;
        case LPU_OP_MATVEC:
            op_matvec(e, &f);
            break;
        case LPU_OP_MATVEC_Q8:
            op_matvec_q8(e, &f);
            break;
        case LPU_OP_ATTN:
            idx = r[f.rs];
            if (idx >= f.imm) {
                return fault(e, LPU_FAULT_INDEX,
                             "attn: position r%u = %u, context %u",
                             f.rs, idx, f.imm);
            }
            op_attn(e, &f, idx);
            break;
        case LPU_OP_ARGMAX:
            r[f.rd] = argmax_f32(fptr(e, f.src0), f.n);
            break;
        case LPU_OP_SAMPLE:
            v = op_sample(e, &f);
            r[f.rd] = v;
            break;
        case LPU_OP_EMIT:
            if ((f.imm & LPU_EMIT_IF_RT) && !r[f.rt]) {
                break;
            }
            if (io && io->emit && io->emit(io->opaque, r[f.rs], e->emitted)) {
                return fault(e, LPU_FAULT_STREAM,
                             "emit: stream full after %u tokens",
                             e->emitted);
            }
            e->emitted++;
            break;
        default:
            /* lpu_insn_check_fields() rejected every other opcode */
            return fault(e, LPU_FAULT_OPCODE, "unknown opcode 0x%02x", f.op);
        }
        e->cycles += lpu_insn_cycles_fields(&f);
        e->insns++;
        e->pc = next;
    }
    return LPU_ENGINE_RUNNING;
}
