#include "analyzer/formats/hfconfig.h"
#include "analyzer/engine.h"
#include "analyzer/core/infile.h"
#include "analyzer/core/paths.h"
#include "analyzer/core/safetext.h"
#include "analyzer/formats/json_strict.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/engine.h"

typedef struct {
    const cJSON *text; /* text_config, or NULL */
    const cJSON *top;
    const char *origin;
    qkv_error *err;
} cfg;

static const cJSON *find(const cfg *c, const char *key)
{
    const cJSON *v = NULL;
    if (c->text)
        v = cJSON_GetObjectItemCaseSensitive(c->text, key);
    if (!v || cJSON_IsNull(v))
        v = cJSON_GetObjectItemCaseSensitive(c->top, key);
    if (v && cJSON_IsNull(v))
        return NULL;
    return v;
}

/* Reads the first of keys (NULL-terminated) that is present. Returns QKV_OK
 * and sets *found; errors when the value is not a whole number in [lo, hi]. */
static qkv_status get_u64(const cfg *c, const char *const *keys, uint64_t lo, uint64_t hi,
                          uint64_t *out, bool *found)
{
    *found = false;
    for (; *keys; keys++) {
        const cJSON *v = find(c, *keys);
        if (!v)
            continue;
        if (!cJSON_IsNumber(v))
            return qkv_error_set(c->err, QKV_ERR_INVALID, "%s: '%s' is not a number", c->origin,
                                 *keys);
        double d = v->valuedouble;
        if (!isfinite(d) || d != floor(d))
            return qkv_error_set(c->err, QKV_ERR_INVALID, "%s: '%s' is %g, not a whole number",
                                 c->origin, *keys, d);
        if (d < (double)lo || d > (double)hi)
            return qkv_error_set(c->err, QKV_ERR_INVALID,
                                 "%s: '%s' is %.0f; it must be %llu to %llu", c->origin, *keys, d,
                                 (unsigned long long)lo, (unsigned long long)hi);
        *out = (uint64_t)d;
        *found = true;
        return QKV_OK;
    }
    return QKV_OK;
}

static qkv_status require_u64(const cfg *c, const char *const *keys, uint64_t lo, uint64_t *out)
{
    bool found;
    qkv_status s = get_u64(c, keys, lo, MODEL_DIM_MAX, out, &found);
    if (s != QKV_OK)
        return s;
    if (!found)
        return qkv_error_set(c->err, QKV_ERR_INVALID, "%s: required key '%s' is missing", c->origin,
                             keys[0]);
    return QKV_OK;
}

