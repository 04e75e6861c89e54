#include "analyzer/kvplan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/core/checked.h"
#include "analyzer/paper.h"

/* ---- parameters ------------------------------------------------------- */

#define OVERFLOW_IF(cond, what)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return qkv_error_set(err, QKV_ERR_OVERFLOW, "model '%s': the %s overflows 64 bits",    \
                                 m->name, what);                                                   \
    } while (0)

/* Attention parameters of one layer. */
static qkv_status attn_params(const model_shape *m, const variant *v, uint64_t *out, qkv_error *err)
{
    const uint64_t C = m->d_model, NH = m->n_heads, HD = m->head_dim, HDV = m->v_head_dim;
    uint64_t n = 0;
    if (v->mla) {
        const uint64_t nope = HD - m->rope_dim;
        if (m->q_lora_rank > 0) {
            OVERFLOW_IF(ck_muladd(&n, C, m->q_lora_rank), "parameter count");
            OVERFLOW_IF(ck_add(n, m->q_lora_rank, &n), "parameter count"); /* q_a norm */
            OVERFLOW_IF(ck_muladd3(&n, m->q_lora_rank, NH, HD), "parameter count");
        } else {
            OVERFLOW_IF(ck_muladd3(&n, C, NH, HD), "parameter count");
        }
        OVERFLOW_IF(ck_muladd(&n, C, m->kv_lora_rank + m->rope_dim), "parameter count");
        OVERFLOW_IF(ck_add(n, m->kv_lora_rank, &n), "parameter count"); /* kv_a norm */
        OVERFLOW_IF(ck_muladd3(&n, m->kv_lora_rank, NH, nope + HDV), "parameter count");
        OVERFLOW_IF(ck_muladd3(&n, NH, HDV, C), "parameter count");
        *out = n;
        return QKV_OK;
    }
    const uint64_t KVH = v->kv_heads;
    const bool own_q = v->share == SHARE_QKV || v->share == SHARE_KV;
    const bool own_v = v->share == SHARE_QKV || v->share == SHARE_QK;
    if (own_q)
        OVERFLOW_IF(ck_muladd3(&n, C, NH, HD), "parameter count");
    OVERFLOW_IF(ck_muladd3(&n, C, KVH, HD), "parameter count");
    if (own_v)
        OVERFLOW_IF(ck_muladd3(&n, C, KVH, HDV), "parameter count");
    OVERFLOW_IF(ck_muladd3(&n, NH, HDV, C), "parameter count");
    if (m->bias != BIAS_NONE) {
        if (own_q)
            OVERFLOW_IF(ck_muladd(&n, NH, HD), "parameter count");
        OVERFLOW_IF(ck_muladd(&n, KVH, HD), "parameter count");
        if (own_v)
            OVERFLOW_IF(ck_muladd(&n, KVH, HDV), "parameter count");
        if (m->bias == BIAS_ALL)
            OVERFLOW_IF(ck_add(n, C, &n), "parameter count");
    }
    *out = n;
    return QKV_OK;
}

