#include "probes/runtime/checkpoint.h"
#include "analyzer/core/infile.h"
#include "analyzer/core/safetext.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/engine.h"
#include "analyzer/formats/hfconfig.h"
#include "analyzer/core/paths.h"
#include "analyzer/formats/modelfile.h"
#include "probes/runtime/llama2c.h"
#include "probes/runtime/llama_names.h"
#include "probes/runtime/rt_io.h"

static qkv_status shape_to_cfg(const model_shape *ms, rt_config *c, const char *path,
                               qkv_error *err)
{
    if (model_is_mla(ms) || ms->n_experts > 0 || ms->norm == NORM_LAYER)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED,
                             "'%s': the runtime loads Llama-family models (RMSNorm, RoPE, dense "
                             "SwiGLU); this one is not",
                             path);
    *c = rt_config_default(RT_LLAMA);
    c->n_layers = (int)ms->n_layers;
    c->d_model = (int)ms->d_model;
    c->n_heads = (int)ms->n_heads;
    c->n_kv_heads = (int)ms->n_kv_heads;
    c->head_dim = (int)ms->head_dim;
    c->d_ff = (int)ms->d_ff;
    c->vocab = (int)ms->vocab;
    c->max_seq = ms->max_ctx > 0 && ms->max_ctx < RT_SEQ_MAX ? (int)ms->max_ctx : RT_SEQ_MAX;
    c->tied = ms->tied_embeddings;
    if (ms->rope_theta > 0)
        c->rope_theta = (float)ms->rope_theta;
    if (ms->norm_eps > 0)
        c->norm_eps = (float)ms->norm_eps;
    return rt_config_check(c, err);
}

/* The runtime's view of a GGUF: its own demands first — an architecture it
 * runs, explicit sizes within its limits, a token embedding — then the shape
 * as the planner reads it (modelfile_gguf_shape). */
static qkv_status open_gguf_cfg(ckpt *c, qkv_error *err)
{
    const gguf_file *g = &c->gg;
    char arch[64], key[160];
    if (!gguf_get_str(g, "general.architecture", arch, sizeof arch))
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': metadata key general.architecture is missing", c->path);
    if (strcmp(arch, "llama") != 0 && strcmp(arch, "mistral") != 0 && strcmp(arch, "qwen2") != 0)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED,
                             "'%s': architecture '%s' (the runtime loads llama, mistral, qwen2)",
                             c->path, arch);
    static const char *const need[] = {"block_count", "embedding_length", "attention.head_count",
                                       "feed_forward_length"};
    for (int i = 0; i < 4; i++) {
        uint64_t v;
        snprintf(key, sizeof key, "%s.%s", arch, need[i]);
        if (!gguf_get_uint(g, key, &v) || v == 0 || v > RT_DIM_MAX * 4ull)
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "'%s': metadata key %s is missing or invalid", c->path, key);
    }
    const gguf_tensor *emb = gguf_find(g, "token_embd.weight");
    if (!emb || emb->n_dims != 2)
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor token_embd.weight is missing",
                             c->path);
    model_shape ms;
    qkv_status s = modelfile_gguf_shape(g, c->path, &ms, err);
    if (s != QKV_OK)
        return s;
    return shape_to_cfg(&ms, &c->cfg, c->path, err);
}

