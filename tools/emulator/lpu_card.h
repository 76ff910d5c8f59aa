/* SPDX-License-Identifier: MIT */
/*
 * LPU card core: the part of the emulated card that does not know about
 * QEMU. It owns the SRAM, validates and runs descriptors, walks SG lists,
 * moves data between host memory and SRAM through callbacks, applies the
 * cycle model and produces completion records.
 *
 * Plain C11 plus POSIX mmap, no QEMU or glib types, so it builds and is
 * unit-tested on the host (tests/host/check_card.c).
 *
 * Thread safety: lpu_card_execute() keeps no state in the card besides the
 * SRAM contents, so several queues may run descriptors on one card at once.
 * Concurrent accesses to the same SRAM bytes are the guest's business.
 *
 * Guest mistakes never abort: they become a status code (enum
 * lpu_hw_status) in the completion record.
 */
#ifndef LPU_CARD_H
#define LPU_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpu/lpu_hw.h"

/* Largest piece moved by one read_host/write_host call. */
#define LPU_CARD_CHUNK          (1u << 20)
/* SG entries read per host access while walking a list. */
#define LPU_CARD_SG_BATCH       256u
/* SRAM size limits accepted by lpu_card_init(). */
#define LPU_CARD_SRAM_ALIGN     (64u * 1024u)
#define LPU_CARD_SRAM_MIN       (1ull << 20)
#define LPU_CARD_SRAM_MAX       (1ull << 40)
/* SRAM_CLEAR granule. */
#define LPU_CARD_CLEAR_ALIGN    64u

/*
 * Host (bus address) access, provided by the device glue.
 *
 * @read_host: copy @len bytes at bus address @addr into @buf.
 * @write_host: copy @len bytes from @buf to bus address @addr.
 *   Both return 0 on success, any other value on failure. @len is never 0
 *   and never more than LPU_CARD_CHUNK. For data transfers @buf points
 *   straight into SRAM.
 * @should_abort: optional (may be NULL); polled before every chunk and every
 *   SG batch. Returning true stops the descriptor with LPU_STS_ABORTED.
 * @opaque: passed to the callbacks.
 */
struct lpu_card_host {
    int (*read_host)(void *opaque, uint64_t addr, void *buf, size_t len);
    int (*write_host)(void *opaque, uint64_t addr, const void *buf,
                      size_t len);
    bool (*should_abort)(void *opaque);
    void *opaque;
};

struct lpu_card {
    uint8_t *sram;          /* sram_size bytes */
    uint64_t sram_size;
    bool sram_mmapped;      /* how to free sram */
};

/*
 * Allocate a zeroed SRAM of @sram_size bytes (a multiple of
 * LPU_CARD_SRAM_ALIGN in [LPU_CARD_SRAM_MIN, LPU_CARD_SRAM_MAX]); pages are
 * only committed when touched. Returns 0, -EINVAL for a bad size or -ENOMEM.
 */
int lpu_card_init(struct lpu_card *card, uint64_t sram_size);
/* Free the SRAM. Safe on a zeroed or already finished card. */
void lpu_card_fini(struct lpu_card *card);

/*
 * Zero @len bytes of SRAM at @base. Both must be multiples of
 * LPU_CARD_CLEAR_ALIGN and the range must lie inside SRAM (a zero length is
 * a valid no-op). Returns 0 or -EINVAL (nothing cleared).
 */
int lpu_card_sram_clear(struct lpu_card *card, uint64_t base, uint64_t len);

/*
 * Validate and run one descriptor, fill the completion record @cpl
 * (little-endian, as written to the completion ring) and return its status.
 *
 * Status per opcode, checked in this order:
 *   NOP, FENCE: unknown flag, rsvd0, rsvd1 or any payload word non-zero ->
 *     BAD_DESC; else OK with LPU_NOP_CYCLES.
 *   DMA_TO_SRAM, DMA_FROM_SRAM:
 *     unknown flag, rsvd0, rsvd1, dma.rsvd non-zero, or length 0 -> BAD_DESC;
 *     sram_addr + length past sram_size (or overflowing) -> SRAM_RANGE;
 *     sg_addr not 16-byte aligned, sg_count 0 or > LPU_SG_MAX_ENTRIES,
 *     the SG list's bus range overflowing, sg_offset + length overflowing,
 *     an entry with len 0, an entry whose addr + len overflows, or
 *     sg_offset + length past the sum of the entry lengths -> SG_INVALID;
 *     reading the SG list fails -> DMA_ERROR (info = bytes moved so far);
 *     a data chunk fails -> DMA_ERROR (info = byte offset, within the
 *     transfer, of the failing chunk; every byte before it was moved);
 *     should_abort() true -> ABORTED (info = bytes moved so far);
 *     else OK, info = length.
 *     The whole SG list is checked before any data moves, so a descriptor
 *     rejected with SG_INVALID or BAD_DESC leaves SRAM and host untouched
 *     (unless the guest rewrites the list while it runs: then the second
 *     walk fails with SG_INVALID, info = bytes moved).
 *   EXEC: run by lpu_exec_run() (lpu_exec.h), not here -> UNSUPPORTED.
 *   Unknown opcodes -> UNSUPPORTED.
 * Cycles: NOP/FENCE that ran: LPU_NOP_CYCLES. A DMA whose SG list passed
 * the first walk: lpu_card_dma_cycles(bytes moved), whether it then
 * completed, failed or was aborted. Anything stopped before that: 0.
 */
