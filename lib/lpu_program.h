/* SPDX-License-Identifier: MIT */
/*
 * LPU program files: ELF64 reader, validator and writer (libelf).
 *
 * The file format is uapi/lpu/lpu_prog.h; Documentation/program-format.rst
 * lists every validation rule with its error code. Every function returns
 * 0 or a negative errno and, on error, writes one line naming the problem
 * (and the file, when it was given by path) into err when err is not NULL
 * and errlen is not 0.
 *
 * Error codes of the reader and validator:
 *   -ENOENT, -EACCES, -EISDIR, ...  the file cannot be opened or read
 *   -ENOEXEC         not an ELF file, or not an LPU program (class, byte
 *                    order, version, OS ABI, type or machine)
 *   -EINVAL          malformed: truncated, bad headers, missing or
 *                    duplicate sections, bad note, bad layout, a bad
 *                    instruction, a malformed vocabulary
 *   -EOVERFLOW       something lies outside its range in the window: a
 *                    section outside [0, sram_footprint), the entry
 *                    outside .text, the prompt or logits area outside
 *                    .lpu.scratch, a branch target outside .text, an
 *                    instruction operand outside the window
 *   -EPROTONOSUPPORT the note's isa_version is not LPU_ISA_VERSION
 *   -E2BIG           sram_footprint is larger than the card's SRAM
 *   -EFBIG           lpu_program_open(): the file (or stream) is larger
 *                    than 64 GiB
 *   -ENOMEM          out of memory
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef LPU_PROGRAM_H
#define LPU_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "lpu/lpu_isa.h"
#include "lpu/lpu_prog.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct lpu_program_note - host-endian view of struct lpu_prog_note
 *
 * Same fields, same meaning, native byte order. lpu_program_note_decode()
 * and lpu_program_note_encode() convert from and to the file's
 * little-endian struct lpu_prog_note.
 */
struct lpu_program_note {
	uint32_t isa_version;
	uint32_t flags;
	uint64_t sram_footprint;
	uint64_t entry;
	uint64_t scratch_size;
	uint64_t prompt_offset;
	uint64_t logits_offset;
	uint32_t prompt_max;
	uint32_t vocab_size;
	uint32_t context_len;
	uint32_t dim;
	uint32_t hidden_dim;
	uint32_t n_layers;
	uint32_t n_heads;
	uint32_t n_kv_heads;
	uint64_t cycles_prologue;
	uint64_t cycles_per_token;
	uint64_t cycles_epilogue;
	uint64_t reserved[4];
};

void lpu_program_note_decode(const struct lpu_prog_note *in,
			     struct lpu_program_note *out);
void lpu_program_note_encode(const struct lpu_program_note *in,
			     struct lpu_prog_note *out);

/**
 * struct lpu_program - a parsed and validated program
 *
 * All offsets are window offsets (byte offsets in the program's SRAM
 * window), all sizes in bytes. The pointers point into the file's bytes:
 * the program's own copy (lpu_program_open(), lpu_program_from_memory()),
 * valid until lpu_program_free(), or the caller's memory
 * (lpu_program_from_memory_borrowed()), valid as long as that memory is.
 * (.text is copied when it is not 4-byte aligned in memory.) After
 * lpu_program_detach() the program holds copies of .text and .lpu.vocab
 * only, and image is NULL. Instructions are as in the file (struct
 * lpu_insn, little-endian fields), 4-byte aligned in memory.
 *
 * A section the file does not have (or that is empty) has size 0; its
 * pointer is then NULL (vocab) or points to no bytes (image; NULL after
 * lpu_program_detach()).
 */
struct lpu_program {
	struct lpu_program_note note;	/* decoded .note.lpu */
	const struct lpu_insn *text;	/* .text */
	uint64_t text_offset;
	uint64_t text_size;		/* bytes, a multiple of LPU_INSN_SIZE */
	uint64_t n_insns;		/* text_size / LPU_INSN_SIZE */
	const uint8_t *image;		/* .lpu.sram: initial SRAM image */
	uint64_t image_offset;
	uint64_t image_size;
	uint64_t scratch_offset;	/* .lpu.scratch (zeroed at load) */
	uint64_t scratch_size;
	const uint8_t *vocab;		/* .lpu.vocab, NULL if absent */
	uint64_t vocab_size;		/* bytes of .lpu.vocab */
	uint32_t vocab_max_token_len;	/* its max_token_length, 0 if absent */
	uint64_t file_size;		/* bytes of the file */
	uint64_t text_file_offset;	/* file offset of .text's bytes */
	uint64_t image_file_offset;	/* of .lpu.sram's (0 if absent) */
};

