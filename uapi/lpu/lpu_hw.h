/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Hardware interface of the LPU PCIe card: register map, descriptor and
 * completion formats, status codes.
 *
 * Shared by the kernel driver (driver/) and the emulated card
 * (tools/emulator/),
 * so it uses only fixed-width little-endian types and plain shifts.
 * Documentation/hardware.rst describes every register and field.
 *
 * All registers are 32 bits wide and must be accessed with 32-bit reads and
 * writes. 64-bit values are split in _LO/_HI pairs; the device latches
 * nothing, so a 64-bit register that may change (the cycle counter) is read
 * HI, LO, HI and retried if HI changed.
 */
#ifndef _LPU_HW_H_
#define _LPU_HW_H_

#include <linux/types.h>

/* PCI identity: QEMU's test vendor range, never a real vendor's ID. */
#define LPU_PCI_VENDOR_ID		0x1234
#define LPU_PCI_DEVICE_ID		0x4c50	/* "LP" */
#define LPU_PCI_REVISION		0x01
/* PCI class 0x12 "processing accelerator", subclass 0x00 */
#define LPU_PCI_CLASS			0x1200

/* BARs */
#define LPU_BAR_REGS			0	/* 64 KiB of registers */
#define LPU_BAR_REGS_SIZE		0x10000
#define LPU_BAR_MSIX			4	/* MSI-X table and PBA */

/*
 * Interrupt vectors (MSI-X): vector q serves queue q and vector QUEUE_COUNT
 * serves device events, so the card has QUEUE_COUNT + 1 vectors. With plain
 * MSI or INTx there is one vector; IRQ_CAUSE says which sources are pending.
 * In every mode a source interrupts only while its IRQ_MASK bit is set, and
 * its IRQ_CAUSE bit stays set until written with 1.
 */
#define LPU_MAX_QUEUES			16

/* ---- Global registers (BAR0) ------------------------------------------ */

#define LPU_REG_ID			0x0000	/* RO */
#define   LPU_ID_MAGIC			0x4c505530	/* "LPU0" */
#define LPU_REG_VERSION			0x0004	/* RO */
#define   LPU_VERSION_MAJOR_SHIFT	16
#define   LPU_VERSION_MINOR_MASK	0xffff
#define   LPU_HW_VERSION_MAJOR		1
#define   LPU_HW_VERSION_MINOR		0
#define LPU_REG_CAPS			0x0008	/* RO */
#define   LPU_CAP_DMA_SG		(1u << 0)	/* DMA with SG lists */
#define   LPU_CAP_FENCE			(1u << 1)	/* FENCE descriptor */
#define   LPU_CAP_EXEC			(1u << 2)	/* EXEC descriptor */
#define   LPU_CAP_SRAM_CLEAR		(1u << 3)	/* SRAM_CLEAR regs */
#define   LPU_CAP_MSIX			(1u << 4)	/* MSI-X capable */
#define LPU_REG_QUEUE_COUNT		0x000c	/* RO, 1..LPU_MAX_QUEUES */
#define LPU_REG_SRAM_SIZE_LO		0x0010	/* RO, bytes */
#define LPU_REG_SRAM_SIZE_HI		0x0014	/* RO */
#define LPU_REG_CTRL			0x0018	/* RW */
#define   LPU_CTRL_RESET		(1u << 0)	/* W1: reset, reads 0 */
#define LPU_REG_STATUS			0x001c	/* RO */
#define   LPU_STATUS_READY		(1u << 0)	/* out of reset */
#define LPU_REG_IRQ_CAUSE		0x0020	/* RW1C */
/* queue q: a completion or token progress */
#define   LPU_IRQ_QUEUE(q)		(1u << (q))
#define   LPU_IRQ_EVENT			(1u << 31)	/* device event */
#define LPU_REG_IRQ_MASK		0x0024	/* RW, 1 = enabled */
#define LPU_REG_CYCLES_LO		0x0028	/* RO, free-running */
#define LPU_REG_CYCLES_HI		0x002c	/* RO */
#define LPU_REG_TEMP			0x0030	/* RO, milli-degrees C */
#define LPU_REG_POWER			0x0034	/* RO, milliwatts */
#define LPU_REG_CLOCK			0x0038	/* RO, core clock in MHz */
#define LPU_REG_EVENT			0x003c	/* RO, last device event */
#define   LPU_EVENT_QUEUE_SHIFT		16	/* queue that caused it */
#define   LPU_EVENT_CODE_MASK		0xffff	/* enum lpu_hw_event */
#define LPU_REG_SCRATCH			0x0040	/* RW, no side effect */
/*
 * SRAM clear: write base and length (both multiples of 64), then write
 * LPU_SRAM_CLEAR_GO to SRAM_CLEAR_CTRL. The clear is done when the register
 * reads 0; an out-of-range request sets LPU_SRAM_CLEAR_ERROR instead.
 */
