// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: hardware queues, their rings and hardware fences.
 *
 * Each queue has a descriptor ring, a completion ring and an EXEC
 * parameter block per ring slot, all in coherent host memory. A job's
 * descriptors are written at the ring tail, chained so that a failure
 * skips the rest of the job, and the doorbell is rung. The queue's
 * interrupt thread reads the completion records, signals the hardware
 * fence of each finished job and turns token progress of a running program
 * into points of its progress timeline syncobj.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/dma-fence.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "lpu_drv.h"
#include "lpu_job.h"
#include "lpu_queue.h"

/* Progress points handed from the locked retire path to the syncobjs. */
#define LPU_MAX_UPDATES		8

/*
 * struct lpu_fence - hardware fence of one job on one queue
 *
 * Lives on lpu_queue.pending (which holds a reference) from the doorbell
 * until its last descriptor retires. While it is pending, its job is
 * alive, so the borrowed @owner and @progress are valid.
 */
struct lpu_fence {
	struct dma_fence base;
	struct lpu_queue *queue;
	struct list_head link;
	/* lpu_queue.submitted after this job's descriptors */
	u32 end;
	/* first error among the job's descriptors */
	int error;
	/* the file that submitted the job, and its job_id there */
	struct lpu_file *owner;
	u64 job_id;
	/* ring slot of the job's EXEC descriptor, or -1 */
	int exec_slot;
	/* progress timeline of the EXEC (the job's reference), or NULL */
	struct drm_syncobj *progress;
	/* highest progress point handed out for signalling */
	u32 progress_seen;
};

struct lpu_progress_update {
	struct drm_syncobj *syncobj;
	u64 point;
};

static struct lpu_fence *to_lpu_fence(struct dma_fence *f)
{
	return container_of(f, struct lpu_fence, base);
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
	case LPU_STS_CYCLE_LIMIT:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

static struct lpu_fence *lpu_queue_oldest_locked(struct lpu_queue *q)
{
	lockdep_assert_held(&q->lock);

	return list_first_entry_or_null(&q->pending, struct lpu_fence, link);
}

/* Fence number of the EXEC that PROGRESS and PROGRESS_KCYCLES count. */
static u64 lpu_queue_progress_seq(struct lpu_queue *q)
{
	return lpu_qread(q, LPU_Q_PROGRESS_SEQ_LO) |
	       (u64)lpu_qread(q, LPU_Q_PROGRESS_SEQ_HI) << 32;
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

/* Queue point @tokens of @f's progress timeline, if it is a new point. */
static bool lpu_progress_note_locked(struct lpu_fence *f, u32 tokens,
				     struct lpu_progress_update *ups, u32 *n)
{
	lockdep_assert_held(&f->queue->lock);

	if (!f->progress || tokens <= f->progress_seen)
		return true;
	if (*n == LPU_MAX_UPDATES)
		return false;
	f->progress_seen = tokens;
	drm_syncobj_get(f->progress);
	ups[*n].syncobj = f->progress;
	ups[*n].point = tokens;
	(*n)++;
	return true;
}

/*
 * Retire descriptors up to the device's completion count @hw_count.
 * Returns false when @ups filled up before everything was retired.
 */
static bool lpu_queue_retire_locked(struct lpu_queue *q, u32 hw_count,
				    struct lpu_progress_update *ups, u32 *n)
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
		struct lpu_fence *f = lpu_queue_oldest_locked(q);
		u32 status = le32_to_cpu(cpl->status);

		if (le32_to_cpu(cpl->opcode) == LPU_OP_EXEC &&
		    !lpu_progress_note_locked(f, lower_32_bits(le64_to_cpu(cpl->info)),
					      ups, n))
			return false;
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
	return true;
}

/* Token progress of the program running now. */
static void lpu_queue_progress_locked(struct lpu_queue *q, u64 seqno,
				      u32 tokens,
				      struct lpu_progress_update *ups, u32 *n)
{
	struct lpu_fence *f;

	lockdep_assert_held(&q->lock);

