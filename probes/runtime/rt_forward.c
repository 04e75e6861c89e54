#include "probes/runtime/rt_forward.h"

#include "analyzer/core/checked.h"
#include "probes/runtime/rt_kernels.h"
#include "probes/runtime/rt_ops.h"
#include "probes/runtime/rt_pos2d.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Below this many multiply-adds a pool job costs more to hand out than to run. */
#define SMALL_JOB_MACS (1 << 15)

/* Layer l's weights: the model's own, or fetched from its file into *tmp. */
static qkv_status layer_at(const rt_model *m, int l, rt_layer *tmp, const rt_layer **y,
                           qkv_error *err)
{
    if (!m->fetch) {
        *y = &m->layers[l];
        return QKV_OK;
    }
    *y = tmp;
    return m->fetch->layer(m->fetch->ctx, l, tmp, err);
}

/* x (N, C) = token embeddings (+ learned positions pos0 + n % T). */
static qkv_status embed_rows(const rt_model *m, const int *tokens, int N, int T, int pos0, float *x,
                             qkv_error *err)
{
    const int C = m->cfg.d_model;
    for (int n = 0; n < N; n++) {
        const float *row = NULL;
        if (!m->fetch) {
            row = m->tok_emb + (size_t)tokens[n] * C;
        } else {
            qkv_status s =
                m->fetch->rows(m->fetch->ctx, RT_ROWS_EMB, (size_t)tokens[n], 1, &row, err);
            if (s != QKV_OK)
                return s;
        }
        float *xn = x + (size_t)n * C;
        memcpy(xn, row, (size_t)C * sizeof(float));
        if (m->pos_emb) {
            const float *pe = m->pos_emb + (size_t)(pos0 + n % T) * C;
            for (int i = 0; i < C; i++)
                xn[i] += pe[i];
        }
    }
    return QKV_OK;
}

/* logits (N, V) = h (N, C) · Wclsᵀ, in blocks of rows_max classifier rows
 * when the classifier stays in its file. */
static qkv_status classify(const rt_model *m, const float *h, int N, float *logits, qkv_error *err)
{
    const int C = m->cfg.d_model, V = m->cfg.vocab;
    if (!m->fetch) {
        rt_matmul_pool(m->pool, logits, h, m->wcls, NULL, N, C, V);
        return QKV_OK;
    }
    for (size_t r0 = 0; r0 < (size_t)V; r0 += m->fetch->rows_max) {
        const size_t n = (size_t)V - r0 < m->fetch->rows_max ? (size_t)V - r0 : m->fetch->rows_max;
        const float *w;
        qkv_status s = m->fetch->rows(m->fetch->ctx, RT_ROWS_CLS, r0, n, &w, err);
        if (s != QKV_OK)
            return s;
        const rt_mm job = {logits + r0, h, w, NULL, N, C, (int)n, V, m->fetch->cls_wt};
        rt_matmul_many(m->pool, &job, 1);
    }
    return QKV_OK;
}

/* FFN on N rows of h (normed), added into x. f1, f3: (N, FF) scratch;
 * tmp: (N, C). The up projections run as one pool job. */
static void ffn_add(rt_pool *pool, const rt_config *c, const rt_layer *y, float *x, const float *h,
                    float *f1, float *f3, float *tmp, int N)
{
    const int C = c->d_model, FF = c->d_ff;
    const rt_mm up[2] = {{f1, h, y->w1, y->b1, N, C, FF, FF, y->wt},
                         {f3, h, y->w3, NULL, N, C, FF, FF, y->wt}};
    rt_matmul_many(pool, up, c->family == RT_GPT2 ? 1 : 2);
    const size_t n = (size_t)N * FF;
    if (c->family == RT_GPT2) {
        for (size_t i = 0; i < n; i++)
            f1[i] = rt_gelu(f1[i]);
    } else {
        for (size_t i = 0; i < n; i++) {
            float g = f1[i];
            f1[i] = g / (1.0f + expf(-g)) * f3[i];
        }
    }
    const rt_mm down = {tmp, f1, y->w2, y->b2, N, FF, C, C, y->wt};
    rt_matmul_many(pool, &down, 1);
    for (size_t i = 0; i < (size_t)N * C; i++)
        x[i] += tmp[i];
}

