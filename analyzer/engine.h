/* engine.h — what real inference engines do with a model, as far as memory
 * is concerned: llama.cpp's per-architecture sliding-window rules and its
 * refusals, and the command line that realises a plan.
 *
 * Source of every llama.cpp rule: release v0.4.0 (commit 5b4ebc5), the one
 * npm node-llama-cpp@3.21.1 bundles; file and line references are in
 * tests/peer/README.md, and `make peer-check` compares this module's
 * figures with that build.
 *
 * Sliding windows (src/models/ARCH.cpp, load_arch_hparams): an architecture
 * either has no windowed cache (llama — hence Mistral v0.1 GGUFs —, qwen2,
 * phi3, which switches it off), always has one, or has one only when its
 * `sliding_window` key is present and positive. Its layers follow
 * set_swa_pattern(n, dense_first) (src/llama-hparams.cpp:8-22):
 *   dense_first false: layer il slides iff il % n < n - 1 (last of a group global)
 *   dense_first true:  layer il slides iff il % n != 0    (first of a group global)
 *   n = 0:             every layer slides
 * with n read from a scalar `ARCH.attention.sliding_window_pattern` key, else
 * the architecture's default period.
 */
#ifndef QKV_ENGINE_H
#define QKV_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/dtype.h"
#include "analyzer/model.h"

/* How an architecture treats a sliding window in llama.cpp. */
typedef enum {
    SWA_RULE_NONE,   /* no windowed cache; a sliding_window key is ignored */
    SWA_RULE_OFF,    /* the loader switches a window off (phi3) */
    SWA_RULE_ALWAYS, /* always windowed (default window when the key is absent) */
    SWA_RULE_IF_KEY, /* windowed only with a sliding_window key > 0 */
} engine_swa_rule;

typedef struct {
    const char *arch; /* llama.cpp's architecture name */
    engine_swa_rule rule;
    uint32_t period; /* default pattern period (0: every layer) */
    bool dense_first;
    uint64_t default_window; /* SWA_RULE_ALWAYS without the key (0: the key is required) */
    const char *source;      /* file:lines in the pinned source */
} engine_arch_rule;

/* The rule of architecture arch, or NULL when qkvplan does not know it. */
const engine_arch_rule *engine_llamacpp_arch(const char *arch);

/* llama.cpp's architecture for a Hugging Face model_type, as its converter
 * maps them (convert_hf_to_gguf.py: MistralForCausalLM and Mixtral become
 * "llama", gemma3_text "gemma3", gpt_oss "gpt-oss"); "" when unknown. */
const char *engine_llamacpp_arch_of_hf(const char *model_type);

/* Layers among n_layers that slide under set_swa_pattern(period, dense_first). */
uint64_t engine_swa_layer_count(uint64_t n_layers, uint32_t period, bool dense_first);

/* Whether layer il slides under set_swa_pattern(period, dense_first)
 * (src/llama-hparams.cpp:8-22); engine_swa_layer_count counts these. */
bool engine_layer_slides(uint64_t il, uint32_t period, bool dense_first);

/* The layer kinds llama.cpp builds for model m. */
typedef struct {
    uint64_t n_swa_layers; /* layers in the sliding-window cache */
    uint64_t window;       /* n_swa */
    bool known_arch;       /* false: m's own declaration is used as is */
    bool default_pattern;  /* the architecture's default period was applied */
    bool window_dropped;   /* m declares windowed layers that llama.cpp does not window */
    const engine_arch_rule *rule;
} engine_layout;

void engine_llamacpp_layout(const model_shape *m, engine_layout *out);

/* llama.cpp's flash-attention setting (-fa on|off|auto). */
typedef enum { ENGINE_FA_ON, ENGINE_FA_OFF, ENGINE_FA_AUTO } engine_fa;

#define ENGINE_LLAMA_MAX_SEQ 256 /* LLAMA_MAX_SEQ, src/llama-cparams.h:8 */
#define ENGINE_REFUSAL_BYTES 160

/* Whether llama.cpp's llama_init_from_model (or the context constructor)
 * refuses these settings for m, checked in llama.cpp's order; on refusal
 * writes llama.cpp's own message (without the "llama_init_from_model: "
 * log prefix) into buf and returns true. mla: the model caches an MLA latent
 * (K and V types must then be equal). With FA off and a quantized K whose
 * block does not divide the head width llama.cpp does not refuse but aborts
 * later when a row is not a whole number of blocks; that case is left to the
 * planner's own row check. */
bool engine_llamacpp_refusal(const model_shape *m, bool mla, dtype_cache type_k, dtype_cache type_v,
                             engine_fa fa, uint64_t seqs, char *buf, size_t buf_bytes);

#endif
