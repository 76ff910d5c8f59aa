/* SPDX-License-Identifier: MIT */
/*
 * LPU card core: the EXEC descriptor (parameter block, engine slices, token
 * stream). See lpu_exec.h for the contract.
 */
/* clock_gettime() under -std=c11 too */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "lpu_exec.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpu_engine.h"
#include "lpu_insn.h"

/* Descriptor byte offsets of the EXEC payload (lpu_hw.h) */
#define DESC_EXEC_PARAMS_ADDR   16
#define DESC_EXEC_PARAMS_SIZE   24
#define DESC_EXEC_RSVD          28
#define DESC_EXEC_RSVD2         32
#define DESC_EXEC_RSVD2_WORDS   4

/* Parameter block byte offsets */
#define P_WIN_BASE              0
#define P_WIN_SIZE              8
#define P_ENTRY                 16
#define P_PROMPT_LEN            24
#define P_BUDGET                28
#define P_TEMPERATURE           32
#define P_TOP_P                 36
#define P_SEED                  40
#define P_STREAM_SG_ADDR        48
#define P_STREAM_SG_COUNT       56
#define P_STREAM_CAPACITY       60
#define P_STREAM_SG_OFFSET      64
#define P_ABORT                 72
#define P_MAX_KCYCLES           76
#define P_RSVD                  80
#define P_RSVD_WORDS            6

/* Stream header byte offsets */
#define S_TOKENS                0
#define S_STATE                 4
#define S_FAULT                 8
#define S_FAULT_PC              12
#define S_CYCLES                16
#define S_INSNS                 24
#define S_FINAL_END             32      /* state..insns: bytes 4..31 */

#define EXEC_ALIGN              64      /* params, window, stream */

_Static_assert(offsetof(struct lpu_hw_desc, exec.params_addr) ==
               DESC_EXEC_PARAMS_ADDR, "params_addr");
_Static_assert(offsetof(struct lpu_hw_desc, exec.params_size) ==
               DESC_EXEC_PARAMS_SIZE, "params_size");
_Static_assert(offsetof(struct lpu_hw_desc, exec.rsvd) == DESC_EXEC_RSVD,
               "exec.rsvd");
_Static_assert(offsetof(struct lpu_hw_desc, exec.rsvd2) == DESC_EXEC_RSVD2,
               "exec.rsvd2");
_Static_assert(sizeof(struct lpu_hw_exec_params) == LPU_EXEC_PARAMS_SIZE,
               "params size");
_Static_assert(offsetof(struct lpu_hw_exec_params, entry) == P_ENTRY, "entry");
_Static_assert(offsetof(struct lpu_hw_exec_params, prompt_len) ==
               P_PROMPT_LEN, "prompt_len");
_Static_assert(offsetof(struct lpu_hw_exec_params, top_p) == P_TOP_P, "top_p");
_Static_assert(offsetof(struct lpu_hw_exec_params, seed) == P_SEED, "seed");
_Static_assert(offsetof(struct lpu_hw_exec_params, stream_sg_addr) ==
               P_STREAM_SG_ADDR, "stream_sg_addr");
_Static_assert(offsetof(struct lpu_hw_exec_params, stream_sg_count) ==
               P_STREAM_SG_COUNT, "stream_sg_count");
_Static_assert(offsetof(struct lpu_hw_exec_params, stream_capacity) ==
               P_STREAM_CAPACITY, "stream_capacity");
_Static_assert(offsetof(struct lpu_hw_exec_params, stream_sg_offset) ==
               P_STREAM_SG_OFFSET, "stream_sg_offset");
_Static_assert(offsetof(struct lpu_hw_exec_params, abort) == P_ABORT, "abort");
_Static_assert(offsetof(struct lpu_hw_exec_params, max_kcycles) ==
               P_MAX_KCYCLES, "max_kcycles");
_Static_assert(offsetof(struct lpu_hw_exec_params, rsvd) == P_RSVD, "rsvd");
_Static_assert(sizeof(struct lpu_hw_stream) == LPU_STREAM_HEADER_SIZE,
               "stream header size");