/**
 * lpu_program_open() - read, parse and validate a program file
 * @path: the file
 * @card_sram: the card's SRAM size in bytes; 0 = do not check the fit
 * @out: on success, the program; the caller frees it with lpu_program_free()
 * @err: buffer for one error message (may be NULL)
 * @errlen: its size
 *
 * Return: 0, or -errno (see the top of this header); *out is left
 * untouched on error. Messages start with "PATH: ".
 */
int lpu_program_open(const char *path, uint64_t card_sram,
		     struct lpu_program **out, char *err, size_t errlen);

/**
 * lpu_program_from_memory() - parse and validate a program held in memory
 *
 * As lpu_program_open(); the bytes are copied, the caller keeps @buf.
 */
int lpu_program_from_memory(const void *buf, size_t len, uint64_t card_sram,
			    struct lpu_program **out, char *err,
			    size_t errlen);

/**
 * lpu_program_from_memory_borrowed() - validate a program in place
 *
 * As lpu_program_from_memory(), but the bytes are not copied: the program
 * points into @buf, which the caller keeps unchanged and alive until
 * lpu_program_free() or lpu_program_detach(). The validation holds for
 * the bytes as they were read; the caller makes sure nobody changes them
 * afterwards. The bytes are only read (on a little-endian host @buf may be
 * read-only memory), and of .lpu.sram not even that: validating costs the
 * headers, .text and .lpu.vocab, whatever the size of the image. On error
 * nothing refers to @buf.
 */
int lpu_program_from_memory_borrowed(const void *buf, size_t len,
				     uint64_t card_sram,
				     struct lpu_program **out, char *err,
				     size_t errlen);

/* Flags of lpu_program_from_memory_borrowed_flags() */
#define LPU_PROGRAM_DEFER_VOCAB	0x1u	/* see below */

/**
 * lpu_program_from_memory_borrowed_flags() - validate in place, in steps
 *
 * As lpu_program_from_memory_borrowed(), with @flags:
 *
 * %LPU_PROGRAM_DEFER_VOCAB: the bytes of .lpu.vocab are neither read nor
 * checked yet (everything else is): the caller may fill them in later,
 * at their place in @buf, and then calls lpu_program_check_vocab().
 * Until that succeeds, p->vocab points at the unchecked bytes and
 * lpu_program_vocab_token() returns NULL. A loader uses this to send a
 * checked program to the card while it is still reading the vocabulary,
 * which only the host uses.
 *
 * Unknown flags: -EINVAL.
 */
int lpu_program_from_memory_borrowed_flags(const void *buf, size_t len,
					   uint64_t card_sram,
					   unsigned int flags,
					   struct lpu_program **out, char *err,
					   size_t errlen);

/**
 * lpu_program_check_vocab() - the deferred check of .lpu.vocab
 *
 * Checks p->vocab (the bytes in the buffer, or the copy
 * lpu_program_detach() made) as lpu_program_from_memory() would have:
 * the same rules, the same errors (-EINVAL, -ENOMEM) and messages. 0 at
 * once when nothing is pending.
 */
int lpu_program_check_vocab(struct lpu_program *p, char *err, size_t errlen);

/**
 * lpu_program_detach() - keep what a loaded program still needs
 * @p: the program
 *
 * Copies .text (when it is not a copy already) and .lpu.vocab into memory
 * of the program and lets go of the file's bytes: a borrowed buffer may
 * be reused or freed afterwards, and a program that owns a copy of the
 * file frees it. p->image becomes NULL (the initial SRAM image is gone;
 * image_offset and image_size still describe .lpu.sram), so
 * lpu_program_fill_window() fails on a detached program with an image.
 * Everything else (note, text, vocab, lpu_program_vocab_token()) is
 * unchanged. Detaching twice is allowed.
 *
 * Return: 0, or -ENOMEM (then the program is unchanged).
 */