uint32_t lpu_card_execute(struct lpu_card *card,
                          const struct lpu_hw_desc *desc,
                          const struct lpu_card_host *host,
                          struct lpu_hw_cpl *cpl);

/*
 * Fill @cpl for a descriptor that is not run because an earlier descriptor
 * of its chain failed: LPU_STS_SKIPPED, 0 cycles, info 0.
 */
void lpu_card_skip(const struct lpu_hw_desc *desc, struct lpu_hw_cpl *cpl);

/*
 * Fill @cpl (little-endian) for @desc: its seqno and opcode, @status,
 * @cycles and @info.
 */
void lpu_card_fill_cpl(struct lpu_hw_cpl *cpl, const struct lpu_hw_desc *desc,
                       uint32_t status, uint64_t cycles, uint64_t info);

/* True if @desc's flags are known and rsvd0, rsvd1 are 0 (any opcode). */
bool lpu_card_desc_header_ok(const struct lpu_hw_desc *desc);

/*
 * SG lists, shared with the EXEC unit (lpu_exec.c), which reaches its token
 * stream through one.
 *
 * A walk returns the entries of the list at bus address @list one by one,
 * reading them LPU_CARD_SG_BATCH at a time through host->read_host and
 * polling host->should_abort before each batch. It does not check entries.
 */
struct lpu_card_sg_walk {
    const struct lpu_card_host *host;
    uint64_t list;          /* bus address of entry 0 */
    uint32_t count;
    uint32_t next;          /* index of the next entry to return */
    uint32_t batch_first;   /* index of batch[0] */
    uint32_t batch_len;     /* valid entries in batch */
    struct lpu_hw_sg batch[LPU_CARD_SG_BATCH];
};

enum lpu_card_sg_next {
    LPU_CARD_SG_ENTRY,          /* *addr, *len set */
    LPU_CARD_SG_END,            /* no more entries */
    LPU_CARD_SG_READ_FAILED,
    LPU_CARD_SG_ABORTED,
};

void lpu_card_sg_walk_init(struct lpu_card_sg_walk *w,
                           const struct lpu_card_host *host,
                           uint64_t list, uint32_t count);
enum lpu_card_sg_next lpu_card_sg_walk_next(struct lpu_card_sg_walk *w,
                                            uint64_t *addr, uint64_t *len);

/*
 * The list's own fields: @sg_addr 16-byte aligned, @sg_count in
 * 1..LPU_SG_MAX_ENTRIES, the list's bus range not wrapping.
 */
bool lpu_card_sg_list_ok(uint64_t sg_addr, uint32_t sg_count);
/* One entry: @len > 0 and @addr + @len not past 2^64. */
bool lpu_card_sg_entry_ok(uint64_t addr, uint64_t len);

/*
 * Walk the whole list (with @w) and check every entry and that the entries
 * hold at least @need bytes. Moves no data. Returns LPU_STS_OK,
 * LPU_STS_SG_INVALID (a bad entry, too few bytes), LPU_STS_DMA_ERROR (the
 * list could not be read) or LPU_STS_ABORTED (should_abort). The list's own
 * fields must have passed lpu_card_sg_list_ok().
 */
uint32_t lpu_card_sg_check(struct lpu_card_sg_walk *w,
                           const struct lpu_card_host *host,
                           uint64_t sg_addr, uint32_t sg_count, uint64_t need);

/* Modelled cycles of a DMA of @bytes: setup + bytes / 24 GB/s at 900 MHz. */
uint64_t lpu_card_dma_cycles(uint64_t bytes);

/* Little-endian field access for descriptors and completion records. */
static inline uint64_t lpu_card_get_le64(const void *p)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--) {
        v = (v << 8) | b[i];
    }
    return v;
}

static inline uint32_t lpu_card_get_le32(const void *p)
{
    const uint8_t *b = p;

    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static inline void lpu_card_put_le64(void *p, uint64_t v)
{
    uint8_t *b = p;
    int i;

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline void lpu_card_put_le32(void *p, uint32_t v)
{
    uint8_t *b = p;
    int i;

    for (i = 0; i < 4; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

#endif /* LPU_CARD_H */
