// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: job submission, the per-queue schedulers and hardware fences.
 *
 * Each hardware queue has a descriptor ring and a completion ring in host
 * memory and a drm_gpu_scheduler; each open file has one scheduler entity
 * per queue. A job is a list of commands; run_job() writes one descriptor
 * per command, chained so that a failure skips the rest of the job, and
 * rings the doorbell. The interrupt handler reads the completion records
 * and signals the hardware fence of every job whose last descriptor is done.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/dma-fence.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_gem.h"
#include "lpu_job.h"
#include "lpu_sram.h"

static unsigned int lpu_job_timeout_ms = 10000;
module_param_named(job_timeout_ms, lpu_job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "Time a job may stay on the card before its queue is reset (default 10000)");

/*
 * struct lpu_fence - hardware fence of one job on one queue
 */
struct lpu_fence {
	struct dma_fence base;
	struct lpu_queue *queue;
	/* entry in lpu_queue.pending, which holds a reference */
	struct list_head link;
	/* lpu_queue.submitted after this job's descriptors */
	u32 end;
	/* first error among the job's descriptors */
	int error;
};

static struct lpu_fence *to_lpu_fence(struct dma_fence *f)
{
	return container_of(f, struct lpu_fence, base);
}

static struct lpu_job *to_lpu_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct lpu_job, base);
}

static const char *lpu_fence_get_driver_name(struct dma_fence *f)
{
	return LPU_DRIVER_NAME;
}

static const char *lpu_fence_get_timeline_name(struct dma_fence *f)
{
	return to_lpu_fence(f)->queue->name;
}

static const struct dma_fence_ops lpu_fence_ops = {
	.get_driver_name = lpu_fence_get_driver_name,
	.get_timeline_name = lpu_fence_get_timeline_name,
};

