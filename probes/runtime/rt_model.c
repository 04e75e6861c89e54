#include "probes/runtime/rt_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

rt_config rt_config_default(rt_family family)
{
    rt_config c = {
        .family = family,
        .n_layers = 2,
        .d_model = 64,
        .n_heads = 4,
        .n_kv_heads = 4,
        .head_dim = 16,
        .d_ff = family == RT_GPT2 ? 256 : 172,
        .vocab = 64,
        .max_seq = 64,
        .share = SHARE_QKV,
        .causal = true,
        .pos2d = RT_POS2D_NONE,
        .pos2d_scale = 1.0f,
        .norm_eps = 1e-5f,
        .rope_theta = 10000.0f,
        .tied = true,
    };
    return c;
}

#define CHECK_RANGE(field, lo, hi)                                                                 \
    do {                                                                                           \
        if (c->field < (lo) || c->field > (hi))                                                    \
            return qkv_error_set(err, QKV_ERR_RANGE, "%s is %d; it must be %d to %d", #field,      \
                                 c->field, (lo), (hi));                                            \
    } while (0)

qkv_status rt_config_check(const rt_config *c, qkv_error *err)
{
    CHECK_RANGE(n_layers, 1, RT_LAYERS_MAX);
    CHECK_RANGE(d_model, 1, RT_DIM_MAX);
    CHECK_RANGE(n_heads, 1, RT_DIM_MAX);
    CHECK_RANGE(n_kv_heads, 1, c->n_heads);
    CHECK_RANGE(head_dim, 1, RT_DIM_MAX);
    CHECK_RANGE(d_ff, 1, 4 * RT_DIM_MAX);
    CHECK_RANGE(vocab, 1, RT_VOCAB_MAX);
    CHECK_RANGE(max_seq, 1, RT_SEQ_MAX);
    if (c->n_heads % c->n_kv_heads != 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "%d KV heads do not divide %d query heads",
                             c->n_kv_heads, c->n_heads);
    if (c->share < 0 || c->share >= SHARE_COUNT)
        return qkv_error_set(err, QKV_ERR_INVALID, "unknown projection sharing");
    if (c->pos2d < RT_POS2D_NONE || c->pos2d >= RT_POS2D_FORM_COUNT)
        return qkv_error_set(err, QKV_ERR_INVALID, "unknown form %d of the 2D positional term",
                             (int)c->pos2d);
    if ((c->share == SHARE_QK || c->share == SHARE_ALL) && c->n_kv_heads != c->n_heads)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "%s needs one key head per query head (MHA), not %d KV heads for %d",
                             variant_share_name(c->share), c->n_kv_heads, c->n_heads);
    if (c->family == RT_LLAMA && c->head_dim % 2 != 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "RoPE needs an even head width, not %d",
                             c->head_dim);
    if (!isfinite(c->norm_eps) || c->norm_eps <= 0 || !isfinite(c->pos2d_scale) ||
        !isfinite(c->rope_theta) || c->rope_theta <= 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "norm eps, RoPE theta and 2D scale must be finite "
                             "and positive");
    return QKV_OK;
}

/* The parameter table: every tensor's size, in the order they are laid out. */
typedef struct {
    size_t tok_emb, pos_emb, wcls, lnf;
    size_t ln, wq, wk, wv, wo, bq, bk, bv, bo, w1, b1, w2, b2, w3, pw, pb; /* per layer */
    bool own_q, own_v, gpt2;
} param_table;

static void table_of(const rt_config *c, param_table *t)
{
    const size_t C = (size_t)c->d_model, NH = (size_t)c->n_heads, KVH = (size_t)c->n_kv_heads,
                 HD = (size_t)c->head_dim, FF = (size_t)c->d_ff, V = (size_t)c->vocab;
    memset(t, 0, sizeof *t);
    t->gpt2 = c->family == RT_GPT2;
    t->own_q = c->share == SHARE_QKV || c->share == SHARE_KV;
    t->own_v = c->share == SHARE_QKV || c->share == SHARE_QK;
    t->tok_emb = V * C;
    t->pos_emb = t->gpt2 ? (size_t)c->max_seq * C : 0;
    t->wcls = c->tied ? 0 : V * C;
    t->lnf = t->gpt2 ? 2 * C : C;
    t->ln = t->gpt2 ? 2 * C : C;
    t->wq = t->own_q ? NH * HD * C : 0;
    t->wk = KVH * HD * C;
    t->wv = t->own_v ? KVH * HD * C : 0;
    t->wo = C * NH * HD;
    if (t->gpt2) {
        t->bq = t->own_q ? NH * HD : 0;
        t->bk = KVH * HD;
        t->bv = t->own_v ? KVH * HD : 0;
        t->bo = C;
        t->b1 = FF;
        t->b2 = C;
    }
    t->w1 = FF * C;
    t->w2 = C * FF;
    t->w3 = t->gpt2 ? 0 : FF * C;
    const bool learned = c->pos2d == RT_POS2D_CONV || c->pos2d == RT_POS2D_REL;
    t->pw = learned ? RT_POS2D_CH : 0;
    t->pb = learned ? 1 : 0;
}

