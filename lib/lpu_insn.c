// SPDX-License-Identifier: MIT
/*
 * ISA helpers: opcode table, encoding, static checks, cycle model,
 * disassembly and parsing. The rules are Documentation/isa.rst.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpu_insn.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- Opcode table ------------------------------------------------------ */

#define S	LPU_OPF_SCALAR
#define T	LPU_OPF_TENSOR
#define RD	LPU_F_RD
#define RS	LPU_F_RS
#define RT	LPU_F_RT
#define IMM	LPU_F_IMM
#define DST	LPU_F_DST
#define SRC0	LPU_F_SRC0
#define SRC1	LPU_F_SRC1
#define SRC2	LPU_F_SRC2
#define N	LPU_F_N
#define M	LPU_F_M

static const struct lpu_op_info op_infos[] = {
	{ "nop", LPU_OP_INOP, 0, S },
	{ "halt", LPU_OP_HALT, 0, S },
	{ "li", LPU_OP_LI, RD | IMM, S },
	{ "add", LPU_OP_ADD, RD | RS | RT, S },
	{ "addi", LPU_OP_ADDI, RD | RS | IMM, S },
	{ "sltu", LPU_OP_SLTU, RD | RS | RT, S },
	{ "sel", LPU_OP_SEL, RD | RS | RT | IMM, S | LPU_OPF_REG_IMM },
	{ "loadw", LPU_OP_LOADW, RD | RS | DST | N, S },
	{ "storew", LPU_OP_STOREW, RS | RT | DST | N, S },
	{ "jmp", LPU_OP_JMP, IMM, S | LPU_OPF_BRANCH },
	{ "bltu", LPU_OP_BLTU, RS | RT | IMM, S | LPU_OPF_BRANCH },
	{ "bne", LPU_OP_BNE, RS | RT | IMM, S | LPU_OPF_BRANCH },
	{ "embed", LPU_OP_EMBED, RS | DST | SRC0 | N | M, T },
	{ "kvstore", LPU_OP_KVSTORE, RS | DST | SRC0 | N | M, T },
	{ "vcopy", LPU_OP_VCOPY, DST | SRC0 | N, T },
	{ "vadd", LPU_OP_VADD, DST | SRC0 | SRC1 | N, T },
	{ "vmul", LPU_OP_VMUL, DST | SRC0 | SRC1 | N, T },
	{ "silu", LPU_OP_SILU, DST | SRC0 | N, T },
	{ "rmsnorm", LPU_OP_RMSNORM, DST | SRC0 | SRC1 | N | IMM,
	  T | LPU_OPF_F32_IMM },
	{ "softmax", LPU_OP_SOFTMAX, DST | SRC0 | N, T },
	{ "rope", LPU_OP_ROPE, RS | DST | N | M | IMM, T | LPU_OPF_F32_IMM },
	{ "matvec", LPU_OP_MATVEC, DST | SRC0 | SRC1 | N | M, T },
	{ "matvec_q8", LPU_OP_MATVEC_Q8, DST | SRC0 | SRC1 | SRC2 | N | M, T },
	{ "attn", LPU_OP_ATTN, RS | DST | SRC0 | SRC1 | SRC2 | N | M | IMM, T },
	{ "argmax", LPU_OP_ARGMAX, RD | SRC0 | N, T },
	{ "sample", LPU_OP_SAMPLE, RD | RS | RT | SRC0 | N, T },
	{ "emit", LPU_OP_EMIT, RS | RT | IMM, S },
};

#define NUM_OPS		ARRAY_SIZE(op_infos)
#define MAX_POS		4

/* Positional operands of the scalar syntax, per op_infos entry */
static const uint32_t op_pos[NUM_OPS][MAX_POS] = {
	[2] = { RD, IMM },		/* li rd, imm */
	[3] = { RD, RS, RT },		/* add */
	[4] = { RD, RS, IMM },		/* addi */
	[5] = { RD, RS, RT },		/* sltu */
	[6] = { RD, IMM, RS, RT },	/* sel rd, rcond, rs, rt */
	[7] = { RD, RS, DST, N },	/* loadw rd, ridx, base, bound */
	[8] = { RS, RT, DST, N },	/* storew ridx, rval, base, bound */
	[9] = { IMM },			/* jmp target */
	[10] = { RS, RT, IMM },		/* bltu */
	[11] = { RS, RT, IMM },		/* bne */
	[26] = { RS, RT },		/* emit rtok [, rcond] */
};

#undef S
#undef T

/* opcode -> index in op_infos + 1 (0: unknown) */
static const uint8_t op_index[256] = {
	[LPU_OP_INOP] = 1, [LPU_OP_HALT] = 2, [LPU_OP_LI] = 3,
	[LPU_OP_ADD] = 4, [LPU_OP_ADDI] = 5, [LPU_OP_SLTU] = 6,
	[LPU_OP_SEL] = 7, [LPU_OP_LOADW] = 8, [LPU_OP_STOREW] = 9,
	[LPU_OP_JMP] = 10, [LPU_OP_BLTU] = 11, [LPU_OP_BNE] = 12,
	[LPU_OP_EMBED] = 13, [LPU_OP_KVSTORE] = 14, [LPU_OP_VCOPY] = 15,
	[LPU_OP_VADD] = 16, [LPU_OP_VMUL] = 17, [LPU_OP_SILU] = 18,
	[LPU_OP_RMSNORM] = 19, [LPU_OP_SOFTMAX] = 20, [LPU_OP_ROPE] = 21,
	[LPU_OP_MATVEC] = 22, [LPU_OP_MATVEC_Q8] = 23, [LPU_OP_ATTN] = 24,
	[LPU_OP_ARGMAX] = 25, [LPU_OP_SAMPLE] = 26, [LPU_OP_EMIT] = 27,
};

