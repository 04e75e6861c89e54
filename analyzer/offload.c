#include "analyzer/offload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/core/checked.h"
#include "analyzer/formats/gguf.h"

/* An offload plan walks every layer; a model with more is refused. */
#define OFFLOAD_LAYERS_MAX ((uint64_t)1 << 16)
#define CPU_DEV (-1)

__extension__ typedef unsigned __int128 u128;

/* ---- a GGUF file's layout ------------------------------------------------ */

typedef struct {
    uint64_t input, output, output_norm;
    uint64_t *layer;     /* (L) */
    uint64_t *experts;   /* (L) */
    bool tied;           /* the output matrix is token_embd's */
    uint64_t tied_bytes; /* bytes of that matrix */
} weights;

static void weights_free(weights *w)
{
    free(w->layer);
    free(w->experts);
    w->layer = w->experts = NULL;
}

/* total x num / den, exact (den > 0). */
static uint64_t scale(uint64_t total, uint64_t num, uint64_t den)
{
    return (uint64_t)((u128)total * num / den);
}

/* Split the row's weight bytes over the pieces in proportion to want[]
 * (input, output, output_norm, then L layers, then L expert parts), the
 * rounding residue to the input layer, so that they add up exactly. */
static void split_bytes(uint64_t total, const uint64_t *want, size_t n, uint64_t *got)
{
    u128 den = 0;
    for (size_t i = 0; i < n; i++)
        den += want[i];
    uint64_t used = 0;
    for (size_t i = 0; i < n; i++) {
        got[i] = den ? (uint64_t)((u128)total * want[i] / den) : 0;
        used += got[i];
    }
    got[0] += total - used;
}

/* Parameter counts of the pieces of m built as v (no model file). */
static qkv_status param_pieces(const model_shape *m, const variant *v, uint64_t *want,
                               qkv_error *err)
{
    const uint64_t L = m->n_layers, C = m->d_model, mats = m->gated_ffn ? 3 : 2;
    const uint64_t norm_w = m->norm == NORM_LAYER ? 2 : 1;
    uint64_t total, input = 0, dense = 0, moe = 0, experts = 0;
    qkv_status s = kvplan_param_count(m, v, &total, err);
    if (s != QKV_OK)
        return s;
    int ok = ck_muladd(&input, m->vocab, C);
    if (m->pos == POS_LEARNED)
        ok = ok && ck_muladd(&input, m->max_ctx, C);
    const uint64_t output = m->tied_embeddings ? 0 : m->vocab * C; /* within total: no overflow */
    const uint64_t output_norm = norm_w * C;
    ok = ok && ck_muladd3(&dense, mats, C, m->d_ff);
    if (m->bias == BIAS_ALL)
        ok = ok && ck_add(dense, m->d_ff + C, &dense);
    if (m->n_experts > 0) {
        ok = ok && ck_muladd3(&experts, m->n_experts, mats * C, m->moe_d_ff);
        ok = ok && ck_muladd3(&moe, m->n_shared_experts, mats * C, m->moe_d_ff);
        ok = ok && ck_muladd(&moe, m->n_experts, C); /* router */
    }
    if (!ok)
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "model '%s': the parameter count overflows",
                             m->name);
    const uint64_t n_dense = m->n_experts > 0 ? m->n_dense_layers : L;
    /* what is left is the same in every layer: attention and norms */
    uint64_t fixed = input + output + output_norm;
    uint64_t ffn = 0;
    ok = ck_muladd(&ffn, dense, n_dense) && ck_muladd(&ffn, moe + experts, L - n_dense) &&
         ck_add(fixed, ffn, &fixed);
    if (!ok || fixed > total)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "model '%s': the layers' parameters do not add up", m->name);
    const uint64_t common = (total - fixed) / L, rest = (total - fixed) % L;
    want[0] = input;
    want[1] = output;
    want[2] = output_norm;
    for (uint64_t il = 0; il < L; il++) {
        want[3 + il] = common + (il == 0 ? rest : 0) + (il < n_dense ? dense : moe);
        want[3 + L + il] = il < n_dense ? 0 : experts;
    }
    return QKV_OK;
}