int lpu_program_detach(struct lpu_program *p);

/** lpu_program_free() - free a program; NULL is allowed. */
void lpu_program_free(struct lpu_program *p);

/**
 * lpu_program_fill_window() - build the initial contents of a window
 * @p: the program
 * @window: @window_size bytes
 * @window_size: at least p->note.sram_footprint
 *
 * Zeroes the whole window, then copies .text and .lpu.sram to their
 * offsets (.lpu.scratch stays zero). A loader that DMAs to zeroed SRAM
 * does not need a window: it copies .text and .lpu.sram from their place
 * in the file (see libruntime/lpu_model.c).
 *
 * Return: 0, -EINVAL when the window is smaller than the footprint, or
 * -ENODATA when the program was detached and has an image.
 */
int lpu_program_fill_window(const struct lpu_program *p, uint8_t *window,
			    uint64_t window_size);

/**
 * lpu_program_vocab_token() - the bytes of one vocabulary entry
 * @p: the program
 * @id: token id, < p->note.vocab_size
 * @len: out: the length in bytes (the bytes are not NUL-terminated)
 * @score: out: the entry's score (may be NULL)
 *
 * Return: a pointer into the program, or NULL when the program has no
 * .lpu.vocab or @id is out of range.
 */
const uint8_t *lpu_program_vocab_token(const struct lpu_program *p,
				       uint32_t id, size_t *len,
				       float *score);

/**
 * struct lpu_program_desc - what lpu_program_write() writes
 * @note: the note, written as given (host-endian; the writer encodes it).
 *	The writer does not fill anything in: @note.entry (also written as
 *	e_entry) and @note.scratch_size (must equal @scratch_size) are the
 *	caller's to set.
 * @text: @n_insns instructions (little-endian, as in struct lpu_insn)
 * @n_insns: at least 1
 * @text_offset: window offset of .text (32-byte aligned)
 * @image: initial SRAM image, @image_size bytes (may be NULL when 0)
 * @image_offset: window offset of .lpu.sram
 * @scratch_offset: window offset of .lpu.scratch
 * @scratch_size: its size (may be 0)
 * @vocab: tokenizer in the llama2.c tokenizer.bin layout (see
 *	lpu_prog.h), @vocab_size bytes; NULL/0 = no .lpu.vocab section
 */
struct lpu_program_desc {
	struct lpu_program_note note;
	const struct lpu_insn *text;
	size_t n_insns;
	uint64_t text_offset;
	const void *image;
	size_t image_size;
	uint64_t image_offset;
	uint64_t scratch_offset;
	uint64_t scratch_size;
	const void *vocab;
	size_t vocab_size;
};

/* lpu_program_build() flags */
#define LPU_PROGRAM_NO_VALIDATE	0x1	/* skip the validator (tests only) */

/**
 * lpu_program_build() - lay out a program file in memory (libelf)
 * @d: what to write
 * @flags: 0 or LPU_PROGRAM_NO_VALIDATE
 * @buf: out: the file's bytes, malloc()ed; the caller free()s them
 * @len: out: their number
 *
 * Without LPU_PROGRAM_NO_VALIDATE the result goes through the same
 * validator as lpu_program_from_memory() (with card_sram 0) and is only
 * returned when it passes. LPU_PROGRAM_NO_VALIDATE exists to make invalid
 * files for tests.
 *
 * Return: 0 or -errno.
 */
int lpu_program_build(const struct lpu_program_desc *d, unsigned int flags,
		      void **buf, size_t *len, char *err, size_t errlen);

/**
 * lpu_program_write() - build, validate and write a program file
 * @path: the file to create or replace (written to PATH.tmpXXXXXX, then
 *	renamed, so a failed write leaves no partial file)
 *
 * Return: 0 or -errno; nothing is written when validation fails.
 */
int lpu_program_write(const char *path, const struct lpu_program_desc *d,
		      char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* LPU_PROGRAM_H */
