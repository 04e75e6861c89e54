#include "probes/train/rt_train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probes/runtime/rt_ops.h"
#include "probes/runtime/rt_pos2d.h"

rt_optim rt_optim_default(void)
{
    rt_optim o = {.lr = 1e-3f,
                  .beta1 = 0.9f,
                  .beta2 = 0.95f,
                  .eps = 1e-8f,
                  .weight_decay = 0.01f,
                  .clip = 1.0f,
                  .warmup = 20,
                  .steps = 1000,
                  .min_lr_frac = 0.1f};
    return o;
}

/* Activation pointers of one layer (or of the final block). */
typedef struct {
    float *x_in, *h1, *mu1, *rs1, *q, *k, *v, *att, *o, *x_mid, *h2, *mu2, *rs2, *f1, *f3, *fa;
} layer_acts;

typedef struct {
    float *x_fin, *hf, *muf, *rsf, *probs;
} final_acts;

typedef struct {
    float *dx, *dh, *dq, *dk, *dv, *dout, *dA, *dS, *df1, *df3, *dlogits, *tmp;
    float *padd;  /* (T, T) the 2D term's additive part of the current layer */
    float *pdsum; /* (T, T) Σ over sequences and heads of dL/dS' (learned 2D term) */
    double psdot; /* Σ dL/dS'_ij · S_ij over the same */
} scratch;

static size_t layer_size(const rt_config *c, int B, int T)
{
    const size_t N = (size_t)B * T, C = (size_t)c->d_model, QW = (size_t)c->n_heads * c->head_dim,
                 KW = (size_t)c->n_kv_heads * c->head_dim, FF = (size_t)c->d_ff;
    return 4 * N * C + 4 * N + 2 * N * QW + 2 * N * KW + (size_t)B * c->n_heads * T * T +
           3 * N * FF;
}

static layer_acts layer_at(const rt_trainer *t, const rt_config *c, int l)
{
    const size_t N = (size_t)t->B * t->T, C = (size_t)c->d_model,
                 QW = (size_t)c->n_heads * c->head_dim, KW = (size_t)c->n_kv_heads * c->head_dim,
                 FF = (size_t)c->d_ff;
    float *p = t->acts + (size_t)l * layer_size(c, t->B, t->T);
    layer_acts a;
#define NEXT(field, n)                                                                             \
    do {                                                                                           \
        a.field = p;                                                                               \
        p += (n);                                                                                  \
    } while (0)
    NEXT(x_in, N * C);
    NEXT(h1, N * C);
    NEXT(mu1, N);
    NEXT(rs1, N);
    NEXT(q, N * QW);
    NEXT(k, N * KW);
    NEXT(v, N * KW);
    NEXT(att, (size_t)t->B * c->n_heads * t->T * t->T);
    NEXT(o, N * QW);
    NEXT(x_mid, N * C);
    NEXT(h2, N * C);
    NEXT(mu2, N);
    NEXT(rs2, N);
    NEXT(f1, N * FF);
    NEXT(f3, N * FF);
    NEXT(fa, N * FF);
#undef NEXT
    return a;
}

static final_acts final_at(const rt_trainer *t, const rt_config *c)
{
    const size_t N = (size_t)t->B * t->T, C = (size_t)c->d_model;
    float *p = t->acts + (size_t)c->n_layers * layer_size(c, t->B, t->T);
    final_acts f = {p, p + N * C, p + 2 * N * C, p + 2 * N * C + N, p + 2 * N * C + 2 * N};
    return f;
}

static scratch scratch_at(const rt_trainer *t, const rt_config *c)
{
    const size_t N = (size_t)t->B * t->T, C = (size_t)c->d_model,
                 QW = (size_t)c->n_heads * c->head_dim, KW = (size_t)c->n_kv_heads * c->head_dim,
                 FF = (size_t)c->d_ff, TT = (size_t)t->T * t->T;
    float *p = t->scratch;
    scratch s;
    s.dx = p, p += N * C;
    s.dh = p, p += N * C;
    s.dq = p, p += N * QW;
    s.dk = p, p += N * KW;
    s.dv = p, p += N * KW;
    s.dout = p, p += N * QW;
    s.dA = p, p += TT;
    s.dS = p, p += TT;
    s.df1 = p, p += N * FF;
    s.df3 = p, p += N * FF;
    s.dlogits = p, p += N * (size_t)c->vocab;
    s.padd = p, p += TT;
    s.pdsum = p, p += TT;
    s.psdot = 0.0;
    s.tmp = p;
    return s;
}

