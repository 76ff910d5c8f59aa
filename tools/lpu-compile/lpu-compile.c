// SPDX-License-Identifier: MIT
/*
 * lpu-compile: compile a llama2.c checkpoint into an LPU program.
 *
 * The program keeps the whole model in its SRAM window and runs one
 * straight-line block of instructions per position, so every run's cycle
 * count is cycles_prologue + positions * cycles_per_token +
 * cycles_epilogue, exactly. Documentation/compiler.rst describes the
 * checkpoint format, the window layout and the generated code.
 *
 * Copyright (C) 2026 The lpu authors
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpu_insn.h"
#include "lpu_program.h"

#define CC_ALIGN	64		/* alignment of every tensor */
#define CC_RMS_EPS	1e-5f
#define CC_ROPE_THETA	10000.0f
#define CC_SRAM_DEFAULT	(230ULL << 20)	/* a GroqChip's ~230 MB */
#define MIB		(1024.0 * 1024.0)

/* Registers of the generated code (r1..r4 are set by the card at start). */
enum {
	R_ZERO = 0,	/* never written: 0 */
	R_PLEN = LPU_REG_PROMPT_LEN,	/* prompt length, clamped */
	R_BUDGET = LPU_REG_BUDGET,
	R_TEMP = LPU_REG_TEMPERATURE,
	R_TOPP = LPU_REG_TOP_P,
	R_POS = 5,	/* current position */
	R_END = 6,	/* positions to run */
	R_TOK = 7,	/* input token of the current position */
	R_NEXT = 8,	/* pos + 1 */
	R_T0 = 9,	/* temporaries */
	R_T1 = 10,
	R_T2 = 11,
	R_T3 = 12,
	R_GEN = 13,	/* 1 when the chosen token is a generated one */
	R_PLAST = 14,	/* prompt length - 1 */
};

struct cc_config {
	uint32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size;
	uint32_t seq_len;
	bool shared;
	uint32_t head_size, kv_dim;
};

/* Pointers into the mapped checkpoint, llama2.c order. */
struct cc_weights {
	const float *embed, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn;
	const float *w1, *w2, *w3, *rms_final, *wcls;
};

/* A matrix in the window: f32, or int8 with one f32 scale per row. */
struct cc_mat {
	uint32_t off;		/* f32 matrix, or int8 matrix */
	uint32_t scales;	/* int8 only */
	uint32_t rows, cols;
};

struct cc_layer_addr {
	uint32_t rms_att, rms_ffn;
	struct cc_mat wq, wk, wv, wo, w1, w2, w3;
	uint32_t kcache, vcache;
};

struct cc_layout {
	uint64_t text_off, text_size;
	uint64_t image_off, image_size;
	uint64_t scratch_off, scratch_size;
	uint64_t footprint;
	/* weights */
	uint32_t embed, rms_final;
	struct cc_mat wcls;
	struct cc_layer_addr *layers;
	/* activations */
	uint32_t x, xb, xb2, att, q, k, v, hb, hb2, logits, prompt;
};

struct cc {
	struct cc_config cfg;
	struct cc_weights w;
	bool int8;
	uint32_t ctx;		/* positions compiled for, <= seq_len */
	uint32_t prompt_max;
	struct cc_layout lay;
	struct lpu_insn *text;
	size_t n_insns, cap_insns;
	size_t loop_start;	/* index of the first loop instruction */
	size_t loop_end;	/* index of the epilogue's first instruction */
	size_t early_halt;	/* index of the HALT of a 0-position run */
	bool oom;
};

