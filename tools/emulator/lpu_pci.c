/*
 * Emulated LPU inference card: QEMU PCIe device glue.
 *
 * The register map, descriptor and completion formats are the contract in
 * uapi/lpu/lpu_hw.h; the card core (lpu_card.c) validates and runs
 * descriptors, lpu_exec.c runs EXEC (programs, on the engine of
 * lpu_engine.c). This file holds the PCI side: BAR0 registers,
 * MSI-X/MSI/INTx, one worker thread per queue, resets.
 *
 * Threads and locks:
 * - MMIO handlers, config writes, resets and the interrupt bottom half run
 *   with the BQL held.
 * - Each queue has a worker thread (never the vCPU thread) that fetches
 *   descriptors, runs them through the card core and writes completions.
 *   It hands interrupts to a bottom half, which delivers them under the
 *   BQL, and does its DMA without the BQL (a DMA that hits MMIO takes it
 *   inside the memory core). A synchronous reset, which holds the BQL,
 *   bumps the queue's generation and waits (bounded) for the worker to
 *   leave its current chunk. An EXEC checks the generation between engine
 *   slices (about 1 ms of host time each), so a reset waits at most a slice.
 * - Behind a vIOMMU (-device intel-iommu) a translation fault injects an
 *   interrupt, which needs the BQL, so there every DMA runs with the BQL
 *   taken and the generation re-checked under it; a reset then needs no
 *   wait: while it holds the BQL no DMA of the queue is in flight, and
 *   none of the aborted descriptor starts afterwards.
 * - LpuState.lock protects all register state. Lock order: BQL -> lock.
 *   DMA (descriptor fetch, data, completion write) never holds the lock.
 *
 * Copyright (c) 2026 The lpu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/thread.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qemu/atomic.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "hw/resettable.h"
#include "migration/vmstate.h"
#include "system/dma.h"

#include "lpu_card.h"
#include "lpu_exec.h"

#define TYPE_LPU_PCI "lpu-pci"
OBJECT_DECLARE_SIMPLE_TYPE(LpuState, LPU_PCI)

#define LPU_DEFAULT_SRAM_SIZE   (230 * MiB)
#define LPU_DEFAULT_QUEUES      4
#define LPU_RESET_TIMEOUT_MS    2000
#define LPU_RING_ALIGN          4096

/* Telemetry model (deterministic) */
#define LPU_TEMP_IDLE           40000   /* milli-degrees C */
#define LPU_TEMP_PER_QUEUE      8000
#define LPU_POWER_IDLE          28000   /* mW */
#define LPU_POWER_PER_QUEUE     45000
#define LPU_TEMP_PER_EXEC       12000   /* a queue running a program */
#define LPU_POWER_PER_EXEC      120000

typedef struct LpuQueue {
    struct LpuState *s;
    unsigned int index;
    QemuThread thread;
    QemuCond work_cond;         /* worker waits here for work, with lock */

    /* Register state, protected by LpuState.lock */
    uint64_t ring_base;
    uint64_t cpl_base;
    uint32_t ring_size;
    uint32_t head;
    uint32_t tail;
    bool enabled;
    bool halted;
    uint64_t cpl_seq;
    uint32_t cpl_count;
    uint32_t err_count;
    /* interrupt every irq_coalesce tokens of an EXEC (0: at completion) */
    uint32_t irq_coalesce;
    /* tokens emitted by the EXEC of seqno progress_seq (the last one) */
    uint32_t progress;
    uint64_t progress_seq;
    /* cycles that EXEC ran so far / 1000, low 32 bits (PROGRESS_KCYCLES) */
    uint32_t progress_kcycles;
    /* an EXEC runs now; LPU_Q_ABORT was written while it ran */
    bool exec_running;
    bool abort_req;
    /* the last completed descriptor failed with CHAIN set: skip the next */
    bool chain_failed;
    /* The worker is between fetching a descriptor and publishing it */
    bool in_desc;
    /* gen when that descriptor started: once it differs, it was aborted */
    uint32_t desc_gen;
    /*
     * Bumped (under lock) by every queue reset; the worker compares it,
     * also without the lock, with the value it started the descriptor at.
     */
    uint32_t gen;
} LpuQueue;

struct LpuState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    QEMUBH *irq_bh;

    /* Properties */
    uint64_t sram_size;
    uint32_t nr_queues;

    struct lpu_card card;
    /* DMA goes through a vIOMMU: take the BQL around each access */
    bool dma_bql;

    QemuMutex lock;
    QemuCond idle_cond;         /* a worker cleared in_desc, with lock */
    bool stopping;              /* unrealize: workers exit */
    bool threads_started;
    /*
     * Unrealized: a vCPU with a stale TLB entry may still reach the MMIO
     * handlers until the object is finalized; they then do nothing. The
     * lock, the conditions and SRAM live until finalize for that reason.
     */
    bool unrealized;

    /* Register state, protected by lock */
    uint32_t irq_cause;
    uint32_t irq_mask;
    uint32_t irq_notify;        /* sources the bottom half must signal */
    uint32_t event;
    uint32_t scratch;
    uint64_t clear_base;
    uint64_t clear_len;
    uint32_t clear_ctrl;

    LpuQueue queues[LPU_MAX_QUEUES];
};

/* Per-descriptor context for the card core's host callbacks */
typedef struct LpuDmaCtx {
    LpuQueue *q;
    uint32_t gen;
} LpuDmaCtx;

