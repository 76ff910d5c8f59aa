/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * LPU instruction set, version 1: encoding, semantics and cycle model.
 *
 * Shared by the compiler, the assembler and disassembler, the program
 * validator, the engine (the emulated chip) and the driver. The full
 * specification with examples is Documentation/isa.rst.
 *
 * Machine model
 * -------------
 * A program runs in a *window* of card SRAM: a byte range [0, size) that
 * the EXEC command maps at some SRAM base. Every address in an instruction
 * is a byte offset in the window; an access outside it is a fault, never an
 * access to other SRAM. Tensors are little-endian f32 vectors and row-major
 * matrices (4-byte aligned), int8 matrices with one f32 scale per row, and
 * u32 token ids.
 *
 * The machine has sixteen 32-bit scalar registers r0..r15, a program
 * counter (pc, a byte offset in the window, 32-byte aligned), a 64-bit
 * PRNG state, a cycle counter and an emitted-token counter. At start:
 *   r1 = prompt length (tokens at prog_note.prompt_offset)
 *   r2 = token budget (most tokens the run may emit)
 *   r3 = sampling temperature, f32 bits (0 = greedy)
 *   r4 = top-p, f32 bits (0 or >= 1 = sample from the full distribution)
 *   other registers = 0; pc = the program's entry; PRNG state = seed, or
 *   LPU_PRNG_DEFAULT_SEED when the seed is 0.
 *
 * Instructions are 32 bytes (struct lpu_insn). Each has a cost in cycles
 * that depends only on its static fields, so the compiler knows a
 * program's cycles exactly before it runs.
 */
#ifndef _LPU_ISA_H_
#define _LPU_ISA_H_

#include <linux/types.h>

#define LPU_ISA_VERSION		1
#define LPU_NUM_REGS		16
#define LPU_INSN_SIZE		32

/* Register-file conventions at program start */
#define LPU_REG_PROMPT_LEN	1
#define LPU_REG_BUDGET		2
#define LPU_REG_TEMPERATURE	3
#define LPU_REG_TOP_P		4

/*
 * Encoding: every field is little-endian. Unused fields must be zero (a
 * non-zero unused field is an LPU_FAULT_OPERAND, and the validator rejects
 * it). rd/rs/rt are register numbers < LPU_NUM_REGS.
 */
struct lpu_insn {
	__u8 op;	/* enum lpu_opcode */
	__u8 rd;	/* destination register */
	__u8 rs;	/* source register */
	__u8 rt;	/* second source register */
	__le32 imm;	/* immediate: integer, f32 bits or branch target */
	__le32 dst;	/* window offset of the destination tensor */
	__le32 src0;	/* window offsets of the source tensors */
	__le32 src1;
	__le32 src2;
	__le32 n;	/* element count, or rows */
	__le32 m;	/* columns, or a second dimension */
};

/*
 * Opcodes. Notation: x[i] is element i of the f32 vector at window offset
 * x; R[k] is register k; "n" etc. are the instruction's fields. f32 maths
 * is IEEE single precision, evaluated in the order written; sums are
 * taken in the order Documentation/isa.rst fixes ("Summation order").
 */