qkv_status kvplan_param_count(const model_shape *m, const variant *v, uint64_t *params,
                              qkv_error *err)
{
    const uint64_t C = m->d_model, L = m->n_layers;
    const uint64_t norm_w = m->norm == NORM_LAYER ? 2 : 1;
    const uint64_t mats = m->gated_ffn ? 3 : 2;
    uint64_t n = 0, per_layer = 0, attn = 0;
    qkv_status s;

    OVERFLOW_IF(ck_muladd(&n, m->vocab, C), "parameter count");
    if (!m->tied_embeddings)
        OVERFLOW_IF(ck_muladd(&n, m->vocab, C), "parameter count");
    if (m->pos == POS_LEARNED)
        OVERFLOW_IF(ck_muladd(&n, m->max_ctx, C), "parameter count");
    OVERFLOW_IF(ck_muladd(&n, norm_w, C), "parameter count"); /* final norm */

    if ((s = attn_params(m, v, &attn, err)) != QKV_OK)
        return s;
    per_layer = attn;
    OVERFLOW_IF(ck_muladd3(&per_layer, m->norms_per_layer, norm_w, C), "parameter count");
    if (m->qk_norm)
        OVERFLOW_IF(ck_muladd(&per_layer, 2, m->head_dim), "parameter count");
    OVERFLOW_IF(ck_mul(per_layer, L, &per_layer), "parameter count");
    OVERFLOW_IF(ck_add(n, per_layer, &n), "parameter count");

    /* FFN: dense layers, then mixture-of-experts layers. */
    uint64_t dense_layers = m->n_experts > 0 ? m->n_dense_layers : L;
    uint64_t dense = 0;
    OVERFLOW_IF(ck_muladd3(&dense, mats, C, m->d_ff), "parameter count");
    if (m->bias == BIAS_ALL)
        OVERFLOW_IF(ck_add(dense, m->d_ff + C, &dense), "parameter count");
    OVERFLOW_IF(ck_muladd(&n, dense, dense_layers), "parameter count");
    if (m->n_experts > 0) {
        uint64_t moe = 0;
        OVERFLOW_IF(ck_muladd3(&moe, m->n_experts + m->n_shared_experts, mats * C, m->moe_d_ff),
                    "parameter count");
        OVERFLOW_IF(ck_muladd(&moe, m->n_experts, C), "parameter count"); /* router */
        OVERFLOW_IF(ck_muladd(&n, moe, L - m->n_dense_layers), "parameter count");
    }
    *params = n;
    return QKV_OK;
}

/* ---- cells ------------------------------------------------------------ */

typedef struct {
    uint64_t full;     /* cells of a full layer, all streams */
    uint64_t swa;      /* cells of a sliding-window layer, all streams */
    uint64_t stream;   /* cells of the largest stream (what one score row spans) */
    uint64_t per_seq;  /* context each sequence gets */
    uint64_t n_tok;    /* tokens in the largest micro-batch */
    uint64_t n_ubatch; /* the engine's micro-batch after its clamp */
} cells;

/* llama.cpp's cells for n_ctx as requested (-c), seqs (-np), with or
 * without a unified cache (src/llama-context.cpp:245-303,
 * src/llama-kv-cache-iswa.cpp:70-104). */
static qkv_status llama_cells(const kvplan_params *p, uint64_t W, uint64_t ctx, uint64_t seqs,
                              bool unified, cells *c, qkv_error *err)
{
    uint64_t n_ctx, kv_size, streams, swa;
    const uint64_t n_batch = u64_min(ctx, KVPLAN_LLAMA_N_BATCH);
    const uint64_t n_ubatch = u64_min(n_batch, p->ubatch);
    if (!ck_pad(ctx, KVPLAN_LLAMA_PAD, &n_ctx))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "cell count overflows 64 bits");
    if (unified) {
        kv_size = n_ctx;
        streams = 1;
    } else {
        if (!ck_pad(n_ctx / seqs, KVPLAN_LLAMA_PAD, &kv_size))
            return qkv_error_set(err, QKV_ERR_OVERFLOW, "cell count overflows 64 bits");
        streams = seqs;
        if (kv_size == 0)
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "llama.cpp: n_ctx %llu split over %llu sequences leaves no "
                                 "cells per sequence",
                                 (unsigned long long)n_ctx, (unsigned long long)seqs);
    }
    uint64_t want = 0;
    if (!ck_muladd(&want, W, unified ? seqs : 1) || !ck_add(want, n_ubatch, &want) ||
        !ck_pad(u64_min(kv_size, want), KVPLAN_LLAMA_PAD, &swa))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "cell count overflows 64 bits");
    if (p->swa_full)
        swa = kv_size;
    if (!ck_mul(kv_size, streams, &c->full) || !ck_mul(swa, streams, &c->swa))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "cell count overflows 64 bits");
    c->stream = kv_size;
    c->per_seq = unified ? u64_max(1, n_ctx / seqs) : kv_size;
    c->n_ubatch = n_ubatch;
    c->n_tok = u64_min(n_ctx, n_ubatch);
    return QKV_OK;
}