static qkv_status row_weights(const kvplan_result *r, const kvplan_row *row,
                              const offload_layout *lay, weights *w, qkv_error *err)
{
    const model_shape *m = &r->model;
    const uint64_t L = m->n_layers;
    memset(w, 0, sizeof *w);
    if (L == 0 || L > OFFLOAD_LAYERS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "an offload plan handles 1..%llu layers, not %llu",
                             (unsigned long long)OFFLOAD_LAYERS_MAX, (unsigned long long)L);
    const size_t n = 3 + 2 * (size_t)L;
    uint64_t *want = calloc(n, sizeof *want), *got = calloc(n, sizeof *got);
    w->layer = calloc(L, sizeof *w->layer);
    w->experts = calloc(L, sizeof *w->experts);
    qkv_status s = QKV_OK;
    if (!want || !got || !w->layer || !w->experts) {
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory placing %llu layers",
                          (unsigned long long)L);
        goto out;
    }
    if (lay && lay->n_layers == L) {
        want[0] = lay->input.bytes;
        want[1] = lay->output.bytes;
        want[2] = lay->output_norm.bytes;
        for (uint64_t il = 0; il < L; il++) {
            want[3 + il] = lay->layer[il].bytes;
            want[3 + L + il] = lay->experts[il].bytes;
        }
        uint64_t fixed = want[0] + want[1] + want[2], file_total = fixed;
        for (size_t i = 3; i < n; i++)
            file_total += want[i];
        if (row->weight_bytes == file_total) {
            memcpy(got, want, n * sizeof *got);
        } else if (row->weight_bytes > fixed) {
            /* a what-if variant: the embeddings and the output stay, the
             * layers share what is left as they share the file's bytes */
            got[0] = want[0];
            got[1] = want[1];
            got[2] = want[2];
            split_bytes(row->weight_bytes - fixed, want + 3, n - 3, got + 3);
            /* split_bytes put its residue on the first layer: fine */
        } else {
            split_bytes(row->weight_bytes, want, n, got);
        }
        w->tied = lay->output.bytes == 0;
        w->tied_bytes = lay->input.bytes; /* token_embd and any other input tensors */
    } else {
        if ((s = param_pieces(m, &row->v, want, err)) != QKV_OK)
            goto out;
        split_bytes(row->weight_bytes, want, n, got);
        w->tied = m->tied_embeddings;
        uint64_t embd_params = m->vocab * m->d_model;
        w->tied_bytes = want[0] ? scale(got[0], embd_params, want[0]) : 0;
    }
    w->input = got[0];
    w->output = got[1];
    w->output_norm = got[2];
    memcpy(w->layer, got + 3, L * sizeof *got);
    memcpy(w->experts, got + 3 + L, L * sizeof *got);
out:
    free(want);
    free(got);
    if (s != QKV_OK)
        weights_free(w);
    return s;
}

/* ---- devices -------------------------------------------------------------- */

/* Which layers hold a sliding-window cache: llama.cpp's set_swa_pattern for
 * the architecture, else the model's declared period, else the first ones.
 * The last n_nokv layers hold no cache (gemma3n's shared-KV layers). */
static void kv_kinds(const kvplan_result *r, const kvplan_row *row, signed char *kind)
{
    const model_shape *m = &r->model;
    const uint64_t L = m->n_layers, kv_layers = L - m->n_nokv_layers;
    uint32_t period = m->swa_period;
    bool dense_first = false;
    const engine_arch_rule *rule = engine_llamacpp_arch(m->arch);
    if (rule) {
        if (!period)
            period = rule->period;
        dense_first = rule->dense_first;
    }
    const bool by_pattern =
        row->swa_layers > 0 && row->swa_layers < kv_layers && period > 0 &&
        engine_swa_layer_count(kv_layers, period, dense_first) == row->swa_layers;
    for (uint64_t il = 0; il < L; il++) {
        if (il >= kv_layers)
            kind[il] = 0; /* no cache */
        else if (row->swa_layers >= kv_layers)
            kind[il] = 2;
        else if (by_pattern)
            kind[il] = engine_layer_slides(il, period, dense_first) ? 2 : 1;
        else
            kind[il] = il < row->swa_layers ? 2 : 1;
    }
}

