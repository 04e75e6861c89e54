#include "probes/runtime/rt_forward.h"

#include "probes/runtime/rt_ops.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* FFN on N rows of h (normed), added into x. f1, f3: (N, FF) scratch. */
static void ffn_add(const rt_config *c, const rt_layer *y, float *x, const float *h, float *f1,
                    float *f3, float *tmp, int N)
{
    const int C = c->d_model, FF = c->d_ff;
    rt_matmul(f1, h, y->w1, y->b1, N, C, FF);
    const size_t n = (size_t)N * FF;
    if (c->family == RT_GPT2) {
        for (size_t i = 0; i < n; i++)
            f1[i] = rt_gelu(f1[i]);
    } else {
        rt_matmul(f3, h, y->w3, NULL, N, C, FF);
        for (size_t i = 0; i < n; i++) {
            float g = f1[i];
            f1[i] = g / (1.0f + expf(-g)) * f3[i];
        }
    }
    rt_matmul(tmp, f1, y->w2, y->b2, N, FF, C);
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
    float *x, *h, *q, *k, *v, *q_pre, *k_pre, *o, *f1, *f3, *tmp, *s, *a;
    void *block;
} work;

/* One allocation for every activation buffer, sized from the table below. */
static qkv_status work_init(work *w, const rt_config *c, int N, int n_keys, bool want_pre,
                            qkv_error *err)
{
    const size_t C = (size_t)c->d_model, QW = (size_t)c->n_heads * c->head_dim,
                 KW = (size_t)c->n_kv_heads * c->head_dim, FF = (size_t)c->d_ff, n = (size_t)N;
    const size_t sizes[] = {
        n * C,                  /* x  (N, C) residual */
        n * C,                  /* h  (N, C) normed */
        n * QW,                 /* q  (N, NH*HD) */
        n * KW,                 /* k  (N, KVH*HD) */
        n * KW,                 /* v  (N, KVH*HD) */
        want_pre ? n * QW : 0,  /* q_pre */
        want_pre ? n * KW : 0,  /* k_pre */
        n * QW,                 /* o  (N, NH*HD) attention output */
        n * FF,                 /* f1 (N, FF) */
        n * FF,                 /* f3 (N, FF) */
        n * (C > KW ? C : KW),  /* tmp */
        n * (size_t)n_keys,     /* s  (N, keys) scores of one head */
        n * (size_t)n_keys,     /* a  (N, keys) attention of one head */
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += sizes[i];
    memset(w, 0, sizeof *w);
    w->block = malloc(total * sizeof(float));
    if (!w->block)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for %zu activations", total);
    float *p = w->block;
    float **slots[] = {&w->x, &w->h, &w->q, &w->k, &w->v, &w->q_pre, &w->k_pre,
                       &w->o, &w->f1, &w->f3, &w->tmp, &w->s, &w->a};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *slots[i] = sizes[i] ? p : NULL;
        p += sizes[i];
    }
    return QKV_OK;
}

qkv_status rt_forward(const rt_model *m, const int *tokens, int B, int T, float *logits,
                      const rt_hooks *hooks, qkv_error *err)
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
    work w;
    qkv_status s = work_init(&w, c, N, T, hooked && c->family == RT_LLAMA, err);
    if (s != QKV_OK)
        return s;
    int *positions = malloc((size_t)N * sizeof *positions);
    if (!positions) {
        free(w.block);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    for (int n = 0; n < N; n++)
        positions[n] = n % T;

    for (int n = 0; n < N; n++) {
        memcpy(w.x + (size_t)n * C, m->tok_emb + (size_t)tokens[n] * C, (size_t)C * sizeof(float));
        if (m->pos_emb)
            for (int i = 0; i < C; i++)
                w.x[(size_t)n * C + i] += m->pos_emb[(size_t)positions[n] * C + i];
    }
    for (int l = 0; l < c->n_layers; l++) {
        const rt_layer *y = &m->layers[l];
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln1_w, y->ln1_b, N, C, c->norm_eps);
        rt_qkv_rows(c, y, w.h, N, T, 0, w.q, w.k, w.v, w.q_pre, w.k_pre);
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                const int g = h / group;
                const float *Qh = w.q + (size_t)b * T * QW + (size_t)h * HD;
                const float *Kg = w.k + (size_t)b * T * KW + (size_t)g * HD;
                const float *Vg = w.v + (size_t)b * T * KW + (size_t)g * HD;
                rt_attention_block(c, T, Qh, Kg, Vg, QW, KW, w.s, w.a,
                                   w.o + (size_t)b * T * QW + (size_t)h * HD);
                if (hooked) {
                    rt_attn_event ev = {
                        .layer = l, .head = h, .kv_head = g, .seq = b, .n_queries = T,
                        .n_keys = T, .first_query_pos = 0, .scores = w.s, .att = w.a, .q = Qh,
                        .q_pre = w.q_pre ? w.q_pre + (size_t)b * T * QW + (size_t)h * HD : Qh,
                        .k = Kg,
                        .k_pre = w.k_pre ? w.k_pre + (size_t)b * T * KW + (size_t)g * HD : Kg,
                        .v = Vg, .ld_q = QW, .ld_kv = KW,
                    };
                    hooks->on_attention(hooks->user, &ev);
                }
            }
        }
        rt_matmul(w.tmp, w.o, y->wo, y->bo, N, QW, C);
        for (size_t i = 0; i < (size_t)N * C; i++)
            w.x[i] += w.tmp[i];
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln2_w, y->ln2_b, N, C, c->norm_eps);
        ffn_add(c, y, w.x, w.h, w.f1, w.f3, w.tmp, N);
    }
    rt_norm_rows(w.h, NULL, NULL, w.x, m->lnf_w, m->lnf_b, N, C, c->norm_eps);
    rt_matmul(logits, w.h, m->wcls, NULL, N, C, c->vocab);
    free(positions);
    free(w.block);
    return QKV_OK;
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
    const size_t per = (size_t)cfg->n_layers * (size_t)capacity * (size_t)cfg->n_kv_heads *
                       (size_t)cfg->head_dim;
    cache->capacity = capacity;
    cache->n_tensors = one ? 1 : 2;
    cache->pre_rope = one && cfg->family == RT_LLAMA;
    cache->k = calloc(per, sizeof(float));
    cache->v = one ? NULL : calloc(per, sizeof(float));
    if (!cache->k || (!one && !cache->v)) {
        rt_cache_free(cache);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for a %d-token cache", capacity);
    }
    cache->bytes = per * sizeof(float) * (size_t)cache->n_tensors;
    return QKV_OK;
}