/* Cells for ctx and seqs; W is the window of the layers the engine slides. */
static qkv_status engine_cells(const model_shape *m, const kvplan_params *p, uint64_t W,
                               uint64_t ctx, uint64_t seqs, cells *c, qkv_error *err)
{
    memset(c, 0, sizeof *c);
    switch (p->engine) {
    case ENGINE_EXACT:
    case ENGINE_VLLM: {
        uint64_t full = ctx, swa = u64_min(ctx, W);
        if (p->engine == ENGINE_VLLM) {
            if (!ck_pad(full, p->block_size, &full) || !ck_pad(swa, p->block_size, &swa))
                return qkv_error_set(err, QKV_ERR_OVERFLOW, "cell count overflows 64 bits");
        }
        if (!ck_mul(full, seqs, &c->full) || !ck_mul(swa, seqs, &c->swa) ||
            !ck_mul(ctx, seqs, &c->n_tok))
            return qkv_error_set(err, QKV_ERR_OVERFLOW, "cell count overflows 64 bits");
        c->stream = full;
        c->per_seq = ctx;
        c->n_tok = u64_min(c->n_tok, p->ubatch);
        c->n_ubatch = c->n_tok;
        return QKV_OK;
    }
    case ENGINE_LLAMACPP:
        return llama_cells(p, W, ctx, seqs, p->kv_unified, c, err);
    case ENGINE_OLLAMA: {
        /* num_ctx is capped at the trained context (llm/server.go:111-116),
         * then llama-server gets -c num_ctx x np -np np. */
        const uint64_t num_ctx = m->max_ctx > 0 ? u64_min(ctx, m->max_ctx) : ctx;
        uint64_t n_ctx;
        if (!ck_mul(num_ctx, seqs, &n_ctx) || n_ctx > KVPLAN_CTX_MAX)
            return qkv_error_set(err, QKV_ERR_RANGE,
                                 "ollama: num_ctx %llu x %llu parallel sequences is more than %llu "
                                 "tokens",
                                 (unsigned long long)num_ctx, (unsigned long long)seqs,
                                 (unsigned long long)KVPLAN_CTX_MAX);
        return llama_cells(p, W, n_ctx, seqs, false, c, err);
    }
    case ENGINE_COUNT:
        break;
    }
    return qkv_error_set(err, QKV_ERR_INVALID, "unknown engine");
}

/* ---- one evaluation --------------------------------------------------- */

typedef struct {
    uint64_t k_row, v_row; /* bytes per cell of one layer */
    uint64_t params, weight_bytes;
    uint64_t swa_layers, window; /* the layers the engine slides, and their window */
} fixed_costs;

/* The sliding-window layers as the engine builds them: llama.cpp's rule per
 * architecture, else the model's own declaration. */
static void engine_windows(const model_shape *m, const kvplan_params *p, uint64_t *swa_layers,
                           uint64_t *window)
{
    if (kvplan_engine_is_llamacpp(p->engine)) {
        engine_layout lay;
        engine_llamacpp_layout(m, &lay);
        *swa_layers = lay.n_swa_layers;
        *window = lay.window;
        return;
    }
    *swa_layers = m->n_swa_layers;
    *window = m->window;
}