static qkv_status check_token(const rt_config *c, int tok, qkv_error *err)
{
    if (tok < 0 || tok >= c->vocab)
        return qkv_error_set(err, QKV_ERR_RANGE, "token %d is outside the vocabulary 0..%d", tok,
                             c->vocab - 1);
    return QKV_OK;
}

typedef struct {
    float *x, *h, *q, *k, *v, *q_pre, *k_pre, *o, *f1, *f3, *tmp, *s, *a, *krot;
} work;

/* What a work block holds: N rows of activations, s_elems score and
 * a_elems attention floats, krot_elems rotated keys. */
typedef struct {
    int N;
    size_t s_elems, a_elems, krot_elems;
    bool want_pre;
} work_shape;

/* The one table of activation buffers: sizes (floats) in slot order. With
 * slots == NULL only counts; returns the total. */
static size_t work_layout(const rt_config *c, const work_shape *ws, float *block, work *w)
{
    const size_t C = (size_t)c->d_model, QW = (size_t)c->n_heads * c->head_dim,
                 KW = (size_t)c->n_kv_heads * c->head_dim, FF = (size_t)c->d_ff, n = (size_t)ws->N;
    const size_t sizes[] = {
        n * C,                     /* x    (N, C) residual */
        n * C,                     /* h    (N, C) normed */
        n * QW,                    /* q    (N, NH*HD) */
        n * KW,                    /* k    (N, KVH*HD) */
        n * KW,                    /* v    (N, KVH*HD) */
        ws->want_pre ? n * QW : 0, /* q_pre (N, NH*HD) before RoPE */
        ws->want_pre ? n * KW : 0, /* k_pre (N, KVH*HD) before RoPE */
        n * QW,                    /* o    (N, NH*HD) attention output */
        n * FF,                    /* f1   (N, FF) */
        n * FF,                    /* f3   (N, FF) */
        n * C,                     /* tmp  (N, C) */
        ws->s_elems,               /* s    scores: prefill (sets, T, T), decode (NH, capacity) */
        ws->a_elems,               /* a    attention weights, same shape (or none: s is reused) */
        ws->krot_elems,            /* krot (capacity, KVH*HD) keys rotated for one decode step */
    };
    float **slots[] = {&w->x, &w->h,  &w->q,  &w->k,   &w->v, &w->q_pre, &w->k_pre,
                       &w->o, &w->f1, &w->f3, &w->tmp, &w->s, &w->a,     &w->krot};
    _Static_assert(sizeof sizes / sizeof sizes[0] == sizeof slots / sizeof slots[0],
                   "one size per slot");
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (block)
            *slots[i] = sizes[i] ? block + total : NULL;
        total += sizes[i];
    }
    return total;
}

/* Prefill attention of every (sequence, head) pair, split over the pool;
 * thread i keeps its scores in s + i·T·T. */
typedef struct {
    const rt_config *c;
    const rt_layer *y;
    int B, T;
    const float *q, *k, *v;
    float *o, *s;
} block_job;

static void block_task(void *vctx, int i, int n)
{
    const block_job *j = vctx;
    const rt_config *c = j->c;
    const int NH = c->n_heads, HD = c->head_dim, QW = NH * HD, KW = c->n_kv_heads * HD,
              group = NH / c->n_kv_heads, T = j->T, pairs = j->B * NH;
    float *s = j->s + (size_t)i * T * T;
    for (int p = pairs * i / n; p < pairs * (i + 1) / n; p++) {
        const int b = p / NH, h = p % NH, g = h / group;
        rt_attention_block(c, j->y, NULL, T, j->q + (size_t)b * T * QW + (size_t)h * HD,
                           j->k + (size_t)b * T * KW + (size_t)g * HD,
                           j->v + (size_t)b * T * KW + (size_t)g * HD, QW, KW, s, s,
                           j->o + (size_t)b * T * QW + (size_t)h * HD);
    }
}