qkv_status ckpt_open(const char *path, ckpt *c, qkv_error *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    struct stat st;
    if (stat(path, &st) != 0)
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    qkv_status s;
    if (!S_ISDIR(st.st_mode) && modelfile_is_gguf(path)) {
        c->kind = CKPT_GGUF;
        if ((s = gguf_open(path, &c->gg, err)) != QKV_OK)
            return s;
        if ((s = open_gguf_cfg(c, err)) != QKV_OK) {
            ckpt_close(c);
            return s;
        }
        for (size_t i = 0; i < c->gg.n_tensors; i++) {
            c->file_bytes += c->gg.tensors[i].bytes;
            uint64_t e = 1;
            for (uint32_t d = 0; d < c->gg.tensors[i].n_dims; d++)
                e *= c->gg.tensors[i].ne[d];
            c->n_params += e;
        }
        return QKV_OK;
    }
    if (S_ISDIR(st.st_mode) || modelfile_names_safetensors(path)) {
        c->kind = CKPT_SAFETENSORS;
        char cfg[QKV_PATH_BYTES + QKV_NAME_BYTES];
        model_shape ms;
        if ((s = modelfile_config_path(path, S_ISDIR(st.st_mode), cfg, sizeof cfg, err)) !=
                QKV_OK ||
            (s = hfconfig_load(cfg, &ms, err)) != QKV_OK)
            return s;
        c->layout = strcmp(ms.name, "gpt2") == 0       ? CKPT_LAYOUT_GPT2
                    : strcmp(ms.name, "gpt_neox") == 0 ? CKPT_LAYOUT_NEOX
                                                       : CKPT_LAYOUT_LLAMA;
        if (c->layout == CKPT_LAYOUT_LLAMA) {
            if ((s = shape_to_cfg(&ms, &c->cfg, cfg, err)) != QKV_OK)
                return s;
        } else {
            /* weight probes only: the dimensions are what they need */
            c->cfg = rt_config_default(RT_GPT2);
            c->cfg.n_layers = (int)ms.n_layers;
            c->cfg.d_model = (int)ms.d_model;
            c->cfg.n_heads = c->cfg.n_kv_heads = (int)ms.n_heads;
            c->cfg.head_dim = (int)ms.head_dim;
            c->cfg.d_ff = (int)ms.d_ff;
            c->cfg.vocab = (int)ms.vocab;
            c->cfg.max_seq = ms.max_ctx > 0 && ms.max_ctx < RT_SEQ_MAX ? (int)ms.max_ctx : 1024;
            if ((s = rt_config_check(&c->cfg, err)) != QKV_OK)
                return s;
        }
        if ((s = st_open(path, &c->st, err)) != QKV_OK)
            return s;
        if (c->layout == CKPT_LAYOUT_GPT2 && st_find(&c->st, "h.0.attn.c_attn.weight") == NULL &&
            st_find(&c->st, "transformer.h.0.attn.c_attn.weight") != NULL)
            snprintf(c->prefix, sizeof c->prefix, "transformer.");
        for (size_t i = 0; i < c->st.n_tensors; i++) {
            if (modelfile_is_mask_buffer(c->st.tensors[i].name))
                continue;
            c->file_bytes += c->st.tensors[i].end - c->st.tensors[i].begin;
            uint64_t e = 1;
            for (int d = 0; d < c->st.tensors[i].n_dims; d++)
                e *= c->st.tensors[i].shape[d];
            c->n_params += e;
        }
        return QKV_OK;
    }
    c->kind = rt_model_is_qkvplan(path) ? CKPT_QKVM : CKPT_LLAMA2C;
    s = c->kind == CKPT_QKVM ? rt_model_load(path, &c->rt, err) : llama2c_load(path, &c->rt, err);
    if (s != QKV_OK)
        return s;
    c->has_rt = true;
    c->cfg = c->rt.cfg;
    c->n_params = c->rt.n_params;
    c->file_bytes = 4 * c->rt.n_params;
    return QKV_OK;
}

void ckpt_close(ckpt *c)
{
    if (!c)
        return;
    st_close(&c->st);
    gguf_close(&c->gg);
    rt_model_free(&c->rt);
    memset(c, 0, sizeof *c);
}

uint64_t ckpt_bytes_read(const ckpt *c)
{
    return c->kind == CKPT_GGUF          ? c->gg.bytes_read
           : c->kind == CKPT_SAFETENSORS ? c->st.bytes_read
                                         : 0;
}

/* A weight that is NaN or infinite is a broken file, named as the llama2.c
 * reader names it (QKV_ERR_INVALID: exit 3). */
static qkv_status check_finite(const ckpt *c, const char *name, const float *v, uint64_t n,
                               qkv_error *err)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "'%s': tensor '%s' holds a non-finite value at element %llu",
                                 c->path, name, (unsigned long long)i);
    return QKV_OK;
}