static const char *const lpu_status_names[] = {
    [LPU_STS_OK] = "OK",
    [LPU_STS_UNSUPPORTED] = "UNSUPPORTED",
    [LPU_STS_BAD_DESC] = "BAD_DESC",
    [LPU_STS_SRAM_RANGE] = "SRAM_RANGE",
    [LPU_STS_SG_INVALID] = "SG_INVALID",
    [LPU_STS_DMA_ERROR] = "DMA_ERROR",
    [LPU_STS_ABORTED] = "ABORTED",
    [LPU_STS_SKIPPED] = "SKIPPED",
    [LPU_STS_FAULT] = "FAULT",
    [LPU_STS_BAD_PARAMS] = "BAD_PARAMS",
    [LPU_STS_CYCLE_LIMIT] = "CYCLE_LIMIT",
};

/* ---- interrupts ------------------------------------------------------- */

static uint32_t lpu_irq_valid_bits(LpuState *s)
{
    return MAKE_64BIT_MASK(0, s->nr_queues) | LPU_IRQ_EVENT;
}

/*
 * Signal @notify sources (MSI-X: one message per source on its vector; MSI:
 * one message) and set the INTx level from @level. BQL held, lock not held.
 */
static void lpu_irq_deliver(LpuState *s, uint32_t notify, bool level)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool msix = msix_enabled(pdev);
    bool msi = !msix && msi_enabled(pdev);

    if (msix) {
        while (notify) {
            unsigned int bit = ctz32(notify);

            notify &= notify - 1;
            msix_notify(pdev, bit == 31 ? s->nr_queues : bit);
        }
    } else if (msi && notify) {
        msi_notify(pdev, 0);
    }
    pci_set_irq(pdev, !msix && !msi && level);
}

/* The INTx level, from the registers. lock held. */
static bool lpu_irq_level_locked(LpuState *s)
{
    return (s->irq_cause & s->irq_mask) != 0;
}

/* Set cause bits and have the bottom half signal them. lock held. */
static void lpu_irq_raise_locked(LpuState *s, uint32_t bits)
{
    s->irq_cause |= bits;
    s->irq_notify |= bits;
    qemu_bh_schedule(s->irq_bh);
}

static void lpu_irq_bh(void *opaque)
{
    LpuState *s = opaque;
    uint32_t notify;
    bool level;

    qemu_mutex_lock(&s->lock);
    notify = s->irq_notify & s->irq_mask;
    s->irq_notify = 0;
    level = lpu_irq_level_locked(s);
    qemu_mutex_unlock(&s->lock);

    lpu_irq_deliver(s, notify, level);
}

/*
 * Device event: record it, halt the queue, raise LPU_IRQ_EVENT. lock held.
 */
static void lpu_queue_event_locked(LpuQueue *q, enum lpu_hw_event code)
{
    LpuState *s = q->s;

    s->event = code | (q->index << LPU_EVENT_QUEUE_SHIFT);
    q->halted = true;
    lpu_irq_raise_locked(s, LPU_IRQ_EVENT);
}

/* ---- queues ----------------------------------------------------------- */

static bool lpu_ring_config_ok(uint64_t ring_base, uint64_t cpl_base,
                               uint32_t size)
{
    return size >= LPU_RING_SIZE_MIN && size <= LPU_RING_SIZE_MAX &&
           is_power_of_2(size) &&
           ring_base != 0 && ring_base % LPU_RING_ALIGN == 0 &&
           cpl_base != 0 && cpl_base % LPU_RING_ALIGN == 0;
}

static bool lpu_queue_busy_locked(LpuQueue *q)
{
    return q->head != q->tail || (q->in_desc && q->desc_gen == q->gen);
}

static bool lpu_queue_runnable_locked(LpuQueue *q)
{
    return q->enabled && !q->halted && q->head != q->tail;
}

static void lpu_queue_kick_locked(LpuQueue *q)
{
    if (lpu_queue_runnable_locked(q)) {
        qemu_cond_signal(&q->work_cond);
    }
}

/*
 * Abort the queue's in-flight descriptor: its completion is not written and
 * HEAD does not move past it. Then lpu_queue_abort_wait_locked().
 */
static void lpu_queue_abort_locked(LpuQueue *q)
{
    qatomic_set(&q->gen, q->gen + 1);
    q->enabled = false;
}

/*
 * Wait until @deadline (QEMU_CLOCK_REALTIME ms) for the worker to leave an
 * aborted descriptor, which it does at the next chunk boundary. BQL and
 * lock held.
 */
static void lpu_queue_abort_wait_locked(LpuQueue *q, int64_t deadline)
{
    LpuState *s = q->s;

    if (!q->in_desc || !s->threads_started || s->dma_bql ||
        qemu_thread_is_self(&q->thread)) {
        /*
         * Nothing to wait for: idle; or every DMA runs under the BQL,
         * which we hold; or a DMA of this very worker hit our BAR. The
         * worker drops the descriptor when it sees the new generation.
         */
        return;
    }
    while (q->in_desc) {
        int64_t left = deadline - qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

        if (left <= 0 ||
            !qemu_cond_timedwait(&s->idle_cond, &s->lock, (int)left)) {
            if (q->in_desc) {
                qemu_log_mask(LOG_GUEST_ERROR,
                              "lpu: queue %u: worker did not stop within "
                              "%d ms of a reset; its descriptor will be "
                              "dropped\n", q->index, LPU_RESET_TIMEOUT_MS);
            }
            break;
        }
    }
}

static int64_t lpu_reset_deadline(void)
{
    return qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + LPU_RESET_TIMEOUT_MS;
}

/* Queue state after a reset; the ring configuration is kept. lock held. */
static void lpu_queue_clear_locked(LpuQueue *q)
{
    q->head = 0;
    q->tail = 0;
    q->enabled = false;
    q->halted = false;
    q->cpl_seq = 0;
    q->cpl_count = 0;
    q->err_count = 0;
    q->chain_failed = false;
    q->progress = 0;
    q->progress_seq = 0;
    q->progress_kcycles = 0;
    q->abort_req = false;
}

