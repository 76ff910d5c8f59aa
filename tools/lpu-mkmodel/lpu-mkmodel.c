// SPDX-License-Identifier: MIT
/*
 * lpu-mkmodel: make a small random Llama-2 model in the llama2.c checkpoint
 * format, and optionally a matching llama2.c tokenizer.bin. Everything is
 * a pure function of the command line: the same options give the same
 * bytes on every machine.
 *
 * Random numbers: SplitMix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): state += 0x9e3779b97f4a7c15;
 * z = state; z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9;
 * z = (z ^ z >> 27) * 0x94d049bb133111eb; out = z ^ z >> 31. The initial
 * state is the seed. A uniform float in [-1, 1) is (out >> 40) / 2^23 - 1.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mk_opts {
	long dim, hidden_dim, layers, heads, kv_heads, vocab, seq_len;
	int shared;
	uint64_t seed;
	const char *out;
	const char *tokenizer;
};

static uint64_t mk_rng_state;

static uint64_t mk_rng_next(void)
{
	uint64_t z;

	mk_rng_state += 0x9e3779b97f4a7c15ULL;
	z = mk_rng_state;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [-1, 1), exactly representable */
static float mk_rng_sym(void)
{
	return (float)(mk_rng_next() >> 40) / 8388608.0f - 1.0f;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lpu-mkmodel [OPTIONS] -o MODEL.bin\n"
"\n"
"Make a random Llama-2 model in the llama2.c checkpoint format: a header of\n"
"seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,\n"
"seq_len; vocab_size negative when the classifier has its own weights) and\n"
"the f32 weights in llama2.c order. The output depends only on the options.\n"
"\n"
"Weights: every matrix is uniform in [-a, a) with a = sqrt(3 / fan_in)\n"
"(fan_in = its columns; unit variance out for unit variance in), the token\n"
"embedding is uniform in [-0.1, 0.1) and the norm weights in [0.9, 1.1).\n"
"A small embedding keeps a tied classifier from simply repeating its input\n"
"token. The legacy RoPE tables hold the real cos/sin values (theta 10000),\n"
"so older llama2.c readers work too.\n"
"\n"
"Options:\n"
"  -o, --output FILE     checkpoint to write (required)\n"
"      --dim N           model width (default 64)\n"
"      --hidden-dim N    feed-forward width (default 172)\n"
"      --layers N        transformer layers (default 5)\n"
"      --heads N         query heads (default 8); dim/heads must be even\n"
"      --kv-heads N      key/value heads, divides --heads (default: heads)\n"
"      --vocab N         vocabulary size (default 512)\n"
"      --seq-len N       context length (default 512)\n"
"      --shared          classifier shares the embedding table (default)\n"
"      --unshared        classifier has its own weights (wcls)\n"
"      --seed N          random seed (default 1)\n"
"      --tokenizer FILE  also write a llama2.c tokenizer.bin for the vocab:\n"
"                        <unk>, \\n<s>\\n, \\n</s>\\n, then (vocab >= 354) the\n"
"                        256 byte tokens <0x00>..<0xFF>, then printable\n"
"                        ASCII characters, then merged pieces (English\n"
"                        words built prefix by prefix, then random pairs)\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 on success, 1 on a write error, 2 on bad options.\n");
}

static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int write_floats(FILE *f, const float *v, size_t n)
{
	return fwrite(v, sizeof(float), n, f) == n ? 0 : -1;
}

/* n floats uniform in [-scale, scale) */
static int write_uniform(FILE *f, float *buf, size_t n, float scale)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = mk_rng_sym() * scale;
	return write_floats(f, buf, n);
}

/* n floats uniform in [0.9, 1.1) */
static int write_norm(FILE *f, float *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = 1.0f + 0.1f * mk_rng_sym();
	return write_floats(f, buf, n);
}