_Static_assert(offsetof(struct lpu_hw_stream, fault_pc) == S_FAULT_PC,
               "fault_pc");
_Static_assert(offsetof(struct lpu_hw_stream, cycles) == S_CYCLES, "cycles");
_Static_assert(offsetof(struct lpu_hw_stream, insns) == S_INSNS, "insns");

/* One contiguous host piece of the stream header */
struct hdr_seg {
    uint64_t addr;
    uint32_t off;           /* header offset of its first byte */
    uint32_t len;
};

/* State of one run */
struct exec_run {
    const struct lpu_card_host *host;
    const struct lpu_exec_ops *ops;
    uint64_t params_addr;

    /* the stream: stream_off bytes into the SG list's concatenation */
    uint64_t stream_off;
    uint32_t capacity;
    uint32_t tokens;
    /*
     * Forward cursor over the list for the tokens: the entry that holds
     * list byte ent_start .. ent_start + ent_len - 1 (ent_len 0: none yet).
     */
    struct lpu_card_sg_walk *walk;
    uint64_t ent_start, ent_addr, ent_len;
    /* The header's pieces, found once (an entry may be a single byte). */
    struct hdr_seg hdr[LPU_STREAM_HEADER_SIZE];
    unsigned int hdr_count;
    /* LPU_STS_OK, or why a stream access failed during the run */
    uint32_t stream_status;
    /* the running engine, for its cycles at a token */
    const struct lpu_engine *engine;
};

static uint64_t get64(const uint8_t *p, unsigned int off)
{
    return lpu_card_get_le64(p + off);
}

