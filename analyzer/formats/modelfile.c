#include "analyzer/formats/modelfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/core/infile.h"
#include "analyzer/core/paths.h"
#include "analyzer/core/safetext.h"
#include "analyzer/engine.h"
#include "analyzer/formats/hfconfig.h"
#include "analyzer/formats/safetensors.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool starts_with_magic(const char *path, const char *magic, size_t n)
{
    FILE *f = NULL;
    char buf[16];
    bool yes = infile_fopen(path, &f, NULL) == QKV_OK && fread(buf, 1, n, f) == n &&
               memcmp(buf, magic, n) == 0;
    if (f)
        fclose(f);
    return yes;
}

bool modelfile_is_gguf(const char *path)
{
    return starts_with_magic(path, "GGUF", 4) || ends_with(path, ".gguf");
}

bool modelfile_names_safetensors(const char *path)
{
    return ends_with(path, ".safetensors") || ends_with(path, ".index.json");
}

qkv_status modelfile_config_path(const char *path, bool is_dir, char *buf, size_t buf_bytes,
                                 qkv_error *err)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (is_dir)
        n = snprintf(buf, buf_bytes, "%s/config.json", path);
    else if (modelfile_names_safetensors(path))
        n = snprintf(buf, buf_bytes, "%.*sconfig.json", slash ? (int)(slash - path + 1) : 0, path);
    else
        n = snprintf(buf, buf_bytes, "%s", path);
    if (n < 0 || (size_t)n >= buf_bytes)
        return qkv_error_set(err, QKV_ERR_RANGE, "path too long: '%.200s...'", path);
    return QKV_OK;
}

bool modelfile_is_mask_buffer(const char *name)
{
    return ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias");
}

/* Sliding-window layers of a GGUF as llama.cpp's loader for arch sets them
 * (analyzer/engine.h): a scalar ARCH.attention.sliding_window_pattern gives
 * the period (an array is ignored, as llama.cpp's scalar reader does), else
 * the architecture's default applies. An architecture llama.cpp does not
 * window keeps the file's window on every layer, as the model declares it;
 * the llama.cpp engine then plans it without one. */
static void gguf_swa_layers(const gguf_file *g, const char *arch, model_shape *ms)
{
    char key[160];
    uint64_t period = 0;
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", arch);
    if (gguf_get_uint(g, key, &period) && period <= UINT32_MAX)
        ms->swa_period = (uint32_t)period;
    engine_layout lay;
    engine_llamacpp_layout(ms, &lay);
    if (lay.known_arch && lay.n_swa_layers > 0) {
        ms->n_swa_layers = lay.n_swa_layers;
        ms->window = lay.window;
    } else if (ms->window > 0) {
        ms->n_swa_layers = ms->n_layers;
    }
}

/* The type of a GGUF's matrices as llama.cpp names it ("f32", "q8_0"), or
 * "mixed"; 1-D tensors (norms, biases) are F32 in every llama.cpp file. */
static void gguf_weight_type(const gguf_file *g, char *buf, size_t n)
{
    const char *name = NULL;
    for (size_t i = 0; i < g->n_tensors; i++) {
        if (g->tensors[i].n_dims < 2)
            continue;
        const char *t = gguf_type_name(g->tensors[i].ggml_type);
        if (name && t && strcmp(name, t) != 0) {
            snprintf(buf, n, "mixed");
            return;
        }
        name = t ? t : name;
    }
    snprintf(buf, n, "%s", name ? name : "");
    for (char *c = buf; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

qkv_status modelfile_gguf_shape(const gguf_file *g, const char *path, model_shape *ms,
                                qkv_error *err)
{
    char arch[64], key[160];
    memset(ms, 0, sizeof *ms);
    if (!gguf_get_str(g, "general.architecture", arch, sizeof arch))
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': metadata key general.architecture is missing", path);
    if (!gguf_get_str(g, "general.name", ms->name, sizeof ms->name))
        snprintf(ms->name, sizeof ms->name, "%s", arch);
    snprintf(ms->source, sizeof ms->source, "%s", path);
    safetext_clean(ms->name, sizeof ms->name); /* names are shown, never obeyed */
    safetext_clean(ms->source, sizeof ms->source);
    static const char *const need[] = {"block_count", "embedding_length", "attention.head_count"};
    uint64_t *dst[] = {&ms->n_layers, &ms->d_model, &ms->n_heads};
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "%s.%s", arch, need[i]);
        if (!gguf_get_uint(g, key, dst[i]))
            return qkv_error_set(err, QKV_ERR_INVALID, "'%s': metadata key %s is missing", path,
                                 key);
    }
#define OPT(field, suffix)                                                                         \
    do {                                                                                           \
        snprintf(key, sizeof key, "%s.%s", arch, suffix);                                          \
        gguf_get_uint(g, key, &ms->field);                                                         \
    } while (0)
    ms->n_kv_heads = ms->n_heads;
    OPT(n_kv_heads, "attention.head_count_kv");
    ms->head_dim = ms->n_heads ? ms->d_model / ms->n_heads : 0;
    OPT(head_dim, "attention.key_length");
    ms->v_head_dim = ms->head_dim;
    OPT(v_head_dim, "attention.value_length");
    OPT(d_ff, "feed_forward_length");
    OPT(max_ctx, "context_length");
    OPT(window, "attention.sliding_window");
    OPT(kv_lora_rank, "attention.kv_lora_rank");
    OPT(n_experts, "expert_count");
    OPT(n_shared_experts, "expert_shared_count");
    OPT(moe_d_ff, "expert_feed_forward_length");
    OPT(n_dense_layers, "leading_dense_block_count");
#undef OPT
    if (ms->kv_lora_rank > 0) {
        snprintf(key, sizeof key, "%s.rope.dimension_count", arch);
        gguf_get_uint(g, key, &ms->rope_dim);
    }
    const gguf_kv *kv;
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    if ((kv = gguf_get(g, key)) && kv->type == GGUF_F32)
        ms->rope_theta = kv->f;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if ((kv = gguf_get(g, key)) && kv->type == GGUF_F32)
        ms->norm_eps = kv->f;
    snprintf(ms->arch, sizeof ms->arch, "%.*s", (int)sizeof ms->arch - 1, arch);
    gguf_swa_layers(g, arch, ms);
    const gguf_tensor *emb = gguf_find(g, "token_embd.weight");
    ms->vocab = emb && emb->n_dims == 2 ? emb->ne[1] : 0;
    ms->tied_embeddings = gguf_find(g, "output.weight") == NULL;
    ms->gated_ffn = true;
    ms->norms_per_layer = 2;
    ms->pos = POS_ROPE;
    for (size_t i = 0; i < g->n_tensors; i++) {
        uint64_t e = 1;
        for (uint32_t d = 0; d < g->tensors[i].n_dims; d++)
            e *= g->tensors[i].ne[d];
        ms->file_params += e;
        ms->file_weight_bytes += g->tensors[i].bytes;
    }
    gguf_weight_type(g, ms->file_weight_type, sizeof ms->file_weight_type);
    if (ms->d_ff == 0)
        ms->d_ff = ms->moe_d_ff ? ms->moe_d_ff : 4 * ms->d_model;
    qkv_status v = model_validate(ms, err);
    if (v != QKV_OK) {
        char msg[QKV_ERROR_MSG_BYTES];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        return qkv_error_set(err, v, "%s: %s", path, msg);
    }
    return QKV_OK;
}