enum lpu_opcode {
	/* ---- scalar and control (1 cycle each) ---- */
	/*
	 * nothing (mnemonic "nop"; not LPU_OP_NOP, which is the descriptor
	 * opcode of lpu_hw.h: both headers meet in the emulated card)
	 */
	LPU_OP_INOP	= 0x00,
	LPU_OP_HALT	= 0x01,	/* stop; the run completes successfully */
	LPU_OP_LI	= 0x02,	/* R[rd] = imm */
	LPU_OP_ADD	= 0x03,	/* R[rd] = R[rs] + R[rt] (mod 2^32) */
	LPU_OP_ADDI	= 0x04,	/* R[rd] = R[rs] + imm (mod 2^32) */
	LPU_OP_SLTU	= 0x05,	/* R[rd] = R[rs] < R[rt] (unsigned) ? 1 : 0 */
	/* R[rd] = R[imm] != 0 ? R[rs] : R[rt]; imm is a register number */
	LPU_OP_SEL	= 0x06,
	/*
	 * R[rd] = u32 at dst + 4 * R[rs]; fault LPU_FAULT_INDEX unless
	 * R[rs] < n. Static footprint: [dst, dst + 4n).
	 */
	LPU_OP_LOADW	= 0x07,
	/* u32 at dst + 4 * R[rs] = R[rt]; same index rule as LOADW */
	LPU_OP_STOREW	= 0x08,
	LPU_OP_JMP	= 0x09,	/* pc = imm */
	LPU_OP_BLTU	= 0x0a,	/* if R[rs] < R[rt] (unsigned) pc = imm */
	LPU_OP_BNE	= 0x0b,	/* if R[rs] != R[rt] pc = imm */

	/* ---- vector ---- */
	/* dst[i] = src0[R[rs] * n + i], i < n; fault INDEX unless R[rs] < m */
	LPU_OP_EMBED	= 0x20,
	/* dst[R[rs] * n + i] = src0[i], i < n; fault INDEX unless R[rs] < m */
	LPU_OP_KVSTORE	= 0x21,
	LPU_OP_VCOPY	= 0x22,	/* dst[i] = src0[i], i < n */
	LPU_OP_VADD	= 0x23,	/* dst[i] = src0[i] + src1[i] */
	LPU_OP_VMUL	= 0x24,	/* dst[i] = src0[i] * src1[i] */
	LPU_OP_SILU	= 0x25,	/* dst[i] = src0[i] / (1 + expf(-src0[i])) */
	/*
	 * RMS norm: ss = sum(src0[i]^2) / n + eps, eps = f32 imm;
	 * dst[i] = src1[i] * (src0[i] / sqrtf(ss)).
	 */
	LPU_OP_RMSNORM	= 0x26,
	/* softmax in place of dst = src0 (max-subtracted, expf) */
	LPU_OP_SOFTMAX	= 0x27,
	/*
	 * Rotary embedding in place on dst, n elements, head size m, at
	 * position R[rs], base theta = f32 imm (10000.0 for Llama 2): for
	 * even i, f = 1 / powf(theta, (i % m) / (float)m), a = R[rs] * f,
	 * (dst[i], dst[i+1]) = (dst[i] cos a - dst[i+1] sin a,
	 *                       dst[i] sin a + dst[i+1] cos a).
	 */
	LPU_OP_ROPE	= 0x28,

	/* ---- matrix ---- */
	/* dst[r] = sum_c src0[r * m + c] * src1[c]; r < n rows, c < m cols */
	LPU_OP_MATVEC	= 0x30,
	/*
	 * int8 weights: src0 is n*m int8, src2 is n f32 row scales;
	 * dst[r] = src2[r] * sum_c (float)src0[r * m + c] * src1[c].
	 */
	LPU_OP_MATVEC_Q8 = 0x31,
	/*
	 * Grouped-query attention at position p = R[rs] over a KV cache of
	 * imm positions. n = heads | kv_heads << 16, m = head size,
	 * kv_dim = kv_heads * m. src0 = q (heads * m), src1 = key cache,
	 * src2 = value cache (each imm * kv_dim f32, position-major). For
	 * head h with g = h / (heads / kv_heads):
	 * s[t] = dot(q_h, k_t,g) / sqrtf(m) for t <= p; softmax(s);
	 * dst_h = sum_t s[t] * v_t,g. Fault INDEX unless p < imm.
	 */
	LPU_OP_ATTN	= 0x32,