/* Read a whole 2-D (or 1-D, rows = 1) tensor of rows x cols by name. */
static qkv_status read_named(ckpt *c, const char *name, uint64_t rows, uint64_t cols, float *out,
                             qkv_error *err)
{
    if (c->kind == CKPT_GGUF) {
        const gguf_tensor *t = gguf_find(&c->gg, name);
        if (!t)
            return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%s' is missing", c->path,
                                 name);
        uint64_t r = 1;
        for (uint32_t d = 1; d < t->n_dims; d++)
            r *= t->ne[d];
        if (t->ne[0] != cols || r != rows)
            return qkv_error_set(
                err, QKV_ERR_INVALID,
                "'%s': tensor '%s' is %llu x %llu; the configuration needs %llu x %llu", c->path,
                name, (unsigned long long)r, (unsigned long long)t->ne[0], (unsigned long long)rows,
                (unsigned long long)cols);
        qkv_status s = gguf_read_rows(&c->gg, t, 0, rows, out, err);
        return s != QKV_OK ? s : check_finite(c, name, out, rows * cols, err);
    }
    const st_tensor *t = st_find(&c->st, name);
    if (!t)
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%s' is missing", c->path, name);
    uint64_t r = t->n_dims ? t->shape[0] : 1, k = 1;
    for (int d = 1; d < t->n_dims; d++)
        k *= t->shape[d];
    if (t->n_dims == 1) {
        r = 1;
        k = t->shape[0];
    }
    if (r != rows || k != cols)
        return qkv_error_set(
            err, QKV_ERR_INVALID,
            "'%s': tensor '%s' is %llu x %llu; the configuration needs %llu x %llu", c->path, name,
            (unsigned long long)r, (unsigned long long)k, (unsigned long long)rows,
            (unsigned long long)cols);
    if (t->n_dims == 1) {
        if (t->type == TF_UNSUPPORTED)
            return st_read_rows(&c->st, t, 0, 1, out, err);
        tf_to_f32(t->type, c->st.maps[t->shard].data + c->st.data_off[t->shard] + t->begin, out,
                  cols);
        return check_finite(c, name, out, cols, err);
    }
    qkv_status s = st_read_rows(&c->st, t, 0, rows, out, err);
    return s != QKV_OK ? s : check_finite(c, name, out, rows * cols, err);
}

/* Hugging Face rotate-half row order <-> interleaved pairs, per head: row
 * i + k·hd/2 of the rotate-half order is row 2i + k of the interleaved one. */
static void permute_rope_rows(float *w, int n_heads, int hd, int cols, float *tmp,
                              bool to_interleaved)
{
    for (int h = 0; h < n_heads; h++) {
        float *head = w + (size_t)h * hd * cols;
        memcpy(tmp, head, (size_t)hd * cols * sizeof(float));
        for (int i = 0; i < hd / 2; i++)
            for (int k = 0; k < 2; k++) {
                const size_t inter = (size_t)(2 * i + k), half = (size_t)(i + k * hd / 2);
                memcpy(head + (to_interleaved ? inter : half) * cols,
                       tmp + (to_interleaved ? half : inter) * cols, (size_t)cols * sizeof(float));
            }
    }
}

