#include "analyzer/engine.h"

#include <stdio.h>
#include <string.h>

/* llama.cpp v0.4.0, src/models/ARCH.cpp, load_arch_hparams. Architectures
 * whose loader never sets swa_type have no windowed cache. Architectures
 * with special cases (llama4's chunked window fixed at 8192, exaone4 only
 * at 64 layers, smallthinker's forced window, per-layer array patterns) are
 * left out: the model's own declaration is planned, with a note. */
static const engine_arch_rule rules[] = {
    {"llama", SWA_RULE_NONE, 0, false, 0, "models/llama.cpp:3-32"},
    {"mistral3", SWA_RULE_NONE, 0, false, 0, "models/mistral3.cpp:3-27"},
    {"qwen2", SWA_RULE_NONE, 0, false, 0, "models/qwen2.cpp:3-17"},
    {"qwen2moe", SWA_RULE_NONE, 0, false, 0, "models/qwen2moe.cpp"},
    {"qwen3", SWA_RULE_NONE, 0, false, 0, "models/qwen3.cpp"},
    {"qwen3moe", SWA_RULE_NONE, 0, false, 0, "models/qwen3moe.cpp"},
    {"gemma", SWA_RULE_NONE, 0, false, 0, "models/gemma.cpp"},
    {"gpt2", SWA_RULE_NONE, 0, false, 0, "models/gpt2.cpp"},
    {"deepseek2", SWA_RULE_NONE, 0, false, 0, "models/deepseek2.cpp"},
    {"granite", SWA_RULE_NONE, 0, false, 0, "models/granite.cpp"},
    {"starcoder2", SWA_RULE_NONE, 0, false, 0, "models/starcoder2.cpp"},
    {"phi3", SWA_RULE_OFF, 1, false, 0, "models/phi3.cpp:13-24"},
    {"gemma2", SWA_RULE_ALWAYS, 2, false, 4096, "models/gemma2.cpp:4-14"},
    {"gemma3", SWA_RULE_IF_KEY, 6, false, 0, "models/gemma3.cpp:4-14"},
    {"cohere2", SWA_RULE_ALWAYS, 4, false, 0, "models/cohere2.cpp:4-13"},
    {"gpt-oss", SWA_RULE_ALWAYS, 2, false, 0, "models/openai-moe.cpp:6-11"},
    {"exaone-moe", SWA_RULE_ALWAYS, 4, false, 128, "models/exaone-moe.cpp:4-13"},
    {"olmo2", SWA_RULE_IF_KEY, 4, false, 0, "models/olmo2.cpp:6-17"},
    {"afmoe", SWA_RULE_IF_KEY, 4, false, 0, "models/afmoe.cpp:11-25"},
    {"plamo3", SWA_RULE_IF_KEY, 8, false, 0, "models/plamo3.cpp:5-13"},
    {"laguna", SWA_RULE_IF_KEY, 4, true, 0, "models/laguna.cpp:34-41"},
};

const engine_arch_rule *engine_llamacpp_arch(const char *arch)
{
    if (!arch || !arch[0])
        return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(arch, rules[i].arch) == 0)
            return &rules[i];
    return NULL;
}

const char *engine_llamacpp_arch_of_hf(const char *model_type)
{
    static const struct {
        const char *hf, *arch;
    } map[] = {
        {"llama", "llama"},
        {"mistral", "llama"},
        {"mixtral", "llama"},
        {"qwen2", "qwen2"},
        {"qwen2_moe", "qwen2moe"},
        {"qwen3", "qwen3"},
        {"qwen3_moe", "qwen3moe"},
        {"phi3", "phi3"},
        {"gemma", "gemma"},
        {"gemma2", "gemma2"},
        {"gemma3", "gemma3"},
        {"gemma3_text", "gemma3"},
        {"cohere2", "cohere2"},
        {"gpt_oss", "gpt-oss"},
        {"gpt2", "gpt2"},
        {"deepseek_v2", "deepseek2"},
        {"deepseek_v3", "deepseek2"},
        {"granite", "granite"},
        {"starcoder2", "starcoder2"},
        {"olmo2", "olmo2"},
    };
    for (size_t i = 0; model_type && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(model_type, map[i].hf) == 0)
            return map[i].arch;
    return "";
}

