/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace ABI of the lpu DRM accel driver (/dev/accel/accelN).
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef __UAPI_LPU_ACCEL_H__
#define __UAPI_LPU_ACCEL_H__

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: Overview
 *
 * An LPU card keeps programs and their data in on-card SRAM and moves data
 * between host memory and SRAM with DMA. Userspace sees three kinds of
 * object, all owned by the open file that made them:
 *
 * - buffers: host memory, created with &DRM_IOCTL_LPU_BO_CREATE and mapped
 *   with mmap() at the offset from &DRM_IOCTL_LPU_BO_MMAP_OFFSET; closed
 *   with the generic &DRM_IOCTL_GEM_CLOSE.
 * - SRAM allocations: ranges of card SRAM, not CPU-mappable, created with
 *   &DRM_IOCTL_LPU_SRAM_ALLOC and released with &DRM_IOCTL_LPU_SRAM_FREE or
 *   when the file is closed. Another file's SRAM handles do not resolve.
 *   SRAM is cleared before it is handed to a new owner.
 * - jobs: a list of commands submitted to one hardware queue with
 *   &DRM_IOCTL_LPU_SUBMIT. Commands of a job run in order; a failing
 *   command skips the rest of its job. Completion is signalled through
 *   drm_syncobj handles (binary, or a point of a timeline syncobj). A job
 *   that failed signals its syncobj fences with an error.
 *
 * Every LPU ioctl rejects unknown flags and non-zero padding or reserved
 * fields with -EINVAL. The errno values are documented per ioctl and are
 * stable. (The DRM core's own ioctls, such as GEM_CLOSE, keep their own
 * conventions.)
 */

/**
 * DOC: Errors
 *
 * The driver uses one errno per kind of mistake, the same in every LPU
 * ioctl:
 *
 * - -EINVAL: unknown flag, non-zero padding or reserved field, unknown
 *   command or query, zero size, queue index out of range, an in-sync
 *   syncobj (or timeline point) that has no fence yet.
 * - -ENOENT: handle (buffer, SRAM or syncobj) not known to this file.
 * - -ERANGE: offset plus size past the end of a buffer or SRAM allocation,
 *   or an arithmetic overflow of offset plus size.
 * - -E2BIG: a buffer or SRAM allocation size, or a command or sync count,
 *   above its documented maximum. (A DMA size that does not fit its buffer
 *   or allocation is -ERANGE.)
 * - -ENOSPC: not enough free SRAM.
 * - -EFAULT: a user pointer that cannot be read or written.
 * - -EACCES: a command would make the card write into a buffer made
 *   read-only (%DRM_LPU_BO_USERPTR_READ_ONLY).
 * - -ENODEV: the card has been removed.
 * - -ENOMEM: out of kernel memory.
 *
 * A job's fence carries its failure as the fence error: -EIO for a device
 * error or a program fault, -ECANCELED when the job was cancelled, aborted
 * by a reset, or one of its in-syncs failed (it then does not run),
 * -ETIMEDOUT when it made no progress within the queue timeout or ran to
 * its &drm_lpu_cmd_exec.max_kcycles, -ENODEV
 * when the card was removed, and -ESRCH when the scheduler dropped it
 * because its process exited before it reached the card.
 */

#define DRM_LPU_QUERY			0x00
#define DRM_LPU_BO_CREATE		0x01
#define DRM_LPU_BO_MMAP_OFFSET		0x02
#define DRM_LPU_SRAM_ALLOC		0x03
#define DRM_LPU_SRAM_FREE		0x04
#define DRM_LPU_SUBMIT			0x05
#define DRM_LPU_JOB_CANCEL		0x06
#define DRM_LPU_BO_USERPTR		0x07

#define DRM_IOCTL_LPU_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_QUERY, struct drm_lpu_query)
#define DRM_IOCTL_LPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_BO_CREATE, struct drm_lpu_bo_create)
#define DRM_IOCTL_LPU_BO_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_BO_MMAP_OFFSET, \
		 struct drm_lpu_bo_mmap_offset)
