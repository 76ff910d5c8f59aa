// SPDX-License-Identifier: MIT
/*
 * liblpu: loading programs (models) into card SRAM.
 *
 * The file is parsed and validated by the shared reader (lib/
 * lpu_program.c) against the card's SRAM size. Then: the free SRAM is
 * checked (so that a model that cannot fit fails before anything is
 * allocated), SRAM is allocated, the window is built by
 * lpu_program_fill_window() straight into a mapped staging buffer (no
 * other copy), and one job of DMA commands copies the loaded sections to
 * SRAM. SRAM comes zeroed from the driver, so only the span of .text and
 * .lpu.sram is copied: .lpu.scratch (KV cache, activations) is not.
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpu_internal.h"

/* Largest file mapped for parsing (the validator refuses above 64 GiB). */
#define LPU_MAP_MAX		(64ULL << 30)

/* Bytes per DMA command of a load. */
#define LPU_LOAD_CHUNK		(32ULL << 20)

/* "300.0 MiB", "12.0 KiB", "512 bytes" */
static const char *fmt_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= (1ULL << 30))
		snprintf(buf, len, "%.1f GiB", bytes / (double)(1ULL << 30));
	else if (bytes >= (1ULL << 20))
		snprintf(buf, len, "%.1f MiB", bytes / (double)(1ULL << 20));
	else if (bytes >= 1024)
		snprintf(buf, len, "%.1f KiB", bytes / 1024.0);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

static int sram_too_small(struct lpu_model *m, uint64_t need,
			  uint64_t have, const char *why)
{
	char a[32], b[32];

	return lpu_error(-ENOSPC, "%s: needs %s of SRAM, card has %s free%s",
			 m->name, fmt_size(a, sizeof(a), need),
			 fmt_size(b, sizeof(b), have), why);
}

/* Wait for a load job; 0 or -errno with a message. */
static int load_wait(struct lpu_model *m, uint32_t done)
{
	int status = 0, r;

	r = lpu_syncobj_wait(m->dev->fd, &done, (const uint64_t[]){ 0 }, 1,
			     INT64_MAX, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL);
	if (!r)
		r = lpu_syncobj_status(m->dev->fd, done, &status);
	if (r)
		return lpu_error(r, "%s: waiting for the load: %s", m->name,
				 strerror(-r));
	if (status < 0)
		return lpu_error(status == -ETIMEDOUT ? -ETIME : status,
				 "%s: the DMA to SRAM failed: %s", m->name,
				 strerror(-status));
	return 0;
}

/* Copy the window's loaded span into the model's SRAM. */
static int model_upload(struct lpu_model *m)
{
	const struct lpu_program *p = m->prog;
	uint64_t lo = p->text_offset, hi = p->text_offset + p->text_size;
	uint64_t off, footprint = p->note.sram_footprint;
	struct drm_lpu_cmd cmds[DRM_LPU_MAX_CMDS];
	struct drm_lpu_sync out = { 0 };
	struct lpu_buffer *buf = NULL;
	uint32_t n = 0, done = 0;
	void *map;
	int r;

	if (p->image_size) {
		if (p->image_offset < lo)
			lo = p->image_offset;
		if (p->image_offset + p->image_size > hi)
			hi = p->image_offset + p->image_size;
	}
	if (hi <= lo)
		return 0;
	if ((hi - lo + LPU_LOAD_CHUNK - 1) / LPU_LOAD_CHUNK > DRM_LPU_MAX_CMDS)
		return lpu_error(-E2BIG, "%s: %llu bytes to load", m->name,
				 (unsigned long long)(hi - lo));

	r = lpu_buffer_create(m->dev, footprint, &buf);
	if (r)
		return r;
	/* fault every page in at once: the window is written whole */
	r = lpu_buffer_map_populate(buf, &map);
	if (r)
		goto out;
	r = lpu_program_fill_window(p, map, footprint);
	if (r) {
		r = lpu_error(r, "%s: cannot build the SRAM window: %s",
			      m->name, strerror(-r));
		goto out;
	}
	memset(cmds, 0, sizeof(cmds));
	for (off = lo; off < hi; off += LPU_LOAD_CHUNK) {
		struct drm_lpu_cmd *c = &cmds[n++];

		c->op = DRM_LPU_CMD_DMA_TO_SRAM;
		c->dma.bo_handle = buf->handle;
		c->dma.sram_handle = m->sram_handle;
		c->dma.bo_offset = off;
		c->dma.sram_offset = off;
		c->dma.size = hi - off < LPU_LOAD_CHUNK ? hi - off :
			      LPU_LOAD_CHUNK;
	}
	r = lpu_syncobj_create(m->dev->fd, &done);
	if (r) {
		r = lpu_error(r, "%s: creating a syncobj: %s", m->name,
			      strerror(-r));
		goto out;
	}
	out.handle = done;
	r = lpu_submit(m->dev, lpu_device_pick_queue(m->dev), cmds, n, &out, 1,
		       NULL);
	if (r) {
		r = lpu_error(r, "%s: submitting the DMA to SRAM: %s", m->name,
			      strerror(-r));
		goto out;
	}
	r = load_wait(m, done);
out:
	lpu_syncobj_destroy(m->dev->fd, done);
	lpu_buffer_free(buf);
	return r;
}