/* Queue reset (Q_CTRL.RESET): the ring configuration survives. */
static void lpu_queue_reset_locked(LpuQueue *q)
{
    lpu_queue_abort_locked(q);
    lpu_queue_abort_wait_locked(q, lpu_reset_deadline());
    lpu_queue_clear_locked(q);
}

static bool lpu_dma_should_abort(void *opaque)
{
    LpuDmaCtx *ctx = opaque;

    return qatomic_read(&ctx->q->gen) != ctx->gen ||
           qatomic_read(&ctx->q->s->stopping);
}

/*
 * One DMA access for the worker's current descriptor. Returns 0, or -1 if
 * the access failed or (vIOMMU case) the descriptor was aborted.
 */
static int lpu_dma_rw(LpuDmaCtx *ctx, uint64_t addr, void *buf, size_t len,
                      DMADirection dir)
{
    LpuState *s = ctx->q->s;
    MemTxResult r;

    if (s->dma_bql) {
        bql_lock();
        if (lpu_dma_should_abort(ctx)) {
            bql_unlock();
            return -1;
        }
    }
    r = pci_dma_rw(PCI_DEVICE(s), addr, buf, len, dir,
                   MEMTXATTRS_UNSPECIFIED);
    if (s->dma_bql) {
        bql_unlock();
    }
    return r == MEMTX_OK ? 0 : -1;
}

static int lpu_dma_read_host(void *opaque, uint64_t addr, void *buf,
                             size_t len)
{
    return lpu_dma_rw(opaque, addr, buf, len, DMA_DIRECTION_TO_DEVICE);
}

static int lpu_dma_write_host(void *opaque, uint64_t addr, const void *buf,
                              size_t len)
{
    return lpu_dma_rw(opaque, addr, (void *)buf, len,
                      DMA_DIRECTION_FROM_DEVICE);
}

/* EXEC, between two slices: was LPU_Q_ABORT written? */
static bool lpu_exec_abort_requested(void *opaque)
{
    LpuDmaCtx *ctx = opaque;

    return qatomic_read(&ctx->q->abort_req);
}

/*
 * EXEC: token @tokens - 1 and the stream's count are in host memory.
 * Publish the count and raise the queue's interrupt every IRQ_COALESCE
 * tokens, as a completion does.
 */
static void lpu_exec_progress(void *opaque, uint32_t tokens)
{
    LpuDmaCtx *ctx = opaque;
    LpuQueue *q = ctx->q;
    LpuState *s = q->s;

    qemu_mutex_lock(&s->lock);
    if (q->gen == ctx->gen) {
        q->progress = tokens;
        if (q->irq_coalesce && tokens % q->irq_coalesce == 0) {
            lpu_irq_raise_locked(s, LPU_IRQ_QUEUE(q->index));
        }
    }
    qemu_mutex_unlock(&s->lock);
}

/*
 * EXEC, after a slice or a token: publish the cycles run so far, in
 * thousands (PROGRESS_KCYCLES).
 */
static void lpu_exec_progress_cycles(void *opaque, uint64_t cycles)
{
    LpuDmaCtx *ctx = opaque;
    LpuQueue *q = ctx->q;
    LpuState *s = q->s;

    qemu_mutex_lock(&s->lock);
    if (q->gen == ctx->gen) {
        q->progress_kcycles = (uint32_t)(cycles / 1000);
    }
    qemu_mutex_unlock(&s->lock);
}

/*
 * Run the descriptor at HEAD. Called and returns with lock held; drops it
 * around every DMA and around the descriptor's execution.
 */