static const char *prog = "lpu-compile";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lpu-compile [OPTIONS] CHECKPOINT -o PROGRAM\n"
"\n"
"Compile a Llama-2 model in the llama2.c checkpoint format into an LPU\n"
"program file (an ELF64 file; see uapi/lpu/lpu_prog.h).\n"
"\n"
"The program keeps every weight in card SRAM and runs one straight-line\n"
"block of instructions per position: embed the token, run every layer\n"
"(RMSNorm, q/k/v, RoPE, KV cache store, attention, output projection,\n"
"residual, RMSNorm, SwiGLU feed-forward, residual), final RMSNorm and\n"
"classifier, then choose the next input: the next prompt token while the\n"
"prompt lasts, else a token sampled from the logits (argmax when the\n"
"temperature is 0), which is emitted to the host. The run covers\n"
"min(prompt_len + budget - 1, context) positions, so it emits up to\n"
"`budget` tokens. A prompt longer than --prompt-max is cut to its first\n"
"--prompt-max tokens; a prompt of 0 tokens or a budget of 0 runs no\n"
"position and emits nothing. A prompt token >= vocab_size stops the run\n"
"with an INDEX fault.\n"
"\n"
"Every instruction's cost is static, so the cycles of a run are\n"
"cycles_prologue + positions * cycles_per_token + cycles_epilogue; the\n"
"three numbers are written into the program's note.\n"
"\n"
"Options:\n"
"  -o, --output FILE       program file to write (required)\n"
"      --tokenizer FILE    llama2.c tokenizer.bin to embed as .lpu.vocab\n"
"                          (at least vocab_size tokens; the first\n"
"                          vocab_size are kept)\n"
"      --quantize MODE     f32 (default): every weight as f32;\n"
"                          int8: every matrix (q, k, v, o, w1, w2, w3 and\n"
"                          the classifier, also when it shares the\n"
"                          embedding) as int8 with one f32 scale per row,\n"
"                          scale = max|w| / 127, q = round(w / scale);\n"
"                          the embedding and norm weights stay f32\n"
"      --context N         compile for N positions (1..seq_len, default\n"
"                          seq_len): the KV caches hold N positions and\n"
"                          attention sweeps N, so a shorter context costs\n"
"                          less SRAM and fewer cycles per token\n"
"      --prompt-max N      room for N prompt tokens (1..context, default\n"
"                          context)\n"
"      --sram-size SIZE    the card's SRAM in bytes, or with a K, M or G\n"
"                          suffix (binary); default 230M. A model whose\n"
"                          window does not fit is refused (exit 1)\n"
"  -v, --verbose           print the window layout and cycle figures\n"
"  -h, --help              this text\n"
"\n"
"Exit status: 0 on success, 1 when the model cannot be compiled (bad or\n"
"truncated checkpoint or tokenizer, does not fit the SRAM, write error),\n"
"2 on bad usage.\n"
"\n"
"Example:\n"
"  lpu-mkmodel -o tiny.bin --tokenizer tok.bin\n"
"  lpu-compile tiny.bin --tokenizer tok.bin -o tiny.lpu\n"
"  lpu-sim tiny.lpu --tokens 1,65,66 --steps 40\n"
"\n"
"See also: lpu-mkmodel --help, lpu-sim --help, lpu-objdump (to read the\n"
"program), Documentation/compiler.rst.\n");
}

/* ---- checkpoint ---- */

struct cc_file {
	void *map;
	size_t size;
};

static int cc_read_checkpoint(struct cc *c, const char *path,
			      struct cc_file *f)
{
	struct cc_config *k = &c->cfg;
	int32_t hdr[7];
	struct stat st;
	uint64_t need, nl, dim, hid, kvd, voc, hs;
	const float *p;
	int fd, i;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size < sizeof(hdr) ||
	    pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr)) {
		fprintf(stderr, "%s: %s: too short for a llama2.c checkpoint\n",
			prog, path);
		close(fd);
		return -1;
	}
	/* llama2.c's newer exports start with the magic "ak42" */
	if (hdr[0] == 0x616b3432) {
		fprintf(stderr,
			"%s: %s: llama2.c export version %d is not supported; export with --version 0 (the legacy format run.c reads)\n",
			prog, path, hdr[1]);
		close(fd);
		return -1;
	}
	for (i = 0; i < 7; i++) {
		if (i != 5 && hdr[i] <= 0)
			break;
	}
	if (i < 7 || hdr[5] == 0 || hdr[5] == INT32_MIN ||
	    hdr[0] % hdr[3] || hdr[3] % hdr[4] || (hdr[0] / hdr[3]) % 2 ||
	    hdr[3] > 0xffff) {
		fprintf(stderr,
			"%s: %s: bad llama2.c header (dim %d hidden_dim %d layers %d heads %d kv_heads %d vocab %d seq_len %d)\n",
			prog, path, hdr[0], hdr[1], hdr[2], hdr[3], hdr[4],
			hdr[5], hdr[6]);
		close(fd);
		return -1;
	}
	k->dim = hdr[0];
	k->hidden_dim = hdr[1];
	k->n_layers = hdr[2];
	k->n_heads = hdr[3];
	k->n_kv_heads = hdr[4];
	k->shared = hdr[5] > 0;
	k->vocab_size = hdr[5] > 0 ? hdr[5] : -hdr[5];
	k->seq_len = hdr[6];
	k->head_size = k->dim / k->n_heads;
	k->kv_dim = k->head_size * k->n_kv_heads;

	nl = k->n_layers;
	dim = k->dim;
	hid = k->hidden_dim;
	kvd = k->kv_dim;
	voc = k->vocab_size;
	hs = k->head_size;
	need = voc * dim + nl * dim * 2 + nl * dim * dim * 2 +
	       nl * kvd * dim * 2 + nl * hid * dim * 3 + dim +
	       (uint64_t)k->seq_len * hs;
	if (!k->shared)
		need += voc * dim;
	need = need * 4 + sizeof(hdr);
	if ((uint64_t)st.st_size < need) {
		fprintf(stderr,
			"%s: %s: truncated: the header promises %" PRIu64 " bytes, the file has %" PRIu64 "\n",
			prog, path, need, (uint64_t)st.st_size);
		close(fd);
		return -1;
	}
	f->size = st.st_size;
	f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f->map == MAP_FAILED) {
		fprintf(stderr, "%s: %s: mmap: %s\n", prog, path,
			strerror(errno));
		return -1;
	}

	p = (const float *)((const char *)f->map + sizeof(hdr));
	c->w.embed = p;
	p += voc * dim;
	c->w.rms_att = p;
	p += nl * dim;
	c->w.wq = p;
	p += nl * dim * dim;
	c->w.wk = p;
	p += nl * kvd * dim;
	c->w.wv = p;
	p += nl * kvd * dim;
	c->w.wo = p;
	p += nl * dim * dim;
	c->w.rms_ffn = p;
	p += nl * dim;
	c->w.w1 = p;
	p += nl * hid * dim;
	c->w.w2 = p;
	p += nl * dim * hid;
	c->w.w3 = p;
	p += nl * hid * dim;
	c->w.rms_final = p;
	p += dim;
	p += (uint64_t)k->seq_len * hs;	/* legacy freq_cis_real/imag */
	c->w.wcls = k->shared ? c->w.embed : p;
	return 0;
}

