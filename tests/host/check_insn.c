// SPDX-License-Identifier: MIT
/*
 * Unit tests of the ISA helpers (lib/lpu_insn.c): opcode table, encoding,
 * static checks (every fault code), the cycle model against the formulas
 * of lpu_isa.h, disassembly and parsing (round trip and errors).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpu_insn.h"

#define KiB     1024u
#define WIN     (1024u * KiB)   /* window of the static checks */

static struct lpu_insn mk(uint8_t op, uint8_t rd, uint8_t rs, uint8_t rt,
                          uint32_t imm, uint32_t dst, uint32_t src0,
                          uint32_t src1, uint32_t src2, uint32_t n,
                          uint32_t m)
{
    return lpu_insn_make(op, rd, rs, rt, imm, dst, src0, src1, src2, n, m);
}

static struct lpu_insn_fields fields_of(const struct lpu_insn *insn)
{
    struct lpu_insn_fields f;

    lpu_insn_decode(insn, &f);
    return f;
}

static uint32_t f32b(float f)
{
    return lpu_f32_bits(f);
}

/* One valid instruction per opcode (window WIN) */
static struct lpu_insn valid_insn(uint8_t op)
{
    switch (op) {
    case LPU_OP_INOP: return mk(op, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    case LPU_OP_HALT: return mk(op, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    case LPU_OP_LI: return mk(op, 5, 0, 0, 0xdeadbeef, 0, 0, 0, 0, 0, 0);
    case LPU_OP_ADD: return mk(op, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0);
    case LPU_OP_ADDI: return mk(op, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0);
    case LPU_OP_SLTU: return mk(op, 15, 14, 13, 0, 0, 0, 0, 0, 0, 0);
    case LPU_OP_SEL: return mk(op, 1, 3, 4, 2, 0, 0, 0, 0, 0, 0);
    case LPU_OP_LOADW: return mk(op, 6, 7, 0, 0, 0x1000, 0, 0, 0, 16, 0);
    case LPU_OP_STOREW: return mk(op, 0, 7, 8, 0, 0x1000, 0, 0, 0, 16, 0);
    case LPU_OP_JMP: return mk(op, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0);
    case LPU_OP_BLTU: return mk(op, 0, 5, 7, 0x40, 0, 0, 0, 0, 0, 0);
    case LPU_OP_BNE: return mk(op, 0, 5, 7, 0x60, 0, 0, 0, 0, 0, 0);
    case LPU_OP_EMBED:
        return mk(op, 0, 9, 0, 0, 0x1000, 0x2000, 0, 0, 8, 100);
    case LPU_OP_KVSTORE:
        return mk(op, 0, 9, 0, 0, 0x2000, 0x1000, 0, 0, 8, 100);
    case LPU_OP_VCOPY: return mk(op, 0, 0, 0, 0, 0x1000, 0x2000, 0, 0, 64, 0);
    case LPU_OP_VADD:
        return mk(op, 0, 0, 0, 0, 0x1000, 0x2000, 0x3000, 0, 64, 0);
    case LPU_OP_VMUL:
        return mk(op, 0, 0, 0, 0, 0x1000, 0x1000, 0x3000, 0, 64, 0);
    case LPU_OP_SILU: return mk(op, 0, 0, 0, 0, 0x1000, 0x1000, 0, 0, 64, 0);
    case LPU_OP_RMSNORM:
        return mk(op, 0, 0, 0, f32b(1e-5f), 0x1000, 0x2000, 0x3000, 0, 288,
                  0);
    case LPU_OP_SOFTMAX:
        return mk(op, 0, 0, 0, 0, 0x1000, 0x1000, 0, 0, 100, 0);
    case LPU_OP_ROPE:
        return mk(op, 0, 4, 0, f32b(10000.0f), 0x1000, 0, 0, 0, 288, 48);
    case LPU_OP_MATVEC:
        return mk(op, 0, 0, 0, 0, 0x1000, 0x2000, 0x1800, 0, 16, 16);
    case LPU_OP_MATVEC_Q8:
        return mk(op, 0, 0, 0, 0, 0x1000, 0x2001, 0x1800, 0x1c00, 16, 15);
    case LPU_OP_ATTN:
        return mk(op, 0, 4, 0, 256, 0x1000, 0x2000, 0x10000, 0x40000,
                  6 | 2 << 16, 48);
    case LPU_OP_ARGMAX: return mk(op, 7, 0, 0, 0, 0, 0x2000, 0, 0, 32000, 0);
    case LPU_OP_SAMPLE:
        return mk(op, 7, 3, 4, 0, 0, 0x2000, 0, 0, 32000, 0);
    case LPU_OP_EMIT: return mk(op, 0, 7, 8, 1, 0, 0, 0, 0, 0, 0);
    default:
        ck_abort_msg("no valid instruction for 0x%02x", op);
        return mk(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
}

static const uint8_t all_ops[] = {
    LPU_OP_INOP, LPU_OP_HALT, LPU_OP_LI, LPU_OP_ADD, LPU_OP_ADDI,
    LPU_OP_SLTU, LPU_OP_SEL, LPU_OP_LOADW, LPU_OP_STOREW, LPU_OP_JMP,
    LPU_OP_BLTU, LPU_OP_BNE, LPU_OP_EMBED, LPU_OP_KVSTORE, LPU_OP_VCOPY,
    LPU_OP_VADD, LPU_OP_VMUL, LPU_OP_SILU, LPU_OP_RMSNORM, LPU_OP_SOFTMAX,
    LPU_OP_ROPE, LPU_OP_MATVEC, LPU_OP_MATVEC_Q8, LPU_OP_ATTN,
    LPU_OP_ARGMAX, LPU_OP_SAMPLE, LPU_OP_EMIT,
};
#define NUM_OPS (sizeof(all_ops) / sizeof(all_ops[0]))

/* Fields each opcode uses, written out independently of the library */
static uint32_t expected_fields(uint8_t op)
{
    switch (op) {
    case LPU_OP_INOP: case LPU_OP_HALT: return 0;
    case LPU_OP_LI: return LPU_F_RD | LPU_F_IMM;
    case LPU_OP_ADD: case LPU_OP_SLTU: return LPU_F_RD | LPU_F_RS | LPU_F_RT;
    case LPU_OP_ADDI: return LPU_F_RD | LPU_F_RS | LPU_F_IMM;
    case LPU_OP_SEL: return LPU_F_RD | LPU_F_RS | LPU_F_RT | LPU_F_IMM;
    case LPU_OP_LOADW: return LPU_F_RD | LPU_F_RS | LPU_F_DST | LPU_F_N;
    case LPU_OP_STOREW: return LPU_F_RS | LPU_F_RT | LPU_F_DST | LPU_F_N;
    case LPU_OP_JMP: return LPU_F_IMM;
    case LPU_OP_BLTU: case LPU_OP_BNE: return LPU_F_RS | LPU_F_RT | LPU_F_IMM;
    case LPU_OP_EMBED: case LPU_OP_KVSTORE:
        return LPU_F_RS | LPU_F_DST | LPU_F_SRC0 | LPU_F_N | LPU_F_M;
    case LPU_OP_VCOPY: case LPU_OP_SILU: case LPU_OP_SOFTMAX:
        return LPU_F_DST | LPU_F_SRC0 | LPU_F_N;
    case LPU_OP_VADD: case LPU_OP_VMUL:
        return LPU_F_DST | LPU_F_SRC0 | LPU_F_SRC1 | LPU_F_N;
    case LPU_OP_RMSNORM:
        return LPU_F_DST | LPU_F_SRC0 | LPU_F_SRC1 | LPU_F_N | LPU_F_IMM;
    case LPU_OP_ROPE:
        return LPU_F_RS | LPU_F_DST | LPU_F_N | LPU_F_M | LPU_F_IMM;
    case LPU_OP_MATVEC:
        return LPU_F_DST | LPU_F_SRC0 | LPU_F_SRC1 | LPU_F_N | LPU_F_M;
    case LPU_OP_MATVEC_Q8:
        return LPU_F_DST | LPU_F_SRC0 | LPU_F_SRC1 | LPU_F_SRC2 | LPU_F_N |
               LPU_F_M;
    case LPU_OP_ATTN:
        return LPU_F_RS | LPU_F_DST | LPU_F_SRC0 | LPU_F_SRC1 | LPU_F_SRC2 |
               LPU_F_N | LPU_F_M | LPU_F_IMM;
    case LPU_OP_ARGMAX: return LPU_F_RD | LPU_F_SRC0 | LPU_F_N;
    case LPU_OP_SAMPLE: return LPU_F_RD | LPU_F_RS | LPU_F_RT | LPU_F_SRC0 |
                               LPU_F_N;
    case LPU_OP_EMIT: return LPU_F_RS | LPU_F_RT | LPU_F_IMM;
    default: return 0xffffffff;
    }
}

static void set_field(struct lpu_insn *insn, uint32_t field, uint32_t v)
{
    struct lpu_insn_fields f = fields_of(insn);

    switch (field) {
    case LPU_F_RD: f.rd = (uint8_t)v; break;
    case LPU_F_RS: f.rs = (uint8_t)v; break;
    case LPU_F_RT: f.rt = (uint8_t)v; break;
    case LPU_F_IMM: f.imm = v; break;
    case LPU_F_DST: f.dst = v; break;
    case LPU_F_SRC0: f.src0 = v; break;
    case LPU_F_SRC1: f.src1 = v; break;
    case LPU_F_SRC2: f.src2 = v; break;
    case LPU_F_N: f.n = v; break;
    case LPU_F_M: f.m = v; break;
    default: ck_abort();
    }
    lpu_insn_encode(&f, insn);
}

static int check(struct lpu_insn insn, uint64_t win)
{
    char msg[160];
    int r;

    memset(msg, 'x', sizeof(msg));
    r = lpu_insn_check(&insn, win, msg, sizeof(msg));
    ck_assert_ptr_nonnull(memchr(msg, 0, sizeof(msg)));
    ck_assert_uint_gt(strlen(msg), 0);
    ck_assert_ptr_null(strchr(msg, '\n'));
    return r;
}

/* ---- table and encoding ------------------------------------------------ */

START_TEST(test_op_table)
{
    const struct lpu_op_info *t, *info;
    size_t count, i, known = 0;
    char upper[32];
    int op;

    t = lpu_op_table(&count);
    ck_assert_uint_eq(count, NUM_OPS);
    for (op = 0; op < 256; op++) {
        info = lpu_op_info((uint8_t)op);
        if (!info) {
            ck_assert_uint_eq(expected_fields((uint8_t)op), 0xffffffff);
            continue;
        }
        known++;
        ck_assert_uint_eq(info->op, op);
        ck_assert_uint_eq(info->fields, expected_fields((uint8_t)op));
        ck_assert_ptr_eq(lpu_op_by_name(info->name), info);
        for (i = 0; info->name[i]; i++) {
            upper[i] = (char)(info->name[i] >= 'a' && info->name[i] <= 'z' ?
                              info->name[i] - 32 : info->name[i]);
        }
        upper[i] = 0;
        ck_assert_ptr_eq(lpu_op_by_name(upper), info);
        ck_assert(!!(info->flags & LPU_OPF_SCALAR) !=
                  !!(info->flags & LPU_OPF_TENSOR));
    }
    ck_assert_uint_eq(known, NUM_OPS);
    for (i = 0; i < count; i++) {
        ck_assert_ptr_eq(lpu_op_info(t[i].op), &t[i]);
    }
    ck_assert_str_eq(lpu_op_info(LPU_OP_MATVEC_Q8)->name, "matvec_q8");
    ck_assert_str_eq(lpu_op_info(LPU_OP_INOP)->name, "nop");
    ck_assert_ptr_null(lpu_op_by_name("matvec_q4"));
    ck_assert_ptr_null(lpu_op_by_name(""));
    ck_assert_ptr_null(lpu_op_by_name("matve"));
    ck_assert_ptr_null(lpu_op_by_name(NULL));
    ck_assert_uint_eq(lpu_op_info(LPU_OP_JMP)->flags & LPU_OPF_BRANCH,
                      LPU_OPF_BRANCH);
    ck_assert(lpu_op_info(LPU_OP_RMSNORM)->flags & LPU_OPF_F32_IMM);
    ck_assert(lpu_op_info(LPU_OP_ROPE)->flags & LPU_OPF_F32_IMM);
    ck_assert(lpu_op_info(LPU_OP_SEL)->flags & LPU_OPF_REG_IMM);
}
END_TEST

START_TEST(test_encoding)
{
    static const uint8_t want[32] = {
        0x31, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    };
    struct lpu_insn insn = mk(0x31, 1, 2, 3, 0x07060504, 0x0b0a0908,
                              0x0f0e0d0c, 0x13121110, 0x17161514,
                              0x1b1a1918, 0x1f1e1d1c);
    struct lpu_insn_fields f;
    uint8_t bytes[33];

    ck_assert_uint_eq(sizeof(insn), 32);
    ck_assert_mem_eq(&insn, want, 32);
    lpu_insn_decode(want, &f);
    ck_assert_uint_eq(f.op, 0x31);
    ck_assert_uint_eq(f.rd, 1);
    ck_assert_uint_eq(f.rs, 2);
    ck_assert_uint_eq(f.rt, 3);
    ck_assert_uint_eq(f.imm, 0x07060504);
    ck_assert_uint_eq(f.dst, 0x0b0a0908);
    ck_assert_uint_eq(f.src0, 0x0f0e0d0c);
    ck_assert_uint_eq(f.src1, 0x13121110);
    ck_assert_uint_eq(f.src2, 0x17161514);
    ck_assert_uint_eq(f.n, 0x1b1a1918);
    ck_assert_uint_eq(f.m, 0x1f1e1d1c);
    /* unaligned encode */
    lpu_insn_encode(&f, bytes + 1);
    ck_assert_mem_eq(bytes + 1, want, 32);
    lpu_insn_decode(bytes + 1, &f);
    ck_assert_uint_eq(f.m, 0x1f1e1d1c);
    ck_assert_uint_eq(lpu_get_le32(want + 4), 0x07060504);
    lpu_put_le32(bytes, 0xa1b2c3d4);
    ck_assert_uint_eq(bytes[0], 0xd4);
    ck_assert_uint_eq(bytes[3], 0xa1);
    ck_assert_uint_eq(lpu_f32_bits(1.0f), 0x3f800000);
    ck_assert(lpu_bits_f32(0xbf800000) == -1.0f);
}
END_TEST

START_TEST(test_prng)
{
    /* xorshift64* as written in lpu_isa.h, step by step */
    uint64_t s = lpu_prng_seed(0), ref = 0x4c5055ULL;
    int i;

    ck_assert_uint_eq(s, LPU_PRNG_DEFAULT_SEED);
    ck_assert_uint_eq(lpu_prng_seed(42), 42);
    for (i = 0; i < 1000; i++) {
        uint32_t u, want;
        uint64_t x = ref;
        float fl;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        ref = x;
        want = (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
        if (i % 2) {
            u = lpu_prng_u32(&s);
            ck_assert_uint_eq(u, want);
        } else {
            fl = lpu_prng_f32(&s);
            ck_assert(fl == (float)(want >> 8) / 16777216.0f);
            ck_assert(fl >= 0.0f && fl < 1.0f);
        }
        ck_assert_uint_eq(s, ref);
    }
}
END_TEST

/* ---- static check ------------------------------------------------------ */

START_TEST(test_check_valid)
{
    char msg[64];
    size_t i;

    for (i = 0; i < NUM_OPS; i++) {
        struct lpu_insn insn = valid_insn(all_ops[i]);

        ck_assert_msg(check(insn, WIN) == LPU_FAULT_NONE, "op 0x%02x",
                      all_ops[i]);
        lpu_insn_check(&insn, WIN, msg, sizeof(msg));
        ck_assert_str_eq(msg, "ok");
        /* NULL message buffer */
        ck_assert_int_eq(lpu_insn_check(&insn, WIN, NULL, 0), 0);
        ck_assert_int_eq(lpu_insn_check(&insn, WIN, msg, 0), 0);
    }
}
END_TEST

START_TEST(test_check_opcode)
{
    struct lpu_insn insn;
    char msg[8];
    int op;

    for (op = 0; op < 256; op++) {
        if (lpu_op_info((uint8_t)op)) {
            continue;
        }
        /* unknown opcode wins over everything else */
        insn = mk((uint8_t)op, 99, 99, 99, 3, 1, 1, 1, 1, 0, 0);
        ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPCODE);
    }
    /* a short message buffer is truncated, still terminated */
    insn = mk(0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    ck_assert_int_eq(lpu_insn_check(&insn, WIN, msg, sizeof(msg)),
                     LPU_FAULT_OPCODE);
    ck_assert_uint_eq(strlen(msg), sizeof(msg) - 1);
}
END_TEST

START_TEST(test_check_unused_fields)
{
    static const uint32_t all[] = {
        LPU_F_RD, LPU_F_RS, LPU_F_RT, LPU_F_IMM, LPU_F_DST, LPU_F_SRC0,
        LPU_F_SRC1, LPU_F_SRC2, LPU_F_N, LPU_F_M,
    };
    size_t i, j;
    int tested = 0;

    for (i = 0; i < NUM_OPS; i++) {
        uint32_t used = expected_fields(all_ops[i]);

        for (j = 0; j < sizeof(all) / sizeof(all[0]); j++) {
            struct lpu_insn insn = valid_insn(all_ops[i]);

            if (used & all[j]) {
                continue;
            }
            set_field(&insn, all[j], 1);
            ck_assert_msg(check(insn, WIN) == LPU_FAULT_OPERAND,
                          "op 0x%02x field %#x", all_ops[i], all[j]);
            set_field(&insn, all[j], 0x80000000u);
            if (all[j] <= LPU_F_RT) {
                set_field(&insn, all[j], 0x80);
            }
            ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
            tested++;
        }
    }
    ck_assert_int_gt(tested, 150);
}
END_TEST

START_TEST(test_check_registers)
{
    static const uint32_t regs[] = { LPU_F_RD, LPU_F_RS, LPU_F_RT };
    size_t i, j;

    for (i = 0; i < NUM_OPS; i++) {
        for (j = 0; j < 3; j++) {
            struct lpu_insn insn = valid_insn(all_ops[i]);

            if (!(expected_fields(all_ops[i]) & regs[j])) {
                continue;
            }
            set_field(&insn, regs[j], 15);
            ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
            set_field(&insn, regs[j], 16);
            ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
            set_field(&insn, regs[j], 255);
            ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
        }
    }
    /* SEL: imm is the condition register */
    ck_assert_int_eq(check(mk(LPU_OP_SEL, 1, 2, 3, 15, 0, 0, 0, 0, 0, 0), WIN),
                     LPU_FAULT_NONE);
    ck_assert_int_eq(check(mk(LPU_OP_SEL, 1, 2, 3, 16, 0, 0, 0, 0, 0, 0), WIN),
                     LPU_FAULT_OPERAND);
    /* EMIT: flags and rt */
    ck_assert_int_eq(check(mk(LPU_OP_EMIT, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0), WIN),
                     LPU_FAULT_NONE);
    ck_assert_int_eq(check(mk(LPU_OP_EMIT, 0, 7, 0, 1, 0, 0, 0, 0, 0, 0), WIN),
                     LPU_FAULT_NONE);
    ck_assert_int_eq(check(mk(LPU_OP_EMIT, 0, 7, 3, 0, 0, 0, 0, 0, 0, 0), WIN),
                     LPU_FAULT_OPERAND);
    ck_assert_int_eq(check(mk(LPU_OP_EMIT, 0, 7, 3, 2, 0, 0, 0, 0, 0, 0), WIN),
                     LPU_FAULT_OPERAND);
    ck_assert_int_eq(check(mk(LPU_OP_EMIT, 0, 7, 3, 3, 0, 0, 0, 0, 0, 0), WIN),
                     LPU_FAULT_OPERAND);
}
END_TEST

START_TEST(test_check_dims)
{
    size_t i;
    struct lpu_insn insn;

    /* n and m must be non-zero wherever they are used */
    for (i = 0; i < NUM_OPS; i++) {
        uint32_t used = expected_fields(all_ops[i]);

        if (used & LPU_F_N) {
            insn = valid_insn(all_ops[i]);
            set_field(&insn, LPU_F_N, 0);
            ck_assert_msg(check(insn, WIN) == LPU_FAULT_OPERAND, "op %#x",
                          all_ops[i]);
        }
        if (used & LPU_F_M) {
            insn = valid_insn(all_ops[i]);
            set_field(&insn, LPU_F_M, 0);
            ck_assert_msg(check(insn, WIN) == LPU_FAULT_OPERAND, "op %#x",
                          all_ops[i]);
        }
    }
    /* ROPE: n, m even, m divides n */
    insn = mk(LPU_OP_ROPE, 0, 4, 0, 0, 0x1000, 0, 0, 0, 288, 48);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_N, 287);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    set_field(&insn, LPU_F_N, 290);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    set_field(&insn, LPU_F_N, 288);
    set_field(&insn, LPU_F_M, 9);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    set_field(&insn, LPU_F_M, 288);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_M, 576);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    /* ATTN: heads, kv_heads, context */
    insn = valid_insn(LPU_OP_ATTN);
    set_field(&insn, LPU_F_N, 6 | 4 << 16);  /* 4 does not divide 6 */
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    set_field(&insn, LPU_F_N, 6);            /* kv_heads 0 */
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    set_field(&insn, LPU_F_N, 2 << 16);      /* heads 0 */
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    set_field(&insn, LPU_F_N, 6 | 6 << 16);
    set_field(&insn, LPU_F_SRC2, 0x80000);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_IMM, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = mk(LPU_OP_ATTN, 0, 0, 0, LPU_INSN_MAX_SCRATCH, 0x10, 0x10, 0x20,
              0x20 + 4 * LPU_INSN_MAX_SCRATCH, 1 | 1 << 16, 1);
    ck_assert_int_eq(check(insn, 1ull << 40), LPU_FAULT_OPERAND); /* dst=src0 */
    set_field(&insn, LPU_F_DST, 0x8);
    ck_assert_int_eq(check(insn, 1ull << 40), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_IMM, LPU_INSN_MAX_SCRATCH + 1);
    ck_assert_int_eq(check(insn, 1ull << 40), LPU_FAULT_OPERAND);
    /* SAMPLE: n limit */
    insn = mk(LPU_OP_SAMPLE, 1, 3, 4, 0, 0, 0, 0, 0, LPU_INSN_MAX_SCRATCH, 0);
    ck_assert_int_eq(check(insn, 1ull << 40), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_N, LPU_INSN_MAX_SCRATCH + 1);
    ck_assert_int_eq(check(insn, 1ull << 40), LPU_FAULT_OPERAND);
    /* ARGMAX has no such limit */
    insn = mk(LPU_OP_ARGMAX, 1, 0, 0, 0, 0, 0, 0, 0, LPU_INSN_MAX_SCRATCH + 1,
              0);
    ck_assert_int_eq(check(insn, 1ull << 40), LPU_FAULT_NONE);
}
END_TEST

/* every 4-byte aligned operand of every op, offset + 2 */
START_TEST(test_check_alignment)
{
    static const uint32_t tens[] = {
        LPU_F_DST, LPU_F_SRC0, LPU_F_SRC1, LPU_F_SRC2,
    };
    struct lpu_insn_fields f;
    size_t i, j;
    int tested = 0;

    for (i = 0; i < NUM_OPS; i++) {
        for (j = 0; j < 4; j++) {
            struct lpu_insn insn = valid_insn(all_ops[i]);
            uint32_t v;

            if (!(expected_fields(all_ops[i]) & tens[j])) {
                continue;
            }
            f = fields_of(&insn);
            v = tens[j] == LPU_F_DST ? f.dst : tens[j] == LPU_F_SRC0 ?
                f.src0 : tens[j] == LPU_F_SRC1 ? f.src1 : f.src2;
            set_field(&insn, tens[j], v + 2);
            if (all_ops[i] == LPU_OP_MATVEC_Q8 && tens[j] == LPU_F_SRC0) {
                /* int8 matrix: byte aligned */
                ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
                continue;
            }
            ck_assert_msg(check(insn, WIN) == LPU_FAULT_OPERAND,
                          "op %#x field %#x", all_ops[i], tens[j]);
            tested++;
        }
    }
    ck_assert_int_eq(tested, 34);
}
END_TEST

START_TEST(test_check_footprint)
{
    struct lpu_insn insn;
    const uint64_t win4g = 1ull << 32;

    /* exactly at the end: fine; one element more: SRAM */
    insn = mk(LPU_OP_VCOPY, 0, 0, 0, 0, WIN - 256, 0, 0, 0, 64, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_N, 65);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_SRAM);
    set_field(&insn, LPU_F_N, 64);
    set_field(&insn, LPU_F_DST, WIN);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_SRAM);
    set_field(&insn, LPU_F_DST, 0xfffffffc);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_SRAM);
    /* offset + size wraps in 32 bits (0xfffff000 + 0x4000): past a 4 GiB
     * window, inside an 8 GiB one */
    insn = mk(LPU_OP_VCOPY, 0, 0, 0, 0, 0xfffff000, 0, 0, 0, 0x1000, 0);
    ck_assert_int_eq(check(insn, win4g), LPU_FAULT_SRAM);
    ck_assert_int_eq(check(insn, 2 * win4g), LPU_FAULT_NONE);
    /* n * m * 4 wraps in 32 bits: 0x10000 * 0x10000 * 4 = 16 GiB */
    insn = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0x10, 0x100000, 0x20, 0, 0x10000,
              0x10000);
    ck_assert_int_eq(check(insn, win4g), LPU_FAULT_SRAM);
    ck_assert_int_eq(check(insn, 32 * win4g), LPU_FAULT_OPERAND);  /* dst
                                                      overlaps src1 */
    set_field(&insn, LPU_F_SRC1, 0x40010);
    ck_assert_int_eq(check(insn, 32 * win4g), LPU_FAULT_NONE);
    /* n * m * 4 wraps even in 64 bits */
    insn = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0, 0, 0, 0, 0xffffffff, 0xffffffff);
    ck_assert_int_eq(check(insn, UINT64_MAX), LPU_FAULT_SRAM);
    insn = mk(LPU_OP_ATTN, 0, 0, 0, 0x1000001, 0, 0, 0, 0,
              0xffff | 0xffffu << 16, 0xffffffff);
    ck_assert_int_eq(check(insn, UINT64_MAX), LPU_FAULT_OPERAND); /* ctx */
    set_field(&insn, LPU_F_IMM, LPU_INSN_MAX_SCRATCH);
    ck_assert_int_eq(check(insn, 1ull << 40), LPU_FAULT_SRAM);
    /* the whole indexable range counts, not one row */
    insn = valid_insn(LPU_OP_EMBED);          /* table 0x2000 + 8*100*4 */
    ck_assert_int_eq(check(insn, 0x2000 + 3200), LPU_FAULT_NONE);
    ck_assert_int_eq(check(insn, 0x2000 + 3199), LPU_FAULT_SRAM);
    insn = valid_insn(LPU_OP_KVSTORE);        /* cache 0x2000 + 3200 */
    ck_assert_int_eq(check(insn, 0x2000 + 3200), LPU_FAULT_NONE);
    ck_assert_int_eq(check(insn, 0x2000 + 3199), LPU_FAULT_SRAM);
    insn = valid_insn(LPU_OP_LOADW);          /* 0x1000 + 64 */
    ck_assert_int_eq(check(insn, 0x1040), LPU_FAULT_NONE);
    ck_assert_int_eq(check(insn, 0x103f), LPU_FAULT_SRAM);
    insn = valid_insn(LPU_OP_STOREW);
    ck_assert_int_eq(check(insn, 0x1040), LPU_FAULT_NONE);
    ck_assert_int_eq(check(insn, 0x103f), LPU_FAULT_SRAM);
    insn = valid_insn(LPU_OP_ATTN);   /* v cache 0x40000 + 256*2*48*4 */
    ck_assert_int_eq(check(insn, 0x40000 + 98304), LPU_FAULT_NONE);
    ck_assert_int_eq(check(insn, 0x40000 + 98303), LPU_FAULT_SRAM);
    /* int8 matrix: n*m bytes */
    insn = mk(LPU_OP_MATVEC_Q8, 0, 0, 0, 0, 0x0, 0x100, 0x40, 0x80, 16, 15);
    ck_assert_int_eq(check(insn, 0x100 + 240), LPU_FAULT_NONE);
    ck_assert_int_eq(check(insn, 0x100 + 239), LPU_FAULT_SRAM);
    /* every tensor op with src0 past the window */
    {
        size_t i;

        for (i = 0; i < NUM_OPS; i++) {
            insn = valid_insn(all_ops[i]);
            if (!(expected_fields(all_ops[i]) & LPU_F_SRC0)) {
                continue;
            }
            set_field(&insn, LPU_F_SRC0, 0xfffffff0);
            ck_assert_msg(check(insn, WIN) == LPU_FAULT_SRAM, "op %#x",
                          all_ops[i]);
        }
    }
    /* empty window */
    ck_assert_int_eq(check(valid_insn(LPU_OP_VCOPY), 0), LPU_FAULT_SRAM);
    ck_assert_int_eq(check(valid_insn(LPU_OP_ADD), 0), LPU_FAULT_NONE);
}
END_TEST

