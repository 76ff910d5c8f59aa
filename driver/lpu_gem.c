// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: host-memory buffers, backed by drm_gem_shmem.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>

#include "lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_gem.h"

static void lpu_bo_free(struct drm_gem_object *obj)
{
	struct lpu_bo *bo = to_lpu_bo(obj);

	if (bo->sg)
		dma_free_coherent(obj->dev->dev, bo->sg_count * sizeof(*bo->sg),
				  bo->sg, bo->sg_dma);
	mutex_destroy(&bo->sg_lock);
	drm_gem_shmem_free(&bo->base);
}

static const struct drm_gem_object_funcs lpu_bo_funcs = {
	.free = lpu_bo_free,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

struct drm_gem_object *lpu_gem_create_object(struct drm_device *dev,
					     size_t size)
{
	struct lpu_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	mutex_init(&bo->sg_lock);
	bo->base.base.funcs = &lpu_bo_funcs;
	return &bo->base.base;
}

/* Count the runs of bus-contiguous DMA segments in @sgt. */
static u32 lpu_sgt_count_runs(struct sg_table *sgt)
{
	dma_addr_t next = 0;
	struct scatterlist *sg;
	u32 runs = 0;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!runs || sg_dma_address(sg) != next)
			runs++;
		next = sg_dma_address(sg) + sg_dma_len(sg);
	}
	return runs;
}

static void lpu_sgt_fill_runs(struct sg_table *sgt, struct lpu_hw_sg *out)
{
	struct lpu_hw_sg *run = NULL;
	dma_addr_t next = 0;
	struct scatterlist *sg;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!run || sg_dma_address(sg) != next) {
			run = run ? run + 1 : out;
			run->addr = cpu_to_le64(sg_dma_address(sg));
			run->len = 0;
		}
		le64_add_cpu(&run->len, sg_dma_len(sg));
		next = sg_dma_address(sg) + sg_dma_len(sg);
	}
}

/* Pin and map the buffer and build its device SG list, once. */
int lpu_bo_prepare_dma(struct lpu_bo *bo)
{
	struct device *dev = bo->base.base.dev->dev;
	struct sg_table *sgt;
	int ret = 0;
	u32 runs;

	mutex_lock(&bo->sg_lock);
	if (bo->sg)
		goto out_unlock;

	sgt = drm_gem_shmem_get_pages_sgt(&bo->base);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_unlock;
	}
	runs = lpu_sgt_count_runs(sgt);
	bo->sg = dma_alloc_coherent(dev, runs * sizeof(*bo->sg), &bo->sg_dma,
				    GFP_KERNEL);
	if (!bo->sg) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	lpu_sgt_fill_runs(sgt, bo->sg);
	bo->sg_count = runs;

out_unlock:
	mutex_unlock(&bo->sg_lock);
	return ret;
}

int lpu_bo_create_ioctl(struct drm_device *dev, void *data,
			struct drm_file *file)
{
	struct drm_lpu_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	int ret;

	if (args->flags || !args->size)
		return -EINVAL;
	if (args->size > LPU_MAX_BO_SIZE)
		return -E2BIG;

	shmem = drm_gem_shmem_create(dev, args->size);
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);

	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	if (!ret)
		args->size = shmem->base.size;
	/* The handle holds the reference now, or the buffer goes. */
	drm_gem_object_put(&shmem->base);
	return ret;
}

int lpu_bo_mmap_offset_ioctl(struct drm_device *dev, void *data,
			     struct drm_file *file)
{
	struct drm_lpu_bo_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->flags)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}
