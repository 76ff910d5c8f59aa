// SPDX-License-Identifier: MIT
/*
 * Example: generate text with liblpu.
 *
 *   stream MODEL.lpu ["prompt text" [MAX_TOKENS [DEVICE]]]
 *
 * Opens a card (DEVICE: an index, PCI address or node path; default the
 * first), loads the model, encodes the prompt with the model's own
 * vocabulary, streams the generated tokens and prints their text as they
 * arrive, then the run's statistics.
 *
 * Build: cc stream.c $(pkg-config --cflags --libs lpu)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lpu.h>

#define MAX_PROMPT	1024

static int fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n  %s\n", what, lpu_strerror(err),
		lpu_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	const char *text = argc > 2 ? argv[2] : "Once upon a time";
	struct lpu_stream_options opts = { .size = sizeof(opts), .queue = -1 };
	struct lpu_stream_stats stats = { .size = sizeof(stats) };
	struct lpu_tokenizer *tok = NULL;
	struct lpu_stream *stream = NULL;
	struct lpu_model *model = NULL;
	struct lpu_device *dev = NULL;
	static uint32_t prompt[MAX_PROMPT];
	uint32_t token, prev;
	int n, r, ret = 1;

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: %s MODEL.lpu [\"prompt\" [MAX_TOKENS [DEVICE]]]\n",
			argv[0]);
		return 2;
	}
	opts.max_tokens = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 64;

	r = lpu_device_open(argc > 4 ? argv[4] : NULL, &dev);
	if (r)
		return fail("opening the card", r);
	r = lpu_model_load(dev, argv[1], &model);
	if (r) {
		fail("loading the model", r);
		goto out;
	}
	r = lpu_tokenizer_from_model(model, &tok);
	if (r) {
		fail("the model's vocabulary", r);
		goto out;
	}
	n = lpu_tokenizer_encode(tok, text, true, prompt, MAX_PROMPT);
	if (n < 0) {
		fail("encoding the prompt", n);
		goto out;
	}
	r = lpu_stream_start(model, prompt, (size_t)n, &opts, &stream);
	if (r) {
		fail("starting the stream", r);
		goto out;
	}

	/* the tokens, as they come: each is one read of the mapped stream */
	printf("%s", text);
	prev = prompt[n - 1];
	while ((r = lpu_stream_next(stream, &token, 10000)) == 1) {
		const char *piece = lpu_tokenizer_decode(tok, prev, token);

		fputs(piece ? piece : "?", stdout);
		fflush(stdout);
		prev = token;
	}
	printf("\n");
	if (r < 0) {
		fail("streaming", r);
		goto out;
	}

	r = lpu_stream_stats(stream, &stats);
	if (r) {
		fail("statistics", r);
		goto out;
	}
	fprintf(stderr,
		"%" PRIu32 " tokens, %" PRIu64 " cycles (predicted %" PRIu64 "), first token after %.3f ms, %.3f ms in all\n",
		stats.tokens, stats.cycles, stats.predicted_cycles,
		stats.first_token_ns / 1e6, stats.elapsed_ns / 1e6);
	ret = 0;
out:
	lpu_stream_free(stream);
	lpu_tokenizer_free(tok);
	lpu_model_unload(model);
	lpu_device_close(dev);
	return ret;
}
