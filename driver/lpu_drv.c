// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: DRM accel driver for LPU inference cards.
 *
 * The module, the DRM driver and its ioctl table, open and close of the
 * accel node, and bring-up and tear-down of one card.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "lpu_accel.h"
#include "lpu_debugfs.h"
#include "lpu_drv.h"
#include "lpu_gem.h"
#include "lpu_irq.h"
#include "lpu_job.h"
#include "lpu_pci.h"
#include "lpu_queue.h"
#include "lpu_sram.h"
#include "lpu_sysfs.h"

#define LPU_DRIVER_MAJOR	1
#define LPU_DRIVER_MINOR	0

static u64 lpu_device_caps(struct lpu_device *ldev)
{
	u64 caps = DRM_LPU_CAP_TIMELINE | DRM_LPU_CAP_USERPTR;

	if (ldev->hw_caps & LPU_CAP_DMA_SG)
		caps |= DRM_LPU_CAP_DMA_SG;
	if (ldev->hw_caps & LPU_CAP_FENCE)
		caps |= DRM_LPU_CAP_FENCE;
	if (ldev->hw_caps & LPU_CAP_EXEC)
		caps |= DRM_LPU_CAP_EXEC;
	return caps;
}

static int lpu_query_ioctl(struct drm_device *dev, void *data,
			   struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(dev);
	struct drm_lpu_query *args = data;
	struct drm_lpu_device_info info = {};
	u32 size;

	if (args->flags || args->size < 8)
		return -EINVAL;

	info.struct_size = sizeof(info);
	info.hw_version = ldev->hw_version;
	info.caps = lpu_device_caps(ldev);
	info.sram_size = ldev->sram_size;
	info.sram_free = lpu_sram_free_bytes(ldev);
	info.queue_count = ldev->queue_count;
	info.clock_mhz = ldev->clock_mhz;
	info.pci_vendor = ldev->pdev->vendor;
	info.pci_device = ldev->pdev->device;
	info.pci_revision = ldev->pdev->revision;
	info.max_bo_size = LPU_MAX_BO_SIZE;
	info.max_cmds = DRM_LPU_MAX_CMDS;
	info.sram_align = LPU_SRAM_ALIGN;

	size = min_t(u32, args->size, sizeof(info));
	if (copy_to_user(u64_to_user_ptr(args->info), &info, size))
		return -EFAULT;
	args->size = size;
	return 0;
}

/* How long close waits for the card to let go of the file's jobs */
#define LPU_CLOSE_WAIT_MS	5000

static void lpu_file_release(struct kref *ref)
{
	struct lpu_file *lfile = container_of(ref, struct lpu_file, ref);

	mutex_destroy(&lfile->submit_lock);
	kfree(lfile);
}

void lpu_file_get(struct lpu_file *lfile)
{
	kref_get(&lfile->ref);
}

void lpu_file_put(struct lpu_file *lfile)
{
	struct lpu_device *ldev = lfile->ldev;

	kref_put(&lfile->ref, lpu_file_release);
	wake_up_all(&ldev->file_wq);
}

static int lpu_open(struct drm_device *dev, struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(dev);
	struct lpu_file *lfile;
	int ret;

	lfile = kzalloc(sizeof(*lfile), GFP_KERNEL);
	if (!lfile)
		return -ENOMEM;
	lfile->ldev = ldev;
	kref_init(&lfile->ref);
	xa_init_flags(&lfile->srams, XA_FLAGS_ALLOC1);
	mutex_init(&lfile->submit_lock);

	ret = lpu_file_entities_init(lfile);
	if (ret) {
		lpu_file_put(lfile);
		return ret;
	}
	file->driver_priv = lfile;
	return 0;
}

/*
 * Cancel the file's jobs, drop its SRAM handles, and give the card a
 * moment to let go of the jobs it holds, so that their SRAM is free when
 * close() returns. A job that outlives the wait keeps the file alive.
 */
static void lpu_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(dev);
	struct lpu_file *lfile = file->driver_priv;

	lpu_file_entities_fini(lfile);
	lpu_file_sram_release(lfile);
	wait_event_timeout(ldev->file_wq, kref_read(&lfile->ref) == 1,
			   msecs_to_jiffies(LPU_CLOSE_WAIT_MS));
	lpu_file_put(lfile);
}