#define DRM_IOCTL_LPU_SRAM_ALLOC \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_SRAM_ALLOC, struct drm_lpu_sram_alloc)
#define DRM_IOCTL_LPU_SRAM_FREE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LPU_SRAM_FREE, struct drm_lpu_sram_free)
#define DRM_IOCTL_LPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_SUBMIT, struct drm_lpu_submit)
#define DRM_IOCTL_LPU_JOB_CANCEL \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LPU_JOB_CANCEL, struct drm_lpu_job_cancel)
#define DRM_IOCTL_LPU_BO_USERPTR \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LPU_BO_USERPTR, struct drm_lpu_bo_userptr)

/**
 * DOC: Capabilities
 *
 * Bits of &drm_lpu_device_info.caps:
 *
 * %DRM_LPU_CAP_DMA_SG
 *	DMA between SRAM and any range of a (non-contiguous) buffer.
 * %DRM_LPU_CAP_FENCE
 *	The %DRM_LPU_CMD_FENCE command.
 * %DRM_LPU_CAP_EXEC
 *	The card runs programs (the %DRM_LPU_CMD_EXEC command).
 * %DRM_LPU_CAP_TIMELINE
 *	Submit accepts timeline syncobj points.
 * %DRM_LPU_CAP_USERPTR
 *	&DRM_IOCTL_LPU_BO_USERPTR: buffers over the caller's own memory.
 */
#define DRM_LPU_CAP_DMA_SG		0x1ULL
#define DRM_LPU_CAP_FENCE		0x2ULL
#define DRM_LPU_CAP_EXEC		0x4ULL
#define DRM_LPU_CAP_TIMELINE		0x8ULL
#define DRM_LPU_CAP_USERPTR		0x10ULL

/**
 * struct drm_lpu_device_info - what &DRM_IOCTL_LPU_QUERY returns
 *
 * New fields are only ever appended. The kernel writes
 * min(&drm_lpu_query.size, sizeof(struct drm_lpu_device_info)) bytes, so
 * an older program gets the prefix it knows and a newer program finds out
 * from @struct_size which fields the kernel filled.
 */
struct drm_lpu_device_info {
	/** @struct_size: out: size of this struct as the kernel knows it */
	__u32 struct_size;
	/** @hw_version: out: hardware interface version, major << 16 | minor */
	__u32 hw_version;
	/** @caps: out: mask of DRM_LPU_CAP_* */
	__u64 caps;
	/** @sram_size: out: SRAM on the card, bytes */
	__u64 sram_size;
	/** @sram_free: out: SRAM not allocated by any file, bytes */
	__u64 sram_free;
	/** @queue_count: out: number of hardware queues */
	__u32 queue_count;
	/** @clock_mhz: out: core clock in MHz, for turning cycles into time */
	__u32 clock_mhz;
	/** @pci_vendor: out: PCI vendor ID */
	__u16 pci_vendor;
	/** @pci_device: out: PCI device ID */
	__u16 pci_device;
	/** @pci_revision: out: PCI revision ID */
	__u8 pci_revision;
	/** @pad: out: zero */
	__u8 pad[3];
	/** @max_bo_size: out: largest buffer &DRM_IOCTL_LPU_BO_CREATE makes */
	__u64 max_bo_size;
	/** @max_cmds: out: most commands in one &drm_lpu_submit */
	__u32 max_cmds;
	/** @sram_align: out: SRAM allocation granule, bytes */
	__u32 sram_align;
};

/**
 * struct drm_lpu_query - read device information
 *
 * Errors: -EINVAL for non-zero @flags or a @size below 8, -EFAULT when
 * @info cannot be written.
 */
struct drm_lpu_query {
	/** @info: in: user pointer to a &struct drm_lpu_device_info */
	__u64 info;
	/** @size: in: bytes at @info, at least 8; out: bytes written */
	__u32 size;
	/** @flags: in: must be 0 */
	__u32 flags;
};