_Static_assert(NUM_OPS == 27, "op_index out of date");
_Static_assert(sizeof(struct lpu_insn) == LPU_INSN_SIZE, "insn size");

const struct lpu_op_info *lpu_op_info(uint8_t op)
{
	unsigned int i = op_index[op];

	return i ? &op_infos[i - 1] : NULL;
}

static const uint32_t *op_positional(const struct lpu_op_info *info)
{
	return op_pos[info - op_infos];
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool streq_nocase(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == 0 && *b == 0;
}

const struct lpu_op_info *lpu_op_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < NUM_OPS; i++)
		if (streq_nocase(name, op_infos[i].name))
			return &op_infos[i];
	return NULL;
}

const struct lpu_op_info *lpu_op_table(size_t *count)
{
	if (count)
		*count = NUM_OPS;
	return op_infos;
}

const char *lpu_fault_name(int fault)
{
	static const char *const names[] = {
		[LPU_FAULT_NONE] = "none",
		[LPU_FAULT_OPCODE] = "opcode",
		[LPU_FAULT_OPERAND] = "operand",
		[LPU_FAULT_SRAM] = "sram",
		[LPU_FAULT_PC] = "pc",
		[LPU_FAULT_INDEX] = "index",
		[LPU_FAULT_STREAM] = "stream",
	};

	if (fault < 0 || (size_t)fault >= ARRAY_SIZE(names))
		return "unknown";
	return names[fault];
}

/* ---- Encoding ---------------------------------------------------------- */

void lpu_insn_decode(const void *bytes, struct lpu_insn_fields *f)
{
	const uint8_t *b = (const uint8_t *)bytes;

	f->op = b[0];
	f->rd = b[1];
	f->rs = b[2];
	f->rt = b[3];
	f->imm = lpu_get_le32(b + 4);
	f->dst = lpu_get_le32(b + 8);
	f->src0 = lpu_get_le32(b + 12);
	f->src1 = lpu_get_le32(b + 16);
	f->src2 = lpu_get_le32(b + 20);
	f->n = lpu_get_le32(b + 24);
	f->m = lpu_get_le32(b + 28);
}

void lpu_insn_encode(const struct lpu_insn_fields *f, void *bytes)
{
	uint8_t *b = (uint8_t *)bytes;

	b[0] = f->op;
	b[1] = f->rd;
	b[2] = f->rs;
	b[3] = f->rt;
	lpu_put_le32(b + 4, f->imm);
	lpu_put_le32(b + 8, f->dst);
	lpu_put_le32(b + 12, f->src0);
	lpu_put_le32(b + 16, f->src1);
	lpu_put_le32(b + 20, f->src2);
	lpu_put_le32(b + 24, f->n);
	lpu_put_le32(b + 28, f->m);
}

struct lpu_insn lpu_insn_make(uint8_t op, uint8_t rd, uint8_t rs, uint8_t rt,
			      uint32_t imm, uint32_t dst, uint32_t src0,
			      uint32_t src1, uint32_t src2, uint32_t n,
			      uint32_t m)
{
	struct lpu_insn_fields f = {
		.op = op, .rd = rd, .rs = rs, .rt = rt, .imm = imm,
		.dst = dst, .src0 = src0, .src1 = src1, .src2 = src2,
		.n = n, .m = m,
	};
	struct lpu_insn insn;

	lpu_insn_encode(&f, &insn);
	return insn;
}

