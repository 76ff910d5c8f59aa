/* SPDX-License-Identifier: MIT */
/*
 * llama2.c-style BPE tokenizer over a tokenizer.bin image (internal,
 * shared by lpu-sim and liblpu).
 *
 * The image is the llama2.c tokenizer.bin layout, which is also the
 * layout of a program's .lpu.vocab section (uapi/lpu/lpu_prog.h):
 * u32 max_token_length, then vocab_size records of
 * { f32 score; u32 len; u8 bytes[len]; }, all little-endian.
 *
 * Encoding follows llama2.c: an optional BOS (token 1), the token of a
 * single space (SentencePiece's dummy prefix) when the text is not empty,
 * one token per UTF-8 character the vocabulary has, else the character's
 * bytes as "<0xXX>" byte tokens (id byte + 3 when that entry is the byte
 * token, else 0, <unk>), then, again and again, the adjacent pair whose
 * concatenation is a token with the highest score is merged (the first
 * such pair on a tie; the lowest id among equal pieces).
 *
 * Decoding follows llama2.c too: after BOS a leading space is dropped, a
 * "<0xXX>" byte token stands for its byte.
 *
 * Functions return 0 (or a count) or a negative errno.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef LPU_TOKENIZER_H
#define LPU_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LPU_BPE_BOS	1

struct lpu_bpe;

/**
 * lpu_bpe_new() - parse a tokenizer.bin image
 * @data: the image (copied; the caller keeps it)
 * @size: its bytes
 * @vocab_size: entries to read (the image may hold more; they are ignored)
 * @out: the tokenizer, freed with lpu_bpe_free()
 * @err: one line naming the problem (may be NULL)
 * @errlen: its size
 *
 * Return: 0, -EINVAL (vocab_size 0, or the image is truncated) or -ENOMEM.
 */
int lpu_bpe_new(const void *data, size_t size, uint32_t vocab_size,
		struct lpu_bpe **out, char *err, size_t errlen);

/** lpu_bpe_free() - free a tokenizer; NULL is allowed */
void lpu_bpe_free(struct lpu_bpe *t);

uint32_t lpu_bpe_vocab_size(const struct lpu_bpe *t);

/**
 * lpu_bpe_piece() - the bytes of token @id, NUL-terminated
 * @len: out: its length (may be NULL)
 * @score: out: its score (may be NULL)
 *
 * Return: the piece, or NULL when @id is out of range.
 */
const char *lpu_bpe_piece(const struct lpu_bpe *t, uint32_t id, size_t *len,
			  float *score);

/** lpu_bpe_lookup() - id of the piece with these bytes, or -1 */
long lpu_bpe_lookup(const struct lpu_bpe *t, const void *s, size_t len);

/**
 * lpu_bpe_encode() - encode a NUL-terminated string
 * @bos: put BOS (token 1) first (when the vocabulary has it)
 * @tokens: room for @max tokens
 *
 * Return: the number of tokens, -ENOSPC when @max is too small (then
 * @tokens holds nothing useful) or -ENOMEM.
 */
long lpu_bpe_encode(const struct lpu_bpe *t, const char *text, bool bos,
		    uint32_t *tokens, size_t max);

/**
 * lpu_bpe_decode() - text of @token when it follows @prev
 * @len: out: its length in bytes (a byte token may be "\0": length 1)
 * @byte: out: the byte when @token is a "<0xXX>" byte token, else -1
 *	(may be NULL)
 *
 * Return: a NUL-terminated string owned by the tokenizer, or NULL when
 * @token is out of range.
 */
const char *lpu_bpe_decode(const struct lpu_bpe *t, uint32_t prev,
			   uint32_t token, size_t *len, int *byte);

#ifdef __cplusplus
}
#endif

#endif /* LPU_TOKENIZER_H */