static void lpu_queue_run_one_locked(LpuQueue *q)
{
    LpuState *s = q->s;
    LpuDmaCtx ctx = { .q = q, .gen = q->gen };
    const struct lpu_card_host host = {
        .read_host = lpu_dma_read_host,
        .write_host = lpu_dma_write_host,
        .should_abort = lpu_dma_should_abort,
        .opaque = &ctx,
    };
    uint64_t ring_base = q->ring_base;
    uint64_t cpl_base = q->cpl_base;
    uint32_t size = q->ring_size;
    uint32_t head = q->head;
    const struct lpu_exec_ops exec_ops = {
        .abort_requested = lpu_exec_abort_requested,
        .progress = lpu_exec_progress,
        .progress_cycles = lpu_exec_progress_cycles,
        .opaque = &ctx,
    };
    struct lpu_exec_result res = { .msg = "" };
    struct lpu_hw_desc desc;
    struct lpu_hw_cpl cpl;
    uint32_t status;
    bool skip, exec;
    int r;

    /* The ring registers only change while disabled; check anyway. */
    if (!lpu_ring_config_ok(ring_base, cpl_base, size) || head >= size) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: ring configuration changed under "
                      "pending work\n", q->index);
        lpu_queue_event_locked(q, LPU_EVENT_RING_CONFIG);
        return;
    }

    q->in_desc = true;
    q->desc_gen = ctx.gen;
    qemu_mutex_unlock(&s->lock);
    r = lpu_dma_read_host(&ctx, ring_base + (uint64_t)head * LPU_DESC_SIZE,
                          &desc, sizeof(desc));
    qemu_mutex_lock(&s->lock);
    if (q->gen != ctx.gen) {
        goto out;
    }
    if (r != 0) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: descriptor fetch at 0x%" PRIx64
                      " failed\n", q->index,
                      ring_base + (uint64_t)head * LPU_DESC_SIZE);
        lpu_queue_event_locked(q, LPU_EVENT_RING_FETCH);
        goto out;
    }
    skip = q->chain_failed;
    exec = !skip && desc.opcode == LPU_OP_EXEC;
    if (exec) {
        /* PROGRESS now counts this descriptor's tokens */
        q->progress_seq = le64_to_cpu(desc.seqno);
        q->progress = 0;
        q->progress_kcycles = 0;
        q->abort_req = false;
        q->exec_running = true;
    }
    qemu_mutex_unlock(&s->lock);

    if (skip) {
        lpu_card_skip(&desc, &cpl);
        status = LPU_STS_SKIPPED;
    } else if (exec) {
        status = lpu_exec_run(&s->card, &desc, &host, &exec_ops, &cpl, &res);
    } else {
        status = lpu_card_execute(&s->card, &desc, &host, &cpl);
    }

    qemu_mutex_lock(&s->lock);
    q->exec_running = false;
    if (q->gen != ctx.gen) {
        goto out;
    }
    qemu_mutex_unlock(&s->lock);
    /*
     * An aborted EXEC was stopped on request (LPU_Q_ABORT, abort word). One
     * stopped at its cycle limit is logged, like a fault: it ran longer
     * than its submitter expected.
     */
    if (status != LPU_STS_OK && status != LPU_STS_SKIPPED &&
        status != LPU_STS_ABORTED) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: descriptor %u (opcode 0x%02x, seqno "
                      "%" PRIu64 ") failed: %s, info %" PRIu64 "%s%s\n",
                      q->index, head, desc.opcode, le64_to_cpu(desc.seqno),
                      status < ARRAY_SIZE(lpu_status_names) ?
                      lpu_status_names[status] : "?",
                      le64_to_cpu(cpl.info), res.msg[0] ? ": " : "",
                      res.msg);
    }
    /*
     * A reset landing from here to the re-check below may let this record
     * reach the ring; HEAD does not move past it, so it is never consumed.
     */
    r = lpu_dma_write_host(&ctx, cpl_base + (uint64_t)head * LPU_CPL_SIZE,
                           &cpl, sizeof(cpl));
    qemu_mutex_lock(&s->lock);
    if (q->gen != ctx.gen) {
        goto out;
    }
    if (r != 0) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: completion write at 0x%" PRIx64
                      " failed\n", q->index,
                      cpl_base + (uint64_t)head * LPU_CPL_SIZE);
        lpu_queue_event_locked(q, LPU_EVENT_CPL_WRITE);
        goto out;
    }

    /* The completion record is in host memory before HEAD moves past it. */
    smp_wmb();
    q->head = (head + 1) & (size - 1);
    q->cpl_seq = le64_to_cpu(desc.seqno);
    q->cpl_count++;
    if (status != LPU_STS_OK) {
        q->err_count++;
    }
    q->chain_failed = status != LPU_STS_OK && (desc.flags & LPU_DESC_CHAIN);
    if ((desc.flags & LPU_DESC_IRQ) || status != LPU_STS_OK) {
        lpu_irq_raise_locked(s, LPU_IRQ_QUEUE(q->index));
    }
out:
    q->exec_running = false;
    q->in_desc = false;
    qemu_cond_broadcast(&s->idle_cond);
}

static void *lpu_queue_thread(void *opaque)
{
    LpuQueue *q = opaque;
    LpuState *s = q->s;

    rcu_register_thread();
    qemu_mutex_lock(&s->lock);
    while (!s->stopping) {
        if (!lpu_queue_runnable_locked(q)) {
            qemu_cond_wait(&q->work_cond, &s->lock);
            continue;
        }
        lpu_queue_run_one_locked(q);
    }
    qemu_mutex_unlock(&s->lock);
    rcu_unregister_thread();
    return NULL;
}

/* ---- device reset ----------------------------------------------------- */

/*
 * CTRL.RESET, PCI reset and FLR: every queue aborted and idle, every
 * register at its reset value. SRAM keeps its contents. BQL held.
 */
static void lpu_reset(LpuState *s)
{
    int64_t deadline = lpu_reset_deadline();
    unsigned int i;

    qemu_mutex_lock(&s->lock);
    if (s->unrealized) {
        qemu_mutex_unlock(&s->lock);
        return;
    }
    for (i = 0; i < s->nr_queues; i++) {
        lpu_queue_abort_locked(&s->queues[i]);
    }
    for (i = 0; i < s->nr_queues; i++) {
        LpuQueue *q = &s->queues[i];

        lpu_queue_abort_wait_locked(q, deadline);
        lpu_queue_clear_locked(q);
        q->ring_base = 0;
        q->cpl_base = 0;
        q->ring_size = 0;
        q->irq_coalesce = 1;
    }
    s->irq_cause = 0;
    s->irq_mask = 0;
    s->irq_notify = 0;
    s->event = LPU_EVENT_NONE;
    s->scratch = 0;
    s->clear_base = 0;
    s->clear_len = 0;
    s->clear_ctrl = 0;
    qemu_mutex_unlock(&s->lock);
    pci_set_irq(PCI_DEVICE(s), 0);
}

static void lpu_reset_hold(Object *obj, ResetType type)
{
    lpu_reset(LPU_PCI(obj));
}

/* ---- registers ---------------------------------------------------------- */

static uint32_t lpu_busy_queues_locked(LpuState *s)
{
    uint32_t i, n = 0;

    for (i = 0; i < s->nr_queues; i++) {
        n += lpu_queue_busy_locked(&s->queues[i]);
    }
    return n;
}

static uint32_t lpu_exec_queues_locked(LpuState *s)
{
    uint32_t i, n = 0;

    for (i = 0; i < s->nr_queues; i++) {
        n += s->queues[i].exec_running;
    }
    return n;
}