/* Read a tokenizer.bin, keep its first vocab_size records. */
static int cc_read_tokenizer(const char *path, uint32_t vocab_size,
			     uint8_t **out, size_t *out_len)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, off;
	uint32_t maxlen, i, tlen;
	FILE *f;
	size_t r;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				fprintf(stderr, "%s: out of memory\n", prog);
				goto err;
			}
			buf = nb;
		}
		r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		goto err;
	}
	fclose(f);
	f = NULL;

	if (len < 4)
		goto bad;
	memcpy(&maxlen, buf, 4);
	off = 4;
	for (i = 0; i < vocab_size; i++) {
		if (len - off < 8)
			goto bad;
		memcpy(&tlen, buf + off + 4, 4);
		if (tlen > maxlen || len - off - 8 < tlen)
			goto bad;
		off += 8 + tlen;
	}
	*out = buf;
	*out_len = off;
	return 0;
bad:
	fprintf(stderr,
		"%s: %s: not a llama2.c tokenizer with %u tokens (or more)\n",
		prog, path, vocab_size);
err:
	if (f)
		fclose(f);
	free(buf);
	return -1;
}

/* ---- layout ---- */

static uint64_t cc_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Place @bytes at *@at (aligned), return the offset. */
static uint64_t cc_place(uint64_t *at, uint64_t bytes)
{
	uint64_t off = cc_align(*at, CC_ALIGN);

	*at = off + bytes;
	return off;
}

static void cc_place_mat(struct cc *c, uint64_t *at, struct cc_mat *m,
			 uint32_t rows, uint32_t cols)
{
	m->rows = rows;
	m->cols = cols;
	if (c->int8) {
		m->off = cc_place(at, (uint64_t)rows * cols);
		m->scales = cc_place(at, (uint64_t)rows * 4);
	} else {
		m->off = cc_place(at, (uint64_t)rows * cols * 4);
		m->scales = 0;
	}
}

/*
 * Lay out the window for a text of @n_insns instructions. Offsets are
 * computed in 64 bits and stored in 32; the caller refuses a footprint of
 * 4 GiB or more before using them.
 */