/* llama.cpp's split points (src/llama-model.cpp:1443-1473), in single
 * precision as there. */
static void split_points(const offload_params *op, const uint64_t *budget, float *splits)
{
    const size_t n = op->n_gpus;
    bool all_zero = !op->split_set;
    for (size_t i = 0; i < n && op->split_set; i++)
        all_zero = all_zero && op->split[i] == 0.0f;
    for (size_t i = 0; i < n; i++)
        splits[i] = all_zero ? (float)budget[i] : op->split[i];
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) {
        sum += splits[i];
        splits[i] = sum;
    }
    if (!(sum > 0.0f)) { /* no budget anywhere: an even split */
        for (size_t i = 0; i < n; i++)
            splits[i] = (float)(i + 1);
        sum = (float)n;
    }
    for (size_t i = 0; i < n; i++)
        splits[i] /= sum;
}

/* The device of layer il (il == L: the output layer), CPU_DEV or a GPU. */
static int layer_device(uint64_t il, uint64_t L, uint64_t ngl, size_t n_gpus, const float *splits)
{
    const int64_t i_gpu_start =
        (int64_t)L + 1 - (int64_t)ngl > 0 ? (int64_t)L + 1 - (int64_t)ngl : 0;
    const int64_t act = n_gpus == 0 ? 0 : (int64_t)u64_min(ngl, L + 1);
    if ((int64_t)il < i_gpu_start || (int64_t)il - i_gpu_start >= act)
        return CPU_DEV;
    const float x = (float)((int64_t)il - i_gpu_start) / (float)act;
    size_t g = 0; /* upper_bound: the first split point greater than x */
    while (g < n_gpus && !(x < splits[g]))
        g++;
    return g < n_gpus ? (int)g : (int)n_gpus - 1;
}

static void usable_budgets(const kvplan_result *r, const offload_params *op, uint64_t *gpu,
                           uint64_t *host)
{
    const kvplan_params *p = &r->params;
    *host = p->device_bytes - p->reserve_bytes;
    for (size_t i = 0; i < op->n_gpus; i++) {
        if (op->unified) {
            const uint64_t share = scale(p->device_bytes, op->gpu_share_permille, 1000);
            gpu[i] = u64_min(share, *host);
        } else {
            gpu[i] =
                op->gpu_bytes[i] > op->gpu_reserve[i] ? op->gpu_bytes[i] - op->gpu_reserve[i] : 0;
        }
    }
}

static int64_t headroom(uint64_t budget, uint64_t total)
{
    if (total <= budget)
        return (int64_t)(budget - total);
    const uint64_t short_by = total - budget;
    return short_by > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)short_by;
}

static qkv_status add_to(uint64_t *acc, uint64_t v, qkv_error *err)
{
    if (!ck_add(*acc, v, acc))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "device bytes overflow 64 bits");
    return QKV_OK;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((s = (x)) != QKV_OK)                                                                   \
            goto out;                                                                              \
    } while (0)

static offload_device *dev_at(offload_row *o, int d)
{
    return d == CPU_DEV ? &o->host : &o->gpu[d];
}

/* vLLM: everything divided over the tensor-parallel GPUs. */
static void place_tp(const kvplan_row *row, const offload_params *op, uint64_t L, offload_row *o)
{
    const uint64_t n = op->n_gpus;
    const uint64_t parts[3] = {row->weight_bytes, row->kv_bytes, row->scratch_bytes};
    for (size_t i = 0; i < n; i++) {
        uint64_t got[3];
        for (int k = 0; k < 3; k++)
            got[k] = parts[k] / n + (i == 0 ? parts[k] % n : 0);
        o->gpu[i].weight_bytes = got[0];
        o->gpu[i].kv_bytes = got[1];
        o->gpu[i].compute_bytes = got[2];
        o->gpu[i].layers = L; /* a slice of every layer */
    }
}

