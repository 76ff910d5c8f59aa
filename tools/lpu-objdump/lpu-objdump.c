// SPDX-License-Identifier: MIT
/*
 * lpu-objdump: show an LPU program file: its note, its window layout and
 * its instructions with their window offsets and cycle costs; or print it
 * back as lpu-as source.
 *
 * The file goes through the same validator as a loader uses
 * (lpu_program_open()); its message is printed as it is.
 *
 * Copyright (C) 2026 The lpu authors
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpu_insn.h"
#include "lpu_program.h"

#define MIB	(1024.0 * 1024.0)

static void usage(FILE *f)
{
	fputs(
"NAME\n"
"    lpu-objdump - show the contents of LPU program files\n"
"\n"
"SYNOPSIS\n"
"    lpu-objdump [-x | -d | -s] [-V] [--card-sram SIZE] FILE...\n"
"    lpu-objdump --help\n"
"\n"
"DESCRIPTION\n"
"    Validates each FILE as a loader does and prints, by default, its\n"
"    note (every field of struct lpu_prog_note), its window layout (the\n"
"    sections, the prompt and logits areas) and the disassembly of .text:\n"
"    for each instruction its window offset, its cost in cycles and its\n"
"    text in the syntax lpu-as reads. Branch targets and the entry are\n"
"    marked with labels \"<L_OFFSET>\" and \"<entry>\".\n"
"\n"
"    The total at the end is the sum of every instruction's cycles once\n"
"    (straight-line cost), not a prediction of a run: the note's cycle\n"
"    fields are the prediction.\n"
"\n"
"OPTIONS\n"
"    -x, --headers      only the note and the layout\n"
"    -d, --disassemble  only the disassembly\n"
"    -s, --source       print the program as lpu-as source instead: all\n"
"                       directives, the data and the instructions, so\n"
"                       that lpu-as turns it back into the same program\n"
"    -V, --vocab        also list the vocabulary (.lpu.vocab), one token\n"
"                       a line: id, score, quoted bytes\n"
"    --card-sram SIZE   also check that the program fits a card with SIZE\n"
"                       bytes of SRAM (K, M, G suffixes allowed)\n"
"    -h, --help         this text\n"
"\n"
"EXIT STATUS\n"
"    0 if every file is a valid program; 1 if one is not (the validator's\n"
"    message, \"FILE: problem\", goes to stderr); 2 on bad usage.\n", f);
}

static void put_quoted(const uint8_t *b, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		if (b[i] == '"' || b[i] == '\\')
			printf("\\%c", b[i]);
		else if (b[i] >= 0x20 && b[i] < 0x7f)
			putchar(b[i]);
		else
			printf("\\x%02x", b[i]);
	}
	putchar('"');
}

static void print_note(const struct lpu_program_note *n)
{
	printf("Note (.note.lpu, owner \"%s\", type %u):\n", LPU_NOTE_NAME,
	       LPU_NOTE_PROGRAM);
	printf("  isa_version        %" PRIu32 "\n", n->isa_version);
	printf("  flags              0x%" PRIx32 "%s\n", n->flags,
	       n->flags & LPU_PROG_INT8 ? " (INT8)" : "");
	printf("  sram_footprint     %" PRIu64 " (0x%" PRIx64 ", %g %s)\n",
	       n->sram_footprint, n->sram_footprint,
	       n->sram_footprint >= MIB ? n->sram_footprint / MIB :
	       n->sram_footprint / 1024.0,
	       n->sram_footprint >= MIB ? "MiB" : "KiB");
	printf("  entry              0x%" PRIx64 "\n", n->entry);
	printf("  scratch_size       %" PRIu64 " (0x%" PRIx64 ")\n",
	       n->scratch_size, n->scratch_size);
	printf("  prompt_offset      0x%" PRIx64 "\n", n->prompt_offset);
	printf("  logits_offset      0x%" PRIx64 "\n", n->logits_offset);
	printf("  prompt_max         %" PRIu32 "\n", n->prompt_max);
	printf("  vocab_size         %" PRIu32 "\n", n->vocab_size);
	printf("  context_len        %" PRIu32 "\n", n->context_len);
	printf("  dim                %" PRIu32 "\n", n->dim);
	printf("  hidden_dim         %" PRIu32 "\n", n->hidden_dim);
	printf("  n_layers           %" PRIu32 "\n", n->n_layers);
	printf("  n_heads            %" PRIu32 "\n", n->n_heads);
	printf("  n_kv_heads         %" PRIu32 "\n", n->n_kv_heads);
	printf("  cycles_prologue    %" PRIu64 "\n", n->cycles_prologue);
	printf("  cycles_per_token   %" PRIu64 "\n", n->cycles_per_token);
	printf("  cycles_epilogue    %" PRIu64 "\n", n->cycles_epilogue);
	printf("  reserved           %" PRIu64 " %" PRIu64 " %" PRIu64
	       " %" PRIu64 "\n", n->reserved[0], n->reserved[1],
	       n->reserved[2], n->reserved[3]);
}

static void print_range(const char *name, uint64_t off, uint64_t size,
			const char *what)
{
	if (!size) {
		printf("  %-14s (empty)\n", name);
		return;
	}
	printf("  %-14s [0x%08" PRIx64 ", 0x%08" PRIx64 ") %10" PRIu64
	       " bytes  %s\n", name, off, off + size, size, what);
}

static void print_layout(const struct lpu_program *p)
{
	const struct lpu_program_note *n = &p->note;
	char what[64];

	printf("\nWindow layout (sram_footprint 0x%" PRIx64 "):\n",
	       n->sram_footprint);
	snprintf(what, sizeof(what), "%" PRIu64 " instructions",
		 p->n_insns);
	print_range(".text", p->text_offset, p->text_size, what);
	print_range(".lpu.sram", p->image_offset, p->image_size,
		    "initial image");
	print_range(".lpu.scratch", p->scratch_offset, p->scratch_size,
		    "zeroed at load");
	snprintf(what, sizeof(what), "prompt_max %" PRIu32 " u32 tokens",
		 n->prompt_max);
	print_range("  prompt", n->prompt_offset, (uint64_t)n->prompt_max * 4,
		    what);
	snprintf(what, sizeof(what), "vocab_size %" PRIu32 " f32",
		 n->vocab_size);
	print_range("  logits", n->logits_offset, (uint64_t)n->vocab_size * 4,
		    what);
	if (p->vocab)
		printf("  %-14s not loaded %12" PRIu64
		       " bytes  %" PRIu32 " tokens, max_token_length %" PRIu32
		       "\n", ".lpu.vocab", p->vocab_size, n->vocab_size,
		       p->vocab_max_token_len);
	else
		printf("  %-14s (absent)\n", ".lpu.vocab");
}

/* Is off the target of some branch, or the entry? */
static bool is_target(const struct lpu_program *p, uint64_t off)
{
	uint64_t i;

	for (i = 0; i < p->n_insns; i++) {
		const struct lpu_op_info *oi = lpu_op_info(p->text[i].op);

		if (oi && (oi->flags & LPU_OPF_BRANCH) &&
		    lpu_get_le32(&p->text[i].imm) == off)
			return true;
	}
	return false;
}