static size_t scratch_size(const rt_config *c, int B, int T)
{
    const size_t N = (size_t)B * T, C = (size_t)c->d_model, QW = (size_t)c->n_heads * c->head_dim,
                 KW = (size_t)c->n_kv_heads * c->head_dim, FF = (size_t)c->d_ff;
    return 3 * N * C + 2 * N * QW + 2 * N * KW + 4 * (size_t)T * T + 2 * N * FF +
           N * (size_t)c->vocab;
}

qkv_status rt_trainer_init(rt_trainer *t, const rt_model *m, int B, int T, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    memset(t, 0, sizeof *t);
    if (B < 1 || T < 1 || (size_t)B * T > (size_t)RT_SEQ_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "batch %d x %d tokens is outside 1..%d", B, T,
                             RT_SEQ_MAX);
    if (c->family == RT_GPT2 && T > c->max_seq)
        return qkv_error_set(err, QKV_ERR_RANGE, "%d tokens exceed the %d learned positions", T,
                             c->max_seq);
    t->B = B;
    t->T = T;
    t->n_params = m->n_params;
    t->acts_n = (size_t)c->n_layers * layer_size(c, B, T) +
                (size_t)B * T * (2 * (size_t)c->d_model + 2 + (size_t)c->vocab);
    t->scratch_n = scratch_size(c, B, T);
    t->grads = calloc(m->n_params, sizeof(float));
    t->m = calloc(m->n_params, sizeof(float));
    t->v = calloc(m->n_params, sizeof(float));
    t->decay = calloc(m->n_params, 1);
    t->acts = malloc(t->acts_n * sizeof(float));
    t->scratch = malloc(t->scratch_n * sizeof(float));
    if (!t->grads || !t->m || !t->v || !t->decay || !t->acts || !t->scratch) {
        rt_trainer_free(t);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for training (%zu activations)",
                             t->acts_n);
    }
    for (size_t k = 0; k < m->n_tensors; k++)
        if (m->tensors[k].decay)
            memset(t->decay + (m->tensors[k].data - m->params), 1, m->tensors[k].elems);
    return QKV_OK;
}

void rt_trainer_free(rt_trainer *t)
{
    if (!t)
        return;
    free(t->grads);
    free(t->m);
    free(t->v);
    free(t->decay);
    free(t->acts);
    free(t->scratch);
    memset(t, 0, sizeof *t);
}

/* ---- forward with stored activations --------------------------------- */

