// SPDX-License-Identifier: MIT
/*
 * liblpu: the tokenizer API, over the shared llama2.c-style BPE tokenizer
 * (lib/lpu_tokenizer.c, which lpu-sim uses too).
 *
 * Copyright (C) 2026 The lpu authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpu_internal.h"
#include "lpu_tokenizer.h"

/* The public handle is the shared tokenizer itself. */
struct lpu_tokenizer;

static struct lpu_bpe *bpe(const struct lpu_tokenizer *tok)
{
	return (struct lpu_bpe *)tok;
}

LPU_EXPORT int lpu_tokenizer_from_model(const struct lpu_model *model,
					struct lpu_tokenizer **out)
{
	const struct lpu_program *p;
	struct lpu_bpe *t;
	char err[256] = "";
	int r;

	if (!model || !out)
		return lpu_error(-EINVAL,
				 "lpu_tokenizer_from_model: NULL argument");
	p = model->prog;
	if (!p->vocab)
		return lpu_error(-ENOENT,
				 "%s: the program has no vocabulary (.lpu.vocab)",
				 model->name);
	r = lpu_bpe_new(p->vocab, p->vocab_size, p->note.vocab_size, &t, err,
			sizeof(err));
	if (r)
		return lpu_error(r, "%s: .lpu.vocab: %s", model->name, err);
	*out = (struct lpu_tokenizer *)t;
	return 0;
}

/* Read a whole file (at most 1 GiB). */
static int read_file(const char *path, void **data, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		close(fd);
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	if (st.st_size > (1 << 30)) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return r;
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
}

LPU_EXPORT int lpu_tokenizer_load(const char *path, uint32_t vocab_size,
				  struct lpu_tokenizer **out)
{
	struct lpu_bpe *t;
	char err[256] = "";
	void *data = NULL;
	size_t len = 0;
	int r;

	if (!path || !out)
		return lpu_error(-EINVAL, "lpu_tokenizer_load: NULL argument");
	if (!vocab_size)
		return lpu_error(-EINVAL, "%s: a vocabulary of 0 tokens", path);
	r = read_file(path, &data, &len);
	if (r)
		return lpu_error(r, "%s: %s", path, strerror(-r));
	r = lpu_bpe_new(data, len, vocab_size, &t, err, sizeof(err));
	free(data);
	if (r)
		return lpu_error(r, "%s: %s", path, err);
	*out = (struct lpu_tokenizer *)t;
	return 0;
}

LPU_EXPORT int lpu_tokenizer_encode(const struct lpu_tokenizer *tok,
				    const char *text, bool bos,
				    uint32_t *tokens, size_t max)
{
	long n;

	if (!tok || !text || (!tokens && max))
		return lpu_error(-EINVAL, "lpu_tokenizer_encode: NULL argument");
	n = lpu_bpe_encode(bpe(tok), text, bos, tokens, max);
	if (n == -ENOSPC)
		return lpu_error(-ENOSPC,
				 "lpu_tokenizer_encode: the text needs more than %zu tokens",
				 max);
	if (n < 0)
		return lpu_error((int)n, "lpu_tokenizer_encode: %s",
				 strerror((int)-n));
	if (n > INT32_MAX)
		return lpu_error(-EOVERFLOW,
				 "lpu_tokenizer_encode: %ld tokens", n);
	return (int)n;
}

LPU_EXPORT const char *lpu_tokenizer_decode(const struct lpu_tokenizer *tok,
					    uint32_t prev, uint32_t token)
{
	if (!tok)
		return NULL;
	return lpu_bpe_decode(bpe(tok), prev, token, NULL, NULL);
}

LPU_EXPORT uint32_t lpu_tokenizer_vocab_size(const struct lpu_tokenizer *tok)
{
	return tok ? lpu_bpe_vocab_size(bpe(tok)) : 0;
}

LPU_EXPORT void lpu_tokenizer_free(struct lpu_tokenizer *tok)
{
	lpu_bpe_free(bpe(tok));
}
