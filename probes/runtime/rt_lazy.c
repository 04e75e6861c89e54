#include "probes/runtime/rt_lazy.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/runtime/llama_names.h"
#include "probes/runtime/rt_kernels.h"

#include <cblas.h>

/* The runtime's tensors of one layer, in rt_layer order, and their names. */
enum { W_LN1, W_Q, W_K, W_V, W_O, W_LN2, W_1, W_3, W_2, W_COUNT };
static const llama_tensor layer_tensors[W_COUNT] = {LLAMA_ATTN_NORM, LLAMA_Q,  LLAMA_K,
                                                    LLAMA_V,         LLAMA_O,  LLAMA_FFN_NORM,
                                                    LLAMA_GATE,      LLAMA_UP, LLAMA_DOWN};

/* A tensor as it lies in the mapped file. */
typedef struct {
    const unsigned char *data;
    tf_type type;
    uint64_t rows, cols, row_bytes;
    char name[128]; /* as the file names it, for messages */
    bool permute;   /* Hugging Face Q/K rows: rotate-half -> interleaved */
    bool in_place;  /* float32, aligned, no re-ordering: used as it lies */
} stored;

struct rt_lazy {
    ckpt *c;
    bool borrowed;  /* llama2.c / .qkvm: m points into c->rt */
    stored *layers; /* (L, W_COUNT) */
    stored emb, cls, lnf;
    float *scratch; /* one layer's widened tensors, or a block of classifier rows */
    size_t scratch_elems;
    float *perm_tmp; /* (HD, C) for the row re-ordering */
    float *emb_row;  /* (C) */
    float *lnf_w;    /* (C) */
    int resident;    /* layer now in scratch, or -1 */
    rt_fetch fetch;
    /* the decode layout (rt_lazy_decode_layout): float32 matrices copied
     * transposed into dec; dec_w (L, W_COUNT) points into it, NULL for the
     * norms and for layers left in the file; dec_cls likewise */
    float *dec;
    size_t dec_elems;
    const float **dec_w;
    const float *dec_cls;
};

/* Find name in the file and check it holds rows x cols of a readable type. */
static qkv_status find(ckpt *c, const char *name, uint64_t rows, uint64_t cols, stored *out,
                       qkv_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    uint64_t r = 1, k = 0;
    if (c->kind == CKPT_GGUF) {
        const gguf_tensor *t = gguf_find(&c->gg, name);
        if (!t)
            return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%s' is missing", c->path,
                                 name);
        k = t->ne[0];
        for (uint32_t d = 1; d < t->n_dims; d++)
            r *= t->ne[d];
        out->type = t->type;
        out->data = c->gg.map.data + c->gg.data_off + t->offset;
    } else {
        const st_tensor *t = st_find(&c->st, name);
        if (!t)
            return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%s' is missing", c->path,
                                 name);
        if (t->n_dims == 1) {
            k = t->shape[0];
        } else {
            r = t->n_dims ? t->shape[0] : 1;
            k = 1;
            for (int d = 1; d < t->n_dims; d++)
                k *= t->shape[d];
        }
        out->type = t->type;
        out->data = c->st.maps[t->shard].data + c->st.data_off[t->shard] + t->begin;
    }
    if (r != rows || k != cols)
        return qkv_error_set(
            err, QKV_ERR_INVALID,
            "'%s': tensor '%s' is %llu x %llu; the configuration needs %llu x %llu", c->path, name,
            (unsigned long long)r, (unsigned long long)k, (unsigned long long)rows,
            (unsigned long long)cols);
    if (out->type == TF_UNSUPPORTED || (out->row_bytes = tf_row_bytes(out->type, cols)) == 0)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED,
                             "'%s': tensor '%s' has an element type the runtime cannot widen to "
                             "float32 in rows of %llu",
                             c->path, name, (unsigned long long)cols);
    out->rows = rows;
    out->cols = cols;
    out->in_place = out->type == TF_F32 && (uintptr_t)out->data % sizeof(float) == 0;
    return QKV_OK;
}

