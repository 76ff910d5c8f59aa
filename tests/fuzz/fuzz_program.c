// SPDX-License-Identifier: MIT
/*
 * libFuzzer target of the program validator (lib/lpu_program.c).
 *
 * Every input goes through lpu_program_from_memory() with a small card.
 * An input that validates is then used as a loader would use it: its
 * window is filled, every vocabulary entry is looked up, and it is written
 * again with lpu_program_build(), which must accept it and give back the
 * same program. Any mismatch aborts (a crash for libFuzzer).
 *
 * Built and run by tests/fuzz/run.sh.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpu_program.h"

#define CARD_SRAM	(1u << 20)	/* 1 MiB: keeps windows small */

static void check_rewrite(const struct lpu_program *p)
{
	struct lpu_program_desc d = {
		.note = p->note,
		.text = p->text,
		.n_insns = p->n_insns,
		.text_offset = p->text_offset,
		.image = p->image,
		.image_size = p->image_size,
		.image_offset = p->image_offset,
		.scratch_offset = p->scratch_offset,
		.scratch_size = p->scratch_size,
		.vocab = p->vocab,
		.vocab_size = p->vocab_size,
	};
	struct lpu_program *q;
	char err[512];
	void *buf;
	size_t len;

	if (lpu_program_build(&d, 0, &buf, &len, err, sizeof(err))) {
		fprintf(stderr, "rewrite of a valid program failed: %s\n", err);
		abort();
	}
	if (lpu_program_from_memory(buf, len, CARD_SRAM, &q, err,
				    sizeof(err))) {
		fprintf(stderr, "rewritten program invalid: %s\n", err);
		abort();
	}
	if (memcmp(&q->note, &p->note, sizeof(p->note)) ||
	    q->text_size != p->text_size ||
	    memcmp(q->text, p->text, p->text_size) ||
	    q->image_size != p->image_size ||
	    memcmp(q->image, p->image, p->image_size) ||
	    q->scratch_offset != p->scratch_offset ||
	    q->scratch_size != p->scratch_size ||
	    q->vocab_size != p->vocab_size) {
		fprintf(stderr, "rewritten program differs\n");
		abort();
	}
	lpu_program_free(q);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lpu_program *p;
	uint8_t *window;
	char err[512];
	uint32_t i;
	size_t len;

	err[0] = 0;
	if (lpu_program_from_memory(data, size, CARD_SRAM, &p, err,
				    sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			abort();	/* every failure has one line */
		return 0;
	}
	window = malloc(p->note.sram_footprint);
	if (!window || lpu_program_fill_window(p, window,
					       p->note.sram_footprint))
		abort();
	free(window);
	/* the vocabulary is optional; when present it has every token */
	for (i = 0; p->vocab && i < p->note.vocab_size; i++) {
		if (!lpu_program_vocab_token(p, i, &len, NULL))
			abort();
	}
	check_rewrite(p);
	lpu_program_free(p);
	return 0;
}