static const struct drm_ioctl_desc lpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(LPU_QUERY, lpu_query_ioctl, 0),
	DRM_IOCTL_DEF_DRV(LPU_BO_CREATE, lpu_bo_create_ioctl, 0),
	DRM_IOCTL_DEF_DRV(LPU_BO_MMAP_OFFSET, lpu_bo_mmap_offset_ioctl, 0),
	DRM_IOCTL_DEF_DRV(LPU_SRAM_ALLOC, lpu_sram_alloc_ioctl, 0),
	DRM_IOCTL_DEF_DRV(LPU_SRAM_FREE, lpu_sram_free_ioctl, 0),
	DRM_IOCTL_DEF_DRV(LPU_SUBMIT, lpu_submit_ioctl, 0),
	DRM_IOCTL_DEF_DRV(LPU_JOB_CANCEL, lpu_job_cancel_ioctl, 0),
	DRM_IOCTL_DEF_DRV(LPU_BO_USERPTR, lpu_bo_userptr_ioctl, 0),
};

static const struct file_operations lpu_fops = {
	.owner = THIS_MODULE,
	DRM_ACCEL_FOPS,
	.show_fdinfo = drm_show_fdinfo,
};

/* fdinfo: the common keys plus this file's SRAM, drm-usage-stats style. */
static void lpu_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct lpu_file *lfile = file->driver_priv;

	drm_printf(p, "drm-total-sram:\t%llu KiB\n",
		   (u64)atomic64_read(&lfile->sram_bytes) >> 10);
	drm_show_memory_stats(p, file);
}

const struct drm_driver lpu_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_COMPUTE_ACCEL |
			   DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE,
	.open = lpu_open,
	.postclose = lpu_postclose,
	.show_fdinfo = lpu_show_fdinfo,
	.gem_create_object = lpu_gem_create_object,
	.ioctls = lpu_ioctls,
	.num_ioctls = ARRAY_SIZE(lpu_ioctls),
	.fops = &lpu_fops,
	.name = LPU_DRIVER_NAME,
	.desc = LPU_DRIVER_DESC,
	.major = LPU_DRIVER_MAJOR,
	.minor = LPU_DRIVER_MINOR,
};

/* Bring up the card: SRAM allocator, queues, interrupts, then start it. */
int lpu_device_init(struct lpu_device *ldev)
{
	int ret;

	ret = drmm_mutex_init(&ldev->drm, &ldev->reset_lock);
	if (ret)
		return ret;
	init_waitqueue_head(&ldev->file_wq);
	ret = lpu_hw_reset(ldev);
	if (ret)
		return ret;
	ret = lpu_sram_init(ldev);
	if (ret)
		return ret;
	/* Rings first: devm frees the interrupts before the rings. */
	ret = lpu_queues_init(ldev, lpu_job_timeout());
	if (ret)
		return ret;
	ret = lpu_irq_init(ldev);
	if (ret)
		return ret;
	ret = lpu_hwmon_init(ldev);
	if (ret)
		return ret;
	lpu_debugfs_init(ldev);
	lpu_hw_start(ldev);
	return 0;
}

/*
 * The card is going away: stop it and fail every job it holds. Jobs not yet
 * on the card fail when the scheduler runs them; the schedulers themselves
 * go with the DRM device, after the last file is closed.
 */
void lpu_device_fini(struct lpu_device *ldev)
{
	lpu_write(ldev, LPU_REG_IRQ_MASK, 0);
	lpu_hw_reset(ldev);
	lpu_queues_cancel(ldev, -ENODEV);
}

void lpu_device_reset_prepare(struct lpu_device *ldev)
{
	mutex_lock(&ldev->reset_lock);
	lpu_queues_stop(ldev);
	/* Stop the card before failing its jobs: no DMA after this. */
	lpu_write(ldev, LPU_REG_IRQ_MASK, 0);
	lpu_hw_reset(ldev);
	lpu_queues_cancel(ldev, -ECANCELED);
	mutex_unlock(&ldev->reset_lock);
}

void lpu_device_reset_done(struct lpu_device *ldev)
{
	mutex_lock(&ldev->reset_lock);
	if (!lpu_hw_reset(ldev))
		lpu_hw_start(ldev);
	lpu_queues_restart(ldev);
	mutex_unlock(&ldev->reset_lock);
}

static int __init lpu_init(void)
{
	return pci_register_driver(&lpu_pci_driver);
}

static void __exit lpu_exit(void)
{
	pci_unregister_driver(&lpu_pci_driver);
}

module_init(lpu_init);
module_exit(lpu_exit);

MODULE_AUTHOR("The lpu authors");
MODULE_DESCRIPTION(LPU_DRIVER_DESC);
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