static int lpu_status_to_errno(u32 status)
{
	switch (status) {
	case LPU_STS_OK:
		return 0;
	case LPU_STS_ABORTED:
	case LPU_STS_SKIPPED:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

/* Signal @f, with @error unless 0, and drop the pending list's reference. */
static void lpu_fence_complete_locked(struct lpu_fence *f, int error)
{
	lockdep_assert_held(&f->queue->lock);

	list_del(&f->link);
	if (error)
		dma_fence_set_error(&f->base, error);
	dma_fence_signal_locked(&f->base);
	dma_fence_put(&f->base);
}

/* Retire descriptors up to the device's completion count @hw_count. */
static void lpu_queue_retire_locked(struct lpu_queue *q, u32 hw_count)
{
	u32 outstanding = q->submitted - q->retired;
	u32 done = hw_count - q->retired;

	lockdep_assert_held(&q->lock);

	if (done > outstanding) {
		drm_err_ratelimited(&q->ldev->drm,
				    "%s: completion count %u past submitted %u\n",
				    q->name, hw_count, q->submitted);
		done = outstanding;
	}

	while (done--) {
		struct lpu_hw_cpl *cpl = &q->cpl[q->retired % LPU_RING_ENTRIES];
		struct lpu_fence *f = list_first_entry(&q->pending,
						       struct lpu_fence, link);
		u32 status = le32_to_cpu(cpl->status);

		if (status != LPU_STS_OK && !f->error) {
			drm_dbg_driver(&q->ldev->drm,
				       "%s: job %llu failed, status %u info %llu\n",
				       q->name, f->base.seqno, status,
				       le64_to_cpu(cpl->info));
			f->error = lpu_status_to_errno(status);
		}
		if (++q->retired == f->end)
			lpu_fence_complete_locked(f, f->error);
	}
}

void lpu_queue_irq(struct lpu_queue *q)
{
	unsigned long flags;
	u32 count;

	/* Clear first: a completion after the count read raises it again. */
	lpu_write(q->ldev, LPU_REG_IRQ_CAUSE, LPU_IRQ_QUEUE(q->idx));
	/* readl() orders the completion record reads after this read. */
	count = lpu_qread(q, LPU_Q_CPL_COUNT);

	spin_lock_irqsave(&q->lock, flags);
	lpu_queue_retire_locked(q, count);
	spin_unlock_irqrestore(&q->lock, flags);
}

void lpu_queue_hw_init(struct lpu_queue *q)
{
	lpu_qwrite(q, LPU_Q_CTRL, 0);
	lpu_qwrite(q, LPU_Q_RING_BASE_LO, lower_32_bits(q->ring_dma));
	lpu_qwrite(q, LPU_Q_RING_BASE_HI, upper_32_bits(q->ring_dma));
	lpu_qwrite(q, LPU_Q_CPL_BASE_LO, lower_32_bits(q->cpl_dma));
	lpu_qwrite(q, LPU_Q_CPL_BASE_HI, upper_32_bits(q->cpl_dma));
	lpu_qwrite(q, LPU_Q_RING_SIZE, LPU_RING_ENTRIES);
	lpu_qwrite(q, LPU_Q_CTRL, LPU_Q_CTRL_ENABLE);
}

/*
 * Fail every pending job of @q: the oldest (the one the card was running)
 * with @first_error, the others with @other_error. With @hw, the queue is
 * also reset in hardware and programmed again, ready for new jobs.
 */
static void lpu_queue_fail_locked(struct lpu_queue *q, int first_error,
				  int other_error, bool hw)
{
	struct lpu_fence *f, *tmp;

	lockdep_assert_held(&q->lock);

	if (hw)
		lpu_qwrite(q, LPU_Q_CTRL, LPU_Q_CTRL_RESET);
	list_for_each_entry_safe(f, tmp, &q->pending, link) {
		lpu_fence_complete_locked(f, first_error);
		first_error = other_error;
	}
	q->submitted = 0;
	q->retired = 0;
	if (hw)
		lpu_queue_hw_init(q);
}

/* Called from the event interrupt: the card stopped queue @q. */
void lpu_queue_halted(struct lpu_queue *q)
{
	schedule_work(&q->halt_work);
}

static void lpu_queue_halt_work(struct work_struct *work)
{
	struct lpu_queue *q = container_of(work, struct lpu_queue, halt_work);
	struct lpu_device *ldev = q->ldev;
	unsigned long flags;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return;
	mutex_lock(&ldev->reset_lock);
	spin_lock_irqsave(&q->lock, flags);
	lpu_queue_fail_locked(q, -EIO, -ECANCELED, true);
	spin_unlock_irqrestore(&q->lock, flags);
	mutex_unlock(&ldev->reset_lock);
	drm_dev_exit(idx);
}

/* Fail everything pending on every queue; the card is gone or resetting. */
void lpu_queues_cancel(struct lpu_device *ldev, int error)
{
	unsigned long flags;
	u32 i;

	for (i = 0; i < ldev->queue_count; i++) {
		struct lpu_queue *q = &ldev->queues[i];

		spin_lock_irqsave(&q->lock, flags);
		lpu_queue_fail_locked(q, error, error, false);
		spin_unlock_irqrestore(&q->lock, flags);
	}
}

/* Stop feeding jobs to the card, for a PCI reset. */
void lpu_queues_stop(struct lpu_device *ldev)
{
	u32 i;

	for (i = 0; i < ldev->queue_count; i++)
		drm_sched_wqueue_stop(&ldev->queues[i].sched);
}

void lpu_queues_restart(struct lpu_device *ldev)
{
	u32 i;

	for (i = 0; i < ldev->queue_count; i++)
		drm_sched_wqueue_start(&ldev->queues[i].sched);
}

static void lpu_queue_write_descs_locked(struct lpu_queue *q,
					 struct lpu_job *job, u64 seqno)
{
	u32 i;

	lockdep_assert_held(&q->lock);

	for (i = 0; i < job->desc_count; i++) {
		struct lpu_hw_desc *d = &q->ring[q->submitted % LPU_RING_ENTRIES];

		*d = job->descs[i];
		d->seqno = cpu_to_le64(seqno);
		d->flags = i + 1 < job->desc_count ? LPU_DESC_CHAIN :
						     LPU_DESC_IRQ;
		q->submitted++;
	}
}

static struct dma_fence *lpu_job_run(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);
	struct lpu_queue *q = job->queue;
	unsigned long flags;
	struct lpu_fence *f;
	int idx;

	/* A failed dependency or a killed entity: do not touch the card. */
	if (unlikely(sched_job->s_fence->finished.error))
		return NULL;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return ERR_PTR(-ENOMEM);
	if (!drm_dev_enter(&q->ldev->drm, &idx)) {
		kfree(f);
		return ERR_PTR(-ENODEV);
	}

	f->queue = q;
	spin_lock_irqsave(&q->lock, flags);
	/* The scheduler's credits keep the ring from overflowing. */
	WARN_ON(q->submitted - q->retired + job->desc_count >= LPU_RING_ENTRIES);
	dma_fence_init(&f->base, &lpu_fence_ops, &q->lock, q->fence_context,
		       ++q->fence_seqno);
	lpu_queue_write_descs_locked(q, job, f->base.seqno);
	f->end = q->submitted;
	list_add_tail(&f->link, &q->pending);
	job->hw_fence = dma_fence_get(&f->base);
	/* writel() orders the descriptor writes before the doorbell. */
	lpu_qwrite(q, LPU_Q_DOORBELL, q->submitted % LPU_RING_ENTRIES);
	spin_unlock_irqrestore(&q->lock, flags);
	drm_dev_exit(idx);

	return dma_fence_get(&f->base);
}

static enum drm_gpu_sched_stat lpu_job_timedout(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);
	struct lpu_queue *q = job->queue;
	struct lpu_device *ldev = q->ldev;
	bool present, running;
	unsigned long flags;
	int idx;

	present = drm_dev_enter(&ldev->drm, &idx);

	mutex_lock(&ldev->reset_lock);
	spin_lock_irqsave(&q->lock, flags);
	running = job->hw_fence && !list_empty(&q->pending) &&
		  list_first_entry(&q->pending, struct lpu_fence, link) ==
		  to_lpu_fence(job->hw_fence);
	if (running) {
		drm_dbg_driver(&ldev->drm, "%s: job %llu timed out, resetting\n",
			       q->name, job->hw_fence->seqno);
		lpu_queue_fail_locked(q, -ETIMEDOUT, -ECANCELED, present);
	}
	spin_unlock_irqrestore(&q->lock, flags);

	/* Puts the job back on the pending list and reaps finished jobs. */
	drm_sched_stop(&q->sched, sched_job);
	drm_sched_start(&q->sched);
	mutex_unlock(&ldev->reset_lock);

	if (!present)
		return DRM_GPU_SCHED_STAT_ENODEV;
	drm_dev_exit(idx);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void lpu_job_destroy(struct lpu_job *job)
{
	u32 i;

	drm_sched_job_cleanup(&job->base);
	for (i = 0; i < job->bo_count; i++)
		drm_gem_object_put(job->bos[i]);
	for (i = 0; i < job->sram_count; i++)
		lpu_sram_put(job->srams[i]);
	dma_fence_put(job->hw_fence);
	kfree(job->bos);
	kfree(job->srams);
	kvfree(job->descs);
	kfree(job);
}

static void lpu_job_free(struct drm_sched_job *sched_job)
{
	lpu_job_destroy(to_lpu_job(sched_job));
}

static const struct drm_sched_backend_ops lpu_sched_ops = {
	.run_job = lpu_job_run,
	.timedout_job = lpu_job_timedout,
	.free_job = lpu_job_free,
};

static void lpu_queue_sched_fini(struct drm_device *drm, void *arg)
{
	struct lpu_queue *q = arg;

	cancel_work_sync(&q->halt_work);
	/* remove() signalled every hardware fence: this frees their jobs. */
	drm_sched_stop(&q->sched, NULL);
	drm_sched_fini(&q->sched);
}

static int lpu_queue_init(struct lpu_device *ldev, u32 idx)
{
	struct lpu_queue *q = &ldev->queues[idx];
	struct device *dev = ldev->drm.dev;
	int ret;

	q->ldev = ldev;
	q->idx = idx;
	snprintf(q->name, sizeof(q->name), "lpu-q%u", idx);
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->pending);
	INIT_WORK(&q->halt_work, lpu_queue_halt_work);
	q->fence_context = dma_fence_context_alloc(1);

	q->ring = dmam_alloc_coherent(dev, LPU_RING_ENTRIES * LPU_DESC_SIZE,
				      &q->ring_dma, GFP_KERNEL);
	q->cpl = dmam_alloc_coherent(dev, LPU_RING_ENTRIES * LPU_CPL_SIZE,
				     &q->cpl_dma, GFP_KERNEL);
	if (!q->ring || !q->cpl)
		return -ENOMEM;

	ret = drm_sched_init(&q->sched, &lpu_sched_ops, NULL,
			     DRM_SCHED_PRIORITY_COUNT, LPU_RING_ENTRIES - 1, 0,
			     msecs_to_jiffies(lpu_job_timeout_ms), NULL, NULL,
			     q->name, dev);
	if (ret)
		return ret;
	return drmm_add_action_or_reset(&ldev->drm, lpu_queue_sched_fini, q);
}

