/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: hardware queues, rings and hardware fences.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_QUEUE_H__
#define __LPU_QUEUE_H__

struct dma_fence;
struct lpu_device;
struct lpu_file;
struct lpu_job;
struct lpu_queue;

/* What the watchdog did about a job whose time ran out */
enum lpu_hang_action {
	LPU_HANG_NONE,		/* the job is not on the card any more */
	LPU_HANG_PROGRESS,	/* its program emitted tokens: let it run */
	LPU_HANG_ABORTED,	/* its program was asked to stop */
	LPU_HANG_RESET,		/* the queue was reset, the job failed */
};

int lpu_queues_init(struct lpu_device *ldev, long timeout);
void lpu_queue_hw_init(struct lpu_queue *q);
struct dma_fence *lpu_queue_push(struct lpu_queue *q, struct lpu_job *job);
void lpu_queue_irq(struct lpu_queue *q);
void lpu_queue_halted(struct lpu_queue *q);
enum lpu_hang_action lpu_queue_check_hang(struct lpu_queue *q,
					  struct lpu_job *job);
void lpu_queue_fail_all(struct lpu_queue *q, int error);

void lpu_queues_cancel(struct lpu_device *ldev, int error);
void lpu_queues_stop(struct lpu_device *ldev);
void lpu_queues_restart(struct lpu_device *ldev);
void lpu_queue_abort_file(struct lpu_queue *q, struct lpu_file *lfile,
			  u64 last_id);

#endif /* __LPU_QUEUE_H__ */