/* Widen rows [r0, r0 + n) of s into dst (or point at them in place). */
static const float *widen(const stored *s, uint64_t r0, uint64_t n, float *dst)
{
    const unsigned char *src = s->data + r0 * s->row_bytes;
    if (s->in_place)
        return (const float *)(const void *)src;
    tf_to_f32(s->type, src, dst, n * s->cols);
    return dst;
}

/* Every value of s, widened through buf (buf_elems floats, a multiple of
 * s->cols) a block of rows at a time, must be finite: a NaN or Inf weight is
 * refused when the file is opened, naming the tensor, as ckpt_load_model
 * does for weights it loads. */
static qkv_status check_finite(const rt_lazy *z, const stored *s, float *buf, size_t buf_elems,
                               qkv_error *err)
{
    const uint64_t block = buf_elems / s->cols ? buf_elems / s->cols : 1;
    for (uint64_t r0 = 0; r0 < s->rows; r0 += block) {
        const uint64_t n = s->rows - r0 < block ? s->rows - r0 : block;
        const float *v = widen(s, r0, n, buf);
        for (uint64_t i = 0; i < n * s->cols; i++)
            if (!isfinite(v[i]))
                return qkv_error_set(err, QKV_ERR_INVALID,
                                     "'%s': tensor '%s' holds a non-finite value at element %llu",
                                     z->c->path, s->name, (unsigned long long)(r0 * s->cols + i));
    }
    return QKV_OK;
}

static qkv_status fetch_layer(void *ctx, int l, rt_layer *y, qkv_error *err)
{
    rt_lazy *z = ctx;
    const rt_config *g = &z->c->cfg;
    if (l < 0 || l >= g->n_layers)
        return qkv_error_set(err, QKV_ERR_RANGE, "layer %d does not exist", l);
    memset(y, 0, sizeof *y);
    float **dst[W_COUNT] = {&y->ln1_w, &y->wq, &y->wk, &y->wv, &y->wo,
                            &y->ln2_w, &y->w1, &y->w3, &y->w2};
    const bool fresh = z->resident != l;
    float *p = z->scratch;
    const float *const *dec = z->dec_w ? z->dec_w + (size_t)l * W_COUNT : NULL;
    y->wt = dec && dec[W_Q];
    for (int i = 0; i < W_COUNT; i++) {
        const stored *s = &z->layers[(size_t)l * W_COUNT + i];
        if (y->wt && dec[i]) {
            *dst[i] = (float *)(uintptr_t)dec[i]; /* read only, as below */
            continue;
        }
        if (s->in_place) {
            *dst[i] =
                (float *)(uintptr_t)s->data; /* read only: the forward pass never writes weights */
            continue;
        }
        *dst[i] = p;
        if (fresh) {
            widen(s, 0, s->rows, p);
            if (s->permute) {
                const int heads = (int)(s->rows / (uint64_t)g->head_dim);
                ckpt_rope_rows_to_interleaved(p, heads, g->head_dim, g->d_model, z->perm_tmp);
            }
        }
        p += s->rows * s->cols;
    }
    z->resident = l;
    return QKV_OK;
}

static qkv_status fetch_rows(void *ctx, int which, size_t row0, size_t n, const float **rows,
                             qkv_error *err)
{
    rt_lazy *z = ctx;
    const stored *s = which == RT_ROWS_EMB ? &z->emb : &z->cls;
    /* rows widened into the scratch must fit it (rows_max may be the whole
     * transposed classifier, which is not widened) */
    const bool widened = !s->in_place && !(which == RT_ROWS_EMB && n == 1);
    if (row0 + n > s->rows || n > z->fetch.rows_max || (widened && n * s->cols > z->scratch_elems))
        return qkv_error_set(err, QKV_ERR_RANGE, "rows %zu..%zu are outside the tensor", row0,
                             row0 + n);
    if (which == RT_ROWS_CLS && z->dec_cls) {
        if (row0 != 0 || n != s->rows)
            return qkv_error_set(err, QKV_ERR_RANGE,
                                 "the transposed classifier is read whole, not rows %zu..%zu", row0,
                                 row0 + n);
        *rows = z->dec_cls;
        return QKV_OK;
    }
    float *dst = z->scratch;
    if (which == RT_ROWS_EMB && n == 1) {
        dst = z->emb_row;
    } else if (!s->in_place) {
        z->resident = -1; /* the scratch now holds classifier rows */
    }
    *rows = widen(s, row0, n, dst);
    return QKV_OK;
}