/* Store K and V rows (T, KW) of layer l at positions 0..T−1 of cache. */
static void cache_store(rt_cache *cache, const rt_config *c, int l, const float *k,
                        const float *k_pre, const float *v, int T)
{
    const size_t KW = (size_t)c->n_kv_heads * c->head_dim;
    const size_t stride = (size_t)cache->capacity * KW;
    memcpy(cache->k + (size_t)l * stride, cache->pre_rope ? k_pre : k,
           (size_t)T * KW * sizeof(float));
    if (cache->v)
        memcpy(cache->v + (size_t)l * stride, v, (size_t)T * KW * sizeof(float));
}

static qkv_status forward(const rt_model *m, const int *tokens, int B, int T, float *logits,
                          const rt_hooks *hooks, rt_cache *cache, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    if (B < 1 || T < 1 || (size_t)B * (size_t)T > (size_t)RT_SEQ_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "batch %d x %d tokens is outside 1..%d", B, T,
                             RT_SEQ_MAX);
    if (c->family == RT_GPT2 && T > c->max_seq)
        return qkv_error_set(err, QKV_ERR_RANGE, "%d tokens exceed the %d learned positions", T,
                             c->max_seq);
    for (int i = 0; i < B * T; i++) {
        qkv_status s = check_token(c, tokens[i], err);
        if (s != QKV_OK)
            return s;
    }
    const int N = B * T, C = c->d_model, HD = c->head_dim, NH = c->n_heads, KVH = c->n_kv_heads;
    const int QW = NH * HD, KW = KVH * HD, group = NH / KVH;
    const bool hooked = hooks && hooks->on_attention;
    /* Hooks see one head at a time in order, so hooked attention runs on the
     * calling thread with separate scores and weights; otherwise every
     * thread has one (T, T) block and the weights replace the scores. */
    const size_t sets = hooked ? 1 : (size_t)rt_pool_threads(m->pool);
    const bool want_pre = (hooked || (cache && cache->pre_rope)) && c->family == RT_LLAMA;
    const work_shape ws = {N, sets * (size_t)T * T, hooked ? (size_t)T * T : 0, 0, want_pre};
    work w;
    const size_t total = work_layout(c, &ws, NULL, &w);
    float *block = malloc(total * sizeof(float));
    if (!block)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for %zu activations", total);
    work_layout(c, &ws, block, &w);
    qkv_status s = embed_rows(m, tokens, N, T, 0, w.x, err);
    rt_layer fetched;
    for (int l = 0; l < c->n_layers && s == QKV_OK; l++) {
        const rt_layer *y;
        if ((s = layer_at(m, l, &fetched, &y, err)) != QKV_OK)
            break;
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln1_w, y->ln1_b, N, C, c->norm_eps);
        rt_qkv_rows(m->pool, c, y, w.h, N, T, 0, w.q, w.k, w.v, w.q_pre, w.k_pre);
        if (cache)
            cache_store(cache, c, l, w.k, w.k_pre ? w.k_pre : w.k, w.v, T);
        if (!hooked) {
            block_job j = {c, y, B, T, w.q, w.k, w.v, w.o, w.s};
            rt_pool_run((size_t)T * T * HD < SMALL_JOB_MACS ? NULL : m->pool, block_task, &j);
        }
        for (int b = 0; hooked && b < B; b++) {
            for (int h = 0; h < NH; h++) {
                const int g = h / group;
                const float *Qh = w.q + (size_t)b * T * QW + (size_t)h * HD;
                const float *Kg = w.k + (size_t)b * T * KW + (size_t)g * HD;
                const float *Vg = w.v + (size_t)b * T * KW + (size_t)g * HD;
                rt_attention_block(c, y, NULL, T, Qh, Kg, Vg, QW, KW, w.s, w.a,
                                   w.o + (size_t)b * T * QW + (size_t)h * HD);
                rt_attn_event ev = {
                    .layer = l,
                    .head = h,
                    .kv_head = g,
                    .seq = b,
                    .n_queries = T,
                    .n_keys = T,
                    .first_query_pos = 0,
                    .scores = w.s,
                    .att = w.a,
                    .q = Qh,
                    .q_pre = w.q_pre ? w.q_pre + (size_t)b * T * QW + (size_t)h * HD : Qh,
                    .k = Kg,
                    .k_pre = w.k_pre ? w.k_pre + (size_t)b * T * KW + (size_t)g * HD : Kg,
                    .v = Vg,
                    .x = w.h + (size_t)b * T * C,
                    .ld_q = QW,
                    .ld_kv = KW,
                };
                hooks->on_attention(hooks->user, &ev);
            }
        }
        const rt_mm out = {w.tmp, w.o, y->wo, y->bo, N, QW, C, C, y->wt};
        rt_matmul_many(m->pool, &out, 1);
        for (size_t i = 0; i < (size_t)N * C; i++)
            w.x[i] += w.tmp[i];
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln2_w, y->ln2_b, N, C, c->norm_eps);
        ffn_add(m->pool, c, y, w.x, w.h, w.f1, w.f3, w.tmp, N);
    }
    if (s == QKV_OK && logits) {
        rt_norm_rows(w.h, NULL, NULL, w.x, m->lnf_w, m->lnf_b, N, C, c->norm_eps);
        s = classify(m, w.h, N, logits, err);
    }
    if (s == QKV_OK && cache)
        cache->len = T;
    free(block);
    return s;
}

