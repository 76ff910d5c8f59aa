/* SPDX-License-Identifier: MIT */
/*
 * liblpu internals: the object structs, error helpers and the system-call
 * table. Nothing here is exported from liblpu.so (the library is built
 * with -fvisibility=hidden and liblpu.map ends in "local: *;"); the host
 * tests link the static archive and use lpu__set_ops() to put a fake card
 * behind the library.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef LPU_INTERNAL_H
#define LPU_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lpu.h"
#include "lpu_accel.h"
#include "lpu_program.h"

#define LPU_EXPORT	__attribute__((visibility("default")))

/* ---- system calls ------------------------------------------------------ */

/*
 * Every system call that touches the card goes through this table: open()
 * of a node, ioctl() (with drmIoctl()'s EINTR/EAGAIN retry), mmap() and
 * munmap() of buffers. The default is the real calls; the host tests
 * install a fake card with lpu__set_ops(). Each returns what the system
 * call returns (-1 with errno set on failure).
 */
struct lpu_ops {
	int (*open)(const char *path, int flags);
	int (*ioctl)(int fd, unsigned long request, void *arg);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t offset);
	int (*munmap)(void *addr, size_t len);
};

extern const struct lpu_ops *lpu_ops;

/* Test hook: use @ops (NULL: the real system calls). Not thread-safe. */
void lpu__set_ops(const struct lpu_ops *ops);

/* ioctl through the table: 0 or -errno. */
int lpu_ioctl(int fd, unsigned long request, void *arg);

/* ---- errors ------------------------------------------------------------ */

/*
 * Record the message of a failure for lpu_last_error() (printf format)
 * and return @err (a negative errno) for `return lpu_error(...)`.
 */
__attribute__((format(printf, 2, 3)))
int lpu_error(int err, const char *fmt, ...);

/* ---- objects ----------------------------------------------------------- */

#define LPU_MAX_QUEUES	64

struct lpu_device {
	int fd;
	char node[256];
	char pci[64];			/* "" when unknown */
	char syspath[512];		/* PCI device in sysfs, "" unknown */
	struct drm_lpu_device_info info;	/* queried at open */
	/* streams of this device running on each queue */
	atomic_uint queue_streams[LPU_MAX_QUEUES];
	/*
	 * The staging buffer of model loads (lpu_model.c): made by the first
	 * load, grown when a larger file comes, kept mapped until
	 * lpu_device_close() (lpu_model_stage_free()). stage_busy is set
	 * while a load uses it; a concurrent load makes a buffer of its own.
	 */
	struct lpu_buffer *stage;
	void *stage_map;
	atomic_bool stage_busy;
};

struct lpu_buffer {
	struct lpu_device *dev;
	uint32_t handle;
	uint64_t size;
	void *map;
	pthread_mutex_t lock;		/* protects map */
};

struct lpu_model {
	struct lpu_device *dev;
	struct lpu_program *prog;
	char name[256];			/* the file, or "<memory>" */
	/*
	 * What prog borrows, when it was not detached: the private copy of
	 * a file loaded from its pages (lpu_model.c), unmapped at unload.
	 */
	void *keep;
	size_t keep_len;
	uint32_t sram_handle;
	uint64_t sram_size;
	atomic_bool busy;		/* a stream runs */
};

/* Internal buffer helpers (no message on success, one on failure). */
int lpu_buffer_create(struct lpu_device *dev, uint64_t size,
		      struct lpu_buffer **out);

/*
 * Map with MAP_POPULATE (the driver maps buffers as PFN maps, which the
 * kernel does not populate: each page is still mapped at its first touch).
 */
int lpu_buffer_map_populate(struct lpu_buffer *buf, void **ptr);

/* Free the device's model staging buffer (lpu_device_close()). */
void lpu_model_stage_free(struct lpu_device *dev);

/* Current free SRAM from the query ioctl (or -errno). */
int lpu_device_sram_free(struct lpu_device *dev, uint64_t *sram_free);
/* Bit q set when sysfs says queue q is idle; -errno without sysfs. */
int lpu_device_idle_queues(struct lpu_device *dev, uint32_t *mask);

