// SPDX-License-Identifier: MIT
/*
 * Reference Llama-2 forward pass over a llama2.c checkpoint; see
 * reference.h. Written from the model's definition (Llama 2: RMSNorm,
 * rotary position embedding, grouped-query attention, SwiGLU feed-forward)
 * and the checkpoint layout of llama2.c; deliberately simple.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

#define REF_RMS_EPS	1e-5
#define REF_ROPE_THETA	10000.0

struct ref_layer {
	const float *rms_att;	/* dim */
	const float *wq;	/* dim x dim */
	const float *wk;	/* kv_dim x dim */
	const float *wv;	/* kv_dim x dim */
	const float *wo;	/* dim x dim */
	const float *rms_ffn;	/* dim */
	const float *w1;	/* hidden x dim */
	const float *w2;	/* dim x hidden */
	const float *w3;	/* hidden x dim */
};

struct ref_model {
	struct ref_config cfg;
	int head_size;
	int kv_dim;
	float *file;		/* all weights of the checkpoint */
	const float *embed;	/* vocab x dim */
	struct ref_layer *layers;
	const float *rms_final;	/* dim */
	const float *wcls;	/* vocab x dim */
	/* state */
	float *x, *xn, *q, *k, *v, *att, *hb, *hg, *tmp, *logits, *scores;
	float *kcache;		/* layers x seq_len x kv_dim */
	float *vcache;
};

const struct ref_config *ref_model_config(const struct ref_model *m)
{
	return &m->cfg;
}

void ref_model_free(struct ref_model *m)
{
	if (!m)
		return;
	free(m->file);
	free(m->layers);
	free(m->x);
	free(m->xn);
	free(m->q);
	free(m->k);
	free(m->v);
	free(m->att);
	free(m->hb);
	free(m->hg);
	free(m->tmp);
	free(m->logits);
	free(m->scores);
	free(m->kcache);
	free(m->vcache);
	free(m);
}

static int ref_check_config(const int32_t hdr[7], struct ref_config *c)
{
	int i;

	for (i = 0; i < 7; i++)
		if (i != 5 && hdr[i] <= 0)
			return -EINVAL;
	if (hdr[5] == 0 || hdr[5] == INT32_MIN)
		return -EINVAL;
	c->dim = hdr[0];
	c->hidden_dim = hdr[1];
	c->n_layers = hdr[2];
	c->n_heads = hdr[3];
	c->n_kv_heads = hdr[4];
	c->vocab_size = hdr[5] < 0 ? -hdr[5] : hdr[5];
	c->shared_classifier = hdr[5] > 0;
	c->seq_len = hdr[6];
	if (c->dim % c->n_heads || c->n_heads % c->n_kv_heads ||
	    (c->dim / c->n_heads) % 2)
		return -EINVAL;
	return 0;
}