static qkv_status forward(const rt_model *m, rt_trainer *t, const int *inputs, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    const int B = t->B, T = t->T, N = B * T, C = c->d_model, HD = c->head_dim, NH = c->n_heads;
    const int KVH = c->n_kv_heads, QW = NH * HD, KW = KVH * HD, FF = c->d_ff, group = NH / KVH;
    for (int n = 0; n < N; n++)
        if (inputs[n] < 0 || inputs[n] >= c->vocab)
            return qkv_error_set(err, QKV_ERR_RANGE, "token %d is outside the vocabulary 0..%d",
                                 inputs[n], c->vocab - 1);
    layer_acts a0 = layer_at(t, c, 0);
    for (int n = 0; n < N; n++) {
        float *x = a0.x_in + (size_t)n * C;
        memcpy(x, m->tok_emb + (size_t)inputs[n] * C, (size_t)C * sizeof(float));
        if (m->pos_emb)
            for (int i = 0; i < C; i++)
                x[i] += m->pos_emb[(size_t)(n % T) * C + i];
    }
    for (int l = 0; l < c->n_layers; l++) {
        const rt_layer *y = &m->layers[l];
        layer_acts a = layer_at(t, c, l);
        rt_norm_rows(a.h1, a.mu1, a.rs1, a.x_in, y->ln1_w, y->ln1_b, N, C, c->norm_eps);
        rt_qkv_rows(NULL, c, y, a.h1, N, T, 0, a.q, a.k, a.v, NULL, NULL);
        const float *add = NULL;
        if (c->pos2d) {
            float *padd = scratch_at(t, c).padd;
            rt_pos2d_table(c, y, T, padd);
            add = padd;
        }
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                const int g = h / group;
                float *A = a.att + ((size_t)b * NH + h) * T * T; /* weights only: scores not kept */
                rt_attention_block(c, y, add, T, a.q + (size_t)b * T * QW + (size_t)h * HD,
                                   a.k + (size_t)b * T * KW + (size_t)g * HD,
                                   a.v + (size_t)b * T * KW + (size_t)g * HD, QW, KW, A, A,
                                   a.o + (size_t)b * T * QW + (size_t)h * HD);
            }
        }
        rt_matmul(a.x_mid, a.o, y->wo, y->bo, N, QW, C);
        for (size_t i = 0; i < (size_t)N * C; i++)
            a.x_mid[i] += a.x_in[i];
        rt_norm_rows(a.h2, a.mu2, a.rs2, a.x_mid, y->ln2_w, y->ln2_b, N, C, c->norm_eps);
        rt_matmul(a.f1, a.h2, y->w1, y->b1, N, C, FF);
        const size_t nf = (size_t)N * FF;
        if (c->family == RT_GPT2) {
            for (size_t i = 0; i < nf; i++)
                a.fa[i] = rt_gelu(a.f1[i]);
        } else {
            rt_matmul(a.f3, a.h2, y->w3, NULL, N, C, FF);
            for (size_t i = 0; i < nf; i++) {
                float g = a.f1[i];
                a.fa[i] = g / (1.0f + expf(-g)) * a.f3[i];
            }
        }
        float *x_out = l + 1 < c->n_layers ? layer_at(t, c, l + 1).x_in : final_at(t, c).x_fin;
        rt_matmul(x_out, a.fa, y->w2, y->b2, N, FF, C);
        for (size_t i = 0; i < (size_t)N * C; i++)
            x_out[i] += a.x_mid[i];
    }
    final_acts f = final_at(t, c);
    rt_norm_rows(f.hf, f.muf, f.rsf, f.x_fin, m->lnf_w, m->lnf_b, N, C, c->norm_eps);
    rt_matmul(f.probs, f.hf, m->wcls, NULL, N, C, c->vocab);
    return QKV_OK;
}

/* Softmax the logits into probabilities; loss over counted targets (double). */
static void loss_of(const rt_config *c, rt_trainer *t, const int *targets, double *loss,
                    long *correct, long *counted)
{
    final_acts f = final_at(t, c);
    const int N = t->B * t->T, V = c->vocab;
    double sum = 0.0;
    long n = 0, ok = 0;
    for (int i = 0; i < N; i++) {
        float *p = f.probs + (size_t)i * V;
        int am = 0;
        for (int v = 1; v < V; v++)
            if (p[v] > p[am])
                am = v;
        rt_softmax(p, V);
        if (targets[i] < 0)
            continue;
        sum -= log((double)p[targets[i]] > 1e-30 ? (double)p[targets[i]] : 1e-30);
        ok += am == targets[i];
        n++;
    }
    *loss = n ? sum / (double)n : 0.0;
    if (correct)
        *correct = ok;
    if (counted)
        *counted = n;
}

qkv_status rt_train_eval(const rt_model *m, rt_trainer *t, const int *inputs, const int *targets,
                         double *loss, long *correct, long *counted, qkv_error *err)
{
    qkv_status s = forward(m, t, inputs, err);
    if (s == QKV_OK)
        loss_of(&m->cfg, t, targets, loss, correct, counted);
    return s;
}

/* ---- backward ---------------------------------------------------------- */

#define G(ptr) (t->grads + ((ptr)-m->params))

/* y (N, OUT) = x (N, IN) · Wᵀ + b:  dW += dyᵀ x, db += Σ dy, dx (= or +=) dy W. */
static void linear_back(float *dx, int dx_accum, float *dW, float *db, const float *dy,
                        const float *x, const float *W, int N, int IN, int OUT)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OUT, IN, N, 1.0f, dy, OUT, x, IN, 1.0f, dW,
                IN);
    if (db)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OUT; o++)
                db[o] += dy[(size_t)n * OUT + o];
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IN, OUT, 1.0f, dy, OUT, W, IN,
                    dx_accum ? 1.0f : 0.0f, dx, IN);
}

