// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: jobs, their scheduling and the submit ioctl.
 *
 * A hardware queue has a drm_gpu_scheduler and each open file one entity
 * per queue. The submit ioctl checks everything, builds a job of
 * descriptors (lpu_cmd.c) and pushes it to the file's entity; run_job()
 * puts it on the ring (lpu_queue.c); free_job() drops what it held.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/dma-fence.h>
#include <linux/dma-fence-chain.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_job.h"
#include "lpu_queue.h"
#include "lpu_sram.h"

static unsigned int lpu_job_timeout_ms = 10000;
module_param_named(job_timeout_ms, lpu_job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "Time a job may stay on the card without progress (default 10000)");

long lpu_job_timeout(void)
{
	return msecs_to_jiffies(lpu_job_timeout_ms);
}

static struct lpu_job *to_lpu_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct lpu_job, base);
}

/* True if an in-sync of the job signalled with an error. */
static bool lpu_job_dependency_failed(struct lpu_job *job)
{
	u32 i;

	for (i = 0; i < job->in_count; i++)
		if (job->in_fences[i]->error)
			return true;
	return false;
}

static struct dma_fence *lpu_job_run(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);

	/* A killed entity: do not touch the card. */
	if (unlikely(sched_job->s_fence->finished.error))
		return NULL;
	/* What this job was to consume was not produced. */
	if (lpu_job_dependency_failed(job))
		return ERR_PTR(-ECANCELED);
	/* Cancelled by its file, or the file is closing. */
	if (sched_job->s_fence->finished.seqno <=
	    READ_ONCE(job->lfile->cancel_upto[job->queue->idx]))
		return ERR_PTR(-ECANCELED);
	return lpu_queue_push(job->queue, job);
}

/* Put a job the timeout handler took off the pending list back on it. */
static void lpu_job_skip_reset(struct drm_sched_job *sched_job)
{
	struct drm_gpu_scheduler *sched = sched_job->sched;

	spin_lock(&sched->job_list_lock);
	list_add(&sched_job->list, &sched->pending_list);
	spin_unlock(&sched->job_list_lock);
}

static enum drm_gpu_sched_stat lpu_job_timedout(struct drm_sched_job *sched_job)
{
	struct lpu_job *job = to_lpu_job(sched_job);
	struct lpu_queue *q = job->queue;
	struct lpu_device *ldev = q->ldev;
	enum lpu_hang_action action;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx)) {
		lpu_queue_fail_all(q, -ENODEV);
		drm_sched_stop(&q->sched, sched_job);
		drm_sched_start(&q->sched);
		return DRM_GPU_SCHED_STAT_ENODEV;
	}

	mutex_lock(&ldev->reset_lock);
	action = lpu_queue_check_hang(q, job);
	switch (action) {
	case LPU_HANG_PROGRESS:
	case LPU_HANG_ABORTED:
		lpu_job_skip_reset(sched_job);
		break;
	case LPU_HANG_RESET:
		drm_dbg_driver(&ldev->drm, "%s: job timed out, queue reset\n",
			       q->name);
		fallthrough;
	case LPU_HANG_NONE:
		/* Puts the job back on the pending list, reaps finished ones. */
		drm_sched_stop(&q->sched, sched_job);
		drm_sched_start(&q->sched);
		break;
	}
	mutex_unlock(&ldev->reset_lock);
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
	if (job->progress)
		drm_syncobj_put(job->progress);
	for (i = 0; i < job->in_count; i++)
		dma_fence_put(job->in_fences[i]);
	kfree(job->in_fences);
	dma_fence_put(job->hw_fence);
	lpu_file_put(job->lfile);
	kfree(job->exec_params);
	kfree(job->bos);
	kfree(job->srams);
	kvfree(job->descs);
	kfree(job);
}

static void lpu_job_free(struct drm_sched_job *sched_job)
{
	lpu_job_destroy(to_lpu_job(sched_job));
}

const struct drm_sched_backend_ops lpu_sched_ops = {
	.run_job = lpu_job_run,
	.timedout_job = lpu_job_timedout,
	.free_job = lpu_job_free,
};

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

/*
 * Cancel @lfile's jobs on queue @queue with a job_id up to @last_id, but
 * never jobs not submitted yet.
 */
static void lpu_file_cancel(struct lpu_file *lfile, u32 queue, u64 last_id)
{
	mutex_lock(&lfile->submit_lock);
	/* Under submit_lock no job is being armed: this is the last job_id. */
	last_id = min_t(u64, last_id,
			(u32)atomic_read(&lfile->entities[queue].fence_seq));
	if (last_id > lfile->cancel_upto[queue])
		WRITE_ONCE(lfile->cancel_upto[queue], last_id);
	mutex_unlock(&lfile->submit_lock);
	lpu_queue_abort_file(&lfile->ldev->queues[queue], lfile, last_id);
}

/*
 * The file is closing: drop its jobs that are not on the card yet, stop
 * its programs that are, and wait until its entities are empty.
 */
void lpu_file_entities_fini(struct lpu_file *lfile)
{
	u32 i;

	for (i = 0; i < lfile->ldev->queue_count; i++) {
		lpu_file_cancel(lfile, i, U64_MAX);
		drm_sched_entity_destroy(&lfile->entities[i]);
	}
}

int lpu_job_cancel_ioctl(struct drm_device *dev, void *data,
			 struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(dev);
	struct drm_lpu_job_cancel *args = data;

	if (args->flags || args->queue >= ldev->queue_count)
		return -EINVAL;
	lpu_file_cancel(file->driver_priv, args->queue, args->job_id);
	return 0;
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
	lpu_file_get(lfile);
	job->lfile = lfile;

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
	job->in_fences = kcalloc(count, sizeof(*job->in_fences), GFP_KERNEL);
	if (!job->in_fences) {
		kfree(syncs);
		return -ENOMEM;
	}

	for (i = 0; i < count && !ret; i++) {
		if (syncs[i].flags) {
			ret = -EINVAL;
			break;
		}
		ret = drm_syncobj_find_fence(file, syncs[i].handle,
					     syncs[i].point, 0, &fence);
		if (ret)
			break;
		/* The scheduler consumes its reference; this one is ours. */
		job->in_fences[job->in_count++] = dma_fence_get(fence);
		ret = drm_sched_job_add_dependency(&job->base, fence);
	}
	kfree(syncs);
	return ret;
}

/* An out-sync to signal with the job's fence once the job is queued. */
struct lpu_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

static void lpu_out_syncs_put(struct lpu_out_sync *outs, u32 count)
{
	u32 i;

	for (i = 0; outs && i < count; i++) {
		if (outs[i].syncobj)
			drm_syncobj_put(outs[i].syncobj);
		dma_fence_chain_free(outs[i].chain);
	}
	kfree(outs);
}

static int lpu_out_sync_get(struct drm_file *file,
			    const struct drm_lpu_sync *sync,
			    struct lpu_out_sync *out)
{
	if (sync->flags)
		return -EINVAL;
	out->syncobj = drm_syncobj_find(file, sync->handle);
	if (!out->syncobj)
		return -ENOENT;
	out->point = sync->point;
	if (out->point) {
		out->chain = dma_fence_chain_alloc();
		if (!out->chain)
			return -ENOMEM;
	}
	return 0;
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

	for (i = 0; i < count && !ret; i++)
		ret = lpu_out_sync_get(file, &syncs[i], &outs[i]);
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

	BUILD_BUG_ON(sizeof(struct drm_lpu_cmd) != 64);
	BUILD_BUG_ON(DRM_LPU_MAX_CMDS >= LPU_RING_ENTRIES);

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