static qkv_status get_bool(const cfg *c, const char *key, bool *out, bool *found)
{
    const cJSON *v = find(c, key);
    *found = false;
    if (!v)
        return QKV_OK;
    if (!cJSON_IsBool(v))
        return qkv_error_set(c->err, QKV_ERR_INVALID, "%s: '%s' is not true or false", c->origin,
                             key);
    *out = cJSON_IsTrue(v);
    *found = true;
    return QKV_OK;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Families whose FFN is a plain two-matrix MLP with LayerNorm. */
static const char *const plain_ffn[] = {"gpt2",  "gpt_neox", "gptj",        "phi",        "opt",
                                        "bloom", "falcon",   "gpt_bigcode", "starcoder2", NULL};

static qkv_status count_layer_types(const cfg *c, const cJSON *types, model_shape *m)
{
    if (!cJSON_IsArray(types))
        return qkv_error_set(c->err, QKV_ERR_INVALID, "%s: 'layer_types' is not an array",
                             c->origin);
    uint64_t n = (uint64_t)cJSON_GetArraySize(types), swa = 0, nokv = 0, i = 0;
    if (n != m->n_layers)
        return qkv_error_set(c->err, QKV_ERR_INVALID,
                             "%s: 'layer_types' lists %llu layers but the model has %llu",
                             c->origin, (unsigned long long)n, (unsigned long long)m->n_layers);
    static const char *const full[] = {"full_attention", "attention", "global", NULL};
    static const char *const sliding[] = {"sliding_attention", "sliding_window", "local",
                                          "chunked_attention", NULL};
    static const char *const none[] = {"linear_attention", "mamba", "mamba2", "conv",
                                       "recurrent",        "ssm",   NULL};
    const cJSON *t;
    cJSON_ArrayForEach(t, types)
    {
        if (!cJSON_IsString(t))
            return qkv_error_set(c->err, QKV_ERR_INVALID, "%s: 'layer_types'[%llu] is not a string",
                                 c->origin, (unsigned long long)i);
        if (in_list(t->valuestring, sliding))
            swa++;
        else if (in_list(t->valuestring, none))
            nokv++;
        else if (!in_list(t->valuestring, full))
            return qkv_error_set(c->err, QKV_ERR_INVALID,
                                 "%s: 'layer_types'[%llu] is '%.64s', not a known layer kind",
                                 c->origin, (unsigned long long)i, t->valuestring);
        i++;
    }
    m->n_swa_layers = swa;
    m->n_nokv_layers = nokv;
    return QKV_OK;
}

/* What the model family implies: FFN form, norm, positions, biases, norms
 * per layer, QK norm, tied embeddings. Returns whether it is GPT-2-like
 * (plain FFN). */
static bool family_defaults(const char *type, model_shape *m)
{
    const bool gpt2ish = in_list(type, plain_ffn);
    const bool gemma = strncmp(type, "gemma", 5) == 0;
    m->gated_ffn = !gpt2ish;
    m->norm = gpt2ish ? NORM_LAYER : NORM_RMS;
    m->pos =
        (strcmp(type, "gpt2") == 0 || strcmp(type, "opt") == 0 || strcmp(type, "gpt_bigcode") == 0)
            ? POS_LEARNED
        : strcmp(type, "bloom") == 0 ? POS_NONE
                                     : POS_ROPE;
    m->bias = strcmp(type, "gpt2") == 0    ? BIAS_ALL
              : strcmp(type, "qwen2") == 0 ? BIAS_QKV
                                           : BIAS_NONE;
    m->norms_per_layer =
        (strncmp(type, "gemma2", 6) == 0 || strncmp(type, "gemma3", 6) == 0) ? 4 : 2;
    m->qk_norm = strncmp(type, "gemma3", 6) == 0 || strncmp(type, "qwen3", 5) == 0 ||
                 strncmp(type, "olmo2", 5) == 0;
    m->tied_embeddings = strcmp(type, "gpt2") == 0 || gemma;
    return gpt2ish;
}

/* Layer count, widths, heads, vocabulary, FFN width, context, tied
 * embeddings and attention biases. */
static qkv_status read_sizes(const cfg *c, model_shape *m, bool gpt2ish)
{
    qkv_status s;
    bool found, b;
    if ((s = require_u64(c, KEYS("num_hidden_layers", "n_layer", "num_layers"), 1, &m->n_layers)) ||
        (s = require_u64(c, KEYS("hidden_size", "n_embd", "d_model"), 1, &m->d_model)) ||
        (s = require_u64(c, KEYS("num_attention_heads", "n_head"), 1, &m->n_heads)) ||
        (s = require_u64(c, KEYS("vocab_size"), 1, &m->vocab)))
        return s;
    m->n_kv_heads = m->n_heads;
    if ((s = get_u64(c, KEYS("num_key_value_heads"), 1, MODEL_DIM_MAX, &m->n_kv_heads, &found)))
        return s;
    if ((s = get_u64(c, KEYS("head_dim"), 1, MODEL_DIM_MAX, &m->head_dim, &found)))
        return s;
    if (!found) {
        if (m->d_model % m->n_heads != 0) {
            s = qkv_error_set(c->err, QKV_ERR_INVALID,
                              "%s: hidden size %llu is not a multiple of %llu heads and 'head_dim' "
                              "is missing",
                              c->origin, (unsigned long long)m->d_model,
                              (unsigned long long)m->n_heads);
            return s;
        }
        m->head_dim = m->d_model / m->n_heads;
    }
    m->v_head_dim = m->head_dim;
    if ((s = get_u64(c, KEYS("intermediate_size", "n_inner", "ffn_dim"), 1, MODEL_DIM_MAX, &m->d_ff,
                     &found)))
        return s;
    if (!found) {
        if (!gpt2ish) {
            s = qkv_error_set(c->err, QKV_ERR_INVALID,
                              "%s: required key 'intermediate_size' is missing", c->origin);
            return s;
        }
        m->d_ff = 4 * m->d_model; /* GPT-2: n_inner null means 4 x n_embd */
    }
    if ((s = get_u64(c,
                     KEYS("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length"),
                     1, MODEL_DIM_MAX, &m->max_ctx, &found)))
        return s;
    if ((s = get_bool(c, "tie_word_embeddings", &b, &found)))
        return s;
    if (found)
        m->tied_embeddings = b;
    if ((s = get_bool(c, "attention_bias", &b, &found)))
        return s;
    if (found && b && m->bias == BIAS_NONE)
        m->bias = BIAS_QKV;

    const cJSON *theta = find(c, "rope_theta"), *eps = find(c, "rms_norm_eps");
    if (!eps)
        eps = find(c, "layer_norm_epsilon");
    if (theta && cJSON_IsNumber(theta) && isfinite(theta->valuedouble) && theta->valuedouble > 0)
        m->rope_theta = theta->valuedouble;
    if (eps && cJSON_IsNumber(eps) && isfinite(eps->valuedouble) && eps->valuedouble > 0)
        m->norm_eps = eps->valuedouble;
    return s;
}

/* Multi-head latent attention (DeepSeek-V2/V3): latent and RoPE widths. */
static qkv_status read_mla(const cfg *c, model_shape *m)
{
    qkv_status s = QKV_OK;
    bool found;
    /* Multi-head latent attention (DeepSeek-V2/V3). */
    if ((s = get_u64(c, KEYS("kv_lora_rank"), 1, MODEL_DIM_MAX, &m->kv_lora_rank, &found)))
        return s;
    if (found) {
        uint64_t nope = 0;
        if ((s = require_u64(c, KEYS("qk_rope_head_dim"), 1, &m->rope_dim)) ||
            (s = require_u64(c, KEYS("qk_nope_head_dim"), 1, &nope)) ||
            (s = require_u64(c, KEYS("v_head_dim"), 1, &m->v_head_dim)) ||
            (s = get_u64(c, KEYS("q_lora_rank"), 1, MODEL_DIM_MAX, &m->q_lora_rank, &found)))
            return s;
        m->head_dim = nope + m->rope_dim;
        m->n_kv_heads = m->n_heads;
    }
    return s;
}

/* Mixture of experts: expert count and width, shared experts, leading
 * dense layers. */
static qkv_status read_moe(const cfg *c, model_shape *m)
{
    qkv_status s = QKV_OK;
    bool found;
    /* Mixture of experts. */
    if ((s = get_u64(c, KEYS("n_routed_experts", "num_experts", "num_local_experts"), 1,
                     MODEL_DIM_MAX, &m->n_experts, &found)))
        return s;
    if (found) {
        if ((s = get_u64(c, KEYS("moe_intermediate_size"), 1, MODEL_DIM_MAX, &m->moe_d_ff, &found)))
            return s;
        if (!found)
            m->moe_d_ff = m->d_ff; /* Mixtral: intermediate_size is the expert width */
        if ((s = get_u64(c, KEYS("n_shared_experts"), 0, MODEL_DIM_MAX, &m->n_shared_experts,
                         &found)) ||
            (s = get_u64(c, KEYS("first_k_dense_replace"), 0, m->n_layers, &m->n_dense_layers,
                         &found)))
            return s;
    }
    return s;
}

/* Layer kinds: which layers slide and with which window (layer_types,
 * sliding_window and its pattern, Gemma 2, Qwen 2 max_window_layers). */
static qkv_status read_layer_kinds(const cfg *c, model_shape *m, const char *type)
{
    qkv_status s;
    bool found, b;
    /* Layer kinds. */
    const cJSON *types = find(c, "layer_types");
    uint64_t window = 0;
    bool has_window = false, use_window = true;
    if ((s = get_u64(c, KEYS("sliding_window"), 1, MODEL_DIM_MAX, &window, &has_window)) ||
        (s = get_bool(c, "use_sliding_window", &b, &found)))
        return s;
    if (found)
        use_window = b;
    uint64_t pattern = 0;
    if ((s = get_u64(c, KEYS("sliding_window_pattern", "_sliding_window_pattern"), 1, UINT32_MAX,
                     &pattern, &found)))
        return s;
    m->swa_period = (uint32_t)pattern; /* llama.cpp's period: 0 when not given */
    if (types) {
        if ((s = count_layer_types(c, types, m)))
            return s;
        if (m->n_swa_layers > 0) {
            if (!has_window) {
                s = qkv_error_set(c->err, QKV_ERR_INVALID,
                                  "%s: 'layer_types' has sliding layers but 'sliding_window' is "
                                  "missing",
                                  c->origin);
                return s;
            }
            m->window = window;
        }
    } else if (has_window && use_window) {
        uint64_t max_window_layers = 0;
        m->window = window;
        if (pattern > 0) {
            /* every pattern-th layer is global (Gemma 3) */
            m->n_swa_layers = m->n_layers - m->n_layers / pattern;
        } else if (strcmp(type, "gemma2") == 0) {
            m->n_swa_layers = (m->n_layers + 1) / 2; /* even layers slide */
        } else if (strcmp(type, "qwen2") == 0 &&
                   (s = get_u64(c, KEYS("max_window_layers"), 0, m->n_layers, &max_window_layers,
                                &found)) == QKV_OK &&
                   found) {
            m->n_swa_layers = m->n_layers - max_window_layers;
        } else if (s == QKV_OK) {
            m->n_swa_layers = m->n_layers;
        }
        if (s)
            return s;
        if (m->n_swa_layers == 0)
            m->window = 0;
    }
    return s;
}

qkv_status hfconfig_parse(const char *json, size_t len, const char *origin, model_shape *m,
                          qkv_error *err)
{
    qkv_status s = QKV_OK;
    cJSON *root;
    json_strict_error why;
    switch (json_strict_parse(json, len, &root, &why)) {
    case JSON_OK:
        break;
    case JSON_NOMEM:
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory parsing '%s'", origin);
    case JSON_SYNTAX:
        return qkv_error_set(err, QKV_ERR_PARSE, "%s: not valid JSON (error near byte %zu)", origin,
                             why.offset);
    case JSON_TRAILING:
        return qkv_error_set(err, QKV_ERR_PARSE,
                             "%s: not valid JSON: text follows the object at byte %zu", origin,
                             why.offset);
    case JSON_DUPLICATE:
        return qkv_error_set(
            err, QKV_ERR_PARSE,
            "%s: key '%.100s' appears twice in one object (Hugging Face would read "
            "the last; qkvplan refuses to guess)",
            origin, why.key);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return qkv_error_set(err, QKV_ERR_PARSE, "%s: the top level is not a JSON object", origin);
    }
    cfg c = {NULL, root, origin, err};
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (text && cJSON_IsObject(text))
        c.text = text;

    memset(m, 0, sizeof *m);
    snprintf(m->source, sizeof m->source, "%s", origin);
    const cJSON *mt = find(&c, "model_type");
    const char *type = (mt && cJSON_IsString(mt)) ? mt->valuestring : "";
    snprintf(m->name, sizeof m->name, "%s", *type ? type : "config");
    snprintf(m->arch, sizeof m->arch, "%s", engine_llamacpp_arch_of_hf(type));
    safetext_clean(m->source, sizeof m->source); /* names are shown, never obeyed */
    safetext_clean(m->name, sizeof m->name);
    const bool gpt2ish = family_defaults(type, m);
    if ((s = read_sizes(&c, m, gpt2ish)) || (s = read_mla(&c, m)) || (s = read_moe(&c, m)) ||
        (s = read_layer_kinds(&c, m, type)))
        goto out;
    s = model_validate(m, err);
    if (s != QKV_OK) {
        /* model_validate names the model; name the file too. */
        char msg[QKV_ERROR_MSG_BYTES];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        qkv_error_set(err, s, "%s: %s", origin, msg);
    }
out:
    cJSON_Delete(root);
    return s;
}

qkv_status hfconfig_load(const char *path, model_shape *out, qkv_error *err)
{
    char file[QKV_PATH_BYTES + QKV_NAME_BYTES];
    struct stat st;
    if (stat(path, &st) != 0)
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        int n = snprintf(file, sizeof file, "%s/config.json", path);
        if (n < 0 || (size_t)n >= sizeof file)
            return qkv_error_set(err, QKV_ERR_IO, "path too long: '%s'", path);
    } else if (snprintf(file, sizeof file, "%s", path) >= (int)sizeof file) {
        return qkv_error_set(err, QKV_ERR_IO, "path too long: '%.200s...'", path);
    }
    FILE *f;
    qkv_status os = infile_fopen(file, &f, err);
    if (os != QKV_OK)
        return os;
    qkv_status s = hfconfig_read(f, file, out, err);
    fclose(f);
    return s;
}

qkv_status hfconfig_read(FILE *f, const char *origin, model_shape *out, qkv_error *err)
{
    char *buf = malloc(HFCONFIG_MAX_BYTES + 1);
    if (!buf)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory reading '%s'", origin);
    size_t n = fread(buf, 1, HFCONFIG_MAX_BYTES + 1, f);
    qkv_status s;
    if (ferror(f))
        s = qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': read error", origin);
    else if (n > HFCONFIG_MAX_BYTES)
        s = qkv_error_set(err, QKV_ERR_INVALID, "'%s' is larger than %zu bytes; not a config.json",
                          origin, HFCONFIG_MAX_BYTES);
    else if (n == 0)
        s = qkv_error_set(err, QKV_ERR_PARSE, "%s: the file is empty", origin);
    else
        s = hfconfig_parse(buf, n, origin, out, err);
    free(buf);
    return s;
}
