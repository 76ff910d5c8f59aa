// SPDX-License-Identifier: MIT
/*
 * liblpu: loading programs (models) into card SRAM.
 *
 * A regular file, and lpu_model_load_memory()'s bytes, are loaded from
 * their own pages when the driver has DRM_IOCTL_LPU_BO_USERPTR: see
 * lpu_model_mapped.c. This file has the API, the model's SRAM, and the
 * older path through a staging buffer, which drivers without userptr and
 * files whose image is not found take, and which the pages of an image
 * that cannot be pinned fall back to: the bytes are copied once into the
 * staging buffer, validated there in place and DMAed from their offsets.
 * That staging buffer belongs to the device and is kept for the next load
 * (the kernel's allocation of its pages and the first write to each of
 * them cost several times the copy itself); it grows when a larger file
 * comes and is freed by lpu_device_close(). A load that finds it in use
 * by another thread uses a buffer of its own. Files that cannot be staged
 * whole (not regular, empty, larger than the card's largest buffer) go
 * through lpu_program_open(); their .text and .lpu.sram are then copied
 * into a staging buffer from the program.
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

/* Largest buffer when the card does not say (the driver's limit). */
#define LPU_STAGE_MAX		(1ULL << 30)

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

/* ---- the staging buffer ------------------------------------------------- */

uint64_t lpu_stage_max(const struct lpu_device *dev)
{
	return dev->info.max_bo_size ? dev->info.max_bo_size : LPU_STAGE_MAX;
}

static void stage_drop_cached(struct lpu_device *dev)
{
	lpu_buffer_free(dev->stage);
	dev->stage = NULL;
	dev->stage_map = NULL;
}

/* A mapped staging buffer of at least @need (> 0) bytes; 0 or -errno. */
int lpu_stage_get(struct lpu_device *dev, uint64_t need, struct stage *st)
{
	struct lpu_buffer *buf;
	void *map;
	int r;

	st->cached = !atomic_exchange(&dev->stage_busy, true);
	if (st->cached && dev->stage && dev->stage->size >= need) {
		st->buf = dev->stage;
		st->map = dev->stage_map;
		return 0;
	}
	if (st->cached && dev->stage)
		stage_drop_cached(dev);		/* too small: grow */
	r = lpu_buffer_create(dev, need, &buf);
	if (!r) {
		/*
		 * The driver allocates every page at mmap(). Its mapping is
		 * a PFN map, which MAP_POPULATE leaves alone (each page is
		 * mapped at its first write, about as costly as the copy
		 * itself under TCG); a mapping of ordinary pages would be
		 * populated at once.
		 */
		r = lpu_buffer_map_populate(buf, &map);
		if (r)
			lpu_buffer_free(buf);
	}
	if (r) {
		if (st->cached)
			atomic_store(&dev->stage_busy, false);
		return r;
	}
	if (st->cached) {
		dev->stage = buf;
		dev->stage_map = map;
	}
	st->buf = buf;
	st->map = map;
	return 0;
}

void lpu_stage_put(struct lpu_device *dev, struct stage *st)
{
	if (!st->buf)
		return;
	if (st->cached)
		atomic_store(&dev->stage_busy, false);
	else
		lpu_buffer_free(st->buf);
	st->buf = NULL;
	st->map = NULL;
}

void lpu_model_stage_free(struct lpu_device *dev)
{
	if (dev && dev->stage)
		stage_drop_cached(dev);
}

/*
 * Copy @len bytes of the regular file @fd into @dst: mapped and copied in
 * one pass (under TCG a user-space copy from a populated mapping is about
 * twice as fast as read(), whose kernel copy runs byte by byte), read()
 * when it cannot be mapped. The number of bytes copied (fewer when the
 * file shrank) or -errno.
 */
static ssize_t file_copy(int fd, uint8_t *dst, size_t len)
{
	size_t done = 0;
	void *map;

	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map != MAP_FAILED) {
		memcpy(dst, map, len);
		munmap(map, len);
		return len;
	}
	while (done < len) {
		ssize_t r = pread(fd, dst + done, len - done, done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		done += r;
	}
	return done;
}

/* ---- upload -------------------------------------------------------------- */

/* Wait for a load job; 0 or -errno with a message. */
int lpu_load_wait(struct lpu_model *m, uint32_t done)
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

