// SPDX-License-Identifier: MIT
/*
 * lpu-sim: run an LPU program on the host, on the emulated chip's engine
 * (tools/emulator/lpu_engine.c), without a card or a driver.
 *
 * It loads and validates the program file, builds the SRAM window, writes
 * the prompt, runs the engine and prints the generated tokens; on stderr it
 * reports the cycle count, which must match the program's own prediction
 * (cycles_prologue + positions * cycles_per_token + cycles_epilogue).
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lpu_engine.h"
#include "lpu_insn.h"
#include "lpu_cli.h"
#include "lpu_program.h"
#include "lpu_tokenizer.h"

#define EXIT_FAIL	1
#define EXIT_USAGE	2

static const char *prog = "lpu-sim";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lpu-sim PROGRAM (--tokens LIST | --text STRING) [OPTIONS]\n"
"\n"
"Run an LPU program (from lpu-compile) on the host, on the engine of the\n"
"emulated card, and print the tokens it generates.\n"
"\n"
"The prompt goes to the program's prompt area (note.prompt_offset) and the\n"
"run starts with r1 = prompt length, r2 = --steps, r3 = --temperature,\n"
"r4 = --top-p and the PRNG seeded with --seed.\n"
"\n"
"Input:\n"
"  -t, --tokens LIST       prompt as token ids: 1,65,66 (commas or spaces)\n"
"  -x, --text STRING       prompt as text, encoded with the program's\n"
"                          vocabulary (.lpu.vocab) as llama2.c does: BOS\n"
"                          (token 1), a dummy-prefix space, one token per\n"
"                          UTF-8 character (byte tokens <0xXX> for\n"
"                          characters not in the vocabulary, else <unk>),\n"
"                          then BPE merges by score\n"
"Options:\n"
"  -n, --steps N           token budget: most tokens to generate (default\n"
"                          32)\n"
"      --temperature T     sampling temperature, 0 = greedy (default 0)\n"
"      --top-p P           nucleus sampling, 0 or >= 1 = off (default 0)\n"
"      --seed S            PRNG seed, 0 = the card's default (default 0)\n"
"      --print-logits      print every position's logits on stdout, one\n"
"                          line each: \"logits POS: v0 v1 ...\"\n"
"  -q, --quiet             no report on stderr\n"
"  -h, --help              this text\n"
"\n"
"Output: stdout gets the generated token ids on one line, then, when the\n"
"program has a vocabulary, the decoded text on a second line. stderr gets\n"
"the report: tokens, positions, cycles (total, per token measured as\n"
"(total - prologue - epilogue) / positions, and the note's prediction),\n"
"the time at the card's clock, the wall time of the simulation and its\n"
"tokens per second (the \"host:\" line), then, when it generated two\n"
"tokens or more, the wall time between consecutive tokens:\n"
"  host gaps: p50 X ms, p99 Y ms, p99/p50 Z (N gaps)\n"
"the median (the mean of the two middle gaps when N is even) and the 99th\n"
"percentile (nearest rank), as lpu-bench reports the streaming gaps.\n"
"\n"
"Exit status: 0 on success; 1 when the program cannot be loaded, faults\n"
"or its cycles differ from the prediction; 2 on bad usage (including a\n"
"prompt longer than the program's prompt_max or a token id out of\n"
"range).\n");
}

/* ---- tokenizer (llama2.c style, on the program's .lpu.vocab) ---- */

/*
 * Print a token's text as llama2.c does (lib/lpu_tokenizer.c decodes it:
 * <0xXX> as the byte, no leading space right after BOS), keeping only
 * printable or whitespace single bytes.
 */
static void vocab_print(const struct lpu_bpe *v, uint32_t prev,
			uint32_t tok, FILE *f)
{
	size_t len, i;
	int byte;
	const char *p = lpu_bpe_decode(v, prev, tok, &len, &byte);

	if (!p)
		return;
	if (byte >= 0) {
		if (byte == '\n' || byte == '\t' ||
		    (byte >= 0x20 && byte < 0x7f))
			fputc(byte, f);
		return;
	}
	for (i = 0; i < len; i++)
		if ((uint8_t)p[i] >= 0x20 || p[i] == '\n' || p[i] == '\t')
			fputc(p[i], f);
}

/* ---- run ---- */

