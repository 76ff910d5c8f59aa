/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lpu: card SRAM allocations.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __LPU_SRAM_H__
#define __LPU_SRAM_H__

#include <linux/kref.h>
#include <drm/drm_mm.h>

struct drm_device;
struct drm_file;
struct lpu_device;
struct lpu_file;

/**
 * struct lpu_sram - a range of card SRAM owned by one file
 *
 * Referenced by the file's handle table and by every job using it; the
 * range returns to the allocator with the last reference.
 */
struct lpu_sram {
	struct kref ref;
	struct lpu_device *ldev;
	struct drm_mm_node node;
};

static inline u64 lpu_sram_addr(const struct lpu_sram *sram)
{
	return sram->node.start;
}

static inline u64 lpu_sram_size(const struct lpu_sram *sram)
{
	return sram->node.size;
}

int lpu_sram_init(struct lpu_device *ldev);
u64 lpu_sram_free_bytes(struct lpu_device *ldev);
struct lpu_sram *lpu_sram_lookup(struct lpu_file *lfile, u32 handle);
void lpu_sram_put(struct lpu_sram *sram);
void lpu_file_sram_release(struct lpu_file *lfile);

int lpu_sram_alloc_ioctl(struct drm_device *dev, void *data,
			 struct drm_file *file);
int lpu_sram_free_ioctl(struct drm_device *dev, void *data,
			struct drm_file *file);

#endif /* __LPU_SRAM_H__ */