/* ---- Operands ---------------------------------------------------------- */

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	if (a && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void put_op(struct lpu_operand *o, uint32_t field, uint32_t offset,
		   uint64_t size, uint32_t align, bool write)
{
	o->field = field;
	o->offset = offset;
	o->size = size;
	o->align = align;
	o->write = write;
}

int lpu_insn_operands(const struct lpu_insn_fields *f,
		      struct lpu_operand ops[LPU_INSN_MAX_OPERANDS])
{
	uint64_t n4 = sat_mul(f->n, 4), m4 = sat_mul(f->m, 4);
	uint64_t nm = sat_mul(f->n, f->m), nm4 = sat_mul(nm, 4);
	uint64_t heads = f->n & 0xffff, kv_heads = f->n >> 16;
	uint64_t q4, kv4;

	switch (f->op) {
	case LPU_OP_LOADW:
	case LPU_OP_STOREW:
		put_op(&ops[0], LPU_F_DST, f->dst, n4, 4,
		       f->op == LPU_OP_STOREW);
		return 1;
	case LPU_OP_EMBED:
		put_op(&ops[0], LPU_F_DST, f->dst, n4, 4, true);
		put_op(&ops[1], LPU_F_SRC0, f->src0, nm4, 4, false);
		return 2;
	case LPU_OP_KVSTORE:
		put_op(&ops[0], LPU_F_DST, f->dst, nm4, 4, true);
		put_op(&ops[1], LPU_F_SRC0, f->src0, n4, 4, false);
		return 2;
	case LPU_OP_VCOPY:
	case LPU_OP_SILU:
	case LPU_OP_SOFTMAX:
		put_op(&ops[0], LPU_F_DST, f->dst, n4, 4, true);
		put_op(&ops[1], LPU_F_SRC0, f->src0, n4, 4, false);
		return 2;
	case LPU_OP_VADD:
	case LPU_OP_VMUL:
	case LPU_OP_RMSNORM:
		put_op(&ops[0], LPU_F_DST, f->dst, n4, 4, true);
		put_op(&ops[1], LPU_F_SRC0, f->src0, n4, 4, false);
		put_op(&ops[2], LPU_F_SRC1, f->src1, n4, 4, false);
		return 3;
	case LPU_OP_ROPE:
		put_op(&ops[0], LPU_F_DST, f->dst, n4, 4, true);
		return 1;
	case LPU_OP_MATVEC:
		put_op(&ops[0], LPU_F_DST, f->dst, n4, 4, true);
		put_op(&ops[1], LPU_F_SRC0, f->src0, nm4, 4, false);
		put_op(&ops[2], LPU_F_SRC1, f->src1, m4, 4, false);
		return 3;
	case LPU_OP_MATVEC_Q8:
		put_op(&ops[0], LPU_F_DST, f->dst, n4, 4, true);
		put_op(&ops[1], LPU_F_SRC0, f->src0, nm, 1, false);
		put_op(&ops[2], LPU_F_SRC1, f->src1, m4, 4, false);
		put_op(&ops[3], LPU_F_SRC2, f->src2, n4, 4, false);
		return 4;
	case LPU_OP_ATTN:
		q4 = sat_mul(sat_mul(heads, f->m), 4);
		kv4 = sat_mul(sat_mul(sat_mul(kv_heads, f->m), f->imm), 4);
		put_op(&ops[0], LPU_F_DST, f->dst, q4, 4, true);
		put_op(&ops[1], LPU_F_SRC0, f->src0, q4, 4, false);
		put_op(&ops[2], LPU_F_SRC1, f->src1, kv4, 4, false);
		put_op(&ops[3], LPU_F_SRC2, f->src2, kv4, 4, false);
		return 4;
	case LPU_OP_ARGMAX:
	case LPU_OP_SAMPLE:
		put_op(&ops[0], LPU_F_SRC0, f->src0, n4, 4, false);
		return 1;
	default:
		return lpu_op_info(f->op) ? 0 : -1;
	}
}

/* ---- Static check ------------------------------------------------------ */

static const char *field_name(uint32_t field)
{
	switch (field) {
	case LPU_F_RD: return "rd";
	case LPU_F_RS: return "rs";
	case LPU_F_RT: return "rt";
	case LPU_F_IMM: return "imm";
	case LPU_F_DST: return "dst";
	case LPU_F_SRC0: return "src0";
	case LPU_F_SRC1: return "src1";
	case LPU_F_SRC2: return "src2";
	case LPU_F_N: return "n";
	case LPU_F_M: return "m";
	default: return "?";
	}
}

static uint32_t field_value(const struct lpu_insn_fields *f, uint32_t field)
{
	switch (field) {
	case LPU_F_RD: return f->rd;
	case LPU_F_RS: return f->rs;
	case LPU_F_RT: return f->rt;
	case LPU_F_IMM: return f->imm;
	case LPU_F_DST: return f->dst;
	case LPU_F_SRC0: return f->src0;
	case LPU_F_SRC1: return f->src1;
	case LPU_F_SRC2: return f->src2;
	case LPU_F_N: return f->n;
	case LPU_F_M: return f->m;
	default: return 0;
	}
}

static void set_field(struct lpu_insn_fields *f, uint32_t field, uint32_t v)
{
	switch (field) {
	case LPU_F_RD: f->rd = (uint8_t)v; break;
	case LPU_F_RS: f->rs = (uint8_t)v; break;
	case LPU_F_RT: f->rt = (uint8_t)v; break;
	case LPU_F_IMM: f->imm = v; break;
	case LPU_F_DST: f->dst = v; break;
	case LPU_F_SRC0: f->src0 = v; break;
	case LPU_F_SRC1: f->src1 = v; break;
	case LPU_F_SRC2: f->src2 = v; break;
	case LPU_F_N: f->n = v; break;
	case LPU_F_M: f->m = v; break;
	}
}

#define ALL_FIELDS	0x3ffu

__attribute__((format(printf, 4, 5)))
static int fail(int fault, char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg && msglen) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return fault;
}

/* Ops whose destination may be exactly one of its sources (element-wise) */
static bool op_elementwise(uint8_t op)
{
	switch (op) {
	case LPU_OP_VCOPY:
	case LPU_OP_VADD:
	case LPU_OP_VMUL:
	case LPU_OP_SILU:
	case LPU_OP_RMSNORM:
	case LPU_OP_SOFTMAX:
		return true;
	default:
		return false;
	}
}

static bool overlaps(const struct lpu_operand *a, const struct lpu_operand *b)
{
	return a->offset < sat_add(b->offset, b->size) &&
	       b->offset < sat_add(a->offset, a->size);
}

