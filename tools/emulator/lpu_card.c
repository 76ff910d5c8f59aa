/* SPDX-License-Identifier: MIT */
/*
 * LPU card core: SRAM, descriptor validation, SG walking, DMA, cycle model.
 * See lpu_card.h for the contract.
 */
/* MAP_ANONYMOUS, MAP_NORESERVE and madvise() under -std=c11 too */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "lpu_card.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A decoded DMA descriptor, host byte order. */
struct lpu_card_dma {
    bool to_sram;
    uint64_t sg_addr;
    uint32_t sg_count;
    uint64_t sg_offset;
    uint64_t sram_addr;
    uint64_t length;
};

/* Descriptor byte offsets (the layout is fixed by lpu_hw.h). */
#define DESC_OPCODE             0
#define DESC_FLAGS              1
#define DESC_RSVD0              2
#define DESC_RSVD1              4
#define DESC_SEQNO              8
#define DESC_PAYLOAD            16
#define DESC_DMA_SG_ADDR        (DESC_PAYLOAD + 0)
#define DESC_DMA_SG_COUNT       (DESC_PAYLOAD + 8)
#define DESC_DMA_RSVD           (DESC_PAYLOAD + 12)
#define DESC_DMA_SG_OFFSET      (DESC_PAYLOAD + 16)
#define DESC_DMA_SRAM_ADDR      (DESC_PAYLOAD + 24)
#define DESC_DMA_LENGTH         (DESC_PAYLOAD + 32)

_Static_assert(sizeof(struct lpu_hw_desc) == LPU_DESC_SIZE, "desc size");
_Static_assert(sizeof(struct lpu_hw_cpl) == LPU_CPL_SIZE, "cpl size");
_Static_assert(sizeof(struct lpu_hw_sg) == 16, "sg entry size");
_Static_assert(offsetof(struct lpu_hw_desc, seqno) == DESC_SEQNO, "seqno");
_Static_assert(offsetof(struct lpu_hw_desc, dma.sg_count) == DESC_DMA_SG_COUNT,
               "sg_count");
_Static_assert(offsetof(struct lpu_hw_desc, dma.length) == DESC_DMA_LENGTH,
               "length");

int lpu_card_init(struct lpu_card *card, uint64_t sram_size)
{
    void *p;

    memset(card, 0, sizeof(*card));
    if (sram_size < LPU_CARD_SRAM_MIN || sram_size > LPU_CARD_SRAM_MAX ||
        sram_size % LPU_CARD_SRAM_ALIGN != 0) {
        return -EINVAL;
    }
    /* Anonymous memory reads as zero and is committed only when touched. */
    p = mmap(NULL, (size_t)sram_size, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        card->sram_mmapped = true;
#ifdef MADV_HUGEPAGE
        /* first touches then cost a fault per 2 MiB, not per 4 KiB */
        (void)madvise(p, (size_t)sram_size, MADV_HUGEPAGE);
#endif
    } else {
        p = calloc(1, (size_t)sram_size);
        if (!p) {
            return -ENOMEM;
        }
    }
    card->sram = p;
    card->sram_size = sram_size;
    return 0;
}

void lpu_card_fini(struct lpu_card *card)
{
    if (card->sram) {
        if (card->sram_mmapped) {
            munmap(card->sram, (size_t)card->sram_size);
        } else {
            free(card->sram);
        }
    }
    memset(card, 0, sizeof(*card));
}

/* Pages whose residency one mincore() call asks about. */
#define CLEAR_BATCH_PAGES       4096u

/*
 * Zero a page-aligned span of the anonymous mapping, run by run of pages
 * of equal residency: pages in memory are zeroed in place and stay there
 * (so the next DMA into them costs no page faults, as with real SRAM),
 * the others are dropped with MADV_DONTNEED (never touched: nothing to
 * do; swapped out: the swap copy goes), so a clear never commits memory.
 * Returns false when the kernel refused, and nothing is known.
 */
