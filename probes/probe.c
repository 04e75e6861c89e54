#include "probes/probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "probes/runtime/rt_forward.h"

typedef struct {
    probe_result *r;
    int *row_of_layer; /* (L) first row of each selected layer, −1 if not selected */
    qkv_status status;
    qkv_error *err;
} recorder;

/* CKA of the event's K (before RoPE) with X·Rᵀ, R a Gaussian (HD, C) drawn
 * from a stream keyed by layer and KV head: the K–V similarity an untrained,
 * unrelated value projection of the same input would show. */
static qkv_status random_v_cka(int C, const rt_attn_event *ev, int T, int HD, double *out,
                               qkv_error *err)
{
    float *R = malloc((size_t)HD * C * sizeof(float)), *V = malloc((size_t)T * HD * sizeof(float));
    if (!R || !V) {
        free(R);
        free(V);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    rt_rng rng = {0x5EEDC4A0ull + 7919ull * (uint64_t)ev->layer + (uint64_t)ev->kv_head};
    for (size_t i = 0; i < (size_t)HD * C; i++)
        R[i] = (float)rt_rng_normal(&rng);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, HD, C, 1.0f, ev->x, C, R, C, 0.0f, V,
                HD);
    qkv_status s = spectral_cka(ev->k_pre, T, HD, ev->ld_kv, V, HD, HD, out, err);
    free(R);
    free(V);
    return s;
}

static void on_attention(void *user, const rt_attn_event *ev)
{
    recorder *rec = user;
    if (rec->status != QKV_OK || rec->row_of_layer[ev->layer] < 0 || ev->seq != 0)
        return;
    probe_head *h = &rec->r->heads[rec->row_of_layer[ev->layer] + ev->head];
    const int T = ev->n_queries, HD = rec->r->cfg.head_dim;
    qkv_status s;
    if ((s = spectral_ranks_of(ev->q, T, HD, ev->ld_q, &h->q, rec->err)) ||
        (s = spectral_ranks_of(ev->k, T, HD, ev->ld_kv, &h->k, rec->err)) ||
        (s = spectral_ranks_of(ev->k_pre, T, HD, ev->ld_kv, &h->k_pre, rec->err)) ||
        (s = spectral_ranks_of(ev->v, T, HD, ev->ld_kv, &h->v, rec->err)) ||
        (s = spectral_ranks_of(ev->att, T, ev->n_keys, ev->n_keys, &h->map, rec->err)) ||
        (s = spectral_cka(ev->k_pre, T, HD, ev->ld_kv, ev->v, HD, ev->ld_kv, &h->cka_kv,
                          rec->err)) ||
        (s = spectral_cka(ev->q_pre, T, HD, ev->ld_q, ev->k_pre, HD, ev->ld_kv, &h->cka_qk,
                          rec->err))) {
        rec->status = s;
        return;
    }
    if (ev->x && (s = random_v_cka(rec->r->cfg.d_model, ev, T, HD, &h->cka_kv_rand, rec->err))) {
        rec->status = s;
        return;
    }
    h->sym_scores = spectral_sym_share(ev->scores, T, ev->n_keys);
    spectral_map_stats_of(ev->att, T, ev->n_keys, rec->r->cfg.causal, &h->map_stats);
    const int n = rec->r->map_n;
    if (h->att_map)
        for (int i = 0; i < n; i++)
            memcpy(h->att_map + (size_t)i * n, ev->att + (size_t)i * ev->n_keys,
                   (size_t)n * sizeof(float));
}

/* Singular values of a weight slice (kept for spectra) and its rank figures. */
static qkv_status slice_ranks(const float *w, int HD, int C, double *sv, spectral_ranks *r,
                              qkv_error *err)
{
    qkv_status s = spectral_svals(w, HD, C, C, sv, err);
    if (s == QKV_OK)
        spectral_ranks_from(sv, HD < C ? HD : C, r);
    return s;
}