static int check_dims(const struct lpu_insn_fields *f, const char *name,
		      char *msg, size_t msglen)
{
	uint32_t heads, kv_heads;

	switch (f->op) {
	case LPU_OP_SEL:
		if (f->imm >= LPU_NUM_REGS)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "sel: condition register r%u out of range",
				    f->imm);
		return 0;
	case LPU_OP_EMIT:
		if (f->imm & ~(uint32_t)LPU_EMIT_IF_RT)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "emit: unknown flags 0x%x", f->imm);
		if (!(f->imm & LPU_EMIT_IF_RT) && f->rt)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "emit: rt is r%u without LPU_EMIT_IF_RT",
				    f->rt);
		return 0;
	case LPU_OP_ROPE:
		if (!f->n || !f->m || (f->n & 1) || (f->m & 1) ||
		    f->n % f->m)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "rope: n=%u m=%u: need n, m even, non-zero, m dividing n",
				    f->n, f->m);
		return 0;
	case LPU_OP_ATTN:
		heads = f->n & 0xffff;
		kv_heads = f->n >> 16;
		if (!heads || !kv_heads || heads % kv_heads)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "attn: heads=%u kv_heads=%u: need kv_heads non-zero, dividing heads",
				    heads, kv_heads);
		if (!f->m || !f->imm)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "attn: m=%u imm=%u must be non-zero",
				    f->m, f->imm);
		if (f->imm > LPU_INSN_MAX_SCRATCH)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "attn: context %u above the limit %u",
				    f->imm, LPU_INSN_MAX_SCRATCH);
		return 0;
	case LPU_OP_SAMPLE:
		if (f->n > LPU_INSN_MAX_SCRATCH)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "sample: n=%u above the limit %u",
				    f->n, LPU_INSN_MAX_SCRATCH);
		break;
	default:
		break;
	}
	if ((lpu_op_info(f->op)->fields & LPU_F_N) && !f->n)
		return fail(LPU_FAULT_OPERAND, msg, msglen, "%s: n is 0", name);
	if ((lpu_op_info(f->op)->fields & LPU_F_M) && !f->m)
		return fail(LPU_FAULT_OPERAND, msg, msglen, "%s: m is 0", name);
	return 0;
}

int lpu_insn_check_fields(const struct lpu_insn_fields *f,
			  uint64_t window_size, char *msg, size_t msglen)
{
	const struct lpu_op_info *info = lpu_op_info(f->op);
	struct lpu_operand ops[LPU_INSN_MAX_OPERANDS];
	uint32_t unused, bit;
	int i, j, nops, ret;

	if (!info)
		return fail(LPU_FAULT_OPCODE, msg, msglen,
			    "unknown opcode 0x%02x", f->op);

	unused = ALL_FIELDS & ~info->fields;
	for (bit = 1; bit <= LPU_F_M; bit <<= 1)
		if ((unused & bit) && field_value(f, bit))
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "%s: unused field %s is 0x%x, must be 0",
				    info->name, field_name(bit),
				    field_value(f, bit));

	for (bit = LPU_F_RD; bit <= LPU_F_RT; bit <<= 1)
		if ((info->fields & bit) && field_value(f, bit) >= LPU_NUM_REGS)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "%s: %s is r%u, registers are r0..r%u",
				    info->name, field_name(bit),
				    field_value(f, bit), LPU_NUM_REGS - 1);

	ret = check_dims(f, info->name, msg, msglen);
	if (ret)
		return ret;

	nops = lpu_insn_operands(f, ops);
	for (i = 0; i < nops; i++)
		if (ops[i].offset % ops[i].align)
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "%s: %s 0x%" PRIx64 " is not %u-byte aligned",
				    info->name, field_name(ops[i].field),
				    ops[i].offset, ops[i].align);

	for (i = 0; i < nops; i++)
		if (ops[i].size == UINT64_MAX ||	/* overflowed */
		    ops[i].size > window_size ||
		    ops[i].offset > window_size - ops[i].size) {
			if (ops[i].size == UINT64_MAX)
				return fail(LPU_FAULT_SRAM, msg, msglen,
					    "%s: %s size overflows, past window of 0x%" PRIx64 " bytes",
					    info->name,
					    field_name(ops[i].field),
					    window_size);
			return fail(LPU_FAULT_SRAM, msg, msglen,
				    "%s: %s [0x%" PRIx64 ", +0x%" PRIx64 ") past window of 0x%" PRIx64 " bytes",
				    info->name, field_name(ops[i].field),
				    ops[i].offset, ops[i].size, window_size);
		}

	for (i = 0; i < nops; i++) {
		if (!ops[i].write)
			continue;
		for (j = 0; j < nops; j++) {
			if (j == i || !overlaps(&ops[i], &ops[j]))
				continue;
			if (op_elementwise(f->op) &&
			    ops[i].offset == ops[j].offset &&
			    ops[i].size == ops[j].size)
				continue;
			return fail(LPU_FAULT_OPERAND, msg, msglen,
				    "%s: %s overlaps %s%s", info->name,
				    field_name(ops[i].field),
				    field_name(ops[j].field),
				    op_elementwise(f->op) ?
				    " (only an exact alias is allowed)" : "");
		}
	}

	if ((info->flags & LPU_OPF_BRANCH) &&
	    (f->imm % LPU_INSN_SIZE || window_size < LPU_INSN_SIZE ||
	     f->imm > window_size - LPU_INSN_SIZE))
		return fail(LPU_FAULT_PC, msg, msglen,
			    "%s: target 0x%x misaligned or outside the window of 0x%" PRIx64 " bytes",
			    info->name, f->imm, window_size);

	return fail(LPU_FAULT_NONE, msg, msglen, "ok");
}

int lpu_insn_check(const struct lpu_insn *insn, uint64_t window_size,
		   char *msg, size_t msglen)
{
	struct lpu_insn_fields f;

	lpu_insn_decode(insn, &f);
	return lpu_insn_check_fields(&f, window_size, msg, msglen);
}