static uint64_t lpu_cycles(void)
{
    /* 900 MHz: 0.9 cycles per ns of virtual time */
    return muldiv64(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), LPU_CLOCK_MHZ,
                    1000);
}

static bool lpu_queue_read_locked(LpuQueue *q, hwaddr reg, uint32_t *val)
{
    switch (reg) {
    case LPU_Q_RING_BASE_LO:
        *val = (uint32_t)q->ring_base;
        break;
    case LPU_Q_RING_BASE_HI:
        *val = q->ring_base >> 32;
        break;
    case LPU_Q_CPL_BASE_LO:
        *val = (uint32_t)q->cpl_base;
        break;
    case LPU_Q_CPL_BASE_HI:
        *val = q->cpl_base >> 32;
        break;
    case LPU_Q_RING_SIZE:
        *val = q->ring_size;
        break;
    case LPU_Q_HEAD:
        *val = q->head;
        break;
    case LPU_Q_TAIL:
        *val = q->tail;
        break;
    case LPU_Q_DOORBELL:
        *val = 0;           /* write-only */
        break;
    case LPU_Q_CTRL:
        *val = q->enabled ? LPU_Q_CTRL_ENABLE : 0;
        break;
    case LPU_Q_STATUS:
        *val = (q->enabled ? LPU_Q_STATUS_ENABLED : 0) |
               (lpu_queue_busy_locked(q) ? LPU_Q_STATUS_BUSY : 0) |
               (q->halted ? LPU_Q_STATUS_HALTED : 0);
        break;
    case LPU_Q_CPL_SEQ_LO:
        *val = (uint32_t)q->cpl_seq;
        break;
    case LPU_Q_CPL_SEQ_HI:
        *val = q->cpl_seq >> 32;
        break;
    case LPU_Q_CPL_COUNT:
        *val = q->cpl_count;
        break;
    case LPU_Q_ERR_COUNT:
        *val = q->err_count;
        break;
    case LPU_Q_ABORT:
        *val = 0;           /* write-only */
        break;
    case LPU_Q_PROGRESS:
        *val = q->progress;
        break;
    case LPU_Q_PROGRESS_SEQ_LO:
        *val = (uint32_t)q->progress_seq;
        break;
    case LPU_Q_PROGRESS_SEQ_HI:
        *val = q->progress_seq >> 32;
        break;
    case LPU_Q_IRQ_COALESCE:
        *val = q->irq_coalesce;
        break;
    case LPU_Q_PROGRESS_KCYCLES:
        *val = q->progress_kcycles;
        break;
    default:
        return false;
    }
    return true;
}

static bool lpu_read_locked(LpuState *s, hwaddr addr, uint32_t *val)
{
    switch (addr) {
    case LPU_REG_ID:
        *val = LPU_ID_MAGIC;
        break;
    case LPU_REG_VERSION:
        *val = LPU_HW_VERSION_MAJOR << LPU_VERSION_MAJOR_SHIFT |
               LPU_HW_VERSION_MINOR;
        break;
    case LPU_REG_CAPS:
        *val = LPU_CAP_DMA_SG | LPU_CAP_FENCE | LPU_CAP_EXEC |
               LPU_CAP_SRAM_CLEAR | LPU_CAP_MSIX;
        break;
    case LPU_REG_QUEUE_COUNT:
        *val = s->nr_queues;
        break;
    case LPU_REG_SRAM_SIZE_LO:
        *val = (uint32_t)s->sram_size;
        break;
    case LPU_REG_SRAM_SIZE_HI:
        *val = s->sram_size >> 32;
        break;
    case LPU_REG_CTRL:
        *val = 0;
        break;
    case LPU_REG_STATUS:
        *val = LPU_STATUS_READY;
        break;
    case LPU_REG_IRQ_CAUSE:
        *val = s->irq_cause;
        break;
    case LPU_REG_IRQ_MASK:
        *val = s->irq_mask;
        break;
    case LPU_REG_CYCLES_LO:
        *val = (uint32_t)lpu_cycles();
        break;
    case LPU_REG_CYCLES_HI:
        *val = lpu_cycles() >> 32;
        break;
    case LPU_REG_TEMP:
        *val = LPU_TEMP_IDLE + LPU_TEMP_PER_QUEUE * lpu_busy_queues_locked(s) +
               LPU_TEMP_PER_EXEC * lpu_exec_queues_locked(s);
        break;
    case LPU_REG_POWER:
        *val = LPU_POWER_IDLE +
               LPU_POWER_PER_QUEUE * lpu_busy_queues_locked(s) +
               LPU_POWER_PER_EXEC * lpu_exec_queues_locked(s);
        break;
    case LPU_REG_CLOCK:
        *val = LPU_CLOCK_MHZ;
        break;
    case LPU_REG_EVENT:
        *val = s->event;
        break;
    case LPU_REG_SCRATCH:
        *val = s->scratch;
        break;
    case LPU_REG_SRAM_CLEAR_BASE_LO:
        *val = (uint32_t)s->clear_base;
        break;
    case LPU_REG_SRAM_CLEAR_BASE_HI:
        *val = s->clear_base >> 32;
        break;
    case LPU_REG_SRAM_CLEAR_LEN_LO:
        *val = (uint32_t)s->clear_len;
        break;
    case LPU_REG_SRAM_CLEAR_LEN_HI:
        *val = s->clear_len >> 32;
        break;
    case LPU_REG_SRAM_CLEAR_CTRL:
        *val = s->clear_ctrl;
        break;
    default:
        if (addr >= LPU_QUEUE_BASE) {
            hwaddr q = (addr - LPU_QUEUE_BASE) / LPU_QUEUE_STRIDE;

            if (q < s->nr_queues) {
                return lpu_queue_read_locked(&s->queues[q],
                                             (addr - LPU_QUEUE_BASE) %
                                             LPU_QUEUE_STRIDE, val);
            }
        }
        return false;
    }
    return true;
}