/* W_Q, W_K and W_V of a head with the attention norm's gain g folded in
 * (row r, column c times g[c]): the K–V and Q–K principal angles and the
 * flattened K–V cosine. */
static qkv_status folded(const float *wq, const float *wk, const float *wv, const float *g, int HD,
                         int C, probe_head *h, qkv_error *err)
{
    const size_t n = (size_t)HD * C;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)),
          *q = malloc(n * sizeof(float));
    qkv_status s = QKV_OK;
    if (!a || !b || !q) {
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto out;
    }
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < n; i++) {
        a[i] = wk[i] * g[i % (size_t)C];
        b[i] = wv[i] * g[i % (size_t)C];
        q[i] = wq[i] * g[i % (size_t)C];
        ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    }
    h->kv_flat_cos = aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
    if ((s = spectral_overlap_rows(a, HD, C, b, HD, C, C, NULL, &h->kv_folded, err)) == QKV_OK)
        s = spectral_overlap_rows(q, HD, C, a, HD, C, C, NULL, &h->qk_folded, err);
out:
    free(a);
    free(b);
    free(q);
    return s;
}

static qkv_status weight_metrics(const rt_model *m, const rt_layer *y, probe_head *h,
                                 qkv_error *err)
{
    const rt_config *c = &m->cfg;
    const int C = c->d_model, HD = c->head_dim;
    if (y->wt) /* rows of W are read below: the (out, in) layout only */
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "weight probes need the file layout, not the decode layout");
    const float *wq = y->wq + (size_t)h->head * HD * C;
    const float *wk = y->wk + (size_t)h->kv_head * HD * C;
    const float *wv = y->wv + (size_t)h->kv_head * HD * C;
    qkv_status s;
    if ((s = slice_ranks(wq, HD, C, h->sv_wq, &h->wq, err)) ||
        (s = slice_ranks(wk, HD, C, h->sv_wk, &h->wk, err)) ||
        (s = slice_ranks(wv, HD, C, h->sv_wv, &h->wv, err)) ||
        (s = spectral_overlap_rows(wk, HD, C, wv, HD, C, C, h->cos_kv, &h->kv, err)) ||
        (s = spectral_overlap_rows(wq, HD, C, wk, HD, C, C, h->cos_qk, &h->qk, err)) ||
        (s = spectral_sym_share_bilinear(wq, wk, HD, C, C, &h->sym_w, err)))
        return s;
    return folded(wq, wk, wv, y->ln1_w, HD, C, h, err);
}

void probe_result_free(probe_result *r)
{
    if (!r)
        return;
    for (int i = 0; r->heads && i < r->n_heads; i++) {
        free(r->heads[i].cos_kv);
        free(r->heads[i].cos_qk);
        free(r->heads[i].sv_wq);
        free(r->heads[i].sv_wk);
        free(r->heads[i].sv_wv);
        free(r->heads[i].att_map);
    }
    free(r->heads);
    free(r->tokens);
    memset(r, 0, sizeof *r);
}