qkv_status offload_place(const kvplan_result *r, const kvplan_row *row, const offload_params *op,
                         const offload_layout *layout, uint64_t ngl, offload_row *o, qkv_error *err)
{
    const model_shape *m = &r->model;
    const uint64_t L = m->n_layers;
    const bool vllm = r->params.engine == ENGINE_VLLM;
    qkv_status s = QKV_OK;
    weights w = {0};
    signed char *kind = NULL;
    uint64_t gpu_budget[OFFLOAD_GPUS_MAX], host_budget;
    float splits[OFFLOAD_GPUS_MAX];

    memset(o, 0, sizeof *o);
    o->n_gpus = op->n_gpus;
    o->ngl = vllm ? 0 : u64_min(ngl, L + 1);
    snprintf(o->host.name, sizeof o->host.name, "CPU");
    for (size_t i = 0; i < op->n_gpus; i++)
        snprintf(o->gpu[i].name, sizeof o->gpu[i].name, "GPU%zu", i);
    usable_budgets(r, op, gpu_budget, &host_budget);

    if (vllm) {
        place_tp(row, op, L, o);
        o->gpu_layers = L;
        o->output_on_gpu = true;
    } else {
        TRY(row_weights(r, row, layout, &w, err));
        kind = calloc(L, 1);
        if (!kind) {
            s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory placing %llu layers",
                              (unsigned long long)L);
            goto out;
        }
        kv_kinds(r, row, kind);
        split_points(op, gpu_budget, splits);
        const uint64_t kv_layers = L - m->n_nokv_layers;
        const uint64_t kv_row = kv_layers ? row->kv_bytes_per_token / kv_layers : 0;
        uint64_t kv_sum = 0;

        /* the input layer: always the CPU (src/llama-model.cpp:1491) */
        TRY(add_to(&o->host.weight_bytes, w.input, err));
        for (uint64_t il = 0; il < L; il++) {
            const int d = layer_device(il, L, o->ngl, op->n_gpus, splits);
            offload_device *dev = dev_at(o, d);
            const bool experts_on_cpu = op->cpu_moe || il < op->n_cpu_moe;
            dev->layers++;
            TRY(add_to(&dev->weight_bytes, w.layer[il], err));
            TRY(add_to(experts_on_cpu ? &o->host.weight_bytes : &dev->weight_bytes, w.experts[il],
                       err));
            uint64_t kv = 0;
            if (kind[il] &&
                !ck_mul(kind[il] == 2 ? row->cells_swa : row->cells_full, kv_row, &kv)) {
                s = qkv_error_set(err, QKV_ERR_OVERFLOW, "KV bytes of a layer overflow 64 bits");
                goto out;
            }
            TRY(add_to(op->no_kv_offload ? &o->host.kv_bytes : &dev->kv_bytes, kv, err));
            TRY(add_to(&kv_sum, kv, err));
            if (d != CPU_DEV)
                o->gpu_layers++;
        }
        /* the output layer: output_norm and output, or a copy of token_embd */
        const int dout = layer_device(L, L, o->ngl, op->n_gpus, splits);
        offload_device *out_dev = dev_at(o, dout);
        o->output_on_gpu = dout != CPU_DEV;
        TRY(add_to(&out_dev->weight_bytes, w.output_norm, err));
        TRY(add_to(&out_dev->weight_bytes, w.output, err));
        if (w.tied && dout != CPU_DEV) {
            o->dup_bytes = w.tied_bytes;
            TRY(add_to(&out_dev->weight_bytes, w.tied_bytes, err));
        }
        if (kv_sum != row->kv_bytes && row->kv_bytes != 0) {
            s = qkv_error_set(err, QKV_ERR_INVALID,
                              "internal: per-layer KV (%llu bytes) differs from the plan's (%llu)",
                              (unsigned long long)kv_sum, (unsigned long long)row->kv_bytes);
            goto out;
        }
        /* Compute (estimate): llama.cpp reserves a compute buffer on the
         * host and on every GPU whatever -ngl is (its scheduler runs
         * large-batch products of CPU-resident weights on the GPU too;
         * measured: a Vulkan0 compute buffer at -ngl 0, a host one with
         * every layer offloaded), each sized for a whole micro-batch: the
         * row's scratch on each, the host's counted in the row. */
        TRY(add_to(&o->host.compute_bytes, row->scratch_bytes, err));
        for (size_t g = 0; g < op->n_gpus; g++) {
            TRY(add_to(&o->gpu[g].compute_bytes, row->scratch_bytes, err));
            TRY(add_to(&o->extra_compute_bytes, row->scratch_bytes, err));
        }
        if (layout && row->v.as_built && layout->n_layers == L) {
            /* llama.cpp maps the CPU tensors as one span of the file */
            uint64_t lo = UINT64_MAX, hi = 0;
            const offload_piece *pieces[3] = {&layout->input, &layout->output_norm,
                                              &layout->output};
            for (int k = 0; k < 3; k++) {
                if (k > 0 && dout != CPU_DEV)
                    break;
                if (pieces[k]->bytes)
                    lo = u64_min(lo, pieces[k]->lo), hi = u64_max(hi, pieces[k]->hi);
            }
            for (uint64_t il = 0; il < L; il++) {
                const bool cpu = layer_device(il, L, o->ngl, op->n_gpus, splits) == CPU_DEV;
                const offload_piece *lp = &layout->layer[il], *ep = &layout->experts[il];
                if (cpu && lp->bytes)
                    lo = u64_min(lo, lp->lo), hi = u64_max(hi, lp->hi);
                if ((cpu || op->cpu_moe || il < op->n_cpu_moe) && ep->bytes)
                    lo = u64_min(lo, ep->lo), hi = u64_max(hi, ep->hi);
            }
            o->host_mapped_bytes = hi > lo ? hi - lo : 0;
        }
    }

    /* totals, budgets, verdicts */
    o->gpu_fits = true;
    for (size_t i = 0; i < op->n_gpus; i++) {
        offload_device *g = &o->gpu[i];
        if (!ck_add(g->weight_bytes, g->kv_bytes, &g->total_bytes) ||
            !ck_add(g->total_bytes, g->compute_bytes, &g->total_bytes) ||
            !ck_add(o->gpu_bytes, g->total_bytes, &o->gpu_bytes)) {
            s = qkv_error_set(err, QKV_ERR_OVERFLOW, "GPU bytes overflow 64 bits");
            goto out;
        }
        g->budget_bytes = gpu_budget[i];
        g->headroom_bytes = headroom(g->budget_bytes, g->total_bytes);
        g->fits = g->total_bytes <= g->budget_bytes;
        o->gpu_fits = o->gpu_fits && g->fits;
    }
    offload_device *h = &o->host;
    if (!ck_add(h->weight_bytes, h->kv_bytes, &h->total_bytes) ||
        !ck_add(h->total_bytes, h->compute_bytes, &h->total_bytes)) {
        s = qkv_error_set(err, QKV_ERR_OVERFLOW, "host bytes overflow 64 bits");
        goto out;
    }
    o->host_bytes = h->total_bytes;
    h->budget_bytes = host_budget;
    if (op->unified) {
        /* one pool: the GPU's bytes come out of the host's budget */
        uint64_t both;
        if (!ck_add(h->total_bytes, o->gpu_bytes, &both)) {
            s = qkv_error_set(err, QKV_ERR_OVERFLOW, "pool bytes overflow 64 bits");
            goto out;
        }
        h->headroom_bytes = headroom(host_budget, both);
        h->fits = both <= host_budget;
    } else {
        h->headroom_bytes = headroom(host_budget, h->total_bytes);
        h->fits = h->total_bytes <= host_budget;
    }
    o->fits = o->gpu_fits && h->fits && !row->engine_refusal[0];