/* LayerNorm (db != NULL) or RMSNorm backward; dx += the input gradient. */
static void norm_back(float *dx, float *dw, float *db, const float *dy, const float *x,
                      const float *w, const float *mean, const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *g = dy + (size_t)n * C, *xi = x + (size_t)n * C;
        float *d = dx + (size_t)n * C;
        const float mu = mean[n], r = rstd[n];
        double a = 0.0, bsum = 0.0; /* Σ dxhat, Σ dxhat·xhat */
        for (int i = 0; i < C; i++) {
            const float xh = (xi[i] - mu) * r, dxh = g[i] * w[i];
            dw[i] += g[i] * xh;
            if (db)
                db[i] += g[i];
            a += dxh;
            bsum += (double)dxh * xh;
        }
        const float ma = db ? (float)(a / C) : 0.0f, mb = (float)(bsum / C);
        for (int i = 0; i < C; i++) {
            const float xh = (xi[i] - mu) * r, dxh = g[i] * w[i];
            d[i] += r * (dxh - ma - xh * mb);
        }
    }
}

/* Cross-entropy: dlogits (N, V) = (p − onehot) / counted; ignored targets
 * give zero rows. */
static void ce_backward(const rt_config *c, rt_trainer *t, const int *targets, long counted)
{
    const int N = t->B * t->T, V = c->vocab;
    scratch d = scratch_at(t, c);
    const float *probs = final_at(t, c).probs;
    const float inv = counted ? 1.0f / (float)counted : 0.0f;
    for (int i = 0; i < N; i++) {
        float *dl = d.dlogits + (size_t)i * V;
        const float *p = probs + (size_t)i * V;
        if (targets[i] < 0) {
            memset(dl, 0, (size_t)V * sizeof(float));
            continue;
        }
        for (int v = 0; v < V; v++)
            dl[v] = p[v] * inv;
        dl[targets[i]] -= inv;
    }
}

/* FFN block x_out = x_mid + W2 act(h2) (+ b2), h2 = norm2(x_mid). On entry
 * d.dx holds d x_out; on return d x_mid. */
static void ffn_backward(const rt_model *m, rt_trainer *t, const rt_layer *y, const layer_acts *a)
{
    const rt_config *c = &m->cfg;
    const int N = t->B * t->T, C = c->d_model, FF = c->d_ff;
    scratch d = scratch_at(t, c);
    linear_back(d.df1 /* as d fa */, 0, G(y->w2), y->b2 ? G(y->b2) : NULL, d.dx, a->fa, y->w2, N,
                FF, C);
    const size_t nf = (size_t)N * FF;
    if (c->family == RT_GPT2) {
        for (size_t i = 0; i < nf; i++)
            d.df1[i] *= rt_gelu_grad(a->f1[i]);
        linear_back(d.dh, 0, G(y->w1), G(y->b1), d.df1, a->h2, y->w1, N, C, FF);
    } else {
        for (size_t i = 0; i < nf; i++) {
            const float g = a->f1[i], sg = 1.0f / (1.0f + expf(-g)), dfa = d.df1[i];
            d.df3[i] = dfa * g * sg;                                   /* d up */
            d.df1[i] = dfa * a->f3[i] * sg * (1.0f + g * (1.0f - sg)); /* d gate */
        }
        linear_back(d.dh, 0, G(y->w1), NULL, d.df1, a->h2, y->w1, N, C, FF);
        linear_back(d.dh, 1, G(y->w3), NULL, d.df3, a->h2, y->w3, N, C, FF);
    }
    norm_back(d.dx, G(y->ln2_w), y->ln2_b ? G(y->ln2_b) : NULL, d.dh, a->x_mid, y->ln2_w, a->mu2,
              a->rs2, N, C);
}

/* One head of one sequence, the inverse of rt_attention_block: from dO
 * (T, HD) and the saved weights A (T, T), accumulate dV += Aᵀ dO,
 * dQ += scale dS K and dK += scale dSᵀ Q with dS = A ⊙ (dA − rowsum(A ⊙ dA)),
 * dA = dO Vᵀ. With the learned 2D term dS is dL/dS', the scores' gradient is
 * gain · dS (folded into scale), and dS and dS ⊙ S (S = Q Kᵀ / sqrt(HD),
 * recomputed into dA) add into d->pdsum and d->psdot for w and b; the ramp is
 * fixed and has no gradient. */
