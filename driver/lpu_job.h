/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: jobs and their submission.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_JOB_H__
#define __LPU_JOB_H__

#include <drm/gpu_scheduler.h>

struct drm_device;
struct drm_file;
struct drm_lpu_cmd;
struct drm_syncobj;
struct lpu_file;
struct lpu_hw_desc;
struct lpu_hw_exec_params;
struct lpu_sram;

/**
 * struct lpu_job - a submitted list of commands
 */
struct lpu_job {
	/** @base: the scheduler's job */
	struct drm_sched_job base;
	/** @queue: the hardware queue it runs on */
	struct lpu_queue *queue;
	/** @lfile: the submitting file, referenced */
	struct lpu_file *lfile;
	/** @descs: descriptors, complete but for seqno and flags */
	struct lpu_hw_desc *descs;
	/** @desc_count: entries in @descs */
	u32 desc_count;
	/** @bos: buffers the commands use, referenced */
	struct drm_gem_object **bos;
	/** @bo_count: entries in @bos */
	u32 bo_count;
	/** @srams: SRAM allocations the commands use, referenced */
	struct lpu_sram **srams;
	/** @sram_count: entries in @srams */
	u32 sram_count;
	/** @exec_params: parameters of the job's EXEC command, or NULL */
	struct lpu_hw_exec_params *exec_params;
	/** @in_fences: the in-sync fences, referenced, to check for errors */
	struct dma_fence **in_fences;
	/** @in_count: entries in @in_fences */
	u32 in_count;
	/** @progress: the EXEC's progress timeline (referenced), or NULL */
	struct drm_syncobj *progress;
	/** @hw_fence: the hardware fence, once the job is on the ring */
	struct dma_fence *hw_fence;
	/** @max_kcycles: the EXEC's cycle limit in thousands, 0 for none */
	u32 max_kcycles;
	/** @watch_tokens: tokens seen by the last watchdog check */
	u32 watch_tokens;
	/** @watch_kcycles: PROGRESS_KCYCLES seen by the last watchdog check */
	u32 watch_kcycles;
	/** @abort_sent: the watchdog asked the card to stop the program */
	bool abort_sent;
};

extern const struct drm_sched_backend_ops lpu_sched_ops;

/* lpu_cmd.c */
int lpu_job_parse_cmd(struct lpu_job *job, struct drm_file *file,
		      const struct drm_lpu_cmd *cmd, struct lpu_hw_desc *desc);

/* lpu_job.c */
long lpu_job_timeout(void);
int lpu_file_entities_init(struct lpu_file *lfile);
void lpu_file_entities_fini(struct lpu_file *lfile);
int lpu_submit_ioctl(struct drm_device *dev, void *data,
		     struct drm_file *file);
int lpu_job_cancel_ioctl(struct drm_device *dev, void *data,
			 struct drm_file *file);

#endif /* __LPU_JOB_H__ */
