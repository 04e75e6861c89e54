/* rt_io.h — save and load runtime models (qkvplan's own format), so a model
 * trained by `qkvplan study` can be probed and reported later.
 *
 * Format, little-endian: the 8 bytes "QKVPLANM", u32 version (1, or 2 for
 * a model with a learned 2D term), then the
 * configuration as i32 family, n_layers, d_model, n_heads, n_kv_heads,
 * head_dim, d_ff, vocab, max_seq, share, causal, pos2d (version 1: 0 or 1
 * for the ramp; version 2: rt_pos2d_form), tied, and f32
 * pos2d_scale, norm_eps, rope_theta; u64 parameter count; then the
 * parameters as f32 in the runtime's layout (shared projections once).
 * The reader checks the configuration, that the count matches it, that the
 * file has exactly that many bytes, and that every value is finite. */
#ifndef QKV_RT_IO_H
#define QKV_RT_IO_H

#include <stdio.h>

#include "probes/runtime/rt_model.h"

#define RT_IO_MAGIC "QKVPLANM"

/* Write m to f (the caller opens, closes and checks f). QKV_ERR_IO on a
 * write error. */
qkv_status rt_model_write(FILE *f, const rt_model *m, qkv_error *err);

/* Load path into *m; caller frees with rt_model_free. */
qkv_status rt_model_load(const char *path, rt_model *m, qkv_error *err);

/* Whether path starts with the qkvplan model magic. */
bool rt_model_is_qkvplan(const char *path);

#endif