static void cc_layout(struct cc *c, size_t n_insns)
{
	const struct cc_config *k = &c->cfg;
	struct cc_layout *L = &c->lay;
	uint64_t at, seqkv = (uint64_t)c->ctx * k->kv_dim * 4;
	uint32_t l;

	L->text_off = 0;
	L->text_size = (uint64_t)n_insns * LPU_INSN_SIZE;

	/* .lpu.sram: weights in the order the code reads them */
	at = cc_align(L->text_size, CC_ALIGN);
	L->image_off = at;
	L->embed = cc_place(&at, (uint64_t)k->vocab_size * k->dim * 4);
	for (l = 0; l < k->n_layers; l++) {
		struct cc_layer_addr *a = &L->layers[l];

		a->rms_att = cc_place(&at, k->dim * 4ULL);
		cc_place_mat(c, &at, &a->wq, k->dim, k->dim);
		cc_place_mat(c, &at, &a->wk, k->kv_dim, k->dim);
		cc_place_mat(c, &at, &a->wv, k->kv_dim, k->dim);
		cc_place_mat(c, &at, &a->wo, k->dim, k->dim);
		a->rms_ffn = cc_place(&at, k->dim * 4ULL);
		cc_place_mat(c, &at, &a->w1, k->hidden_dim, k->dim);
		cc_place_mat(c, &at, &a->w3, k->hidden_dim, k->dim);
		cc_place_mat(c, &at, &a->w2, k->dim, k->hidden_dim);
	}
	L->rms_final = cc_place(&at, k->dim * 4ULL);
	if (k->shared && !c->int8) {
		L->wcls.off = L->embed;
		L->wcls.scales = 0;
		L->wcls.rows = k->vocab_size;
		L->wcls.cols = k->dim;
	} else {
		cc_place_mat(c, &at, &L->wcls, k->vocab_size, k->dim);
	}
	L->image_size = at - L->image_off;

	/* .lpu.scratch: KV caches, activations, logits, prompt */
	at = cc_align(at, CC_ALIGN);
	L->scratch_off = at;
	for (l = 0; l < k->n_layers; l++) {
		L->layers[l].kcache = cc_place(&at, seqkv);
		L->layers[l].vcache = cc_place(&at, seqkv);
	}
	L->x = cc_place(&at, k->dim * 4ULL);
	L->xb = cc_place(&at, k->dim * 4ULL);
	L->xb2 = cc_place(&at, k->dim * 4ULL);
	L->att = cc_place(&at, k->dim * 4ULL);
	L->q = cc_place(&at, k->dim * 4ULL);
	L->k = cc_place(&at, k->kv_dim * 4ULL);
	L->v = cc_place(&at, k->kv_dim * 4ULL);
	L->hb = cc_place(&at, k->hidden_dim * 4ULL);
	L->hb2 = cc_place(&at, k->hidden_dim * 4ULL);
	L->logits = cc_place(&at, k->vocab_size * 4ULL);
	L->prompt = cc_place(&at, c->prompt_max * 4ULL);
	at = cc_align(at, CC_ALIGN);
	L->scratch_size = at - L->scratch_off;
	L->footprint = at;
}

/* ---- code ---- */

static void cc_emit(struct cc *c, uint8_t op, uint8_t rd, uint8_t rs,
		    uint8_t rt, uint32_t imm, uint32_t dst, uint32_t src0,
		    uint32_t src1, uint32_t src2, uint32_t n, uint32_t m)
{
	if (c->n_insns == c->cap_insns) {
		size_t cap = c->cap_insns ? c->cap_insns * 2 : 256;
		struct lpu_insn *t = realloc(c->text, cap * sizeof(*t));

		if (!t) {
			c->oom = true;
			return;
		}
		c->text = t;
		c->cap_insns = cap;
	}
	c->text[c->n_insns++] = lpu_insn_make(op, rd, rs, rt, imm, dst, src0,
					      src1, src2, n, m);
}

/* window offset of instruction @i */
static uint32_t cc_pc(const struct cc *c, size_t i)
{
	return (uint32_t)(c->lay.text_off + i * LPU_INSN_SIZE);
}

/* scalar helpers */
static void cc_li(struct cc *c, int rd, uint32_t v)
{
	cc_emit(c, LPU_OP_LI, rd, 0, 0, v, 0, 0, 0, 0, 0, 0);
}

static void cc_add(struct cc *c, int rd, int rs, int rt)
{
	cc_emit(c, LPU_OP_ADD, rd, rs, rt, 0, 0, 0, 0, 0, 0, 0);
}

static void cc_addi(struct cc *c, int rd, int rs, uint32_t imm)
{
	cc_emit(c, LPU_OP_ADDI, rd, rs, 0, imm, 0, 0, 0, 0, 0, 0);
}

static void cc_sltu(struct cc *c, int rd, int rs, int rt)
{
	cc_emit(c, LPU_OP_SLTU, rd, rs, rt, 0, 0, 0, 0, 0, 0, 0);
}

/* rd = R[cond] ? rs : rt */
static void cc_sel(struct cc *c, int rd, int cond, int rs, int rt)
{
	cc_emit(c, LPU_OP_SEL, rd, rs, rt, cond, 0, 0, 0, 0, 0, 0);
}

/* rd = min(rs, rt), unsigned; clobbers R_T0 */
static void cc_minu(struct cc *c, int rd, int rs, int rt)
{
	cc_sltu(c, R_T0, rs, rt);
	cc_sel(c, rd, R_T0, rs, rt);
}

