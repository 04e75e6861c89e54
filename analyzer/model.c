#include "analyzer/model.h"

#include <inttypes.h>
#include <stdio.h>

static qkv_status need(const model_shape *m, qkv_error *err, const char *field, uint64_t v,
                       uint64_t lo)
{
    if (v < lo || v > MODEL_DIM_MAX)
        return qkv_error_set(err, QKV_ERR_INVALID, "model '%s': %s is %llu; it must be %s%llu",
                             m->name, field, (unsigned long long)v,
                             v < lo ? "at least " : "at most ",
                             (unsigned long long)(v < lo ? lo : MODEL_DIM_MAX));
    return QKV_OK;
}

qkv_status model_validate(const model_shape *m, qkv_error *err)
{
    qkv_status s;
    if ((s = need(m, err, "layers", m->n_layers, 1)) ||
        (s = need(m, err, "d_model", m->d_model, 1)) ||
        (s = need(m, err, "heads", m->n_heads, 1)) ||
        (s = need(m, err, "kv_heads", m->n_kv_heads, 1)) ||
        (s = need(m, err, "head_dim", m->head_dim, 1)) ||
        (s = need(m, err, "v_head_dim", m->v_head_dim, 1)) ||
        (s = need(m, err, "ffn", m->d_ff, 1)) || (s = need(m, err, "vocab", m->vocab, 1)) ||
        (s = need(m, err, "max_ctx", m->max_ctx, 0)) ||
        (s = need(m, err, "window", m->window, 0)) ||
        (s = need(m, err, "kv_lora_rank", m->kv_lora_rank, 0)) ||
        (s = need(m, err, "rope_dim", m->rope_dim, 0)) ||
        (s = need(m, err, "q_lora_rank", m->q_lora_rank, 0)) ||
        (s = need(m, err, "experts", m->n_experts, 0)) ||
        (s = need(m, err, "shared_experts", m->n_shared_experts, 0)) ||
        (s = need(m, err, "moe_ffn", m->moe_d_ff, 0)) ||
        (s = need(m, err, "dense_layers", m->n_dense_layers, 0)))
        return s;
    if (m->n_kv_heads > m->n_heads || m->n_heads % m->n_kv_heads != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "model '%s': %llu KV heads do not divide %llu query heads", m->name,
                             (unsigned long long)m->n_kv_heads, (unsigned long long)m->n_heads);
    if (m->n_swa_layers > m->n_layers || m->n_nokv_layers > m->n_layers - m->n_swa_layers)
        return qkv_error_set(
            err, QKV_ERR_INVALID,
            "model '%s': %llu sliding-window and %llu no-KV layers exceed %llu layers", m->name,
            (unsigned long long)m->n_swa_layers, (unsigned long long)m->n_nokv_layers,
            (unsigned long long)m->n_layers);
    if (m->n_swa_layers > 0 && m->window == 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "model '%s': sliding-window layers need a window of at least 1 token",
                             m->name);
    if (m->kv_lora_rank > 0 && m->rope_dim >= m->head_dim)
        return qkv_error_set(
            err, QKV_ERR_INVALID,
            "model '%s': MLA rope_dim %llu must be smaller than the key head width %llu", m->name,
            (unsigned long long)m->rope_dim, (unsigned long long)m->head_dim);
    if (m->n_experts > 0 && (m->moe_d_ff == 0 || m->n_dense_layers > m->n_layers))
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "model '%s': a mixture-of-experts model needs moe_ffn > 0 and at most "
                             "%llu dense layers",
                             m->name, (unsigned long long)m->n_layers);
    if (m->pos == POS_LEARNED && m->max_ctx == 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "model '%s': learned positions need a maximum context", m->name);
    if (m->norms_per_layer == 0 || m->norms_per_layer > 8)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "model '%s': norms per layer is %u; expected 1 to 8", m->name,
                             m->norms_per_layer);
    return QKV_OK;
}