int ref_model_load(const char *path, struct ref_model **out)
{
	struct ref_model *m;
	int32_t hdr[7];
	FILE *f;
	long fsize;
	size_t dim, hid, nl, kvd, voc, hs, need, got, l;
	const float *p;
	int ret;

	f = fopen(path, "rb");
	if (!f)
		return -errno;
	if (fread(hdr, sizeof(hdr), 1, f) != 1) {
		fclose(f);
		return -EIO;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		fclose(f);
		return -ENOMEM;
	}
	ret = ref_check_config(hdr, &m->cfg);
	if (ret)
		goto err;

	dim = m->cfg.dim;
	hid = m->cfg.hidden_dim;
	nl = m->cfg.n_layers;
	voc = m->cfg.vocab_size;
	hs = dim / m->cfg.n_heads;
	kvd = hs * m->cfg.n_kv_heads;
	m->head_size = hs;
	m->kv_dim = kvd;

	/* floats the file must hold, in file order */
	need = voc * dim			/* token_embedding_table */
	     + nl * dim				/* rms_att_weight */
	     + nl * dim * dim			/* wq */
	     + 2 * nl * kvd * dim		/* wk, wv */
	     + nl * dim * dim			/* wo */
	     + nl * dim				/* rms_ffn_weight */
	     + 3 * nl * hid * dim		/* w1, w2, w3 */
	     + dim				/* rms_final_weight */
	     + m->cfg.seq_len * hs;	/* legacy freq_cis real+imag */
	if (!m->cfg.shared_classifier)
		need += voc * dim;		/* wcls */

	if (fseek(f, 0, SEEK_END) || (fsize = ftell(f)) < 0 ||
	    fseek(f, sizeof(hdr), SEEK_SET)) {
		ret = -errno;
		goto err;
	}
	if ((size_t)fsize - sizeof(hdr) < need * sizeof(float)) {
		ret = -EIO;
		goto err;
	}
	ret = -ENOMEM;
	m->file = malloc(need * sizeof(float));
	m->layers = calloc(nl, sizeof(*m->layers));
	if (!m->file || !m->layers)
		goto err;
	got = fread(m->file, sizeof(float), need, f);
	if (got != need) {
		ret = -EIO;
		goto err;
	}

	/* llama2.c stores each tensor for all layers together */
	p = m->file;
	m->embed = p;
	p += voc * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].rms_att = p + l * dim;
	p += nl * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].wq = p + l * dim * dim;
	p += nl * dim * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].wk = p + l * kvd * dim;
	p += nl * kvd * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].wv = p + l * kvd * dim;
	p += nl * kvd * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].wo = p + l * dim * dim;
	p += nl * dim * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].rms_ffn = p + l * dim;
	p += nl * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].w1 = p + l * hid * dim;
	p += nl * hid * dim;
	for (l = 0; l < nl; l++)
		m->layers[l].w2 = p + l * dim * hid;
	p += nl * dim * hid;
	for (l = 0; l < nl; l++)
		m->layers[l].w3 = p + l * hid * dim;
	p += nl * hid * dim;
	m->rms_final = p;
	p += dim;
	p += m->cfg.seq_len * hs;	/* skip freq_cis_real, freq_cis_imag */
	m->wcls = m->cfg.shared_classifier ? m->embed : p;

	ret = -ENOMEM;
	m->x = calloc(dim, sizeof(float));
	m->xn = calloc(dim, sizeof(float));
	m->q = calloc(dim, sizeof(float));
	m->k = calloc(kvd, sizeof(float));
	m->v = calloc(kvd, sizeof(float));
	m->att = calloc(dim, sizeof(float));
	m->tmp = calloc(dim, sizeof(float));
	m->hb = calloc(hid, sizeof(float));
	m->hg = calloc(hid, sizeof(float));
	m->logits = calloc(voc, sizeof(float));
	m->scores = calloc(m->cfg.seq_len, sizeof(float));
	m->kcache = calloc(nl * m->cfg.seq_len * kvd, sizeof(float));
	m->vcache = calloc(nl * m->cfg.seq_len * kvd, sizeof(float));
	if (!m->x || !m->xn || !m->q || !m->k || !m->v || !m->att ||
	    !m->tmp || !m->hb || !m->hg || !m->logits || !m->scores ||
	    !m->kcache || !m->vcache)
		goto err;
	fclose(f);
	*out = m;
	return 0;
err:
	fclose(f);
	ref_model_free(m);
	return ret;
}

/* out = W in, W rows x cols, row-major */
static void ref_matvec(float *out, const float *w, const float *in,
		       int rows, int cols)
{
	int r, c;

	for (r = 0; r < rows; r++) {
		const float *row = w + (size_t)r * cols;
		double acc = 0.0;

		for (c = 0; c < cols; c++)
			acc += (double)row[c] * in[c];
		out[r] = (float)acc;
	}
}

static void ref_rmsnorm(float *out, const float *in, const float *gain,
			int n)
{
	double ss = 0.0, inv;
	int i;

	for (i = 0; i < n; i++)
		ss += (double)in[i] * in[i];
	inv = 1.0 / sqrt(ss / n + REF_RMS_EPS);
	for (i = 0; i < n; i++)
		out[i] = (float)(gain[i] * (in[i] * inv));
}

/* rotate each (even, odd) pair of every head of v by pos * theta^(-j/hs) */
static void ref_rope(float *v, int n, int head_size, int pos)
{
	int i;

	for (i = 0; i < n; i += 2) {
		int j = i % head_size;
		double freq = pow(REF_ROPE_THETA, -(double)j / head_size);
		double ang = pos * freq;
		double c = cos(ang), s = sin(ang);
		double a = v[i], b = v[i + 1];

		v[i] = (float)(a * c - b * s);
		v[i + 1] = (float)(a * s + b * c);
	}
}

