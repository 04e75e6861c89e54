/* model.h — the shape of a transformer, as far as memory planning needs it.
 *
 * Dimension letters used across qkvplan: L layers, C d_model, NH query heads,
 * KVH key/value heads, HD head width of Q and K, HDV head width of V, FF the
 * FFN width, V the vocabulary.
 *
 * Layers come in three kinds: full attention (the cache grows with the
 * context), sliding-window attention over the last `window` tokens, and layers
 * that hold no KV cache at all (recurrent or linear attention in hybrid
 * models). Only the counts matter for memory, so the shape keeps counts.
 *
 * MLA models (DeepSeek-V2/V3) cache one compressed latent of kv_lora_rank +
 * rope_dim elements per token and layer instead of per-head K and V; their
 * head_dim is the query/key width (qk_nope + rope) and v_head_dim the value
 * width, which is what a decompressed (standard attention) cache would hold.
 */
#ifndef QKV_MODEL_H
#define QKV_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/core/qkv_error.h"

#define MODEL_NAME_BYTES 96
#define MODEL_SOURCE_BYTES 256
#define MODEL_ARCH_BYTES 32
/* Upper bound for any single dimension read from a config or option; products
 * of dimensions are still checked for 64-bit overflow where they are formed. */
#define MODEL_DIM_MAX ((uint64_t)1 << 32)

typedef enum { POS_LEARNED, POS_ROPE, POS_NONE } model_pos;
typedef enum { NORM_RMS, NORM_LAYER } model_norm;
typedef enum { BIAS_NONE, BIAS_QKV, BIAS_ALL } model_bias;

typedef struct {
    char name[MODEL_NAME_BYTES];
    char source[MODEL_SOURCE_BYTES]; /* where the numbers were read from */

    uint64_t n_layers;   /* L */
    uint64_t d_model;    /* C */
    uint64_t n_heads;    /* NH */
    uint64_t n_kv_heads; /* KVH as built */
    uint64_t head_dim;   /* HD: width of one query/key head */
    uint64_t v_head_dim; /* HDV: width of one value head (= HD except MLA) */
    uint64_t d_ff;       /* FF: dense FFN width */
    bool gated_ffn;      /* SwiGLU/GeGLU (3 matrices) or plain (2) */
    uint64_t vocab;      /* V */
    bool tied_embeddings;
    model_bias bias;          /* none; Q/K/V only (Qwen2); every linear layer (GPT-2) */
    model_norm norm;          /* LayerNorm has a bias vector, RMSNorm does not */
    uint32_t norms_per_layer; /* 2 for most, 4 for Gemma 2/3 */
    bool qk_norm;             /* per-head RMSNorm on q and k (Gemma 3, Qwen3) */
    model_pos pos;            /* learned absolute positions add max_ctx x C weights */
    uint64_t max_ctx;         /* trained context length (0: unknown) */

    uint64_t n_swa_layers;  /* sliding-window layers, as the model declares them */
    uint64_t window;        /* their window in tokens (0 when none) */
    uint64_t n_nokv_layers; /* layers holding no KV cache */
    /* The per-layer pattern, in llama.cpp's terms (set_swa_pattern): with a
     * period n, layer il slides iff il % n < n - 1 (the last of each group is
     * global). 0: the source gives no period (an engine applies its own
     * default for the architecture, see analyzer/engine.h). */
    uint32_t swa_period;
    /* llama.cpp's name for the architecture ("llama", "phi3", "gemma3", ...;
     * "" when unknown): engines decide per architecture whether a window is
     * applied at all (analyzer/engine.h). Mistral v0.1 loads as "llama". */
    char arch[MODEL_ARCH_BYTES];

    uint64_t kv_lora_rank; /* MLA: latent width (0 = not MLA) */
    uint64_t rope_dim;     /* MLA: decoupled RoPE key width */
    uint64_t q_lora_rank;  /* MLA: query compression (0 = none) */

    uint64_t file_weight_bytes; /* bytes of the tensors in the model file (0: no file) */
    uint64_t file_params;       /* elements of those tensors */
    char file_weight_type[16];  /* their type as llama.cpp names it ("f32", "f16", "q8_0",
                                 * "mixed"); "" when there is no file */

    double rope_theta; /* RoPE base (0: unknown; the runtime uses 10000) */
    double norm_eps;   /* normalisation epsilon (0: unknown; 1e-5) */

    uint64_t n_experts;        /* MoE routed experts (0 = dense) */
    uint64_t n_shared_experts; /* MoE always-on experts */
    uint64_t moe_d_ff;         /* width of one expert */
    uint64_t n_dense_layers;   /* leading layers with a dense FFN in MoE models */
} model_shape;

static inline bool model_is_mla(const model_shape *m)
{
    return m->kv_lora_rank > 0;
}
static inline uint64_t model_full_layers(const model_shape *m)
{
    return m->n_layers - m->n_swa_layers - m->n_nokv_layers;
}

/* Check that the shape is usable: every count positive where it must be,
 * heads divisible by KV heads, layer kinds adding up, no dimension above
 * MODEL_DIM_MAX. On failure err names the model and the field. */
qkv_status model_validate(const model_shape *m, qkv_error *err);

/* Changes to a model's shape asked for on the command line; 0 = not given. */
typedef struct {
    uint64_t layers, d_model, heads, kv_heads, head_dim, ffn, vocab;
} model_overrides;

/* Apply ov to m: sliding-window and no-KV layers keep their share of a new
 * layer count, the head width follows a new d_model or head count unless
 * given, the KV heads follow the heads where the model had one per head.
 * m becomes "custom", its source naming the base model and the options
 * (" with --layers N ..."). QKV_ERR_INVALID when a d_model does not divide
 * into heads or the heads of an MLA model are overridden; m is then
 * unchanged in name. Returns QKV_OK (m untouched) when ov is all zero. */
qkv_status model_apply_overrides(model_shape *m, const model_overrides *ov, qkv_error *err);

/* One-line description: "22 layers, d_model 2048, 32 heads x 64 (32 KV), FFN 8192, vocab 50304". */
void model_describe(const model_shape *m, char *buf, size_t buf_bytes);

#endif