uint64_t engine_swa_layer_count(uint64_t n_layers, uint32_t period, bool dense_first)
{
    if (period == 0)
        return n_layers;
    /* One global layer per whole group, plus one for a partial group that
     * reaches its global position (the last for dense_first false, the
     * first for dense_first true). */
    const uint64_t groups = n_layers / period, rest = n_layers % period;
    const uint64_t global = groups + (dense_first && rest > 0 ? 1 : 0);
    return n_layers - global;
}

bool engine_layer_slides(uint64_t il, uint32_t period, bool dense_first)
{
    if (period == 0)
        return true;
    return dense_first ? il % period != 0 : il % period < period - 1;
}

void engine_llamacpp_layout(const model_shape *m, engine_layout *out)
{
    memset(out, 0, sizeof *out);
    const engine_arch_rule *r = engine_llamacpp_arch(m->arch);
    out->rule = r;
    if (!r) {
        out->n_swa_layers = m->n_swa_layers;
        out->window = m->window;
        return;
    }
    out->known_arch = true;
    uint64_t window = m->window;
    bool windowed;
    switch (r->rule) {
    case SWA_RULE_ALWAYS:
        if (window == 0)
            window = r->default_window;
        windowed = window > 0;
        break;
    case SWA_RULE_IF_KEY:
        windowed = window > 0;
        break;
    case SWA_RULE_NONE:
    case SWA_RULE_OFF:
    default:
        windowed = false;
        break;
    }
    if (!windowed) {
        out->window_dropped = m->n_swa_layers > 0;
        return;
    }
    const uint32_t period = m->swa_period ? m->swa_period : r->period;
    out->default_pattern = m->swa_period == 0;
    out->n_swa_layers = engine_swa_layer_count(m->n_layers, period, r->dense_first);
    /* Layers without any KV (hybrid models) are not among these archs. */
    if (out->n_swa_layers > m->n_layers - m->n_nokv_layers)
        out->n_swa_layers = m->n_layers - m->n_nokv_layers;
    out->window = out->n_swa_layers > 0 ? window : 0;
}

bool engine_llamacpp_refusal(const model_shape *m, bool mla, dtype_cache type_k, dtype_cache type_v,
                             engine_fa fa, uint64_t seqs, char *buf, size_t buf_bytes)
{
    const dtype_cache_info *k = dtype_cache_get(type_k), *v = dtype_cache_get(type_v);
    /* src/llama-context.cpp:99-101 (the context constructor) */
    if (seqs > ENGINE_LLAMA_MAX_SEQ) {
        snprintf(buf, buf_bytes, "n_seq_max must be <= %d", ENGINE_LLAMA_MAX_SEQ);
        return true;
    }
    /* :3693-3696 */
    if (mla && type_k != type_v) {
        snprintf(buf, buf_bytes, "model does not support different K (%s) and V (%s) cache types",
                 k->name, v->name);
        return true;
    }
    /* :3698-3706: auto turns flash attention on for a quantized V */
    if (v->quantized && fa == ENGINE_FA_OFF) {
        snprintf(buf, buf_bytes, "quantized V cache requires flash_attn to be enabled");
        return true;
    }
    if (fa == ENGINE_FA_OFF)
        return false;
    /* :3709-3728, every layer's head width; qkvplan's shapes have one */
    if (k->quantized && m->head_dim % k->block_elems != 0) {
        snprintf(buf, buf_bytes,
                 "K cache type %s with block size %u does not divide n_embd_head_k=%llu", k->name,
                 k->block_elems, (unsigned long long)m->head_dim);
        return true;
    }
    if (v->quantized && m->v_head_dim % v->block_elems != 0) {
        snprintf(buf, buf_bytes,
                 "V cache type %s with block size %u does not divide n_embd_head_v=%llu", v->name,
                 v->block_elems, (unsigned long long)m->v_head_dim);
        return true;
    }
    return false;
}