static void head_backward(const rt_config *c, const rt_layer *y, scratch *d, const layer_acts *a,
                          const float *A, size_t qo, size_t ko, int T)
{
    const int HD = c->head_dim, QW = c->n_heads * HD, KW = c->n_kv_heads * HD;
    const float rs = 1.0f / sqrtf((float)HD), scale = rt_pos2d_gain(c, y) * rs;
    const float *dO = d->dout + qo;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HD, 1.0f, dO, QW, a->v + ko, KW,
                0.0f, d->dA, T);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HD, T, 1.0f, A, T, dO, QW, 1.0f,
                d->dv + ko, KW);
    for (int i = 0; i < T; i++) {
        const float *ar = A + (size_t)i * T, *dar = d->dA + (size_t)i * T;
        float *dsr = d->dS + (size_t)i * T;
        double dot = 0.0;
        for (int j = 0; j < T; j++)
            dot += (double)ar[j] * dar[j];
        for (int j = 0; j < T; j++)
            dsr[j] = ar[j] * (dar[j] - (float)dot);
    }
    if (y->pos2d_w) { /* learned 2D term */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HD, rs, a->q + qo, QW, a->k + ko,
                    KW, 0.0f, d->dA, T);
        double sdot = 0.0;
        for (size_t e = 0; e < (size_t)T * T; e++) {
            sdot += (double)d->dS[e] * d->dA[e];
            d->pdsum[e] += d->dS[e];
        }
        d->psdot += sdot;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HD, T, scale, d->dS, T, a->k + ko, KW,
                1.0f, d->dq + qo, QW);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, HD, T, scale, d->dS, T, a->q + qo, QW,
                1.0f, d->dk + ko, KW);
}

/* The learned 2D term's w and b of one layer, from the sums head_backward
 * gathered over its sequences and heads. */
static void pos2d_backward(const rt_model *m, rt_trainer *t, const rt_layer *y, const scratch *d)
{
    rt_pos2d_grad(m->cfg.pos2d, t->T, d->pdsum, d->psdot, G(y->pos2d_w), G(y->pos2d_b));
}

/* Attention block x_mid = x_in + Wo attn(q, k, v) (+ bo), projections of
 * h1 = norm1(x_in). On entry d.dx holds d x_mid; on return d x_in. Shared
 * projections add the gradients of all their uses into the one K tensor. */
static void attn_backward(const rt_model *m, rt_trainer *t, const rt_layer *y, const layer_acts *a)
{
    const rt_config *c = &m->cfg;
    const int B = t->B, T = t->T, N = B * T, C = c->d_model, HD = c->head_dim, NH = c->n_heads;
    const int KVH = c->n_kv_heads, QW = NH * HD, KW = KVH * HD, group = NH / KVH;
    const bool own_q = c->share == SHARE_QKV || c->share == SHARE_KV;
    const bool own_v = c->share == SHARE_QKV || c->share == SHARE_QK;
    scratch d = scratch_at(t, c);
    linear_back(d.dout, 0, G(y->wo), y->bo ? G(y->bo) : NULL, d.dx, a->o, y->wo, N, QW, C);
    memset(d.dq, 0, (size_t)N * QW * sizeof(float));
    memset(d.dk, 0, (size_t)N * KW * sizeof(float));
    memset(d.dv, 0, (size_t)N * KW * sizeof(float));
    if (y->pos2d_w)
        memset(d.pdsum, 0, (size_t)T * T * sizeof(float));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            head_backward(c, y, &d, a, a->att + ((size_t)b * NH + h) * T * T,
                          (size_t)b * T * QW + (size_t)h * HD,
                          (size_t)b * T * KW + (size_t)(h / group) * HD, T);
    if (y->pos2d_w)
        pos2d_backward(m, t, y, &d);
    if (c->family == RT_LLAMA)
        for (int n = 0; n < N; n++) {
            rt_rope_row(d.dq + (size_t)n * QW, NH, HD, n % T, c->rope_theta, 1);
            rt_rope_row(d.dk + (size_t)n * KW, KVH, HD, n % T, c->rope_theta, 1);
        }
    if (!own_q)
        for (size_t i = 0; i < (size_t)N * KW; i++)
            d.dk[i] += d.dq[i];
    if (!own_v)
        for (size_t i = 0; i < (size_t)N * KW; i++)
            d.dk[i] += d.dv[i];
    linear_back(d.dh, 0, G(y->wk), y->bk ? G(y->bk) : NULL, d.dk, a->h1, y->wk, N, C, KW);
    if (own_q)
        linear_back(d.dh, 1, G(y->wq), y->bq ? G(y->bq) : NULL, d.dq, a->h1, y->wq, N, C, QW);
    if (own_v)
        linear_back(d.dh, 1, G(y->wv), y->bv ? G(y->bv) : NULL, d.dv, a->h1, y->wv, N, C, KW);
    norm_back(d.dx, G(y->ln1_w), y->ln1_b ? G(y->ln1_b) : NULL, d.dh, a->x_in, y->ln1_w, a->mu1,
              a->rs1, N, C);
}

