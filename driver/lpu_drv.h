/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: DRM accel driver for LPU inference cards - device structures.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_DRV_H__
#define __LPU_DRV_H__

#include <linux/io.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_mm.h>
#include <drm/gpu_scheduler.h>

#include "lpu_hw.h"

#define LPU_DRIVER_NAME		"lpu"
#define LPU_DRIVER_DESC		"DRM accel driver for LPU inference cards"

/* Descriptors per hardware ring; must exceed DRM_LPU_MAX_CMDS. */
#define LPU_RING_ENTRIES	1024
#define LPU_SRAM_ALIGN		SZ_4K
#define LPU_MAX_BO_SIZE		SZ_1G

struct lpu_device;

/**
 * struct lpu_queue - one hardware queue and its scheduler
 */
struct lpu_queue {
	struct lpu_device *ldev;
	u32 idx;
	char name[16];
	struct drm_gpu_scheduler sched;

	struct lpu_hw_desc *ring;
	dma_addr_t ring_dma;
	struct lpu_hw_cpl *cpl;
	dma_addr_t cpl_dma;
	/* EXEC parameter blocks, one per ring slot */
	struct lpu_hw_exec_params *params;
	dma_addr_t params_dma;

	u64 fence_context;
	/* recovers the queue after the card halted it */
	struct work_struct halt_work;

	/*
	 * @lock protects everything below and is the lock of the queue's
	 * hardware fences. Taken from the interrupt handler.
	 */
	spinlock_t lock;
	/* hardware fences in submission order, oldest first */
	struct list_head pending;
	u32 fence_seqno;
	/* descriptors written to the ring since the last queue reset */
	u32 submitted;
	/* descriptors retired (completion read) since the last queue reset */
	u32 retired;
};

/**
 * struct lpu_device - one LPU card
 */
struct lpu_device {
	struct drm_device drm;
	struct pci_dev *pdev;
	void __iomem *regs;

	u32 hw_version;
	u32 hw_caps;
	u32 queue_count;
	u32 clock_mhz;
	u64 sram_size;
	bool msix;

	struct lpu_queue queues[LPU_MAX_QUEUES];

	/* @sram_lock protects @sram_mm, @sram_used, @sram_dirty, SRAM_CLEAR */
	struct mutex sram_lock;
	struct drm_mm sram_mm;
	u64 sram_used;
	/* a clear on release failed: clear every range when handed out */
	bool sram_dirty;

	/* @reset_lock serialises queue recovery with PCI resets */
	struct mutex reset_lock;

	/* woken when a job drops its reference to its file */
	wait_queue_head_t file_wq;
};

/**
 * struct lpu_file - per open file state
 */
struct lpu_file {
	struct lpu_device *ldev;
	/* held by the open file and by each of its jobs */
	struct kref ref;
	/* SRAM allocations of this file, by handle; xa has its own lock */
	struct xarray srams;
	/* bytes of SRAM this file holds handles to, for fdinfo */
	atomic64_t sram_bytes;
	/* jobs with a job_id up to this, per queue, are cancelled */
	u64 cancel_upto[LPU_MAX_QUEUES];
	/* @submit_lock serialises job arm + push on this file's entities */
	struct mutex submit_lock;
	struct drm_sched_entity entities[LPU_MAX_QUEUES];
};

static inline struct lpu_device *to_lpu_device(struct drm_device *drm)
{
	return container_of(drm, struct lpu_device, drm);
}

static inline u32 lpu_read(struct lpu_device *ldev, u32 reg)
{
	return readl(ldev->regs + reg);
}

static inline void lpu_write(struct lpu_device *ldev, u32 reg, u32 val)
{
	writel(val, ldev->regs + reg);
}

static inline u32 lpu_qread(struct lpu_queue *q, u32 reg)
{
	return lpu_read(q->ldev, LPU_QREG(q->idx, reg));
}

static inline void lpu_qwrite(struct lpu_queue *q, u32 reg, u32 val)
{
	lpu_write(q->ldev, LPU_QREG(q->idx, reg), val);
}

/* lpu_drv.c */
int lpu_device_init(struct lpu_device *ldev);
void lpu_device_fini(struct lpu_device *ldev);
extern const struct drm_driver lpu_drm_driver;

void lpu_file_get(struct lpu_file *lfile);
void lpu_file_put(struct lpu_file *lfile);
void lpu_device_reset_prepare(struct lpu_device *ldev);
void lpu_device_reset_done(struct lpu_device *ldev);

/* lpu_pci.c */
int lpu_hw_reset(struct lpu_device *ldev);
void lpu_hw_start(struct lpu_device *ldev);

#endif /* __LPU_DRV_H__ */