static bool clear_mapped(uint8_t *start, size_t len, size_t pg)
{
    unsigned char vec[CLEAR_BATCH_PAGES];
    size_t done = 0;

    while (done < len) {
        size_t n = (len - done) / pg, i = 0;

        if (n > CLEAR_BATCH_PAGES) {
            n = CLEAR_BATCH_PAGES;
        }
        if (mincore(start + done, n * pg, vec) != 0) {
            return false;
        }
        while (i < n) {
            size_t j = i;
            bool resident = vec[i] & 1;

            while (j < n && (vec[j] & 1) == resident) {
                j++;
            }
            if (resident) {
                memset(start + done + i * pg, 0, (j - i) * pg);
            } else if (madvise(start + done + i * pg, (j - i) * pg,
                               MADV_DONTNEED) != 0) {
                return false;
            }
            i = j;
        }
        done += n * pg;
    }
    return true;
}

/* Zero SRAM bytes: whole pages of the mapping by clear_mapped(), the rest
 * (and everything when SRAM is not a mapping) with memset. */
static void clear_range(struct lpu_card *card, uint64_t base, uint64_t len)
{
    uintptr_t start = (uintptr_t)(card->sram + base);
    uintptr_t end = start + (uintptr_t)len;
    long pg = sysconf(_SC_PAGESIZE);

    if (card->sram_mmapped && pg > 0) {
        uintptr_t a = (start + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
        uintptr_t b = end & ~((uintptr_t)pg - 1);

        if (b > a && clear_mapped((uint8_t *)a, b - a, (size_t)pg)) {
            memset((void *)start, 0, a - start);
            memset((void *)b, 0, end - b);
            return;
        }
    }
    memset(card->sram + base, 0, (size_t)len);
}

int lpu_card_sram_clear(struct lpu_card *card, uint64_t base, uint64_t len)
{
    if (base % LPU_CARD_CLEAR_ALIGN != 0 || len % LPU_CARD_CLEAR_ALIGN != 0 ||
        base > card->sram_size || len > card->sram_size - base) {
        return -EINVAL;
    }
    if (len) {
        clear_range(card, base, len);
    }
    return 0;
}

uint64_t lpu_card_dma_cycles(uint64_t bytes)
{
    /* floor(bytes * 1000 / B) without overflowing the product */
    uint64_t q = bytes / LPU_DMA_BYTES_PER_KCYCLE;
    uint64_t r = bytes % LPU_DMA_BYTES_PER_KCYCLE;

    return LPU_DMA_SETUP_CYCLES + q * 1000 +
           r * 1000 / LPU_DMA_BYTES_PER_KCYCLE;
}

void lpu_card_fill_cpl(struct lpu_hw_cpl *cpl, const struct lpu_hw_desc *desc,
                       uint32_t status, uint64_t cycles, uint64_t info)
{
    const uint8_t *d = (const uint8_t *)desc;
    uint8_t *c = (uint8_t *)cpl;

    memset(cpl, 0, sizeof(*cpl));
    memcpy(c + offsetof(struct lpu_hw_cpl, seqno), d + DESC_SEQNO, 8);
    lpu_card_put_le32(c + offsetof(struct lpu_hw_cpl, status), status);
    lpu_card_put_le32(c + offsetof(struct lpu_hw_cpl, opcode), d[DESC_OPCODE]);
    lpu_card_put_le64(c + offsetof(struct lpu_hw_cpl, cycles), cycles);
    lpu_card_put_le64(c + offsetof(struct lpu_hw_cpl, info), info);
}

void lpu_card_skip(const struct lpu_hw_desc *desc, struct lpu_hw_cpl *cpl)
{
    lpu_card_fill_cpl(cpl, desc, LPU_STS_SKIPPED, 0, 0);
}

static bool header_ok(const uint8_t *d)
{
    return (d[DESC_FLAGS] & ~LPU_DESC_FLAGS_MASK) == 0 &&
           d[DESC_RSVD0] == 0 && d[DESC_RSVD0 + 1] == 0 &&
           lpu_card_get_le32(d + DESC_RSVD1) == 0;
}

bool lpu_card_desc_header_ok(const struct lpu_hw_desc *desc)
{
    return header_ok((const uint8_t *)desc);
}

static bool should_abort(const struct lpu_card_host *host)
{
    return host->should_abort && host->should_abort(host->opaque);
}

enum lpu_card_sg_next lpu_card_sg_walk_next(struct lpu_card_sg_walk *w,
                                            uint64_t *addr, uint64_t *len)
{
    const struct lpu_hw_sg *e;

    if (w->next >= w->count) {
        return LPU_CARD_SG_END;
    }
    if (w->next >= w->batch_first + w->batch_len) {
        uint32_t n = w->count - w->next;

        if (n > LPU_CARD_SG_BATCH) {
            n = LPU_CARD_SG_BATCH;
        }
        if (should_abort(w->host)) {
            return LPU_CARD_SG_ABORTED;
        }
        if (w->host->read_host(w->host->opaque,
                               w->list + (uint64_t)w->next * sizeof(*e),
                               w->batch, n * sizeof(*e)) != 0) {
            return LPU_CARD_SG_READ_FAILED;
        }
        w->batch_first = w->next;
        w->batch_len = n;
    }
    e = &w->batch[w->next - w->batch_first];
    *addr = lpu_card_get_le64(&e->addr);
    *len = lpu_card_get_le64(&e->len);
    w->next++;
    return LPU_CARD_SG_ENTRY;
}

void lpu_card_sg_walk_init(struct lpu_card_sg_walk *w,
                           const struct lpu_card_host *host,
                           uint64_t list, uint32_t count)
{
    w->host = host;
    w->list = list;
    w->count = count;
    w->next = 0;
    w->batch_first = 0;
    w->batch_len = 0;
}

bool lpu_card_sg_entry_ok(uint64_t addr, uint64_t len)
{
    return len != 0 && addr + (len - 1) >= addr;
}

bool lpu_card_sg_list_ok(uint64_t sg_addr, uint32_t sg_count)
{
    return sg_addr % 16 == 0 && sg_count != 0 &&
           sg_count <= LPU_SG_MAX_ENTRIES &&
           sg_addr + ((uint64_t)sg_count * 16 - 1) >= sg_addr;
}

uint32_t lpu_card_sg_check(struct lpu_card_sg_walk *w,
                           const struct lpu_card_host *host,
                           uint64_t sg_addr, uint32_t sg_count, uint64_t need)
{
    uint64_t total = 0;
    uint64_t addr, len;
    enum lpu_card_sg_next r;

    lpu_card_sg_walk_init(w, host, sg_addr, sg_count);
    while ((r = lpu_card_sg_walk_next(w, &addr, &len)) == LPU_CARD_SG_ENTRY) {
        if (!lpu_card_sg_entry_ok(addr, len)) {
            return LPU_STS_SG_INVALID;
        }
        /* saturating sum: past 2^64 every request fits */
        total = (total + len < total) ? UINT64_MAX : total + len;
    }
    if (r == LPU_CARD_SG_READ_FAILED) {
        return LPU_STS_DMA_ERROR;
    }
    if (r == LPU_CARD_SG_ABORTED) {
        return LPU_STS_ABORTED;
    }
    if (total < need) {
        return LPU_STS_SG_INVALID;
    }
    return LPU_STS_OK;
}

/*
 * First pass: check every entry and that the list covers
 * sg_offset + length bytes. Moves no data.
 */
static uint32_t dma_check_sg(const struct lpu_card_dma *dma,
                             const struct lpu_card_host *host,
                             struct lpu_card_sg_walk *w)
{
    /* checked by the caller: no wrap */
    return lpu_card_sg_check(w, host, dma->sg_addr, dma->sg_count,
                             dma->sg_offset + dma->length);
}

/* Second pass: move the data. *done = bytes moved (or failing offset). */
static uint32_t dma_transfer(struct lpu_card *card,
                             const struct lpu_card_dma *dma,
                             const struct lpu_card_host *host,
                             struct lpu_card_sg_walk *w, uint64_t *done)
{
    uint64_t skip = dma->sg_offset;
    uint8_t *sram = card->sram + dma->sram_addr;
    uint64_t addr, len;
    enum lpu_card_sg_next r;

    *done = 0;
    lpu_card_sg_walk_init(w, host, dma->sg_addr, dma->sg_count);
    while (*done < dma->length) {
        r = lpu_card_sg_walk_next(w, &addr, &len);
        if (r == LPU_CARD_SG_READ_FAILED) {
            return LPU_STS_DMA_ERROR;
        }
        if (r == LPU_CARD_SG_ABORTED) {
            return LPU_STS_ABORTED;
        }
        /* The list changed under us since the first pass. */
        if (r == LPU_CARD_SG_END || !lpu_card_sg_entry_ok(addr, len)) {
            return LPU_STS_SG_INVALID;
        }
        if (skip >= len) {
            skip -= len;
            continue;
        }
        addr += skip;
        len -= skip;
        skip = 0;
        while (len && *done < dma->length) {
            uint64_t n = dma->length - *done;
            int rc;

            if (n > len) {
                n = len;
            }
            if (n > LPU_CARD_CHUNK) {
                n = LPU_CARD_CHUNK;
            }
            if (should_abort(host)) {
                return LPU_STS_ABORTED;
            }
            if (dma->to_sram) {
                rc = host->read_host(host->opaque, addr, sram + *done,
                                     (size_t)n);
            } else {
                rc = host->write_host(host->opaque, addr, sram + *done,
                                      (size_t)n);
            }
            if (rc != 0) {
                return LPU_STS_DMA_ERROR;
            }
            *done += n;
            addr += n;
            len -= n;
        }
    }
    return LPU_STS_OK;
}

static uint32_t run_dma(struct lpu_card *card, const uint8_t *d,
                        const struct lpu_card_host *host,
                        uint64_t *cycles, uint64_t *info)
{
    struct lpu_card_dma dma;
    struct lpu_card_sg_walk *w;
    uint64_t done = 0;
    uint32_t status;

    *cycles = 0;
    *info = 0;
    if (!header_ok(d) || lpu_card_get_le32(d + DESC_DMA_RSVD) != 0) {
        return LPU_STS_BAD_DESC;
    }
    dma.to_sram = d[DESC_OPCODE] == LPU_OP_DMA_TO_SRAM;
    dma.sg_addr = lpu_card_get_le64(d + DESC_DMA_SG_ADDR);
    dma.sg_count = lpu_card_get_le32(d + DESC_DMA_SG_COUNT);
    dma.sg_offset = lpu_card_get_le64(d + DESC_DMA_SG_OFFSET);
    dma.sram_addr = lpu_card_get_le64(d + DESC_DMA_SRAM_ADDR);
    dma.length = lpu_card_get_le64(d + DESC_DMA_LENGTH);
    if (dma.length == 0) {
        return LPU_STS_BAD_DESC;
    }
    if (dma.sram_addr > card->sram_size ||
        dma.length > card->sram_size - dma.sram_addr) {
        return LPU_STS_SRAM_RANGE;
    }
    if (!lpu_card_sg_list_ok(dma.sg_addr, dma.sg_count) ||
        dma.sg_offset + dma.length < dma.sg_offset) {
        return LPU_STS_SG_INVALID;
    }

    /* 4 KiB of batch: keep it off small thread stacks. */
    w = malloc(sizeof(*w));
    if (!w) {
        /* The model's own resource failure: report it as a DMA failure. */
        return LPU_STS_DMA_ERROR;
    }
    status = dma_check_sg(&dma, host, w);
    if (status == LPU_STS_OK) {
        status = dma_transfer(card, &dma, host, w, &done);
        *cycles = lpu_card_dma_cycles(done);
    }
    free(w);
    *info = status == LPU_STS_OK ? dma.length : done;
    return status;
}

uint32_t lpu_card_execute(struct lpu_card *card,
                          const struct lpu_hw_desc *desc,
                          const struct lpu_card_host *host,
                          struct lpu_hw_cpl *cpl)
{
    const uint8_t *d = (const uint8_t *)desc;
    uint64_t cycles = 0, info = 0;
    uint32_t status;
    int i;

    switch (d[DESC_OPCODE]) {
    case LPU_OP_NOP:
    case LPU_OP_FENCE:
        /*
         * Descriptors complete in order, so a FENCE is done once every
         * earlier descriptor is: by the time it runs.
         */
        status = LPU_STS_OK;
        if (!header_ok(d)) {
            status = LPU_STS_BAD_DESC;
        }
        for (i = 0; i < 6; i++) {
            if (lpu_card_get_le64(d + DESC_PAYLOAD + 8 * i) != 0) {
                status = LPU_STS_BAD_DESC;
            }
        }
        if (status == LPU_STS_OK) {
            cycles = LPU_NOP_CYCLES;
        }
        break;
    case LPU_OP_DMA_TO_SRAM:
    case LPU_OP_DMA_FROM_SRAM:
        status = run_dma(card, d, host, &cycles, &info);
        break;
    case LPU_OP_EXEC:
    default:
        status = LPU_STS_UNSUPPORTED;
        break;
    }
    lpu_card_fill_cpl(cpl, desc, status, cycles, info);
    return status;
}