static int write_model(const struct mk_opts *o)
{
	size_t dim = o->dim, hid = o->hidden_dim, nl = o->layers;
	size_t hs = dim / o->heads, kvd = hs * o->kv_heads, voc = o->vocab;
	size_t biggest, i, p;
	float sd = sqrtf(3.0f / dim), sh = sqrtf(3.0f / hid);
	int32_t hdr[7];
	float *buf;
	FILE *f;
	int bad = 0;

	biggest = voc * dim;
	if (nl * hid * dim > biggest)
		biggest = nl * hid * dim;
	if (nl * dim * dim > biggest)
		biggest = nl * dim * dim;
	if (o->seq_len * hs / 2 > biggest)
		biggest = o->seq_len * hs / 2;
	buf = malloc(biggest * sizeof(float));
	if (!buf) {
		fprintf(stderr, "lpu-mkmodel: out of memory\n");
		return 1;
	}
	f = fopen(o->out, "wb");
	if (!f) {
		fprintf(stderr, "lpu-mkmodel: %s: %s\n", o->out, strerror(errno));
		free(buf);
		return 1;
	}

	hdr[0] = dim;
	hdr[1] = hid;
	hdr[2] = nl;
	hdr[3] = o->heads;
	hdr[4] = o->kv_heads;
	hdr[5] = o->shared ? (int32_t)voc : -(int32_t)voc;
	hdr[6] = o->seq_len;
	bad |= fwrite(hdr, sizeof(hdr), 1, f) != 1;

	bad |= write_uniform(f, buf, voc * dim, 0.1f);	/* embedding */
	bad |= write_norm(f, buf, nl * dim);		/* rms_att_weight */
	bad |= write_uniform(f, buf, nl * dim * dim, sd);	/* wq */
	bad |= write_uniform(f, buf, nl * kvd * dim, sd);	/* wk */
	bad |= write_uniform(f, buf, nl * kvd * dim, sd);	/* wv */
	bad |= write_uniform(f, buf, nl * dim * dim, sd);	/* wo */
	bad |= write_norm(f, buf, nl * dim);		/* rms_ffn_weight */
	bad |= write_uniform(f, buf, nl * hid * dim, sd);	/* w1 */
	bad |= write_uniform(f, buf, nl * dim * hid, sh);	/* w2 */
	bad |= write_uniform(f, buf, nl * hid * dim, sd);	/* w3 */
	bad |= write_norm(f, buf, dim);		/* rms_final_weight */
	/* legacy freq_cis_real then freq_cis_imag, (seq_len, head_size/2) */
	for (i = 0; i < 2; i++) {
		for (p = 0; p < (size_t)o->seq_len * hs / 2; p++) {
			size_t pos = p / (hs / 2), j = p % (hs / 2);
			double a = pos * pow(10000.0, -(2.0 * j) / hs);

			buf[p] = (float)(i == 0 ? cos(a) : sin(a));
		}
		bad |= write_floats(f, buf, o->seq_len * hs / 2);
	}
	if (!o->shared)
		bad |= write_uniform(f, buf, voc * dim, sd);	/* wcls */

	if (fclose(f))
		bad = 1;
	free(buf);
	if (bad) {
		fprintf(stderr, "lpu-mkmodel: %s: write failed\n", o->out);
		remove(o->out);
		return 1;
	}
	return 0;
}

/* ---- tokenizer ---- */

#define MK_PIECE_MAX	16	/* longest merged piece, bytes */

struct mk_vocab {
	char **piece;
	float *score;
	size_t n, cap;
	/* open-addressing hash set of pieces: index + 1, 0 = empty */
	uint32_t *slot;
	size_t nslots;
};

static uint32_t mk_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int mk_vocab_has(const struct mk_vocab *v, const char *s)
{
	size_t i = mk_hash(s) & (v->nslots - 1);

	while (v->slot[i]) {
		if (!strcmp(v->piece[v->slot[i] - 1], s))
			return 1;
		i = (i + 1) & (v->nslots - 1);
	}
	return 0;
}

/* 1 added, 0 already present or full, -1 out of memory */
static int mk_vocab_add(struct mk_vocab *v, const char *s, float score)
{
	size_t i;

	if (v->n == v->cap || mk_vocab_has(v, s))
		return 0;
	v->piece[v->n] = strdup(s);
	if (!v->piece[v->n])
		return -1;
	v->score[v->n] = score;
	i = mk_hash(s) & (v->nslots - 1);
	while (v->slot[i])
		i = (i + 1) & (v->nslots - 1);
	v->slot[i] = ++v->n;
	return 1;
}

/* Frequent-first printable ASCII, then the rest of 0x20..0x7e. */
static const char mk_chars[] =
	" etaoinshrdlcumwfgypbvkjxqz.,'\"!?"
	"ETAOINSHRDLCUMWFGYPBVKJXQZ0123456789-:;()";

