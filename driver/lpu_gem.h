/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: host-memory buffers: shmem (lpu_gem.c) and userptr (lpu_userptr.c).
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_GEM_H__
#define __LPU_GEM_H__

#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <drm/drm_gem_shmem_helper.h>

struct lpu_hw_sg;
struct mm_struct;

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

/**
 * struct lpu_userptr - a buffer over pinned pages of a process
 *
 * Everything is set up when the buffer is made and undone when it is
 * freed, so nothing here changes in between and needs no lock.
 */
struct lpu_userptr {
	struct drm_gem_object base;
	/* the mm @npages are accounted to (locked_vm), mmgrab()'d */
	struct mm_struct *mm;
	/* the pinned pages */
	struct page **pages;
	unsigned long npages;
	/* @pages, contiguous ones merged, DMA-mapped */
	struct sg_table sgt;
	/* the device SG list of @sgt, in coherent memory */
	struct lpu_hw_sg *sg;
	dma_addr_t sg_dma;
	u32 sg_count;
	/* pinned for reading: the card must not write the pages */
	bool read_only;
};

static inline struct lpu_userptr *to_lpu_userptr(struct drm_gem_object *obj)
{
	return container_of(obj, struct lpu_userptr, base);
}

/* lpu_gem.c */
struct drm_gem_object *lpu_gem_create_object(struct drm_device *dev,
					     size_t size);
struct lpu_hw_sg *lpu_hw_sg_build(struct device *dev, struct sg_table *sgt,
				  dma_addr_t *sg_dma, u32 *sg_count);
void lpu_hw_sg_free(struct device *dev, struct lpu_hw_sg *sg,
		    dma_addr_t sg_dma, u32 sg_count);
int lpu_gem_dma_list(struct drm_gem_object *obj, bool device_writes,
		     dma_addr_t *sg_dma, u32 *sg_count);

int lpu_bo_create_ioctl(struct drm_device *dev, void *data,
			struct drm_file *file);
int lpu_bo_mmap_offset_ioctl(struct drm_device *dev, void *data,
			     struct drm_file *file);

/* lpu_userptr.c */
bool lpu_gem_is_userptr(const struct drm_gem_object *obj);
int lpu_bo_userptr_ioctl(struct drm_device *dev, void *data,
			 struct drm_file *file);

#endif /* __LPU_GEM_H__ */