qkv_status ckpt_read_attn(ckpt *c, int l, float *wq, float *wk, float *wv, qkv_error *err)
{
    const rt_config *g = &c->cfg;
    const int C = g->d_model, HD = g->head_dim, QW = g->n_heads * HD, KW = g->n_kv_heads * HD;
    if (l < 0 || l >= g->n_layers)
        return qkv_error_set(err, QKV_ERR_RANGE, "layer %d does not exist", l);
    if (c->has_rt) {
        memcpy(wq, c->rt.layers[l].wq, (size_t)QW * C * sizeof(float));
        memcpy(wk, c->rt.layers[l].wk, (size_t)KW * C * sizeof(float));
        memcpy(wv, c->rt.layers[l].wv, (size_t)KW * C * sizeof(float));
        return QKV_OK;
    }
    if (c->layout != CKPT_LAYOUT_LLAMA) {
        /* fused Q/K/V: read the whole tensor, then split */
        char name[128];
        const bool gpt2 = c->layout == CKPT_LAYOUT_GPT2;
        if (gpt2)
            snprintf(name, sizeof name, "%sh.%d.attn.c_attn.weight", c->prefix, l);
        else
            snprintf(name, sizeof name, "gpt_neox.layers.%d.attention.query_key_value.weight", l);
        const size_t rows = gpt2 ? (size_t)C : (size_t)(QW + 2 * KW),
                     cols = gpt2 ? (size_t)(QW + 2 * KW) : (size_t)C;
        float *all = malloc(rows * cols * sizeof(float));
        if (!all)
            return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        qkv_status s = read_named(c, name, rows, cols, all, err);
        if (s == QKV_OK) {
            for (int o = 0; o < QW + 2 * KW; o++) {
                float *dst;
                if (gpt2) { /* columns 0..C are Q, then K, then V; stored in x out */
                    dst = o < QW        ? wq + (size_t)o * C
                          : o < QW + KW ? wk + (size_t)(o - QW) * C
                                        : wv + (size_t)(o - QW - KW) * C;
                    for (int i = 0; i < C; i++)
                        dst[i] = all[(size_t)i * cols + (size_t)o];
                } else { /* rows per head: q_h, k_h, v_h */
                    const int h = o / (3 * HD), part = (o % (3 * HD)) / HD, r = o % HD;
                    float *base = part == 0 ? wq : part == 1 ? wk : wv;
                    dst = base + ((size_t)h * HD + (size_t)r) * C;
                    memcpy(dst, all + (size_t)o * C, (size_t)C * sizeof(float));
                }
            }
        }
        free(all);
        return s;
    }
    char nq[96], nk[96], nv[96];
    const llama_names scheme = c->kind == CKPT_GGUF ? LLAMA_NAMES_GGUF : LLAMA_NAMES_HF;
    llama_tensor_name(scheme, LLAMA_Q, l, nq, sizeof nq);
    llama_tensor_name(scheme, LLAMA_K, l, nk, sizeof nk);
    llama_tensor_name(scheme, LLAMA_V, l, nv, sizeof nv);
    qkv_status s;
    if ((s = read_named(c, nq, (uint64_t)QW, (uint64_t)C, wq, err)) ||
        (s = read_named(c, nk, (uint64_t)KW, (uint64_t)C, wk, err)) ||
        (s = read_named(c, nv, (uint64_t)KW, (uint64_t)C, wv, err)))
        return s;
    if (c->kind == CKPT_SAFETENSORS) {
        float *tmp = malloc((size_t)HD * C * sizeof(float));
        if (!tmp)
            return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        permute_rope_rows(wq, g->n_heads, HD, C, tmp, true);
        permute_rope_rows(wk, g->n_kv_heads, HD, C, tmp, true);
        free(tmp);
    }
    return QKV_OK;
}