qkv_status probe_run(const rt_model *m, const int *tokens, int T, const bool *layer_mask,
                     bool keep_maps, probe_result *out, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    memset(out, 0, sizeof *out);
    out->cfg = *c;
    if (T < 2)
        return qkv_error_set(err, QKV_ERR_RANGE, "probing needs at least 2 tokens, not %d", T);
    int selected = 0;
    for (int l = 0; l < c->n_layers; l++)
        selected += !layer_mask || layer_mask[l];
    if (selected == 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "no layer selected");
    const int NH = c->n_heads, HD = c->head_dim;
    recorder rec = {out, NULL, QKV_OK, err};
    rec.row_of_layer = malloc((size_t)c->n_layers * sizeof(int));
    out->tokens = malloc((size_t)T * sizeof(int));
    out->heads = calloc((size_t)selected * NH, sizeof *out->heads);
    qkv_status s = QKV_OK;
    if (!rec.row_of_layer || !out->tokens || !out->heads) {
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto done;
    }
    out->n_heads = selected * NH;
    out->map_n = keep_maps ? (T < PROBE_MAP_MAX ? T : PROBE_MAP_MAX) : 0;
    memcpy(out->tokens, tokens, (size_t)T * sizeof(int));
    out->n_tokens = T;
    for (int l = 0, row = 0; l < c->n_layers; l++) {
        rec.row_of_layer[l] = (!layer_mask || layer_mask[l]) ? row : -1;
        if (rec.row_of_layer[l] < 0)
            continue;
        for (int h = 0; h < NH; h++, row++) {
            probe_head *ph = &out->heads[row];
            ph->layer = l;
            ph->head = h;
            ph->kv_head = h / (NH / c->n_kv_heads);
            ph->cka_kv_rand = NAN;
            const size_t sv_n = (size_t)(HD < c->d_model ? HD : c->d_model);
            ph->cos_kv = calloc((size_t)HD, sizeof(double));
            ph->cos_qk = calloc((size_t)HD, sizeof(double));
            ph->sv_wq = calloc(sv_n, sizeof(double));
            ph->sv_wk = calloc(sv_n, sizeof(double));
            ph->sv_wv = calloc(sv_n, sizeof(double));
            if (out->map_n)
                ph->att_map = calloc((size_t)out->map_n * (size_t)out->map_n, sizeof(float));
            if (!ph->cos_kv || !ph->cos_qk || !ph->sv_wq || !ph->sv_wk || !ph->sv_wv ||
                (out->map_n && !ph->att_map)) {
                s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
                goto done;
            }
        }
    }
    rt_hooks hooks = {on_attention, &rec};
    /* the hooks are all a probe needs: no logits */
    if ((s = rt_forward(m, tokens, 1, T, NULL, &hooks, err)) != QKV_OK)
        goto done;
    if ((s = rec.status) != QKV_OK)
        goto done;
    rt_layer fetched; /* a model kept in its file gives one layer at a time */
    const rt_layer *y = NULL;
    for (int i = 0; i < out->n_heads; i++) {
        const int l = out->heads[i].layer;
        if (!m->fetch)
            y = &m->layers[l];
        else if (i == 0 || out->heads[i - 1].layer != l) {
            if ((s = m->fetch->layer(m->fetch->ctx, l, &fetched, err)) != QKV_OK)
                goto done;
            y = &fetched;
        }
        if ((s = weight_metrics(m, y, &out->heads[i], err)) != QKV_OK)
            goto done;
    }
done:
    free(rec.row_of_layer);
    if (s != QKV_OK)
        probe_result_free(out);
    return s;
}

qkv_status probe_sample(const rt_model *m, int n, uint64_t seed, int *tokens, qkv_error *err)
{
    return probe_sample_progress(m, n, seed, tokens, NULL, NULL, err);
}

