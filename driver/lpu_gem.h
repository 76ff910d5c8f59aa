/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: host-memory buffers (drm_gem_shmem).
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_GEM_H__
#define __LPU_GEM_H__

#include <linux/mutex.h>
#include <drm/drm_gem_shmem_helper.h>

struct lpu_hw_sg;

/**
 * struct lpu_bo - a shmem buffer and its device scatter-gather list
 *
 * The SG list is built at the buffer's first DMA and kept until the buffer
 * is freed, so its pages stay pinned and mapped and a submit costs the
 * same whatever the buffer's size.
 */
struct lpu_bo {
	struct drm_gem_shmem_object base;
	/* @sg_lock protects @sg, @sg_dma and @sg_count */
	struct mutex sg_lock;
	struct lpu_hw_sg *sg;
	dma_addr_t sg_dma;
	u32 sg_count;
};

static inline struct lpu_bo *to_lpu_bo(struct drm_gem_object *obj)
{
	return container_of(to_drm_gem_shmem_obj(obj), struct lpu_bo, base);
}

struct drm_gem_object *lpu_gem_create_object(struct drm_device *dev,
					     size_t size);
int lpu_bo_prepare_dma(struct lpu_bo *bo);

int lpu_bo_create_ioctl(struct drm_device *dev, void *data,
			struct drm_file *file);
int lpu_bo_mmap_offset_ioctl(struct drm_device *dev, void *data,
			     struct drm_file *file);

#endif /* __LPU_GEM_H__ */