void rt_cache_free(rt_cache *cache)
{
    if (!cache)
        return;
    free(cache->k);
    free(cache->v);
    memset(cache, 0, sizeof *cache);
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
        return qkv_error_set(err, QKV_ERR_RANGE, "position %d exceeds the %d learned positions", pos,
                             c->max_seq);
    qkv_status s = check_token(c, token, err);
    if (s != QKV_OK)
        return s;
    const int C = c->d_model, HD = c->head_dim, NH = c->n_heads, KVH = c->n_kv_heads;
    const int QW = NH * HD, KW = KVH * HD, group = NH / KVH, n_keys = pos + 1;
    const bool hooked = hooks && hooks->on_attention;
    const float scale = 1.0f / sqrtf((float)HD);
    work w;
    if ((s = work_init(&w, c, 1, n_keys, c->family == RT_LLAMA, err)) != QKV_OK)
        return s;
    float *krot = NULL; /* (n_keys, KW) keys rotated for this step */
    if (cache->pre_rope && !(krot = malloc((size_t)n_keys * KW * sizeof(float)))) {
        free(w.block);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }

    memcpy(w.x, m->tok_emb + (size_t)token * C, (size_t)C * sizeof(float));
    if (m->pos_emb)
        for (int i = 0; i < C; i++)
            w.x[i] += m->pos_emb[(size_t)pos * C + i];
    const size_t layer_stride = (size_t)cache->capacity * KW;
    for (int l = 0; l < c->n_layers; l++) {
        const rt_layer *y = &m->layers[l];
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln1_w, y->ln1_b, 1, C, c->norm_eps);
        rt_qkv_rows(c, y, w.h, 1, 1, pos, w.q, w.k, w.v, w.q_pre, w.k_pre);
        float *kl = cache->k + l * layer_stride, *vl = cache->v ? cache->v + l * layer_stride : NULL;
        const float *unrotated = w.k_pre ? w.k_pre : w.k; /* GPT-2: no rotation at all */
        memcpy(kl + (size_t)pos * KW, cache->pre_rope ? unrotated : w.k, (size_t)KW * sizeof(float));
        if (vl)
            memcpy(vl + (size_t)pos * KW, w.v, (size_t)KW * sizeof(float));
        const float *keys = kl, *values = vl ? vl : kl;
        if (cache->pre_rope) {
            memcpy(krot, kl, (size_t)n_keys * KW * sizeof(float));
            for (int j = 0; j < n_keys; j++)
                rt_rope_row(krot + (size_t)j * KW, KVH, HD, j, c->rope_theta, 0);
            keys = krot;
        }
        for (int h = 0; h < NH; h++) {
            const int g = h / group;
            const float *Kg = keys + (size_t)g * HD, *Vg = values + (size_t)g * HD;
            cblas_sgemv(CblasRowMajor, CblasNoTrans, n_keys, HD, scale, Kg, KW, w.q + (size_t)h * HD,
                        1, 0.0f, w.s, 1);
            if (c->pos2d)
                for (int j = 0; j < n_keys; j++)
                    w.s[j] += rt_pos2d(c, pos, j);
            memcpy(w.a, w.s, (size_t)n_keys * sizeof(float));
            rt_softmax(w.a, n_keys);
            if (hooked) {
                rt_attn_event ev = {
                    .layer = l, .head = h, .kv_head = g, .seq = 0, .n_queries = 1,
                    .n_keys = n_keys, .first_query_pos = pos, .scores = w.s, .att = w.a,
                    .q = w.q + (size_t)h * HD,
                    .q_pre = (w.q_pre ? w.q_pre : w.q) + (size_t)h * HD, .k = Kg,
                    .k_pre = c->family == RT_GPT2 ? Kg
                             : cache->pre_rope   ? kl + (size_t)g * HD
                                                 : NULL,
                    .v = Vg, .ld_q = QW, .ld_kv = KW,
                };
                hooks->on_attention(hooks->user, &ev);
            }
            cblas_sgemv(CblasRowMajor, CblasTrans, n_keys, HD, 1.0f, Vg, KW, w.a, 1, 0.0f,
                        w.o + (size_t)h * HD, 1);
        }
        rt_matmul(w.tmp, w.o, y->wo, y->bo, 1, QW, C);
        for (int i = 0; i < C; i++)
            w.x[i] += w.tmp[i];
        rt_norm_rows(w.h, NULL, NULL, w.x, y->ln2_w, y->ln2_b, 1, C, c->norm_eps);
        ffn_add(c, y, w.x, w.h, w.f1, w.f3, w.tmp, 1);
    }
    rt_norm_rows(w.h, NULL, NULL, w.x, m->lnf_w, m->lnf_b, 1, C, c->norm_eps);
    rt_matmul(logits, w.h, m->wcls, NULL, 1, C, c->vocab);
    cache->len++;
    free(krot);
    free(w.block);
    return QKV_OK;
}