#define LPU_REG_SRAM_CLEAR_BASE_LO	0x0048	/* RW */
#define LPU_REG_SRAM_CLEAR_BASE_HI	0x004c	/* RW */
#define LPU_REG_SRAM_CLEAR_LEN_LO	0x0050	/* RW */
#define LPU_REG_SRAM_CLEAR_LEN_HI	0x0054	/* RW */
#define LPU_REG_SRAM_CLEAR_CTRL		0x0058	/* RW */
#define   LPU_SRAM_CLEAR_GO		(1u << 0)
#define   LPU_SRAM_CLEAR_ERROR		(1u << 1)

/* Device events reported in LPU_REG_EVENT with LPU_IRQ_EVENT */
enum lpu_hw_event {
	LPU_EVENT_NONE = 0,
	LPU_EVENT_RING_CONFIG = 1,	/* doorbell on a misconfigured ring */
	LPU_EVENT_DOORBELL_RANGE = 2,	/* doorbell index >= ring size */
	LPU_EVENT_RING_FETCH = 3,	/* descriptor fetch DMA failed */
	LPU_EVENT_CPL_WRITE = 4,	/* completion write DMA failed */
};

/* ---- Per-queue registers ---------------------------------------------- */

#define LPU_QUEUE_BASE			0x1000
#define LPU_QUEUE_STRIDE		0x0100
#define LPU_QREG(q, r)			(LPU_QUEUE_BASE + (q) * LPU_QUEUE_STRIDE + (r))

/* Descriptor ring: RING_SIZE entries of struct lpu_hw_desc, 4 KiB aligned */
#define LPU_Q_RING_BASE_LO		0x00	/* RW while disabled */
#define LPU_Q_RING_BASE_HI		0x04	/* RW while disabled */
/* Completion ring: RING_SIZE entries of struct lpu_hw_cpl, 4 KiB aligned */
#define LPU_Q_CPL_BASE_LO		0x08	/* RW while disabled */
#define LPU_Q_CPL_BASE_HI		0x0c	/* RW while disabled */
#define LPU_Q_RING_SIZE			0x10	/* RW while disabled */
#define   LPU_RING_SIZE_MIN		2	/* power of two */
#define   LPU_RING_SIZE_MAX		4096
/* Index of the next descriptor the device will complete */
#define LPU_Q_HEAD			0x14	/* RO */
/* Last value written to DOORBELL: the producer index */
#define LPU_Q_TAIL			0x18	/* RO */
/* Write the new producer index: the device runs descriptors up to it */
#define LPU_Q_DOORBELL			0x1c	/* WO */
#define LPU_Q_CTRL			0x20	/* RW */
#define   LPU_Q_CTRL_ENABLE		(1u << 0)
#define   LPU_Q_CTRL_RESET		(1u << 1)	/* W1: abort, reads 0 */
#define LPU_Q_STATUS			0x24	/* RO */
#define   LPU_Q_STATUS_ENABLED		(1u << 0)
#define   LPU_Q_STATUS_BUSY		(1u << 1)	/* work pending */
#define   LPU_Q_STATUS_HALTED		(1u << 2)	/* stopped on event */
/* Sequence number of the last completed descriptor */
#define LPU_Q_CPL_SEQ_LO		0x28	/* RO */
#define LPU_Q_CPL_SEQ_HI		0x2c	/* RO */
/* Count of completed descriptors since the last queue reset */
#define LPU_Q_CPL_COUNT			0x30	/* RO */
/* Count of descriptors completed with an error status */
#define LPU_Q_ERR_COUNT			0x34	/* RO */
/* Write 1: abort the EXEC descriptor running now (LPU_STS_ABORTED) */
#define LPU_Q_ABORT			0x38	/* WO */
/* Tokens emitted so far by the EXEC descriptor of PROGRESS_SEQ */
#define LPU_Q_PROGRESS			0x3c	/* RO */
#define LPU_Q_PROGRESS_SEQ_LO		0x40	/* RO */
#define LPU_Q_PROGRESS_SEQ_HI		0x44	/* RO */
/*
 * Progress interrupt coalescing: the queue's interrupt is raised after
 * every IRQ_COALESCE tokens an EXEC emits (0: only at completion).
 * Reset value 1.
 */