static qkv_status variant_costs(const model_shape *m, const variant *v, const kvplan_params *p,
                                fixed_costs *f, qkv_error *err)
{
    qkv_status s;
    uint64_t k_elems, v_elems = 0;
    engine_windows(m, p, &f->swa_layers, &f->window);
    if (v->mla) {
        k_elems = m->kv_lora_rank + m->rope_dim;
    } else {
        if (!ck_mul(v->kv_heads, m->head_dim, &k_elems) ||
            (variant_cached_tensors(v->share) == 2 &&
             !ck_mul(v->kv_heads, m->v_head_dim, &v_elems)))
            return qkv_error_set(err, QKV_ERR_OVERFLOW, "model '%s': KV row width overflows",
                                 m->name);
    }
    qkv_error e2;
    if ((s = dtype_row_bytes(p->type_k, k_elems, &f->k_row, &e2)) != QKV_OK)
        return qkv_error_set(err, s, "model '%s', K cache: %s", m->name, e2.msg);
    f->v_row = 0;
    if (v_elems > 0 && (s = dtype_row_bytes(p->type_v, v_elems, &f->v_row, &e2)) != QKV_OK)
        return qkv_error_set(err, s, "model '%s', V cache: %s", m->name, e2.msg);
    if ((s = kvplan_param_count(m, v, &f->params, err)) != QKV_OK)
        return s;
    if (m->file_weight_bytes > 0 && m->file_params > 0) {
        /* A model file gives the real bytes of the model as built; other
         * variants keep its bytes per parameter. */
        variant built = variant_as_built(m);
        uint64_t built_params;
        if ((s = kvplan_param_count(m, &built, &built_params, err)) != QKV_OK)
            return s;
        if (v->as_built) {
            f->params = m->file_params;
            f->weight_bytes = m->file_weight_bytes;
        } else {
            f->weight_bytes = (uint64_t)((double)m->file_weight_bytes * (double)f->params /
                                         (double)(built_params ? built_params : 1));
        }
        return QKV_OK;
    }
    if (dtype_weight_bytes(p->weight_type, f->params, &f->weight_bytes) != QKV_OK)
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "model '%s': weight bytes overflow", m->name);
    return QKV_OK;
}

typedef struct {
    cells c;
    uint64_t k_bytes, v_bytes, kv_bytes, scratch, total;
} memory;

static qkv_status memory_at(const model_shape *m, const variant *v, const kvplan_params *p,
                            const fixed_costs *f, uint64_t ctx, uint64_t seqs, memory *mem,
                            qkv_error *err)
{
    qkv_status s = engine_cells(m, p, f->window, ctx, seqs, &mem->c, err);
    if (s != QKV_OK)
        return s;
    const uint64_t swa_layers = f->swa_layers;
    const uint64_t full_layers = m->n_layers - m->n_nokv_layers - swa_layers;
    uint64_t layer_cells = 0;
    if (!ck_muladd(&layer_cells, full_layers, mem->c.full) ||
        !ck_muladd(&layer_cells, swa_layers, mem->c.swa))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "KV cache size overflows 64 bits");
    if (!ck_mul(layer_cells, f->k_row, &mem->k_bytes) ||
        !ck_mul(layer_cells, f->v_row, &mem->v_bytes) ||
        !ck_add(mem->k_bytes, mem->v_bytes, &mem->kv_bytes))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "KV cache size overflows 64 bits");

    /* Scratch estimate, f32 activations. */
    const uint64_t n_tok = mem->c.n_tok, F32 = 4;
    const uint64_t ff = u64_max(m->d_ff, m->n_experts > 0 ? m->moe_d_ff : 0);
    const uint64_t KVH = v->mla ? m->n_heads : v->kv_heads;
    uint64_t sc = 0;
    int ok = ck_muladd3(&sc, m->vocab, n_tok, F32) &&
             ck_muladd3(&sc, ff * (m->gated_ffn ? 2 : 1), n_tok, F32) &&
             ck_muladd3(&sc, (m->n_heads + 2 * KVH) * m->head_dim, n_tok, F32) &&
             ck_muladd3(&sc, 2 * m->d_model, n_tok, F32);
    if (ok && p->flash_attn == ENGINE_FA_OFF) {
        uint64_t scores = 0;
        ok = ck_muladd3(&scores, m->n_heads, n_tok, mem->c.stream) && ck_muladd(&sc, scores, F32);
    }
    if (!ok)
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "scratch size overflows 64 bits");
    mem->scratch = sc;
    if (!ck_add(f->weight_bytes, mem->kv_bytes, &mem->total) ||
        !ck_add(mem->total, sc, &mem->total))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "total memory overflows 64 bits");
    return QKV_OK;
}