/* DMA commands for @size bytes at @bo_off to window offset @win_off. */
uint32_t lpu_load_add_dma(struct drm_lpu_cmd *cmds, uint32_t n,
			  const struct stage *st, uint32_t sram_handle,
			  uint64_t bo_off, uint64_t win_off, uint64_t size)
{
	uint64_t off;

	for (off = 0; off < size; off += LPU_LOAD_CHUNK) {
		struct drm_lpu_cmd *c = &cmds[n++];

		c->op = DRM_LPU_CMD_DMA_TO_SRAM;
		c->dma.bo_handle = st->buf->handle;
		c->dma.sram_handle = sram_handle;
		c->dma.bo_offset = bo_off + off;
		c->dma.sram_offset = win_off + off;
		c->dma.size = size - off < LPU_LOAD_CHUNK ? size - off :
			      LPU_LOAD_CHUNK;
	}
	return n;
}

uint64_t lpu_load_chunks(uint64_t size)
{
	return (size + LPU_LOAD_CHUNK - 1) / LPU_LOAD_CHUNK;
}

int lpu_load_submit(struct lpu_model *m, const struct drm_lpu_cmd *cmds,
		    uint32_t n, uint32_t *done)
{
	struct drm_lpu_sync out = { 0 };
	int r;

	r = lpu_syncobj_create(m->dev->fd, done);
	if (r)
		return lpu_error(r, "%s: creating a syncobj: %s", m->name,
				 strerror(-r));
	out.handle = *done;
	r = lpu_submit(m->dev, lpu_device_pick_queue(m->dev), cmds, n, &out, 1,
		       NULL);
	if (r) {
		lpu_syncobj_destroy(m->dev->fd, *done);
		*done = 0;
		return lpu_error(r, "%s: submitting the DMA to SRAM: %s",
				 m->name, strerror(-r));
	}
	return 0;
}

/*
 * Copy .text and .lpu.sram into the model's SRAM and detach the program.
 * @st holds the file (staged, program validated in place) or is empty:
 * then the sections are copied from the program into a staging buffer.
 * Releases @st in every case.
 */
static int model_upload(struct lpu_model *m, struct stage *st)
{
	struct lpu_program *p = m->prog;
	struct drm_lpu_cmd cmds[DRM_LPU_MAX_CMDS];
	uint64_t text_src, image_src;
	uint32_t n = 0, done = 0;
	int r, rd;

	if (lpu_load_chunks(p->text_size) + lpu_load_chunks(p->image_size) >
	    DRM_LPU_MAX_CMDS) {
		r = lpu_error(-E2BIG, "%s: %llu bytes to load", m->name,
			      (unsigned long long)(p->text_size +
						   p->image_size));
		goto out;
	}
	if (st->buf) {
		/* the file is in the buffer: DMA from the sections' places */
		text_src = p->text_file_offset;
		image_src = p->image_file_offset;
	} else {
		r = lpu_stage_get(m->dev, p->text_size + p->image_size, st);
		if (r)
			goto out;
		text_src = 0;
		image_src = p->text_size;
		memcpy(st->map, p->text, p->text_size);
		if (p->image_size)
			memcpy(st->map + image_src, p->image, p->image_size);
	}

	memset(cmds, 0, sizeof(cmds));
	n = lpu_load_add_dma(cmds, n, st, m->sram_handle, text_src,
			     p->text_offset, p->text_size);
	n = lpu_load_add_dma(cmds, n, st, m->sram_handle, image_src,
			     p->image_offset, p->image_size);
	r = lpu_load_submit(m, cmds, n, &done);
	if (r)
		goto out;
	/* while the card copies: keep .text and .lpu.vocab, drop the rest */
	rd = lpu_program_detach(p);
	r = lpu_load_wait(m, done);
	if (!r && rd)
		r = lpu_error(rd, "%s: out of memory", m->name);
out:
	lpu_syncobj_destroy(m->dev->fd, done);
	lpu_stage_put(m->dev, st);
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
	if (model->keep)
		munmap(model->keep, model->keep_len);
	free(model);
}

/*
 * A model for a parsed program, with its SRAM allocated; takes @prog (on
 * error it is freed). 0 or -errno with a message.
 */
int lpu_model_new(struct lpu_device *dev, struct lpu_program *prog,
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
	*out = m;
	return 0;
err:
	lpu_model_unload(m);
	return r;
}

/*
 * Allocate SRAM for a parsed program and load it; takes @prog, and
 * releases @st (the staged file @prog was validated in, or empty).
 */
static int model_load(struct lpu_device *dev, struct lpu_program *prog,
		      struct stage *st, const char *name,
		      struct lpu_model **out)
{
	struct lpu_model *m;
	int r;

