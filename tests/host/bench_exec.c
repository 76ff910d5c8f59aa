// SPDX-License-Identifier: MIT
/*
 * bench_exec: host tokens per second of a compiled program (lpu-compile)
 * run through the card's EXEC path (lpu_exec_run(): parameter block, SG
 * stream, per-token host writes, progress callback, adaptive slices and
 * abort polling) against the engine run alone, as lpu-sim runs it.
 *
 * Usage: bench_exec PROGRAM [STEPS [ROUNDS]]
 *
 * Runs both paths ROUNDS times (default 3), alternately, from prompt token
 * 1, prints the best time of each and checks that both produce the same
 * tokens, cycles and instructions. Exit 0 when they agree.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpu_card.h"
#include "lpu_engine.h"
#include "lpu_exec.h"
#include "lpu_insn.h"
#include "lpu_program.h"

#define HOST_BASE       0x100000000ull
#define PAGE            4096u
#define WIN_BASE        0x10000u        /* not at 0: a real allocation */

struct bench_host {
    uint8_t *mem;
    uint64_t size;
    uint64_t writes, reads, progress, irqs;
    uint32_t coalesce;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bh_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
    struct bench_host *h = opaque;

    h->reads++;
    if (addr < HOST_BASE || addr - HOST_BASE + len > h->size) {
        return -1;
    }
    memcpy(buf, h->mem + (addr - HOST_BASE), len);
    return 0;
}

static int bh_write(void *opaque, uint64_t addr, const void *buf, size_t len)
{
    struct bench_host *h = opaque;

    h->writes++;
    if (addr < HOST_BASE || addr - HOST_BASE + len > h->size) {
        return -1;
    }
    /* pci_dma_rw() puts a full barrier before every access */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    memcpy(h->mem + (addr - HOST_BASE), buf, len);
    return 0;
}

static bool bh_no(void *opaque)
{
    (void)opaque;
    return false;
}

static void bh_progress(void *opaque, uint32_t tokens)
{
    struct bench_host *h = opaque;

    h->progress++;
    if (h->coalesce && tokens % h->coalesce == 0) {
        h->irqs++;
    }
}

struct ref_stream {
    uint32_t *tokens;
    uint32_t cap;
};

