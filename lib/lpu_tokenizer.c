// SPDX-License-Identifier: MIT
/*
 * llama2.c-style BPE tokenizer (see lpu_tokenizer.h).
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE		/* qsort_r */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpu_tokenizer.h"

struct lpu_bpe {
	uint32_t n;		/* entries */
	uint32_t max_len;	/* longest piece, bytes */
	float *score;
	uint32_t *off;		/* of each piece in blob */
	uint32_t *len;
	uint32_t *sorted;	/* ids sorted by their bytes, ties by id */
	char *blob;		/* the pieces, each NUL-terminated */
	char bytes[256][2];	/* decoded byte tokens */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int piece_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

static int sort_cmp(const void *x, const void *y, void *ctx)
{
	const struct lpu_bpe *t = ctx;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	int r = piece_cmp(t->blob + t->off[a], t->len[a], t->blob + t->off[b],
			  t->len[b]);

	if (r)
		return r;
	/* equal pieces: the lower id first, so lookups find it */
	return a < b ? -1 : a > b;
}

int lpu_bpe_new(const void *data, size_t size, uint32_t vocab_size,
		struct lpu_bpe **out, char *err, size_t errlen)
{
	const uint8_t *p = data;
	struct lpu_bpe *t;
	size_t blob_len = 0, pos;
	uint32_t i;