static void print_text(const struct lpu_program *p)
{
	char line[LPU_INSN_FMT_MAX];
	uint64_t i, total = 0;

	printf("\nDisassembly of .text:\n");
	printf("  %-8s %10s  %s\n", "offset", "cycles", "instruction");
	for (i = 0; i < p->n_insns; i++) {
		uint64_t off = p->text_offset + i * LPU_INSN_SIZE;
		uint64_t cyc = lpu_insn_cycles(&p->text[i]);

		if (off == p->note.entry)
			printf("<entry>:\n");
		if (is_target(p, off))
			printf("<L_%" PRIx64 ">:\n", off);
		lpu_insn_format(&p->text[i], line, sizeof(line));
		printf("  %08" PRIx64 " %10" PRIu64 "  %s\n", off, cyc, line);
		total = total + cyc < total ? UINT64_MAX : total + cyc;
	}
	printf("\n%" PRIu64 " instructions, %" PRIu64
	       " cycles if each runs once\n", p->n_insns, total);
}

static void print_vocab(const struct lpu_program *p)
{
	uint32_t i;

	if (!p->vocab) {
		printf("\nNo vocabulary (.lpu.vocab absent).\n");
		return;
	}
	printf("\nVocabulary (%" PRIu32 " tokens):\n", p->note.vocab_size);
	for (i = 0; i < p->note.vocab_size; i++) {
		const uint8_t *b;
		size_t len;
		float score;

		b = lpu_program_vocab_token(p, i, &len, &score);
		printf("  %6" PRIu32 " %12g  ", i, score);
		put_quoted(b, len);
		putchar('\n');
	}
}