out:
    weights_free(&w);
    free(kind);
    return s;
}

/* ---- solving -------------------------------------------------------------- */

/* The most layers (-ngl) that fit every GPU at this row; 0 when none. */
static qkv_status solve_ngl(const kvplan_result *r, const kvplan_row *row, const offload_params *op,
                            const offload_layout *layout, offload_row *o, qkv_error *err)
{
    for (uint64_t ngl = r->model.n_layers + 1;; ngl--) {
        qkv_status s = offload_place(r, row, op, layout, ngl, o, err);
        if (s != QKV_OK)
            return s;
        if (o->gpu_fits || ngl == 0)
            return QKV_OK;
    }
}

static uint64_t ctx_top(const kvplan_result *r)
{
    const kvplan_params *p = &r->params;
    const model_shape *m = &r->model;
    uint64_t cap = KVPLAN_CTX_MAX, t;
    if (!p->beyond_trained && m->max_ctx > 0) {
        t = m->max_ctx;
        if (p->engine == ENGINE_LLAMACPP && !ck_mul(t, p->seqs, &t))
            t = KVPLAN_CTX_MAX;
        cap = u64_min(cap, t);
    }
    return cap;
}

/* Whether the row placed at ngl fits every device at context ctx. */
static bool fits_ctx(const kvplan_result *r, const kvplan_row *base, const offload_params *op,
                     const offload_layout *layout, uint64_t ngl, uint64_t ctx)
{
    kvplan_params p = r->params;
    p.ctx = ctx;
    kvplan_row row;
    offload_row o;
    if (kvplan_row_eval(&r->model, &base->v, &p, false, &row, NULL) != QKV_OK ||
        row.engine_refusal[0])
        return false;
    kvplan_result rr = *r;
    rr.params = p;
    return offload_place(&rr, &row, op, layout, ngl, &o, NULL) == QKV_OK && o.fits;
}