/* Whether (ctx, seqs) fits; any size error (overflow, no cells) means it does not. */
static bool fits_at(const model_shape *m, const variant *v, const kvplan_params *p,
                    const fixed_costs *f, uint64_t ctx, uint64_t seqs)
{
    memory mem = {0};
    if (memory_at(m, v, p, f, ctx, seqs, &mem, NULL) != QKV_OK)
        return false;
    return mem.total <= p->device_bytes - p->reserve_bytes;
}

/* Largest x in [1, cap] with pred(x) true, pred monotone (true then false).
 * Returns 0 when pred(1) is false; sets *capped when pred(cap) holds. */
typedef bool (*pred_fn)(const void *ctx, uint64_t x);

static uint64_t search_max(pred_fn pred, const void *ctx, uint64_t cap, bool *capped)
{
    *capped = false;
    if (!pred(ctx, 1))
        return 0;
    if (pred(ctx, cap)) {
        *capped = true;
        return cap;
    }
    uint64_t lo = 1, hi = cap; /* pred(lo) true, pred(hi) false */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (pred(ctx, mid))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

typedef struct {
    const model_shape *m;
    const variant *v;
    const kvplan_params *p;
    const fixed_costs *f;
    uint64_t per_seq; /* for the sequence search */
} solve_ctx;

static bool pred_ctx(const void *vp, uint64_t ctx)
{
    const solve_ctx *s = vp;
    return fits_at(s->m, s->v, s->p, s->f, ctx, s->p->seqs);
}

static bool pred_seqs(const void *vp, uint64_t seqs)
{
    const solve_ctx *s = vp;
    uint64_t ctx = s->per_seq;
    /* llama.cpp's ctx is shared: n sequences of per_seq tokens need n x per_seq. */
    if (s->p->engine == ENGINE_LLAMACPP && !ck_mul(s->per_seq, seqs, &ctx))
        return false;
    if (ctx > KVPLAN_CTX_MAX)
        return false;
    return fits_at(s->m, s->v, s->p, s->f, ctx, seqs);
}

/* vLLM's "Maximum concurrency for N tokens per request: X.XXx"
 * (vllm/v1/core/kv_cache_utils.py, get_max_concurrency_for_kv_cache_config):
 * the blocks that fit in what is left after weights and activations,
 * divided by the blocks one request of max_model_len tokens needs. */
static double vllm_concurrency(const kvplan_params *p, const fixed_costs *f, uint64_t scratch,
                               uint64_t kv_bytes_per_token)
{
    const uint64_t usable = p->device_bytes - p->reserve_bytes;
    uint64_t used, block_bytes;
    if (!ck_add(f->weight_bytes, scratch, &used) || used >= usable ||
        !ck_mul(kv_bytes_per_token, p->block_size, &block_bytes) || block_bytes == 0)
        return 0.0;
    const uint64_t blocks = (usable - used) / block_bytes;
    const uint64_t per_request = p->ctx / p->block_size + (p->ctx % p->block_size != 0);
    return (double)blocks / (double)per_request;
}

/* The top of the max_ctx search: the trained context per sequence (llama.cpp's
 * ctx is shared by the sequences), unless the caller looks beyond it. */
static uint64_t ctx_cap(const model_shape *m, const kvplan_params *p, kvplan_ctx_cap *which)
{
    uint64_t cap = KVPLAN_CTX_MAX;
    *which = KVPLAN_CAP_LIMIT;
    if (!p->beyond_trained && m->max_ctx > 0) {
        uint64_t t = m->max_ctx;
        if (p->engine == ENGINE_LLAMACPP && !ck_mul(t, p->seqs, &t))
            t = KVPLAN_CTX_MAX;
        if (t < cap) {
            cap = t;
            *which = KVPLAN_CAP_TRAINED;
        }
    }
    return cap;
}

qkv_status kvplan_row_eval(const model_shape *m, const variant *v, const kvplan_params *p,
                           bool solve, kvplan_row *row, qkv_error *err)
{
    qkv_status s;
    fixed_costs f;
    memory mem = {0};
    memset(row, 0, sizeof *row);
    if ((s = variant_check(v, m, err)) != QKV_OK)
        return s;
    row->v = *v;
    variant_label(v, m->n_heads, row->label, sizeof row->label);
    row->cached_tensors = v->mla ? 1 : variant_cached_tensors(v->share);
    /* The paper measured changes against QKV in retrained models: evidence
     * for a what-if variant, never a figure of the model as built. */
    row->has_paper = !v->as_built && paper_ppl_delta_300m(v, m->n_heads, &row->paper_ppl_delta_pct);
    row->rope_caveat =
        m->pos == POS_ROPE && !v->mla && (v->share == SHARE_KV || v->share == SHARE_ALL);
    const bool refused =
        kvplan_engine_is_llamacpp(p->engine) &&
        engine_llamacpp_refusal(m, v->mla, p->type_k, p->type_v, p->flash_attn, p->seqs,
                                row->engine_refusal, sizeof row->engine_refusal);
    s = variant_costs(m, v, p, &f, err);
    if (s == QKV_OK)
        s = memory_at(m, v, p, &f, p->ctx, p->seqs, &mem, err);
    if (s != QKV_OK) {
        /* A refused row stands on the refusal; what it would have held is
         * then unknown and left 0. */
        if (refused && s != QKV_ERR_NOMEM) {
            row->max_ctx_cap = KVPLAN_CAP_LIMIT;
            return QKV_OK;
        }
        return s;
    }
    row->swa_layers = f.swa_layers;
    row->window = f.window;
    const uint64_t kv_layers = m->n_layers - m->n_nokv_layers;
    if (!ck_mul(f.k_row + f.v_row, kv_layers, &row->kv_bytes_per_token))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "KV bytes per token overflow");
    row->cells_full = kv_layers > f.swa_layers ? mem.c.full : 0;
    row->cells_swa = f.swa_layers > 0 ? mem.c.swa : 0;
    row->ctx_per_seq = mem.c.per_seq;
    row->n_ubatch = mem.c.n_ubatch;
    row->k_bytes = mem.k_bytes;
    row->v_bytes = mem.v_bytes;
    row->kv_bytes = mem.kv_bytes;
    row->params = f.params;
    row->weight_bytes = f.weight_bytes;
    row->scratch_bytes = mem.scratch;
    row->total_bytes = mem.total;
    const uint64_t usable = p->device_bytes - p->reserve_bytes;
    const bool fits = mem.total <= usable;
    row->fits = fits && !refused;
    /* usable <= 2^60; total may be larger than 2^63 only if it does not fit. */
    row->headroom_bytes =
        fits ? (int64_t)(usable - mem.total)
             : (mem.total - usable > (uint64_t)INT64_MAX ? INT64_MIN
                                                         : -(int64_t)(mem.total - usable));
    const uint64_t cap = ctx_cap(m, p, &row->max_ctx_cap);
    if (solve && !refused) {
        /* ollama's ctx is num_ctx per sequence; llama.cpp's is shared. */
        solve_ctx sc = {m, v, p, &f, p->engine == ENGINE_OLLAMA ? p->ctx : mem.c.per_seq};
        const uint64_t seqs_cap =
            kvplan_engine_is_llamacpp(p->engine) ? ENGINE_LLAMA_MAX_SEQ : KVPLAN_SEQS_MAX;
        row->max_ctx = search_max(pred_ctx, &sc, cap, &row->max_ctx_capped);
        row->max_seqs = search_max(pred_seqs, &sc, seqs_cap, &row->max_seqs_capped);
    }
    if (p->engine == ENGINE_VLLM)
        row->max_concurrency = vllm_concurrency(p, &f, mem.scratch, row->kv_bytes_per_token);
    return QKV_OK;
}