/**
 * struct drm_lpu_bo_create - create a host-memory buffer
 *
 * The buffer is zero-filled shmem memory, mapped with mmap() on the accel
 * node at the offset from &DRM_IOCTL_LPU_BO_MMAP_OFFSET. Its size is
 * rounded up to a whole number of pages.
 *
 * Errors: -EINVAL for a zero @size or non-zero @flags, -E2BIG for a
 * @size above &drm_lpu_device_info.max_bo_size, -ENOMEM.
 */
struct drm_lpu_bo_create {
	/** @size: in: bytes, 1..max_bo_size; out: the rounded-up size */
	__u64 size;
	/** @flags: in: must be 0 */
	__u32 flags;
	/** @handle: out: GEM handle of the new buffer */
	__u32 handle;
};

/* Flags of &drm_lpu_bo_userptr.flags */
#define DRM_LPU_BO_USERPTR_READ_ONLY	0x1

/**
 * struct drm_lpu_bo_userptr - a buffer over the caller's own memory
 *
 * Makes a buffer of the pages that back [@addr, @addr + @size) in the
 * calling process: anonymous memory, or a file mapped with mmap() (the
 * file's page cache, so a file can be DMAed to SRAM without a copy). The
 * pages are pinned when the buffer is made and stay pinned until it is
 * closed (&DRM_IOCTL_GEM_CLOSE or closing the file); later changes to the
 * process's mappings (munmap(), mremap()) do not change which pages the
 * buffer holds. The pinned bytes count against the caller's
 * RLIMIT_MEMLOCK unless it has CAP_IPC_LOCK.
 *
 * The buffer is used by handle in DMA and EXEC commands like any other; it
 * cannot be mapped through the accel node (&DRM_IOCTL_LPU_BO_MMAP_OFFSET
 * fails with -EINVAL) nor exported (DRM_IOCTL_PRIME_HANDLE_TO_FD fails
 * with -EOPNOTSUPP). With %DRM_LPU_BO_USERPTR_READ_ONLY the pages are
 * pinned for reading only (a read-only mapping is enough) and the card
 * only reads them: %DRM_LPU_CMD_DMA_FROM_SRAM into the buffer, and EXEC
 * with the buffer as parameter block or stream, fail with -EACCES.
 * Without it the range must be writable.
 *
 * Errors: -EINVAL for unknown @flags, a zero @size, or an @addr or @size
 * that is not a multiple of the page size; -E2BIG for a @size above
 * &drm_lpu_device_info.max_bo_size; -EFAULT when a page of the range is
 * not mapped or lacks the access asked for; -ENOMEM when out of memory or
 * over RLIMIT_MEMLOCK.
 */
struct drm_lpu_bo_userptr {
	/** @addr: in: start of the range, page-aligned */
	__u64 addr;
	/** @size: in: bytes, a multiple of the page size, 1..max_bo_size */
	__u64 size;
	/** @flags: in: 0 or %DRM_LPU_BO_USERPTR_READ_ONLY */
	__u32 flags;
	/** @handle: out: GEM handle of the new buffer */
	__u32 handle;
};

/**
 * struct drm_lpu_bo_mmap_offset - get the fake offset to mmap a buffer
 *
 * Errors: -EINVAL for non-zero @flags, -ENOENT for an unknown @handle.
 */
struct drm_lpu_bo_mmap_offset {
	/** @handle: in: GEM handle */
	__u32 handle;
	/** @flags: in: must be 0 */
	__u32 flags;
	/** @offset: out: offset to pass to mmap() */
	__u64 offset;
};

/**
 * struct drm_lpu_sram_alloc - allocate card SRAM for this file
 *
 * The range is zero when handed out, and belongs to this file until
 * &DRM_IOCTL_LPU_SRAM_FREE or close(). Jobs in flight keep it allocated
 * until they finish.
 *
 * Errors: -EINVAL for a zero @size or non-zero @flags, -E2BIG for a @size
 * above the card's SRAM, -ENOSPC when no free range is large enough,
 * -EIO when the card failed to clear the range, -ENODEV, -ENOMEM.
 */