static uint64_t max_ctx_at(const kvplan_result *r, const kvplan_row *row, const offload_params *op,
                           const offload_layout *layout, uint64_t ngl, bool *capped)
{
    const uint64_t cap = ctx_top(r);
    *capped = false;
    if (row->engine_refusal[0] || !fits_ctx(r, row, op, layout, ngl, 1))
        return 0;
    if (fits_ctx(r, row, op, layout, ngl, cap)) {
        *capped = true;
        return cap;
    }
    uint64_t lo = 1, hi = cap;
    while (hi - lo > 1) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (fits_ctx(r, row, op, layout, ngl, mid))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Layers on the GPUs (auto) over a context sweep: powers of two from 512 to
 * the trained context (or the request), and the request itself. */
static void sweep_row(const kvplan_result *r, const kvplan_row *base, const offload_params *op,
                      const offload_layout *layout, offload_row *o)
{
    uint64_t top = r->model.max_ctx ? r->model.max_ctx : KVPLAN_SWEEP_DEFAULT_TOP;
    top = u64_min(u64_max(top, r->params.ctx), KVPLAN_CTX_MAX);
    uint64_t pts[OFFLOAD_SWEEP_MAX];
    size_t n = 0;
    for (uint64_t c = KVPLAN_SWEEP_MIN; c <= top && n < OFFLOAD_SWEEP_MAX - 2; c *= 2)
        pts[n++] = c;
    pts[n++] = top;
    pts[n++] = r->params.ctx;
    qsort(pts, n, sizeof pts[0], cmp_u64);
    o->n_sweep = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pts[i] == pts[i - 1])
            continue;
        kvplan_params p = r->params;
        p.ctx = pts[i];
        kvplan_row row;
        offload_row t;
        kvplan_result rr = *r;
        rr.params = p;
        if (kvplan_row_eval(&r->model, &base->v, &p, false, &row, NULL) != QKV_OK ||
            solve_ngl(&rr, &row, op, layout, &t, NULL) != QKV_OK)
            continue;
        o->sweep_ctx[o->n_sweep] = pts[i];
        o->sweep_ngl[o->n_sweep++] = t.gpu_fits ? t.ngl : 0;
    }
}

