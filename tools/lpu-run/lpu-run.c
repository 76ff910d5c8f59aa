// SPDX-License-Identifier: MIT
/*
 * lpu-run: run a compiled model (an LPU program file from lpu-compile) on
 * a card and stream the text it generates to stdout, token by token as the
 * card emits them; timing and the card's cycle count go to stderr.
 *
 * It is a plain liblpu application: lpu_device_open(), lpu_model_load(),
 * lpu_tokenizer_*(), lpu_stream_start()/next()/stats().
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpu.h"
#include "lpu_cli.h"
#include "lpu/lpu_prog.h"

#define EXIT_USAGE	2
#define EXIT_INTERRUPTED 130

#define TOKEN_BOS	1
#define TOKEN_EOS	2

/* How often the wait for a token looks at Ctrl-C. */
#define POLL_MS		100

static const char *prog = "lpu-run";
static volatile sig_atomic_t interrupted;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s PROGRAM [--prompt TEXT | --tokens LIST] [OPTION]...\n"
"Run a model compiled by lpu-compile on an LPU card and stream the text it\n"
"generates to standard output, each piece as soon as the card emits its\n"
"token.\n"
"\n"
"The program is loaded into the card's SRAM (liblpu lpu_model_load()),\n"
"the prompt is encoded with the program's own vocabulary (or --tokenizer)\n"
"as llama2.c does, BOS first, and the card generates up to --max-tokens\n"
"tokens after it, or fewer when the model's context ends first. Sampling\n"
"is done on the card: greedy by default, or with --temperature, --top-p\n"
"and --seed; the same options give the same tokens on every run.\n"
"\n"
"Input (default: the BOS token alone; nothing for a program that takes no\n"
"prompt):\n"
"  -p, --prompt=TEXT        the prompt as text\n"
"  -t, --tokens=LIST        the prompt as token ids, e.g. 1,65,66 (commas\n"
"                           or blanks); no tokenizer needed\n"
"Generation:\n"
"  -n, --max-tokens=N       most tokens to generate (default 256)\n"
"  -T, --temperature=T      sampling temperature, 0 = greedy (default 0)\n"
"  -P, --top-p=P            nucleus sampling in [0, 1], 0 or 1 = off\n"
"                           (default 0)\n"
"  -s, --seed=S             sampling seed, 0 = the card's default\n"
"                           (default 0)\n"
"      --ignore-eos         in text mode, go on after a BOS or EOS token\n"
"                           (by default the text ends there, as in\n"
"                           llama2.c; with --ids nothing stops early)\n"
"Output:\n"
"  -i, --ids                print the generated token ids (one line, blank-\n"
"                           separated) instead of text, without the prompt\n"
"  -q, --quiet              no statistics on standard error\n"
"Card and files:\n"
"  -d, --device=SPEC        the card: an index (\"0\"), a PCI address\n"
"                           (\"0000:00:03.0\") or a node (\"/dev/accel/accel0\");\n"
"                           default $LPU_DEVICE, else the first card\n"
"      --tokenizer=FILE     a llama2.c tokenizer.bin, for a program that\n"
"                           has no vocabulary of its own\n"
"  -h, --help               print this help and exit\n"
"\n"
"Text mode prints the prompt, then the generated text, then a newline.\n"
"Unless --quiet, standard error gets a line about the model and the card\n"
"before the run and, after it, the statistics:\n"
"\n"
"  tokens    tokens generated, time to the first token, tokens per second\n"
"            over the whole run and after the first token;\n"
"  card      the cycles the card counted for the run and the compiler's\n"
"            prediction, per position (one step of the model: prompt and\n"
"            generated positions alike) and in total, and the time they\n"
"            take at the card's clock.\n"
"\n"
"Ctrl-C stops the program on the card (lpu_stream_cancel()).\n"
"\n"
"Examples:\n"
"  lpu-run model.lpu --prompt \"Once upon a time\" --max-tokens 40\n"
"  lpu-run model.lpu --tokens 1,65,66,67 --max-tokens 24 --ids -q\n"
"\n"
"Exit status: 0 on success; 1 when the card, the program file or the run\n"
"fails (the message names the device or the file); 2 on a usage error,\n"
"including a prompt longer than the program takes or a token id outside\n"
"its vocabulary; 130 when interrupted.\n",
		prog);
}