	if (!vocab_size) {
		set_err(err, errlen, "a vocabulary of 0 tokens");
		return -EINVAL;
	}
	if (!data || size < 4) {
		set_err(err, errlen, "truncated: %zu bytes, no max_token_length",
			size);
		return -EINVAL;
	}
	/* first pass: check the records, size the blob */
	pos = 4;
	for (i = 0; i < vocab_size; i++) {
		uint32_t len;

		if (size - pos < 8) {
			set_err(err, errlen,
				"truncated: token %u of %u has no header at byte %zu",
				i, vocab_size, pos);
			return -EINVAL;
		}
		len = get_le32(p + pos + 4);
		pos += 8;
		if (size - pos < len) {
			set_err(err, errlen,
				"truncated: token %u of %u needs %u bytes at byte %zu, %zu left",
				i, vocab_size, len, pos, size - pos);
			return -EINVAL;
		}
		pos += len;
		blob_len += (size_t)len + 1;
	}

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n = vocab_size;
	t->score = malloc(vocab_size * sizeof(*t->score));
	t->off = malloc(vocab_size * sizeof(*t->off));
	t->len = malloc(vocab_size * sizeof(*t->len));
	t->sorted = malloc(vocab_size * sizeof(*t->sorted));
	t->blob = malloc(blob_len);
	if (!t->score || !t->off || !t->len || !t->sorted || !t->blob ||
	    blob_len > UINT32_MAX) {
		lpu_bpe_free(t);
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pos = 4;
	blob_len = 0;
	for (i = 0; i < vocab_size; i++) {
		uint32_t bits = get_le32(p + pos), len = get_le32(p + pos + 4);

		memcpy(&t->score[i], &bits, 4);
		pos += 8;
		t->off[i] = (uint32_t)blob_len;
		t->len[i] = len;
		memcpy(t->blob + blob_len, p + pos, len);
		t->blob[blob_len + len] = '\0';
		blob_len += (size_t)len + 1;
		pos += len;
		if (len > t->max_len)
			t->max_len = len;
		t->sorted[i] = i;
	}
	qsort_r(t->sorted, vocab_size, sizeof(*t->sorted), sort_cmp, t);
	for (i = 0; i < 256; i++) {
		t->bytes[i][0] = (char)i;
		t->bytes[i][1] = '\0';
	}
	*out = t;
	return 0;
}

void lpu_bpe_free(struct lpu_bpe *t)
{
	if (!t)
		return;
	free(t->score);
	free(t->off);
	free(t->len);
	free(t->sorted);
	free(t->blob);
	free(t);
}

uint32_t lpu_bpe_vocab_size(const struct lpu_bpe *t)
{
	return t->n;
}

const char *lpu_bpe_piece(const struct lpu_bpe *t, uint32_t id, size_t *len,
			  float *score)
{
	if (id >= t->n)
		return NULL;
	if (len)
		*len = t->len[id];
	if (score)
		*score = t->score[id];
	return t->blob + t->off[id];
}

long lpu_bpe_lookup(const struct lpu_bpe *t, const void *s, size_t len)
{
	size_t lo = 0, hi = t->n;

	if (len > t->max_len)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t id = t->sorted[mid];

		if (piece_cmp(t->blob + t->off[id], t->len[id], s, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->n) {
		uint32_t id = t->sorted[lo];

		if (!piece_cmp(t->blob + t->off[id], t->len[id], s, len))
			return id;
	}
	return -1;
}

/* A "<0xXX>" piece: its byte, else -1. */
static int byte_piece(const char *p, size_t len)
{
	int v = 0, i;

	if (len != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' ||
	    p[5] != '>')
		return -1;
	for (i = 3; i < 5; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/* token for a byte the vocabulary has no character for */
static uint32_t byte_token(const struct lpu_bpe *t, uint8_t b)
{
	char name[8];

	snprintf(name, sizeof(name), "<0x%02X>", b);
	if ((uint32_t)b + 3 < t->n && t->len[b + 3] == 6 &&
	    !memcmp(t->blob + t->off[b + 3], name, 6))
		return b + 3;
	return 0;	/* <unk> */
}

long lpu_bpe_encode(const struct lpu_bpe *t, const char *text, bool bos,
		    uint32_t *tokens, size_t max)
{
	const uint8_t *s = (const uint8_t *)text;
	size_t n = 0, i, len = strlen(text);
	uint32_t *w;
	char *buf;
	long id;

	/* at most one token per byte, plus BOS and the dummy prefix */
	w = malloc((len + 2) * sizeof(*w));
	buf = malloc(2 * (size_t)t->max_len + 1);
	if (!w || !buf) {
		free(w);
		free(buf);
		return -ENOMEM;
	}
	if (bos && LPU_BPE_BOS < t->n)
		w[n++] = LPU_BPE_BOS;
	if (len) {
		id = lpu_bpe_lookup(t, " ", 1);
		if (id >= 0)
			w[n++] = (uint32_t)id;
	}
	/* one token per UTF-8 character, or its bytes */
	for (i = 0; i < len; ) {
		size_t cl = 1, k;

		while (i + cl < len && cl < 4 && (s[i + cl] & 0xc0) == 0x80)
			cl++;
		id = lpu_bpe_lookup(t, s + i, cl);
		if (id >= 0) {
			w[n++] = (uint32_t)id;
		} else {
			for (k = 0; k < cl; k++)
				w[n++] = byte_token(t, s[i + k]);
		}
		i += cl;
	}
	/* merge the adjacent pair whose merged piece scores best, repeat */
	for (;;) {
		float best = -INFINITY;
		long best_id = -1;
		size_t best_i = 0;

		for (i = 0; i + 1 < n; i++) {
			uint32_t a = w[i], b = w[i + 1];
			size_t al = t->len[a], bl = t->len[b];

			if (al + bl > t->max_len)
				continue;
			memcpy(buf, t->blob + t->off[a], al);
			memcpy(buf + al, t->blob + t->off[b], bl);
			id = lpu_bpe_lookup(t, buf, al + bl);
			if (id < 0)
				continue;
			if (t->score[id] > best || best_id < 0) {
				best = t->score[id];
				best_id = id;
				best_i = i;
			}
		}
		if (best_id < 0)
			break;
		w[best_i] = (uint32_t)best_id;
		memmove(w + best_i + 1, w + best_i + 2,
			(n - best_i - 2) * sizeof(*w));
		n--;
	}
	free(buf);
	if (n > max) {
		free(w);
		return -ENOSPC;
	}
	memcpy(tokens, w, n * sizeof(*w));
	free(w);
	return (long)n;
}

const char *lpu_bpe_decode(const struct lpu_bpe *t, uint32_t prev,
			   uint32_t token, size_t *len, int *byte)
{
	const char *p;
	size_t l;
	int b;

	if (byte)
		*byte = -1;
	if (token >= t->n)
		return NULL;
	p = t->blob + t->off[token];
	l = t->len[token];
	if (prev == LPU_BPE_BOS && l && p[0] == ' ') {
		p++;
		l--;
	}
	b = byte_piece(p, l);
	if (b >= 0) {
		if (byte)
			*byte = b;
		p = t->bytes[b];
		l = 1;
	}
	if (len)
		*len = l;
	return p;
}