struct drm_lpu_sram_alloc {
	/** @size: in: bytes; out: rounded up to &drm_lpu_device_info.sram_align */
	__u64 size;
	/** @flags: in: must be 0 */
	__u32 flags;
	/** @handle: out: SRAM handle, valid in this file only, never 0 */
	__u32 handle;
	/** @sram_addr: out: device address of the range (informational) */
	__u64 sram_addr;
};

/**
 * struct drm_lpu_sram_free - release an SRAM allocation
 *
 * Errors: -EINVAL for non-zero @pad, -ENOENT for a handle this file does
 * not hold.
 */
struct drm_lpu_sram_free {
	/** @handle: in: SRAM handle */
	__u32 handle;
	/** @pad: in: must be 0 */
	__u32 pad;
};

/**
 * DOC: Commands
 *
 * %DRM_LPU_CMD_NOP
 *	Does nothing; completes in order with the job.
 * %DRM_LPU_CMD_FENCE
 *	Completes after every earlier command of the queue has completed.
 *	Rejected with -EINVAL unless the device reports %DRM_LPU_CAP_FENCE.
 * %DRM_LPU_CMD_DMA_TO_SRAM
 *	Copies &drm_lpu_cmd_dma.size bytes from the buffer at bo_offset to the
 *	SRAM allocation at sram_offset.
 * %DRM_LPU_CMD_DMA_FROM_SRAM
 *	Copies from the SRAM allocation to the buffer.
 * %DRM_LPU_CMD_EXEC
 *	Runs a program resident in SRAM and streams its tokens to a buffer
 *	(&struct drm_lpu_cmd_exec). Rejected with -EINVAL unless the device
 *	reports %DRM_LPU_CAP_EXEC.
 */
#define DRM_LPU_CMD_NOP			0
#define DRM_LPU_CMD_FENCE		1
#define DRM_LPU_CMD_DMA_TO_SRAM		2
#define DRM_LPU_CMD_DMA_FROM_SRAM	3
#define DRM_LPU_CMD_EXEC		4

/**
 * struct drm_lpu_cmd_dma - payload of the DMA commands
 */
struct drm_lpu_cmd_dma {
	/** @bo_handle: in: GEM handle of the host buffer */
	__u32 bo_handle;
	/** @sram_handle: in: SRAM handle of this file */
	__u32 sram_handle;
	/** @bo_offset: in: byte offset in the buffer */
	__u64 bo_offset;
	/** @sram_offset: in: byte offset in the SRAM allocation */
	__u64 sram_offset;
	/** @size: in: bytes to copy, 1..min(buffer, allocation) */
	__u64 size;
	/** @reserved: in: must be 0 */
	__u64 reserved[3];
};

/**
 * DOC: Token streams
 *
 * An EXEC command writes the tokens its program emits to a buffer, at
 * &drm_lpu_cmd_exec.stream_offset, laid out as &struct drm_lpu_stream
 * followed by stream_capacity little-endian u32 token ids. The card
 * initialises the header (tokens 0, state running) when the program
 * starts and updates tokens after each token it writes, so a reader that
 * sees tokens == k may read token[0..k-1]. The other header fields are
 * written when the program stops, before the job's fence signals: cycles
 * and insns (which counts the final HALT) always, fault and fault_pc only
 * for a fault (else 0). An emit into a full stream is a fault and is not
 * counted in tokens.
 *
 * When &drm_lpu_cmd_exec.progress_syncobj names a timeline syncobj, the
 * driver signals point k of it once at least k tokens are in the buffer
 * (points may be skipped: signalling point k completes every point below
 * it). Use a fresh or reset timeline per run. The card raises progress
 * interrupts as tokens are written, so a waiter wakes per token, not per
 * job. The point for the last token may be signalled just after the job's
 * fence; a reader of the job's fence reads the count from the header.
 *
 * A file is closed, and its programs stopped, when its last reference
 * goes: mappings of its buffers keep it open.
 */