/*
 * The window: anonymous memory in huge pages where the host allows, as the
 * emulated card keeps its SRAM (tools/emulator/lpu_card.c), so that the
 * engine alone and the card run on the same kind of memory (4 KiB pages
 * make a 60 MB model's weight sweeps measurably slower). Zero-filled;
 * NULL when out of memory.
 */
static uint8_t *window_alloc(uint64_t size)
{
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, (size_t)size, MADV_HUGEPAGE);
#endif
	return p;
}

struct sim_stream {
	uint32_t *tokens;
	double *times;		/* wall time (now_s()) of each token */
	uint32_t cap;
};

static double now_s(void);

static int sim_emit(void *opaque, uint32_t token, uint32_t index)
{
	struct sim_stream *s = opaque;

	if (index >= s->cap)
		return 1;	/* full */
	s->tokens[index] = token;
	s->times[index] = now_s();
	return 0;
}

static int parse_tokens(const char *s, uint32_t **out, size_t *n)
{
	size_t cap = 16, k = 0;
	uint32_t *t = malloc(cap * sizeof(*t));
	char *end;

	if (!t)
		return -ENOMEM;
	for (;;) {
		unsigned long v;

		while (*s == ',' || *s == ' ')
			s++;
		if (!*s)
			break;
		errno = 0;
		v = strtoul(s, &end, 0);
		if (errno || end == s || v > UINT32_MAX || *s == '-') {
			free(t);
			return -EINVAL;
		}
		if (k == cap) {
			uint32_t *nt = realloc(t, 2 * cap * sizeof(*t));

			if (!nt) {
				free(t);
				return -ENOMEM;
			}
			t = nt;
			cap *= 2;
		}
		t[k++] = v;
		s = end;
	}
	*out = t;
	*n = k;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Instructions of the prologue (up to its loop-entry branch) and of one
 * loop iteration, found from the code lpu-compile generates: the first
 * BLTU enters the loop, the last one closes it. 0 when the program does
 * not have that shape (--print-logits then prints the last logits only).
 */
static void find_loop(const struct lpu_program *p, uint64_t *pro,
		      uint64_t *body)
{
	struct lpu_insn_fields f;
	uint64_t i, first = UINT64_MAX, last = 0, start;

	*pro = *body = 0;
	for (i = 0; i < p->n_insns; i++) {
		lpu_insn_decode(&p->text[i], &f);
		if (f.op != LPU_OP_BLTU)
			continue;
		if (first == UINT64_MAX)
			first = i;
		last = i;
	}
	if (first == UINT64_MAX || first == last)
		return;
	lpu_insn_decode(&p->text[first], &f);
	if (f.imm < p->text_offset || (f.imm - p->text_offset) % LPU_INSN_SIZE)
		return;
	start = (f.imm - p->text_offset) / LPU_INSN_SIZE;
	if (start <= first || start > last)
		return;
	*pro = first + 1;
	*body = last - start + 1;
}

static void print_logits(const uint8_t *window, const struct lpu_program *p,
			 uint32_t pos)
{
	const uint8_t *lg = window + p->note.logits_offset;
	uint32_t i;

	printf("logits %u:", pos);
	for (i = 0; i < p->note.vocab_size; i++)
		printf(" %.9g", lpu_bits_f32(lpu_get_le32(lg + 4 * i)));
	printf("\n");
}

enum { OPT_TEMP = 256, OPT_TOPP, OPT_SEED, OPT_LOGITS };

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "tokens", required_argument, NULL, 't' },
		{ "text", required_argument, NULL, 'x' },
		{ "steps", required_argument, NULL, 'n' },
		{ "temperature", required_argument, NULL, OPT_TEMP },
		{ "top-p", required_argument, NULL, OPT_TOPP },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "print-logits", no_argument, NULL, OPT_LOGITS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tokens_arg = NULL, *text = NULL, *path;
	unsigned long steps = 32;
	double temp = 0, topp = 0;
	unsigned long long seed = 0;
	bool logits = false, quiet = false;
	struct lpu_program *p = NULL;
	struct lpu_engine e = { 0 };
	struct lpu_engine_args args = { 0 };
	struct sim_stream stream = { 0 };
	struct lpu_engine_io io = { sim_emit, &stream };
	struct lpu_bpe *vocab = NULL;
	uint32_t *prompt = NULL;
	size_t n_prompt = 0, i;
	uint8_t *window = NULL;
	uint64_t wsize, positions, pro_insns, body_insns, predicted, measured;
	enum lpu_engine_status st;
	double t0, t1;
	char err[512], *end;
	int opt, ret = EXIT_FAIL, r;

	while ((opt = getopt_long(argc, argv, "t:x:n:qh", lopts, NULL)) !=
	       -1) {
		errno = 0;
		switch (opt) {
		case 't':
			tokens_arg = optarg;
			break;
		case 'x':
			text = optarg;
			break;
		case 'n':
			steps = strtoul(optarg, &end, 0);
			if (errno || *end || end == optarg || *optarg == '-' ||
			    steps > UINT32_MAX)
				goto bad_value;
			break;
		case OPT_TEMP:
			temp = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(temp >= 0))
				goto bad_value;
			break;
		case OPT_TOPP:
			topp = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(topp >= 0))
				goto bad_value;
			break;
		case OPT_SEED:
			seed = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg || *optarg == '-')
				goto bad_value;
			break;
		case OPT_LOGITS:
			logits = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !!tokens_arg == !!text) {
		usage(stderr);
		return EXIT_USAGE;
	}
	path = argv[optind];

	r = lpu_program_open(path, 0, &p, err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s: %s\n", prog, err[0] ? err : strerror(-r));
		return EXIT_FAIL;
	}
	if (p->vocab) {
		r = lpu_bpe_new(p->vocab, p->vocab_size, p->note.vocab_size,
				&vocab, err, sizeof(err));
		if (r) {
			fprintf(stderr, "%s: %s: .lpu.vocab: %s\n", prog, path,
				err);
			goto out;
		}
	}

	if (tokens_arg) {
		r = parse_tokens(tokens_arg, &prompt, &n_prompt);
		if (r) {
			fprintf(stderr, "%s: --tokens '%s': %s\n", prog,
				tokens_arg, r == -EINVAL ?
				"not a list of token ids" : strerror(-r));
			ret = r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
			goto out;
		}
	} else {
		long nt;

		if (!p->vocab) {
			fprintf(stderr, "%s: %s has no vocabulary (.lpu.vocab): use --tokens\n",
				prog, path);
			ret = EXIT_USAGE;
			goto out;
		}
		n_prompt = strlen(text) + 2;
		prompt = malloc(n_prompt * sizeof(*prompt));
		if (!prompt || (nt = lpu_bpe_encode(vocab, text, true, prompt,
						    n_prompt)) < 0) {
			fprintf(stderr, "%s: out of memory\n", prog);
			goto out;
		}
		n_prompt = nt;
	}
	if (n_prompt == 0 || n_prompt > p->note.prompt_max) {
		fprintf(stderr, "%s: the prompt has %zu tokens; %s takes 1 to %u\n",
			prog, n_prompt, path, p->note.prompt_max);
		ret = EXIT_USAGE;
		goto out;
	}
	for (i = 0; i < n_prompt; i++) {
		if (prompt[i] >= p->note.vocab_size) {
			fprintf(stderr, "%s: token %u is out of the vocabulary (%u tokens)\n",
				prog, prompt[i], p->note.vocab_size);
			ret = EXIT_USAGE;
			goto out;
		}
	}

	/* the window: image, zeroed scratch, then the prompt */
	wsize = (p->note.sram_footprint + 63) & ~63ULL;
	window = window_alloc(wsize);
	stream.cap = steps;
	stream.tokens = malloc((steps ? steps : 1) * sizeof(uint32_t));
	stream.times = malloc((steps ? steps : 1) * sizeof(double));
	if (!window || !stream.tokens || !stream.times) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	r = lpu_program_fill_window(p, window, wsize);
	if (r) {
		fprintf(stderr, "%s: %s: cannot build the window: %s\n", prog,
			path, strerror(-r));
		goto out;
	}
	for (i = 0; i < n_prompt; i++)
		lpu_put_le32(window + p->note.prompt_offset + 4 * i, prompt[i]);

	args.prompt_len = n_prompt;
	args.budget = steps;
	args.temperature = temp;
	args.top_p = topp;
	args.seed = seed;
	r = lpu_engine_init(&e, window, wsize, p->note.entry, &args);
	if (r) {
		fprintf(stderr, "%s: engine: %s\n", prog, strerror(-r));
		goto out;
	}

	find_loop(p, &pro_insns, &body_insns);
	t0 = now_s();
	if (logits && body_insns) {
		uint32_t pos = 0;

		st = lpu_engine_run(&e, pro_insns, &io);
		while (st == LPU_ENGINE_RUNNING) {
			st = lpu_engine_run(&e, body_insns, &io);
			if (st == LPU_ENGINE_RUNNING ||
			    (st == LPU_ENGINE_HALTED && e.insns >
			     pro_insns + 1 + (uint64_t)pos * body_insns))
				print_logits(window, p, pos++);
		}
	} else {
		st = lpu_engine_run(&e, UINT64_MAX, &io);
		if (logits)
			print_logits(window, p, 0);
	}
	t1 = now_s();

	if (st != LPU_ENGINE_HALTED) {
		fprintf(stderr, "%s: %s: fault %d at pc 0x%" PRIx64 ": %s\n",
			prog, path, e.fault, e.fault_pc, e.fault_msg);
		goto out_fini;
	}

	for (i = 0; i < e.emitted; i++)
		printf("%s%u", i ? " " : "", stream.tokens[i]);
	printf("\n");
	if (p->vocab) {
		uint32_t prev = prompt[n_prompt - 1];

		for (i = 0; i < e.emitted; i++) {
			vocab_print(vocab, prev, stream.tokens[i], stdout);
			prev = stream.tokens[i];
		}
		printf("\n");
	}
	fflush(stdout);

	/* positions run: what the generated code computes in its prologue */
	positions = 0;
	if (steps) {
		uint64_t b = steps < p->note.context_len ? steps :
			     p->note.context_len;

		positions = n_prompt + b - 1;
		if (positions > p->note.context_len)
			positions = p->note.context_len;
	}
	predicted = p->note.cycles_prologue + p->note.cycles_epilogue +
		    positions * p->note.cycles_per_token;
	measured = positions ? (e.cycles - p->note.cycles_prologue -
				p->note.cycles_epilogue) / positions : 0;
	if (!quiet) {
		double card_s = (double)e.cycles / LPU_CLOCK_HZ;

		fprintf(stderr, "prompt:");
		for (i = 0; i < n_prompt; i++)
			fprintf(stderr, " %u", prompt[i]);
		fprintf(stderr, "\n");
		fprintf(stderr, "tokens: %u generated, %zu prompt, %" PRIu64 " positions\n",
			e.emitted, n_prompt, positions);
		fprintf(stderr, "cycles: %" PRIu64 " total (predicted %" PRIu64 "), %" PRIu64 " per token (predicted %" PRIu64 "), prologue %" PRIu64 ", epilogue %" PRIu64 "\n",
			e.cycles, predicted, measured,
			(uint64_t)p->note.cycles_per_token,
			(uint64_t)p->note.cycles_prologue,
			(uint64_t)p->note.cycles_epilogue);
		fprintf(stderr, "card: %.3f ms at %.0f MHz, %.1f tokens/s\n",
			card_s * 1e3, LPU_CLOCK_HZ / 1e6,
			card_s > 0 ? positions / card_s : 0.0);
		fprintf(stderr, "host: %.3f s wall, %.2f tokens/s (%.2f positions/s)\n",
			t1 - t0, t1 > t0 ? e.emitted / (t1 - t0) : 0.0,
			t1 > t0 ? positions / (t1 - t0) : 0.0);
		if (e.emitted >= 2) {
			uint32_t n = e.emitted - 1;
			double p50, p99;

			/* the gaps, in place of the times they come from */
			for (i = 0; i < n; i++)
				stream.times[i] = stream.times[i + 1] -
						  stream.times[i];
			lpu_cli_percentiles(stream.times, n, &p50, &p99);
			fprintf(stderr, "host gaps: p50 %.3f ms, p99 %.3f ms, p99/p50 %.2f (%u gaps)\n",
				p50 * 1e3, p99 * 1e3, p50 > 0 ? p99 / p50 : 0.0,
				n);
		}
	}
	/* a program without a cycle prediction is not checked */
	if (p->note.cycles_per_token && e.cycles != predicted) {
		fprintf(stderr, "%s: %s: the run took %" PRIu64 " cycles, the note predicts %" PRIu64 "\n",
			prog, path, e.cycles, predicted);
		goto out_fini;
	}
	ret = 0;
out_fini:
	lpu_engine_fini(&e);
out:
	free(stream.tokens);
	free(stream.times);
	if (window)
		munmap(window, (size_t)wsize);
	free(prompt);
	lpu_bpe_free(vocab);
	lpu_program_free(p);
	return ret;
bad_value:
	fprintf(stderr, "%s: bad value '%s'\n", prog, optarg);
	return EXIT_USAGE;
}