static size_t per_layer(const param_table *t)
{
    return 2 * t->ln + t->wq + t->wk + t->wv + t->wo + t->bq + t->bk + t->bv + t->bo + t->w1 +
           t->b1 + t->w2 + t->b2 + t->w3 + t->pw + t->pb;
}

qkv_status rt_param_count(const rt_config *c, size_t *count, qkv_error *err)
{
    qkv_status s = rt_config_check(c, err);
    if (s != QKV_OK)
        return s;
    param_table t;
    table_of(c, &t);
    /* With the limits in rt_config_check every term is below 2^50, so the
     * sum cannot overflow a 64-bit size_t. */
    *count = t.tok_emb + t.pos_emb + t.wcls + t.lnf + (size_t)c->n_layers * per_layer(&t);
    return QKV_OK;
}

/* The one definition of the parameter layout: every distinct tensor in the
 * order it lies in m->params, with its name, layer, shape and whether AdamW
 * decays it. Sets m's pointers (tied projections and biases point at K's),
 * writes up to cap entries into out (may be NULL), counts the tensors into
 * *count and returns the number of floats laid out. */
static size_t layout(rt_model *m, rt_tensor *out, size_t cap, size_t *count)
{
    const rt_config *c = &m->cfg;
    param_table t;
    table_of(c, &t);
    const size_t C = (size_t)c->d_model;
    size_t used = 0, k = 0;
    float *base = m->params;
#define TAKE(ptr, nm, lay, r, cols, dec)                                                           \
    do {                                                                                           \
        const size_t n_ = (size_t)(r) * (cols);                                                    \
        (ptr) = n_ ? base + used : NULL;                                                           \
        if (n_ && out && k < cap)                                                                  \
            out[k] = (rt_tensor){nm, lay, (ptr), (size_t)(r), (size_t)(cols), n_, dec};            \
        k += n_ ? 1 : 0;                                                                           \
        used += n_;                                                                                \
    } while (0)
    const size_t V = (size_t)c->vocab, QW = (size_t)c->n_heads * c->head_dim,
                 KW = (size_t)c->n_kv_heads * c->head_dim, FF = (size_t)c->d_ff;
    TAKE(m->tok_emb, "tok_emb", -1, V, C, true);
    TAKE(m->pos_emb, "pos_emb", -1, t.pos_emb ? (size_t)c->max_seq : 0, C, true);
    TAKE(m->wcls, "wcls", -1, t.wcls ? V : 0, C, true);
    if (c->tied)
        m->wcls = m->tok_emb;
    TAKE(m->lnf_w, "lnf_w", -1, 1, C, false);
    TAKE(m->lnf_b, "lnf_b", -1, 1, t.lnf - C, false); /* GPT-2 biases; none in Llama */
    for (int l = 0; l < c->n_layers; l++) {
        rt_layer *y = &m->layers[l];
        TAKE(y->ln1_w, "ln1_w", l, 1, C, false);
        TAKE(y->ln1_b, "ln1_b", l, 1, t.ln - C, false);
        TAKE(y->wq, "wq", l, t.wq ? QW : 0, C, true);
        TAKE(y->wk, "wk", l, KW, C, true);
        TAKE(y->wv, "wv", l, t.wv ? KW : 0, C, true);
        TAKE(y->wo, "wo", l, C, QW, true);
        TAKE(y->bq, "bq", l, 1, t.bq, false);
        TAKE(y->bk, "bk", l, 1, t.bk, false);
        TAKE(y->bv, "bv", l, 1, t.bv, false);
        TAKE(y->bo, "bo", l, 1, t.bo, false);
        TAKE(y->ln2_w, "ln2_w", l, 1, C, false);
        TAKE(y->ln2_b, "ln2_b", l, 1, t.ln - C, false);
        TAKE(y->w1, "w1", l, FF, C, true);
        TAKE(y->b1, "b1", l, 1, t.b1, false);
        TAKE(y->w2, "w2", l, C, FF, true);
        TAKE(y->b2, "b2", l, 1, t.b2, false);
        TAKE(y->w3, "w3", l, t.w3 ? FF : 0, C, true);
        TAKE(y->pos2d_w, "pos2d_w", l, 1, t.pw, false);
        TAKE(y->pos2d_b, "pos2d_b", l, 1, t.pb, false);
        /* exact weight tying */
        if (!t.own_q) {
            y->wq = y->wk;
            y->bq = y->bk;
        }
        if (!t.own_v) {
            y->wv = y->wk;
            y->bv = y->bk;
        }
    }
#undef TAKE
    *count = k;
    return used;
}