static int ref_emit(void *opaque, uint32_t token, uint32_t index)
{
    struct ref_stream *s = opaque;

    if (index >= s->cap) {
        return 1;
    }
    s->tokens[index] = token;
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_host h = { .coalesce = 1 };
    const struct lpu_card_host host = {
        .read_host = bh_read, .write_host = bh_write,
        .should_abort = bh_no, .opaque = &h,
    };
    const struct lpu_exec_ops ops = {
        .abort_requested = bh_no, .progress = bh_progress, .opaque = &h,
    };
    struct lpu_exec_result res;
    struct lpu_program *p;
    struct lpu_card card;
    struct lpu_hw_desc d;
    struct lpu_hw_cpl cpl;
    struct lpu_engine e;
    struct lpu_engine_args args = { 0 };
    struct ref_stream rs;
    struct lpu_engine_io io = { ref_emit, &rs };
    uint64_t wsize, sram, stream_bytes, sg_count, i;
    uint32_t steps = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 64;
    unsigned int rounds = argc > 3 ? (unsigned int)atoi(argv[3]) : 3, n;
    uint32_t prompt = 1;
    uint8_t *prm, *sg, *window;
    double t0, t, t_exec = 1e30, t_ref = 1e30;
    char err[256];
    int ok = 1;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_exec PROGRAM [STEPS [ROUNDS]]\n");
        return 2;
    }
    if (lpu_program_open(argv[1], 0, &p, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_exec: %s: %s\n", argv[1], err);
        return 1;
    }
    wsize = (p->note.sram_footprint + 63) & ~63ull;
    sram = (WIN_BASE + wsize + LPU_CARD_SRAM_ALIGN - 1) &
           ~(uint64_t)(LPU_CARD_SRAM_ALIGN - 1);
    if (sram < LPU_CARD_SRAM_MIN) {
        sram = LPU_CARD_SRAM_MIN;
    }
    if (lpu_card_init(&card, sram) != 0) {
        fprintf(stderr, "bench_exec: no memory for %" PRIu64 " bytes\n", sram);
        return 1;
    }

    /*
     * Host memory: page 0 the parameter block, then the SG list, then the
     * stream in 4 KiB pages given in reverse order (no two contiguous).
     */
    stream_bytes = LPU_STREAM_HEADER_SIZE + 4ull * steps;
    sg_count = (stream_bytes + PAGE - 1) / PAGE;
    h.size = PAGE + ((sg_count * 16 + PAGE - 1) / PAGE) * PAGE +
             sg_count * PAGE;
    h.mem = calloc(1, h.size);
    if (!h.mem) {
        return 1;
    }
    sg = h.mem + PAGE;
    for (i = 0; i < sg_count; i++) {
        uint64_t page = h.size - (i + 1) * PAGE;

        lpu_card_put_le64(sg + 16 * i, HOST_BASE + page);
        lpu_card_put_le64(sg + 16 * i + 8, PAGE);
    }
    prm = h.mem;
    lpu_card_put_le64(prm + 0, WIN_BASE);
    lpu_card_put_le64(prm + 8, wsize);
    lpu_card_put_le64(prm + 16, p->note.entry);
    lpu_card_put_le32(prm + 24, 1);             /* prompt_len */
    lpu_card_put_le32(prm + 28, steps);         /* budget */
    lpu_card_put_le64(prm + 48, HOST_BASE + PAGE);
    lpu_card_put_le32(prm + 56, (uint32_t)sg_count);
    lpu_card_put_le32(prm + 60, steps);
    memset(&d, 0, sizeof(d));
    d.opcode = LPU_OP_EXEC;
    lpu_card_put_le64(&d.exec.params_addr, HOST_BASE);
    lpu_card_put_le32(&d.exec.params_size, LPU_EXEC_PARAMS_SIZE);

    rs.cap = steps;
    rs.tokens = calloc(steps ? steps : 1, sizeof(uint32_t));
    if (!rs.tokens) {
        return 1;
    }
    args.prompt_len = 1;
    args.budget = steps;
    window = card.sram + WIN_BASE;
    memset(&e, 0, sizeof(e));
    for (n = 0; n < (rounds ? rounds : 1); n++) {
        /* through the card, on a freshly built window */
        if (lpu_program_fill_window(p, window, wsize) != 0) {
            fprintf(stderr, "bench_exec: cannot build the window\n");
            return 1;
        }
        lpu_put_le32(window + p->note.prompt_offset, prompt);
        h.writes = h.reads = h.progress = h.irqs = 0;
        t0 = now_s();
        lpu_exec_run(&card, &d, &host, &ops, &cpl, &res);
        t = now_s() - t0;
        t_exec = t < t_exec ? t : t_exec;

        /* the engine alone (as lpu-sim) */
        lpu_engine_fini(&e);
        if (lpu_program_fill_window(p, window, wsize) != 0) {
            return 1;
        }
        lpu_put_le32(window + p->note.prompt_offset, prompt);
        if (lpu_engine_init(&e, window, wsize, p->note.entry, &args) != 0) {
            return 1;
        }
        t0 = now_s();
        lpu_engine_run(&e, UINT64_MAX, &io);
        t = now_s() - t0;
        t_ref = t < t_ref ? t : t_ref;
    }

    printf("program: %s, window %" PRIu64 " bytes, %u steps, best of %u\n",
           argv[1], wsize, steps, rounds ? rounds : 1);
    printf("exec:   %u tokens in %.3f s = %.1f tok/s (status %u, %" PRIu64
           " slices, %" PRIu64 " insns, %" PRIu64 " host writes, %" PRIu64
           " host reads, %" PRIu64 " progress irqs)\n",
           res.tokens, t_exec, res.tokens / t_exec,
           lpu_card_get_le32(&cpl.status), res.slices, res.insns, h.writes,
           h.reads, h.irqs);
    printf("engine: %u tokens in %.3f s = %.1f tok/s\n", e.emitted, t_ref,
           e.emitted / t_ref);
    printf("exec/engine time: %.3f\n", t_exec / t_ref);

    if (lpu_card_get_le32(&cpl.status) != LPU_STS_OK ||
        e.status != LPU_ENGINE_HALTED || res.tokens != e.emitted ||
        res.cycles != e.cycles || res.insns != e.insns) {
        fprintf(stderr, "bench_exec: the runs differ (%s)\n", res.msg);
        ok = 0;
    }
    for (i = 0; ok && i < e.emitted; i++) {
        uint64_t off = LPU_STREAM_HEADER_SIZE + 4 * i;
        uint64_t page = h.size - (off / PAGE + 1) * PAGE;

        if (lpu_get_le32(h.mem + page + off % PAGE) != rs.tokens[i]) {
            fprintf(stderr, "bench_exec: token %" PRIu64 " differs\n", i);
            ok = 0;
        }
    }
    lpu_engine_fini(&e);
    free(rs.tokens);
    free(h.mem);
    lpu_card_fini(&card);
    lpu_program_free(p);
    return ok ? 0 : 1;
}