START_TEST(test_check_overlap)
{
    struct lpu_insn insn;

    /* element-wise: exact alias fine, partial overlap not */
    insn = mk(LPU_OP_VADD, 0, 0, 0, 0, 0x1000, 0x1000, 0x1000, 0, 64, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_SRC1, 0x1004);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    set_field(&insn, LPU_F_SRC1, 0x1100);     /* adjacent: fine */
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    set_field(&insn, LPU_F_SRC1, 0x0f04);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = mk(LPU_OP_RMSNORM, 0, 0, 0, 0, 0x1000, 0x1000, 0x1000, 0, 64, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    insn = mk(LPU_OP_SOFTMAX, 0, 0, 0, 0, 0x1000, 0x1010, 0, 0, 64, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = mk(LPU_OP_VCOPY, 0, 0, 0, 0, 0x1000, 0x1010, 0, 0, 64, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = mk(LPU_OP_SILU, 0, 0, 0, 0, 0x1010, 0x1000, 0, 0, 64, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    /* matrix ops: no overlap at all */
    insn = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0x1000, 0x2000, 0x1000, 0, 16, 16);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0x2100, 0x2000, 0x1000, 0, 16, 16);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    /* sources may overlap each other */
    insn = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0x1000, 0x2000, 0x2000, 0, 16, 16);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
    insn = mk(LPU_OP_MATVEC_Q8, 0, 0, 0, 0, 0x1000, 0x2000, 0x3000, 0x1020,
              16, 16);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = mk(LPU_OP_EMBED, 0, 1, 0, 0, 0x2010, 0x2000, 0, 0, 8, 100);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = mk(LPU_OP_KVSTORE, 0, 1, 0, 0, 0x2000, 0x2400, 0, 0, 8, 100);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = valid_insn(LPU_OP_ATTN);
    set_field(&insn, LPU_F_DST, 0x10000);     /* on the key cache */
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    insn = valid_insn(LPU_OP_ATTN);
    set_field(&insn, LPU_F_DST, 0x2000);      /* on q */
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_OPERAND);
    /* SRAM is reported before overlap */
    insn = mk(LPU_OP_VCOPY, 0, 0, 0, 0, 0x0, 0x10, 0, 0, 0x40000000, 0);
    ck_assert_int_eq(check(insn, WIN), LPU_FAULT_SRAM);
}
END_TEST

