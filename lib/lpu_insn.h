/* SPDX-License-Identifier: MIT */
/*
 * ISA helpers for the LPU instruction set (uapi/lpu/lpu_isa.h): opcode
 * table, little-endian encoding, static operand checks, the cycle model,
 * one-line disassembly and its parser.
 *
 * Used by the engine (tools/emulator/lpu_engine.c), the assembler and
 * disassembler, the compiler and the program validator. Plain C11 plus
 * libm; no global state, every function is thread safe.
 *
 * The specification these functions implement, including the assembly
 * syntax, is Documentation/isa.rst.
 */
#ifndef LPU_INSN_H
#define LPU_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lpu/lpu_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Opcode table ------------------------------------------------------ */

/* Fields an opcode uses (struct lpu_op_info.fields); all others must be 0. */
#define LPU_F_RD	(1u << 0)
#define LPU_F_RS	(1u << 1)
#define LPU_F_RT	(1u << 2)
#define LPU_F_IMM	(1u << 3)
#define LPU_F_DST	(1u << 4)
#define LPU_F_SRC0	(1u << 5)
#define LPU_F_SRC1	(1u << 6)
#define LPU_F_SRC2	(1u << 7)
#define LPU_F_N		(1u << 8)
#define LPU_F_M		(1u << 9)

/* Kinds of opcode (struct lpu_op_info.flags) */
#define LPU_OPF_SCALAR	(1u << 0)	/* positional assembly syntax */
#define LPU_OPF_TENSOR	(1u << 1)	/* key=value assembly syntax */
#define LPU_OPF_BRANCH	(1u << 2)	/* imm is a branch target */
#define LPU_OPF_F32_IMM	(1u << 3)	/* imm is f32 bits */
#define LPU_OPF_REG_IMM	(1u << 4)	/* imm is a register number (SEL) */

struct lpu_op_info {
	const char *name;	/* lower-case mnemonic, e.g. "matvec_q8" */
	uint8_t op;		/* enum lpu_opcode */
	uint32_t fields;	/* LPU_F_* the op uses */
	uint32_t flags;		/* LPU_OPF_* */
};

/* The entry of @op, or NULL if @op is not an opcode of LPU_ISA_VERSION. */
const struct lpu_op_info *lpu_op_info(uint8_t op);
/* The entry whose mnemonic is @name (case-insensitive), or NULL. */
const struct lpu_op_info *lpu_op_by_name(const char *name);
/* The whole table, in opcode order; *@count gets the number of entries. */
const struct lpu_op_info *lpu_op_table(size_t *count);

/* ---- Encoding ---------------------------------------------------------- */

/*
 * struct lpu_insn is the wire format (little-endian). struct
 * lpu_insn_fields is the same instruction in host byte order; the engine
 * and the checks work on it.
 */
struct lpu_insn_fields {
	uint8_t op, rd, rs, rt;
	uint32_t imm, dst, src0, src1, src2, n, m;
};