/*
 * A queue for a job: one without a stream of this device, idle according
 * to sysfs if possible, else (pid + a per-process counter) % queue_count.
 */
uint32_t lpu_device_pick_queue(struct lpu_device *dev);

/* Syncobj helpers (raw ioctls through the table), 0 or -errno. */
int lpu_syncobj_create(int fd, uint32_t *handle);
void lpu_syncobj_destroy(int fd, uint32_t handle);
/*
 * Wait for @count syncobjs (@points[i] 0 for a binary one) until the
 * absolute CLOCK_MONOTONIC @deadline_ns; @flags DRM_SYNCOBJ_WAIT_FLAGS_*.
 * Retries on EINTR. 0 (with *@first) or -errno (-ETIME on the deadline).
 */
int lpu_syncobj_wait(int fd, const uint32_t *handles, const uint64_t *points,
		     uint32_t count, int64_t deadline_ns, uint32_t flags,
		     uint32_t *first);
/* Fence status of a binary syncobj: 1 ok, 0 pending, or the fence -errno. */
int lpu_syncobj_status(int fd, uint32_t handle, int *status);

uint64_t lpu_now_ns(void);

/* Submit a job; fills *@job_id. 0 or -errno (no message). */
int lpu_submit(struct lpu_device *dev, uint32_t queue,
	       const struct drm_lpu_cmd *cmds, uint32_t n,
	       const struct drm_lpu_sync *out, uint32_t n_out,
	       uint64_t *job_id);

/* ---- model loading (lpu_model.c, lpu_model_mapped.c) --------------------- */

/* A staging buffer held by a load (lpu_stage_get()/lpu_stage_put()). */
struct stage {
	struct lpu_buffer *buf;	/* NULL: none held */
	uint8_t *map;
	bool cached;		/* the device's buffer (else our own) */
};

/* The largest buffer the card makes (the staging buffer's limit). */
uint64_t lpu_stage_max(const struct lpu_device *dev);
/* A mapped staging buffer of at least @need (> 0) bytes; 0 or -errno. */
int lpu_stage_get(struct lpu_device *dev, uint64_t need, struct stage *st);
void lpu_stage_put(struct lpu_device *dev, struct stage *st);
/* DMA_TO_SRAM commands for @size bytes from @st at @bo_off to @win_off. */
uint32_t lpu_load_add_dma(struct drm_lpu_cmd *cmds, uint32_t n,
			  const struct stage *st, uint32_t sram_handle,
			  uint64_t bo_off, uint64_t win_off, uint64_t size);
/* How many of those commands @size bytes take. */
uint64_t lpu_load_chunks(uint64_t size);
/*
 * Submit @cmds[0..n) as one job on a queue of its own choosing; its
 * completion is the new syncobj *@done (0 again on failure). 0 or -errno
 * with a message.
 */
int lpu_load_submit(struct lpu_model *m, const struct drm_lpu_cmd *cmds,
		    uint32_t n, uint32_t *done);
/* Wait for a load job's syncobj; 0 or -errno with a message. */
int lpu_load_wait(struct lpu_model *m, uint32_t done);
/* A model for @prog with its SRAM allocated; takes @prog. */
int lpu_model_new(struct lpu_device *dev, struct lpu_program *prog,
		  const char *name, struct lpu_model **out);

/* lpu_model_load_mapped(): nothing done, load through the staging path. */
#define LPU_LOAD_STAGED		1
/*
 * Load the regular file @fd, or with @fd -1 the bytes @mem, of @len bytes
 * from its own pages: 0, LPU_LOAD_STAGED, or -errno with a message.
 */
int lpu_model_load_mapped(struct lpu_device *dev, int fd, const void *mem,
			  size_t len, const char *name, struct lpu_model **out);

/* Check an in/out struct's size field: -EINVAL (with a message) if small. */
int lpu_check_size(size_t size, size_t min, const char *func,
		   const char *what);

#endif /* LPU_INTERNAL_H */