	f = lpu_queue_oldest_locked(q);
	if (f && f->base.seqno == seqno)
		lpu_progress_note_locked(f, tokens, ups, n);
}

static void lpu_progress_signal(struct lpu_progress_update *ups, u32 n)
{
	struct dma_fence_chain *chain;
	struct dma_fence *stub;
	u32 i;

	for (i = 0; i < n; i++) {
		chain = dma_fence_chain_alloc();
		stub = dma_fence_allocate_private_stub(ktime_get());
		if (chain && !IS_ERR(stub)) {
			drm_syncobj_add_point(ups[i].syncobj, chain, stub,
					      ups[i].point);
			chain = NULL;
		}
		dma_fence_chain_free(chain);
		if (!IS_ERR(stub))
			dma_fence_put(stub);
		drm_syncobj_put(ups[i].syncobj);
	}
}

/* The queue's interrupt thread. */
void lpu_queue_irq(struct lpu_queue *q)
{
	struct lpu_progress_update ups[LPU_MAX_UPDATES];
	unsigned long flags;
	u32 count, tokens, n;
	bool all;
	u64 seq;

	/* Clear first: a completion after the reads raises it again. */
	lpu_write(q->ldev, LPU_REG_IRQ_CAUSE, LPU_IRQ_QUEUE(q->idx));
	do {
		/* readl() orders the completion record reads after it. */
		count = lpu_qread(q, LPU_Q_CPL_COUNT);
		seq = lpu_queue_progress_seq(q);
		tokens = lpu_qread(q, LPU_Q_PROGRESS);

		n = 0;
		spin_lock_irqsave(&q->lock, flags);
		all = lpu_queue_retire_locked(q, count, ups, &n);
		if (all)
			lpu_queue_progress_locked(q, seq, tokens, ups, &n);
		spin_unlock_irqrestore(&q->lock, flags);

		lpu_progress_signal(ups, n);
	} while (!all);
}

void lpu_queue_hw_init(struct lpu_queue *q)
{
	lpu_qwrite(q, LPU_Q_CTRL, 0);
	lpu_qwrite(q, LPU_Q_RING_BASE_LO, lower_32_bits(q->ring_dma));
	lpu_qwrite(q, LPU_Q_RING_BASE_HI, upper_32_bits(q->ring_dma));
	lpu_qwrite(q, LPU_Q_CPL_BASE_LO, lower_32_bits(q->cpl_dma));
	lpu_qwrite(q, LPU_Q_CPL_BASE_HI, upper_32_bits(q->cpl_dma));
	lpu_qwrite(q, LPU_Q_RING_SIZE, LPU_RING_ENTRIES);
	lpu_qwrite(q, LPU_Q_IRQ_COALESCE, 1);
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

/*
 * Ask the card to stop the programs of @lfile's jobs on @q with a job_id up
 * to @last_id. The card rereads the abort word between instruction slices.
 */
void lpu_queue_abort_file(struct lpu_queue *q, struct lpu_file *lfile,
			  u64 last_id)
{
	struct lpu_fence *f;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	list_for_each_entry(f, &q->pending, link)
		if (f->owner == lfile && f->job_id <= last_id && f->exec_slot >= 0)
			WRITE_ONCE(q->params[f->exec_slot].abort,
				   cpu_to_le32(1));
	spin_unlock_irqrestore(&q->lock, flags);
}

static void lpu_queue_write_descs_locked(struct lpu_queue *q,
					 struct lpu_job *job,
					 struct lpu_fence *f)
{
	u32 i;

	lockdep_assert_held(&q->lock);

	for (i = 0; i < job->desc_count; i++) {
		u32 slot = q->submitted % LPU_RING_ENTRIES;
		struct lpu_hw_desc *d = &q->ring[slot];

		*d = job->descs[i];
		d->seqno = cpu_to_le64(f->base.seqno);
		d->flags = i + 1 < job->desc_count ? LPU_DESC_CHAIN :
						     LPU_DESC_IRQ;
		if (d->opcode == LPU_OP_EXEC) {
			q->params[slot] = *job->exec_params;
			d->exec.params_addr =
				cpu_to_le64(q->params_dma + slot * sizeof(*q->params));
			d->exec.params_size = cpu_to_le32(sizeof(*q->params));
			f->exec_slot = slot;
		}
		q->submitted++;
	}
}

/*
 * Put @job on the card. Returns its hardware fence (a reference for the
 * caller; the job keeps another in hw_fence) or an ERR_PTR.
 */
struct dma_fence *lpu_queue_push(struct lpu_queue *q, struct lpu_job *job)
{
	unsigned long flags;
	struct lpu_fence *f;
	int idx;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return ERR_PTR(-ENOMEM);
	if (!drm_dev_enter(&q->ldev->drm, &idx)) {
		kfree(f);
		return ERR_PTR(-ENODEV);
	}

	f->queue = q;
	f->owner = job->lfile;
	f->job_id = job->base.s_fence->finished.seqno;
	f->exec_slot = -1;
	f->progress = job->progress;
	spin_lock_irqsave(&q->lock, flags);
	/* The scheduler's credits keep the ring from overflowing. */
	WARN_ON(q->submitted - q->retired + job->desc_count >= LPU_RING_ENTRIES);
	dma_fence_init(&f->base, &lpu_fence_ops, &q->lock, q->fence_context,
		       ++q->fence_seqno);
	lpu_queue_write_descs_locked(q, job, f);
	/* A cancel that raced with run_job() finds the job here. */
	if (f->exec_slot >= 0 &&
	    f->job_id <= READ_ONCE(job->lfile->cancel_upto[q->idx]))
		q->params[f->exec_slot].abort = cpu_to_le32(1);
	f->end = q->submitted;
	list_add_tail(&f->link, &q->pending);
	job->hw_fence = dma_fence_get(&f->base);
	/* writel() orders the descriptor writes before the doorbell. */
	lpu_qwrite(q, LPU_Q_DOORBELL, q->submitted % LPU_RING_ENTRIES);
	spin_unlock_irqrestore(&q->lock, flags);
	drm_dev_exit(idx);

	return dma_fence_get(&f->base);
}

/*
 * Has @job's program, the one PROGRESS_SEQ names, made progress since the
 * last check? It has if it emitted tokens or, when it runs under a cycle
 * limit (the card stops it there anyway), if it ran more cycles. A program
 * without a limit must emit within every timeout.
 */
static bool lpu_job_progressed(struct lpu_job *job, u32 tokens, u32 kcycles)
{
	bool progress = tokens != job->watch_tokens ||
			(job->max_kcycles && kcycles != job->watch_kcycles);

	job->watch_tokens = tokens;
	job->watch_kcycles = kcycles;
	return progress;
}

/*
 * Watchdog: decide what to do with @job, whose time on the card is up.
 * A program that made progress since the last check (lpu_job_progressed())
 * goes on; a program that did not is first aborted; anything else that is
 * still running is reset with its queue.
 */
enum lpu_hang_action lpu_queue_check_hang(struct lpu_queue *q,
					  struct lpu_job *job)
{
	enum lpu_hang_action action = LPU_HANG_NONE;
	u32 tokens, kcycles;
	struct lpu_fence *f;
	unsigned long flags;
	bool moved;
	u64 seq;

	seq = lpu_queue_progress_seq(q);
	tokens = lpu_qread(q, LPU_Q_PROGRESS);
	kcycles = lpu_qread(q, LPU_Q_PROGRESS_KCYCLES);
	/* The EXEC of @seq ended and the next began while we read. */
	moved = lpu_queue_progress_seq(q) != seq;

	spin_lock_irqsave(&q->lock, flags);
	f = lpu_queue_oldest_locked(q);
	if (!job->hw_fence || !f || &f->base != job->hw_fence)
		goto out_unlock;

	if (f->exec_slot >= 0 && seq == f->base.seqno &&
	    (moved || lpu_job_progressed(job, tokens, kcycles))) {
		action = LPU_HANG_PROGRESS;
	} else if (f->exec_slot >= 0 && !job->abort_sent) {
		/* The abort word also stops a program not started yet. */
		job->abort_sent = true;
		f->error = -ETIMEDOUT;
		WRITE_ONCE(q->params[f->exec_slot].abort, cpu_to_le32(1));
		lpu_qwrite(q, LPU_Q_ABORT, 1);
		action = LPU_HANG_ABORTED;
	} else {
		lpu_queue_fail_locked(q, -ETIMEDOUT, -ECANCELED, true);
		action = LPU_HANG_RESET;
	}
out_unlock:
	spin_unlock_irqrestore(&q->lock, flags);
	return action;
}

/* A queue without the card: fail what is left, for the timeout handler. */
void lpu_queue_fail_all(struct lpu_queue *q, int error)
{
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	lpu_queue_fail_locked(q, error, error, false);
	spin_unlock_irqrestore(&q->lock, flags);
}

static void lpu_queue_sched_fini(struct drm_device *drm, void *arg)
{
	struct lpu_queue *q = arg;

	cancel_work_sync(&q->halt_work);
	/* remove() signalled every hardware fence: this frees their jobs. */
	drm_sched_stop(&q->sched, NULL);
	drm_sched_fini(&q->sched);
}

static int lpu_queue_init(struct lpu_device *ldev, u32 idx, long timeout)
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
	q->params = dmam_alloc_coherent(dev, LPU_RING_ENTRIES *
					LPU_EXEC_PARAMS_SIZE,
					&q->params_dma, GFP_KERNEL);
	if (!q->ring || !q->cpl || !q->params)
		return -ENOMEM;

	ret = drm_sched_init(&q->sched, &lpu_sched_ops, NULL,
			     DRM_SCHED_PRIORITY_COUNT, LPU_RING_ENTRIES - 1, 0,
			     timeout, NULL, NULL, q->name, dev);
	if (ret)
		return ret;
	return drmm_add_action_or_reset(&ldev->drm, lpu_queue_sched_fini, q);
}

int lpu_queues_init(struct lpu_device *ldev, long timeout)
{
	u32 i;
	int ret;

	BUILD_BUG_ON(sizeof(struct lpu_hw_desc) != LPU_DESC_SIZE);
	BUILD_BUG_ON(sizeof(struct lpu_hw_cpl) != LPU_CPL_SIZE);
	BUILD_BUG_ON(sizeof(struct lpu_hw_exec_params) != LPU_EXEC_PARAMS_SIZE);

	for (i = 0; i < ldev->queue_count; i++) {
		ret = lpu_queue_init(ldev, i, timeout);
		if (ret)
			return ret;
	}
	return 0;
}