#define LPU_Q_IRQ_COALESCE		0x48	/* RW */
/*
 * Cycles run so far by the EXEC descriptor of PROGRESS_SEQ, in thousands
 * (rounded down; the low 32 bits). Updated at least after every token and
 * every millisecond or so of a run, so a program that computes without
 * emitting (a long prompt) shows it is alive. Reset with PROGRESS.
 */
#define LPU_Q_PROGRESS_KCYCLES		0x4c	/* RO */
/* 0x50..0xff reserved */

/* ---- Descriptors ------------------------------------------------------- */

enum lpu_hw_opcode {
	LPU_OP_NOP = 0x00,		/* completes at once */
	LPU_OP_FENCE = 0x01,		/* completes after all earlier ones */
	LPU_OP_DMA_TO_SRAM = 0x10,	/* host SG list -> SRAM */
	LPU_OP_DMA_FROM_SRAM = 0x11,	/* SRAM -> host SG list */
	LPU_OP_EXEC = 0x20,		/* run a program in SRAM */
};

/* Descriptor flags */
#define LPU_DESC_IRQ			(1u << 0)	/* interrupt on completion */
/*
 * CHAIN: the next descriptor belongs to the same job. When a descriptor
 * fails, the rest of its chain completes with LPU_STS_SKIPPED without
 * running. The last descriptor of a job has CHAIN clear.
 */
#define LPU_DESC_CHAIN			(1u << 1)
#define LPU_DESC_FLAGS_MASK		(LPU_DESC_IRQ | LPU_DESC_CHAIN)

/* One scatter-gather entry: a host (bus) address range. */
struct lpu_hw_sg {
	__le64 addr;
	__le64 len;	/* bytes, > 0 */
};

#define LPU_SG_MAX_ENTRIES		(1u << 20)

/*
 * DMA payload: transfer @length bytes between SRAM at @sram_addr and the
 * host bytes that start @sg_offset bytes into the concatenation of the
 * @sg_count entries of the SG list at bus address @sg_addr.
 */
struct lpu_hw_dma {
	__le64 sg_addr;		/* 16-byte aligned */
	__le32 sg_count;	/* 1..LPU_SG_MAX_ENTRIES */
	__le32 rsvd;		/* must be 0 */
	__le64 sg_offset;
	__le64 sram_addr;
	__le64 length;		/* 1..SRAM size */
};

/*
 * EXEC payload: run a program with the parameters at @params_addr (host
 * memory, struct lpu_hw_exec_params, 64-byte aligned). The device reads the
 * block when the descriptor starts and re-reads @abort while it runs.
 */
struct lpu_hw_exec {
	__le64 params_addr;
	__le32 params_size;	/* sizeof(struct lpu_hw_exec_params) */
	__le32 rsvd;		/* must be 0 */
	__le64 rsvd2[4];	/* must be 0 */
};

/*
 * EXEC parameters, 128 bytes. The program's SRAM window is
 * [win_base, win_base + win_size); every address in the program is an
 * offset in it (see lpu_isa.h). Tokens go to a host stream, reached like a
 * DMA's host side: @stream_sg_offset bytes into the SG list at
 * @stream_sg_addr, laid out as struct lpu_hw_stream.
 */
struct lpu_hw_exec_params {
	__le64 win_base;	/* 64-byte aligned */
	__le64 win_size;	/* bytes, > 0, win_base + win_size <= SRAM */
	__le64 entry;		/* window offset of the first instruction */
	__le32 prompt_len;	/* initial r1 */
	__le32 budget;		/* initial r2 */
	__le32 temperature;	/* initial r3, f32 bits */
	__le32 top_p;		/* initial r4, f32 bits */
	__le64 seed;		/* PRNG seed (0: the ISA's default) */
	__le64 stream_sg_addr;	/* 16-byte aligned */
	__le32 stream_sg_count;
	__le32 stream_capacity;	/* tokens the stream holds, >= 1 */
	__le64 stream_sg_offset;	/* 64-byte aligned */
	/* non-zero: stop as if LPU_Q_ABORT had been written */
	__le32 abort;
	/*
	 * 0: no limit. Else the program stops at the first instruction
	 * boundary where it has run at least max_kcycles * 1000 cycles: the
	 * stream's state becomes LPU_STREAM_ABORTED and the descriptor
	 * completes with LPU_STS_CYCLE_LIMIT.
	 */
	__le32 max_kcycles;
	__le64 rsvd[6];		/* must be 0 */
};

