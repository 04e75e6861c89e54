/* hfconfig.h — read a model shape from a Hugging Face config.json.
 *
 * Understood keys (a nested "text_config" object, as in multimodal configs,
 * is read first and the top level fills what it lacks):
 *   num_hidden_layers | n_layer, hidden_size | n_embd, num_attention_heads |
 *   n_head, num_key_value_heads, head_dim, intermediate_size | n_inner,
 *   vocab_size, tie_word_embeddings, max_position_embeddings | n_positions,
 *   sliding_window, use_sliding_window, sliding_window_pattern, layer_types,
 *   max_window_layers, kv_lora_rank, q_lora_rank, qk_rope_head_dim,
 *   qk_nope_head_dim, v_head_dim, n_routed_experts | num_experts |
 *   num_local_experts, n_shared_experts, moe_intermediate_size,
 *   first_k_dense_replace, attention_bias, model_type.
 * model_type decides what a config leaves implicit: GPT-2-style families
 * (gpt2, gpt_neox, gptj, phi, opt, ...) have a plain FFN and LayerNorm; gpt2
 * and opt learned positions; gemma2 alternates sliding and global layers;
 * gemma2/gemma3 have four norms per layer and gemma3/qwen3 q/k norms; qwen2
 * has Q/K/V biases.
 *
 * Every integer must be a whole JSON number in range; errors name the file,
 * the key and the reason.
 */
#ifndef QKV_HFCONFIG_H
#define QKV_HFCONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "analyzer/model.h"
#include "analyzer/core/qkv_error.h"

/* Largest config.json read, in bytes. */
#define HFCONFIG_MAX_BYTES ((size_t)16 << 20)

/* Load path (a config.json, or a directory holding one) into *out.
 * I/O failures give QKV_ERR_IO; bad JSON QKV_ERR_PARSE; missing or
 * meaningless values QKV_ERR_INVALID. */
qkv_status hfconfig_load(const char *path, model_shape *out, qkv_error *err);

/* Parse len bytes of JSON text; origin names the source in messages. */
/* A config.json read from an open stream (standard input for `-m -`),
 * named origin in messages; at most HFCONFIG_MAX_BYTES. */
qkv_status hfconfig_read(FILE *f, const char *origin, model_shape *out, qkv_error *err);

qkv_status hfconfig_parse(const char *json, size_t len, const char *origin, model_shape *out,
                          qkv_error *err);

#endif