static uint32_t get32(const uint8_t *p, unsigned int off)
{
    return lpu_card_get_le32(p + off);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool host_should_abort(const struct lpu_card_host *host)
{
    return host->should_abort && host->should_abort(host->opaque);
}

/* ---- the stream ------------------------------------------------------- */

/*
 * Move the cursor to the entry holding list byte @pos (never backwards:
 * @pos >= ent_start). Returns LPU_STS_OK or why it cannot.
 */
static uint32_t cursor_seek(struct exec_run *x, uint64_t pos)
{
    uint64_t addr, len;

    while (pos - x->ent_start >= x->ent_len) {
        x->ent_start += x->ent_len;
        x->ent_len = 0;
        switch (lpu_card_sg_walk_next(x->walk, &addr, &len)) {
        case LPU_CARD_SG_ENTRY:
            break;
        case LPU_CARD_SG_READ_FAILED:
            return LPU_STS_DMA_ERROR;
        case LPU_CARD_SG_ABORTED:
            return LPU_STS_ABORTED;
        default:
            /* the list got shorter since it was checked */
            return LPU_STS_BAD_PARAMS;
        }
        if (!lpu_card_sg_entry_ok(addr, len)) {
            return LPU_STS_BAD_PARAMS;
        }
        x->ent_addr = addr;
        x->ent_len = len;
    }
    return LPU_STS_OK;
}

/* The host piece at list byte @pos, at most @len bytes long. */
static uint32_t cursor_piece(struct exec_run *x, uint64_t pos, uint64_t len,
                             uint64_t *addr, uint64_t *n)
{
    uint32_t st = cursor_seek(x, pos);
    uint64_t in = pos - x->ent_start;

    if (st != LPU_STS_OK) {
        return st;
    }
    *addr = x->ent_addr + in;
    *n = x->ent_len - in < len ? x->ent_len - in : len;
    return LPU_STS_OK;
}

/* Find the header's host pieces; the cursor then stands past them. */
static uint32_t stream_map_header(struct exec_run *x)
{
    uint64_t pos = x->stream_off, addr, n;
    uint32_t off = 0, st;

    x->hdr_count = 0;
    while (off < LPU_STREAM_HEADER_SIZE) {
        st = cursor_piece(x, pos, LPU_STREAM_HEADER_SIZE - off, &addr, &n);
        if (st != LPU_STS_OK) {
            return st;
        }
        x->hdr[x->hdr_count].addr = addr;
        x->hdr[x->hdr_count].off = off;
        x->hdr[x->hdr_count].len = (uint32_t)n;
        x->hdr_count++;
        off += (uint32_t)n;
        pos += n;
    }
    return LPU_STS_OK;
}

/* Write @len bytes at header offset @off. */
static uint32_t stream_write_header(struct exec_run *x, uint32_t off,
                                    const uint8_t *buf, uint32_t len)
{
    unsigned int i;

    for (i = 0; i < x->hdr_count && len; i++) {
        const struct hdr_seg *s = &x->hdr[i];
        uint32_t in, n;

        if (off >= s->off + s->len) {
            continue;
        }
        in = off - s->off;
        n = s->len - in < len ? s->len - in : len;
        if (x->host->write_host(x->host->opaque, s->addr + in, buf, n) != 0) {
            return LPU_STS_DMA_ERROR;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return LPU_STS_OK;
}

/* Write token @index (below the capacity) at stream offset 64 + 4 index. */
static uint32_t stream_write_token(struct exec_run *x, uint32_t index,
                                   uint32_t token)
{
    uint64_t pos = x->stream_off + LPU_STREAM_HEADER_SIZE + 4ull * index;
    uint8_t b[4], *p = b;
    uint64_t addr, n, left = sizeof(b);
    uint32_t st;

    lpu_card_put_le32(b, token);
    while (left) {
        st = cursor_piece(x, pos, left, &addr, &n);
        if (st != LPU_STS_OK) {
            return st;
        }
        if (x->host->write_host(x->host->opaque, addr, p, (size_t)n) != 0) {
            return LPU_STS_DMA_ERROR;
        }
        pos += n;
        p += n;
        left -= n;
    }
    return LPU_STS_OK;
}

/* Publish the cycles run so far (ops->progress_cycles). */
static void exec_progress_cycles(const struct exec_run *x)
{
    if (x->ops && x->ops->progress_cycles) {
        x->ops->progress_cycles(x->ops->opaque, x->engine->cycles);
    }
}

/* The engine's emit callback: token, then count, then progress. */
static int exec_emit(void *opaque, uint32_t token, uint32_t index)
{
    struct exec_run *x = opaque;
    uint8_t b[4];
    uint32_t st;

    if (index >= x->capacity) {
        return 1;                       /* LPU_FAULT_STREAM */
    }
    st = stream_write_token(x, index, token);
    if (st == LPU_STS_OK) {
        lpu_card_put_le32(b, index + 1);
        st = stream_write_header(x, S_TOKENS, b, sizeof(b));
    }
    if (st != LPU_STS_OK) {
        /* stops the engine (as a STREAM fault, reported as st) */
        x->stream_status = st;
        return 1;
    }
    x->tokens = index + 1;
    exec_progress_cycles(x);
    if (x->ops && x->ops->progress) {
        x->ops->progress(x->ops->opaque, x->tokens);
    }
    return 0;
}

/* ---- checks ----------------------------------------------------------- */

static uint32_t check_desc(const struct lpu_hw_desc *desc, uint64_t *params)
{
    const uint8_t *d = (const uint8_t *)desc;
    unsigned int i;

    if (!lpu_card_desc_header_ok(desc) || get32(d, DESC_EXEC_RSVD) != 0) {
        return LPU_STS_BAD_DESC;
    }
    for (i = 0; i < DESC_EXEC_RSVD2_WORDS; i++) {
        if (get64(d, DESC_EXEC_RSVD2 + 8 * i) != 0) {
            return LPU_STS_BAD_DESC;
        }
    }
    *params = get64(d, DESC_EXEC_PARAMS_ADDR);
    if (get32(d, DESC_EXEC_PARAMS_SIZE) != LPU_EXEC_PARAMS_SIZE ||
        *params % EXEC_ALIGN != 0 ||
        *params + (LPU_EXEC_PARAMS_SIZE - 1) < *params) {
        return LPU_STS_BAD_PARAMS;
    }
    return LPU_STS_OK;
}

/* The block's own fields (everything but the SG list's entries). */
static uint32_t check_params(const struct lpu_card *card, const uint8_t *p,
                             char *msg, size_t msglen)
{
    uint64_t win_base = get64(p, P_WIN_BASE);
    uint64_t win_size = get64(p, P_WIN_SIZE);
    uint64_t sg_addr = get64(p, P_STREAM_SG_ADDR);
    uint32_t sg_count = get32(p, P_STREAM_SG_COUNT);
    uint32_t capacity = get32(p, P_STREAM_CAPACITY);
    uint64_t sg_offset = get64(p, P_STREAM_SG_OFFSET);
    uint64_t bytes = LPU_STREAM_HEADER_SIZE + 4ull * capacity;
    const char *why = NULL;
    unsigned int i;

    for (i = 0; i < P_RSVD_WORDS; i++) {
        if (get64(p, P_RSVD + 8 * i) != 0) {
            why = "rsvd not 0";
        }
    }
    if (why) {
        /* reported first */
    } else if (win_base % EXEC_ALIGN != 0) {
        why = "win_base not 64-byte aligned";
    } else if (win_size == 0) {
        why = "win_size 0";
    } else if (win_base > card->sram_size ||
               win_size > card->sram_size - win_base) {
        why = "window past the end of SRAM";
    } else if (capacity == 0) {
        why = "stream_capacity 0";
    } else if (sg_offset % EXEC_ALIGN != 0) {
        why = "stream_sg_offset not 64-byte aligned";
    } else if (!lpu_card_sg_list_ok(sg_addr, sg_count)) {
        why = "stream SG list address or count invalid";
    } else if (sg_offset + bytes < sg_offset) {
        why = "stream range wraps";
    }
    if (why) {
        snprintf(msg, msglen, "bad parameter block: %s", why);
        return LPU_STS_BAD_PARAMS;
    }
    return LPU_STS_OK;
}

/* ---- the run ---------------------------------------------------------- */

/* Before a slice: reset, LPU_Q_ABORT, the block's abort word. */
static uint32_t exec_poll(struct exec_run *x, char *msg, size_t msglen)
{
    uint8_t b[4];

    if (host_should_abort(x->host)) {
        snprintf(msg, msglen, "aborted by a reset");
        return LPU_STS_ABORTED;
    }
    if (x->ops && x->ops->abort_requested &&
        x->ops->abort_requested(x->ops->opaque)) {
        snprintf(msg, msglen, "aborted by LPU_Q_ABORT");
        return LPU_STS_ABORTED;
    }
    if (x->host->read_host(x->host->opaque, x->params_addr + P_ABORT, b,
                           sizeof(b)) != 0) {
        snprintf(msg, msglen, "re-reading the abort word failed");
        return LPU_STS_DMA_ERROR;
    }
    if (lpu_card_get_le32(b) != 0) {
        snprintf(msg, msglen, "aborted by the parameter block's abort word");
        return LPU_STS_ABORTED;
    }
    return LPU_STS_OK;
}

/* Next adaptive slice length after one of @n instructions took @ns. */
static uint64_t next_slice(uint64_t n, uint64_t ns)
{
    if (ns < LPU_EXEC_SLICE_TARGET_NS / 2 && n < LPU_EXEC_SLICE_MAX) {
        return n * 2;
    }
    if (ns > LPU_EXEC_SLICE_TARGET_NS * 2 && n > 1) {
        return n / 2;
    }
    return n;
}

static uint32_t run_program(struct lpu_card *card, const uint8_t *p,
                            struct exec_run *x, struct lpu_exec_result *res)
{
    const struct lpu_engine_io io = { .emit = exec_emit, .opaque = x };
    struct lpu_engine_args args;
    struct lpu_engine e;
    enum lpu_engine_status es = LPU_ENGINE_RUNNING;
    uint64_t slice, t0;
    uint8_t hdr[LPU_STREAM_HEADER_SIZE];
    uint32_t status, state, fault = LPU_FAULT_NONE;
    bool adaptive;

    args.prompt_len = get32(p, P_PROMPT_LEN);
    args.budget = get32(p, P_BUDGET);
    memcpy(&args.temperature, p + P_TEMPERATURE, 4);
    memcpy(&args.top_p, p + P_TOP_P, 4);
    args.seed = get64(p, P_SEED);
    args.max_cycles = (uint64_t)get32(p, P_MAX_KCYCLES) * 1000;
    if (lpu_engine_init(&e, card->sram + get64(p, P_WIN_BASE),
                        get64(p, P_WIN_SIZE), get64(p, P_ENTRY), &args) != 0) {
        snprintf(res->msg, sizeof(res->msg),
                 "cannot allocate the engine's scratch");
        return LPU_STS_DMA_ERROR;
    }
    x->engine = &e;

    memset(hdr, 0, sizeof(hdr));
    lpu_card_put_le32(hdr + S_STATE, LPU_STREAM_RUNNING);
    status = stream_write_header(x, 0, hdr, sizeof(hdr));
    if (status != LPU_STS_OK) {
        snprintf(res->msg, sizeof(res->msg),
                 "writing the stream header failed");
        goto out;
    }

    adaptive = !x->ops || !x->ops->slice_insns;
    slice = adaptive ? LPU_EXEC_SLICE_START : x->ops->slice_insns;
    for (;;) {
        status = exec_poll(x, res->msg, sizeof(res->msg));
        if (status != LPU_STS_OK) {
            break;
        }
        t0 = adaptive ? now_ns() : 0;
        es = lpu_engine_run(&e, slice, &io);
        res->slices++;
        exec_progress_cycles(x);
        if (es != LPU_ENGINE_RUNNING) {
            break;
        }
        if (adaptive) {
            slice = next_slice(slice, now_ns() - t0);
        }
    }

    if (x->stream_status == LPU_STS_ABORTED) {
        /* a reset while the SG list was read for a token */
        status = LPU_STS_ABORTED;
        snprintf(res->msg, sizeof(res->msg), "aborted by a reset");
    } else if (x->stream_status != LPU_STS_OK) {
        /* a stream access failed inside EMIT: no more stream writes */
        status = x->stream_status;
        snprintf(res->msg, sizeof(res->msg),
                 "stream access for token %u failed", e.emitted);
        goto out;
    }
    if (status == LPU_STS_DMA_ERROR) {
        goto out;
    }
    if (status == LPU_STS_ABORTED) {
        state = LPU_STREAM_ABORTED;
    } else if (es == LPU_ENGINE_HALTED) {
        state = LPU_STREAM_HALTED;
        status = LPU_STS_OK;
        res->msg[0] = '\0';
    } else if (es == LPU_ENGINE_LIMIT) {
        state = LPU_STREAM_ABORTED;
        status = LPU_STS_CYCLE_LIMIT;
        snprintf(res->msg, sizeof(res->msg),
                 "stopped at its cycle limit of %" PRIu64 " cycles (%"
                 PRIu64 " cycles run)", args.max_cycles, e.cycles);
    } else {
        state = LPU_STREAM_FAULT;
        status = LPU_STS_FAULT;
        fault = e.fault;
        /* the engine's message starts with the pc */
        snprintf(res->msg, sizeof(res->msg), "fault %s: %s",
                 lpu_fault_name(e.fault), e.fault_msg);
    }
    lpu_card_put_le32(hdr + S_STATE, state);
    lpu_card_put_le32(hdr + S_FAULT, fault);
    lpu_card_put_le32(hdr + S_FAULT_PC,
                      fault ? (uint32_t)e.fault_pc : 0);
    lpu_card_put_le64(hdr + S_CYCLES, e.cycles);
    lpu_card_put_le64(hdr + S_INSNS, e.insns);
    res->state = state;
    res->fault = fault;
    res->fault_pc = fault ? e.fault_pc : 0;
    if (stream_write_header(x, S_STATE, hdr + S_STATE,
                            S_FINAL_END - S_STATE) != LPU_STS_OK) {
        status = LPU_STS_DMA_ERROR;
        snprintf(res->msg, sizeof(res->msg),
                 "writing the final stream header failed");
    }
out:
    res->cycles = e.cycles;
    res->insns = e.insns;
    res->tokens = x->tokens;
    x->engine = NULL;
    lpu_engine_fini(&e);
    return status;
}

/* Check the stream SG list and find the header; allocates x->walk. */
static uint32_t stream_open(struct exec_run *x, const uint8_t *p, char *msg,
                            size_t msglen)
{
    uint64_t sg_addr = get64(p, P_STREAM_SG_ADDR);
    uint32_t sg_count = get32(p, P_STREAM_SG_COUNT);
    uint32_t status;

    x->stream_off = get64(p, P_STREAM_SG_OFFSET);
    x->capacity = get32(p, P_STREAM_CAPACITY);
    /* 4 KiB of batch: keep it off small thread stacks */
    x->walk = malloc(sizeof(*x->walk));
    if (!x->walk) {
        snprintf(msg, msglen, "cannot allocate the SG walk");
        return LPU_STS_DMA_ERROR;
    }
    status = lpu_card_sg_check(x->walk, x->host, sg_addr, sg_count,
                               x->stream_off + LPU_STREAM_HEADER_SIZE +
                               4ull * x->capacity);
    if (status == LPU_STS_SG_INVALID) {
        snprintf(msg, msglen, "bad parameter block: stream SG list has a "
                 "bad entry or is too short for %u tokens", x->capacity);
        return LPU_STS_BAD_PARAMS;
    }
    if (status != LPU_STS_OK) {
        snprintf(msg, msglen, "reading the stream SG list %s",
                 status == LPU_STS_ABORTED ? "aborted" : "failed");
        return status;
    }
    lpu_card_sg_walk_init(x->walk, x->host, sg_addr, sg_count);
    x->ent_start = 0;
    x->ent_len = 0;
    status = stream_map_header(x);
    if (status != LPU_STS_OK) {
        snprintf(msg, msglen, "reading the stream SG list failed");
    }
    return status;
}

uint32_t lpu_exec_run(struct lpu_card *card, const struct lpu_hw_desc *desc,
                      const struct lpu_card_host *host,
                      const struct lpu_exec_ops *ops,
                      struct lpu_hw_cpl *cpl, struct lpu_exec_result *res)
{
    struct lpu_exec_result local;
    uint8_t p[LPU_EXEC_PARAMS_SIZE];
    struct exec_run *x = NULL;
    uint64_t params = 0, cycles = 0, info = 0;
    uint32_t status;

    if (!res) {
        res = &local;
    }
    memset(res, 0, sizeof(*res));
    res->state = LPU_STREAM_RUNNING;

    status = check_desc(desc, &params);
    if (status == LPU_STS_BAD_DESC) {
        snprintf(res->msg, sizeof(res->msg),
                 "unknown flag or reserved field not 0");
    } else if (status != LPU_STS_OK) {
        snprintf(res->msg, sizeof(res->msg),
                 "params_size not %u or params_addr 0x%" PRIx64
                 " not 64-byte aligned", LPU_EXEC_PARAMS_SIZE, params);
    } else if (host->read_host(host->opaque, params, p, sizeof(p)) != 0) {
        status = LPU_STS_DMA_ERROR;
        snprintf(res->msg, sizeof(res->msg),
                 "reading the parameter block at 0x%" PRIx64 " failed",
                 params);
    } else {
        status = check_params(card, p, res->msg, sizeof(res->msg));
    }
    if (status == LPU_STS_OK) {
        x = calloc(1, sizeof(*x));
        if (!x) {
            snprintf(res->msg, sizeof(res->msg), "out of memory");
            status = LPU_STS_DMA_ERROR;
        }
    }
    if (status == LPU_STS_OK) {
        x->host = host;
        x->ops = ops;
        x->params_addr = params;
        status = stream_open(x, p, res->msg, sizeof(res->msg));
    }
    if (status == LPU_STS_OK) {
        status = run_program(card, p, x, res);
        cycles = res->cycles;
        info = res->tokens;
        if (status == LPU_STS_FAULT) {
            info |= (uint64_t)(res->fault & 0xff) << 32;
        }
    }
    if (x) {
        free(x->walk);
        free(x);
    }
    lpu_card_fill_cpl(cpl, desc, status, cycles, info);
    return status;
}