static uint64_t lpu_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    LpuState *s = opaque;
    uint32_t val = 0;
    bool ok;

    if (size != 4 || (addr & 3)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: %u-byte read at 0x%" HWADDR_PRIx
                      " (registers take aligned 4-byte accesses)\n",
                      size, addr);
        return 0;
    }
    qemu_mutex_lock(&s->lock);
    if (s->unrealized) {
        qemu_mutex_unlock(&s->lock);
        return 0;
    }
    ok = lpu_read_locked(s, addr, &val);
    qemu_mutex_unlock(&s->lock);
    if (!ok) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: read of undefined register 0x%" HWADDR_PRIx "\n",
                      addr);
        return 0;
    }
    return val;
}

static void lpu_sram_clear_locked(LpuState *s, uint32_t val)
{
    if (!(val & LPU_SRAM_CLEAR_GO)) {
        s->clear_ctrl = 0;
        return;
    }
    if (lpu_card_sram_clear(&s->card, s->clear_base, s->clear_len) != 0) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: SRAM clear of 0x%" PRIx64 " bytes at 0x%" PRIx64
                      " rejected (not 64-byte multiples or past the %"
                      PRIu64 "-byte SRAM)\n",
                      s->clear_len, s->clear_base, s->sram_size);
        s->clear_ctrl = LPU_SRAM_CLEAR_ERROR;
        return;
    }
    s->clear_ctrl = 0;
}

static void lpu_doorbell_locked(LpuQueue *q, uint32_t val)
{
    if (q->halted) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: doorbell %u on a halted queue ignored "
                      "(reset the queue)\n", q->index, val);
        return;
    }
    if (!q->enabled ||
        !lpu_ring_config_ok(q->ring_base, q->cpl_base, q->ring_size)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: doorbell on a %s queue (ring 0x%" PRIx64
                      ", cpl 0x%" PRIx64 ", size %u)\n", q->index,
                      q->enabled ? "misconfigured" : "disabled",
                      q->ring_base, q->cpl_base, q->ring_size);
        lpu_queue_event_locked(q, LPU_EVENT_RING_CONFIG);
        return;
    }
    if (val >= q->ring_size) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: doorbell %u >= ring size %u\n",
                      q->index, val, q->ring_size);
        lpu_queue_event_locked(q, LPU_EVENT_DOORBELL_RANGE);
        return;
    }
    q->tail = val;
    lpu_queue_kick_locked(q);
}

static bool lpu_queue_write_locked(LpuQueue *q, hwaddr reg, uint32_t val)
{
    switch (reg) {
    case LPU_Q_RING_BASE_LO:
    case LPU_Q_RING_BASE_HI:
    case LPU_Q_CPL_BASE_LO:
    case LPU_Q_CPL_BASE_HI:
    case LPU_Q_RING_SIZE:
        if (q->enabled) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lpu: queue %u: ring register 0x%02" HWADDR_PRIx
                          " written while enabled, ignored\n", q->index, reg);
            break;
        }
        switch (reg) {
        case LPU_Q_RING_BASE_LO:
            q->ring_base = deposit64(q->ring_base, 0, 32, val);
            break;
        case LPU_Q_RING_BASE_HI:
            q->ring_base = deposit64(q->ring_base, 32, 32, val);
            break;
        case LPU_Q_CPL_BASE_LO:
            q->cpl_base = deposit64(q->cpl_base, 0, 32, val);
            break;
        case LPU_Q_CPL_BASE_HI:
            q->cpl_base = deposit64(q->cpl_base, 32, 32, val);
            break;
        default:
            q->ring_size = val;
            break;
        }
        break;
    case LPU_Q_DOORBELL:
        lpu_doorbell_locked(q, val);
        break;
    case LPU_Q_CTRL:
        if (val & ~(LPU_Q_CTRL_ENABLE | LPU_Q_CTRL_RESET)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lpu: queue %u: unknown CTRL bits 0x%x ignored\n",
                          q->index, val);
        }
        if (val & LPU_Q_CTRL_RESET) {
            lpu_queue_reset_locked(q);
        }
        q->enabled = val & LPU_Q_CTRL_ENABLE;
        lpu_queue_kick_locked(q);
        break;
    case LPU_Q_ABORT:
        /*
         * Seen by the running EXEC before its next slice. Without one (it
         * may have just completed) there is nothing to abort: not an error.
         */
        if ((val & 1) && q->exec_running) {
            qatomic_set(&q->abort_req, true);
        }
        break;
    case LPU_Q_IRQ_COALESCE:
        q->irq_coalesce = val;
        break;
    case LPU_Q_HEAD:
    case LPU_Q_TAIL:
    case LPU_Q_STATUS:
    case LPU_Q_CPL_SEQ_LO:
    case LPU_Q_CPL_SEQ_HI:
    case LPU_Q_CPL_COUNT:
    case LPU_Q_ERR_COUNT:
    case LPU_Q_PROGRESS:
    case LPU_Q_PROGRESS_SEQ_LO:
    case LPU_Q_PROGRESS_SEQ_HI:
    case LPU_Q_PROGRESS_KCYCLES:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: queue %u: write to read-only register 0x%02"
                      HWADDR_PRIx " ignored\n", q->index, reg);
        break;
    default:
        return false;
    }
    return true;
}

/*
 * Returns false for an undefined offset. *reset is set when the whole
 * device must be reset (done by the caller without the lock).
 */