qkv_status rt_forward(const rt_model *m, const int *tokens, int B, int T, float *logits,
                      const rt_hooks *hooks, qkv_error *err)
{
    return forward(m, tokens, B, T, logits, hooks, NULL, err);
}

qkv_status rt_prefill(const rt_model *m, rt_cache *cache, const int *tokens, int T, float *logits,
                      qkv_error *err)
{
    if (!m->cfg.causal)
        return qkv_error_set(err, QKV_ERR_INVALID, "decoding needs a causal model");
    if (cache->len != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "prefill needs an empty cache (it holds %d tokens)", cache->len);
    if (T > cache->capacity)
        return qkv_error_set(err, QKV_ERR_RANGE, "%d prompt tokens do not fit a %d-token cache", T,
                             cache->capacity);
    return forward(m, tokens, 1, T, logits, NULL, cache, err);
}

/* The decode workspace a cache of this capacity needs. */
static work_shape decode_shape(const rt_config *cfg, int capacity, bool pre_rope)
{
    const work_shape ws = {1, (size_t)cfg->n_heads * capacity, (size_t)cfg->n_heads * capacity,
                           pre_rope ? (size_t)capacity * cfg->n_kv_heads * cfg->head_dim : 0,
                           cfg->family == RT_LLAMA};
    return ws;
}

/* n zeroed floats of cache: in 2 MiB pages when large enough for that to
 * matter to attention's streaming (16 MiB and up), else from calloc. */
static float *cache_alloc(size_t n)
{
    if (n * sizeof(float) < ((size_t)16 << 20))
        return calloc(n, sizeof(float));
    float *p = rt_alloc_streamed(n * sizeof(float));
    if (p)
        memset(p, 0, n * sizeof(float));
    return p;
}