static void add_note(kvplan_result *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void add_note(kvplan_result *r, const char *fmt, ...)
{
    if (r->n_notes >= KVPLAN_NOTES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes[r->n_notes++], KVPLAN_NOTE_BYTES, fmt, ap);
    va_end(ap);
}

/* The recommendation: among rows that fit, the smallest paper-measured
 * loss; rows without paper evidence rank after those with it, by total. */
static void pick_best(kvplan_result *out)
{
    for (size_t i = 0; i < out->n_rows; i++) {
        const kvplan_row *r = &out->rows[i];
        if (!r->fits)
            continue;
        out->n_fit++;
        if (out->best_row < 0) {
            out->best_row = (long)i;
            continue;
        }
        const kvplan_row *b = &out->rows[out->best_row];
        bool better;
        if (r->has_paper != b->has_paper)
            better = r->has_paper;
        else if (r->has_paper && r->paper_ppl_delta_pct != b->paper_ppl_delta_pct)
            better = r->paper_ppl_delta_pct < b->paper_ppl_delta_pct;
        else
            better = r->total_bytes < b->total_bytes;
        if (better)
            out->best_row = (long)i;
    }
}

/* What llama.cpp makes of the model's sliding windows. */
static void add_layout_notes(kvplan_result *out, const model_shape *m)
{
    engine_layout lay;
    engine_llamacpp_layout(m, &lay);
    if (!lay.known_arch && m->n_swa_layers > 0)
        add_note(out,
                 "llama.cpp's sliding-window rule for architecture '%s' is not known to "
                 "qkvplan; %llu sliding-window layers are planned as the model declares them",
                 m->arch[0] ? m->arch : "(unknown)", (unsigned long long)m->n_swa_layers);
    else if (lay.window_dropped)
        add_note(out,
                 "llama.cpp loads '%s' (architecture %s) without a sliding-window cache "
                 "(%s): all %llu layers hold the full context",
                 m->name, m->arch, lay.rule->source,
                 (unsigned long long)(m->n_layers - m->n_nokv_layers));
    else if (lay.n_swa_layers > 0 && lay.default_pattern)
        add_note(out,
                 "sliding-window pattern: the model gives none, so llama.cpp's default for %s "
                 "applies (%llu of %llu layers windowed, %s)",
                 m->arch, (unsigned long long)lay.n_swa_layers, (unsigned long long)m->n_layers,
                 lay.rule->source);
}

/* Notes every reader of the plan should see: context beyond training,
 * llama.cpp's quantized-V rule, the RoPE caveat of a shared K=V tensor, where
 * weight bytes come from, layers without a cache. */
static void add_plan_notes(kvplan_result *out, const model_shape *m, const kvplan_params *p)
{
    if (m->max_ctx > 0 && out->rows[0].ctx_per_seq > m->max_ctx)
        add_note(out,
                 "each sequence's context (%llu tokens) exceeds the %llu tokens '%s' was "
                 "trained for",
                 (unsigned long long)out->rows[0].ctx_per_seq, (unsigned long long)m->max_ctx,
                 m->name);
    for (size_t i = 0; i < out->n_rows; i++) {
        if (out->rows[i].engine_refusal[0]) {
            add_note(out, "%s refuses these settings (llama_init_from_model): %s",
                     kvplan_engine_name(p->engine), out->rows[i].engine_refusal);
            break;
        }
    }
    if (kvplan_engine_is_llamacpp(p->engine))
        add_layout_notes(out, m);
    if (m->pos == POS_ROPE) {
        for (size_t i = 0; i < out->n_rows; i++) {
            if (out->rows[i].rope_caveat) {
                add_note(out, "RoPE and a shared K=V tensor: the cache must hold keys before "
                              "rotation (values are not rotated), so keys are rotated again at "
                              "every decode step");
                break;
            }
        }
    }
    if (m->file_weight_bytes > 0)
        add_note(out,
                 "weights: %llu bytes as stored in the model file for the model as built; other "
                 "variants at the same bytes per parameter",
                 (unsigned long long)m->file_weight_bytes);
    else if (dtype_weight_get(p->weight_type)->approximate)
        add_note(out,
                 "weight type %s is a mix; its %.2f bits per weight is llama.cpp's average "
                 "for Llama 2 7B, so weight bytes are approximate",
                 dtype_weight_get(p->weight_type)->name,
                 (double)dtype_weight_get(p->weight_type)->bits_num /
                     dtype_weight_get(p->weight_type)->bits_den);
    if (m->n_nokv_layers > 0)
        add_note(out,
                 "%llu layers hold no KV cache; their recurrent state is not counted and their "
                 "parameters are counted as attention layers",
                 (unsigned long long)m->n_nokv_layers);
}

qkv_status kvplan_plan(const model_shape *m, const variant *vs, size_t n, const kvplan_params *p,
                       bool skip_invalid, kvplan_result *out, qkv_error *err)
{
    qkv_status s;
    memset(out, 0, sizeof *out);
    out->built_row = -1;
    out->best_row = -1;
    if ((s = model_validate(m, err)) != QKV_OK || (s = kvplan_params_check(p, err)) != QKV_OK)
        return s;
    out->model = *m;
    out->params = *p;

    variant base = {SHARE_QKV, m->n_heads, false, false};
    if ((s = kvplan_row_eval(m, &base, p, false, &out->baseline, err)) != QKV_OK)
        return s;

    out->rows = calloc(n ? n : 1, sizeof *out->rows);
    if (!out->rows)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory planning %zu variants", n);

    for (size_t i = 0; i < n; i++) {
        qkv_error e2;
        if ((s = variant_check(&vs[i], m, &e2)) != QKV_OK) {
            if (!skip_invalid) {
                kvplan_result_free(out);
                return qkv_error_set(err, s, "%s", e2.msg);
            }
            add_note(out, "skipped %s", e2.msg);
            continue;
        }
        kvplan_row *row = &out->rows[out->n_rows];
        if ((s = kvplan_row_eval(m, &vs[i], p, true, row, err)) != QKV_OK) {
            kvplan_result_free(out);
            return s;
        }
        row->kv_reduction = out->baseline.kv_bytes == 0
                                ? 0.0
                                : 1.0 - (double)row->kv_bytes / (double)out->baseline.kv_bytes;
        if (row->v.as_built)
            out->built_row = (long)out->n_rows;
        out->n_rows++;
    }
    if (out->n_rows == 0) {
        kvplan_result_free(out);
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "model '%s': none of the requested variants can be built", m->name);
    }

    if (out->built_row > 0) {
        /* the model as built leads; the what-ifs follow in the order requested */
        kvplan_row built = out->rows[out->built_row];
        memmove(&out->rows[1], &out->rows[0], (size_t)out->built_row * sizeof *out->rows);
        out->rows[0] = built;
        out->built_row = 0;
    }
    pick_best(out);
    add_plan_notes(out, m, p);
    return QKV_OK;
}

const char *kvplan_weight_type_name(const kvplan_result *r)
{
    if (r->model.file_weight_bytes > 0 && r->model.file_weight_type[0])
        return r->model.file_weight_type;
    return dtype_weight_get(r->params.weight_type)->name;
}

void kvplan_result_free(kvplan_result *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r->sweep_ctx);
    free(r->sweep_kv);
    free(r->sweep_total);
    free(r->offload);
    r->offload = NULL;
    r->rows = NULL;
    r->sweep_ctx = r->sweep_kv = r->sweep_total = NULL;
    r->n_rows = 0;
    r->n_sweep = 0;
}
