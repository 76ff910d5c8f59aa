/* SPDX-License-Identifier: MIT */
/*
 * liblpu: the runtime for LPU inference cards.
 *
 * Find cards, load compiled programs (models) into card SRAM and stream the
 * tokens they generate, without speaking ioctl.
 *
 * Conventions
 * -----------
 * - Objects are opaque handles: struct lpu_device, lpu_model, lpu_stream,
 *   lpu_buffer, lpu_tokenizer, lpu_device_list, lpu_monitor.
 * - Functions are named lpu_<object>_<verb>(). A constructor returns 0 or
 *   -errno and hands the object back through its last parameter; the
 *   caller frees it with the matching _free/_close/_unload function.
 * - Every function that can fail returns 0 (or a non-negative count) on
 *   success and a negative errno on failure. lpu_strerror() turns it into
 *   text; lpu_last_error() gives the detailed message of the calling
 *   thread's last failure (naming the file or device involved).
 * - Options and information structs start with a size field the caller
 *   sets to sizeof(the struct), so the structs can grow without new names.
 *   A NULL options pointer means all defaults.
 *
 * Thread safety
 * -------------
 * - Different objects may be used from different threads freely.
 * - One lpu_device may be shared by threads for loading models, making
 *   buffers and starting streams (these calls are thread-safe).
 * - An lpu_stream, lpu_monitor or lpu_device_list is used by one thread at
 *   a time. lpu_stream_cancel() may be called from any thread.
 * - A model runs one stream at a time (its SRAM holds the running state);
 *   lpu_stream_start() on a busy model returns -EBUSY. Load the model
 *   twice, or open several devices, to run streams side by side.
 * - Lifetimes nest: free streams before their model, models and buffers
 *   before their device.
 */
#ifndef LPU_H
#define LPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LPU_VERSION_MAJOR	0
#define LPU_VERSION_MINOR	1

/* ---- errors ---------------------------------------------------------- */

/* Text for -errno @err (or errno @err); never NULL. */
const char *lpu_strerror(int err);
/* Detailed message of this thread's last failed call; never NULL. */
const char *lpu_last_error(void);

/* ---- discovery --------------------------------------------------------- */

struct lpu_device_list;

/*
 * Enumerate the LPU cards (accel devices bound to the lpu driver) with
 * libudev. An empty list is not an error.
 */
int lpu_device_list_new(struct lpu_device_list **out);
size_t lpu_device_list_count(const struct lpu_device_list *list);
/* Node path ("/dev/accel/accel0") of card @i, or NULL past the end. */
const char *lpu_device_list_node(const struct lpu_device_list *list,
				 size_t i);
/* PCI address ("0000:00:01.0") of card @i, or NULL. */
const char *lpu_device_list_pci_address(const struct lpu_device_list *list,
					size_t i);
/*
 * A sysfs attribute of card @i's PCI device (e.g. "sram_size",
 * "sram_used", "queue_status", "hw_version"), trailing newline removed;
 * NULL if it has none. Valid until the list is freed.
 */
const char *lpu_device_list_attr(const struct lpu_device_list *list,
				 size_t i, const char *name);
void lpu_device_list_free(struct lpu_device_list *list);

/* Hotplug: a file descriptor readable when a card comes or goes. */
struct lpu_monitor;

enum lpu_monitor_event {
	LPU_MONITOR_ADD = 1,
	LPU_MONITOR_REMOVE = 2,
};

int lpu_monitor_new(struct lpu_monitor **out);
int lpu_monitor_fd(const struct lpu_monitor *mon);
/*
 * Read one event: 1 with *@event and the node path in @node, 0 if none is
 * pending (never blocks), or -errno.
 */
int lpu_monitor_read(struct lpu_monitor *mon, int *event, char *node,
		     size_t len);
void lpu_monitor_free(struct lpu_monitor *mon);

/* ---- devices ----------------------------------------------------------- */

struct lpu_device;

