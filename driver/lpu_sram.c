// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: card SRAM allocations, per open file.
 *
 * SRAM is not CPU-mappable; userspace fills and reads it with DMA jobs. A
 * drm_mm manages the address space. No file sees what another left
 * behind: the card clears all of SRAM when the driver starts, and every
 * range when it is released, before it goes back to the free space, so a
 * new allocation is zero without waiting for a clear (loading a model
 * costs the DMA only). Should a clear on release fail, the range still
 * goes back, and from then on every range is cleared when handed out.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/iopoll.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_sram.h"

#define LPU_SRAM_CLEAR_TIMEOUT_US	(2 * USEC_PER_SEC)

/* Have the card zero @size bytes of SRAM at @addr. */
static int lpu_sram_clear_locked(struct lpu_device *ldev, u64 addr, u64 size)
{
	u32 ctrl;
	int ret;

	lockdep_assert_held(&ldev->sram_lock);

	lpu_write(ldev, LPU_REG_SRAM_CLEAR_BASE_LO, lower_32_bits(addr));
	lpu_write(ldev, LPU_REG_SRAM_CLEAR_BASE_HI, upper_32_bits(addr));
	lpu_write(ldev, LPU_REG_SRAM_CLEAR_LEN_LO, lower_32_bits(size));
	lpu_write(ldev, LPU_REG_SRAM_CLEAR_LEN_HI, upper_32_bits(size));
	lpu_write(ldev, LPU_REG_SRAM_CLEAR_CTRL, LPU_SRAM_CLEAR_GO);
	ret = readl_poll_timeout(ldev->regs + LPU_REG_SRAM_CLEAR_CTRL, ctrl,
				 !(ctrl & LPU_SRAM_CLEAR_GO), 10,
				 LPU_SRAM_CLEAR_TIMEOUT_US);
	if (ret || (ctrl & LPU_SRAM_CLEAR_ERROR)) {
		drm_err(&ldev->drm, "SRAM clear of %llu bytes at 0x%llx failed\n",
			size, addr);
		return -EIO;
	}
	return 0;
}

static void lpu_sram_fini(struct drm_device *drm, void *arg)
{
	struct lpu_device *ldev = arg;

	drm_mm_takedown(&ldev->sram_mm);
}

int lpu_sram_init(struct lpu_device *ldev)
{
	int ret;

	ret = drmm_mutex_init(&ldev->drm, &ldev->sram_lock);
	if (ret)
		return ret;
	drm_mm_init(&ldev->sram_mm, 0, ldev->sram_size);
	ret = drmm_add_action_or_reset(&ldev->drm, lpu_sram_fini, ldev);
	if (ret)
		return ret;
	/* whatever an earlier driver or a program left: free space is zero */
	mutex_lock(&ldev->sram_lock);
	ret = lpu_sram_clear_locked(ldev, 0, ldev->sram_size);
	mutex_unlock(&ldev->sram_lock);
	return ret;
}

u64 lpu_sram_free_bytes(struct lpu_device *ldev)
{
	u64 used;

	mutex_lock(&ldev->sram_lock);
	used = ldev->sram_used;
	mutex_unlock(&ldev->sram_lock);
	return ldev->sram_size - used;
}

static void lpu_sram_release(struct kref *ref)
{
	struct lpu_sram *sram = container_of(ref, struct lpu_sram, ref);
	struct lpu_device *ldev = sram->ldev;

	int idx;

	mutex_lock(&ldev->sram_lock);
	if (drm_dev_enter(&ldev->drm, &idx)) {
		if (lpu_sram_clear_locked(ldev, sram->node.start,
					  sram->node.size))
			ldev->sram_dirty = true;
		drm_dev_exit(idx);
	}
	drm_mm_remove_node(&sram->node);
	ldev->sram_used -= sram->node.size;
	mutex_unlock(&ldev->sram_lock);
	kfree(sram);
}

void lpu_sram_put(struct lpu_sram *sram)
{
	kref_put(&sram->ref, lpu_sram_release);
}

/* Returns a new reference to the file's allocation @handle, or NULL. */
struct lpu_sram *lpu_sram_lookup(struct lpu_file *lfile, u32 handle)
{
	struct lpu_sram *sram;

	xa_lock(&lfile->srams);
	sram = xa_load(&lfile->srams, handle);
	if (sram)
		kref_get(&sram->ref);
	xa_unlock(&lfile->srams);
	return sram;
}

void lpu_file_sram_release(struct lpu_file *lfile)
{
	struct lpu_sram *sram;
	unsigned long handle;

	xa_for_each(&lfile->srams, handle, sram)
		lpu_sram_put(sram);
	xa_destroy(&lfile->srams);
}

static struct lpu_sram *lpu_sram_create(struct lpu_device *ldev, u64 size)
{
	struct lpu_sram *sram;
	int ret, idx;

	sram = kzalloc(sizeof(*sram), GFP_KERNEL);
	if (!sram)
		return ERR_PTR(-ENOMEM);
	kref_init(&sram->ref);
	sram->ldev = ldev;

	if (!drm_dev_enter(&ldev->drm, &idx)) {
		kfree(sram);
		return ERR_PTR(-ENODEV);
	}
	mutex_lock(&ldev->sram_lock);
	ret = drm_mm_insert_node_generic(&ldev->sram_mm, &sram->node, size,
					 LPU_SRAM_ALIGN, 0, DRM_MM_INSERT_BEST);
	if (!ret && ldev->sram_dirty) {
		ret = lpu_sram_clear_locked(ldev, sram->node.start, size);
		if (ret)
			drm_mm_remove_node(&sram->node);
	}
	if (!ret)
		ldev->sram_used += size;
	mutex_unlock(&ldev->sram_lock);
	drm_dev_exit(idx);

	if (ret) {
		kfree(sram);
		return ERR_PTR(ret);
	}
	return sram;
}

int lpu_sram_alloc_ioctl(struct drm_device *dev, void *data,
			 struct drm_file *file)
{
	struct lpu_device *ldev = to_lpu_device(dev);
	struct lpu_file *lfile = file->driver_priv;
	struct drm_lpu_sram_alloc *args = data;
	struct lpu_sram *sram;
	u32 handle;
	u64 size;
	int ret;

	if (args->flags || !args->size)
		return -EINVAL;
	if (args->size > ldev->sram_size)
		return -E2BIG;
	size = round_up(args->size, LPU_SRAM_ALIGN);

	sram = lpu_sram_create(ldev, size);
	if (IS_ERR(sram))
		return PTR_ERR(sram);

	ret = xa_alloc(&lfile->srams, &handle, sram, xa_limit_32b, GFP_KERNEL);
	if (ret) {
		lpu_sram_put(sram);
		return ret;
	}
	atomic64_add(size, &lfile->sram_bytes);
	args->handle = handle;
	args->size = size;
	args->sram_addr = lpu_sram_addr(sram);
	return 0;
}

int lpu_sram_free_ioctl(struct drm_device *dev, void *data,
			struct drm_file *file)
{
	struct lpu_file *lfile = file->driver_priv;
	struct drm_lpu_sram_free *args = data;
	struct lpu_sram *sram;

	if (args->pad)
		return -EINVAL;
	sram = xa_erase(&lfile->srams, args->handle);
	if (!sram)
		return -ENOENT;
	atomic64_sub(lpu_sram_size(sram), &lfile->sram_bytes);
	lpu_sram_put(sram);
	return 0;
}