qkv_status probe_sample_progress(const rt_model *m, int n, uint64_t seed, int *tokens,
                                 void (*progress)(void *user, int done, int total), void *user,
                                 qkv_error *err)
{
    const rt_config *c = &m->cfg;
    if (n < 1)
        return qkv_error_set(err, QKV_ERR_RANGE, "sample length must be at least 1");
    rt_cache cache;
    qkv_status s = rt_cache_init(&cache, c, n, err);
    if (s != QKV_OK)
        return s;
    float *logits = malloc((size_t)c->vocab * sizeof(float));
    if (!logits) {
        rt_cache_free(&cache);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    rt_rng rng = {seed};
    tokens[0] = c->vocab > 1 ? 1 : 0;
    for (int i = 1; i < n && s == QKV_OK; i++) {
        if (progress && (i == 1 || i % 32 == 0))
            progress(user, i, n);
        if ((s = rt_decode(m, &cache, tokens[i - 1], logits, NULL, err)) != QKV_OK)
            break;
        double mx = logits[0], sum = 0.0;
        for (int v = 1; v < c->vocab; v++)
            if (logits[v] > mx)
                mx = logits[v];
        for (int v = 0; v < c->vocab; v++)
            sum += exp(logits[v] - mx);
        double u = rt_rng_uniform(&rng) * sum, acc = 0.0;
        int pick = c->vocab - 1;
        for (int v = 0; v < c->vocab; v++) {
            acc += exp(logits[v] - mx);
            if (acc > u) {
                pick = v;
                break;
            }
        }
        tokens[i] = pick;
    }
    if (progress && s == QKV_OK)
        progress(user, n, n);
    free(logits);
    rt_cache_free(&cache);
    return s;
}

/* Per-head arrays of a weight probe: angles and spectra of HD and sv_n entries. */
static qkv_status alloc_weight_heads(probe_result *out, int HD, int sv_n, qkv_error *err)
{
    for (int i = 0; i < out->n_heads; i++) {
        probe_head *h = &out->heads[i];
        /* activation probes only */
        h->cka_kv_rand = h->kv_flat_cos = h->kv_folded.mean_cos2 = h->qk_folded.mean_cos2 = NAN;
        h->cos_kv = calloc((size_t)HD, sizeof(double));
        h->cos_qk = calloc((size_t)HD, sizeof(double));
        h->sv_wq = calloc((size_t)sv_n, sizeof(double));
        h->sv_wk = calloc((size_t)sv_n, sizeof(double));
        h->sv_wv = calloc((size_t)sv_n, sizeof(double));
        if (!h->cos_kv || !h->cos_qk || !h->sv_wq || !h->sv_wk || !h->sv_wv)
            return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    return QKV_OK;
}

/* Buffers of one layer's weight probe. */
typedef struct {
    float *wq, *wk, *wv;    /* (NH*HD, C), (KVH*HD, C), (KVH*HD, C) */
    double *bq, *bk, *bv;   /* orthonormal row bases: (HD, C), (KVH, HD, C), (HD, C) */
    int *rk;                /* (KVH) ranks of the K bases */
    spectral_ranks *rank_k; /* (KVH) */
} weight_work;

/* One KV head kv of layer l and the query heads that read it (heads
 * h0[0..group)): V's row space and its overlap with K's, the K=V residual,
 * and per query head Q's ranks, its overlap with K and the symmetric share of
 * W_Q W_Kᵀ. K's basis of this KV head is in w->bk already. */
static qkv_status probe_kv_group(const rt_config *g, const weight_work *w, int l, int kv,
                                 probe_head *h0, qkv_error *err)
{
    const int HD = g->head_dim, C = g->d_model, group = g->n_heads / g->n_kv_heads;
    const int sv_n = HD < C ? HD : C;
    const double *bk = w->bk + (size_t)kv * HD * C;
    const float *wk = w->wk + (size_t)kv * HD * C, *wv = w->wv + (size_t)kv * HD * C;
    int rv;
    double sv_v[4096], cos_kv[4096]; /* HD <= 4096, checked by the caller */
    qkv_status s;
    if ((s = spectral_rowspace(wv, HD, C, C, sv_v, w->bv, &rv, err)) != QKV_OK)
        return s;
    spectral_overlap kvov;
    if ((s = spectral_overlap_bases(bk, w->rk[kv], HD, w->bv, rv, HD, C, cos_kv, &kvov, err)) !=
        QKV_OK)
        return s;
    const double resid = spectral_residual(wv, HD, C, bk, w->rk[kv], C);
    spectral_ranks vr;
    spectral_ranks_from(sv_v, sv_n, &vr);
    for (int q = 0; q < group; q++) {
        probe_head *h = &h0[q];
        const int head = kv * group + q;
        h->layer = l;
        h->head = head;
        h->kv_head = kv;
        h->wk = w->rank_k[kv];
        h->wv = vr;
        memcpy(h->sv_wk, h0->sv_wk, (size_t)sv_n * sizeof(double));
        memcpy(h->sv_wv, sv_v, (size_t)sv_n * sizeof(double));
        h->kv = kvov;
        memcpy(h->cos_kv, cos_kv, (size_t)HD * sizeof(double));
        h->kv_residual = resid;
        int rq;
        const float *wqh = w->wq + (size_t)head * HD * C;
        if ((s = spectral_rowspace(wqh, HD, C, C, h->sv_wq, w->bq, &rq, err)) ||
            (s = spectral_overlap_bases(w->bq, rq, HD, bk, w->rk[kv], HD, C, h->cos_qk, &h->qk,
                                        err)) ||
            (s = spectral_sym_share_bilinear(wqh, wk, HD, C, C, &h->sym_w, err)))
            return s;
        spectral_ranks_from(h->sv_wq, sv_n, &h->wq);
    }
    return QKV_OK;
}

qkv_status probe_weights(ckpt *c, const bool *layer_mask, probe_result *out, qkv_error *err)
{
    const rt_config *g = &c->cfg;
    memset(out, 0, sizeof *out);
    out->cfg = *g;
    out->weights_only = true;
    const int NH = g->n_heads, KVH = g->n_kv_heads, HD = g->head_dim, C = g->d_model;
    const int group = NH / KVH, sv_n = HD < C ? HD : C;
    int selected = 0;
    for (int l = 0; l < g->n_layers; l++)
        selected += !layer_mask || layer_mask[l];
    if (selected == 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "no layer selected");
    if (HD > 4096)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED, "heads wider than 4096 (%d)", HD);
    const size_t QW = (size_t)NH * HD, KW = (size_t)KVH * HD;
    weight_work w = {
        malloc(QW * C * sizeof(float)),    malloc(KW * C * sizeof(float)),
        malloc(KW * C * sizeof(float)),    malloc((size_t)HD * C * sizeof(double)),
        malloc(KW * C * sizeof(double)),   malloc((size_t)HD * C * sizeof(double)),
        malloc((size_t)KVH * sizeof(int)), malloc((size_t)KVH * sizeof(spectral_ranks)),
    };
    out->heads = calloc((size_t)selected * NH, sizeof *out->heads);
    qkv_status s = QKV_OK;
    if (!w.wq || !w.wk || !w.wv || !w.bq || !w.bk || !w.bv || !w.rk || !w.rank_k || !out->heads) {
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto done;
    }
    out->n_heads = selected * NH;
    if ((s = alloc_weight_heads(out, HD, sv_n, err)) != QKV_OK)
        goto done;
    int row = 0;
    for (int l = 0; l < g->n_layers; l++) {
        if (layer_mask && !layer_mask[l])
            continue;
        if ((s = ckpt_read_attn(c, l, w.wq, w.wk, w.wv, err)) != QKV_OK)
            goto done;
        probe_head *first = &out->heads[row];
        /* K bases once per KV head; V per KV head (for overlap and residual) */
        for (int kv = 0; kv < KVH; kv++) {
            probe_head *h = &first[kv * group];
            if ((s = spectral_rowspace(w.wk + (size_t)kv * HD * C, HD, C, C, h->sv_wk,
                                       w.bk + (size_t)kv * HD * C, &w.rk[kv], err)) != QKV_OK)
                goto done;
            spectral_ranks_from(h->sv_wk, sv_n, &w.rank_k[kv]);
        }
        for (int kv = 0; kv < KVH; kv++)
            if ((s = probe_kv_group(g, &w, l, kv, &first[kv * group], err)) != QKV_OK)
                goto done;
        row += NH;
    }
done:
    free(w.wq);
    free(w.wk);
    free(w.wv);
    free(w.bq);
    free(w.bk);
    free(w.bv);
    free(w.rk);
    free(w.rank_k);
    if (s != QKV_OK)
        probe_result_free(out);
    return s;
}
