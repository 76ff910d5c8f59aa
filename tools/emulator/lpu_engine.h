/* SPDX-License-Identifier: MIT */
/*
 * LPU engine: the emulated chip's compute. Runs an LPU program (ISA of
 * uapi/lpu/lpu_isa.h, specified in Documentation/isa.rst) inside an SRAM
 * window, with the cycle model and the fault rules of that specification.
 *
 * Plain C11 plus libm, no QEMU or glib types; unit-tested on the host
 * (tests/host/check_engine.c) and shared by the QEMU device and the
 * compiler's simulator.
 *
 * Guarantees:
 * - Deterministic: the same window contents, entry and arguments give the
 *   same registers, SRAM bytes, cycles and emitted tokens, however the run
 *   is sliced by lpu_engine_run()'s max_insns (a cycle limit included: the
 *   run stops after the same instruction).
 * - Safe: the engine never reads or writes outside [window, window +
 *   window_size), whatever the program. Every instruction passes
 *   lpu_insn_check_fields() before it runs and dynamic indices are checked
 *   against their bound; a failure stops the run with a fault.
 * - A guest mistake never aborts the process: it is a fault.
 *
 * Thread safety: one engine is driven by one thread at a time; distinct
 * engines are independent (the window bytes are shared memory: concurrent
 * writers are the caller's business).
 */
#ifndef LPU_ENGINE_H
#define LPU_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "lpu/lpu_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Arguments of a run, loaded into the registers at init (lpu_isa.h):
 * r1 = prompt_len, r2 = budget, r3 = f32 bits of temperature, r4 = f32
 * bits of top_p; the PRNG state starts at seed (LPU_PRNG_DEFAULT_SEED if
 * 0). The engine itself enforces no budget: the stream's capacity is the
 * emit callback's business (see struct lpu_engine_io).
 *
 * max_cycles: 0 for no limit; else the run stops with LPU_ENGINE_LIMIT
 * before the first instruction it would start with cycles >= max_cycles
 * (checked before every instruction, so the last one that ran may take
 * cycles past the limit by less than its own cost).
 */
struct lpu_engine_args {
    uint32_t prompt_len, budget;
    float temperature, top_p;
    uint64_t seed;
    uint64_t max_cycles;
};

/*
 * Token output. emit() is called once per token actually emitted, with the
 * token and its index in the run's stream (0, 1, ...: the value of
 * lpu_engine.emitted before the call). Non-zero means the stream is full:
 * the EMIT faults with LPU_FAULT_STREAM and the token does not count. With
 * io == NULL or emit == NULL, tokens are counted and dropped (never full).
 */
struct lpu_engine_io {
    int (*emit)(void *opaque, uint32_t token, uint32_t index);
    void *opaque;
};

enum lpu_engine_status {
    LPU_ENGINE_RUNNING,     /* max_insns reached: call lpu_engine_run again */
    LPU_ENGINE_HALTED,      /* a HALT ran */
    LPU_ENGINE_FAULT,       /* stopped by a fault (fault, fault_pc, msg) */
    LPU_ENGINE_LIMIT,       /* stopped at its cycle limit (args.max_cycles):
                             * pc is the next instruction, not run */
};

struct lpu_engine {
    /* ---- public, read-only ---- */
    uint32_t r[LPU_NUM_REGS];   /* scalar registers */
    uint64_t pc;                /* next instruction (the HALT after halting,
                                 * the faulting one after a fault, the one
                                 * not run after the cycle limit) */
    uint64_t cycles;            /* sum of lpu_insn_cycles() of the executed
                                 * instructions (a faulting one: not counted) */
    uint64_t insns;             /* instructions executed (incl. HALT) */
    uint64_t prng;              /* PRNG state */
    uint32_t emitted;           /* tokens emitted */
    enum lpu_engine_status status;
    enum lpu_fault fault;       /* LPU_FAULT_NONE unless status is FAULT */
    uint64_t fault_pc;          /* pc of the faulting instruction */
    char fault_msg[128];        /* one line, "" when no fault */

    /* ---- private ---- */
    uint8_t *window;
    uint64_t window_size;
    float *scratch;             /* scratch_len floats: ATTN scores, SAMPLE */
    void *cand;                 /* 2 * scratch_len top-p candidates */
    uint64_t scratch_len;
    uint64_t max_cycles;        /* args.max_cycles, 0: none */
};

/*
 * Prepare a run of the program at window offset @entry in @window
 * (@window_size bytes, 4-byte aligned). @args may be NULL (all zero). The
 * window is not read here: a bad @entry faults LPU_FAULT_PC at the first
 * lpu_engine_run(). Scratch for the largest SAMPLE/ATTN the window could
 * hold (at most LPU_INSN_MAX_SCRATCH elements) is reserved here, so a run
 * never allocates. @e is overwritten (lpu_engine_fini() a previous run
 * first); on failure it holds nothing to free. Returns 0, -EINVAL (@e NULL,
 * @window NULL with a non-zero size, or @window misaligned) or -ENOMEM.
 */
int lpu_engine_init(struct lpu_engine *e, uint8_t *window,
                    uint64_t window_size, uint64_t entry,
                    const struct lpu_engine_args *args);

/*
 * Execute at most @max_insns instructions (0: none; UINT64_MAX: no limit)
 * and return the status: RUNNING when @max_insns was reached first; HALTED,
 * FAULT or LIMIT otherwise (all final: later calls return them again
 * without running anything). The cycle limit is checked before the
 * @max_insns count, so a run that reached it returns LIMIT (not RUNNING)
 * at the end of the slice that reached it, even with @max_insns 0. @io may
 * be NULL.
 */
enum lpu_engine_status lpu_engine_run(struct lpu_engine *e,
                                      uint64_t max_insns,
                                      const struct lpu_engine_io *io);

/* Free the scratch. Safe on a zeroed or already finished engine. */
void lpu_engine_fini(struct lpu_engine *e);

#ifdef __cplusplus
}
#endif

#endif /* LPU_ENGINE_H */