	/* ---- sampling and output ---- */
	/* R[rd] = smallest i with src0[i] maximal, i < n */
	LPU_OP_ARGMAX	= 0x40,
	/*
	 * R[rd] = a token sampled from logits src0 (n entries; the engine
	 * keeps its own n-entry scratch, src0 is not written). Temperature
	 * t = f32 R[rs], top-p p = f32 R[rt]. t == 0: argmax. Otherwise
	 * q[i] = softmax(src0[i] / t), u = next PRNG float; if 0 < p < 1,
	 * nucleus sampling (Documentation/isa.rst gives the exact order),
	 * else the first i with u < q[0] + ... + q[i] (n - 1 if none).
	 */
	LPU_OP_SAMPLE	= 0x41,
	/*
	 * Emit token R[rs] to the host stream and signal progress. With
	 * LPU_EMIT_IF_RT in imm, only when R[rt] != 0 (the cost is the same
	 * either way). Fault STREAM when the run's stream is full.
	 */
	LPU_OP_EMIT	= 0x42,
};

#define LPU_EMIT_IF_RT		0x1

/*
 * PRNG: xorshift64* (Marsaglia's xorshift with the multiplier from
 * Vigna, "An experimental exploration of Marsaglia's xorshift
 * generators", 2014): s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
 * u32 = (s * 0x2545F4914F6CDD1D) >> 32; float = (u32 >> 8) / 16777216.0f.
 */
#define LPU_PRNG_DEFAULT_SEED	0x4c5055ULL
#define LPU_PRNG_MULTIPLIER	0x2545F4914F6CDD1DULL

/* Fault codes, reported by the engine and in the EXEC completion */
enum lpu_fault {
	LPU_FAULT_NONE = 0,
	LPU_FAULT_OPCODE = 1,	/* unknown opcode */
	LPU_FAULT_OPERAND = 2,	/* bad register, zero or bad dimension,
				 * misaligned tensor, non-zero unused field,
				 * destination overlapping a source
				 * (Documentation/isa.rst) */
	LPU_FAULT_SRAM = 3,	/* an operand leaves the window */
	LPU_FAULT_PC = 4,	/* pc misaligned or outside the window */
	LPU_FAULT_INDEX = 5,	/* register index past its bound */
	LPU_FAULT_STREAM = 6,	/* emit with the stream full */
};

/*
 * Cycle model. Constants in the spirit of a GroqChip (architecture brief):
 * 900 MHz, a 320-lane vector unit, a matrix unit of 320x320 int8 MACs per
 * cycle (f32 at a quarter of that), 80 TB/s of SRAM bandwidth (88888 bytes
 * per cycle). With V(k) = ceil(k / 320) and B(b) = ceil(b / 88888):
 *
 *   scalar, control                 1
 *   EMBED, KVSTORE, VCOPY, VADD,
 *   VMUL, SILU                      LAT_V + V(n)
 *   ARGMAX                          LAT_V + V(n)
 *   RMSNORM, ROPE                   LAT_V + 2 V(n)
 *   SOFTMAX                         LAT_V + 3 V(n)
 *   SAMPLE                          LAT_V + 4 V(n)
 *   MATVEC                          LAT_M + max(ceil(nm / 25600), B(4nm))
 *   MATVEC_Q8                       LAT_M + max(ceil(nm / 102400), B(nm))
 *   ATTN (heads h, size m, ctx imm) LAT_M + h (2 V(imm * m) + 3 V(imm))
 *   EMIT                            LAT_EMIT
 *
 * ATTN always sweeps the whole context (masked past p), as a statically
 * scheduled chip would, so every instruction's cost is static.
 */
#define LPU_CLOCK_HZ		900000000ULL
#define LPU_VEC_LANES		320
#define LPU_MXU_MACS_I8		102400
#define LPU_MXU_MACS_F32	25600
#define LPU_SRAM_BYTES_PER_CYCLE 88888
#define LPU_LAT_V		4
#define LPU_LAT_M		16
#define LPU_LAT_EMIT		64

#endif /* _LPU_ISA_H_ */