/* ---- Cycle model ------------------------------------------------------- */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

static uint64_t vec_cycles(uint64_t k)
{
	return ceil_div(k, LPU_VEC_LANES);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t lpu_insn_cycles_fields(const struct lpu_insn_fields *f)
{
	uint64_t nm = (uint64_t)f->n * f->m;	/* < 2^64 */
	uint64_t heads = f->n & 0xffff, per_head;

	switch (f->op) {
	case LPU_OP_INOP:
	case LPU_OP_HALT:
	case LPU_OP_LI:
	case LPU_OP_ADD:
	case LPU_OP_ADDI:
	case LPU_OP_SLTU:
	case LPU_OP_SEL:
	case LPU_OP_LOADW:
	case LPU_OP_STOREW:
	case LPU_OP_JMP:
	case LPU_OP_BLTU:
	case LPU_OP_BNE:
		return 1;
	case LPU_OP_EMBED:
	case LPU_OP_KVSTORE:
	case LPU_OP_VCOPY:
	case LPU_OP_VADD:
	case LPU_OP_VMUL:
	case LPU_OP_SILU:
	case LPU_OP_ARGMAX:
		return LPU_LAT_V + vec_cycles(f->n);
	case LPU_OP_RMSNORM:
	case LPU_OP_ROPE:
		return LPU_LAT_V + 2 * vec_cycles(f->n);
	case LPU_OP_SOFTMAX:
		return LPU_LAT_V + 3 * vec_cycles(f->n);
	case LPU_OP_SAMPLE:
		return LPU_LAT_V + 4 * vec_cycles(f->n);
	case LPU_OP_MATVEC:
		/* B(4nm) = ceil(4nm / 88888) = ceil(nm / 22222): no overflow */
		return LPU_LAT_M +
		       max_u64(ceil_div(nm, LPU_MXU_MACS_F32),
			       ceil_div(nm, LPU_SRAM_BYTES_PER_CYCLE / 4));
	case LPU_OP_MATVEC_Q8:
		return LPU_LAT_M +
		       max_u64(ceil_div(nm, LPU_MXU_MACS_I8),
			       ceil_div(nm, LPU_SRAM_BYTES_PER_CYCLE));
	case LPU_OP_ATTN:
		per_head = sat_add(sat_mul(2, vec_cycles((uint64_t)f->imm * f->m)),
				   3 * vec_cycles(f->imm));
		return sat_add(LPU_LAT_M, sat_mul(heads, per_head));
	case LPU_OP_EMIT:
		return LPU_LAT_EMIT;
	default:
		return 0;
	}
}

_Static_assert(LPU_SRAM_BYTES_PER_CYCLE % 4 == 0, "B(4nm) shortcut");

uint64_t lpu_insn_cycles(const struct lpu_insn *insn)
{
	struct lpu_insn_fields f;

	lpu_insn_decode(insn, &f);
	return lpu_insn_cycles_fields(&f);
}

/* ---- Disassembly ------------------------------------------------------- */

struct out {
	char *buf;
	size_t len;
	size_t pos;	/* characters the full line has so far */
};

__attribute__((format(printf, 2, 3)))
static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
		      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (r > 0)
		o->pos += (size_t)r;
}

/* Shortest decimal that reads back as the same f32, with an 'f' suffix;
 * non-finite values as their hex bits. */
static void fmt_f32(char *s, size_t len, uint32_t bits)
{
	float v = lpu_bits_f32(bits);
	int prec;

	if ((bits & 0x7f800000u) == 0x7f800000u) {
		snprintf(s, len, "0x%x", bits);
		return;
	}
	for (prec = 1; prec < 9; prec++) {
		snprintf(s, len, "%.*g", prec, (double)v);
		if (lpu_f32_bits(strtof(s, NULL)) == bits)
			break;
	}
	/* 10000f rather than 1e+04f: all integer digits below 1e9 */
	if (fabsf(v) >= 1.0f && fabsf(v) < 1e9f) {
		int digits = snprintf(NULL, 0, "%.0f", (double)fabsf(v));

		if (digits > prec)
			prec = digits;
	}
	snprintf(s, len, "%.*g", prec, (double)v);
	strncat(s, "f", len - strlen(s) - 1);
}

static bool needs_raw(const struct lpu_insn_fields *f,
		      const struct lpu_op_info *info)
{
	uint32_t bit;

	if (!info)
		return true;
	for (bit = 1; bit <= LPU_F_M; bit <<= 1) {
		if (!(info->fields & bit) && field_value(f, bit))
			return true;
		if ((info->fields & bit) && bit <= LPU_F_RT &&
		    field_value(f, bit) >= LPU_NUM_REGS)
			return true;
	}
	if ((info->flags & LPU_OPF_REG_IMM) && f->imm >= LPU_NUM_REGS)
		return true;
	/* emit: imm is implied by the presence of rt */
	if (f->op == LPU_OP_EMIT &&
	    (f->imm & ~(uint32_t)LPU_EMIT_IF_RT ||
	     (!f->imm && f->rt)))
		return true;
	return false;
}