static void cc_matvec(struct cc *c, uint32_t dst, const struct cc_mat *m,
		      uint32_t src)
{
	if (c->int8)
		cc_emit(c, LPU_OP_MATVEC_Q8, 0, 0, 0, 0, dst, m->off, src,
			m->scales, m->rows, m->cols);
	else
		cc_emit(c, LPU_OP_MATVEC, 0, 0, 0, 0, dst, m->off, src, 0,
			m->rows, m->cols);
}

static void cc_vec(struct cc *c, uint8_t op, uint32_t dst, uint32_t a,
		   uint32_t b, uint32_t n)
{
	cc_emit(c, op, 0, 0, 0, 0, dst, a, b, 0, n, 0);
}

static void cc_rmsnorm(struct cc *c, uint32_t dst, uint32_t x, uint32_t w,
		       uint32_t n)
{
	cc_emit(c, LPU_OP_RMSNORM, 0, 0, 0, lpu_f32_bits(CC_RMS_EPS), dst, x,
		w, 0, n, 0);
}

static void cc_rope(struct cc *c, uint32_t v, uint32_t n)
{
	cc_emit(c, LPU_OP_ROPE, 0, R_POS, 0, lpu_f32_bits(CC_ROPE_THETA), v,
		0, 0, 0, n, c->cfg.head_size);
}

static void cc_layer(struct cc *c, const struct cc_layer_addr *a)
{
	const struct cc_config *k = &c->cfg;
	const struct cc_layout *L = &c->lay;

	/* attention */
	cc_rmsnorm(c, L->xb, L->x, a->rms_att, k->dim);
	cc_matvec(c, L->q, &a->wq, L->xb);
	cc_matvec(c, L->k, &a->wk, L->xb);
	cc_matvec(c, L->v, &a->wv, L->xb);
	cc_rope(c, L->q, k->dim);
	cc_rope(c, L->k, k->kv_dim);
	cc_emit(c, LPU_OP_KVSTORE, 0, R_POS, 0, 0, a->kcache, L->k, 0, 0,
		k->kv_dim, c->ctx);
	cc_emit(c, LPU_OP_KVSTORE, 0, R_POS, 0, 0, a->vcache, L->v, 0, 0,
		k->kv_dim, c->ctx);
	cc_emit(c, LPU_OP_ATTN, 0, R_POS, 0, c->ctx, L->att, L->q,
		a->kcache, a->vcache, k->n_heads | k->n_kv_heads << 16,
		k->head_size);
	cc_matvec(c, L->xb2, &a->wo, L->att);
	cc_vec(c, LPU_OP_VADD, L->x, L->x, L->xb2, k->dim);
	/* feed-forward: w2(silu(w1 x) * w3 x) */
	cc_rmsnorm(c, L->xb, L->x, a->rms_ffn, k->dim);
	cc_matvec(c, L->hb, &a->w1, L->xb);
	cc_matvec(c, L->hb2, &a->w3, L->xb);
	cc_vec(c, LPU_OP_SILU, L->hb, L->hb, 0, k->hidden_dim);
	cc_vec(c, LPU_OP_VMUL, L->hb, L->hb, L->hb2, k->hidden_dim);
	cc_matvec(c, L->xb2, &a->w2, L->hb);
	cc_vec(c, LPU_OP_VADD, L->x, L->x, L->xb2, k->dim);
}

