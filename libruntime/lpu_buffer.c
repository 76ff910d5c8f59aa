// SPDX-License-Identifier: MIT
/*
 * liblpu: host buffers the card can DMA (shmem GEM objects).
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lpu_internal.h"

int lpu_buffer_create(struct lpu_device *dev, uint64_t size,
		      struct lpu_buffer **out)
{
	struct drm_lpu_bo_create c = { .size = size };
	struct lpu_buffer *buf;
	int r;

	if (!size)
		return lpu_error(-EINVAL, "%s: a buffer of 0 bytes", dev->node);
	if (dev->info.max_bo_size && size > dev->info.max_bo_size)
		return lpu_error(-E2BIG,
				 "%s: a buffer of %llu bytes, the card makes at most %llu",
				 dev->node, (unsigned long long)size,
				 (unsigned long long)dev->info.max_bo_size);
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return lpu_error(-ENOMEM, "%s: out of memory", dev->node);
	r = lpu_ioctl(dev->fd, DRM_IOCTL_LPU_BO_CREATE, &c);
	if (r) {
		free(buf);
		return lpu_error(r, "%s: creating a buffer of %llu bytes: %s",
				 dev->node, (unsigned long long)size,
				 strerror(-r));
	}
	buf->dev = dev;
	buf->handle = c.handle;
	buf->size = c.size;
	pthread_mutex_init(&buf->lock, NULL);
	*out = buf;
	return 0;
}

LPU_EXPORT int lpu_buffer_new(struct lpu_device *dev, size_t size,
			      struct lpu_buffer **out)
{
	if (!dev || !out)
		return lpu_error(-EINVAL, "lpu_buffer_new: NULL argument");
	return lpu_buffer_create(dev, size, out);
}

LPU_EXPORT size_t lpu_buffer_size(const struct lpu_buffer *buf)
{
	return buf ? buf->size : 0;
}

static int buffer_map(struct lpu_buffer *buf, void **ptr, int flags)
{
	struct drm_lpu_bo_mmap_offset mo;
	void *p;
	int r = 0;

	pthread_mutex_lock(&buf->lock);
	if (buf->map)
		goto out;
	memset(&mo, 0, sizeof(mo));
	mo.handle = buf->handle;
	r = lpu_ioctl(buf->dev->fd, DRM_IOCTL_LPU_BO_MMAP_OFFSET, &mo);
	if (r) {
		lpu_error(r, "%s: mapping a buffer: %s", buf->dev->node,
			  strerror(-r));
		goto out;
	}
	p = lpu_ops->mmap(NULL, buf->size, PROT_READ | PROT_WRITE,
			  MAP_SHARED | flags, buf->dev->fd, (off_t)mo.offset);
	if (p == MAP_FAILED) {
		r = lpu_error(-errno, "%s: mmap of a %llu-byte buffer: %s",
			      buf->dev->node, (unsigned long long)buf->size,
			      strerror(errno));
		goto out;
	}
	buf->map = p;
out:
	if (!r)
		*ptr = buf->map;
	pthread_mutex_unlock(&buf->lock);
	return r;
}

LPU_EXPORT int lpu_buffer_map(struct lpu_buffer *buf, void **ptr)
{
	if (!buf || !ptr)
		return lpu_error(-EINVAL, "lpu_buffer_map: NULL argument");
	return buffer_map(buf, ptr, 0);
}

int lpu_buffer_map_populate(struct lpu_buffer *buf, void **ptr)
{
	return buffer_map(buf, ptr, MAP_POPULATE);
}

LPU_EXPORT int lpu_buffer_unmap(struct lpu_buffer *buf)
{
	int r = 0;

	if (!buf)
		return lpu_error(-EINVAL, "lpu_buffer_unmap: buf is NULL");
	pthread_mutex_lock(&buf->lock);
	if (buf->map && lpu_ops->munmap(buf->map, buf->size))
		r = lpu_error(-errno, "munmap: %s", strerror(errno));
	else
		buf->map = NULL;
	pthread_mutex_unlock(&buf->lock);
	return r;
}

LPU_EXPORT void lpu_buffer_free(struct lpu_buffer *buf)
{
	struct drm_gem_close gc;

	if (!buf)
		return;
	if (buf->map)
		lpu_ops->munmap(buf->map, buf->size);
	memset(&gc, 0, sizeof(gc));
	gc.handle = buf->handle;
	lpu_ioctl(buf->dev->fd, DRM_IOCTL_GEM_CLOSE, &gc);
	pthread_mutex_destroy(&buf->lock);
	free(buf);
}