int lpu_queues_init(struct lpu_device *ldev)
{
	u32 i;
	int ret;

	BUILD_BUG_ON(sizeof(struct lpu_hw_desc) != LPU_DESC_SIZE);
	BUILD_BUG_ON(sizeof(struct lpu_hw_cpl) != LPU_CPL_SIZE);
	BUILD_BUG_ON(sizeof(struct drm_lpu_cmd) != 64);
	BUILD_BUG_ON(DRM_LPU_MAX_CMDS >= LPU_RING_ENTRIES);

	for (i = 0; i < ldev->queue_count; i++) {
		ret = lpu_queue_init(ldev, i);
		if (ret)
			return ret;
	}
	return 0;
}

int lpu_file_entities_init(struct lpu_file *lfile)
{
	struct lpu_device *ldev = lfile->ldev;
	u32 i;
	int ret;

	for (i = 0; i < ldev->queue_count; i++) {
		struct drm_gpu_scheduler *sched = &ldev->queues[i].sched;

		ret = drm_sched_entity_init(&lfile->entities[i],
					    DRM_SCHED_PRIORITY_NORMAL,
					    &sched, 1, NULL);
		if (ret)
			goto err_fini;
	}
	return 0;

err_fini:
	while (i--)
		drm_sched_entity_destroy(&lfile->entities[i]);
	return ret;
}