START_TEST(test_check_branch)
{
    static const uint8_t br[] = { LPU_OP_JMP, LPU_OP_BLTU, LPU_OP_BNE };
    size_t i;

    for (i = 0; i < 3; i++) {
        struct lpu_insn insn = valid_insn(br[i]);

        set_field(&insn, LPU_F_IMM, 0);
        ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
        set_field(&insn, LPU_F_IMM, WIN - 32);
        ck_assert_int_eq(check(insn, WIN), LPU_FAULT_NONE);
        set_field(&insn, LPU_F_IMM, WIN);
        ck_assert_int_eq(check(insn, WIN), LPU_FAULT_PC);
        set_field(&insn, LPU_F_IMM, 0x44);
        ck_assert_int_eq(check(insn, WIN), LPU_FAULT_PC);
        set_field(&insn, LPU_F_IMM, 0x50);
        ck_assert_int_eq(check(insn, WIN), LPU_FAULT_PC);
        set_field(&insn, LPU_F_IMM, 0xffffffe0);
        ck_assert_int_eq(check(insn, WIN), LPU_FAULT_PC);
        set_field(&insn, LPU_F_IMM, 0);
        ck_assert_int_eq(check(insn, 31), LPU_FAULT_PC);
        ck_assert_int_eq(check(insn, 32), LPU_FAULT_NONE);
        ck_assert_int_eq(check(insn, 0), LPU_FAULT_PC);
    }
}
END_TEST