qkv_status ckpt_load_model(ckpt *c, rt_model *m, qkv_error *err)
{
    qkv_status s;
    if (c->has_rt) {
        if ((s = rt_model_init(m, &c->rt.cfg, err)) != QKV_OK)
            return s;
        memcpy(m->params, c->rt.params, c->rt.n_params * sizeof(float));
        return QKV_OK;
    }
    const rt_config *g = &c->cfg;
    if (c->layout != CKPT_LAYOUT_LLAMA)
        return qkv_error_set(
            err, QKV_ERR_UNSUPPORTED,
            "'%s': the runtime runs Llama-family checkpoints; this %s model can be "
            "probed with --weights",
            c->path, c->layout == CKPT_LAYOUT_GPT2 ? "GPT-2" : "GPT-NeoX");
    if ((s = rt_model_init(m, g, err)) != QKV_OK)
        return s;
    const int C = g->d_model, FF = g->d_ff, V = g->vocab;
    const llama_names scheme = c->kind == CKPT_GGUF ? LLAMA_NAMES_GGUF : LLAMA_NAMES_HF;
    char name[128];
#define RD(ptr, rows, cols, kind, layer)                                                           \
    do {                                                                                           \
        llama_tensor_name(scheme, (kind), (layer), name, sizeof name);                             \
        if ((s = read_named(c, name, (uint64_t)(rows), (uint64_t)(cols), (ptr), err)) != QKV_OK)   \
            goto fail;                                                                             \
    } while (0)
    RD(m->tok_emb, V, C, LLAMA_TOK_EMB, 0);
    RD(m->lnf_w, 1, C, LLAMA_OUT_NORM, 0);
    if (!g->tied)
        RD(m->wcls, V, C, LLAMA_OUTPUT, 0);
    for (int l = 0; l < g->n_layers; l++) {
        rt_layer *y = &m->layers[l];
        if ((s = ckpt_read_attn(c, l, y->wq, y->wk, y->wv, err)) != QKV_OK)
            goto fail;
        RD(y->wo, C, g->n_heads * g->head_dim, LLAMA_O, l);
        RD(y->ln1_w, 1, C, LLAMA_ATTN_NORM, l);
        RD(y->ln2_w, 1, C, LLAMA_FFN_NORM, l);
        RD(y->w1, FF, C, LLAMA_GATE, l);
        RD(y->w3, FF, C, LLAMA_UP, l);
        RD(y->w2, C, FF, LLAMA_DOWN, l);
    }
#undef RD
    return QKV_OK;
fail:
    rt_model_free(m);
    return s;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct {
    char name[96];
    const float *data;
    uint64_t rows, cols;
} named;

/* The tensors of a Llama-family runtime model under HF or GGUF names. */
static size_t tensors_of(const rt_model *m, bool gg, named *out, float **qk_copies)
{
    const rt_config *g = &m->cfg;
    const llama_names scheme = gg ? LLAMA_NAMES_GGUF : LLAMA_NAMES_HF;
    const uint64_t C = (uint64_t)g->d_model, FF = (uint64_t)g->d_ff, V = (uint64_t)g->vocab,
                   QW = (uint64_t)g->n_heads * g->head_dim,
                   KW = (uint64_t)g->n_kv_heads * g->head_dim;
    size_t n = 0;
#define ADD(ptr, r, c, kind, layer)                                                                \
    do {                                                                                           \
        llama_tensor_name(scheme, (kind), (layer), out[n].name, sizeof out[n].name);               \
        out[n].data = (ptr);                                                                       \
        out[n].rows = (r);                                                                         \
        out[n].cols = (c);                                                                         \
        n++;                                                                                       \
    } while (0)
    ADD(m->tok_emb, V, C, LLAMA_TOK_EMB, 0);
    ADD(m->lnf_w, 1, C, LLAMA_OUT_NORM, 0);
    if (!g->tied)
        ADD(m->wcls, V, C, LLAMA_OUTPUT, 0);
    for (int l = 0; l < g->n_layers; l++) {
        const rt_layer *y = &m->layers[l];
        const float *wq = qk_copies ? qk_copies[2 * l] : y->wq;
        const float *wk = qk_copies ? qk_copies[2 * l + 1] : y->wk;
        ADD(y->ln1_w, 1, C, LLAMA_ATTN_NORM, l);
        ADD(wq, QW, C, LLAMA_Q, l);
        ADD(wk, KW, C, LLAMA_K, l);
        ADD(y->wv, KW, C, LLAMA_V, l);
        ADD(y->wo, C, QW, LLAMA_O, l);
        ADD(y->ln2_w, 1, C, LLAMA_FFN_NORM, l);
        ADD(y->w1, FF, C, LLAMA_GATE, l);
        ADD(y->w3, FF, C, LLAMA_UP, l);
        ADD(y->w2, C, FF, LLAMA_DOWN, l);
    }
#undef ADD
    return n;
}

static qkv_status check_writable(const rt_model *m, qkv_error *err)
{
    if (m->cfg.family != RT_LLAMA)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED,
                             "converting writes Llama-family models; this is a GPT-2-style model");
    if (m->cfg.pos2d)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED,
                             "the 2D positional term of a + variant has no place in safetensors or "
                             "GGUF");
    return QKV_OK;
}