	r = lpu_model_new(dev, prog, name, &m);
	if (r) {
		lpu_stage_put(dev, st);
		return r;
	}
	r = model_upload(m, st);
	if (r) {
		/* the program may point into the staging buffer: free it first */
		lpu_model_unload(m);
		lpu_stage_put(dev, st);
		return r;
	}
	*out = m;
	return 0;
}

/*
 * Stage @len bytes (from @fd, or from @data when @fd < 0) and validate
 * them in place. On success *@prog points into @st, which the caller
 * passes on to model_load(); on error @st is released.
 */
static int stage_and_validate(struct lpu_device *dev, int fd,
			      const void *data, size_t len, const char *name,
			      struct stage *st, struct lpu_program **prog)
{
	char err[512] = "";
	ssize_t got = len;
	int r;

	r = lpu_stage_get(dev, len, st);
	if (r)
		return r;
	if (fd >= 0)
		got = file_copy(fd, st->map, len);
	else
		memcpy(st->map, data, len);
	if (got < 0) {
		lpu_stage_put(dev, st);
		return lpu_error((int)got, "%s: %s", name, strerror(-got));
	}
	r = lpu_program_from_memory_borrowed(st->map, got,
					     dev->info.sram_size, prog, err,
					     sizeof(err));
	if (r) {
		lpu_stage_put(dev, st);
		return lpu_error(r, "%s: %s", name, err[0] ? err :
				 strerror(-r));
	}
	return 0;
}

LPU_EXPORT int lpu_model_load(struct lpu_device *dev, const char *path,
			      struct lpu_model **out)
{
	struct stage st = { 0 };
	struct lpu_program *prog;
	char err[512] = "";
	struct stat sb;
	bool regular;
	int fd, r;

	if (!dev || !path || !out)
		return lpu_error(-EINVAL, "lpu_model_load: NULL argument");
	/*
	 * A regular file is loaded from its pages, whatever its size, or
	 * staged whole and validated there when it fits in a buffer.
	 * Anything else (pipes, directories, empty or huge files, errors)
	 * goes through lpu_program_open(), which reads it or reports it.
	 * (stat(), not an open() to look: a writer that opens a FIFO for our
	 * first open would get EPIPE when we closed it.)
	 */
	if (!stat(path, &sb) && S_ISREG(sb.st_mode) && sb.st_size > 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return lpu_error(-errno, "%s: %s", path,
					 strerror(errno));
		/* the file as opened (it may have changed since the stat) */
		regular = !fstat(fd, &sb) && S_ISREG(sb.st_mode) &&
			  sb.st_size > 0 && (uint64_t)sb.st_size <= SIZE_MAX;
		r = LPU_LOAD_STAGED;
		if (regular)
			r = lpu_model_load_mapped(dev, fd, NULL,
						  (size_t)sb.st_size, path,
						  out);
		if (r == LPU_LOAD_STAGED && regular &&
		    (uint64_t)sb.st_size <= lpu_stage_max(dev)) {
			r = stage_and_validate(dev, fd, NULL,
					       (size_t)sb.st_size, path, &st,
					       &prog);
			close(fd);
			if (r)
				return r;
			return model_load(dev, prog, &st, path, out);
		}
		close(fd);
		if (r != LPU_LOAD_STAGED)
			return r;
	}
	r = lpu_program_open(path, dev->info.sram_size, &prog, err,
			     sizeof(err));
	if (r)
		return lpu_error(r, "%s", err[0] ? err : path);
	return model_load(dev, prog, &st, path, out);
}

LPU_EXPORT int lpu_model_load_memory(struct lpu_device *dev, const void *data,
				     size_t len, struct lpu_model **out)
{
	struct stage st = { 0 };
	struct lpu_program *prog;
	char err[512] = "";
	int r;

	if (!dev || !data || !out)
		return lpu_error(-EINVAL, "lpu_model_load_memory: NULL argument");
	if (len) {
		r = lpu_model_load_mapped(dev, -1, data, len, "<memory>", out);
		if (r != LPU_LOAD_STAGED)
			return r;
	}
	if (len && len <= lpu_stage_max(dev)) {
		r = stage_and_validate(dev, -1, data, len, "<memory>", &st,
				       &prog);
		if (r)
			return r;
		return model_load(dev, prog, &st, "<memory>", out);
	}
	r = lpu_program_from_memory(data, len, dev->info.sram_size, &prog,
				    err, sizeof(err));
	if (r)
		return lpu_error(r, "<memory>: %s", err[0] ? err :
				 strerror(-r));
	return model_load(dev, prog, &st, "<memory>", out);
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