qkv_status rt_cache_init(rt_cache *cache, const rt_config *cfg, int capacity, qkv_error *err)
{
    memset(cache, 0, sizeof *cache);
    qkv_status s = rt_config_check(cfg, err);
    if (s != QKV_OK)
        return s;
    if (capacity < 1 || capacity > RT_SEQ_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "cache capacity %d is outside 1..%d", capacity,
                             RT_SEQ_MAX);
    const bool one = cfg->share == SHARE_KV || cfg->share == SHARE_ALL;
    uint64_t per64 = 0, bytes64;
    if (!ck_muladd3(&per64, (uint64_t)cfg->n_layers * (uint64_t)capacity, (uint64_t)cfg->n_kv_heads,
                    (uint64_t)cfg->head_dim) ||
        !ck_mul(per64, sizeof(float), &bytes64) || bytes64 > SIZE_MAX / 2)
        return qkv_error_set(err, QKV_ERR_NOMEM, "a %d-token cache is too large to allocate",
                             capacity);
    const size_t per = (size_t)per64;
    cache->capacity = capacity;
    cache->n_tensors = one ? 1 : 2;
    cache->pre_rope = one && cfg->family == RT_LLAMA;
    const work_shape ws = decode_shape(cfg, capacity, cache->pre_rope);
    work w;
    const size_t work_elems = work_layout(cfg, &ws, NULL, &w);
    cache->k = cache_alloc(per);
    cache->v = one ? NULL : cache_alloc(per);
    cache->work = malloc(work_elems * sizeof(float));
    if (!cache->k || (!one && !cache->v) || !cache->work) {
        rt_cache_free(cache);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for a %d-token cache", capacity);
    }
    cache->bytes = per * sizeof(float) * (size_t)cache->n_tensors;
    cache->work_bytes = work_elems * sizeof(float);
    return QKV_OK;
}

void rt_cache_free(rt_cache *cache)
{
    if (!cache)
        return;
    free(cache->k);
    free(cache->v);
    free(cache->work);
    memset(cache, 0, sizeof *cache);
}

/* One decode step's attention of every query head over the cache, split
 * over the pool by heads; head h keeps its scores and weights in rows h of
 * s and a (NH, capacity). */
typedef struct {
    const rt_config *c;
    const rt_layer *y;
    int pos, n_keys, capacity;
    const float *q, *keys, *values;
    float *s, *a, *o;
} step_job;

static void step_task(void *vctx, int i, int n)
{
    const step_job *j = vctx;
    const rt_config *c = j->c;
    const int NH = c->n_heads, HD = c->head_dim, KW = c->n_kv_heads * HD,
              group = NH / c->n_kv_heads;
    const float scale = rt_pos2d_gain(c, j->y) / sqrtf((float)HD); /* as rt_attention_block */
    for (int h = NH * i / n; h < NH * (i + 1) / n; h++) {
        const int g = h / group;
        const float *Kg = j->keys + (size_t)g * HD, *Vg = j->values + (size_t)g * HD;
        float *sh = j->s + (size_t)h * j->capacity, *ah = j->a + (size_t)h * j->capacity;
        cblas_sgemv(CblasRowMajor, CblasNoTrans, j->n_keys, HD, scale, Kg, KW,
                    j->q + (size_t)h * HD, 1, 0.0f, sh, 1);
        if (c->pos2d)
            for (int k = 0; k < j->n_keys; k++)
                sh[k] += rt_pos2d_add(c, j->y, j->pos, k);
        memcpy(ah, sh, (size_t)j->n_keys * sizeof(float));
        rt_softmax(ah, j->n_keys);
        cblas_sgemv(CblasRowMajor, CblasTrans, j->n_keys, HD, 1.0f, Vg, KW, ah, 1, 0.0f,
                    j->o + (size_t)h * HD, 1);
    }
}