/**
 * struct drm_lpu_stream - header of a token stream (little-endian)
 */
struct drm_lpu_stream {
	/** @tokens: out: tokens written so far */
	__u32 tokens;
	/** @state: out: 0 running, 1 halted, 2 faulted, 3 aborted */
	__u32 state;
	/** @fault: out: the ISA fault code when @state is 2 */
	__u32 fault;
	/** @fault_pc: out: window offset of the faulting instruction */
	__u32 fault_pc;
	/** @cycles: out: modelled device cycles of the run */
	__u64 cycles;
	/** @insns: out: instructions executed */
	__u64 insns;
	/** @reserved: out: zero */
	__u64 reserved[4];
};

#define DRM_LPU_STREAM_RUNNING		0
#define DRM_LPU_STREAM_HALTED		1
#define DRM_LPU_STREAM_FAULT		2
#define DRM_LPU_STREAM_ABORTED		3

/**
 * struct drm_lpu_cmd_exec - payload of %DRM_LPU_CMD_EXEC
 *
 * The program's SRAM window is the whole allocation @sram_handle; load it
 * (and the prompt) with DMA commands first. The job fails with -EIO when
 * the program faults (details in the stream header), with -ETIMEDOUT when
 * it makes no progress for the queue timeout or runs to @max_kcycles, and
 * with -ECANCELED when it is aborted, for example because its file was
 * closed.
 */
struct drm_lpu_cmd_exec {
	/** @sram_handle: in: SRAM allocation holding the program */
	__u32 sram_handle;
	/** @stream_handle: in: buffer that receives the token stream */
	__u32 stream_handle;
	/** @stream_offset: in: offset of the stream in it, 64-byte aligned */
	__u64 stream_offset;
	/** @stream_capacity: in: tokens the stream holds, >= 1 */
	__u32 stream_capacity;
	/** @entry: in: window offset of the first instruction, 32-aligned */
	__u32 entry;
	/** @prompt_len: in: prompt tokens already in SRAM (register r1) */
	__u32 prompt_len;
	/** @budget: in: most tokens to generate (register r2) */
	__u32 budget;
	/**
	 * @temperature: in: f32 bits, finite, sign bit clear (so -0.0 is
	 * rejected); 0 is greedy
	 */
	__u32 temperature;
	/**
	 * @top_p: in: f32 bits in [+0, 1], sign bit clear; 0 or 1 sample
	 * from everything
	 */
	__u32 top_p;
	/** @seed: in: sampling seed; 0 picks the ISA's default seed */
	__u64 seed;
	/** @progress_syncobj: in: timeline syncobj for progress, or 0 */
	__u32 progress_syncobj;
	/**
	 * @max_kcycles: in: 0 (no limit), or the most cycles the program
	 * may run, in thousands. The card stops it at the first instruction
	 * boundary at or past the limit (the stream's state becomes
	 * %DRM_LPU_STREAM_ABORTED, the job fails with -ETIMEDOUT). Below the
	 * limit, the watchdog counts the cycles a program runs as progress,
	 * as it counts tokens: a program with a limit is not taken for hung
	 * while it computes without emitting (a long prompt); one without
	 * must emit a token within every queue timeout. liblpu sets twice
	 * the compiler's prediction of the run.
	 */
	__u32 max_kcycles;
};

/**
 * struct drm_lpu_cmd - one command of a job, 64 bytes
 */
struct drm_lpu_cmd {
	/** @op: in: DRM_LPU_CMD_* */
	__u32 op;
	/** @flags: in: must be 0 */
	__u32 flags;
	union {
		/** @dma: in: for the DMA commands */
		struct drm_lpu_cmd_dma dma;
		/** @exec: in: for %DRM_LPU_CMD_EXEC */
		struct drm_lpu_cmd_exec exec;
		/** @raw: in: must be 0 for NOP and FENCE */
		__u64 raw[7];
	};
};

/**
 * struct drm_lpu_sync - a syncobj to wait on or to signal
 */