/* Words whose prefixes become merged pieces, most frequent first. */
static const char *const mk_words[] = {
	" the", " and", " a", " to", " was", " he", " she", " it", " of",
	" in", " her", " they", " said", " with", " his", " you", " day",
	" Once", " upon", " time", " there", " little", " girl", " boy",
	" named", " Lily", " Tim", " Ben", " play", " played", " happy",
	" friend", " friends", " mom", " dad", " big", " saw", " went",
	" had", " were", " not", " on", " that", " for", " very", " wanted",
	" ball", " tree", " dog", " cat", " bird", " sun", " fun", " park",
	" toy", " home", " look", " looked", " help", " can", " could",
	" one", " all", " so", " is", " at", " up", " be", " do", " like",
	" loved", " found", " came", " made", " new", " good", " what",
	" them", " him", " we", " are", " but", " then", " When", " The",
	" He", " She", " They", " from", " out", " see", " go", " red",
	" blue", " sad", " smiled", " together", " learned", " lesson",
	"ing", "ed", "er", "ly", "es", "en", "an", "on", "or", "ar", "th",
	"he", "in", "at", "re", "st", "nd", ". ", ", ", "!\"", ".\"",
};

static int mk_build_vocab(struct mk_vocab *v, size_t vocab)
{
	char buf[2 * MK_PIECE_MAX + 8];
	size_t i, j, first_text, tries;
	float rank = 0.0f;
	int r;

	v->cap = vocab;
	v->nslots = 1;
	while (v->nslots < 2 * vocab)
		v->nslots <<= 1;
	v->piece = calloc(vocab, sizeof(*v->piece));
	v->score = calloc(vocab, sizeof(*v->score));
	v->slot = calloc(v->nslots, sizeof(*v->slot));
	if (!v->piece || !v->score || !v->slot)
		return -1;

	if (mk_vocab_add(v, "<unk>", 0) < 0 ||
	    mk_vocab_add(v, "\n<s>\n", 0) < 0 ||
	    mk_vocab_add(v, "\n</s>\n", 0) < 0)
		return -1;
	/* byte tokens at 3 + byte, as llama2.c's byte fallback expects */
	if (vocab >= 3 + 256 + 95) {
		for (i = 0; i < 256; i++) {
			snprintf(buf, sizeof(buf), "<0x%02X>", (unsigned int)i);
			if (mk_vocab_add(v, buf, 0) < 0)
				return -1;
		}
	}
	first_text = v->n;
	for (i = 0; mk_chars[i]; i++) {
		buf[0] = mk_chars[i];
		buf[1] = 0;
		if (mk_vocab_add(v, buf, 0) < 0)
			return -1;
	}
	for (i = 0x20; i < 0x7f; i++) {
		buf[0] = (char)i;
		buf[1] = 0;
		if (mk_vocab_add(v, buf, 0) < 0)
			return -1;
	}
	/* every prefix (2 bytes and longer) of each word, so BPE reaches it */
	for (i = 0; i < sizeof(mk_words) / sizeof(mk_words[0]); i++) {
		size_t len = strlen(mk_words[i]);

		for (j = 2; j <= len; j++) {
			memcpy(buf, mk_words[i], j);
			buf[j] = 0;
			r = mk_vocab_add(v, buf, rank - 1.0f);
			if (r < 0)
				return -1;
			rank -= r;
		}
	}
	/* fill up with merges of two random text pieces */
	for (tries = 0; v->n < vocab; tries++) {
		size_t a, b, ntext = v->n - first_text;

		if (tries > 1000 * vocab + 100000)
			return -2;
		a = first_text + mk_rng_next() % ntext;
		b = first_text + mk_rng_next() % ntext;
		if (strlen(v->piece[a]) + strlen(v->piece[b]) > MK_PIECE_MAX)
			continue;
		snprintf(buf, sizeof(buf), "%s%s", v->piece[a], v->piece[b]);
		r = mk_vocab_add(v, buf, rank - 1.0f);
		if (r < 0)
			return -1;
		rank -= r;
	}
	return 0;
}

