#include "analyzer/catalog.h"

#include <strings.h>

/* Field order of the shorthand below: see model.h. Defaults not listed are 0/false.
 * .arch is llama.cpp's architecture for the model's GGUF (its converter maps
 * MistralForCausalLM to `llama`); .swa_period the model's own pattern. */
#define HF "https://huggingface.co/"

static const model_shape catalog[] = {
    {
        .name = "paper-300M", .arch = "gpt2",
        .source = "arXiv 2606.04032 (300M: 20 layers, d_model 1024, 16 heads x 64, FFN 4 x d, "
                  "vocab 50304, context 2048, GPT-2 style)",
        .n_layers = 20, .d_model = 1024, .n_heads = 16, .n_kv_heads = 16, .head_dim = 64,
        .v_head_dim = 64, .d_ff = 4096, .gated_ffn = false, .vocab = 50304,
        .tied_embeddings = true, .bias = BIAS_ALL, .norm = NORM_LAYER, .norms_per_layer = 2,
        .pos = POS_LEARNED, .max_ctx = 2048,
    },
    {
        .name = "paper-1.2B", .arch = "gpt2",
        .source = "arXiv 2606.04032 (1.2B: 22 layers, d_model 2048, 32 heads x 64, FFN 4 x d, "
                  "vocab 50304, context 2048, GPT-2 style)",
        .n_layers = 22, .d_model = 2048, .n_heads = 32, .n_kv_heads = 32, .head_dim = 64,
        .v_head_dim = 64, .d_ff = 8192, .gated_ffn = false, .vocab = 50304,
        .tied_embeddings = true, .bias = BIAS_ALL, .norm = NORM_LAYER, .norms_per_layer = 2,
        .pos = POS_LEARNED, .max_ctx = 2048,
    },
    {
        .name = "gpt2", .arch = "gpt2",
        .source = HF "openai-community/gpt2/blob/main/config.json",
        .n_layers = 12, .d_model = 768, .n_heads = 12, .n_kv_heads = 12, .head_dim = 64,
        .v_head_dim = 64, .d_ff = 3072, .gated_ffn = false, .vocab = 50257,
        .tied_embeddings = true, .bias = BIAS_ALL, .norm = NORM_LAYER, .norms_per_layer = 2,
        .pos = POS_LEARNED, .max_ctx = 1024,
    },
    {
        .name = "Llama-3.2-1B", .arch = "llama",
        .source = HF "meta-llama/Llama-3.2-1B/blob/main/config.json",
        .n_layers = 16, .d_model = 2048, .n_heads = 32, .n_kv_heads = 8, .head_dim = 64,
        .v_head_dim = 64, .d_ff = 8192, .gated_ffn = true, .vocab = 128256,
        .tied_embeddings = true, .norms_per_layer = 2, .pos = POS_ROPE, .max_ctx = 131072,
    },
    {
        .name = "Llama-3.2-3B", .arch = "llama",
        .source = HF "meta-llama/Llama-3.2-3B/blob/main/config.json",
        .n_layers = 28, .d_model = 3072, .n_heads = 24, .n_kv_heads = 8, .head_dim = 128,
        .v_head_dim = 128, .d_ff = 8192, .gated_ffn = true, .vocab = 128256,
        .tied_embeddings = true, .norms_per_layer = 2, .pos = POS_ROPE, .max_ctx = 131072,
    },
    {
        .name = "Llama-3.1-8B", .arch = "llama",
        .source = HF "meta-llama/Llama-3.1-8B/blob/main/config.json",
        .n_layers = 32, .d_model = 4096, .n_heads = 32, .n_kv_heads = 8, .head_dim = 128,
        .v_head_dim = 128, .d_ff = 14336, .gated_ffn = true, .vocab = 128256,
        .tied_embeddings = false, .norms_per_layer = 2, .pos = POS_ROPE, .max_ctx = 131072,
    },
    {
        .name = "Qwen2.5-0.5B", .arch = "qwen2",
        .source = HF "Qwen/Qwen2.5-0.5B/blob/main/config.json (use_sliding_window false)",
        .n_layers = 24, .d_model = 896, .n_heads = 14, .n_kv_heads = 2, .head_dim = 64,
        .v_head_dim = 64, .d_ff = 4864, .gated_ffn = true, .vocab = 151936,
        .tied_embeddings = true, .bias = BIAS_QKV, .norms_per_layer = 2, .pos = POS_ROPE,
        .max_ctx = 32768,
    },
    {
        .name = "Qwen2.5-1.5B", .arch = "qwen2",
        .source = HF "Qwen/Qwen2.5-1.5B/blob/main/config.json (use_sliding_window false)",
        .n_layers = 28, .d_model = 1536, .n_heads = 12, .n_kv_heads = 2, .head_dim = 128,
        .v_head_dim = 128, .d_ff = 8960, .gated_ffn = true, .vocab = 151936,
        .tied_embeddings = true, .bias = BIAS_QKV, .norms_per_layer = 2, .pos = POS_ROPE,
        .max_ctx = 131072,
    },
    {
        .name = "Qwen2.5-7B", .arch = "qwen2",
        .source = HF "Qwen/Qwen2.5-7B/blob/main/config.json (use_sliding_window false)",
        .n_layers = 28, .d_model = 3584, .n_heads = 28, .n_kv_heads = 4, .head_dim = 128,
        .v_head_dim = 128, .d_ff = 18944, .gated_ffn = true, .vocab = 152064,
        .tied_embeddings = false, .bias = BIAS_QKV, .norms_per_layer = 2, .pos = POS_ROPE,
        .max_ctx = 131072,
    },
    {
        .name = "Mistral-7B-v0.1", .arch = "llama",
        .source = HF "mistralai/Mistral-7B-v0.1/blob/main/config.json (sliding_window 4096)",
        .n_layers = 32, .d_model = 4096, .n_heads = 32, .n_kv_heads = 8, .head_dim = 128,
        .v_head_dim = 128, .d_ff = 14336, .gated_ffn = true, .vocab = 32000,
        .tied_embeddings = false, .norms_per_layer = 2, .pos = POS_ROPE, .max_ctx = 32768,
        .n_swa_layers = 32, .window = 4096,
    },
    {
        .name = "Phi-3-mini-4k", .arch = "phi3",
        .source = HF "microsoft/Phi-3-mini-4k-instruct/blob/main/config.json (sliding_window 2047)",
        .n_layers = 32, .d_model = 3072, .n_heads = 32, .n_kv_heads = 32, .head_dim = 96,
        .v_head_dim = 96, .d_ff = 8192, .gated_ffn = true, .vocab = 32064,
        .tied_embeddings = false, .norms_per_layer = 2, .pos = POS_ROPE, .max_ctx = 4096,
        .n_swa_layers = 32, .window = 2047,
    },
    {
        .name = "Gemma-2-2B", .arch = "gemma2",
        .source = HF "google/gemma-2-2b/blob/main/config.json (sliding_window 4096 on every "
                  "other layer)",
        .n_layers = 26, .d_model = 2304, .n_heads = 8, .n_kv_heads = 4, .head_dim = 256,
        .v_head_dim = 256, .d_ff = 9216, .gated_ffn = true, .vocab = 256000,
        .tied_embeddings = true, .norms_per_layer = 4, .pos = POS_ROPE, .max_ctx = 8192,
        .n_swa_layers = 13, .window = 4096, .swa_period = 2,
    },
    {
        .name = "Gemma-3-270M", .arch = "gemma3",
        .source = HF "google/gemma-3-270m/blob/main/config.json (sliding_window 512, 5 local : "
                  "1 global)",
        .n_layers = 18, .d_model = 640, .n_heads = 4, .n_kv_heads = 1, .head_dim = 256,
        .v_head_dim = 256, .d_ff = 2048, .gated_ffn = true, .vocab = 262144,
        .tied_embeddings = true, .norms_per_layer = 4, .qk_norm = true, .pos = POS_ROPE,
        .max_ctx = 32768, .n_swa_layers = 15, .window = 512,
        .swa_period = 6,
    },
    {
        .name = "Gemma-3-1B", .arch = "gemma3",
        .source = HF "google/gemma-3-1b-pt/blob/main/config.json (sliding_window 512, 5 local : "
                  "1 global)",
        .n_layers = 26, .d_model = 1152, .n_heads = 4, .n_kv_heads = 1, .head_dim = 256,
        .v_head_dim = 256, .d_ff = 6912, .gated_ffn = true, .vocab = 262144,
        .tied_embeddings = true, .norms_per_layer = 4, .qk_norm = true, .pos = POS_ROPE,
        .max_ctx = 32768, .n_swa_layers = 22, .window = 512,
        .swa_period = 6,
    },
    {
        .name = "SmolLM2-1.7B", .arch = "llama",
        .source = HF "HuggingFaceTB/SmolLM2-1.7B/blob/main/config.json",
        .n_layers = 24, .d_model = 2048, .n_heads = 32, .n_kv_heads = 32, .head_dim = 64,
        .v_head_dim = 64, .d_ff = 8192, .gated_ffn = true, .vocab = 49152,
        .tied_embeddings = true, .norms_per_layer = 2, .pos = POS_ROPE, .max_ctx = 8192,
    },
    {
        .name = "DeepSeek-V2-Lite", .arch = "deepseek2",
        .source = HF "deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json (MLA: kv_lora_rank 512, "
                  "qk_rope_head_dim 64, qk_nope_head_dim 128, v_head_dim 128; MoE 64 + 2 shared "
                  "experts x 1408, first layer dense)",
        .n_layers = 27, .d_model = 2048, .n_heads = 16, .n_kv_heads = 16, .head_dim = 192,
        .v_head_dim = 128, .d_ff = 10944, .gated_ffn = true, .vocab = 102400,
        .tied_embeddings = false, .norms_per_layer = 2, .pos = POS_ROPE, .max_ctx = 163840,
        .kv_lora_rank = 512, .rope_dim = 64, .n_experts = 64, .n_shared_experts = 2,
        .moe_d_ff = 1408, .n_dense_layers = 1,
    },
};

size_t catalog_count(void)
{
    return sizeof catalog / sizeof catalog[0];
}

const model_shape *catalog_get(size_t i)
{
    return i < catalog_count() ? &catalog[i] : NULL;
}

const model_shape *catalog_find(const char *name)
{
    for (size_t i = 0; i < catalog_count(); i++)
        if (strcasecmp(name, catalog[i].name) == 0)
            return &catalog[i];
    return NULL;
}