static void fmt_value(struct out *o, const struct lpu_insn_fields *f,
		      const struct lpu_op_info *info, uint32_t field)
{
	uint32_t v = field_value(f, field);
	char fs[32];

	switch (field) {
	case LPU_F_RD:
	case LPU_F_RS:
	case LPU_F_RT:
		out_add(o, "r%u", v);
		return;
	case LPU_F_IMM:
		if (info->flags & LPU_OPF_REG_IMM) {
			out_add(o, "r%u", v);
		} else if (info->flags & LPU_OPF_F32_IMM) {
			fmt_f32(fs, sizeof(fs), v);
			out_add(o, "%s", fs);
		} else if (info->flags & LPU_OPF_BRANCH) {
			out_add(o, "0x%x", v);
		} else if (f->op == LPU_OP_LI || f->op == LPU_OP_ADDI) {
			if ((int32_t)v >= -65536 && (int32_t)v <= 65535)
				out_add(o, "%" PRId32, (int32_t)v);
			else
				out_add(o, "0x%x", v);
		} else {
			out_add(o, "%u", v);
		}
		return;
	case LPU_F_N:
	case LPU_F_M:
		out_add(o, "%u", v);
		return;
	default:
		out_add(o, "0x%x", v);
		return;
	}
}

static void fmt_raw(struct out *o, const struct lpu_insn_fields *f)
{
	out_add(o, ".insn op=0x%02x rd=%u rs=%u rt=%u imm=0x%x dst=0x%x src0=0x%x src1=0x%x src2=0x%x n=%u m=%u",
		f->op, f->rd, f->rs, f->rt, f->imm, f->dst, f->src0, f->src1,
		f->src2, f->n, f->m);
}

/* key=value order of the tensor syntax */
static const uint32_t kv_order[] = {
	LPU_F_RD, LPU_F_RS, LPU_F_RT, LPU_F_DST, LPU_F_SRC0, LPU_F_SRC1,
	LPU_F_SRC2, LPU_F_N, LPU_F_M, LPU_F_IMM,
};

int lpu_insn_format(const struct lpu_insn *insn, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len, .pos = 0 };
	const struct lpu_op_info *info;
	struct lpu_insn_fields f;
	const uint32_t *pos;
	size_t i;

	if (!insn || (len && !buf))
		return -EINVAL;
	if (len)
		buf[0] = 0;
	lpu_insn_decode(insn, &f);
	info = lpu_op_info(f.op);
	if (needs_raw(&f, info)) {
		fmt_raw(&o, &f);
		return (int)o.pos;
	}

	out_add(&o, "%s", info->name);
	if (info->flags & LPU_OPF_SCALAR) {
		pos = op_positional(info);
		for (i = 0; i < MAX_POS && pos[i]; i++) {
			if (f.op == LPU_OP_EMIT && pos[i] == LPU_F_RT &&
			    !(f.imm & LPU_EMIT_IF_RT))
				break;
			out_add(&o, i ? ", " : " ");
			fmt_value(&o, &f, info, pos[i]);
		}
		return (int)o.pos;
	}

	for (i = 0; i < ARRAY_SIZE(kv_order); i++) {
		if (!(info->fields & kv_order[i]))
			continue;
		if (f.op == LPU_OP_ATTN && kv_order[i] == LPU_F_N) {
			out_add(&o, " heads=%u kv_heads=%u", f.n & 0xffff,
				f.n >> 16);
			continue;
		}
		out_add(&o, " %s=", field_name(kv_order[i]));
		fmt_value(&o, &f, info, kv_order[i]);
	}
	return (int)o.pos;
}

/* ---- Parsing ----------------------------------------------------------- */

#define LINE_MAX_LEN	512
#define MAX_TOKENS	24

/* extra key bits, ATTN only */
#define K_HEADS		(1u << 16)
#define K_KV_HEADS	(1u << 17)
/* raw-form key bit */
#define K_OP		(1u << 18)

struct pctx {
	lpu_insn_resolve_fn resolve;
	void *opaque;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err && c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
	       ch == '\v' || ch == '\f';
}

static bool is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int hex_digit(int ch)
{
	if (is_digit(ch))
		return ch - '0';
	ch = lower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

enum num_result { NUM_OK, NUM_NOT_NUMBER, NUM_BAD };

/* decimal or 0x hex, optionally negative (two's complement into 32 bits) */
static enum num_result parse_num(const char *s, bool allow_neg, uint32_t *v)
{
	bool neg = false;
	uint64_t acc = 0;
	int d;

	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
		if (!is_digit(*s))
			return NUM_BAD;
	}
	if (!is_digit(*s))
		return NUM_NOT_NUMBER;
	if (neg && !allow_neg)
		return NUM_BAD;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return NUM_BAD;
		for (; *s; s++) {
			d = hex_digit((unsigned char)*s);
			if (d < 0)
				return NUM_BAD;
			acc = acc * 16 + (uint64_t)d;
			if (acc > 0xffffffffull)
				return NUM_BAD;
		}
	} else {
		for (; *s; s++) {
			if (!is_digit(*s))
				return NUM_BAD;
			acc = acc * 10 + (uint64_t)(*s - '0');
			if (acc > 0xffffffffull)
				return NUM_BAD;
		}
	}
	if (neg) {
		if (acc > 0x80000000ull)
			return NUM_BAD;
		acc = (uint32_t)-(uint32_t)acc;
	}
	*v = (uint32_t)acc;
	return NUM_OK;
}