#define LPU_EXEC_PARAMS_SIZE		128
#define LPU_EXEC_ENTRY_ALIGN		32	/* instructions are 32 bytes */

/*
 * Token stream in host memory, written by the device during an EXEC.
 * @tokens is updated after each token is written, so a reader that sees
 * tokens == k may read token[0..k-1]. The other fields are written once,
 * at completion, before the completion record.
 */
struct lpu_hw_stream {
	__le32 tokens;		/* tokens written so far */
	__le32 state;		/* enum lpu_hw_stream_state */
	__le32 fault;		/* enum lpu_fault of lpu_isa.h, or 0 */
	__le32 fault_pc;	/* window offset of the faulting instruction */
	__le64 cycles;		/* modelled cycles of the run */
	__le64 insns;		/* instructions executed */
	__le64 rsvd[4];
	/* followed by __le32 token[stream_capacity] */
};

#define LPU_STREAM_HEADER_SIZE		64

enum lpu_hw_stream_state {
	LPU_STREAM_RUNNING = 0,
	LPU_STREAM_HALTED = 1,	/* the program executed HALT */
	LPU_STREAM_FAULT = 2,	/* the program faulted: see fault, fault_pc */
	LPU_STREAM_ABORTED = 3,	/* stopped by LPU_Q_ABORT, abort or reset */
};

/* Descriptor: 64 bytes, little-endian. */
struct lpu_hw_desc {
	__u8 opcode;		/* enum lpu_hw_opcode */
	__u8 flags;		/* LPU_DESC_* */
	__le16 rsvd0;		/* must be 0 */
	__le32 rsvd1;		/* must be 0 */
	__le64 seqno;		/* echoed in the completion */
	union {
		struct lpu_hw_dma dma;
		struct lpu_hw_exec exec;
		__le64 raw[6];	/* NOP/FENCE: must be 0 */
	};
};

#define LPU_DESC_SIZE			64

/* ---- Completions ------------------------------------------------------- */

enum lpu_hw_status {
	LPU_STS_OK = 0,
	LPU_STS_UNSUPPORTED = 1,	/* unknown or unsupported opcode */
	LPU_STS_BAD_DESC = 2,		/* reserved field or flag set */
	LPU_STS_SRAM_RANGE = 3,		/* SRAM range past the end */
	LPU_STS_SG_INVALID = 4,		/* malformed SG list or range */
	LPU_STS_DMA_ERROR = 5,		/* host memory access failed */
	LPU_STS_ABORTED = 6,		/* queue reset while running */
	LPU_STS_SKIPPED = 7,		/* earlier descriptor in chain failed */
	LPU_STS_FAULT = 8,		/* EXEC: the program faulted */
	LPU_STS_BAD_PARAMS = 9,		/* EXEC: bad parameter block */
	LPU_STS_CYCLE_LIMIT = 10,	/* EXEC: ran to params.max_kcycles */
};

/*
 * Completion record, written to the completion ring at the same index as
 * its descriptor before HEAD moves past it. 32 bytes, little-endian.
 */
struct lpu_hw_cpl {
	__le64 seqno;		/* the descriptor's seqno */
	__le32 status;		/* enum lpu_hw_status */
	__le32 opcode;		/* the descriptor's opcode */
	__le64 cycles;		/* modelled device cycles spent */
	/*
	 * DMA: bytes moved, or the failing byte offset. EXEC: tokens emitted
	 * in bits 0..31, the enum lpu_fault in bits 32..39.
	 */
	__le64 info;
};

#define LPU_CPL_SIZE			32

/*
 * Cycle model (Groq's host-link cost model, architecture brief): a transfer
 * costs 10 us plus bytes / 24 GB/s, at a 900 MHz core clock.
 */
#define LPU_CLOCK_MHZ			900
#define LPU_DMA_SETUP_CYCLES		9000	/* 10 us at 900 MHz */
#define LPU_DMA_BYTES_PER_KCYCLE	26667	/* 24 GB/s / 900 MHz * 1000 */
#define LPU_NOP_CYCLES			1

#endif /* _LPU_HW_H_ */