qkv_status modelfile_shape(const char *path, model_shape *ms, qkv_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    qkv_status s;
    if (!S_ISDIR(st.st_mode) && modelfile_is_gguf(path)) {
        gguf_file g;
        if ((s = gguf_open(path, &g, err)) != QKV_OK)
            return s;
        s = modelfile_gguf_shape(&g, path, ms, err);
        gguf_close(&g);
        return s;
    }
    bool weights = S_ISDIR(st.st_mode) || modelfile_names_safetensors(path);
    char cfg[QKV_PATH_BYTES + QKV_NAME_BYTES];
    if ((s = modelfile_config_path(path, S_ISDIR(st.st_mode), cfg, sizeof cfg, err)) != QKV_OK)
        return s;
    if (!S_ISDIR(st.st_mode) && !weights) {
        /* Say what a model file that is not JSON is, and what -m reads. */
        FILE *f;
        unsigned char head[32];
        size_t n = 0;
        if (infile_fopen(path, &f, NULL) == QKV_OK) {
            n = fread(head, 1, sizeof head, f);
            fclose(f);
        }
        size_t i = 0;
        while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
            i++;
        const bool qkvm = starts_with_magic(path, MODELFILE_QKVM_MAGIC, 8);
        if (qkvm || (i < n && head[i] != '{' && memchr(head, 0, n)))
            return qkv_error_set(
                err, QKV_ERR_INVALID,
                "'%s' is %s, not a config.json; the planner reads a catalog name, a "
                "config.json or its directory, a GGUF file or safetensors ('qkvplan "
                "probe' reads llama2.c and .qkvm files)",
                path, qkvm ? "a qkvplan model (.qkvm)" : "a binary file (a llama2.c checkpoint?)");
    }
    if ((s = hfconfig_load(cfg, ms, err)) != QKV_OK)
        return s;
    if (S_ISDIR(st.st_mode)) {
        char probe[QKV_PATH_BYTES + QKV_NAME_BYTES];
        snprintf(probe, sizeof probe, "%s/model.safetensors.index.json", path);
        struct stat s2;
        bool has = stat(probe, &s2) == 0;
        snprintf(probe, sizeof probe, "%s/model.safetensors", path);
        has = has || stat(probe, &s2) == 0;
        if (!has)
            return QKV_OK; /* config.json alone */
    }
    if (weights) {
        st_file f;
        if ((s = st_open(path, &f, err)) != QKV_OK)
            return s;
        for (size_t i = 0; i < f.n_tensors; i++) {
            if (modelfile_is_mask_buffer(f.tensors[i].name))
                continue;
            uint64_t e = 1;
            for (int d = 0; d < f.tensors[i].n_dims; d++)
                e *= f.tensors[i].shape[d];
            ms->file_params += e;
            ms->file_weight_bytes += f.tensors[i].end - f.tensors[i].begin;
            if (f.tensors[i].n_dims >= 2 && strcmp(ms->file_weight_type, "mixed") != 0) {
                char t[sizeof ms->file_weight_type];
                snprintf(t, sizeof t, "%s", f.tensors[i].dtype);
                for (char *c = t; *c; c++)
                    *c = (char)tolower((unsigned char)*c);
                if (ms->file_weight_type[0] && strcmp(ms->file_weight_type, t) != 0)
                    snprintf(t, sizeof t, "mixed");
                memcpy(ms->file_weight_type, t, sizeof t);
            }
        }
        st_close(&f);
    }
    return QKV_OK;
}