/*
 * Open a card. @spec is NULL or "" (the first card), a decimal index into
 * the device list ("1"), a PCI address ("0000:00:01.0") or a node path
 * ("/dev/accel/accel0"). -ENODEV when no card matches, or when the node
 * is not an lpu accel node; a node path that cannot be opened gives
 * open()'s error (-ENOENT, -EACCES, ...).
 */
int lpu_device_open(const char *spec, struct lpu_device **out);
void lpu_device_close(struct lpu_device *dev);
/* The accel node's file descriptor (owned by the device; do not close). */
int lpu_device_fd(const struct lpu_device *dev);
const char *lpu_device_node(const struct lpu_device *dev);
const char *lpu_device_pci_address(const struct lpu_device *dev);

struct lpu_device_status {
	size_t size;			/* in: sizeof(struct lpu_device_status) */
	uint32_t hw_version;		/* major << 16 | minor */
	uint32_t queue_count;
	uint64_t caps;			/* DRM_LPU_CAP_* */
	uint64_t sram_size;		/* bytes */
	uint64_t sram_free;		/* bytes */
	uint32_t clock_mhz;
	int32_t temperature_mc;		/* millidegrees C, INT32_MIN unknown */
	int64_t power_uw;		/* microwatts, -1 unknown */
	uint32_t queue_busy;		/* bit q: queue q has work */
};

/* Current state of the card (ioctl query plus sysfs/hwmon). */
int lpu_device_query(struct lpu_device *dev, struct lpu_device_status *st);

/* ---- buffers (host memory the card can DMA) ----------------------------- */

struct lpu_buffer;

/* A zeroed buffer of at least @size bytes (rounded up to pages). */
int lpu_buffer_new(struct lpu_device *dev, size_t size,
		   struct lpu_buffer **out);
size_t lpu_buffer_size(const struct lpu_buffer *buf);
/* Map it (once; later calls return the same address) into *@ptr. */
int lpu_buffer_map(struct lpu_buffer *buf, void **ptr);
int lpu_buffer_unmap(struct lpu_buffer *buf);
void lpu_buffer_free(struct lpu_buffer *buf);

/* ---- models (compiled programs resident in SRAM) ------------------------- */

struct lpu_model;

struct lpu_model_info {
	size_t size;			/* in: sizeof(struct lpu_model_info) */
	uint64_t sram_footprint;	/* bytes of SRAM it holds */
	uint32_t vocab_size;
	uint32_t context_len;
	uint32_t prompt_max;
	uint32_t flags;			/* LPU_PROG_* (int8, ...) */
	uint64_t cycles_prologue;	/* the compiler's cycle prediction */
	uint64_t cycles_per_token;
	uint64_t cycles_epilogue;
	bool has_vocab;
};

/*
 * Load a program file: parse and validate it (the shared validator), check
 * it fits the card's free SRAM (-ENOSPC with both sizes in the message),
 * allocate SRAM and DMA the image. It stays resident for any number of
 * streams until lpu_model_unload(). -EINVAL/-ENOEXEC/-E2BIG/... for a
 * malformed file, as the validator reports.
 */
int lpu_model_load(struct lpu_device *dev, const char *path,
		   struct lpu_model **out);
int lpu_model_load_memory(struct lpu_device *dev, const void *data,
			  size_t len, struct lpu_model **out);
int lpu_model_info(const struct lpu_model *model, struct lpu_model_info *info);
void lpu_model_unload(struct lpu_model *model);

/* ---- token streams ------------------------------------------------------- */

struct lpu_stream;

struct lpu_stream_options {
	size_t size;		/* in: sizeof(struct lpu_stream_options) */
	uint32_t max_tokens;	/* most tokens to generate; 0 = default 256 */
	uint64_t seed;		/* sampling seed; 0 = the ISA's default */
	float temperature;	/* 0 = greedy (default) */
	float top_p;		/* 0 or 1 = no nucleus cut (default 0) */
	int queue;		/* hardware queue, -1 = pick one (default) */
};