qkv_status rt_model_init(rt_model *m, const rt_config *c, qkv_error *err)
{
    memset(m, 0, sizeof *m);
    size_t n;
    qkv_status s = rt_param_count(c, &n, err);
    if (s != QKV_OK)
        return s;
    param_table t;
    table_of(c, &t);
    m->cfg = *c;
    m->params = calloc(n, sizeof(float));
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!m->params || !m->layers) {
        rt_model_free(m);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for %zu parameters", n);
    }
    m->n_params = n;
    size_t nt = 0;
    (void)layout(m, NULL, 0, &nt);
    m->tensors = calloc(nt, sizeof *m->tensors);
    if (!m->tensors) {
        rt_model_free(m);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for the tensor table");
    }
    m->n_tensors = nt;
    if (layout(m, m->tensors, nt, &nt) != n) {
        rt_model_free(m);
        return qkv_error_set(err, QKV_ERR_INVALID, "internal: parameter layout mismatch");
    }
    return QKV_OK;
}

void rt_model_free(rt_model *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->layers);
    free(m->tensors);
    memset(m, 0, sizeof *m);
}

uint64_t rt_rng_next(rt_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double rt_rng_uniform(rt_rng *r)
{
    return (double)(rt_rng_next(r) >> 11) * 0x1.0p-53;
}

double rt_rng_normal(rt_rng *r)
{
    double u1 = rt_rng_uniform(r), u2 = rt_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void fill_normal(float *w, size_t n, double std, rt_rng *r)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(std * rt_rng_normal(r));
}

static void fill(float *w, size_t n, float v)
{
    for (size_t i = 0; w && i < n; i++)
        w[i] = v;
}

void rt_model_randomize(rt_model *m, uint64_t seed)
{
    const rt_config *c = &m->cfg;
    param_table t;
    table_of(c, &t);
    rt_rng r = {seed};
    const double std = 0.02;
    fill_normal(m->tok_emb, t.tok_emb, std, &r);
    if (m->pos_emb)
        fill_normal(m->pos_emb, t.pos_emb, std, &r);
    if (!c->tied)
        fill_normal(m->wcls, t.wcls, std, &r);
    fill(m->lnf_w, (size_t)c->d_model, 1.0f);
    fill(m->lnf_b, (size_t)c->d_model, 0.0f);
    for (int l = 0; l < c->n_layers; l++) {
        rt_layer *y = &m->layers[l];
        fill(y->ln1_w, (size_t)c->d_model, 1.0f);
        fill(y->ln2_w, (size_t)c->d_model, 1.0f);
        if (t.wq)
            fill_normal(y->wq, t.wq, std, &r);
        fill_normal(y->wk, t.wk, std, &r);
        if (t.wv)
            fill_normal(y->wv, t.wv, std, &r);
        fill_normal(y->wo, t.wo, std, &r);
        fill_normal(y->w1, t.w1, std, &r);
        fill_normal(y->w2, t.w2, std, &r);
        if (y->w3)
            fill_normal(y->w3, t.w3, std, &r);
        /* the + term's conv starts as the identity on S: w_c = 1/10, b = 0 */
        fill(y->pos2d_w, t.pw, 1.0f / RT_POS2D_CH);
        /* biases stay zero (calloc) */
    }
}