static void release(rt_lazy *z)
{
    if (!z)
        return;
    free(z->layers);
    free(z->dec);
    free(z->dec_w);
    free(z->scratch);
    free(z->perm_tmp);
    free(z->emb_row);
    free(z->lnf_w);
    free(z);
}

/* Every layer's tensors as they lie in the file; *layer_elems receives the
 * floats of the largest layer once widened (tensors used in place count
 * nothing). */
static qkv_status find_layers(rt_lazy *z, size_t *layer_elems, qkv_error *err)
{
    ckpt *c = z->c;
    const rt_config *g = &c->cfg;
    const uint64_t C = (uint64_t)g->d_model, FF = (uint64_t)g->d_ff,
                   QW = (uint64_t)g->n_heads * g->head_dim,
                   KW = (uint64_t)g->n_kv_heads * g->head_dim;
    const uint64_t rows[W_COUNT] = {1, QW, KW, KW, C, 1, FF, FF, C};
    const uint64_t cols[W_COUNT] = {C, C, C, C, QW, C, C, C, FF};
    const bool gg = c->kind == CKPT_GGUF;
    const llama_names scheme = gg ? LLAMA_NAMES_GGUF : LLAMA_NAMES_HF;
    if (!(z->layers = calloc((size_t)g->n_layers * W_COUNT, sizeof *z->layers)))
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    char name[128];
    for (int l = 0; l < g->n_layers; l++) {
        size_t elems = 0;
        for (int i = 0; i < W_COUNT; i++) {
            stored *st = &z->layers[(size_t)l * W_COUNT + i];
            llama_tensor_name(scheme, layer_tensors[i], l, name, sizeof name);
            qkv_status s = find(c, name, rows[i], cols[i], st, err);
            if (s != QKV_OK)
                return s;
            st->permute = !gg && (i == W_Q || i == W_K);
            st->in_place = st->in_place && !st->permute;
            elems += st->in_place ? 0 : (size_t)(st->rows * st->cols);
        }
        *layer_elems = elems > *layer_elems ? elems : *layer_elems;
    }
    return QKV_OK;
}

/* One pass over every weight before anything runs, in the file's order of
 * layers; the scratch (or, when every tensor is used in place, one row)
 * holds the block being widened. */
static qkv_status check_all_finite(const rt_lazy *z, qkv_error *err)
{
    const rt_config *g = &z->c->cfg;
    const size_t C = (size_t)g->d_model;
    const size_t check_elems = z->scratch_elems >= C ? z->scratch_elems : 0;
    float *buf = check_elems ? z->scratch : z->emb_row;
    const size_t n = check_elems ? check_elems : C;
    qkv_status s;
    for (size_t i = 0; i < (size_t)g->n_layers * W_COUNT; i++)
        if ((s = check_finite(z, &z->layers[i], buf, n, err)) != QKV_OK)
            return s;
    const stored *others[] = {&z->emb, &z->lnf, &z->cls};
    for (size_t i = 0; i < 3; i++)
        if ((i < 2 || !g->tied) && (s = check_finite(z, others[i], buf, n, err)) != QKV_OK)
            return s;
    return QKV_OK;
}