/*
 * Start generating: the prompt (@n tokens, 1..prompt_max) is fed one per
 * position, then up to max_tokens tokens are generated. -EBUSY when the
 * model already runs a stream. A program that takes no prompt
 * (prompt_max 0) is started with @n 0 (@prompt may then be NULL).
 * Checked first: -EINVAL for opts->size too small (or unknown non-zero
 * fields of a larger struct), a temperature that is negative, NaN or
 * infinite, a top_p outside [0, 1], a queue out of range, an empty prompt,
 * a prompt token not below the vocabulary size; -E2BIG for a prompt
 * longer than prompt_max or a max_tokens whose stream buffer would exceed
 * the card's largest buffer; -EOPNOTSUPP when the card runs no programs.
 */
int lpu_stream_start(struct lpu_model *model, const uint32_t *prompt,
		     size_t n, const struct lpu_stream_options *opts,
		     struct lpu_stream **out);
/*
 * Next generated token, waiting up to @timeout_ms (-1 forever, 0 poll).
 * Returns 1 with *@token, 0 at the end of the stream, -ETIMEDOUT when
 * nothing arrived in time (call again), -ECANCELED after a cancel (or an
 * abort by the driver), -EIO when the program faulted (see
 * lpu_last_error(); the tokens before the fault come first), -ETIME when
 * the driver's watchdog stopped a program that made no progress (the
 * job's -ETIMEDOUT, renamed so as not to look like this call's own
 * timeout), other -errno. The end and the errors are sticky.
 */
int lpu_stream_next(struct lpu_stream *stream, uint32_t *token,
		    int timeout_ms);
/*
 * A file descriptor for poll/epoll: readable when lpu_stream_next() would
 * return without waiting. Owned by the stream.
 */
int lpu_stream_fd(struct lpu_stream *stream);
/* Stop the program; lpu_stream_next() then returns -ECANCELED. */
int lpu_stream_cancel(struct lpu_stream *stream);

enum lpu_stream_state {
	LPU_STREAM_STATE_RUNNING = 0,
	LPU_STREAM_STATE_DONE = 1,
	LPU_STREAM_STATE_FAULT = 2,
	LPU_STREAM_STATE_CANCELED = 3,
};

struct lpu_stream_stats {
	size_t size;		/* in: sizeof(struct lpu_stream_stats) */
	uint32_t state;		/* enum lpu_stream_state */
	uint32_t tokens;	/* generated so far */
	uint64_t cycles;	/* device cycles of the run (when done) */
	uint64_t predicted_cycles; /* the compiler's prediction for the run */
	uint64_t first_token_ns; /* start to first token */
	uint64_t elapsed_ns;	/* start to now, or to the end */
	uint32_t fault;		/* ISA fault code when state is FAULT */
	uint32_t fault_pc;
};

int lpu_stream_stats(const struct lpu_stream *stream,
		     struct lpu_stream_stats *stats);
/* Cancel if still running, wait for the card to let go, free. */
void lpu_stream_free(struct lpu_stream *stream);

/* ---- tokenizer ----------------------------------------------------------- */

struct lpu_tokenizer;

/* The model's own vocabulary (-ENOENT if it has none). */
int lpu_tokenizer_from_model(const struct lpu_model *model,
			     struct lpu_tokenizer **out);
/* A llama2.c tokenizer.bin with @vocab_size entries. */
int lpu_tokenizer_load(const char *path, uint32_t vocab_size,
		       struct lpu_tokenizer **out);
/*
 * Encode @text (BOS token 1 first when @bos) into @tokens (capacity
 * @max). Returns the token count, or -ENOSPC if @max is too small.
 */
int lpu_tokenizer_encode(const struct lpu_tokenizer *tok, const char *text,
			 bool bos, uint32_t *tokens, size_t max);
/*
 * Text of @token following @prev (llama2.c rules: a leading space is
 * dropped after BOS, "<0xNN>" byte tokens become the byte). The string
 * lives as long as the tokenizer; NULL for an unknown token.
 */
const char *lpu_tokenizer_decode(const struct lpu_tokenizer *tok,
				 uint32_t prev, uint32_t token);
uint32_t lpu_tokenizer_vocab_size(const struct lpu_tokenizer *tok);
void lpu_tokenizer_free(struct lpu_tokenizer *tok);

#ifdef __cplusplus
}
#endif

#endif /* LPU_H */
