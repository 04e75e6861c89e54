/* modelfile.h — what a model file says about the model's shape, read once
 * for the planner and the runtime alike.
 *
 * The planner's view (modelfile_shape) takes a GGUF file (architecture and
 * sizes from its metadata, sliding-window layers as llama.cpp's loader sets
 * them), safetensors (a file with config.json beside it, a directory, or a
 * sharded index) or a config.json alone; when tensors are found,
 * file_weight_bytes, file_params and file_weight_type hold their totals.
 * The runtime (probes/runtime/checkpoint.c) reads GGUF shapes through
 * modelfile_gguf_shape too, then applies its own limits.
 */
#ifndef QKV_MODELFILE_H
#define QKV_MODELFILE_H

#include <stdbool.h>

#include "analyzer/core/qkv_error.h"
#include "analyzer/formats/gguf.h"
#include "analyzer/model.h"

/* The first bytes of a model saved by qkvplan study (.qkvm). */
#define MODELFILE_QKVM_MAGIC "QKVPLANM"

/* A GGUF file by its magic or, failing that, its name. */
bool modelfile_is_gguf(const char *path);

/* A path that names safetensors weights: *.safetensors or a sharded
 * *.index.json (a directory is looked into by the readers). */
bool modelfile_names_safetensors(const char *path);

/* The config.json that describes the model at path: inside a directory,
 * beside a safetensors file or index, or path itself. QKV_ERR_RANGE when it
 * does not fit in buf (QKV_PATH_BYTES + QKV_NAME_BYTES is enough for any
 * path the system can open). */
qkv_status modelfile_config_path(const char *path, bool is_dir, char *buf, size_t buf_bytes,
                                 qkv_error *err);

/* GPT-2's attn.bias and attn.masked_bias are causal-mask buffers, not
 * weights: no reader counts or loads them. */
bool modelfile_is_mask_buffer(const char *name);

/* The model shape of an open GGUF file (path names it in messages):
 * general.architecture, block_count, embedding_length and
 * attention.head_count are required; head counts, widths, FFN widths,
 * context, window, MLA and MoE keys, RoPE base and norm epsilon are read
 * when present; vocabulary from token_embd.weight; tensor totals and the
 * matrices' type. The shape is validated (model_validate). */
qkv_status modelfile_gguf_shape(const gguf_file *g, const char *path, model_shape *ms,
                                qkv_error *err);

/* The planner's view of the model file at path (see above). */
qkv_status modelfile_shape(const char *path, model_shape *ms, qkv_error *err);

#endif
