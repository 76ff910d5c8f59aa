// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: host-memory buffers backed by drm_gem_shmem, the device SG lists
 * of all buffers, and the buffer ioctls. Buffers over user memory are in
 * lpu_userptr.c.
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
		lpu_hw_sg_free(obj->dev->dev, bo->sg, bo->sg_dma, bo->sg_count);
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

/*
 * Build the device SG list of the DMA-mapped @sgt in coherent memory, one
 * entry per run of bus-contiguous segments. NULL when out of memory.
 */
struct lpu_hw_sg *lpu_hw_sg_build(struct device *dev, struct sg_table *sgt,
				  dma_addr_t *sg_dma, u32 *sg_count)
{
	u32 runs = lpu_sgt_count_runs(sgt);
	struct lpu_hw_sg *sg;

	sg = dma_alloc_coherent(dev, runs * sizeof(*sg), sg_dma, GFP_KERNEL);
	if (!sg)
		return NULL;
	lpu_sgt_fill_runs(sgt, sg);
	*sg_count = runs;
	return sg;
}

void lpu_hw_sg_free(struct device *dev, struct lpu_hw_sg *sg,
		    dma_addr_t sg_dma, u32 sg_count)
{
	dma_free_coherent(dev, sg_count * sizeof(*sg), sg, sg_dma);
}

/* Pin and map the buffer and build its device SG list, once. */
static int lpu_bo_prepare_dma(struct lpu_bo *bo)
{
	struct device *dev = bo->base.base.dev->dev;
	struct sg_table *sgt;
	int ret = 0;

	mutex_lock(&bo->sg_lock);
	if (bo->sg)
		goto out_unlock;

	sgt = drm_gem_shmem_get_pages_sgt(&bo->base);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_unlock;
	}
	bo->sg = lpu_hw_sg_build(dev, sgt, &bo->sg_dma, &bo->sg_count);
	if (!bo->sg)
		ret = -ENOMEM;

out_unlock:
	mutex_unlock(&bo->sg_lock);
	return ret;
}

/**
 * lpu_gem_dma_list - the device SG list of a buffer, for a DMA or EXEC
 * @obj: a shmem or userptr buffer
 * @device_writes: the card is to write the buffer
 * @sg_dma: out: bus address of the device SG list
 * @sg_count: out: its entries
 *
 * A shmem buffer is pinned and mapped at its first use and stays so until
 * it is freed; a userptr buffer was when it was made.
 *
 * Return: 0, -EACCES when @device_writes and the buffer is read-only,
 * or the error of pinning and mapping a shmem buffer (-ENOMEM).
 */
int lpu_gem_dma_list(struct drm_gem_object *obj, bool device_writes,
		     dma_addr_t *sg_dma, u32 *sg_count)
{
	struct lpu_userptr *up;
	struct lpu_bo *bo;
	int ret;

	if (lpu_gem_is_userptr(obj)) {
		up = to_lpu_userptr(obj);
		if (device_writes && up->read_only)
			return -EACCES;
		*sg_dma = up->sg_dma;
		*sg_count = up->sg_count;
		return 0;
	}

	bo = to_lpu_bo(obj);
	ret = lpu_bo_prepare_dma(bo);
	if (ret)
		return ret;
	/* Set once under sg_lock by the call above, constant since. */
	*sg_dma = bo->sg_dma;
	*sg_count = bo->sg_count;
	return 0;
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
	/* Userptr buffers are the caller's memory already: no mmap. */
	if (!obj->funcs->mmap) {
		drm_gem_object_put(obj);
		return -EINVAL;
	}
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}