void lpu_file_entities_fini(struct lpu_file *lfile)
{
	u32 i;

	for (i = 0; i < lfile->ldev->queue_count; i++)
		drm_sched_entity_destroy(&lfile->entities[i]);
}

/* ---- submit ioctl ------------------------------------------------------ */

/* An out-sync to signal with the job's fence once the job is queued. */
struct lpu_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

static bool lpu_is_zero(const void *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

static int lpu_job_parse_dma(struct lpu_job *job, struct drm_file *file,
			     const struct drm_lpu_cmd *cmd,
			     struct lpu_hw_desc *desc)
{
	const struct drm_lpu_cmd_dma *dma = &cmd->dma;
	struct drm_gem_object *obj;
	struct lpu_sram *sram;
	struct lpu_bo *bo;
	u64 end;
	int ret;

	if (!lpu_is_zero(dma->reserved, sizeof(dma->reserved)) || !dma->size)
		return -EINVAL;

	obj = drm_gem_object_lookup(file, dma->bo_handle);
	if (!obj)
		return -ENOENT;
	job->bos[job->bo_count++] = obj;
	sram = lpu_sram_lookup(file->driver_priv, dma->sram_handle);
	if (!sram)
		return -ENOENT;
	job->srams[job->sram_count++] = sram;

	if (check_add_overflow(dma->bo_offset, dma->size, &end) ||
	    end > obj->size)
		return -ERANGE;
	if (check_add_overflow(dma->sram_offset, dma->size, &end) ||
	    end > lpu_sram_size(sram))
		return -ERANGE;

	bo = to_lpu_bo(obj);
	ret = lpu_bo_prepare_dma(bo);
	if (ret)
		return ret;

	desc->opcode = cmd->op == DRM_LPU_CMD_DMA_TO_SRAM ?
		       LPU_OP_DMA_TO_SRAM : LPU_OP_DMA_FROM_SRAM;
	desc->dma.sg_addr = cpu_to_le64(bo->sg_dma);
	desc->dma.sg_count = cpu_to_le32(bo->sg_count);
	desc->dma.sg_offset = cpu_to_le64(dma->bo_offset);
	desc->dma.sram_addr = cpu_to_le64(lpu_sram_addr(sram) +
					  dma->sram_offset);
	desc->dma.length = cpu_to_le64(dma->size);
	return 0;
}

static int lpu_job_parse_cmd(struct lpu_job *job, struct drm_file *file,
			     const struct drm_lpu_cmd *cmd,
			     struct lpu_hw_desc *desc)
{
	if (cmd->flags)
		return -EINVAL;

	switch (cmd->op) {
	case DRM_LPU_CMD_NOP:
	case DRM_LPU_CMD_FENCE:
		if (!lpu_is_zero(cmd->raw, sizeof(cmd->raw)))
			return -EINVAL;
		desc->opcode = cmd->op == DRM_LPU_CMD_NOP ? LPU_OP_NOP :
							    LPU_OP_FENCE;
		return 0;
	case DRM_LPU_CMD_DMA_TO_SRAM:
	case DRM_LPU_CMD_DMA_FROM_SRAM:
		return lpu_job_parse_dma(job, file, cmd, desc);
	default:
		/* DRM_LPU_CMD_EXEC too: the card does not run programs yet. */
		return -EINVAL;
	}
}

static int lpu_job_create(struct drm_file *file, u32 queue,
			  const struct drm_lpu_cmd *cmds, u32 count,
			  struct lpu_job **out)
{
	struct lpu_file *lfile = file->driver_priv;
	struct lpu_job *job;
	u32 i;
	int ret;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	ret = drm_sched_job_init(&job->base, &lfile->entities[queue], count,
				 lfile);
	if (ret) {
		kfree(job);
		return ret;
	}
	job->queue = &lfile->ldev->queues[queue];

	job->descs = kvcalloc(count, sizeof(*job->descs), GFP_KERNEL);
	job->bos = kcalloc(count, sizeof(*job->bos), GFP_KERNEL);
	job->srams = kcalloc(count, sizeof(*job->srams), GFP_KERNEL);
	if (!job->descs || !job->bos || !job->srams) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	job->desc_count = count;

	for (i = 0; i < count; i++) {
		ret = lpu_job_parse_cmd(job, file, &cmds[i], &job->descs[i]);
		if (ret)
			goto err_destroy;
	}
	*out = job;
	return 0;

err_destroy:
	lpu_job_destroy(job);
	return ret;
}

static int lpu_job_add_in_syncs(struct lpu_job *job, struct drm_file *file,
				u64 uptr, u32 count)
{
	struct drm_lpu_sync *syncs;
	struct dma_fence *fence;
	int ret = 0;
	u32 i;

	if (!count)
		return 0;
	syncs = memdup_array_user(u64_to_user_ptr(uptr), count, sizeof(*syncs));
	if (IS_ERR(syncs))
		return PTR_ERR(syncs);

	for (i = 0; i < count && !ret; i++) {
		if (syncs[i].flags) {
			ret = -EINVAL;
			break;
		}
		ret = drm_syncobj_find_fence(file, syncs[i].handle,
					     syncs[i].point, 0, &fence);
		if (!ret)
			ret = drm_sched_job_add_dependency(&job->base, fence);
	}
	kfree(syncs);
	return ret;
}

static void lpu_out_syncs_put(struct lpu_out_sync *outs, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++) {
		if (outs[i].syncobj)
			drm_syncobj_put(outs[i].syncobj);
		dma_fence_chain_free(outs[i].chain);
	}
	kfree(outs);
}