/* An integer value: a number, or a symbol through the resolver. */
static int parse_int(struct pctx *c, const char *tok, uint32_t field,
		     bool allow_neg, uint32_t *v)
{
	enum num_result r = parse_num(tok, allow_neg, v);
	uint64_t v64;

	if (r == NUM_OK)
		return 0;
	if (r == NUM_NOT_NUMBER && c->resolve) {
		if (c->resolve(c->opaque, tok, field, &v64))
			return perr(c, "unknown symbol '%s'", tok);
		if (v64 > 0xffffffffull &&
		    !(allow_neg && v64 >= 0xffffffff80000000ull))
			return perr(c, "symbol '%s' = 0x%" PRIx64 " does not fit 32 bits",
				    tok, v64);
		*v = (uint32_t)v64;
		return 0;
	}
	if (r == NUM_NOT_NUMBER)
		return perr(c, "'%s' is not a number", tok);
	return perr(c, "bad number '%s' for %s", tok, field_name(field));
}

static int parse_reg(struct pctx *c, const char *tok, uint32_t field,
		     uint32_t *v)
{
	uint32_t n;

	if ((tok[0] == 'r' || tok[0] == 'R') && is_digit(tok[1]) &&
	    parse_num(tok + 1, false, &n) == NUM_OK &&
	    (tok[1] != '0' || !tok[2]) && n < LPU_NUM_REGS) {
		*v = n;
		return 0;
	}
	return perr(c, "bad register '%s' for %s (r0..r%u)", tok,
		    field_name(field), LPU_NUM_REGS - 1);
}

/* f32: a decimal (optionally with an 'f' suffix) is a value, 0x.. bits */
static int parse_f32(struct pctx *c, const char *tok, uint32_t *v)
{
	char tmp[64];
	size_t l = strlen(tok);
	const char *p = tok;
	char *end;
	float f;

	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		if (p != tok || parse_num(tok, false, v) != NUM_OK)
			return perr(c, "bad f32 bits '%s'", tok);
		return 0;
	}
	if (l == 0 || l >= sizeof(tmp))
		return perr(c, "bad f32 value '%s'", tok);
	memcpy(tmp, tok, l + 1);
	if (l > 1 && (tmp[l - 1] == 'f' || tmp[l - 1] == 'F') &&
	    (is_digit(tmp[l - 2]) || tmp[l - 2] == '.'))
		tmp[l - 1] = 0;
	errno = 0;
	f = strtof(tmp, &end);
	if (end == tmp || *end || is_space(tmp[0]))
		return perr(c, "bad f32 value '%s'", tok);
	*v = lpu_f32_bits(f);
	return 0;
}

static uint32_t key_field(const char *key, size_t klen, uint8_t op, bool raw)
{
	static const struct { const char *name; uint32_t field; } keys[] = {
		{ "rd", LPU_F_RD }, { "rs", LPU_F_RS }, { "rt", LPU_F_RT },
		{ "imm", LPU_F_IMM }, { "dst", LPU_F_DST },
		{ "src0", LPU_F_SRC0 }, { "src1", LPU_F_SRC1 },
		{ "src2", LPU_F_SRC2 }, { "n", LPU_F_N }, { "m", LPU_F_M },
		{ "heads", K_HEADS }, { "kv_heads", K_KV_HEADS },
		{ "op", K_OP },
	};
	char k[16];
	size_t i;

	if (klen == 0 || klen >= sizeof(k))
		return 0;
	memcpy(k, key, klen);
	k[klen] = 0;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!streq_nocase(k, keys[i].name))
			continue;
		if ((keys[i].field == K_HEADS || keys[i].field == K_KV_HEADS) &&
		    (raw || op != LPU_OP_ATTN))
			return 0;
		if (keys[i].field == K_OP && !raw)
			return 0;
		return keys[i].field;
	}
	return 0;
}

/* Value of @field of op @info from token @tok. */
static int parse_field(struct pctx *c, const struct lpu_op_info *info,
		       uint32_t field, const char *tok, uint32_t *v)
{
	switch (field) {
	case LPU_F_RD:
	case LPU_F_RS:
	case LPU_F_RT:
		return parse_reg(c, tok, field, v);
	case LPU_F_IMM:
		if (info->flags & LPU_OPF_REG_IMM)
			return parse_reg(c, tok, field, v);
		if (info->flags & LPU_OPF_F32_IMM)
			return parse_f32(c, tok, v);
		return parse_int(c, tok, field,
				 info->op == LPU_OP_LI ||
				 info->op == LPU_OP_ADDI, v);
	default:
		return parse_int(c, tok, field, false, v);
	}
}

/* Raw form: .insn key=value..., missing fields are 0 */
static int parse_raw(struct pctx *c, char **tok, int ntok,
		     struct lpu_insn_fields *f)
{
	uint32_t seen = 0, field, v;
	char *eq;
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 1; i < ntok; i++) {
		eq = strchr(tok[i], '=');
		if (!eq)
			return perr(c, ".insn: operand '%s' is not key=value",
				    tok[i]);
		field = key_field(tok[i], (size_t)(eq - tok[i]), 0, true);
		if (!field)
			return perr(c, ".insn: unknown key in '%s'", tok[i]);
		if (seen & field)
			return perr(c, ".insn: '%s' given twice", tok[i]);
		seen |= field;
		eq++;
		if (field <= LPU_F_RT && (eq[0] == 'r' || eq[0] == 'R')) {
			if (parse_num(eq + 1, false, &v) != NUM_OK || v > 255)
				return perr(c, ".insn: bad register '%s'", eq);
		} else if (parse_int(c, eq, field == K_OP ? LPU_F_IMM : field,
				     false, &v)) {
			return -EINVAL;
		}
		if ((field == K_OP || field <= LPU_F_RT) && v > 255)
			return perr(c, ".insn: '%s' does not fit a byte", tok[i]);
		if (field == K_OP)
			f->op = (uint8_t)v;
		else
			set_field(f, field, v);
	}
	return 0;
}