START_TEST(test_fault_names)
{
    ck_assert_str_eq(lpu_fault_name(LPU_FAULT_NONE), "none");
    ck_assert_str_eq(lpu_fault_name(LPU_FAULT_OPCODE), "opcode");
    ck_assert_str_eq(lpu_fault_name(LPU_FAULT_OPERAND), "operand");
    ck_assert_str_eq(lpu_fault_name(LPU_FAULT_SRAM), "sram");
    ck_assert_str_eq(lpu_fault_name(LPU_FAULT_PC), "pc");
    ck_assert_str_eq(lpu_fault_name(LPU_FAULT_INDEX), "index");
    ck_assert_str_eq(lpu_fault_name(LPU_FAULT_STREAM), "stream");
    ck_assert_str_eq(lpu_fault_name(7), "unknown");
    ck_assert_str_eq(lpu_fault_name(-1), "unknown");
}
END_TEST

START_TEST(test_operands)
{
    struct lpu_operand ops[LPU_INSN_MAX_OPERANDS];
    struct lpu_insn insn = valid_insn(LPU_OP_MATVEC_Q8);
    struct lpu_insn_fields f = fields_of(&insn);

    ck_assert_int_eq(lpu_insn_operands(&f, ops), 4);
    ck_assert_uint_eq(ops[0].field, LPU_F_DST);
    ck_assert(ops[0].write);
    ck_assert_uint_eq(ops[0].size, 64);
    ck_assert_uint_eq(ops[1].field, LPU_F_SRC0);
    ck_assert_uint_eq(ops[1].align, 1);
    ck_assert_uint_eq(ops[1].size, 240);
    ck_assert_uint_eq(ops[1].offset, 0x2001);
    ck_assert(!ops[1].write);
    ck_assert_uint_eq(ops[2].size, 60);
    ck_assert_uint_eq(ops[3].size, 64);
    f.op = LPU_OP_ADD;
    ck_assert_int_eq(lpu_insn_operands(&f, ops), 0);
    f.op = 0x77;
    ck_assert_int_eq(lpu_insn_operands(&f, ops), -1);
    insn = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0, 0, 0, 0, 0xffffffff, 0xffffffff);
    f = fields_of(&insn);
    ck_assert_int_eq(lpu_insn_operands(&f, ops), 3);
    ck_assert_uint_eq(ops[1].size, UINT64_MAX);
    insn = valid_insn(LPU_OP_STOREW);
    f = fields_of(&insn);
    ck_assert_int_eq(lpu_insn_operands(&f, ops), 1);
    ck_assert(ops[0].write);
    insn = valid_insn(LPU_OP_LOADW);
    f = fields_of(&insn);
    ck_assert_int_eq(lpu_insn_operands(&f, ops), 1);
    ck_assert(!ops[0].write);
}
END_TEST