static inline uint32_t lpu_get_le32(const void *p)
{
	const uint8_t *b = (const uint8_t *)p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline void lpu_put_le32(void *p, uint32_t v)
{
	uint8_t *b = (uint8_t *)p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* f32 <-> its IEEE bits (for f32 immediates and registers r3/r4). */
static inline uint32_t lpu_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float lpu_bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* Decode 32 bytes of wire format at @bytes (any alignment). */
void lpu_insn_decode(const void *bytes, struct lpu_insn_fields *f);
/* Encode @f into 32 bytes of wire format at @bytes (any alignment). */
void lpu_insn_encode(const struct lpu_insn_fields *f, void *bytes);

/* Build an instruction from host-order fields (all of them, in order). */
struct lpu_insn lpu_insn_make(uint8_t op, uint8_t rd, uint8_t rs, uint8_t rt,
			      uint32_t imm, uint32_t dst, uint32_t src0,
			      uint32_t src1, uint32_t src2, uint32_t n,
			      uint32_t m);

/* ---- Static operands and checks ---------------------------------------- */

/*
 * Limits of the static check beyond the window (Documentation/isa.rst,
 * "Operand rules"): SAMPLE n and ATTN imm (context positions) are at most
 * LPU_INSN_MAX_SCRATCH, the engine's per-instruction scratch in elements.
 */
#define LPU_INSN_MAX_SCRATCH	(1u << 24)
#define LPU_INSN_MAX_OPERANDS	4

/* One window operand of an instruction: its whole static footprint. */
struct lpu_operand {
	uint32_t field;		/* LPU_F_DST, LPU_F_SRC0, ... */
	uint32_t align;		/* 4 (f32/u32) or 1 (int8) */
	bool write;		/* the instruction writes it */
	uint64_t offset;	/* window offset */
	uint64_t size;		/* bytes; UINT64_MAX if it overflows */
};

/*
 * The window operands of @f (known opcode, any field values), in field
 * order dst, src0, src1, src2. Returns their number (0..4), or -1 for an
 * unknown opcode. Sizes are computed in 64 bits and saturate at
 * UINT64_MAX; ATTN's uses heads = n & 0xffff, kv_heads = n >> 16.
 */
int lpu_insn_operands(const struct lpu_insn_fields *f,
		      struct lpu_operand ops[LPU_INSN_MAX_OPERANDS]);

/*
 * Static check of one instruction against a window of @window_size bytes,
 * in this order (the first failure wins; Documentation/isa.rst, "Operand
 * rules"):
 *   unknown opcode                                     LPU_FAULT_OPCODE
 *   non-zero unused field, register >= 16 (including
 *   SEL's imm), bad EMIT flags, zero or bad dimension,
 *   a limit above exceeded, misaligned f32/u32 tensor  LPU_FAULT_OPERAND
 *   an operand footprint past the window (64-bit
 *   arithmetic, no 32-bit wrap)                         LPU_FAULT_SRAM
 *   a destination overlapping a source (element-wise
 *   ops: an exact alias is allowed)                     LPU_FAULT_OPERAND
 *   a branch target misaligned or with no room for an
 *   instruction in the window                           LPU_FAULT_PC
 * Returns LPU_FAULT_NONE (0) or the fault, and writes a one-line message
 * (no newline) to @msg if @msg is not NULL and @msglen > 0 ("ok" when
 * fine). The engine runs exactly this check before every instruction.
 */
int lpu_insn_check(const struct lpu_insn *insn, uint64_t window_size,
		   char *msg, size_t msglen);
/* The same on host-order fields. */
int lpu_insn_check_fields(const struct lpu_insn_fields *f,
			  uint64_t window_size, char *msg, size_t msglen);

/* Name of a fault code: "none", "opcode", "operand", "sram", "pc",
 * "index", "stream"; "unknown" for any other value. */
const char *lpu_fault_name(int fault);

/* ---- Cycle model ------------------------------------------------------- */

/*
 * Cycles of one instruction, from its static fields only (lpu_isa.h).
 * Defined for any field values (saturates at UINT64_MAX); 0 for an unknown
 * opcode.
 */
uint64_t lpu_insn_cycles(const struct lpu_insn *insn);
uint64_t lpu_insn_cycles_fields(const struct lpu_insn_fields *f);

/* ---- Assembly ---------------------------------------------------------- */

/* Longest line lpu_insn_format() writes, NUL included. */
#define LPU_INSN_FMT_MAX	192

/*
 * One line of assembly for @insn, without a newline, in the syntax
 * lpu_insn_parse() accepts, so that parse(format(x)) == x for every 32
 * bytes x: an unknown opcode, a non-zero unused field or a register field
 * >= 16 is written in the raw form ".insn op=... m=...". Returns the
 * length of the full line (as snprintf does: the output was truncated if
 * it is >= @len), or -EINVAL if @insn or (@len > 0 and @buf) is NULL.
 */
int lpu_insn_format(const struct lpu_insn *insn, char *buf, size_t len);

/*
 * Symbol resolver for lpu_insn_parse_ex(): called with a value token that
 * is not a number (e.g. a label "loop" or "wq0+4"), NUL-terminated; store
 * its value in *@value and return 0, or return non-zero if unknown.
 */
typedef int (*lpu_insn_resolve_fn)(void *opaque, const char *sym,
				   uint32_t field, uint64_t *value);

/*
 * Parse one line (an instruction, optionally followed by a '#' or ';'
 * comment; no label definitions). Returns 0 with *@out set, or -EINVAL
 * with a one-line message in @err (if not NULL). A blank or comment-only
 * line is -EINVAL ("empty line"). lpu_insn_parse() is
 * lpu_insn_parse_ex() without a resolver: every value must be a number.
 */
int lpu_insn_parse(const char *line, struct lpu_insn *out, char *err,
		   size_t errlen);
int lpu_insn_parse_ex(const char *line, struct lpu_insn *out,
		      lpu_insn_resolve_fn resolve, void *opaque, char *err,
		      size_t errlen);

/* ---- PRNG -------------------------------------------------------------- */

/* The state a run starts with for @seed (seed 0 -> LPU_PRNG_DEFAULT_SEED). */
static inline uint64_t lpu_prng_seed(uint64_t seed)
{
	return seed ? seed : LPU_PRNG_DEFAULT_SEED;
}

/* One xorshift64* step: advance *@s, return the next u32. */
static inline uint32_t lpu_prng_u32(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * LPU_PRNG_MULTIPLIER) >> 32);
}

/* The next float in [0, 1). */
static inline float lpu_prng_f32(uint64_t *s)
{
	return (float)(lpu_prng_u32(s) >> 8) / 16777216.0f;
}

#ifdef __cplusplus
}
#endif

#endif /* LPU_INSN_H */
