// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: debugfs files under /sys/kernel/debug/accel/N/:
 *   regs    the global registers and every queue's registers
 *   queues  the driver's view of each queue
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/seq_file.h>
#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "lpu_debugfs.h"
#include "lpu_drv.h"

static struct lpu_device *lpu_from_seq(struct seq_file *m)
{
	struct drm_debugfs_entry *entry = m->private;

	return to_lpu_device(entry->dev);
}

static const struct {
	const char *name;
	u32 reg;
} lpu_global_regs[] = {
	{ "ID", LPU_REG_ID },
	{ "VERSION", LPU_REG_VERSION },
	{ "CAPS", LPU_REG_CAPS },
	{ "QUEUE_COUNT", LPU_REG_QUEUE_COUNT },
	{ "SRAM_SIZE_LO", LPU_REG_SRAM_SIZE_LO },
	{ "SRAM_SIZE_HI", LPU_REG_SRAM_SIZE_HI },
	{ "STATUS", LPU_REG_STATUS },
	{ "IRQ_CAUSE", LPU_REG_IRQ_CAUSE },
	{ "IRQ_MASK", LPU_REG_IRQ_MASK },
	{ "CYCLES_LO", LPU_REG_CYCLES_LO },
	{ "CYCLES_HI", LPU_REG_CYCLES_HI },
	{ "TEMP", LPU_REG_TEMP },
	{ "POWER", LPU_REG_POWER },
	{ "CLOCK", LPU_REG_CLOCK },
	{ "EVENT", LPU_REG_EVENT },
};

static const struct {
	const char *name;
	u32 reg;
} lpu_queue_regs[] = {
	{ "RING_SIZE", LPU_Q_RING_SIZE },
	{ "HEAD", LPU_Q_HEAD },
	{ "TAIL", LPU_Q_TAIL },
	{ "CTRL", LPU_Q_CTRL },
	{ "STATUS", LPU_Q_STATUS },
	{ "CPL_SEQ_LO", LPU_Q_CPL_SEQ_LO },
	{ "CPL_COUNT", LPU_Q_CPL_COUNT },
	{ "ERR_COUNT", LPU_Q_ERR_COUNT },
};

static int lpu_debugfs_regs_show(struct seq_file *m, void *data)
{
	struct lpu_device *ldev = lpu_from_seq(m);
	u32 i, q;
	int idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;
	for (i = 0; i < ARRAY_SIZE(lpu_global_regs); i++)
		seq_printf(m, "%-14s 0x%08x\n", lpu_global_regs[i].name,
			   lpu_read(ldev, lpu_global_regs[i].reg));
	for (q = 0; q < ldev->queue_count; q++)
		for (i = 0; i < ARRAY_SIZE(lpu_queue_regs); i++)
			seq_printf(m, "Q%u_%-11s 0x%08x\n", q,
				   lpu_queue_regs[i].name,
				   lpu_qread(&ldev->queues[q],
					     lpu_queue_regs[i].reg));
	drm_dev_exit(idx);
	return 0;
}

static int lpu_debugfs_queues_show(struct seq_file *m, void *data)
{
	struct lpu_device *ldev = lpu_from_seq(m);
	u32 i;

	for (i = 0; i < ldev->queue_count; i++) {
		struct lpu_queue *q = &ldev->queues[i];
		unsigned long flags;
		u32 submitted, retired, seqno;

		spin_lock_irqsave(&q->lock, flags);
		submitted = q->submitted;
		retired = q->retired;
		seqno = q->fence_seqno;
		spin_unlock_irqrestore(&q->lock, flags);
		seq_printf(m, "%s: submitted %u retired %u last_fence %u\n",
			   q->name, submitted, retired, seqno);
	}
	return 0;
}

static const struct drm_debugfs_info lpu_debugfs_files[] = {
	{ "regs", lpu_debugfs_regs_show, 0 },
	{ "queues", lpu_debugfs_queues_show, 0 },
};

void lpu_debugfs_init(struct lpu_device *ldev)
{
	drm_debugfs_add_files(&ldev->drm, lpu_debugfs_files,
			      ARRAY_SIZE(lpu_debugfs_files));
}