/* ---- cycles ------------------------------------------------------------ */

static uint64_t cdiv(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

START_TEST(test_cycles)
{
    static const uint32_t sizes[] = { 1, 2, 319, 320, 321, 288, 640, 641,
                                      768, 32000, 100000 };
    size_t i, j;

    for (i = 0; i < NUM_OPS; i++) {
        for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
            uint32_t n = sizes[j], m = sizes[(j + 3) % 11];
            struct lpu_insn insn = mk(all_ops[i], 0, 0, 0, 256, 0, 0, 0, 0,
                                      n, m);
            uint64_t V = cdiv(n, 320), want;

            switch (all_ops[i]) {
            case LPU_OP_EMBED: case LPU_OP_KVSTORE: case LPU_OP_VCOPY:
            case LPU_OP_VADD: case LPU_OP_VMUL: case LPU_OP_SILU:
            case LPU_OP_ARGMAX:
                want = 4 + V;
                break;
            case LPU_OP_RMSNORM: case LPU_OP_ROPE:
                want = 4 + 2 * V;
                break;
            case LPU_OP_SOFTMAX:
                want = 4 + 3 * V;
                break;
            case LPU_OP_SAMPLE:
                want = 4 + 4 * V;
                break;
            case LPU_OP_MATVEC: {
                uint64_t a = cdiv((uint64_t)n * m, 25600);
                uint64_t b = cdiv(4ull * n * m, 88888);

                want = 16 + (a > b ? a : b);
                break;
            }
            case LPU_OP_MATVEC_Q8: {
                uint64_t a = cdiv((uint64_t)n * m, 102400);
                uint64_t b = cdiv((uint64_t)n * m, 88888);

                want = 16 + (a > b ? a : b);
                break;
            }
            case LPU_OP_ATTN: {
                uint64_t h = n & 0xffff;

                want = 16 + h * (2 * cdiv(256ull * m, 320) + 3 * cdiv(256, 320));
                break;
            }
            case LPU_OP_EMIT:
                want = 64;
                break;
            default:
                want = 1;
                break;
            }
            ck_assert_msg(lpu_insn_cycles(&insn) == want,
                          "op %#x n %u m %u: %llu != %llu", all_ops[i], n, m,
                          (unsigned long long)lpu_insn_cycles(&insn),
                          (unsigned long long)want);
        }
    }
    /* worked figures (Documentation/isa.rst) */
    {
        struct lpu_insn a = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0, 0, 0, 0, 32000,
                               288);
        struct lpu_insn b = mk(LPU_OP_MATVEC_Q8, 0, 0, 0, 0, 0, 0, 0, 0,
                               32000, 288);
        struct lpu_insn c = mk(LPU_OP_ATTN, 0, 0, 0, 256, 0, 0, 0, 0,
                               6 | 6 << 16, 48);

        ck_assert_uint_eq(lpu_insn_cycles(&a), 16 + 415);
        ck_assert_uint_eq(lpu_insn_cycles(&b), 16 + 104);
        ck_assert_uint_eq(lpu_insn_cycles(&c), 16 + 6 * (2 * 39 + 3 * 1));
    }
    /* unknown opcode: 0; huge ATTN saturates */
    {
        struct lpu_insn u = mk(0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        struct lpu_insn h = mk(LPU_OP_ATTN, 0, 0, 0, 0xffffffff, 0, 0, 0, 0,
                               0xffffffff, 0xffffffff);
        struct lpu_insn mv = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0, 0, 0, 0,
                                0xffffffff, 0xffffffff);

        ck_assert_uint_eq(lpu_insn_cycles(&u), 0);
        ck_assert_uint_eq(lpu_insn_cycles(&h), UINT64_MAX);
        ck_assert_uint_eq(lpu_insn_cycles(&mv),
                          16 + cdiv(0xfffffffe00000001ull, 22222));
    }
}
END_TEST

/* ---- format and parse -------------------------------------------------- */

