/* checkpoint.h — one view of every checkpoint format qkvplan reads:
 * llama2.c .bin, qkvplan .qkvm, safetensors (a file with config.json beside
 * it, a directory, or a sharded index) and GGUF.
 *
 * Tensor names: Hugging Face Llama/Mistral/Qwen (model.layers.N.self_attn.
 * q_proj/k_proj/v_proj/o_proj, mlp.gate_proj/up_proj/down_proj, ...),
 * GGUF (blk.N.attn_q/attn_k/attn_v/attn_output, ffn_gate/ffn_up/ffn_down),
 * and, for weight probes only, GPT-2 (h.N.attn.c_attn.weight: Q, K and V
 * fused and stored in x out, i.e. transposed; h.N.attn.bias is a causal-mask
 * buffer, not a weight, and is not counted) and GPT-NeoX
 * (gpt_neox.layers.N.attention.query_key_value.weight: fused out x in with
 * the rows interleaved per head, [q_h; k_h; v_h] for each head h).
 * Hugging Face stores each head's Q and K rows in "rotate-half" order
 * (the first half of the head, then the second); llama2.c and GGUF (whose
 * converter permutes them) store interleaved pairs, which is the runtime's
 * RoPE. Reading from safetensors re-orders those rows into interleaved
 * order; writing does the reverse. Row spaces are unchanged either way.
 */
#ifndef QKV_CHECKPOINT_H
#define QKV_CHECKPOINT_H

#include "analyzer/core/paths.h"
#include "analyzer/model.h"
#include "analyzer/formats/gguf.h"
#include "probes/runtime/rt_model.h"
#include "analyzer/formats/safetensors.h"

typedef enum { CKPT_LLAMA2C, CKPT_QKVM, CKPT_SAFETENSORS, CKPT_GGUF } ckpt_kind;
enum { CKPT_LAYOUT_LLAMA, CKPT_LAYOUT_GPT2, CKPT_LAYOUT_NEOX };

typedef struct {
    ckpt_kind kind;
    char path[QKV_PATH_BYTES];
    rt_config cfg;       /* the architecture (Llama family unless a .qkvm says otherwise) */
    uint64_t file_bytes; /* bytes of all tensors as stored */
    uint64_t n_params;   /* elements of all tensors as stored */
    rt_model rt;         /* llama2.c and .qkvm: the whole model, loaded */
    int layout;          /* CKPT_LAYOUT_*: how attention weights are named and stored */
    char prefix[16];     /* GPT-2: "" or "transformer." before the layer names */
    st_file st;
    gguf_file gg;
    bool has_rt;
} ckpt;

qkv_status ckpt_open(const char *path, ckpt *c, qkv_error *err);
void ckpt_close(ckpt *c);

/* The projection weights of one layer, rows in interleaved RoPE order:
 * wq (NH*HD, C), wk (KVH*HD, C), wv (KVH*HD, C). */
qkv_status ckpt_read_attn(ckpt *c, int layer, float *wq, float *wk, float *wv, qkv_error *err);

/* Re-order the rows of n_heads heads of hd rows x cols from Hugging Face
 * rotate-half order to interleaved pairs; tmp holds hd x cols floats. */
void ckpt_rope_rows_to_interleaved(float *w, int n_heads, int hd, int cols, float *tmp);

/* The whole model in the runtime (Llama family for safetensors and GGUF).
 * Caller frees m with rt_model_free. */
qkv_status ckpt_load_model(ckpt *c, rt_model *m, qkv_error *err);

/* Tensor bytes read from disk so far (for benchmarks). */
uint64_t ckpt_bytes_read(const ckpt *c);

/* Write runtime model m (Llama family) as safetensors into directory out
 * (model.safetensors + config.json, Hugging Face names and row order) or as
 * a GGUF file, F32 or (half) F16. Files are written atomically by the
 * callers' writer functions; these take open streams. */
qkv_status ckpt_write_safetensors(FILE *weights, FILE *config, const rt_model *m, int half,
                                  qkv_error *err);
qkv_status ckpt_write_gguf(FILE *out, const rt_model *m, int half, qkv_error *err);

#endif