qkv_status rt_decode(const rt_model *m, rt_cache *cache, int token, float *logits,
                     const rt_hooks *hooks, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    const int pos = cache->len;
    if (!c->causal)
        return qkv_error_set(err, QKV_ERR_INVALID, "decoding needs a causal model");
    if (pos >= cache->capacity)
        return qkv_error_set(err, QKV_ERR_RANGE, "the cache is full (%d tokens)", cache->capacity);
    if (c->family == RT_GPT2 && pos >= c->max_seq)
        return qkv_error_set(err, QKV_ERR_RANGE, "position %d exceeds the %d learned positions",
                             pos, c->max_seq);
    qkv_status s = check_token(c, token, err);
    if (s != QKV_OK)
        return s;
    const int C = c->d_model, HD = c->head_dim, NH = c->n_heads, KVH = c->n_kv_heads;
    const int QW = NH * HD, KW = KVH * HD, group = NH / KVH, n_keys = pos + 1;
    const bool hooked = hooks && hooks->on_attention;
    /* the workspace was allocated with the cache: nothing is allocated per token */
    const work_shape ws = decode_shape(c, cache->capacity, cache->pre_rope);
    work w;
    work_layout(c, &ws, cache->work, &w);
    if ((s = embed_rows(m, &token, 1, 1, pos, w.x, err)) != QKV_OK)
        return s;
    const size_t layer_stride = (size_t)cache->capacity * KW;
    rt_layer fetched;
    for (int l = 0; l < c->n_layers; l++) {
        const rt_layer *y;
        if ((s = layer_at(m, l, &fetched, &y, err)) != QKV_OK)
            return s;
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln1_w, y->ln1_b, 1, C, c->norm_eps);
        rt_qkv_rows(m->pool, c, y, w.h, 1, 1, pos, w.q, w.k, w.v, w.q_pre, w.k_pre);
        float *kl = cache->k + l * layer_stride,
              *vl = cache->v ? cache->v + l * layer_stride : NULL;
        const float *unrotated = w.k_pre ? w.k_pre : w.k; /* GPT-2: no rotation at all */
        memcpy(kl + (size_t)pos * KW, cache->pre_rope ? unrotated : w.k,
               (size_t)KW * sizeof(float));
        if (vl)
            memcpy(vl + (size_t)pos * KW, w.v, (size_t)KW * sizeof(float));
        const float *keys = kl, *values = vl ? vl : kl;
        if (cache->pre_rope) {
            memcpy(w.krot, kl, (size_t)n_keys * KW * sizeof(float));
            for (int j = 0; j < n_keys; j++)
                rt_rope_row(w.krot + (size_t)j * KW, KVH, HD, j, c->rope_theta, 0);
            keys = w.krot;
        }
        step_job j = {c, y, pos, n_keys, cache->capacity, w.q, keys, values, w.s, w.a, w.o};
        rt_pool_run((size_t)NH * n_keys * HD < SMALL_JOB_MACS ? NULL : m->pool, step_task, &j);
        for (int h = 0; hooked && h < NH; h++) {
            const int g = h / group;
            rt_attn_event ev = {
                .layer = l,
                .head = h,
                .kv_head = g,
                .seq = 0,
                .n_queries = 1,
                .n_keys = n_keys,
                .first_query_pos = pos,
                .scores = w.s + (size_t)h * cache->capacity,
                .att = w.a + (size_t)h * cache->capacity,
                .q = w.q + (size_t)h * HD,
                .q_pre = (w.q_pre ? w.q_pre : w.q) + (size_t)h * HD,
                .k = keys + (size_t)g * HD,
                .k_pre = c->family == RT_GPT2 ? keys + (size_t)g * HD
                         : cache->pre_rope    ? kl + (size_t)g * HD
                                              : NULL,
                .v = values + (size_t)g * HD,
                .x = w.h,
                .ld_q = QW,
                .ld_kv = KW,
            };
            hooks->on_attention(hooks->user, &ev);
        }
        const rt_mm out = {w.tmp, w.o, y->wo, y->bo, 1, QW, C, C, y->wt};
        rt_matmul_many(m->pool, &out, 1);
        for (int i = 0; i < C; i++)
            w.x[i] += w.tmp[i];
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln2_w, y->ln2_b, 1, C, c->norm_eps);
        ffn_add(m->pool, c, y, w.x, w.h, w.f1, w.f3, w.tmp, 1);
    }
    rt_norm_rows(w.h, NULL, NULL, w.x, m->lnf_w, m->lnf_b, 1, C, c->norm_eps);
    if ((s = classify(m, w.h, 1, logits, err)) != QKV_OK)
        return s;
    cache->len++;
    return QKV_OK;
}