static void fmt_eq(struct lpu_insn insn, const char *want)
{
    char buf[LPU_INSN_FMT_MAX], err[128];
    struct lpu_insn back;
    int len = lpu_insn_format(&insn, buf, sizeof(buf));

    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(len, (int)strlen(want));
    ck_assert_msg(lpu_insn_parse(buf, &back, err, sizeof(err)) == 0,
                  "'%s': %s", buf, err);
    ck_assert_mem_eq(&back, &insn, sizeof(insn));
}

START_TEST(test_format_text)
{
    fmt_eq(mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0x1000, 0x2000, 0x3000, 0, 288, 288),
           "matvec dst=0x1000 src0=0x2000 src1=0x3000 n=288 m=288");
    fmt_eq(mk(LPU_OP_ADDI, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0), "addi r5, r5, 1");
    fmt_eq(mk(LPU_OP_ADDI, 5, 5, 0, 0xffffffff, 0, 0, 0, 0, 0, 0),
           "addi r5, r5, -1");
    fmt_eq(mk(LPU_OP_LI, 3, 0, 0, 0x3f800000, 0, 0, 0, 0, 0, 0),
           "li r3, 0x3f800000");
    fmt_eq(mk(LPU_OP_LI, 3, 0, 0, 65535, 0, 0, 0, 0, 0, 0), "li r3, 65535");
    fmt_eq(mk(LPU_OP_LI, 3, 0, 0, (uint32_t)-65536, 0, 0, 0, 0, 0, 0),
           "li r3, -65536");
    fmt_eq(mk(LPU_OP_LI, 3, 0, 0, (uint32_t)-65537, 0, 0, 0, 0, 0, 0),
           "li r3, 0xfffeffff");
    fmt_eq(mk(LPU_OP_BLTU, 0, 5, 7, 0x40, 0, 0, 0, 0, 0, 0),
           "bltu r5, r7, 0x40");
    fmt_eq(mk(LPU_OP_BNE, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0), "bne r15, r0, 0x0");
    fmt_eq(mk(LPU_OP_JMP, 0, 0, 0, 0x1e0, 0, 0, 0, 0, 0, 0), "jmp 0x1e0");
    fmt_eq(mk(LPU_OP_INOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "nop");
    fmt_eq(mk(LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "halt");
    fmt_eq(mk(LPU_OP_ADD, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0), "add r1, r2, r3");
    fmt_eq(mk(LPU_OP_SLTU, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0), "sltu r1, r2, r3");
    fmt_eq(mk(LPU_OP_SEL, 1, 3, 4, 2, 0, 0, 0, 0, 0, 0), "sel r1, r2, r3, r4");
    fmt_eq(mk(LPU_OP_LOADW, 6, 7, 0, 0, 0x1000, 0, 0, 0, 16, 0),
           "loadw r6, r7, 0x1000, 16");
    fmt_eq(mk(LPU_OP_STOREW, 0, 7, 8, 0, 0x1000, 0, 0, 0, 16, 0),
           "storew r7, r8, 0x1000, 16");
    fmt_eq(mk(LPU_OP_EMIT, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0), "emit r7");
    fmt_eq(mk(LPU_OP_EMIT, 0, 7, 8, 1, 0, 0, 0, 0, 0, 0), "emit r7, r8");
    fmt_eq(mk(LPU_OP_EMIT, 0, 7, 0, 1, 0, 0, 0, 0, 0, 0), "emit r7, r0");
    fmt_eq(valid_insn(LPU_OP_RMSNORM),
           "rmsnorm dst=0x1000 src0=0x2000 src1=0x3000 n=288 imm=1e-05f");
    fmt_eq(valid_insn(LPU_OP_ROPE),
           "rope rs=r4 dst=0x1000 n=288 m=48 imm=10000f");
    fmt_eq(mk(LPU_OP_ROPE, 0, 4, 0, 0x7fc00001, 0x1000, 0, 0, 0, 2, 2),
           "rope rs=r4 dst=0x1000 n=2 m=2 imm=0x7fc00001");
    fmt_eq(mk(LPU_OP_ROPE, 0, 4, 0, 0x80000000, 0x1000, 0, 0, 0, 2, 2),
           "rope rs=r4 dst=0x1000 n=2 m=2 imm=-0f");
    fmt_eq(mk(LPU_OP_ROPE, 0, 4, 0, 1, 0x1000, 0, 0, 0, 2, 2),
           "rope rs=r4 dst=0x1000 n=2 m=2 imm=1e-45f");
    fmt_eq(mk(LPU_OP_RMSNORM, 0, 0, 0, f32b(0.1f), 4, 8, 12, 0, 1, 0),
           "rmsnorm dst=0x4 src0=0x8 src1=0xc n=1 imm=0.1f");
    fmt_eq(valid_insn(LPU_OP_ATTN),
           "attn rs=r4 dst=0x1000 src0=0x2000 src1=0x10000 src2=0x40000 heads=6 kv_heads=2 m=48 imm=256");
    fmt_eq(valid_insn(LPU_OP_SAMPLE), "sample rd=r7 rs=r3 rt=r4 src0=0x2000 n=32000");
    fmt_eq(valid_insn(LPU_OP_ARGMAX), "argmax rd=r7 src0=0x2000 n=32000");
    fmt_eq(valid_insn(LPU_OP_EMBED),
           "embed rs=r9 dst=0x1000 src0=0x2000 n=8 m=100");
    fmt_eq(valid_insn(LPU_OP_MATVEC_Q8),
           "matvec_q8 dst=0x1000 src0=0x2001 src1=0x1800 src2=0x1c00 n=16 m=15");
    /* raw form: unknown opcode, non-zero unused field, register >= 16 */
    fmt_eq(mk(0x55, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
           ".insn op=0x55 rd=1 rs=2 rt=3 imm=0x4 dst=0x5 src0=0x6 src1=0x7 src2=0x8 n=9 m=10");
    fmt_eq(mk(LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
           ".insn op=0x01 rd=0 rs=0 rt=0 imm=0x0 dst=0x0 src0=0x0 src1=0x0 src2=0x0 n=0 m=1");
    fmt_eq(mk(LPU_OP_ADD, 16, 2, 3, 0, 0, 0, 0, 0, 0, 0),
           ".insn op=0x03 rd=16 rs=2 rt=3 imm=0x0 dst=0x0 src0=0x0 src1=0x0 src2=0x0 n=0 m=0");
    fmt_eq(mk(LPU_OP_SEL, 1, 2, 3, 16, 0, 0, 0, 0, 0, 0),
           ".insn op=0x06 rd=1 rs=2 rt=3 imm=0x10 dst=0x0 src0=0x0 src1=0x0 src2=0x0 n=0 m=0");
    fmt_eq(mk(LPU_OP_EMIT, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0),
           ".insn op=0x42 rd=0 rs=1 rt=2 imm=0x0 dst=0x0 src0=0x0 src1=0x0 src2=0x0 n=0 m=0");
    fmt_eq(mk(LPU_OP_EMIT, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0),
           ".insn op=0x42 rd=0 rs=1 rt=2 imm=0x3 dst=0x0 src0=0x0 src1=0x0 src2=0x0 n=0 m=0");
}
END_TEST

START_TEST(test_format_truncation)
{
    struct lpu_insn insn = valid_insn(LPU_OP_MATVEC);
    char buf[LPU_INSN_FMT_MAX], small[10];
    int full = lpu_insn_format(&insn, buf, sizeof(buf));

    ck_assert_int_gt(full, 9);
    memset(small, 'x', sizeof(small));
    ck_assert_int_eq(lpu_insn_format(&insn, small, sizeof(small)), full);
    ck_assert_uint_eq(strlen(small), 9);
    ck_assert(strncmp(small, buf, 9) == 0);
    ck_assert_int_eq(lpu_insn_format(&insn, NULL, 0), full);
    ck_assert_int_eq(lpu_insn_format(&insn, NULL, 5), -EINVAL);
    ck_assert_int_eq(lpu_insn_format(NULL, buf, sizeof(buf)), -EINVAL);
}
END_TEST

static uint64_t rng_state = 0x1234567887654321ull;

static uint32_t rnd(void)
{
    return lpu_prng_u32(&rng_state);
}

/* parse(format(x)) == x for every opcode with random fields, and for
 * random bytes (raw form) */
START_TEST(test_round_trip)
{
    char buf[LPU_INSN_FMT_MAX], err[128];
    struct lpu_insn insn, back;
    struct lpu_insn_fields f;
    int i, raw = 0, len;

    for (i = 0; i < 200000; i++) {
        uint8_t op = all_ops[rnd() % NUM_OPS];
        uint32_t used = expected_fields(op), pick = rnd();

        memset(&f, 0, sizeof(f));
        f.op = (i % 7 == 6) ? (uint8_t)rnd() : op;
        used = expected_fields(f.op);
        if (used == 0xffffffff || i % 11 == 10) {
            used = 0x3ff;      /* everything random */
        }
        f.rd = (used & LPU_F_RD) ? (uint8_t)(pick % 17 ? rnd() % 16 : rnd()) : 0;
        f.rs = (used & LPU_F_RS) ? (uint8_t)(rnd() % 16) : 0;
        f.rt = (used & LPU_F_RT) ? (uint8_t)(rnd() % 16) : 0;
        f.imm = (used & LPU_F_IMM) ? rnd() >> (rnd() % 32) : 0;
        if (f.op == LPU_OP_SEL && rnd() % 2) {
            f.imm %= 16;
        }
        if (f.op == LPU_OP_EMIT && rnd() % 2) {
            f.imm &= 1;
        }
        if ((f.op == LPU_OP_RMSNORM || f.op == LPU_OP_ROPE) && rnd() % 2) {
            f.imm = f32b((float)((int32_t)rnd()) / (float)(rnd() | 1));
        }
        f.dst = (used & LPU_F_DST) ? rnd() : 0;
        f.src0 = (used & LPU_F_SRC0) ? rnd() : 0;
        f.src1 = (used & LPU_F_SRC1) ? rnd() : 0;
        f.src2 = (used & LPU_F_SRC2) ? rnd() : 0;
        f.n = (used & LPU_F_N) ? rnd() >> (rnd() % 32) : 0;
        f.m = (used & LPU_F_M) ? rnd() >> (rnd() % 32) : 0;
        lpu_insn_encode(&f, &insn);
        len = lpu_insn_format(&insn, buf, sizeof(buf));
        if (len <= 0 || len >= LPU_INSN_FMT_MAX) {
            ck_abort_msg("length %d", len);
        }
        raw += buf[0] == '.';
        if (lpu_insn_parse(buf, &back, err, sizeof(err)) != 0) {
            ck_abort_msg("'%s': %s", buf, err);
        }
        if (memcmp(&back, &insn, sizeof(insn)) != 0) {
            ck_abort_msg("'%s' does not round-trip", buf);
        }
    }
    ck_assert_int_gt(raw, 10000);
    ck_assert_int_lt(raw, 150000);
    /* all-ones bytes */
    memset(&insn, 0xff, sizeof(insn));
    lpu_insn_format(&insn, buf, sizeof(buf));
    ck_assert_int_eq(lpu_insn_parse(buf, &back, err, sizeof(err)), 0);
    ck_assert_mem_eq(&back, &insn, sizeof(insn));
    /* every valid instance */
    for (i = 0; i < (int)NUM_OPS; i++) {
        insn = valid_insn(all_ops[i]);
        lpu_insn_format(&insn, buf, sizeof(buf));
        ck_assert_msg(buf[0] != '.', "%s", buf);
        ck_assert_int_eq(lpu_insn_parse(buf, &back, err, sizeof(err)), 0);
        ck_assert_mem_eq(&back, &insn, sizeof(insn));
    }
}
END_TEST

static void parse_eq(const char *line, struct lpu_insn want)
{
    char err[128];
    struct lpu_insn got;

    ck_assert_msg(lpu_insn_parse(line, &got, err, sizeof(err)) == 0,
                  "'%s': %s", line, err);
    ck_assert_msg(memcmp(&got, &want, sizeof(got)) == 0, "'%s'", line);
}

START_TEST(test_parse_forms)
{
    struct lpu_insn mv = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0x1000, 0x2000, 0x3000,
                            0, 288, 288);

    /* operand order, case, blanks, commas and comments are free */
    parse_eq("matvec dst=0x1000 src0=0x2000 src1=0x3000 n=288 m=288", mv);
    parse_eq("  MATVEC m=288, n=0x120, src1=12288 src0=0x2000 dst=0X1000 # c",
             mv);
    parse_eq("\tmatvec dst = 0x1000 src0= 0x2000 src1 =0x3000 n=288 m=288 ;x",
             mv);
    parse_eq("addi r5,r5,-1",
             mk(LPU_OP_ADDI, 5, 5, 0, 0xffffffff, 0, 0, 0, 0, 0, 0));
    parse_eq("addi R5 R5 +7", mk(LPU_OP_ADDI, 5, 5, 0, 7, 0, 0, 0, 0, 0, 0));
    parse_eq("li r1, -2147483648",
             mk(LPU_OP_LI, 1, 0, 0, 0x80000000, 0, 0, 0, 0, 0, 0));
    parse_eq("li r1, 4294967295",
             mk(LPU_OP_LI, 1, 0, 0, 0xffffffff, 0, 0, 0, 0, 0, 0));
    /* key=value works for scalar ops too */
    parse_eq("addi rd=r5 rs=r6 imm=3",
             mk(LPU_OP_ADDI, 5, 6, 0, 3, 0, 0, 0, 0, 0, 0));
    parse_eq("loadw r1, r2, n=4, dst=0x40",
             mk(LPU_OP_LOADW, 1, 2, 0, 0, 0x40, 0, 0, 0, 4, 0));
    /* attn: n or heads/kv_heads */
    parse_eq("attn rs=r4 dst=0x1000 src0=0x2000 src1=0x10000 src2=0x40000 n=0x20006 m=48 imm=256",
             valid_insn(LPU_OP_ATTN));
    /* f32: decimal values, with or without f; hex is bits */
    parse_eq("rmsnorm dst=0x1000 src0=0x2000 src1=0x3000 n=288 imm=1e-5",
             valid_insn(LPU_OP_RMSNORM));
    parse_eq("rmsnorm dst=0x1000 src0=0x2000 src1=0x3000 n=288 imm=0.00001F",
             valid_insn(LPU_OP_RMSNORM));
    parse_eq("rope rs=r4 dst=0x1000 n=288 m=48 imm=10000",
             valid_insn(LPU_OP_ROPE));
    parse_eq("rope rs=r4 dst=0x1000 n=288 m=48 imm=1e4f",
             valid_insn(LPU_OP_ROPE));
    parse_eq("rope rs=r4 dst=0x1000 n=288 m=48 imm=0x461c4000",
             valid_insn(LPU_OP_ROPE));
    parse_eq("rope rs=r4 dst=0x1000 n=288 m=48 imm=10000.",
             valid_insn(LPU_OP_ROPE));
    parse_eq("rope rs=r4 dst=0x1000 n=2 m=2 imm=-inf",
             mk(LPU_OP_ROPE, 0, 4, 0, 0xff800000, 0x1000, 0, 0, 0, 2, 2));
    /* raw form: missing fields are 0, registers as rN or numbers */
    parse_eq(".insn op=0x01", mk(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    parse_eq(".INSN m=5 op=2 rd=r3 rs=200",
             mk(2, 3, 200, 0, 0, 0, 0, 0, 0, 0, 5));
}
END_TEST

static void parse_bad(const char *line, const char *needle)
{
    char err[128] = "";
    struct lpu_insn got;

    memset(&got, 0xab, sizeof(got));
    ck_assert_msg(lpu_insn_parse(line, &got, err, sizeof(err)) == -EINVAL,
                  "'%s' parsed", line);
    ck_assert_msg(strstr(err, needle) != NULL, "'%s': '%s' lacks '%s'",
                  line, err, needle);
}

START_TEST(test_parse_errors)
{
    char long_line[600];

    parse_bad("", "empty");
    parse_bad("   # only a comment", "empty");
    parse_bad("frob r1", "unknown mnemonic 'frob'");
    parse_bad("add r1, r2", "missing operand rt");
    parse_bad("add r1, r2, r3, r4", "too many operands");
    parse_bad("add r1, r2, r16", "bad register 'r16'");
    parse_bad("add r1, r2, x3", "bad register");
    parse_bad("add r1, r2, r03", "bad register");
    parse_bad("add r1, r2, 3", "bad register");
    parse_bad("addi r1, r2, 0x100000000", "bad number");
    parse_bad("addi r1, r2, 4294967296", "bad number");
    parse_bad("addi r1, r2, -2147483649", "bad number");
    parse_bad("addi r1, r2, 12z", "bad number");
    parse_bad("addi r1, r2, 0x", "bad number");
    parse_bad("addi r1, r2, loop", "not a number");
    parse_bad("jmp -32", "bad number");
    parse_bad("matvec dst=-4 src0=0 src1=0 n=1 m=1", "bad number");
    parse_bad("matvec dst=0x1000 src0=0x2000 src1=0x3000 n=288",
              "missing operand m");
    parse_bad("matvec dst=0x1000 src0=0x2000 src1=0x3000 n=288 m=2 m=3",
              "m given twice");
    parse_bad("matvec dst=0x1000 src0=0x2000 src1=0x3000 n=288 m=2 imm=3",
              "no operand 'imm'");
    parse_bad("matvec dst=0x1000 src0=0x2000 src1=0x3000 n=288 m=2 foo=3",
              "no operand 'foo'");
    parse_bad("matvec 0x1000", "too many operands");
    parse_bad("addi r1, r2, 3 rd=r4", "rd given twice");
    parse_bad("rope rs=r4 dst=0x1000 n=288 m=48 imm=1e4x", "bad f32");
    parse_bad("rope rs=r4 dst=0x1000 n=288 m=48 imm=abc", "bad f32");
    parse_bad("rope rs=r4 dst=0x1000 n=288 m=48 imm=-0x1", "bad f32");
    parse_bad("attn rs=r4 dst=0 src0=0 src1=0 src2=0 heads=6 m=48 imm=2",
              "go together");
    parse_bad("attn rs=r4 dst=0 src0=0 src1=0 src2=0 heads=6 kv_heads=6 n=6 m=48 imm=2",
              "both given");
    parse_bad("attn rs=r4 dst=0 src0=0 src1=0 src2=0 heads=65536 kv_heads=6 m=48 imm=2",
              "above 65535");
    parse_bad("matvec heads=6 dst=0 src0=0 src1=0 n=1 m=1", "no operand");
    parse_bad("emit r1, r2, r3", "too many operands");
    parse_bad("emit", "missing operand rs");
    parse_bad("emit r1 imm=1", "no operand 'imm'");
    parse_bad(".insn op=0x100", "does not fit a byte");
    parse_bad(".insn op=1 rd=256", "does not fit a byte");
    parse_bad(".insn op=1 rd=r256", "bad register");
    parse_bad(".insn op=1 op=2", "given twice");
    parse_bad(".insn op=1 foo=2", "unknown key");
    parse_bad(".insn 5", "not key=value");
    parse_bad(".insn op=1 heads=2", "unknown key");
    memset(long_line, ' ', sizeof(long_line));
    memcpy(long_line, "nop", 3);
    long_line[sizeof(long_line) - 1] = 0;
    parse_bad(long_line, "too long");
    /* NULL arguments, NULL error buffer */
    {
        struct lpu_insn x;
        char err[16];

        ck_assert_int_eq(lpu_insn_parse(NULL, &x, err, sizeof(err)), -EINVAL);
        ck_assert_int_eq(lpu_insn_parse("nop", NULL, err, sizeof(err)),
                         -EINVAL);
        ck_assert_int_eq(lpu_insn_parse("frob", &x, NULL, 0), -EINVAL);
        ck_assert_int_eq(lpu_insn_parse("nop", &x, NULL, 0), 0);
    }
}
END_TEST

struct sym {
    const char *name;
    uint64_t value;
};

static int resolve(void *opaque, const char *name, uint32_t field,
                   uint64_t *value)
{
    const struct sym *s;

    for (s = opaque; s->name; s++) {
        if (strcmp(s->name, name) == 0) {
            *value = s->value;
            if (field == LPU_F_IMM && strcmp(name, "loop") == 0) {
                *value = 0x60;
            }
            return 0;
        }
    }
    return -1;
}

START_TEST(test_parse_symbols)
{
    static const struct sym syms[] = {
        { "loop", 0 }, { "wq0", 0x2000 }, { "DIM", 288 }, { "big", 1ull << 32 },
        { "minus1", 0xffffffffffffffffull }, { NULL, 0 },
    };
    struct lpu_insn got;
    char err[128];

    ck_assert_int_eq(lpu_insn_parse_ex("bltu r5, r7, loop", &got, resolve,
                                       (void *)syms, err, sizeof(err)), 0);
    ck_assert_mem_eq(&got, &(struct lpu_insn){ 0 }, 0);
    {
        struct lpu_insn want = mk(LPU_OP_BLTU, 0, 5, 7, 0x60, 0, 0, 0, 0, 0,
                                  0);

        ck_assert_mem_eq(&got, &want, sizeof(got));
    }
    ck_assert_int_eq(lpu_insn_parse_ex("matvec dst=0x1000 src0=wq0 src1=0x3000 n=DIM m=DIM",
                                       &got, resolve, (void *)syms, err,
                                       sizeof(err)), 0);
    {
        struct lpu_insn want = mk(LPU_OP_MATVEC, 0, 0, 0, 0, 0x1000, 0x2000,
                                  0x3000, 0, 288, 288);

        ck_assert_mem_eq(&got, &want, sizeof(got));
    }
    ck_assert_int_eq(lpu_insn_parse_ex("jmp nowhere", &got, resolve,
                                       (void *)syms, err, sizeof(err)),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown symbol 'nowhere'"));
    ck_assert_int_eq(lpu_insn_parse_ex("jmp big", &got, resolve, (void *)syms,
                                       err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "does not fit"));
    /* negative symbol values only where negative numbers are */
    ck_assert_int_eq(lpu_insn_parse_ex("addi r1, r1, minus1", &got, resolve,
                                       (void *)syms, err, sizeof(err)), 0);
    ck_assert_uint_eq(fields_of(&got).imm, 0xffffffff);
    ck_assert_int_eq(lpu_insn_parse_ex("jmp minus1", &got, resolve,
                                       (void *)syms, err, sizeof(err)),
                     -EINVAL);
    /* registers and f32 values never go through the resolver */
    ck_assert_int_eq(lpu_insn_parse_ex("add r1, r2, DIM", &got, resolve,
                                       (void *)syms, err, sizeof(err)),
                     -EINVAL);
    ck_assert_int_eq(lpu_insn_parse_ex("rope rs=r1 dst=0 n=2 m=2 imm=DIM",
                                       &got, resolve, (void *)syms, err,
                                       sizeof(err)), -EINVAL);
}
END_TEST

static Suite *insn_suite(void)
{
    Suite *s = suite_create("insn");
    TCase *core = tcase_create("core");
    TCase *errors = tcase_create("errors");

    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_op_table);
    tcase_add_test(core, test_encoding);
    tcase_add_test(core, test_prng);
    tcase_add_test(core, test_check_valid);
    tcase_add_test(core, test_operands);
    tcase_add_test(core, test_cycles);
    tcase_add_test(core, test_format_text);
    tcase_add_test(core, test_format_truncation);
    tcase_add_test(core, test_round_trip);
    tcase_add_test(core, test_parse_forms);
    tcase_add_test(core, test_parse_symbols);
    suite_add_tcase(s, core);

    tcase_add_test(errors, test_check_opcode);
    tcase_add_test(errors, test_check_unused_fields);
    tcase_add_test(errors, test_check_registers);
    tcase_add_test(errors, test_check_dims);
    tcase_add_test(errors, test_check_alignment);
    tcase_add_test(errors, test_check_footprint);
    tcase_add_test(errors, test_check_overlap);
    tcase_add_test(errors, test_check_branch);
    tcase_add_test(errors, test_fault_names);
    tcase_add_test(errors, test_parse_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(insn_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