/*
 * Report a failed liblpu call about @name (a file or a device; NULL for
 * the default card): the library's own message, which names the file or
 * device, prefixed with what we tried unless it names @name already.
 */
static void lpu_fail(int err, const char *what, const char *name)
{
	const char *msg = lpu_last_error();

	if (!msg || !*msg)
		msg = lpu_strerror(err);
	if (name && strstr(msg, name))
		lpu_cli_warn("%s", msg);
	else
		lpu_cli_warn("%s%s%s: %s", what, name ? " " : "", name ? name : "",
		      msg);
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out)
{
	char *end;
	float v;

	errno = 0;
	v = strtof(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* "1,65,66" or "1 65 66" into a new array; false if malformed. */
static bool parse_ids(const char *s, uint32_t **out, size_t *n)
{
	size_t cap = strlen(s) / 2 + 1, len = 0;
	uint32_t *ids = calloc(cap, sizeof(*ids));

	if (!ids)
		return false;
	for (;;) {
		unsigned long long v;
		char *end;

		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (!isdigit((unsigned char)*s))
			goto bad;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || v > UINT32_MAX || len == cap)
			goto bad;
		ids[len++] = (uint32_t)v;
		s = end;
		if (*s && *s != ',' && !isspace((unsigned char)*s))
			goto bad;
	}
	if (!len)
		goto bad;
	*out = ids;
	*n = len;
	return true;
bad:
	free(ids);
	return false;
}

/*
 * Print one piece of text as llama2.c's safe_printf() does: a piece that
 * is a single byte is printed only if it is printable or white space.
 */
static void put_piece(const char *piece)
{
	if (!piece || !*piece)
		return;
	if (!piece[1] && !isprint((unsigned char)piece[0]) &&
	    !isspace((unsigned char)piece[0]))
		return;
	fputs(piece, stdout);
}

struct run {
	const char *path;
	const char *device;
	const char *prompt_text;
	const char *tokenizer_path;
	uint32_t *prompt;
	size_t prompt_len;
	struct lpu_stream_options opts;
	bool ids;
	bool quiet;
	bool ignore_eos;

	struct lpu_device *dev;
	struct lpu_model *model;
	struct lpu_model_info info;
	struct lpu_device_status status;
	struct lpu_tokenizer *tok;
};

/*
 * The prompt as tokens: given, encoded from text, or by default BOS alone
 * (nothing for a program that takes no prompt, prompt_max 0).
 */
static int make_prompt(struct run *r)
{
	size_t cap;
	int n;

	if (r->prompt)
		return 0;
	if (!r->prompt_text) {
		r->prompt = malloc(sizeof(*r->prompt));
		if (!r->prompt)
			return -ENOMEM;
		r->prompt[0] = TOKEN_BOS;
		r->prompt_len = r->info.prompt_max ? 1 : 0;
		return 0;
	}
	/* BOS, the dummy-prefix space, at most one token per byte. */
	cap = strlen(r->prompt_text) + 3;
	r->prompt = calloc(cap, sizeof(*r->prompt));
	if (!r->prompt)
		return -ENOMEM;
	n = lpu_tokenizer_encode(r->tok, r->prompt_text, true, r->prompt, cap);
	if (n < 0) {
		lpu_fail(n, "cannot encode the prompt with the vocabulary of",
			 r->tokenizer_path ? r->tokenizer_path : r->path);
		return n;
	}
	r->prompt_len = (size_t)n;
	return 0;
}

/* The prompt, as text, to stdout (text mode). */
static void echo_prompt(const struct run *r)
{
	size_t i;

	if (r->prompt_text) {
		fputs(r->prompt_text, stdout);
	} else {
		for (i = 0; i < r->prompt_len; i++) {
			if (r->prompt[i] == TOKEN_BOS)
				continue;
			put_piece(lpu_tokenizer_decode(r->tok,
				i ? r->prompt[i - 1] : TOKEN_BOS,
				r->prompt[i]));
		}
	}
	fflush(stdout);
}

static void print_stats(const struct run *r, const struct lpu_stream_stats *st,
			uint32_t tokens, uint64_t t_start, uint64_t t_first,
			uint64_t t_last, const char *ended)
{
	double total_s = (double)(t_last - t_start) / 1e9;
	double ttft_ms = (double)(t_first - t_start) / 1e6;
	uint64_t positions, per_pos = 0;
	double mhz = r->status.clock_mhz;

	if (tokens) {
		/* the library's figure when it has one */
		if (st->first_token_ns)
			ttft_ms = (double)st->first_token_ns / 1e6;
		fprintf(stderr, "%s: %" PRIu32 " tokens in %.1f ms: first "
			"after %.1f ms, %.1f tokens/s overall", prog, tokens,
			total_s * 1e3, ttft_ms,
			total_s > 0 ? tokens / total_s : 0.0);
		if (tokens > 1 && t_last > t_first)
			fprintf(stderr, ", %.1f tokens/s after the first",
				(tokens - 1) / ((double)(t_last - t_first) /
						1e9));
		fprintf(stderr, "%s%s\n", ended ? "; " : "",
			ended ? ended : "");
	} else {
		fprintf(stderr, "%s: no tokens%s%s\n", prog,
			ended ? "; " : "", ended ? ended : "");
	}

	if (st->state != LPU_STREAM_STATE_DONE) {
		fprintf(stderr, "%s: card: the run did not finish, no cycle "
			"count\n", prog);
		return;
	}
	/* positions run: the prompt (as the card took it) plus all but the
	 * last generated token */
	positions = r->prompt_len < r->info.prompt_max ?
		    r->prompt_len : r->info.prompt_max;
	positions = tokens ? positions + tokens - 1 : 0;
	/* a hand-written program has no per-position figure to compare */
	if (!r->info.cycles_per_token)
		positions = 0;
	if (positions && st->cycles >= r->info.cycles_prologue +
	    r->info.cycles_epilogue)
		per_pos = (st->cycles - r->info.cycles_prologue -
			   r->info.cycles_epilogue) / positions;
	fprintf(stderr, "%s: card: %" PRIu64 " cycles", prog, st->cycles);
	if (st->predicted_cycles)
		fprintf(stderr, " (compiler: %" PRIu64 "%s)",
			st->predicted_cycles,
			st->predicted_cycles == st->cycles ? ", exact" : "");
	else
		fprintf(stderr, " (no compiler prediction)");
	if (positions)
		fprintf(stderr, ", %" PRIu64 " per position (compiler: %"
			PRIu64 ") over %" PRIu64 " positions", per_pos,
			r->info.cycles_per_token, positions);
	if (mhz > 0) {
		fprintf(stderr, "; %.3f ms at %.0f MHz",
			(double)st->cycles / mhz / 1e3, mhz);
		if (per_pos)
			fprintf(stderr, " (%.0f tokens/s)",
				mhz * 1e6 / (double)per_pos);
	}
	fprintf(stderr, "\n");
}

/* Stream the tokens. Returns the exit status. */
static int generate(struct run *r)
{
	struct lpu_stream_stats st = { .size = sizeof(st) };
	struct lpu_stream *stream;
	uint64_t t_start, t_first = 0, t_last;
	uint32_t prev, tokens = 0, token;
	const char *ended = NULL;
	bool cancelled = false;
	int ret, status = EXIT_SUCCESS;

	if (!r->ids)
		echo_prompt(r);
	prev = r->prompt_len ? r->prompt[r->prompt_len - 1] : TOKEN_BOS;
	t_start = lpu_cli_now_ns();
	ret = lpu_stream_start(r->model, r->prompt, r->prompt_len, &r->opts,
			       &stream);
	if (ret) {
		if (!r->ids)
			fputc('\n', stdout);
		lpu_fail(ret, "cannot start", r->path);
		return EXIT_FAILURE;
	}
	t_last = t_start;
	for (;;) {
		ret = lpu_stream_next(stream, &token, POLL_MS);
		if (ret == -ETIMEDOUT || ret == -EINTR) {
			if (interrupted && !cancelled) {
				lpu_stream_cancel(stream);
				cancelled = true;
			}
			continue;
		}
		if (ret <= 0)
			break;
		t_last = lpu_cli_now_ns();
		if (!tokens)
			t_first = t_last;
		tokens++;
		if (r->ids) {
			printf("%s%" PRIu32, tokens > 1 ? " " : "", token);
		} else if (!r->ignore_eos &&
			   (token == TOKEN_BOS || token == TOKEN_EOS)) {
			ended = token == TOKEN_EOS ?
				"stopped at the end-of-sequence token" :
				"stopped at a begin-of-sequence token";
			lpu_stream_cancel(stream);
			cancelled = true;
			ret = 0;
			break;
		} else {
			put_piece(lpu_tokenizer_decode(r->tok, prev, token));
		}
		fflush(stdout);
		prev = token;
	}
	putchar('\n');
	fflush(stdout);

	if (lpu_stream_stats(stream, &st))
		memset(&st, 0, sizeof(st));
	if (ret == -ECANCELED && interrupted) {
		ended = "interrupted";
		status = EXIT_INTERRUPTED;
	} else if (ret < 0 && ret != -ECANCELED) {
		const char *msg = lpu_last_error();

		lpu_cli_warn("%s on %s: the run failed after %" PRIu32 " tokens: %s",
		      r->path, lpu_device_node(r->dev), tokens,
		      msg && *msg ? msg : lpu_strerror(ret));
		if (st.state == LPU_STREAM_STATE_FAULT)
			lpu_cli_warn("%s: fault %" PRIu32 " at 0x%" PRIx32, r->path,
			      st.fault, st.fault_pc);
		status = EXIT_FAILURE;
	} else if (ret == -ECANCELED && !ended) {
		ended = "cancelled";
	}
	if (!r->quiet)
		print_stats(r, &st, tokens, t_start, t_first ? t_first : t_last,
			    t_last, ended);
	lpu_stream_free(stream);
	return status;
}

static void describe(const struct run *r)
{
	const struct lpu_model_info *i = &r->info;
	const char *pci = lpu_device_pci_address(r->dev);

	bool mib = i->sram_footprint >= (1 << 20);

	fprintf(stderr, "%s: %s on %s%s%s%s: %s, %.1f %s of SRAM, vocabulary "
		"%" PRIu32 ", context %" PRIu32 "; prompt %zu tokens, up to %"
		PRIu32 " new\n", prog, r->path, lpu_device_node(r->dev),
		pci ? " (PCI " : "", pci ? pci : "", pci ? ")" : "",
		i->flags & LPU_PROG_INT8 ? "int8" : "f32",
		(double)i->sram_footprint / (mib ? 1 << 20 : 1 << 10),
		mib ? "MiB" : "KiB", i->vocab_size, i->context_len,
		r->prompt_len, r->opts.max_tokens);
}

int main(int argc, char **argv)
{
	enum { OPT_TOKENIZER = 256, OPT_IGNORE_EOS };
	static const struct option opts[] = {
		{ "prompt", required_argument, NULL, 'p' },
		{ "tokens", required_argument, NULL, 't' },
		{ "max-tokens", required_argument, NULL, 'n' },
		{ "temperature", required_argument, NULL, 'T' },
		{ "top-p", required_argument, NULL, 'P' },
		{ "seed", required_argument, NULL, 's' },
		{ "ignore-eos", no_argument, NULL, OPT_IGNORE_EOS },
		{ "ids", no_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "device", required_argument, NULL, 'd' },
		{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r = {
		.opts = {
			.size = sizeof(r.opts),
			.max_tokens = 256,
			.queue = -1,
		},
	};
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t v;
	size_t i;
	int c, ret, status;

	if (argc > 0 && argv[0] && *argv[0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	lpu_cli_set_prog(prog);
	r.device = getenv("LPU_DEVICE");
	while ((c = getopt_long(argc, argv, "p:t:n:T:P:s:iqd:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			r.prompt_text = optarg;
			break;
		case 't':
			free(r.prompt);
			if (!parse_ids(optarg, &r.prompt, &r.prompt_len))
				lpu_cli_usage_error("invalid token list '%s' (token "
					    "ids like 1,65,66)", optarg);
			break;
		case 'n':
			if (!parse_u64(optarg, UINT32_MAX, &v) || !v)
				lpu_cli_usage_error("invalid --max-tokens '%s' (1 to "
					    "%" PRIu32 ")", optarg, UINT32_MAX);
			r.opts.max_tokens = (uint32_t)v;
			break;
		case 'T':
			if (!parse_float(optarg, 0.0f, 1e6f,
					 &r.opts.temperature))
				lpu_cli_usage_error("invalid --temperature '%s' (a "
					    "number >= 0)", optarg);
			break;
		case 'P':
			if (!parse_float(optarg, 0.0f, 1.0f, &r.opts.top_p))
				lpu_cli_usage_error("invalid --top-p '%s' (0 to 1)",
					    optarg);
			break;
		case 's':
			if (!parse_u64(optarg, UINT64_MAX, &v))
				lpu_cli_usage_error("invalid --seed '%s'", optarg);
			r.opts.seed = v;
			break;
		case OPT_IGNORE_EOS:
			r.ignore_eos = true;
			break;
		case 'i':
			r.ids = true;
			break;
		case 'q':
			r.quiet = true;
			break;
		case 'd':
			r.device = optarg;
			break;
		case OPT_TOKENIZER:
			r.tokenizer_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n",
				prog);
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		lpu_cli_usage_error("no program file given");
	if (optind + 1 < argc)
		lpu_cli_usage_error("unexpected argument '%s'", argv[optind + 1]);
	r.path = argv[optind];
	if (r.prompt && r.prompt_text)
		lpu_cli_usage_error("--prompt and --tokens: give one of them");

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ret = lpu_device_open(r.device, &r.dev);
	if (ret) {
		lpu_fail(ret, "cannot open the LPU card",
			 r.device && *r.device ? r.device : NULL);
		return EXIT_FAILURE;
	}
	r.status.size = sizeof(r.status);
	if (lpu_device_query(r.dev, &r.status))
		r.status.clock_mhz = 0;	/* only used for the statistics */
	ret = lpu_model_load(r.dev, r.path, &r.model);
	if (ret) {
		lpu_fail(ret, "cannot load", r.path);
		status = EXIT_FAILURE;
		goto out_dev;
	}
	r.info.size = sizeof(r.info);
	ret = lpu_model_info(r.model, &r.info);
	if (ret) {
		lpu_fail(ret, "cannot read the description of", r.path);
		status = EXIT_FAILURE;
		goto out_model;
	}

	/* A vocabulary: for the text in and out (not for ids only). */
	if (r.tokenizer_path)
		ret = lpu_tokenizer_load(r.tokenizer_path, r.info.vocab_size,
					 &r.tok);
	else if (r.prompt_text || !r.ids)
		ret = lpu_tokenizer_from_model(r.model, &r.tok);
	else
		ret = 0;
	if (ret == -ENOENT && !r.tokenizer_path) {
		lpu_cli_warn("%s has no vocabulary: give --tokenizer FILE, or use "
		      "--tokens and --ids", r.path);
		status = EXIT_USAGE;
		goto out_model;
	} else if (ret) {
		lpu_fail(ret, "cannot load the vocabulary of",
			 r.tokenizer_path ? r.tokenizer_path : r.path);
		status = EXIT_FAILURE;
		goto out_model;
	}

	if (make_prompt(&r)) {
		status = EXIT_FAILURE;
		goto out_tok;
	}
	if (r.prompt_len > r.info.prompt_max) {
		lpu_cli_warn("the prompt has %zu tokens, %s takes at most %" PRIu32,
		      r.prompt_len, r.path, r.info.prompt_max);
		status = EXIT_USAGE;
		goto out_tok;
	}
	for (i = 0; i < r.prompt_len; i++) {
		if (r.prompt[i] >= r.info.vocab_size) {
			lpu_cli_warn("prompt token %" PRIu32 " is outside the "
			      "vocabulary of %s (%" PRIu32 " tokens)",
			      r.prompt[i], r.path, r.info.vocab_size);
			status = EXIT_USAGE;
			goto out_tok;
		}
	}
	if (!r.quiet)
		describe(&r);
	status = generate(&r);

out_tok:
	if (r.tok)
		lpu_tokenizer_free(r.tok);
out_model:
	lpu_model_unload(r.model);
out_dev:
	lpu_device_close(r.dev);
	free(r.prompt);
	return status;
}