static void cc_codegen(struct cc *c)
{
	const struct cc_config *k = &c->cfg;
	const struct cc_layout *L = &c->lay;
	uint32_t loop_pc, l;

	c->n_insns = 0;

	/*
	 * Prologue: clamp the inputs and compute the number of positions,
	 * branch-free:
	 *   P   = min(r1, prompt_max)
	 *   end = min(P + min(r2, ctx) - 1, ctx), 0 if P or r2 is 0
	 * (ctx = the context length, --context or seq_len)
	 */
	cc_li(c, R_T1, c->prompt_max);
	cc_minu(c, R_PLEN, R_PLEN, R_T1);
	cc_li(c, R_T1, c->ctx);
	cc_minu(c, R_T2, R_BUDGET, R_T1);
	cc_add(c, R_END, R_PLEN, R_T2);
	cc_addi(c, R_END, R_END, UINT32_MAX);	/* - 1 */
	cc_minu(c, R_END, R_END, R_T1);
	cc_sltu(c, R_T0, R_ZERO, R_PLEN);
	cc_sel(c, R_END, R_T0, R_END, R_ZERO);
	cc_sltu(c, R_T0, R_ZERO, R_BUDGET);
	cc_sel(c, R_END, R_T0, R_END, R_ZERO);
	cc_addi(c, R_PLAST, R_PLEN, UINT32_MAX);
	cc_li(c, R_POS, 0);
	cc_emit(c, LPU_OP_LOADW, R_TOK, R_POS, 0, 0, L->prompt, 0, 0, 0,
		c->prompt_max, 0);
	/* enter the loop, which starts after the next instruction */
	loop_pc = cc_pc(c, c->n_insns + 2);
	cc_emit(c, LPU_OP_BLTU, 0, R_POS, R_END, loop_pc, 0, 0, 0, 0, 0, 0);
	c->early_halt = c->n_insns;
	cc_emit(c, LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

	/* One position: the same instructions every time. */
	c->loop_start = c->n_insns;
	assert(cc_pc(c, c->loop_start) == loop_pc);
	cc_emit(c, LPU_OP_EMBED, 0, R_TOK, 0, 0, L->x, L->embed, 0, 0,
		k->dim, k->vocab_size);
	for (l = 0; l < k->n_layers; l++)
		cc_layer(c, &L->layers[l]);
	cc_rmsnorm(c, L->xb, L->x, L->rms_final, k->dim);
	cc_matvec(c, L->logits, &L->wcls, L->xb);

	/*
	 * Next input: prompt[pos + 1] while the prompt lasts (the index is
	 * forced to 0 afterwards so LOADW stays in bounds), else the sampled
	 * token, which is also emitted.
	 */
	cc_addi(c, R_NEXT, R_POS, 1);
	cc_sltu(c, R_T0, R_NEXT, R_PLEN);
	cc_sel(c, R_T1, R_T0, R_NEXT, R_ZERO);
	cc_emit(c, LPU_OP_LOADW, R_T2, R_T1, 0, 0, L->prompt, 0, 0, 0,
		c->prompt_max, 0);
	cc_emit(c, LPU_OP_SAMPLE, R_T3, R_TEMP, R_TOPP, 0, 0, L->logits, 0,
		0, k->vocab_size, 0);
	cc_sel(c, R_TOK, R_T0, R_T2, R_T3);
	cc_sltu(c, R_GEN, R_PLAST, R_NEXT);
	cc_emit(c, LPU_OP_EMIT, 0, R_TOK, R_GEN, LPU_EMIT_IF_RT, 0, 0, 0, 0,
		0, 0);
	cc_addi(c, R_POS, R_POS, 1);
	cc_emit(c, LPU_OP_BLTU, 0, R_POS, R_END, loop_pc, 0, 0, 0, 0, 0, 0);

	/* Epilogue */
	c->loop_end = c->n_insns;
	cc_emit(c, LPU_OP_HALT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

static uint64_t cc_cycles(const struct cc *c, size_t from, size_t to)
{
	uint64_t sum = 0;
	size_t i;

	for (i = from; i < to; i++)
		sum += lpu_insn_cycles(&c->text[i]);
	return sum;
}

/* ---- weights ---- */

static void cc_put_f32(uint8_t *img, uint64_t image_off, uint32_t off,
		       const float *src, uint64_t n)
{
	memcpy(img + (off - image_off), src, n * 4);
}

static void cc_put_mat(const struct cc *c, uint8_t *img, const float *w,
		       const struct cc_mat *m)
{
	uint64_t base = c->lay.image_off;
	uint32_t r, col;

	if (!c->int8) {
		cc_put_f32(img, base, m->off, w, (uint64_t)m->rows * m->cols);
		return;
	}
	for (r = 0; r < m->rows; r++) {
		const float *row = w + (uint64_t)r * m->cols;
		int8_t *q = (int8_t *)(img + (m->off - base)) +
			    (uint64_t)r * m->cols;
		float amax = 0.0f, scale;

		for (col = 0; col < m->cols; col++)
			if (fabsf(row[col]) > amax)
				amax = fabsf(row[col]);
		scale = amax / 127.0f;
		for (col = 0; col < m->cols; col++) {
			float v = scale > 0.0f ? roundf(row[col] / scale) : 0;

			if (v > 127.0f)
				v = 127.0f;
			if (v < -127.0f)
				v = -127.0f;
			q[col] = (int8_t)v;
		}
		memcpy(img + (m->scales - base) + (uint64_t)r * 4, &scale, 4);
	}
}

static void cc_fill_image(const struct cc *c, uint8_t *img)
{
	const struct cc_config *k = &c->cfg;
	const struct cc_weights *w = &c->w;
	const struct cc_layout *L = &c->lay;
	uint64_t base = L->image_off, dim = k->dim, hid = k->hidden_dim;
	uint64_t kvd = k->kv_dim;
	uint32_t l;

	cc_put_f32(img, base, L->embed, w->embed, k->vocab_size * dim);
	for (l = 0; l < k->n_layers; l++) {
		const struct cc_layer_addr *a = &L->layers[l];

		cc_put_f32(img, base, a->rms_att, w->rms_att + l * dim, dim);
		cc_put_mat(c, img, w->wq + l * dim * dim, &a->wq);
		cc_put_mat(c, img, w->wk + l * kvd * dim, &a->wk);
		cc_put_mat(c, img, w->wv + l * kvd * dim, &a->wv);
		cc_put_mat(c, img, w->wo + l * dim * dim, &a->wo);
		cc_put_f32(img, base, a->rms_ffn, w->rms_ffn + l * dim, dim);
		cc_put_mat(c, img, w->w1 + l * hid * dim, &a->w1);
		cc_put_mat(c, img, w->w3 + l * hid * dim, &a->w3);
		cc_put_mat(c, img, w->w2 + l * dim * hid, &a->w2);
	}
	cc_put_f32(img, base, L->rms_final, w->rms_final, dim);
	if (!(k->shared && !c->int8))
		cc_put_mat(c, img, w->wcls, &L->wcls);
}

/* ---- driver ---- */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		end++;
		break;
	case 'm': case 'M':
		shift = 20;
		end++;
		break;
	case 'g': case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' && shift)
		end++;
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static void cc_print_layout(const struct cc *c, FILE *f,
			    const struct lpu_program_note *n)
{
	const struct cc_layout *L = &c->lay;

	fprintf(f, "model: dim %u hidden %u layers %u heads %u kv_heads %u vocab %u seq_len %u (context %u), %s classifier, %s\n",
		c->cfg.dim, c->cfg.hidden_dim, c->cfg.n_layers,
		c->cfg.n_heads, c->cfg.n_kv_heads, c->cfg.vocab_size,
		c->cfg.seq_len, c->ctx, c->cfg.shared ? "shared" : "own",
		c->int8 ? "int8" : "f32");
	fprintf(f, "window: .text [0x%" PRIx64 ", +%" PRIu64 ") %zu insns\n",
		L->text_off, L->text_size, c->n_insns);
	fprintf(f, "        .lpu.sram [0x%" PRIx64 ", +%" PRIu64 ") %.2f MiB\n",
		L->image_off, L->image_size, L->image_size / MIB);
	fprintf(f, "        .lpu.scratch [0x%" PRIx64 ", +%" PRIu64 ") %.2f MiB (KV cache %.2f MiB)\n",
		L->scratch_off, L->scratch_size, L->scratch_size / MIB,
		2.0 * c->cfg.n_layers * c->ctx * c->cfg.kv_dim * 4 /
		MIB);
	fprintf(f, "        prompt 0x%x (%u tokens), logits 0x%x, footprint %.2f MiB\n",
		L->prompt, c->prompt_max, L->logits, L->footprint / MIB);
	fprintf(f, "cycles: prologue %" PRIu64 ", per token %" PRIu64 ", epilogue %" PRIu64 " (%.2f us/token at %.0f MHz)\n",
		n->cycles_prologue, n->cycles_per_token, n->cycles_epilogue,
		n->cycles_per_token * 1e6 / LPU_CLOCK_HZ, LPU_CLOCK_HZ / 1e6);
}

enum {
	OPT_TOKENIZER = 256, OPT_QUANTIZE, OPT_PROMPT_MAX, OPT_CONTEXT, OPT_SRAM,
};

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
		{ "quantize", required_argument, NULL, OPT_QUANTIZE },
		{ "prompt-max", required_argument, NULL, OPT_PROMPT_MAX },
		{ "context", required_argument, NULL, OPT_CONTEXT },
		{ "sram-size", required_argument, NULL, OPT_SRAM },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *tok_path = NULL, *in;
	uint64_t sram = CC_SRAM_DEFAULT, pmax = 0, ctx = 0;
	struct cc c = { 0 };
	struct cc_file file = { 0 };
	struct lpu_program_desc d = { 0 };
	struct lpu_program_note *n = &d.note;
	uint8_t *vocab = NULL, *image = NULL;
	size_t vocab_len = 0;
	char err[512];
	bool verbose = false;
	int opt, ret = 1, r;

	while ((opt = getopt_long(argc, argv, "o:vh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case OPT_TOKENIZER:
			tok_path = optarg;
			break;
		case OPT_QUANTIZE:
			if (!strcmp(optarg, "int8")) {
				c.int8 = true;
			} else if (!strcmp(optarg, "f32")) {
				c.int8 = false;
			} else {
				fprintf(stderr, "%s: --quantize: f32 or int8, not '%s'\n",
					prog, optarg);
				return 2;
			}
			break;
		case OPT_PROMPT_MAX:
			if (parse_size(optarg, &pmax) || pmax > UINT32_MAX) {
				fprintf(stderr, "%s: bad --prompt-max '%s'\n",
					prog, optarg);
				return 2;
			}
			break;
		case OPT_CONTEXT:
			if (parse_size(optarg, &ctx) || ctx > UINT32_MAX) {
				fprintf(stderr, "%s: bad --context '%s'\n",
					prog, optarg);
				return 2;
			}
			break;
		case OPT_SRAM:
			if (parse_size(optarg, &sram)) {
				fprintf(stderr, "%s: bad --sram-size '%s'\n",
					prog, optarg);
				return 2;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || !out) {
		usage(stderr);
		return 2;
	}
	in = argv[optind];

	if (cc_read_checkpoint(&c, in, &file))
		return 1;
	if (ctx > c.cfg.seq_len) {
		fprintf(stderr, "%s: --context %" PRIu64 " is more than the model's seq_len %u\n",
			prog, ctx, c.cfg.seq_len);
		goto out;
	}
	c.ctx = ctx ? ctx : c.cfg.seq_len;
	if (pmax > c.ctx) {
		fprintf(stderr, "%s: --prompt-max %" PRIu64 " is more than the context length %u\n",
			prog, pmax, c.ctx);
		goto out;
	}
	c.prompt_max = pmax ? pmax : c.ctx;
	if (tok_path && cc_read_tokenizer(tok_path, c.cfg.vocab_size, &vocab,
					  &vocab_len))
		goto out;

	c.lay.layers = calloc(c.cfg.n_layers, sizeof(*c.lay.layers));
	if (!c.lay.layers) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	/* pass 1 counts the instructions, pass 2 uses the final layout */
	cc_layout(&c, 0);
	cc_codegen(&c);
	cc_layout(&c, c.n_insns);
	if (c.lay.footprint > sram) {
		fprintf(stderr,
			"%s: %s: the model needs %.2f MiB of SRAM (weights %.2f MiB, scratch %.2f MiB), the card has %.2f MiB (--sram-size)\n",
			prog, in, c.lay.footprint / MIB, c.lay.image_size / MIB,
			c.lay.scratch_size / MIB, sram / MIB);
		goto out;
	}
	if (c.lay.footprint > UINT32_MAX) {
		fprintf(stderr,
			"%s: %s: the model needs %.2f MiB of SRAM, more than the 4096 MiB a window can address\n",
			prog, in, c.lay.footprint / MIB);
		goto out;
	}
	cc_codegen(&c);
	if (c.oom)
		goto oom;

	image = malloc(c.lay.image_size ? c.lay.image_size : 1);
	if (!image)
		goto oom;
	memset(image, 0, c.lay.image_size);
	cc_fill_image(&c, image);

	n->isa_version = LPU_ISA_VERSION;
	n->flags = c.int8 ? LPU_PROG_INT8 : 0;
	n->sram_footprint = c.lay.footprint;
	n->entry = c.lay.text_off;
	n->scratch_size = c.lay.scratch_size;
	n->prompt_offset = c.lay.prompt;
	n->logits_offset = c.lay.logits;
	n->prompt_max = c.prompt_max;
	n->vocab_size = c.cfg.vocab_size;
	n->context_len = c.ctx;
	n->dim = c.cfg.dim;
	n->hidden_dim = c.cfg.hidden_dim;
	n->n_layers = c.cfg.n_layers;
	n->n_heads = c.cfg.n_heads;
	n->n_kv_heads = c.cfg.n_kv_heads;
	n->cycles_prologue = cc_cycles(&c, 0, c.early_halt);
	n->cycles_per_token = cc_cycles(&c, c.loop_start, c.loop_end);
	n->cycles_epilogue = cc_cycles(&c, c.loop_end, c.n_insns);

	d.text = c.text;
	d.n_insns = c.n_insns;
	d.text_offset = c.lay.text_off;
	d.image = image;
	d.image_size = c.lay.image_size;
	d.image_offset = c.lay.image_off;
	d.scratch_offset = c.lay.scratch_off;
	d.scratch_size = c.lay.scratch_size;
	d.vocab = vocab;
	d.vocab_size = vocab_len;

	r = lpu_program_write(out, &d, err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s: %s: %s\n", prog, out,
			err[0] ? err : strerror(-r));
		goto out;
	}
	if (verbose)
		cc_print_layout(&c, stderr, n);
	ret = 0;
	goto out;
oom:
	fprintf(stderr, "%s: out of memory\n", prog);
out:
	free(image);
	free(vocab);
	free(c.text);
	free(c.lay.layers);
	if (file.map)
		munmap(file.map, file.size);
	return ret;
}