static int lpu_out_syncs_get(struct drm_file *file, u64 uptr, u32 count,
			     struct lpu_out_sync **out)
{
	struct lpu_out_sync *outs;
	struct drm_lpu_sync *syncs;
	int ret = 0;
	u32 i;

	*out = NULL;
	if (!count)
		return 0;
	syncs = memdup_array_user(u64_to_user_ptr(uptr), count, sizeof(*syncs));
	if (IS_ERR(syncs))
		return PTR_ERR(syncs);
	outs = kcalloc(count, sizeof(*outs), GFP_KERNEL);
	if (!outs) {
		kfree(syncs);
		return -ENOMEM;
	}

	for (i = 0; i < count; i++) {
		if (syncs[i].flags) {
			ret = -EINVAL;
			break;
		}
		outs[i].syncobj = drm_syncobj_find(file, syncs[i].handle);
		if (!outs[i].syncobj) {
			ret = -ENOENT;
			break;
		}
		outs[i].point = syncs[i].point;
		if (outs[i].point) {
			outs[i].chain = dma_fence_chain_alloc();
			if (!outs[i].chain) {
				ret = -ENOMEM;
				break;
			}
		}
	}
	kfree(syncs);
	if (ret) {
		lpu_out_syncs_put(outs, count);
		return ret;
	}
	*out = outs;
	return 0;
}