static int write_tokenizer(const struct mk_opts *o)
{
	struct mk_vocab v = { 0 };
	uint32_t maxlen = 0;
	size_t i;
	FILE *f;
	int bad = 0, r;

	r = mk_build_vocab(&v, o->vocab);
	if (r) {
		fprintf(stderr, "lpu-mkmodel: %s\n", r == -1 ?
			"out of memory" : "cannot fill the vocabulary");
		bad = 1;
		goto out;
	}
	for (i = 0; i < v.n; i++)
		if (strlen(v.piece[i]) > maxlen)
			maxlen = strlen(v.piece[i]);
	f = fopen(o->tokenizer, "wb");
	if (!f) {
		fprintf(stderr, "lpu-mkmodel: %s: %s\n", o->tokenizer,
			strerror(errno));
		bad = 1;
		goto out;
	}
	bad |= fwrite(&maxlen, 4, 1, f) != 1;
	for (i = 0; i < v.n; i++) {
		int32_t len = strlen(v.piece[i]);

		bad |= fwrite(&v.score[i], 4, 1, f) != 1;
		bad |= fwrite(&len, 4, 1, f) != 1;
		bad |= fwrite(v.piece[i], 1, len, f) != (size_t)len;
	}
	if (fclose(f))
		bad = 1;
	if (bad) {
		fprintf(stderr, "lpu-mkmodel: %s: write failed\n",
			o->tokenizer);
		remove(o->tokenizer);
	}
out:
	for (i = 0; i < v.n; i++)
		free(v.piece[i]);
	free(v.piece);
	free(v.score);
	free(v.slot);
	return bad;
}

enum {
	OPT_DIM = 256, OPT_HIDDEN, OPT_LAYERS, OPT_HEADS, OPT_KV_HEADS,
	OPT_VOCAB, OPT_SEQ_LEN, OPT_SHARED, OPT_UNSHARED, OPT_SEED,
	OPT_TOKENIZER,
};

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "dim", required_argument, NULL, OPT_DIM },
		{ "hidden-dim", required_argument, NULL, OPT_HIDDEN },
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "heads", required_argument, NULL, OPT_HEADS },
		{ "kv-heads", required_argument, NULL, OPT_KV_HEADS },
		{ "vocab", required_argument, NULL, OPT_VOCAB },
		{ "seq-len", required_argument, NULL, OPT_SEQ_LEN },
		{ "shared", no_argument, NULL, OPT_SHARED },
		{ "unshared", no_argument, NULL, OPT_UNSHARED },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mk_opts o = {
		.dim = 64, .hidden_dim = 172, .layers = 5, .heads = 8,
		.kv_heads = 0, .vocab = 512, .seq_len = 512, .shared = 1,
		.seed = 1,
	};
	const long big = 1L << 20;
	long seed;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "o:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case OPT_DIM:
			bad |= parse_num(optarg, 2, big, &o.dim);
			break;
		case OPT_HIDDEN:
			bad |= parse_num(optarg, 1, big, &o.hidden_dim);
			break;
		case OPT_LAYERS:
			bad |= parse_num(optarg, 1, 4096, &o.layers);
			break;
		case OPT_HEADS:
			bad |= parse_num(optarg, 1, 4096, &o.heads);
			break;
		case OPT_KV_HEADS:
			bad |= parse_num(optarg, 1, 4096, &o.kv_heads);
			break;
		case OPT_VOCAB:
			bad |= parse_num(optarg, 1, INT32_MAX, &o.vocab);
			break;
		case OPT_SEQ_LEN:
			bad |= parse_num(optarg, 1, big, &o.seq_len);
			break;
		case OPT_SHARED:
			o.shared = 1;
			break;
		case OPT_UNSHARED:
			o.shared = 0;
			break;
		case OPT_SEED:
			bad |= parse_num(optarg, 0, LONG_MAX, &seed);
			o.seed = seed;
			break;
		case OPT_TOKENIZER:
			o.tokenizer = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "lpu-mkmodel: bad value '%s'\n",
				optarg);
			return 2;
		}
	}
	if (optind != argc || !o.out) {
		usage(stderr);
		return 2;
	}
	if (!o.kv_heads)
		o.kv_heads = o.heads;
	if (o.dim % o.heads || (o.dim / o.heads) % 2 ||
	    o.heads % o.kv_heads) {
		fprintf(stderr, "lpu-mkmodel: dim %ld, heads %ld, kv-heads %ld:"
			" need dim/heads even and heads a multiple of"
			" kv-heads\n", o.dim, o.heads, o.kv_heads);
		return 2;
	}
	if (o.tokenizer && o.vocab < 4) {
		fprintf(stderr, "lpu-mkmodel: a tokenizer needs --vocab >= 4\n");
		return 2;
	}

	mk_rng_state = o.seed;
	if (write_model(&o))
		return 1;
	/* the tokenizer has its own stream, so it does not shift weights */
	mk_rng_state = o.seed ^ 0x746f6b656e697aULL;
	if (o.tokenizer && write_tokenizer(&o))
		return 1;
	return 0;
}