/* Token and position embeddings: each row of d.dx (d x_in of layer 0) adds
 * into its token's row and its position's row. */
static void embed_backward(const rt_model *m, rt_trainer *t, const int *inputs)
{
    const int T = t->T, N = t->B * T, C = m->cfg.d_model;
    const float *dx = scratch_at(t, &m->cfg).dx;
    for (int n = 0; n < N; n++) {
        const float *g = dx + (size_t)n * C;
        float *te = G(m->tok_emb) + (size_t)inputs[n] * C;
        for (int i = 0; i < C; i++)
            te[i] += g[i];
        if (m->pos_emb) {
            float *pe = G(m->pos_emb) + (size_t)(n % T) * C;
            for (int i = 0; i < C; i++)
                pe[i] += g[i];
        }
    }
}

qkv_status rt_train_grad(const rt_model *m, rt_trainer *t, const int *inputs, const int *targets,
                         double *loss, long *correct, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    qkv_status s = forward(m, t, inputs, err);
    if (s != QKV_OK)
        return s;
    long counted;
    loss_of(c, t, targets, loss, correct, &counted);
    memset(t->grads, 0, t->n_params * sizeof(float));
    const int N = t->B * t->T, C = c->d_model;
    scratch d = scratch_at(t, c);
    final_acts f = final_at(t, c);
    ce_backward(c, t, targets, counted);
    /* classifier and final norm */
    linear_back(d.dh, 0, G(m->wcls), NULL, d.dlogits, f.hf, m->wcls, N, C, c->vocab);
    memset(d.dx, 0, (size_t)N * C * sizeof(float));
    norm_back(d.dx, G(m->lnf_w), m->lnf_b ? G(m->lnf_b) : NULL, d.dh, f.x_fin, m->lnf_w, f.muf,
              f.rsf, N, C);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const layer_acts a = layer_at(t, c, l);
        ffn_backward(m, t, &m->layers[l], &a);
        attn_backward(m, t, &m->layers[l], &a);
    }
    embed_backward(m, t, inputs);
    return QKV_OK;
}

float rt_optim_lr(const rt_optim *o, long step)
{
    if (o->warmup > 0 && step < o->warmup)
        return o->lr * (float)(step + 1) / (float)o->warmup;
    const long span = o->steps - o->warmup;
    double frac = span > 0 ? (double)(step - o->warmup) / (double)span : 1.0;
    if (frac > 1.0)
        frac = 1.0;
    const double minlr = o->lr * o->min_lr_frac;
    return (float)(minlr + 0.5 * (o->lr - minlr) * (1.0 + cos(3.141592653589793 * frac)));
}

double rt_optim_step(rt_model *m, rt_trainer *t, const rt_optim *o)
{
    double norm2 = 0.0;
    for (size_t i = 0; i < t->n_params; i++)
        norm2 += (double)t->grads[i] * t->grads[i];
    const double norm = sqrt(norm2);
    const float clip = (o->clip > 0.0f && norm > o->clip) ? (float)(o->clip / norm) : 1.0f;
    const float lr = rt_optim_lr(o, t->step);
    t->step++;
    const float bc1 = 1.0f - powf(o->beta1, (float)t->step);
    const float bc2 = 1.0f - powf(o->beta2, (float)t->step);
    for (size_t i = 0; i < t->n_params; i++) {
        const float g = t->grads[i] * clip;
        t->m[i] = o->beta1 * t->m[i] + (1.0f - o->beta1) * g;
        t->v[i] = o->beta2 * t->v[i] + (1.0f - o->beta2) * g * g;
        const float mh = t->m[i] / bc1, vh = t->v[i] / bc2;
        float upd = mh / (sqrtf(vh) + o->eps);
        if (t->decay[i])
            upd += o->weight_decay * m->params[i];
        m->params[i] -= lr * upd;
    }
    return norm;
}
