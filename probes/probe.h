/* probe.h — per layer and head evidence of what attention does: activation
 * metrics recorded through the runtime's hook during one forward pass, and
 * weight metrics of each head's projections. Metric conventions are those of
 * analyzer/spectral.h.
 *
 * Activations (over the probed tokens of one sequence):
 *   q, k (after RoPE), k_pre (before RoPE), v, map: rank figures
 *   cka_kv  linear CKA of K before RoPE and V (1 when V shares K's projection)
 *   cka_qk  linear CKA of Q and K, both before RoPE (1 when Q shares K's)
 *   sym_scores  symmetric share of the scaled pre-mask score matrix
 *   map     normalised row entropy, first-key mass, mean attention distance
 * Weights (rows of W_Q for the query head; of W_K, W_V for its KV head, read
 * as directions in the residual stream):
 *   wq, wk, wv rank figures; K–V and Q–K principal angles; sym_w, the
 *   symmetric share of W_Qᵀ W_K (1 when Q shares K's projection).
 */
#ifndef QKV_PROBE_H
#define QKV_PROBE_H

#include <stdbool.h>

#include "probes/spectral.h"
#include "probes/runtime/rt_model.h"

typedef struct {
    int layer, head, kv_head;
    spectral_ranks q, k, k_pre, v, map;
    double cka_kv, cka_qk, sym_scores;
    spectral_map_stats map_stats;
    spectral_ranks wq, wk, wv;
    spectral_overlap kv, qk;
    double *cos_kv; /* (HD) cosines of the K–V principal angles, descending */
    double *cos_qk; /* (HD) Q–K */
    double sym_w;
    double *sv_wq, *sv_wk, *sv_wv; /* (HD) singular values of the weight slices, descending */
    double kv_residual; /* ‖W_V − M W_K‖/‖W_V‖ for the best M: what a shared K=V misses */
    /* Baselines and definitions the paper's K–V figures may use (activation
     * probes only; NaN from probe_weights): */
    double cka_kv_rand;         /* CKA of K and X·Rᵀ for a seeded Gaussian R of W_V's shape:
                                   what two unrelated projections of the same input share */
    spectral_overlap kv_folded; /* K–V principal angles of W_K·diag(g), W_V·diag(g), g the
                                   attention norm's gain (the directions actually read) */
    spectral_overlap qk_folded; /* the same for Q–K */
    double kv_flat_cos;         /* cosine of the flattened W_K·diag(g) and W_V·diag(g) */
    float *att_map;             /* (map_n, map_n) attention over the first map_n tokens, or NULL */
} probe_head;

typedef struct {
    rt_config cfg;
    int n_tokens;
    int *tokens; /* (n_tokens) */
    int n_heads; /* rows in heads: selected layers x NH */
    probe_head *heads;
    int map_n;         /* tokens kept of each attention map (0: maps not kept) */
    bool weights_only; /* from probe_weights: no activation metrics */
} probe_result;

/* Most tokens of an attention map a probe keeps for plotting. */
#define PROBE_MAP_MAX 64

/* Run model m over tokens (one sequence of T) and measure every head of the
 * layers whose layer_mask entry is true (NULL: all layers). With keep_maps,
 * each head also keeps its attention map over the first min(T,
 * PROBE_MAP_MAX) tokens, for plots. Fills *out; the caller frees it with
 * probe_result_free. */
qkv_status probe_run(const rt_model *m, const int *tokens, int T, const bool *layer_mask,
                     bool keep_maps, probe_result *out, qkv_error *err);

void probe_result_free(probe_result *r);

/* Weight probes of a checkpoint, one layer at a time (memory: one layer's
 * Q/K/V projections): per query head, the rank figures of W_Q, W_K, W_V
 * slices, K–V and Q–K principal angles, symmetric share of W_Qᵀ W_K and the
 * K=V residual. Row spaces come from the slices' Gram matrices
 * (spectral_rowspace). Sets weights_only. */
#include "probes/runtime/checkpoint.h"
qkv_status probe_weights(ckpt *c, const bool *layer_mask, probe_result *out, qkv_error *err);

/* Sample n tokens from the model, starting with BOS (token 1 in llama2.c
 * vocabularies, clamped to the vocabulary), drawing each next token from the
 * softmax of the logits with a seeded generator. Causal models only. */
qkv_status probe_sample(const rt_model *m, int n, uint64_t seed, int *tokens, qkv_error *err);

/* probe_sample, calling progress(user, done, n) before the first token and
 * then every 32 tokens and at the end (progress may be NULL). */
qkv_status probe_sample_progress(const rt_model *m, int n, uint64_t seed, int *tokens,
                                 void (*progress)(void *user, int done, int total), void *user,
                                 qkv_error *err);

#endif