void model_describe(const model_shape *m, char *buf, size_t buf_bytes)
{
    int n = snprintf(buf, buf_bytes, "%llu layers, d_model %llu, %llu heads x %llu",
                     (unsigned long long)m->n_layers, (unsigned long long)m->d_model,
                     (unsigned long long)m->n_heads, (unsigned long long)m->head_dim);
    size_t used = n < 0 ? 0 : (size_t)n;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (used < buf_bytes) {                                                                    \
            int k = snprintf(buf + used, buf_bytes - used, __VA_ARGS__);                           \
            used += k < 0 ? 0 : (size_t)k;                                                         \
        }                                                                                          \
    } while (0)
    if (m->v_head_dim != m->head_dim)
        APPEND(" (V %llu)", (unsigned long long)m->v_head_dim);
    if (model_is_mla(m))
        APPEND(", MLA latent %llu+%llu", (unsigned long long)m->kv_lora_rank,
               (unsigned long long)m->rope_dim);
    else
        APPEND(", %llu KV heads", (unsigned long long)m->n_kv_heads);
    APPEND(", FFN %llu%s", (unsigned long long)m->d_ff, m->gated_ffn ? " gated" : "");
    if (m->n_experts > 0)
        APPEND(", MoE %llu+%llu x %llu", (unsigned long long)m->n_experts,
               (unsigned long long)m->n_shared_experts, (unsigned long long)m->moe_d_ff);
    APPEND(", vocab %llu", (unsigned long long)m->vocab);
    if (m->n_swa_layers > 0)
        APPEND(", %llu of %llu layers sliding window %llu", (unsigned long long)m->n_swa_layers,
               (unsigned long long)m->n_layers, (unsigned long long)m->window);
    if (m->n_nokv_layers > 0)
        APPEND(", %llu layers without KV cache", (unsigned long long)m->n_nokv_layers);
#undef APPEND
}

qkv_status model_apply_overrides(model_shape *m, const model_overrides *ov, qkv_error *err)
{
    const struct {
        uint64_t value;
        const char *flag;
    } given[] = {{ov->layers, "layers"},     {ov->d_model, "d-model"},
                 {ov->heads, "heads"},       {ov->kv_heads, "model-kv-heads"},
                 {ov->head_dim, "head-dim"}, {ov->ffn, "ffn"},
                 {ov->vocab, "vocab"}};
    char note[MODEL_SOURCE_BYTES] = "";
    size_t used = 0;
    bool any = false;
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        if (!given[i].value)
            continue;
        any = true;
        int k = snprintf(note + used, sizeof note - used, " --%s %" PRIu64, given[i].flag,
                         given[i].value);
        if (k > 0 && (size_t)k < sizeof note - used)
            used += (size_t)k;
    }
    if (!any)
        return QKV_OK;
    const uint64_t old_heads = m->n_heads, old_kv = m->n_kv_heads;
    if (ov->layers) {
        /* keep the share of sliding-window and no-KV layers where it scales exactly */
        const uint64_t L = ov->layers;
        m->n_swa_layers = m->n_swa_layers == m->n_layers ? L : m->n_swa_layers * L / m->n_layers;
        m->n_nokv_layers = m->n_nokv_layers * L / m->n_layers;
        if (m->n_experts > 0 && m->n_dense_layers > L)
            m->n_dense_layers = L;
        m->n_layers = L;
    }
    if (ov->d_model)
        m->d_model = ov->d_model;
    if (ov->heads)
        m->n_heads = ov->heads;
    if (ov->ffn)
        m->d_ff = ov->ffn;
    if (ov->vocab)
        m->vocab = ov->vocab;
    if (ov->head_dim) {
        m->head_dim = m->v_head_dim = ov->head_dim;
    } else if (ov->d_model || ov->heads) {
        if (m->d_model % m->n_heads != 0)
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "--d-model %" PRIu64 " is not a multiple of %" PRIu64
                                 " heads; give --head-dim",
                                 m->d_model, m->n_heads);
        m->head_dim = m->v_head_dim = m->d_model / m->n_heads;
    }
    if (ov->kv_heads)
        m->n_kv_heads = ov->kv_heads;
    else if (ov->heads)
        m->n_kv_heads = old_kv == old_heads ? m->n_heads : old_kv;
    if (model_is_mla(m) && (ov->head_dim || ov->d_model || ov->heads))
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "overriding the heads of an MLA model is not supported");
    char base[MODEL_NAME_BYTES];
    snprintf(base, sizeof base, "%s", m->name);
    snprintf(m->name, sizeof m->name, "custom");
    snprintf(m->source, sizeof m->source, "%.80s with%.160s", base, note);
    return QKV_OK;
}
