/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: jobs, hardware queues and their fences.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_JOB_H__
#define __LPU_JOB_H__

#include <drm/gpu_scheduler.h>

struct drm_device;
struct drm_file;
struct lpu_device;
struct lpu_file;
struct lpu_queue;
struct lpu_sram;

/**
 * struct lpu_job - a submitted list of commands
 */
struct lpu_job {
	struct drm_sched_job base;
	struct lpu_queue *queue;
	/* descriptors, ready but for seqno and flags set at run time */
	struct lpu_hw_desc *descs;
	u32 desc_count;
	/* objects the commands use, referenced until the job is freed */
	struct drm_gem_object **bos;
	u32 bo_count;
	struct lpu_sram **srams;
	u32 sram_count;
	/* the hardware fence, once run_job() put the job on the ring */
	struct dma_fence *hw_fence;
};

int lpu_queues_init(struct lpu_device *ldev);
void lpu_queue_hw_init(struct lpu_queue *q);
void lpu_queue_irq(struct lpu_queue *q);
void lpu_queue_halted(struct lpu_queue *q);
void lpu_queues_cancel(struct lpu_device *ldev, int error);
void lpu_queues_stop(struct lpu_device *ldev);
void lpu_queues_restart(struct lpu_device *ldev);

int lpu_file_entities_init(struct lpu_file *lfile);
void lpu_file_entities_fini(struct lpu_file *lfile);

int lpu_submit_ioctl(struct drm_device *dev, void *data,
		     struct drm_file *file);

#endif /* __LPU_JOB_H__ */
