/* SPDX-License-Identifier: MIT */
/*
 * Independent plain-C reference forward pass of a Llama-2 decoder stored in
 * the llama2.c checkpoint format (https://github.com/karpathy/llama2.c,
 * run.c and export.py; the format is described in Documentation/compiler.rst).
 *
 * The compiler test (check_compiler.c) compares the tokens and logits the
 * compiled program produces on the emulated card with the ones computed
 * here. This file shares no code with the compiler or the engine: it reads
 * the checkpoint itself, keeps its own KV cache and does its own maths.
 * Dot products and sums of squares are accumulated in double precision and
 * stored as f32, so the reference is at least as exact as any f32
 * evaluation order.
 */
#ifndef LPU_TESTS_REFERENCE_H
#define LPU_TESTS_REFERENCE_H

#include <stddef.h>

/**
 * struct ref_config - hyperparameters from the checkpoint header
 * @dim: model width
 * @hidden_dim: feed-forward width
 * @n_layers: transformer layers
 * @n_heads: query heads
 * @n_kv_heads: key/value heads (divides @n_heads)
 * @vocab_size: tokens in the vocabulary (absolute value of the header's)
 * @seq_len: most positions
 * @shared_classifier: 1 when the classifier is the embedding table (the
 *	header's vocab_size was positive), 0 when the file has its own wcls
 */
struct ref_config {
	int dim;
	int hidden_dim;
	int n_layers;
	int n_heads;
	int n_kv_heads;
	int vocab_size;
	int seq_len;
	int shared_classifier;
};

struct ref_model;

/**
 * ref_model_load() - read a llama2.c checkpoint
 * @path: checkpoint file
 * @out: the model on success; free it with ref_model_free()
 *
 * Return: 0, -errno from the file system, -EINVAL for a bad header
 * (non-positive sizes, dim not a multiple of n_heads, n_heads not a
 * multiple of n_kv_heads, odd head size), -EIO for a file shorter than the
 * header promises, -ENOMEM.
 */
int ref_model_load(const char *path, struct ref_model **out);

/** ref_model_free() - free a model from ref_model_load(); NULL is a no-op */
void ref_model_free(struct ref_model *m);

/** ref_model_config() - the model's hyperparameters (owned by @m) */
const struct ref_config *ref_model_config(const struct ref_model *m);

/**
 * ref_forward() - run one position
 * @m: model
 * @token: input token, 0 <= token < vocab_size
 * @pos: position, 0 <= pos < seq_len; positions 0..pos-1 must have been
 *	run before (their keys and values are in the model's KV cache)
 *
 * Return: the vocab_size logits for the next token, owned by @m and valid
 * until the next call; NULL when @token or @pos is out of range.
 */
const float *ref_forward(struct ref_model *m, int token, int pos);

/**
 * ref_generate() - greedy generation, exactly as the compiled program runs
 * @m: model
 * @prompt: prompt tokens
 * @n_prompt: number of prompt tokens
 * @budget: most tokens to generate
 * @out: receives the generated tokens (at least @budget entries)
 * @logits: NULL, or receives the logits of every position run, one row of
 *	vocab_size floats per position (at least seq_len rows)
 * @n_positions: NULL, or receives the number of positions run
 *
 * The prompt tokens are fed one per position; from the last prompt token on
 * each position's argmax (smallest index among equal maxima) is a generated
 * token and the next position's input. Positions run: end = min(n_prompt +
 * budget - 1, seq_len), none when @n_prompt or @budget is 0.
 *
 * Return: the number of generated tokens, or -EINVAL for a prompt longer
 * than seq_len or with a token out of range.
 */
int ref_generate(struct ref_model *m, const int *prompt, int n_prompt,
		 int budget, int *out, float *logits, int *n_positions);

#endif /* LPU_TESTS_REFERENCE_H */