static void ref_attention(struct ref_model *m, int layer, int pos)
{
	const struct ref_config *c = &m->cfg;
	int hs = m->head_size, group = c->n_heads / c->n_kv_heads;
	size_t lbase = (size_t)layer * c->seq_len * m->kv_dim;
	int h, t, i;

	for (h = 0; h < c->n_heads; h++) {
		const float *qh = m->q + h * hs;
		int kvh = h / group;
		double mx = -INFINITY, sum = 0.0;
		double acc[hs];

		for (t = 0; t <= pos; t++) {
			const float *kt = m->kcache + lbase +
					  (size_t)t * m->kv_dim + kvh * hs;
			double d = 0.0;

			for (i = 0; i < hs; i++)
				d += (double)qh[i] * kt[i];
			m->scores[t] = (float)(d / sqrt((double)hs));
			if (m->scores[t] > mx)
				mx = m->scores[t];
		}
		for (t = 0; t <= pos; t++) {
			m->scores[t] = (float)exp(m->scores[t] - mx);
			sum += m->scores[t];
		}
		for (i = 0; i < hs; i++)
			acc[i] = 0.0;
		for (t = 0; t <= pos; t++) {
			const float *vt = m->vcache + lbase +
					  (size_t)t * m->kv_dim + kvh * hs;
			double a = m->scores[t] / sum;

			for (i = 0; i < hs; i++)
				acc[i] += a * vt[i];
		}
		for (i = 0; i < hs; i++)
			m->att[h * hs + i] = (float)acc[i];
	}
}

const float *ref_forward(struct ref_model *m, int token, int pos)
{
	const struct ref_config *c = &m->cfg;
	int dim = c->dim, hid = c->hidden_dim, kvd = m->kv_dim;
	int l, i;

	if (token < 0 || token >= c->vocab_size || pos < 0 ||
	    pos >= c->seq_len)
		return NULL;

	memcpy(m->x, m->embed + (size_t)token * dim, dim * sizeof(float));

	for (l = 0; l < c->n_layers; l++) {
		const struct ref_layer *w = &m->layers[l];
		size_t row = ((size_t)l * c->seq_len + pos) * kvd;

		/* attention block */
		ref_rmsnorm(m->xn, m->x, w->rms_att, dim);
		ref_matvec(m->q, w->wq, m->xn, dim, dim);
		ref_matvec(m->k, w->wk, m->xn, kvd, dim);
		ref_matvec(m->v, w->wv, m->xn, kvd, dim);
		ref_rope(m->q, dim, m->head_size, pos);
		ref_rope(m->k, kvd, m->head_size, pos);
		memcpy(m->kcache + row, m->k, kvd * sizeof(float));
		memcpy(m->vcache + row, m->v, kvd * sizeof(float));
		ref_attention(m, l, pos);
		ref_matvec(m->tmp, w->wo, m->att, dim, dim);
		for (i = 0; i < dim; i++)
			m->x[i] += m->tmp[i];

		/* feed-forward block: w2(silu(w1 x) * w3 x) */
		ref_rmsnorm(m->xn, m->x, w->rms_ffn, dim);
		ref_matvec(m->hb, w->w1, m->xn, hid, dim);
		ref_matvec(m->hg, w->w3, m->xn, hid, dim);
		for (i = 0; i < hid; i++) {
			double a = m->hb[i];

			m->hb[i] = (float)(a / (1.0 + exp(-a)) * m->hg[i]);
		}
		ref_matvec(m->tmp, w->w2, m->hb, dim, hid);
		for (i = 0; i < dim; i++)
			m->x[i] += m->tmp[i];
	}

	ref_rmsnorm(m->xn, m->x, m->rms_final, dim);
	ref_matvec(m->logits, m->wcls, m->xn, c->vocab_size, dim);
	return m->logits;
}

static int ref_argmax(const float *v, int n)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

int ref_generate(struct ref_model *m, const int *prompt, int n_prompt,
		 int budget, int *out, float *logits, int *n_positions)
{
	const struct ref_config *c = &m->cfg;
	int end, pos, token, n_out = 0, i;

	if (n_prompt < 0 || n_prompt > c->seq_len || budget < 0)
		return -EINVAL;
	for (i = 0; i < n_prompt; i++)
		if (prompt[i] < 0 || prompt[i] >= c->vocab_size)
			return -EINVAL;

	if (n_prompt == 0 || budget == 0)
		end = 0;
	else if (budget > c->seq_len || n_prompt + budget - 1 > c->seq_len)
		end = c->seq_len;
	else
		end = n_prompt + budget - 1;

	token = end ? prompt[0] : 0;
	for (pos = 0; pos < end; pos++) {
		const float *lg = ref_forward(m, token, pos);

		if (logits)
			memcpy(logits + (size_t)pos * c->vocab_size, lg,
			       c->vocab_size * sizeof(float));
		if (pos + 1 < n_prompt) {
			token = prompt[pos + 1];
		} else {
			token = ref_argmax(lg, c->vocab_size);
			out[n_out++] = token;
		}
	}
	if (n_positions)
		*n_positions = end;
	return n_out;
}