static bool lpu_write_locked(LpuState *s, hwaddr addr, uint32_t val,
                             bool *reset, bool *update_irq)
{
    uint32_t newly;

    switch (addr) {
    case LPU_REG_CTRL:
        if (val & ~LPU_CTRL_RESET) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lpu: unknown CTRL bits 0x%x ignored\n", val);
        }
        *reset = val & LPU_CTRL_RESET;
        break;
    case LPU_REG_IRQ_CAUSE:
        s->irq_cause &= ~val;
        *update_irq = true;
        break;
    case LPU_REG_IRQ_MASK:
        if (val & ~lpu_irq_valid_bits(s)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lpu: IRQ_MASK bits 0x%x have no source, ignored\n",
                          val & ~lpu_irq_valid_bits(s));
        }
        val &= lpu_irq_valid_bits(s);
        /* Unmasking a pending source signals it (MSI/MSI-X). */
        newly = val & ~s->irq_mask & s->irq_cause;
        s->irq_mask = val;
        if (newly) {
            lpu_irq_raise_locked(s, newly);
        }
        *update_irq = true;
        break;
    case LPU_REG_SCRATCH:
        s->scratch = val;
        break;
    case LPU_REG_SRAM_CLEAR_BASE_LO:
        s->clear_base = deposit64(s->clear_base, 0, 32, val);
        break;
    case LPU_REG_SRAM_CLEAR_BASE_HI:
        s->clear_base = deposit64(s->clear_base, 32, 32, val);
        break;
    case LPU_REG_SRAM_CLEAR_LEN_LO:
        s->clear_len = deposit64(s->clear_len, 0, 32, val);
        break;
    case LPU_REG_SRAM_CLEAR_LEN_HI:
        s->clear_len = deposit64(s->clear_len, 32, 32, val);
        break;
    case LPU_REG_SRAM_CLEAR_CTRL:
        lpu_sram_clear_locked(s, val);
        break;
    case LPU_REG_ID:
    case LPU_REG_VERSION:
    case LPU_REG_CAPS:
    case LPU_REG_QUEUE_COUNT:
    case LPU_REG_SRAM_SIZE_LO:
    case LPU_REG_SRAM_SIZE_HI:
    case LPU_REG_STATUS:
    case LPU_REG_CYCLES_LO:
    case LPU_REG_CYCLES_HI:
    case LPU_REG_TEMP:
    case LPU_REG_POWER:
    case LPU_REG_CLOCK:
    case LPU_REG_EVENT:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: write to read-only register 0x%" HWADDR_PRIx
                      " ignored\n", addr);
        break;
    default:
        if (addr >= LPU_QUEUE_BASE) {
            hwaddr q = (addr - LPU_QUEUE_BASE) / LPU_QUEUE_STRIDE;

            if (q < s->nr_queues) {
                return lpu_queue_write_locked(&s->queues[q],
                                              (addr - LPU_QUEUE_BASE) %
                                              LPU_QUEUE_STRIDE, val);
            }
        }
        return false;
    }
    return true;
}

static void lpu_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    LpuState *s = opaque;
    bool reset = false, update_irq = false, ok, level;

    if (size != 4 || (addr & 3)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: %u-byte write at 0x%" HWADDR_PRIx
                      " ignored (registers take aligned 4-byte accesses)\n",
                      size, addr);
        return;
    }
    qemu_mutex_lock(&s->lock);
    if (s->unrealized) {
        qemu_mutex_unlock(&s->lock);
        return;
    }
    ok = lpu_write_locked(s, addr, val, &reset, &update_irq);
    level = lpu_irq_level_locked(s);
    qemu_mutex_unlock(&s->lock);
    if (!ok) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lpu: write of 0x%" PRIx64 " to undefined register 0x%"
                      HWADDR_PRIx " ignored\n", val, addr);
    }
    if (reset) {
        lpu_reset(s);
    } else if (update_irq) {
        lpu_irq_deliver(s, 0, level);
    }
}