static int tokenize(struct pctx *c, const char *line, char *buf,
		    char **tok, int *ntok)
{
	size_t l = strlen(line), i, o = 0;
	char *p;
	int n = 0;

	if (l >= LINE_MAX_LEN)
		return perr(c, "line too long (%zu characters, at most %d)", l,
			    LINE_MAX_LEN - 1);
	/* copy up to a comment, dropping blanks around '=' */
	for (i = 0; i < l && line[i] != '#' && line[i] != ';'; i++) {
		if (is_space(line[i])) {
			size_t j = i;

			while (j < l && is_space(line[j]))
				j++;
			if ((o && buf[o - 1] == '=') || line[j] == '=') {
				i = j - 1;
				continue;
			}
		}
		buf[o++] = line[i];
	}
	buf[o] = 0;

	for (p = buf; *p;) {
		while (*p && (is_space(*p) || *p == ','))
			*p++ = 0;
		if (!*p)
			break;
		if (n == MAX_TOKENS)
			return perr(c, "too many operands");
		tok[n++] = p;
		while (*p && !is_space(*p) && *p != ',')
			p++;
	}
	*ntok = n;
	if (!n)
		return perr(c, "empty line");
	return 0;
}

int lpu_insn_parse_ex(const char *line, struct lpu_insn *out,
		      lpu_insn_resolve_fn resolve, void *opaque, char *err,
		      size_t errlen)
{
	struct pctx c = { resolve, opaque, err, errlen };
	char buf[LINE_MAX_LEN], *tok[MAX_TOKENS], *eq;
	const struct lpu_op_info *info;
	struct lpu_insn_fields f;
	uint32_t seen = 0, need, field, v, heads = 0, kv_heads = 0;
	const uint32_t *pos;
	int ntok, i, npos = 0;

	if (err && errlen)
		err[0] = 0;
	if (!line || !out)
		return perr(&c, "no line or no output");
	if (tokenize(&c, line, buf, tok, &ntok))
		return -EINVAL;

	if (streq_nocase(tok[0], ".insn")) {
		if (parse_raw(&c, tok, ntok, &f))
			return -EINVAL;
		lpu_insn_encode(&f, out);
		return 0;
	}

	info = lpu_op_by_name(tok[0]);
	if (!info)
		return perr(&c, "unknown mnemonic '%s'", tok[0]);
	memset(&f, 0, sizeof(f));
	f.op = info->op;
	pos = op_positional(info);

	for (i = 1; i < ntok; i++) {
		eq = strchr(tok[i], '=');
		if (!eq) {
			if (npos == MAX_POS || !pos[npos])
				return perr(&c, "%s: too many operands at '%s'",
					    info->name, tok[i]);
			field = pos[npos++];
		} else {
			field = key_field(tok[i], (size_t)(eq - tok[i]), info->op,
					  false);
			if (!field || (field < K_HEADS &&
				       !(info->fields & field)) ||
			    (info->op == LPU_OP_EMIT && field == LPU_F_IMM))
				return perr(&c, "%s: no operand '%.*s'",
					    info->name, (int)(eq - tok[i]),
					    tok[i]);
			eq++;
		}
		if (seen & field)
			return perr(&c, "%s: %s given twice", info->name,
				    field == K_HEADS ? "heads" :
				    field == K_KV_HEADS ? "kv_heads" :
				    field_name(field));
		if (field == K_HEADS || field == K_KV_HEADS) {
			if (seen & LPU_F_N)
				return perr(&c, "attn: n and heads/kv_heads both given");
			if (parse_int(&c, eq, LPU_F_N, false, &v))
				return -EINVAL;
			if (v > 0xffff)
				return perr(&c, "attn: %s=%u above 65535",
					    field == K_HEADS ? "heads" :
					    "kv_heads", v);
			if (field == K_HEADS)
				heads = v;
			else
				kv_heads = v;
			seen |= field;
			continue;
		}
		if (field == LPU_F_N && (seen & (K_HEADS | K_KV_HEADS)))
			return perr(&c, "attn: n and heads/kv_heads both given");
		if (parse_field(&c, info, field, eq ? eq : tok[i], &v))
			return -EINVAL;
		set_field(&f, field, v);
		seen |= field;
	}

	if (info->op == LPU_OP_ATTN && (seen & (K_HEADS | K_KV_HEADS))) {
		if ((seen & (K_HEADS | K_KV_HEADS)) != (K_HEADS | K_KV_HEADS))
			return perr(&c, "attn: heads and kv_heads go together");
		f.n = heads | kv_heads << 16;
		seen |= LPU_F_N;
	}

	need = info->fields;
	if (info->op == LPU_OP_EMIT) {
		need = LPU_F_RS;
		if (seen & LPU_F_RT)
			f.imm = LPU_EMIT_IF_RT;
	}
	for (field = 1; field <= LPU_F_M; field <<= 1)
		if ((need & field) && !(seen & field))
			return perr(&c, "%s: missing operand %s", info->name,
				    field_name(field));
	lpu_insn_encode(&f, out);
	return 0;
}

int lpu_insn_parse(const char *line, struct lpu_insn *out, char *err,
		   size_t errlen)
{
	return lpu_insn_parse_ex(line, out, NULL, NULL, err, errlen);
}
