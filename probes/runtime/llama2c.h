/* llama2c.h — read llama2.c checkpoints (version 0) into the runtime.
 *
 * Format (all little-endian): seven int32 — dim, hidden_dim, n_layers,
 * n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means the
 * classifier is stored separately at the end. Then float32 arrays: token
 * embedding (V, C); rms_att (L, C); wq (L, NH*HD, C); wk (L, KVH*HD, C);
 * wv (L, KVH*HD, C); wo (L, C, NH*HD); rms_ffn (L, C); w1 (L, FF, C);
 * w2 (L, C, FF); w3 (L, FF, C); rms_final (C); two legacy RoPE tables of
 * seq_len x HD/2 floats (skipped); wcls (V, C) when unshared. HD = C / NH.
 *
 * The reader checks the header ranges and that the file size equals the
 * header plus exactly these arrays before it reads any weight, and rejects
 * non-finite weights, naming the file, the tensor and the reason.
 */
#ifndef QKV_LLAMA2C_H
#define QKV_LLAMA2C_H

#include "probes/runtime/rt_model.h"

/* Load path into *m (Llama family, QKV, causal). Caller frees with
 * rt_model_free. QKV_ERR_IO for unreadable files, QKV_ERR_INVALID for
 * malformed ones. */
qkv_status llama2c_load(const char *path, rt_model *m, qkv_error *err);

#endif