static const MemoryRegionOps lpu_mmio_ops = {
    .read = lpu_mmio_read,
    .write = lpu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /* Let every size reach the handlers, which reject all but 4 bytes. */
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/* ---- PCI -------------------------------------------------------------- */

static void lpu_pci_write_config(PCIDevice *pdev, uint32_t addr, uint32_t val,
                                 int len)
{
    LpuState *s = LPU_PCI(pdev);
    bool level;

    pci_default_write_config(pdev, addr, val, len);
    pcie_cap_flr_write_config(pdev, addr, val, len);

    /* MSI/MSI-X may have been switched: move INTx accordingly. */
    qemu_mutex_lock(&s->lock);
    level = lpu_irq_level_locked(s);
    qemu_mutex_unlock(&s->lock);
    lpu_irq_deliver(s, 0, level);
}

static void lpu_pci_realize(PCIDevice *pdev, Error **errp)
{
    LpuState *s = LPU_PCI(pdev);
    Error *err = NULL;
    unsigned int i;
    int ret;

    if (s->sram_size < LPU_CARD_SRAM_MIN ||
        s->sram_size > LPU_CARD_SRAM_MAX ||
        s->sram_size % LPU_CARD_SRAM_ALIGN != 0) {
        error_setg(errp, "lpu: sram-size %" PRIu64 " must be a multiple of "
                   "64 KiB between 1 MiB and 1 TiB", s->sram_size);
        return;
    }
    if (s->nr_queues < 1 || s->nr_queues > LPU_MAX_QUEUES) {
        error_setg(errp, "lpu: queues=%u must be between 1 and %u",
                   s->nr_queues, LPU_MAX_QUEUES);
        return;
    }
    ret = lpu_card_init(&s->card, s->sram_size);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "lpu: cannot allocate %" PRIu64
                         " bytes of SRAM", s->sram_size);
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);
    memory_region_init_io(&s->mmio, OBJECT(s), &lpu_mmio_ops, s, "lpu-regs",
                          LPU_BAR_REGS_SIZE);
    pci_register_bar(pdev, LPU_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->mmio);

    ret = pcie_endpoint_cap_init(pdev, 0x80);
    if (ret < 0) {
        error_setg(errp, "lpu: cannot add the PCIe capability");
        goto err_card;
    }
    pcie_cap_flr_init(pdev);

    ret = msi_init(pdev, 0, 1, true, false, &err);
    if (ret == -ENOTSUP) {
        /* MSI is not usable on this platform: INTx and MSI-X remain. */
        error_free(err);
        err = NULL;
    } else if (ret < 0) {
        error_propagate(errp, err);
        goto err_pcie;
    }
    ret = msix_init_exclusive_bar(pdev, s->nr_queues + 1, LPU_BAR_MSIX, errp);
    if (ret < 0) {
        goto err_msi;
    }
    for (i = 0; i <= s->nr_queues; i++) {
        msix_vector_use(pdev, i);
    }

    s->dma_bql = pci_device_iommu_address_space(pdev) != &address_space_memory;

    s->irq_bh = qemu_bh_new_guarded(lpu_irq_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);
    s->stopping = false;
    for (i = 0; i < s->nr_queues; i++) {
        LpuQueue *q = &s->queues[i];
        char name[16];

        q->s = s;
        q->index = i;
        q->irq_coalesce = 1;
        snprintf(name, sizeof(name), "lpu-q%u", i);
        qemu_thread_create(&q->thread, name, lpu_queue_thread, q,
                           QEMU_THREAD_JOINABLE);
    }
    s->threads_started = true;
    return;

err_msi:
    msi_uninit(pdev);
err_pcie:
    pcie_cap_exit(pdev);
err_card:
    lpu_card_fini(&s->card);
}

static void lpu_pci_exit(PCIDevice *pdev)
{
    LpuState *s = LPU_PCI(pdev);
    unsigned int i;

    qemu_mutex_lock(&s->lock);
    qatomic_set(&s->stopping, true);
    for (i = 0; i < s->nr_queues; i++) {
        qatomic_set(&s->queues[i].gen, s->queues[i].gen + 1);
        qemu_cond_signal(&s->queues[i].work_cond);
    }
    qemu_mutex_unlock(&s->lock);
    /*
     * A worker may be waiting for the BQL (vIOMMU DMA, or a DMA that hit
     * MMIO): let it run to see the stop request.
     */
    bql_unlock();
    for (i = 0; i < s->nr_queues; i++) {
        qemu_thread_join(&s->queues[i].thread);
    }
    bql_lock();

    qemu_mutex_lock(&s->lock);
    s->threads_started = false;
    s->unrealized = true;
    qemu_mutex_unlock(&s->lock);
    qemu_bh_delete(s->irq_bh);
    s->irq_bh = NULL;

    pci_set_irq(pdev, 0);
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
    msi_uninit(pdev);
    pcie_cap_exit(pdev);
}

static void lpu_pci_instance_init(Object *obj)
{
    LpuState *s = LPU_PCI(obj);
    unsigned int i;

    qemu_mutex_init(&s->lock);
    qemu_cond_init(&s->idle_cond);
    for (i = 0; i < LPU_MAX_QUEUES; i++) {
        qemu_cond_init(&s->queues[i].work_cond);
    }
}

static void lpu_pci_instance_finalize(Object *obj)
{
    LpuState *s = LPU_PCI(obj);
    unsigned int i;

    for (i = 0; i < LPU_MAX_QUEUES; i++) {
        qemu_cond_destroy(&s->queues[i].work_cond);
    }
    qemu_cond_destroy(&s->idle_cond);
    qemu_mutex_destroy(&s->lock);
    lpu_card_fini(&s->card);
}

static const Property lpu_pci_props[] = {
    DEFINE_PROP_SIZE("sram-size", LpuState, sram_size, LPU_DEFAULT_SRAM_SIZE),
    DEFINE_PROP_UINT32("queues", LpuState, nr_queues, LPU_DEFAULT_QUEUES),
};

static const VMStateDescription lpu_vmstate = {
    .name = "lpu-pci",
    .unmigratable = 1,
};

static void lpu_pci_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = lpu_pci_realize;
    k->exit = lpu_pci_exit;
    k->config_write = lpu_pci_write_config;
    k->vendor_id = LPU_PCI_VENDOR_ID;
    k->device_id = LPU_PCI_DEVICE_ID;
    k->revision = LPU_PCI_REVISION;
    k->class_id = LPU_PCI_CLASS;
    rc->phases.hold = lpu_reset_hold;
    dc->desc = "LPU inference card (emulated)";
    dc->vmsd = &lpu_vmstate;
    device_class_set_props(dc, lpu_pci_props);
    object_class_property_set_description(klass, "sram-size",
        "On-card SRAM size in bytes: a multiple of 64 KiB, 1 MiB to 1 TiB");
    object_class_property_set_description(klass, "queues",
        "Number of hardware queues, 1 to 16");
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo lpu_pci_info = {
    .name = TYPE_LPU_PCI,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(LpuState),
    .instance_init = lpu_pci_instance_init,
    .instance_finalize = lpu_pci_instance_finalize,
    .class_init = lpu_pci_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void lpu_pci_register_types(void)
{
    type_register_static(&lpu_pci_info);
}

type_init(lpu_pci_register_types)