qkv_status ckpt_write_safetensors(FILE *weights, FILE *config, const rt_model *m, int half,
                                  qkv_error *err)
{
    qkv_status s = check_writable(m, err);
    if (s != QKV_OK)
        return s;
    const rt_config *g = &m->cfg;
    const size_t C = (size_t)g->d_model, HD = (size_t)g->head_dim;
    named *ts = calloc(3 + 9 * (size_t)g->n_layers, sizeof *ts);
    st_out_tensor *out = calloc(3 + 9 * (size_t)g->n_layers, sizeof *out);
    float **copies = calloc(2 * (size_t)g->n_layers, sizeof *copies);
    float *tmp = malloc(HD * C * sizeof(float));
    if (!ts || !out || !copies || !tmp) {
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int l = 0; l < g->n_layers; l++) {
        const size_t nq = (size_t)g->n_heads * HD * C, nk = (size_t)g->n_kv_heads * HD * C;
        if (!(copies[2 * l] = malloc(nq * sizeof(float))) ||
            !(copies[2 * l + 1] = malloc(nk * sizeof(float)))) {
            s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(copies[2 * l], m->layers[l].wq, nq * sizeof(float));
        memcpy(copies[2 * l + 1], m->layers[l].wk, nk * sizeof(float));
        permute_rope_rows(copies[2 * l], g->n_heads, (int)HD, (int)C, tmp, false);
        permute_rope_rows(copies[2 * l + 1], g->n_kv_heads, (int)HD, (int)C, tmp, false);
    }
    size_t n = tensors_of(m, false, ts, copies);
    for (size_t i = 0; i < n; i++) {
        out[i].name = ts[i].name;
        out[i].data = ts[i].data;
        out[i].n_dims = ts[i].rows == 1 ? 1 : 2;
        out[i].shape[0] = ts[i].rows == 1 ? ts[i].cols : ts[i].rows;
        out[i].shape[1] = ts[i].cols;
    }
    if ((s = st_write(weights, out, n, half, err)) != QKV_OK)
        goto done;
    if (fprintf(
            config,
            "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"model_type\": \"llama\",\n"
            "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n  \"num_hidden_layers\": %d,\n"
            "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n  \"head_dim\": %d,\n"
            "  \"vocab_size\": %d,\n  \"max_position_embeddings\": %d,\n"
            "  \"rms_norm_eps\": %.9g,\n  \"rope_theta\": %.9g,\n  \"tie_word_embeddings\": %s,\n"
            "  \"torch_dtype\": \"%s\"\n}\n",
            g->d_model, g->d_ff, g->n_layers, g->n_heads, g->n_kv_heads, g->head_dim, g->vocab,
            g->max_seq, (double)g->norm_eps, (double)g->rope_theta, g->tied ? "true" : "false",
            half ? "float16" : "float32") < 0)
        s = qkv_error_set(err, QKV_ERR_IO, "write failed: %s", strerror(errno));
done:
    for (int l = 0; copies && l < 2 * g->n_layers; l++)
        free(copies[l]);
    free(copies);
    free(tmp);
    free(ts);
    free(out);
    return s;
}

/* Token texts of a placeholder vocabulary of V entries, the minimal one
 * llama.cpp's SPM loader accepts (src/llama-vocab.cpp:1928-2501: the model
 * key and V distinct strings): <unk>, <s>, </s>, the 256 byte tokens
 * <0x00>..<0xFF> when V >= 259, then tokN. The runtime holds no tokenizer, so
 * ids keep their meaning and texts are placeholders. */
static void vocab_token(uint64_t i, uint64_t V, char *buf, size_t n, int32_t *type)
{
    static const char *const special[] = {"<unk>", "<s>", "</s>"};
    enum { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6 };
    if (i < 3) {
        snprintf(buf, n, "%s", special[i]);
        *type = i == 0 ? UNKNOWN : CONTROL;
    } else if (V >= 259 && i < 259) {
        snprintf(buf, n, "<0x%02X>", (unsigned)(i - 3));
        *type = BYTE;
    } else {
        snprintf(buf, n, "tok%llu", (unsigned long long)i);
        *type = NORMAL;
    }
}

#define VOCAB_TEXT_BYTES 24

qkv_status ckpt_write_gguf(FILE *fp, const rt_model *m, int half, qkv_error *err)
{
    qkv_status s = check_writable(m, err);
    if (s != QKV_OK)
        return s;
    const rt_config *g = &m->cfg;
    const size_t V = (size_t)g->vocab;
    named *ts = calloc(3 + 9 * (size_t)g->n_layers, sizeof *ts);
    gguf_out_tensor *out = calloc(3 + 9 * (size_t)g->n_layers, sizeof *out);
    char *texts = calloc(V, VOCAB_TEXT_BYTES);       /* (V, VOCAB_TEXT_BYTES) */
    const char **tokens = calloc(V, sizeof *tokens); /* (V) into texts */
    float *scores = calloc(V, sizeof *scores);       /* (V) */
    int32_t *types = calloc(V, sizeof *types);       /* (V) */
    if (!ts || !out || !texts || !tokens || !scores || !types) {
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < V; i++) {
        vocab_token(i, V, texts + i * VOCAB_TEXT_BYTES, VOCAB_TEXT_BYTES, &types[i]);
        tokens[i] = texts + i * VOCAB_TEXT_BYTES;
        scores[i] = -(float)i;
    }
    size_t n = tensors_of(m, true, ts, NULL);
    for (size_t i = 0; i < n; i++) {
        out[i].name = ts[i].name;
        out[i].data = ts[i].data;
        out[i].n_dims = ts[i].rows == 1 ? 1 : 2;
        out[i].ne[0] = ts[i].cols;
        out[i].ne[1] = ts[i].rows;
    }
#define KV_STR(k, v)                                                                               \
    {                                                                                              \
        .key = (k), .type = GGUF_STRING, .str = (v)                                                \
    }
#define KV_U32(k, v)                                                                               \
    {                                                                                              \
        .key = (k), .type = GGUF_U32, .u32 = (uint32_t)(v)                                         \
    }
#define KV_F32(k, v)                                                                               \
    {                                                                                              \
        .key = (k), .type = GGUF_F32, .f32 = (v)                                                   \
    }
    /* general.file_type: llama_ftype ALL_F32 = 0, MOSTLY_F16 = 1 */
    const gguf_out_kv kv[] = {
        KV_STR("general.architecture", "llama"),
        KV_STR("general.name", "qkvplan export"),
        KV_U32("general.file_type", half ? 1 : 0),
        KV_U32("llama.block_count", g->n_layers),
        KV_U32("llama.embedding_length", g->d_model),
        KV_U32("llama.feed_forward_length", g->d_ff),
        KV_U32("llama.attention.head_count", g->n_heads),
        KV_U32("llama.attention.head_count_kv", g->n_kv_heads),
        KV_U32("llama.attention.key_length", g->head_dim),
        KV_U32("llama.attention.value_length", g->head_dim),
        KV_U32("llama.context_length", g->max_seq),
        KV_U32("llama.rope.dimension_count", g->head_dim),
        KV_F32("llama.rope.freq_base", g->rope_theta),
        KV_F32("llama.attention.layer_norm_rms_epsilon", g->norm_eps),
        KV_U32("llama.vocab_size", V),
        KV_STR("tokenizer.ggml.model", "llama"),
        {.key = "tokenizer.ggml.tokens",
         .type = GGUF_ARRAY,
         .arr_type = GGUF_STRING,
         .arr_n = V,
         .arr_strs = tokens},
        {.key = "tokenizer.ggml.scores",
         .type = GGUF_ARRAY,
         .arr_type = GGUF_F32,
         .arr_n = V,
         .arr_f32 = scores},
        {.key = "tokenizer.ggml.token_type",
         .type = GGUF_ARRAY,
         .arr_type = GGUF_I32,
         .arr_n = V,
         .arr_i32 = types},
        KV_U32("tokenizer.ggml.bos_token_id", 1),
        KV_U32("tokenizer.ggml.eos_token_id", 2),
    };
#undef KV_STR
#undef KV_U32
#undef KV_F32
    s = gguf_write(fp, kv, sizeof kv / sizeof kv[0], out, n, half, err);
done:
    free(ts);
    free(out);
    free(texts);
    free(tokens);
    free(scores);
    free(types);
    return s;
}

void ckpt_rope_rows_to_interleaved(float *w, int n_heads, int hd, int cols, float *tmp)
{
    permute_rope_rows(w, n_heads, hd, cols, tmp, true);
}
