// SPDX-License-Identifier: GPL-2.0-only
/*
 * lpu: turning submitted commands into hardware descriptors.
 *
 * Every field of every command is checked here, before anything is
 * queued; the objects a command names are looked up and referenced by the
 * job until it is freed.
 *
 * Copyright (C) 2026 The lpu authors
 */

#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>

#include "lpu_accel.h"
#include "lpu_drv.h"
#include "lpu_gem.h"
#include "lpu_job.h"
#include "lpu_sram.h"

#define LPU_F32_SIGN		0x80000000u
#define LPU_F32_EXP_MASK	0x7f800000u
#define LPU_F32_ONE		0x3f800000u

static bool lpu_is_zero(const void *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

static struct drm_gem_object *lpu_job_get_bo(struct lpu_job *job,
					     struct drm_file *file, u32 handle)
{
	struct drm_gem_object *obj = drm_gem_object_lookup(file, handle);

	if (obj)
		job->bos[job->bo_count++] = obj;
	return obj;
}

static struct lpu_sram *lpu_job_get_sram(struct lpu_job *job,
					 struct drm_file *file, u32 handle)
{
	struct lpu_sram *sram = lpu_sram_lookup(file->driver_priv, handle);

	if (sram)
		job->srams[job->sram_count++] = sram;
	return sram;
}

/* offset + size must not overflow and must fit in @limit bytes. */
static bool lpu_range_ok(u64 offset, u64 size, u64 limit)
{
	u64 end;

	return !check_add_overflow(offset, size, &end) && end <= limit;
}

static int lpu_parse_dma(struct lpu_job *job, struct drm_file *file,
			 const struct drm_lpu_cmd *cmd, struct lpu_hw_desc *desc)
{
	const struct drm_lpu_cmd_dma *dma = &cmd->dma;
	bool to_sram = cmd->op == DRM_LPU_CMD_DMA_TO_SRAM;
	struct drm_gem_object *obj;
	struct lpu_sram *sram;
	dma_addr_t sg_dma;
	u32 sg_count;
	int ret;

	if (!lpu_is_zero(dma->reserved, sizeof(dma->reserved)) || !dma->size)
		return -EINVAL;

	obj = lpu_job_get_bo(job, file, dma->bo_handle);
	if (!obj)
		return -ENOENT;
	sram = lpu_job_get_sram(job, file, dma->sram_handle);
	if (!sram)
		return -ENOENT;
	if (!lpu_range_ok(dma->bo_offset, dma->size, obj->size) ||
	    !lpu_range_ok(dma->sram_offset, dma->size, lpu_sram_size(sram)))
		return -ERANGE;

	/* The card reads the buffer for DMA_TO_SRAM, writes it for FROM. */
	ret = lpu_gem_dma_list(obj, !to_sram, &sg_dma, &sg_count);
	if (ret)
		return ret;

	desc->opcode = to_sram ? LPU_OP_DMA_TO_SRAM : LPU_OP_DMA_FROM_SRAM;
	desc->dma.sg_addr = cpu_to_le64(sg_dma);
	desc->dma.sg_count = cpu_to_le32(sg_count);
	desc->dma.sg_offset = cpu_to_le64(dma->bo_offset);
	desc->dma.sram_addr = cpu_to_le64(lpu_sram_addr(sram) +
					  dma->sram_offset);
	desc->dma.length = cpu_to_le64(dma->size);
	return 0;
}

/* Checks that need no lookup: alignment, f32 ranges. */
static int lpu_check_exec_fields(const struct drm_lpu_cmd_exec *exec)
{
	if (!exec->stream_capacity)
		return -EINVAL;
	if (!IS_ALIGNED(exec->entry, LPU_EXEC_ENTRY_ALIGN) ||
	    !IS_ALIGNED(exec->stream_offset, LPU_STREAM_HEADER_SIZE))
		return -EINVAL;
	/* temperature: finite and not negative */
	if ((exec->temperature & LPU_F32_SIGN) ||
	    (exec->temperature & LPU_F32_EXP_MASK) == LPU_F32_EXP_MASK)
		return -EINVAL;
	/* top_p: in [0, 1]; positive floats order like their bits */
	if ((exec->top_p & LPU_F32_SIGN) || exec->top_p > LPU_F32_ONE)
		return -EINVAL;
	return 0;
}

/*
 * Look up and check what the EXEC names. The card writes the stream, so
 * its buffer must be writable; @sg_dma and @sg_count are its SG list.
 */
static int lpu_parse_exec_objects(struct lpu_job *job, struct drm_file *file,
				  const struct drm_lpu_cmd_exec *exec,
				  struct lpu_sram **sram, dma_addr_t *sg_dma,
				  u32 *sg_count)
{
	struct drm_gem_object *obj;
	u64 stream_bytes;

	*sram = lpu_job_get_sram(job, file, exec->sram_handle);
	if (!*sram)
		return -ENOENT;
	obj = lpu_job_get_bo(job, file, exec->stream_handle);
	if (!obj)
		return -ENOENT;
	if (exec->progress_syncobj) {
		job->progress = drm_syncobj_find(file, exec->progress_syncobj);
		if (!job->progress)
			return -ENOENT;
	}

	if (exec->entry >= lpu_sram_size(*sram))
		return -ERANGE;
	stream_bytes = LPU_STREAM_HEADER_SIZE +
		       (u64)exec->stream_capacity * sizeof(__le32);
	if (!lpu_range_ok(exec->stream_offset, stream_bytes, obj->size))
		return -ERANGE;
	return lpu_gem_dma_list(obj, true, sg_dma, sg_count);
}

static int lpu_parse_exec(struct lpu_job *job, struct drm_file *file,
			  const struct drm_lpu_cmd *cmd, struct lpu_hw_desc *desc)
{
	const struct drm_lpu_cmd_exec *exec = &cmd->exec;
	struct lpu_device *ldev = job->lfile->ldev;
	struct lpu_hw_exec_params *p;
	struct lpu_sram *sram;
	dma_addr_t sg_dma;
	u32 sg_count;
	int ret;

	/* One program per job: its progress is the job's progress. */
	if (!(ldev->hw_caps & LPU_CAP_EXEC) || job->exec_params)
		return -EINVAL;
	ret = lpu_check_exec_fields(exec);
	if (ret)
		return ret;
	ret = lpu_parse_exec_objects(job, file, exec, &sram, &sg_dma,
				     &sg_count);
	if (ret)
		return ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->win_base = cpu_to_le64(lpu_sram_addr(sram));
	p->win_size = cpu_to_le64(lpu_sram_size(sram));
	p->entry = cpu_to_le64(exec->entry);
	p->prompt_len = cpu_to_le32(exec->prompt_len);
	p->budget = cpu_to_le32(exec->budget);
	p->temperature = cpu_to_le32(exec->temperature);
	p->top_p = cpu_to_le32(exec->top_p);
	p->seed = cpu_to_le64(exec->seed);
	p->stream_sg_addr = cpu_to_le64(sg_dma);
	p->stream_sg_count = cpu_to_le32(sg_count);
	p->stream_capacity = cpu_to_le32(exec->stream_capacity);
	p->stream_sg_offset = cpu_to_le64(exec->stream_offset);
	p->max_kcycles = cpu_to_le32(exec->max_kcycles);
	job->exec_params = p;
	job->max_kcycles = exec->max_kcycles;

	desc->opcode = LPU_OP_EXEC;
	return 0;
}

int lpu_job_parse_cmd(struct lpu_job *job, struct drm_file *file,
		      const struct drm_lpu_cmd *cmd, struct lpu_hw_desc *desc)
{
	if (cmd->flags)
		return -EINVAL;

	switch (cmd->op) {
	case DRM_LPU_CMD_FENCE:
		if (!(job->lfile->ldev->hw_caps & LPU_CAP_FENCE))
			return -EINVAL;
		fallthrough;
	case DRM_LPU_CMD_NOP:
		if (!lpu_is_zero(cmd->raw, sizeof(cmd->raw)))
			return -EINVAL;
		desc->opcode = cmd->op == DRM_LPU_CMD_NOP ? LPU_OP_NOP :
							    LPU_OP_FENCE;
		return 0;
	case DRM_LPU_CMD_DMA_TO_SRAM:
	case DRM_LPU_CMD_DMA_FROM_SRAM:
		return lpu_parse_dma(job, file, cmd, desc);
	case DRM_LPU_CMD_EXEC:
		return lpu_parse_exec(job, file, cmd, desc);
	default:
		return -EINVAL;
	}
}
