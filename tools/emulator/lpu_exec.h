/* SPDX-License-Identifier: MIT */
/*
 * LPU card core: the EXEC descriptor. Reads and checks the parameter block,
 * runs the program on the engine (lpu_engine.h) over its SRAM window and
 * writes the token stream (struct lpu_hw_stream of lpu_hw.h) to host
 * memory through the card's host callbacks.
 *
 * Plain C11 plus POSIX clock_gettime(), no QEMU or glib types, so it builds
 * and is unit-tested on the host (tests/host/check_exec.c). The device glue
 * (lpu_pci.c) calls lpu_exec_run() from a queue's worker thread.
 *
 * Every host access goes through struct lpu_card_host; the engine touches
 * nothing outside the window. Guest mistakes never abort: they become a
 * status in the completion record.
 */
#ifndef LPU_EXEC_H
#define LPU_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "lpu_card.h"

/*
 * The engine runs in slices of instructions; between two slices the run
 * checks for aborts and resets. An adaptive slice starts at
 * LPU_EXEC_SLICE_START instructions and is doubled or halved (within
 * [1, LPU_EXEC_SLICE_MAX]) so that a slice takes about
 * LPU_EXEC_SLICE_TARGET_NS of host time.
 */
#define LPU_EXEC_SLICE_START        64u
#define LPU_EXEC_SLICE_MAX          (1u << 16)
#define LPU_EXEC_SLICE_TARGET_NS    1000000u

/*
 * Hooks of the device glue, all optional (@ops itself may be NULL).
 *
 * @abort_requested: polled before every slice; true stops the program with
 *   LPU_STS_ABORTED (the queue's LPU_Q_ABORT register).
 * @progress: called after token k was written and the stream header's
 *   tokens field set to k + 1, with @tokens = k + 1 (once per token, in
 *   order, from the calling thread).
 * @progress_cycles: called with the engine's cycles so far (never
 *   decreasing) after every slice, the last one included, and after every
 *   token, just before @progress (the cycles of the instructions before
 *   that token's EMIT). For the LPU_Q_PROGRESS_KCYCLES register.
 * @opaque: passed to all three.
 * @slice_insns: instructions per slice; 0 selects the adaptive slice.
 */
struct lpu_exec_ops {
    bool (*abort_requested)(void *opaque);
    void (*progress)(void *opaque, uint32_t tokens);
    void (*progress_cycles)(void *opaque, uint64_t cycles);
    void *opaque;
    uint64_t slice_insns;
};

/* What happened, for logs and tests (the completion record has the rest). */
struct lpu_exec_result {
    uint32_t tokens;            /* tokens written to the stream */
    uint32_t state;             /* enum lpu_hw_stream_state reached */
    uint32_t fault;             /* enum lpu_fault, 0 unless state FAULT */
    uint64_t fault_pc;          /* window offset of the faulting insn */
    uint64_t cycles;            /* engine cycles */
    uint64_t insns;             /* engine instructions */
    uint64_t slices;            /* lpu_engine_run() calls */
    char msg[192];              /* one line: why it stopped, "" if OK */
};

/*
 * Run the EXEC descriptor @desc on @card, fill the completion record @cpl
 * (little-endian) and return its status. @res may be NULL.
 *
 * Checks, in this order (the first failure gives the status; cycles and
 * info 0, nothing written to the host):
 *   unknown flag, rsvd0, rsvd1, exec.rsvd or exec.rsvd2 non-zero  BAD_DESC
 *   params_size != LPU_EXEC_PARAMS_SIZE, params_addr not 64-byte
 *   aligned or its 128 bytes wrapping past 2^64                   BAD_PARAMS
 *   reading the parameter block fails                              DMA_ERROR
 *   params rsvd[] non-zero; win_base not 64-byte aligned,
 *   win_size 0, the window past the end of SRAM (no wrap);
 *   stream_capacity 0; stream_sg_offset not 64-byte aligned;
 *   stream SG list fields bad (lpu_card_sg_list_ok()); stream range
 *   stream_sg_offset + 64 + 4 * stream_capacity wrapping          BAD_PARAMS
 *   walking the whole stream SG list: a bad entry or fewer bytes
 *   than that range                                               BAD_PARAMS
 *     (the list cannot be read: DMA_ERROR; should_abort: ABORTED)
 *   the engine's scratch cannot be allocated                       DMA_ERROR
 * The entry point is not checked here: a bad one is the program's
 * LPU_FAULT_PC at its first instruction.
 *
 * Then the run:
 *   1. the stream header is written: tokens 0, state RUNNING, every other
 *      field 0 (failure: DMA_ERROR);
 *   2. the engine runs slice by slice from entry with r1..r4 = prompt_len,
 *      budget, temperature, top_p and the seed, and max_kcycles * 1000 as
 *      its cycle limit (max_kcycles 0: none). Before every slice:
 *      host->should_abort (queue or device reset), ops->abort_requested
 *      (LPU_Q_ABORT) and the parameter block's abort word, re-read from
 *      host memory (failure: DMA_ERROR), each stop the run as ABORTED
 *      (should_abort also when the stream SG list is read for a token);
 *      after every slice, ops->progress_cycles(the engine's cycles);
 *   3. each token k (k < stream_capacity) is written at stream offset
 *      64 + 4k, then the header's tokens = k + 1, then
 *      ops->progress_cycles(cycles so far), then ops->progress(k + 1).
 *      A token past the capacity is the engine's LPU_FAULT_STREAM;
 *   4. when the program stops, the header's state, fault, fault_pc (the
 *      low 32 bits), cycles and insns are written (bytes 4..31) and the
 *      completion is: HALT -> OK; a fault -> FAULT, info = tokens |
 *      fault << 32; an abort -> ABORTED, info = tokens; the cycle limit
 *      (the engine's LPU_ENGINE_LIMIT) -> state ABORTED, status
 *      CYCLE_LIMIT, info = tokens. Cycles: the engine's cycles in every
 *      case (at the limit: at least the limit, less than the limit plus
 *      the cost of the last instruction that ran).
 * A host access that fails during the run (a token, the header, re-reading
 * abort or the stream SG list) stops it with DMA_ERROR, info = tokens
 * written, and nothing more is written to the stream (its state may still
 * read RUNNING). A stream SG entry that became invalid since the check (the
 * guest rewrote the list) gives BAD_PARAMS the same way.
 *
 * Host writes are issued in program order; the glue's write_host must make
 * each one visible before the next (pci_dma_rw() does: it is preceded by a
 * full barrier), so a reader that sees tokens == k may read token[0..k-1].
 */
uint32_t lpu_exec_run(struct lpu_card *card, const struct lpu_hw_desc *desc,
                      const struct lpu_card_host *host,
                      const struct lpu_exec_ops *ops,
                      struct lpu_hw_cpl *cpl, struct lpu_exec_result *res);

#endif /* LPU_EXEC_H */