static void sram_free(struct lpu_model *m)
{
	struct drm_lpu_sram_free f = { .handle = m->sram_handle };

	if (m->sram_handle)
		lpu_ioctl(m->dev->fd, DRM_IOCTL_LPU_SRAM_FREE, &f);
	m->sram_handle = 0;
}

LPU_EXPORT void lpu_model_unload(struct lpu_model *model)
{
	if (!model)
		return;
	sram_free(model);
	lpu_program_free(model->prog);
	free(model);
}

/* Allocate SRAM for a parsed program and load it; takes @prog. */
static int model_load(struct lpu_device *dev, struct lpu_program *prog,
		      const char *name, struct lpu_model **out)
{
	struct drm_lpu_sram_alloc a = { 0 };
	uint64_t need = prog->note.sram_footprint, have;
	struct lpu_model *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m) {
		lpu_program_free(prog);
		return lpu_error(-ENOMEM, "%s: out of memory", name);
	}
	m->dev = dev;
	m->prog = prog;
	snprintf(m->name, sizeof(m->name), "%s", name);

	r = lpu_device_sram_free(dev, &have);
	if (r) {
		r = lpu_error(r, "%s: DRM_IOCTL_LPU_QUERY: %s", dev->node,
			      strerror(-r));
		goto err;
	}
	if (need > have) {
		r = sram_too_small(m, need, have, "");
		goto err;
	}
	a.size = need;
	r = lpu_ioctl(dev->fd, DRM_IOCTL_LPU_SRAM_ALLOC, &a);
	if (r == -ENOSPC) {
		if (lpu_device_sram_free(dev, &have))
			have = 0;
		r = sram_too_small(m, need, have,
				   " (or no free range is large enough)");
		goto err;
	}
	if (r) {
		r = lpu_error(r, "%s: allocating %llu bytes of SRAM: %s",
			      m->name, (unsigned long long)need, strerror(-r));
		goto err;
	}
	m->sram_handle = a.handle;
	m->sram_size = a.size;
	r = model_upload(m);
	if (r)
		goto err;
	*out = m;
	return 0;
err:
	lpu_model_unload(m);
	return r;
}

/*
 * Parse a program file. A regular file is mapped rather than read: the
 * validator makes its own copy anyway, so this saves one pass over the
 * image. Anything else (pipes, directories, empty files) goes through
 * lpu_program_open(), which reports it.
 */
static int program_open(const char *path, uint64_t card_sram,
			struct lpu_program **out)
{
	char err[512] = "";
	struct stat st;
	void *map = MAP_FAILED;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    st.st_size > 0 && (uint64_t)st.st_size <= LPU_MAP_MAX)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ,
			   MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (map == MAP_FAILED) {
		r = lpu_program_open(path, card_sram, out, err, sizeof(err));
	} else {
		r = lpu_program_from_memory(map, (size_t)st.st_size, card_sram,
					    out, err, sizeof(err));
		munmap(map, (size_t)st.st_size);
	}
	if (r && map == MAP_FAILED)
		return lpu_error(r, "%s", err[0] ? err : path);
	if (r)
		return lpu_error(r, "%s: %s", path, err);
	return 0;
}

LPU_EXPORT int lpu_model_load(struct lpu_device *dev, const char *path,
			      struct lpu_model **out)
{
	struct lpu_program *prog;
	int r;

	if (!dev || !path || !out)
		return lpu_error(-EINVAL, "lpu_model_load: NULL argument");
	r = program_open(path, dev->info.sram_size, &prog);
	if (r)
		return r;
	return model_load(dev, prog, path, out);
}

LPU_EXPORT int lpu_model_load_memory(struct lpu_device *dev, const void *data,
				     size_t len, struct lpu_model **out)
{
	struct lpu_program *prog;
	char err[512] = "";
	int r;

	if (!dev || !data || !out)
		return lpu_error(-EINVAL, "lpu_model_load_memory: NULL argument");
	r = lpu_program_from_memory(data, len, dev->info.sram_size, &prog,
				    err, sizeof(err));
	if (r)
		return lpu_error(r, "<memory>: %s", err[0] ? err :
				 strerror(-r));
	return model_load(dev, prog, "<memory>", out);
}

LPU_EXPORT int lpu_model_info(const struct lpu_model *model,
			      struct lpu_model_info *info)
{
	const struct lpu_program_note *n;
	size_t size;
	int r;

	if (!model || !info)
		return lpu_error(-EINVAL, "lpu_model_info: NULL argument");
	r = lpu_check_size(info->size, sizeof(*info), "lpu_model_info",
			   "lpu_model_info");
	if (r)
		return r;
	n = &model->prog->note;
	size = info->size;
	memset(info, 0, size);
	info->size = size;
	info->sram_footprint = n->sram_footprint;
	info->vocab_size = n->vocab_size;
	info->context_len = n->context_len;
	info->prompt_max = n->prompt_max;
	info->flags = n->flags;
	info->cycles_prologue = n->cycles_prologue;
	info->cycles_per_token = n->cycles_per_token;
	info->cycles_epilogue = n->cycles_epilogue;
	info->has_vocab = model->prog->vocab != NULL;
	return 0;
}
