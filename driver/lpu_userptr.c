// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: buffers over the caller's own memory (DRM_IOCTL_LPU_BO_USERPTR).
 *
 * The pages of the range are pinned (FOLL_LONGTERM), counted against the
 * caller's RLIMIT_MEMLOCK, DMA-mapped and given a device SG list when the
 * buffer is made; all of it is undone when the buffer is freed. The buffer
 * holds the pages it pinned whatever the process does to its mappings
 * afterwards, so it needs no MMU notifier.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/dma-mapping.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_gem.h"

static enum dma_data_direction lpu_userptr_dir(struct lpu_userptr *up)
{
	return up->read_only ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL;
}

/*
 * Count the range against RLIMIT_MEMLOCK, then pin it, all of it or
 * nothing. The mm is kept to take the count back at free time, which may
 * run in another task.
 */
static int lpu_userptr_pin(struct lpu_userptr *up, unsigned long addr)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	struct mm_struct *mm = current->mm;
	int pinned, ret;

	if (!up->read_only)
		gup_flags |= FOLL_WRITE;

	ret = account_locked_vm(mm, up->npages, true);
	if (ret)
		return ret;
	up->pages = kvmalloc_array(up->npages, sizeof(*up->pages), GFP_KERNEL);
	if (!up->pages) {
		ret = -ENOMEM;
		goto err_unaccount;
	}
	pinned = pin_user_pages_fast(addr, up->npages, gup_flags, up->pages);
	if (pinned < 0 || (unsigned long)pinned != up->npages) {
		/* Not mapped, or not with the access asked for. */
		ret = pinned == -ENOMEM ? -ENOMEM : -EFAULT;
		if (pinned > 0)
			unpin_user_pages(up->pages, pinned);
		goto err_free_pages;
	}
	mmgrab(mm);
	up->mm = mm;
	return 0;

err_free_pages:
	kvfree(up->pages);
	up->pages = NULL;
err_unaccount:
	account_locked_vm(mm, up->npages, false);
	return ret;
}

static void lpu_userptr_unpin(struct lpu_userptr *up)
{
	unpin_user_pages_dirty_lock(up->pages, up->npages, !up->read_only);
	kvfree(up->pages);
	account_locked_vm(up->mm, up->npages, false);
	mmdrop(up->mm);
}

/* Largest segment the DMA layer maps in one piece, as drm_prime does. */
static unsigned int lpu_userptr_max_segment(struct device *dev)
{
	return min_t(size_t, UINT_MAX, dma_max_mapping_size(dev));
}

/*
 * Build the sg_table of the pinned pages (physically contiguous pages,
 * such as those of a large folio, merge into one entry), map it for the
 * card and build the device SG list.
 */
static int lpu_userptr_map(struct lpu_userptr *up)
{
	struct device *dev = up->base.dev->dev;
	int ret;

	ret = sg_alloc_table_from_pages_segment(&up->sgt, up->pages,
						up->npages, 0, up->base.size,
						lpu_userptr_max_segment(dev),
						GFP_KERNEL);
	if (ret)
		return ret;
	/* An IOMMU out of address space is out of memory too. */
	if (dma_map_sgtable(dev, &up->sgt, lpu_userptr_dir(up), 0)) {
		ret = -ENOMEM;
		goto err_free_table;
	}
	up->sg = lpu_hw_sg_build(dev, &up->sgt, &up->sg_dma, &up->sg_count);
	if (!up->sg) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	return 0;

err_unmap:
	dma_unmap_sgtable(dev, &up->sgt, lpu_userptr_dir(up), 0);
err_free_table:
	sg_free_table(&up->sgt);
	return ret;
}

static void lpu_userptr_unmap(struct lpu_userptr *up)
{
	struct device *dev = up->base.dev->dev;

	lpu_hw_sg_free(dev, up->sg, up->sg_dma, up->sg_count);
	dma_unmap_sgtable(dev, &up->sgt, lpu_userptr_dir(up), 0);
	sg_free_table(&up->sgt);
}

static void lpu_userptr_free(struct drm_gem_object *obj)
{
	struct lpu_userptr *up = to_lpu_userptr(obj);

	lpu_userptr_unmap(up);
	lpu_userptr_unpin(up);
	drm_gem_object_release(obj);
	kfree(up);
}

/*
 * No dma-buf export: another device has no business with this process's
 * pages, and mmap() of such a dma-buf would need the object's mmap.
 */
static struct dma_buf *lpu_userptr_export(struct drm_gem_object *obj,
					  int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

/* No .mmap: DRM_IOCTL_LPU_BO_MMAP_OFFSET refuses the buffer. */
static const struct drm_gem_object_funcs lpu_userptr_funcs = {
	.free = lpu_userptr_free,
	.export = lpu_userptr_export,
};

bool lpu_gem_is_userptr(const struct drm_gem_object *obj)
{
	return obj->funcs == &lpu_userptr_funcs;
}

static struct lpu_userptr *lpu_userptr_create(struct drm_device *dev,
					      u64 addr, u64 size,
					      bool read_only)
{
	struct lpu_userptr *up;
	int ret;

	up = kzalloc(sizeof(*up), GFP_KERNEL);
	if (!up)
		return ERR_PTR(-ENOMEM);
	up->base.funcs = &lpu_userptr_funcs;
	drm_gem_private_object_init(dev, &up->base, size);
	up->npages = size >> PAGE_SHIFT;
	up->read_only = read_only;

	ret = lpu_userptr_pin(up, addr);
	if (ret)
		goto err_release;
	ret = lpu_userptr_map(up);
	if (ret)
		goto err_unpin;
	return up;

err_unpin:
	lpu_userptr_unpin(up);
err_release:
	drm_gem_object_release(&up->base);
	kfree(up);
	return ERR_PTR(ret);
}

int lpu_bo_userptr_ioctl(struct drm_device *dev, void *data,
			 struct drm_file *file)
{
	struct drm_lpu_bo_userptr *args = data;
	struct lpu_userptr *up;
	int ret;

	if ((args->flags & ~DRM_LPU_BO_USERPTR_READ_ONLY) || !args->size ||
	    !PAGE_ALIGNED(args->addr) || !PAGE_ALIGNED(args->size))
		return -EINVAL;
	if (args->size > LPU_MAX_BO_SIZE)
		return -E2BIG;

	up = lpu_userptr_create(dev, args->addr, args->size,
				args->flags & DRM_LPU_BO_USERPTR_READ_ONLY);
	if (IS_ERR(up))
		return PTR_ERR(up);

	ret = drm_gem_handle_create(file, &up->base, &args->handle);
	/* The handle holds the reference now, or the buffer goes. */
	drm_gem_object_put(&up->base);
	return ret;
}
