/* rt_ops.h — the runtime's elementwise and row operations, shared by
 * inference (rt_forward.c) and training (rt_train.c). Matrix products go
 * through CBLAS. Shapes: rows of N vectors, row-major. */
#ifndef QKV_RT_OPS_H
#define QKV_RT_OPS_H

#include "probes/runtime/rt_kernels.h"
#include "probes/runtime/rt_model.h"

/* out (N, OUT) = in (N, IN) · W (OUT, IN)ᵀ + b (b may be NULL), on the calling
 * thread: N = 1 through sgemv, else sgemm (rt_kernels.h says why). */
void rt_matmul(float *out, const float *in, const float *w, const float *b, int N, int IN, int OUT);

/* LayerNorm (b != NULL) or RMSNorm (b == NULL) of N rows of C. mean and rstd
 * (N each, may be NULL) receive the statistics the backward pass needs
 * (mean is 0 for RMSNorm). */
void rt_norm_rows(float *out, float *mean, float *rstd, const float *in, const float *w,
                  const float *b, int N, int C, float eps);

/* RoPE on interleaved pairs of n_heads heads of width HD in one row at
 * position pos: angle pos · theta^(−2i/HD) (llama2.c, in float). inverse
 * rotates back (the transpose), which is also the backward pass. */
void rt_rope_row(float *x, int n_heads, int HD, int pos, float theta, int inverse);

float rt_gelu(float x);      /* tanh form */
float rt_gelu_grad(float x); /* d gelu / dx */

/* Softmax of row[0..n) in place. */
void rt_softmax(float *row, int n);

/* Q, K and V of N rows of h (N, C) of one layer: k (N, KVH*HD) is computed
 * once; a projection shared with K copies it, before RoPE (a shared V is the
 * unrotated K). Llama: q and k are then rotated, row n at position
 * pos0 + n % T; q_pre and k_pre (may be NULL) receive them before rotation.
 * Used by prefill, decode and training alike; the products run as one job
 * on pool (NULL: the calling thread). */
void rt_qkv_rows(rt_pool *pool, const rt_config *c, const rt_layer *y, const float *h, int N, int T,
                 int pos0, float *q, float *k, float *v, float *q_pre, float *k_pre);

/* One head's attention over a block of T queries and the same T keys of one
 * sequence (prefill and training): scores (T, T) = Q Kᵀ / sqrt(HD) under the
 * 2D term, kept before the mask (hooks read them); att (T, T) = the row
 * softmax over the visible keys (causal: j <= i), zero elsewhere; out
 * (T, HD) = att V. q and out rows are ld_q floats apart, k and v rows ld_kv.
 * scores may be att: the scores are then replaced by the weights. The 2D
 * term (rt_pos2d.h) is layer y's: add (T, T) is its additive part from
 * rt_pos2d_table, or NULL to compute it here (the same values). */
void rt_attention_block(const rt_config *c, const rt_layer *y, const float *add, int T,
                        const float *q, const float *k, const float *v, int ld_q, int ld_kv,
                        float *scores, float *att, float *out);

#endif