struct drm_lpu_sync {
	/** @handle: in: drm_syncobj handle */
	__u32 handle;
	/** @flags: in: must be 0 */
	__u32 flags;
	/**
	 * @point: in: timeline point; 0 for a binary syncobj. An out-sync
	 * point should be above the timeline's last point, or waiters may
	 * see points complete out of order. An in-sync must already have a
	 * fence (the point has been submitted), else -EINVAL.
	 */
	__u64 point;
};

#define DRM_LPU_MAX_CMDS		256
#define DRM_LPU_MAX_SYNCS		64

/**
 * struct drm_lpu_submit - queue a job on a hardware queue
 *
 * The job waits for every in-sync, then runs its commands in order on
 * hardware queue @queue. Every out-sync gets the job's completion fence:
 * a binary syncobj has its fence replaced, a timeline syncobj gets the
 * fence at @drm_lpu_sync.point.
 *
 * Everything is checked before anything is queued: on an error nothing
 * runs and no syncobj changes.
 *
 * The counts and @queue are checked before any array is read.
 *
 * Errors: -EINVAL (flags, padding, reserved fields, unknown command, zero
 * @cmd_count or DMA size, @queue out of range, an in-sync without a
 * fence), -E2BIG (@cmd_count above %DRM_LPU_MAX_CMDS or a sync count above
 * %DRM_LPU_MAX_SYNCS), -ENOENT (unknown buffer, SRAM or syncobj handle),
 * -ERANGE (a range past a buffer or SRAM allocation, or offset + size
 * overflowing), -EFAULT, -ENOMEM, -ENODEV.
 *
 * Jobs on one queue complete in submission order.
 */
struct drm_lpu_submit {
	/** @cmds: in: user pointer to @cmd_count &struct drm_lpu_cmd */
	__u64 cmds;
	/** @in_syncs: in: user pointer to @in_sync_count &struct drm_lpu_sync */
	__u64 in_syncs;
	/** @out_syncs: in: user pointer to @out_sync_count &struct drm_lpu_sync */
	__u64 out_syncs;
	/** @cmd_count: in: 1..%DRM_LPU_MAX_CMDS */
	__u32 cmd_count;
	/** @in_sync_count: in: 0..%DRM_LPU_MAX_SYNCS */
	__u32 in_sync_count;
	/** @out_sync_count: in: 0..%DRM_LPU_MAX_SYNCS */
	__u32 out_sync_count;
	/** @queue: in: hardware queue, below &drm_lpu_device_info.queue_count */
	__u32 queue;
	/** @flags: in: must be 0 */
	__u32 flags;
	/** @pad: in: must be 0 */
	__u32 pad;
	/**
	 * @job_id: out: sequence number of the job among this file's jobs on
	 * @queue (1, 2, ...), for &DRM_IOCTL_LPU_JOB_CANCEL
	 */
	__u64 job_id;
};

/**
 * struct drm_lpu_job_cancel - stop this file's jobs on a queue
 *
 * Cancels every job this file submitted to @queue whose job_id (as
 * returned by &DRM_IOCTL_LPU_SUBMIT) is at most @job_id. Jobs not yet on
 * the card fail with -ECANCELED without running; a program running on the
 * card stops within one instruction slice and its job fails with
 * -ECANCELED (its stream header says aborted); DMA commands already on the
 * card complete. Jobs that completed are not affected, so cancelling is
 * always safe to race with completion; jobs submitted after the call are
 * not affected either (a @job_id past the last job submitted means the
 * last one). Closing the file cancels all its jobs the same way.
 *
 * Errors: -EINVAL for non-zero @flags or @queue out of range.
 */
struct drm_lpu_job_cancel {
	/** @job_id: in: cancel jobs with a job_id up to this one */
	__u64 job_id;
	/** @queue: in: hardware queue */
	__u32 queue;
	/** @flags: in: must be 0 */
	__u32 flags;
};

#if defined(__cplusplus)
}
#endif

#endif /* __UAPI_LPU_ACCEL_H__ */