/* The engine's command line with the placement: -ngl, -ts, -nkvo, -ot. */
static void place_command(const kvplan_result *r, const offload_params *op, const offload_row *o,
                          const uint64_t *gpu_budget, char *buf, size_t n)
{
    kvplan_engine_command(r, buf, n);
    size_t used = strlen(buf);
#define APPEND(...)                                                                                \
    do {                                                                                           \
        int k_ = snprintf(buf + used, n - used, __VA_ARGS__);                                      \
        if (k_ > 0)                                                                                \
            used = u64_min(n - 1, used + (size_t)k_);                                              \
    } while (0)
    switch (r->params.engine) {
    case ENGINE_LLAMACPP:
        APPEND(" -ngl %llu", (unsigned long long)o->ngl);
        if (op->n_gpus > 1) {
            APPEND(" -ts ");
            for (size_t i = 0; i < op->n_gpus; i++) {
                if (op->split_set)
                    APPEND("%s%g", i ? "," : "", (double)op->split[i]);
                else
                    APPEND("%s%llu", i ? "," : "", (unsigned long long)(gpu_budget[i] >> 20));
            }
        }
        if (op->no_kv_offload)
            APPEND(" -nkvo");
        if (op->cpu_moe)
            APPEND(" -ot '\\.ffn_(up|down|gate|gate_up)_(ch|)exps=CPU'");
        else if (op->n_cpu_moe > 0)
            APPEND(" --n-cpu-moe %llu", (unsigned long long)op->n_cpu_moe);
        break;
    case ENGINE_OLLAMA:
        APPEND(" # and num_gpu %llu (Modelfile PARAMETER or API option)",
               (unsigned long long)o->ngl);
        break;
    case ENGINE_VLLM:
        APPEND(" --tensor-parallel-size %zu", op->n_gpus);
        break;
    case ENGINE_EXACT:
    case ENGINE_COUNT:
        break;
    }
#undef APPEND
}

qkv_status offload_plan(kvplan_result *r, const offload_params *op, const offload_layout *layout,
                        qkv_error *err)
{
    qkv_status s;
    free(r->offload);
    r->offload = NULL;
    if (op->n_gpus == 0 || op->n_gpus > OFFLOAD_GPUS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "an offload plan needs 1..%d GPUs",
                             OFFLOAD_GPUS_MAX);
    if (r->model.n_layers > OFFLOAD_LAYERS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "an offload plan handles up to %llu layers",
                             (unsigned long long)OFFLOAD_LAYERS_MAX);
    const bool vllm = r->params.engine == ENGINE_VLLM;
    if (vllm && op->n_gpus > 1 && r->model.n_heads % op->n_gpus != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "vLLM: tensor-parallel size %zu does not divide %llu attention heads",
                             op->n_gpus, (unsigned long long)r->model.n_heads);
    struct offload_plan *plan = calloc(1, sizeof *plan + r->n_rows * sizeof plan->rows[0]);
    if (!plan)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for an offload plan");
    plan->params = *op;
    plan->vllm = vllm;
    plan->n_rows = r->n_rows;
    uint64_t gpu_budget[OFFLOAD_GPUS_MAX], host_budget;
    usable_budgets(r, op, gpu_budget, &host_budget);
    for (size_t i = 0; i < r->n_rows; i++) {
        const kvplan_row *row = &r->rows[i];
        offload_row *o = &plan->rows[i];
        if (op->ngl_auto && !vllm)
            s = solve_ngl(r, row, op, layout, o, err);
        else
            s = offload_place(r, row, op, layout, op->ngl, o, err);
        if (s != QKV_OK) {
            free(plan);
            return s;
        }
        o->max_ctx = max_ctx_at(r, row, op, layout, o->ngl, &o->max_ctx_capped);
        if (!vllm)
            sweep_row(r, row, op, layout, o);
        place_command(r, op, o, gpu_budget, o->command, sizeof o->command);
    }
    r->offload = plan;
    return QKV_OK;
}