static void lpu_out_syncs_signal(struct lpu_out_sync *outs, u32 count,
				 struct dma_fence *fence)
{
	u32 i;

	for (i = 0; i < count; i++) {
		if (outs[i].chain) {
			drm_syncobj_add_point(outs[i].syncobj, outs[i].chain,
					      fence, outs[i].point);
			outs[i].chain = NULL;
		} else {
			drm_syncobj_replace_fence(outs[i].syncobj, fence);
		}
	}
}

static int lpu_submit_check(struct lpu_device *ldev,
			    const struct drm_lpu_submit *args)
{
	if (args->flags || args->pad)
		return -EINVAL;
	if (args->queue >= ldev->queue_count || !args->cmd_count)
		return -EINVAL;
	if (args->cmd_count > DRM_LPU_MAX_CMDS ||
	    args->in_sync_count > DRM_LPU_MAX_SYNCS ||
	    args->out_sync_count > DRM_LPU_MAX_SYNCS)
		return -E2BIG;
	return 0;
}

/* Everything that can fail happens before the job is armed. */
int lpu_submit_ioctl(struct drm_device *dev, void *data,
		     struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(dev);
	struct lpu_file *lfile = file->driver_priv;
	struct drm_lpu_submit *args = data;
	struct lpu_out_sync *outs;
	struct drm_lpu_cmd *cmds;
	struct dma_fence *done;
	struct lpu_job *job;
	int ret, idx;

	ret = lpu_submit_check(ldev, args);
	if (ret)
		return ret;
	if (!drm_dev_enter(dev, &idx))
		return -ENODEV;

	cmds = memdup_array_user(u64_to_user_ptr(args->cmds), args->cmd_count,
				 sizeof(*cmds));
	if (IS_ERR(cmds)) {
		ret = PTR_ERR(cmds);
		goto err_exit;
	}
	ret = lpu_job_create(file, args->queue, cmds, args->cmd_count, &job);
	kfree(cmds);
	if (ret)
		goto err_exit;

	ret = lpu_job_add_in_syncs(job, file, args->in_syncs,
				   args->in_sync_count);
	if (ret)
		goto err_destroy_job;
	ret = lpu_out_syncs_get(file, args->out_syncs, args->out_sync_count,
				&outs);
	if (ret)
		goto err_destroy_job;

	mutex_lock(&lfile->submit_lock);
	drm_sched_job_arm(&job->base);
	done = dma_fence_get(&job->base.s_fence->finished);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&lfile->submit_lock);

	lpu_out_syncs_signal(outs, args->out_sync_count, done);
	lpu_out_syncs_put(outs, args->out_sync_count);
	args->job_id = done->seqno;
	dma_fence_put(done);
	drm_dev_exit(idx);
	return 0;

err_destroy_job:
	lpu_job_destroy(job);
err_exit:
	drm_dev_exit(idx);
	return ret;
}
