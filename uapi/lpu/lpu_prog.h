/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * LPU program file format, version 1.
 *
 * A program is an ELF64 little-endian file (ET_EXEC, e_machine
 * LPU_ELF_MACHINE, no OS ABI) that `readelf -a` can show. Its SRAM
 * *window* (see lpu_isa.h) is laid out by the file:
 *
 *   section      type          flags  sh_addr = window offset
 *   .text        SHT_PROGBITS  AX     instructions (struct lpu_insn[])
 *   .lpu.sram    SHT_PROGBITS  A      initial SRAM image: weights, constants
 *   .lpu.scratch SHT_NOBITS    AW     zeroed at load: KV cache, activations,
 *                                     prompt and logits
 *   .lpu.vocab   SHT_PROGBITS  -      optional tokenizer (not loaded)
 *   .note.lpu    SHT_NOTE      -      one note: name "LPU", type
 *                                     LPU_NOTE_PROGRAM, desc struct
 *                                     lpu_prog_note
 *
 * plus .shstrtab. One PT_LOAD program header per non-empty loaded
 * section, with p_vaddr = p_paddr = window offset (p_filesz 0 for
 * .lpu.scratch) and a PT_NOTE for the note. e_entry = the note's entry.
 *
 * The loaded sections must not overlap and must lie inside
 * [0, sram_footprint); .text must be 32-byte aligned and a whole number of
 * instructions. The prompt and logits areas lie inside .lpu.scratch.
 *
 * .lpu.vocab holds a tokenizer in the llama2.c tokenizer.bin layout:
 * u32 max_token_length, then vocab_size records of
 * { f32 score; u32 len; u8 bytes[len]; } (all little-endian).
 */
#ifndef _LPU_PROG_H_
#define _LPU_PROG_H_

#include <linux/types.h>

/* Unofficial machine number (no EM_* value is assigned to LPUs). */
#define LPU_ELF_MACHINE		0x4c50

#define LPU_SECTION_TEXT	".text"
#define LPU_SECTION_SRAM	".lpu.sram"
#define LPU_SECTION_SCRATCH	".lpu.scratch"
#define LPU_SECTION_VOCAB	".lpu.vocab"
#define LPU_SECTION_NOTE	".note.lpu"

#define LPU_NOTE_NAME		"LPU"
#define LPU_NOTE_PROGRAM	1

/* lpu_prog_note.flags */
#define LPU_PROG_INT8		0x1	/* matrices are int8 with row scales */

/**
 * struct lpu_prog_note - description of a program (little-endian)
 */
struct lpu_prog_note {
	/** @isa_version: LPU_ISA_VERSION the program was built for */
	__le32 isa_version;
	/** @flags: LPU_PROG_* */
	__le32 flags;
	/** @sram_footprint: bytes of window the program needs */
	__le64 sram_footprint;
	/** @entry: window offset of the first instruction */
	__le64 entry;
	/** @scratch_size: bytes of .lpu.scratch */
	__le64 scratch_size;
	/** @prompt_offset: window offset of the prompt (u32 tokens) */
	__le64 prompt_offset;
	/** @logits_offset: window offset of the logits (vocab_size f32) */
	__le64 logits_offset;
	/** @prompt_max: most prompt tokens */
	__le32 prompt_max;
	/** @vocab_size: tokens in the vocabulary */
	__le32 vocab_size;
	/** @context_len: most positions (prompt + generated) */
	__le32 context_len;
	/** @dim: model width */
	__le32 dim;
	/** @hidden_dim: feed-forward width */
	__le32 hidden_dim;
	/** @n_layers: transformer layers */
	__le32 n_layers;
	/** @n_heads: query heads */
	__le32 n_heads;
	/** @n_kv_heads: key/value heads */
	__le32 n_kv_heads;
	/** @cycles_prologue: cycles before the first token step */
	__le64 cycles_prologue;
	/** @cycles_per_token: cycles of one token step (one position) */
	__le64 cycles_per_token;
	/** @cycles_epilogue: cycles after the last token step */
	__le64 cycles_epilogue;
	/** @reserved: zero */
	__le64 reserved[4];
};

#endif /* _LPU_PROG_H_ */