qkv_status rt_lazy_open(ckpt *c, rt_model *m, rt_lazy **out, qkv_error *err)
{
    memset(m, 0, sizeof *m);
    *out = NULL;
    rt_lazy *z = calloc(1, sizeof *z);
    if (!z)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    z->c = c;
    z->resident = -1;
    if (c->has_rt) {
        z->borrowed = true;
        *m = c->rt; /* shares c's weights; rt_lazy_free clears it without freeing */
        *out = z;
        return QKV_OK;
    }
    if (c->layout != CKPT_LAYOUT_LLAMA) {
        release(z);
        return qkv_error_set(
            err, QKV_ERR_UNSUPPORTED,
            "'%s': the runtime runs Llama-family checkpoints; this %s model can be "
            "probed with --weights",
            c->path, c->layout == CKPT_LAYOUT_GPT2 ? "GPT-2" : "GPT-NeoX");
    }
    const rt_config *g = &c->cfg;
    const uint64_t C = (uint64_t)g->d_model, V = (uint64_t)g->vocab;
    const llama_names scheme = c->kind == CKPT_GGUF ? LLAMA_NAMES_GGUF : LLAMA_NAMES_HF;
    qkv_status s;
    size_t layer_elems = 0; /* the largest layer's widened floats */
    if ((s = find_layers(z, &layer_elems, err)) != QKV_OK) {
        release(z);
        return s;
    }
    char name[128];
    llama_tensor_name(scheme, LLAMA_TOK_EMB, 0, name, sizeof name);
    if ((s = find(c, name, V, C, &z->emb, err)) != QKV_OK) {
        release(z);
        return s;
    }
    llama_tensor_name(scheme, LLAMA_OUT_NORM, 0, name, sizeof name);
    if ((s = find(c, name, 1, C, &z->lnf, err)) != QKV_OK) {
        release(z);
        return s;
    }
    z->cls = z->emb;
    llama_tensor_name(scheme, LLAMA_OUTPUT, 0, name, sizeof name);
    if (!g->tied && (s = find(c, name, V, C, &z->cls, err))) {
        release(z);
        return s;
    }
    /* classifier blocks reuse the layer scratch: as many rows as it holds
     * (at least 256, so that a model of tiny layers still has blocks) */
    size_t rows_max = z->cls.in_place ? (size_t)V : layer_elems / (size_t)C;
    rows_max = rows_max < 256 ? 256 : rows_max;
    rows_max = rows_max > V ? (size_t)V : rows_max;
    const size_t cls_elems = z->cls.in_place ? 0 : rows_max * (size_t)C;
    z->scratch_elems = layer_elems > cls_elems ? layer_elems : cls_elems;
    z->scratch = malloc((z->scratch_elems ? z->scratch_elems : 1) * sizeof(float));
    z->perm_tmp = malloc((size_t)g->head_dim * C * sizeof(float));
    z->emb_row = malloc(C * sizeof(float));
    z->lnf_w = malloc(C * sizeof(float));
    if (!z->scratch || !z->perm_tmp || !z->emb_row || !z->lnf_w) {
        const size_t elems = z->scratch_elems;
        release(z);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for one layer of %zu floats",
                             elems);
    }
    memcpy(z->lnf_w, widen(&z->lnf, 0, 1, z->lnf_w), C * sizeof(float));
    if ((s = check_all_finite(z, err)) != QKV_OK) {
        release(z);
        return s;
    }
    z->fetch = (rt_fetch){z, rows_max, fetch_layer, fetch_rows, false};
    m->cfg = *g;
    m->lnf_w = z->lnf_w;
    m->fetch = &z->fetch;
    *out = z;
    return QKV_OK;
}

void rt_lazy_free(rt_lazy *z, rt_model *m)
{
    if (m)
        memset(m, 0, sizeof *m);
    release(z);
}

size_t rt_lazy_scratch_bytes(const rt_lazy *z)
{
    return z && !z->borrowed ? z->scratch_elems * sizeof(float) : 0;
}

/* Copy s (float32, rows x cols) transposed into dst (cols x rows), through
 * the scratch when its rows need re-ordering, and give its mapped pages
 * back. */