/* The program as lpu-as source that assembles back to the same program. */
static void print_source(const char *file, const struct lpu_program *p)
{
	const struct lpu_program_note *n = &p->note;
	char line[LPU_INSN_FMT_MAX];
	uint64_t i;

	printf("; lpu-objdump --source %s\n", file);
	printf("\t.footprint 0x%" PRIx64 "\n", n->sram_footprint);
	printf("\t.entry 0x%" PRIx64 "\n", n->entry);
	if (n->scratch_size || p->scratch_offset)
		printf("\t.scratch 0x%" PRIx64 " 0x%" PRIx64 "\n",
		       p->scratch_offset, p->scratch_size);
	printf("\t.prompt 0x%" PRIx64 " %" PRIu32 "\n", n->prompt_offset,
	       n->prompt_max);
	printf("\t.logits 0x%" PRIx64 "\n", n->logits_offset);
	printf("\t.vocab_size %" PRIu32 "\n", n->vocab_size);
	printf("\t.context %" PRIu32 "\n", n->context_len);
	printf("\t.flags 0x%" PRIx32 "\n", n->flags);
	printf("\t.cycles %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
	       n->cycles_prologue, n->cycles_per_token, n->cycles_epilogue);
	printf("\t.note dim %" PRIu32 "\n", n->dim);
	printf("\t.note hidden_dim %" PRIu32 "\n", n->hidden_dim);
	printf("\t.note n_layers %" PRIu32 "\n", n->n_layers);
	printf("\t.note n_heads %" PRIu32 "\n", n->n_heads);
	printf("\t.note n_kv_heads %" PRIu32 "\n", n->n_kv_heads);

	if (p->image_size) {
		printf("\n\t.data 0x%" PRIx64 "\n", p->image_offset);
		for (i = 0; i + 4 <= p->image_size; i += 4) {
			printf(i % 32 ? ", 0x%08" PRIx32 : "\t.word 0x%08" PRIx32,
			       lpu_get_le32(p->image + i));
			if (i % 32 == 28 || i + 8 > p->image_size)
				putchar('\n');
		}
		for (; i < p->image_size; i++)
			printf("\t.byte 0x%02x\n", p->image[i]);
	}

	if (p->vocab) {
		putchar('\n');
		for (i = 0; i < n->vocab_size; i++) {
			const uint8_t *b;
			size_t len;
			float score;

			b = lpu_program_vocab_token(p, (uint32_t)i, &len,
						    &score);
			printf("\t.token ");
			put_quoted(b, len);
			printf(" %.9g\n", score);
		}
	}

	printf("\n\t.text 0x%" PRIx64 "\n", p->text_offset);
	for (i = 0; i < p->n_insns; i++) {
		lpu_insn_format(&p->text[i], line, sizeof(line));
		printf("\t%s\n", line);
	}
}

static bool parse_size(const char *s, uint64_t *v)
{
	unsigned long long u;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	u = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ?
		     16 : 10);
	if (errno)
		return false;
	switch (*end) {
	case 'K':
	case 'k':
		u <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		u <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		u <<= 30;
		end++;
		break;
	}
	if (*end)
		return false;
	*v = u;
	return true;
}

enum { SHOW_ALL, SHOW_HEADERS, SHOW_TEXT, SHOW_SOURCE };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "headers", no_argument, NULL, 'x' },
		{ "disassemble", no_argument, NULL, 'd' },
		{ "source", no_argument, NULL, 's' },
		{ "vocab", no_argument, NULL, 'V' },
		{ "card-sram", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int show = SHOW_ALL, c, i, status = 0;
	bool vocab = false;
	uint64_t card = 0;
	char err[1024];

	while ((c = getopt_long(argc, argv, "xdsVh", opts, NULL)) != -1) {
		switch (c) {
		case 'x':
			show = SHOW_HEADERS;
			break;
		case 'd':
			show = SHOW_TEXT;
			break;
		case 's':
			show = SHOW_SOURCE;
			break;
		case 'V':
			vocab = true;
			break;
		case 'c':
			if (!parse_size(optarg, &card) || !card) {
				fprintf(stderr, "lpu-objdump: bad --card-sram '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'lpu-objdump --help'.\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "lpu-objdump: no input file\n"
			"Try 'lpu-objdump --help'.\n");
		return 2;
	}

	for (i = optind; i < argc; i++) {
		struct lpu_program *p;

		if (lpu_program_open(argv[i], card, &p, err, sizeof(err))) {
			fflush(stdout);
			fprintf(stderr, "%s\n", err);
			status = 1;
			continue;
		}
		if (show == SHOW_SOURCE) {
			print_source(argv[i], p);
			lpu_program_free(p);
			continue;
		}
		if (i > optind)
			putchar('\n');
		printf("%s: LPU program, ISA version %" PRIu32 ", %" PRIu64
		       " bytes\n", argv[i], p->note.isa_version, p->file_size);
		if (show != SHOW_TEXT) {
			putchar('\n');
			print_note(&p->note);
			print_layout(p);
		}
		if (show != SHOW_HEADERS)
			print_text(p);
		if (vocab)
			print_vocab(p);
		lpu_program_free(p);
	}
	return status;
}
