/* rt_lazy.h — a runtime model whose weights stay in the checkpoint file.
 *
 * GGUF and safetensors files are memory-mapped by their readers; a lazy
 * model reads its weights from that map in their file type (f32, f16,
 * bf16, q8_0, q4_0, q4_K, q6_K) and widens one layer at a time into one
 * scratch buffer of float32 when the forward pass asks for it (rt_fetch in
 * rt_model.h). Float32 tensors that need no re-ordering and lie 4-byte
 * aligned are used in place, without a copy. The classifier is widened in
 * blocks of rows into the same scratch buffer, the embedding one row at a
 * time. So a model needs about its file size (the pages the kernel keeps
 * mapped) plus one float32 layer, not 2–4x its file size; an f32 GGUF
 * needs no scratch for its matrices at all.
 *
 * Hugging Face Q and K rows (rotate-half order) are put in the runtime's
 * interleaved order as they are widened (checkpoint.h).
 *
 * llama2.c and .qkvm checkpoints are float32 files that ckpt_open already
 * holds whole; for them the lazy model borrows that copy.
 */
#ifndef QKV_RT_LAZY_H
#define QKV_RT_LAZY_H

#include "probes/runtime/checkpoint.h"
#include "probes/runtime/rt_model.h"

typedef struct rt_lazy rt_lazy;

/* Make *m a model that reads c's weights (Llama layout) where they lie; c
 * must stay open while m is used. m is a view: release it with
 * rt_lazy_free(z, m), never rt_model_free. */
qkv_status rt_lazy_open(ckpt *c, rt_model *m, rt_lazy **z, qkv_error *err);

/* Release z and clear m; NULL z is allowed. */
void rt_lazy_free(rt_lazy *z, rt_model *m);

/* Bytes of float32 scratch the model holds (0 for a borrowed model). */
size_t rt_lazy_scratch_bytes(const rt_lazy *z);

/* The decode layout, for generation: every layer whose seven matrices are
 * float32 in the file, and a float32 classifier (when used in place or when
 * the scratch holds it whole), are copied once into the
 * process's memory transposed, (in, out) (cblas_somatcopy), in huge pages
 * (rt_alloc_streamed), and their mapped pages given back as each is copied,
 * so resident memory stays about the file size. A single row then runs
 * through OpenBLAS's column-streaming sgemv kernel: decoding the bench's
 * f32 model measured 21% faster than from the file map (`make bench`,
 * README.md). Layers of other types stay in the file and are widened as
 * before. Results equal the file layout's up to float32 rounding (another
 * summation order). For rt_forward, rt_prefill and rt_decode only: weight
 * probes refuse it. No-op for a borrowed model; m must be the model
 * rt_lazy_open made. QKV_ERR_NOMEM (nothing changed, the model still reads
 * its file) when the copy exceeds the free memory or cannot be allocated. */
qkv_status rt_lazy_decode_layout(rt_lazy *z, rt_model *m, qkv_error *err);

/* Bytes the decode layout holds (0 without it). */
size_t rt_lazy_decode_bytes(const rt_lazy *z);

#endif