static void transpose_into(rt_lazy *z, const stored *s, float *dst)
{
    const rt_config *g = &z->c->cfg;
    const float *src = widen(s, 0, s->rows, z->scratch);
    if (s->permute) {
        ckpt_rope_rows_to_interleaved(z->scratch, (int)(s->rows / (uint64_t)g->head_dim),
                                      g->head_dim, g->d_model, z->perm_tmp);
        src = z->scratch;
    }
    cblas_somatcopy(CblasRowMajor, CblasTrans, (blasint)s->rows, (blasint)s->cols, 1.0f, src,
                    (blasint)s->cols, dst, (blasint)s->rows);
    tf_map_release(s->data, s->rows * s->row_bytes);
}

static bool is_matrix(int i)
{
    return i != W_LN1 && i != W_LN2;
}

/* Layer l's seven matrices are all float32 in the file. */
static bool layer_is_f32(const rt_lazy *z, size_t l)
{
    for (int i = 0; i < W_COUNT; i++)
        if (is_matrix(i) && z->layers[l * W_COUNT + i].type != TF_F32)
            return false;
    return true;
}

qkv_status rt_lazy_decode_layout(rt_lazy *z, rt_model *m, qkv_error *err)
{
    if (z->borrowed || z->dec)
        return QKV_OK;
    const rt_config *g = &z->c->cfg;
    const size_t L = (size_t)g->n_layers;
    size_t elems = 0;
    for (size_t l = 0; l < L; l++)
        for (int i = 0; layer_is_f32(z, l) && i < W_COUNT; i++)
            if (is_matrix(i))
                elems +=
                    (size_t)(z->layers[l * W_COUNT + i].rows * z->layers[l * W_COUNT + i].cols);
    /* a float32 classifier not usable in place is widened whole through the
     * scratch, which must then hold it */
    const bool cls =
        z->cls.type == TF_F32 && (z->cls.in_place || z->cls.rows * z->cls.cols <= z->scratch_elems);
    elems += cls ? (size_t)(z->cls.rows * z->cls.cols) : 0;
    if (elems == 0)
        return QKV_OK;
    /* an f32 model near the machine's memory runs from the page cache, which
     * the kernel can evict; its copy could not be: refuse rather than be
     * killed half-way (the caller decodes from the file instead) */
    const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && elems > (size_t)pages / sizeof(float) * (size_t)page)
        return qkv_error_set(err, QKV_ERR_NOMEM,
                             "the transposed float32 weights (%zu MB) exceed the free memory "
                             "(%zu MB)",
                             elems * sizeof(float) >> 20, (size_t)pages * (size_t)page >> 20);
    z->dec = rt_alloc_streamed(elems * sizeof(float));
    z->dec_w = calloc(L * W_COUNT, sizeof *z->dec_w);
    if (!z->dec || !z->dec_w) {
        free(z->dec);
        free(z->dec_w);
        z->dec = NULL;
        z->dec_w = NULL;
        return qkv_error_set(err, QKV_ERR_NOMEM,
                             "out of memory for the transposed float32 weights (%zu MB)",
                             elems * sizeof(float) >> 20);
    }
    z->dec_elems = elems;
    z->resident = -1; /* the scratch is used to re-order rows */
    float *p = z->dec;
    for (size_t l = 0; l < L; l++)
        for (int i = 0; layer_is_f32(z, l) && i < W_COUNT; i++)
            if (is_matrix(i)) {
                const stored *s = &z->layers[l * W_COUNT + i];
                transpose_into(z, s, p);
                z->dec_w[l * W_COUNT + i] = p;
                p += s->rows * s->cols;
            }
    if (cls) {
        transpose_into(z, &z->cls, p);
        z->dec_cls = p;
        z->fetch.rows_max = (size_t)g->vocab;
        z->fetch.cls_wt = true;
    }
    m->fetch = &z->fetch;
    return QKV_OK;
}

size_t rt_lazy_decode_bytes(const rt_lazy *z)
{
    return z ? z->dec_elems * sizeof(float) : 0;
}
