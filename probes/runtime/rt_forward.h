/* rt_forward.h — forward passes of the reference runtime: prefill over a
 * batch of sequences, token-by-token decode with a KV cache, and the hook
 * through which probes see attention.
 *
 * Attention of query head h reads KV head h / (NH / KVH). Scores are
 * q·k / sqrt(HD) (+ the 2D positional term), then the mask (causal: key j >
 * query i is excluded), then softmax over keys.
 */
#ifndef QKV_RT_FORWARD_H
#define QKV_RT_FORWARD_H

#include "probes/runtime/rt_model.h"

/* What a probe sees after each attention head: one event per layer, query
 * head and sequence. Row i of q is at q + i * ld_q; rows of k, k_pre, v at
 * + j * ld_kv. Pointers are valid only during the call. */
typedef struct {
    int layer, head, kv_head, seq;
    int n_queries;       /* T (prefill) or 1 (decode) */
    int n_keys;          /* positions attended over */
    int first_query_pos; /* absolute position of query row 0 */
    const float *scores; /* (n_queries, n_keys) scaled scores + 2D term, before the mask */
    const float *att;    /* (n_queries, n_keys) after mask and softmax */
    const float *q;      /* query rows after RoPE */
    const float *q_pre;  /* query rows before RoPE (== q without RoPE) */
    const float *k;      /* key rows of the KV head after RoPE */
    const float *k_pre;  /* key rows before RoPE; NULL in decode when the cache holds
                           * only rotated keys */
    const float *v;      /* value rows of the KV head */
    const float *x;      /* the normed input rows the projections read (n_queries, d_model) */
    int ld_q, ld_kv;
} rt_attn_event;

typedef struct {
    void (*on_attention)(void *user, const rt_attn_event *ev);
    void *user;
} rt_hooks;

/* Prefill: logits (B, T, V) for tokens (B, T); logits may be NULL when only
 * the hooks are wanted (the final norm and classifier are then skipped).
 * hooks may be NULL; with no hook nothing is recorded and no pre-RoPE copies
 * are made. Matrix products and attention heads run on m->pool (hooked
 * attention on the calling thread, one head at a time). Fails on a token
 * outside [0, V), T beyond the position table, a weight the file cannot
 * give (m->fetch), or memory. */
qkv_status rt_forward(const rt_model *m, const int *tokens, int B, int T, float *logits,
                      const rt_hooks *hooks, qkv_error *err);

/* A KV cache for one sequence that stores only what the variant needs:
 * K and V for QKV and Q=K-V; one tensor for Q-K=V and Q=K=V. Under RoPE a
 * shared K=V tensor is stored before rotation (values are not rotated), and
 * keys are rotated again at every decode step. */
typedef struct {
    int capacity;  /* tokens */
    int len;       /* tokens cached so far */
    int n_tensors; /* 2 or 1 */
    bool pre_rope; /* the cached keys are unrotated */
    float *k;      /* (L, capacity, KVH*HD) */
    float *v;      /* (L, capacity, KVH*HD), NULL for one-tensor variants */
    size_t bytes;  /* cache bytes: equals the planner's exact f32 figure (a large cache's
                      allocation is rounded up to whole 2 MiB pages) */
    float *work;   /* decode activations of one token (rt_forward.c's work table, scores
                       for NH x capacity keys): allocated here so that decoding allocates
                       nothing per token */
    size_t work_bytes;
} rt_cache;

qkv_status rt_cache_init(rt_cache *c, const rt_config *cfg, int capacity, qkv_error *err);
void rt_cache_free(rt_cache *c);

/* Prefill of one sequence into an empty cache: rt_forward over tokens (T),
 * logits (T, V) (may be NULL), and the keys and values of positions
 * 0..T−1 stored in the cache as rt_decode would have stored them (len = T),
 * so that decoding continues from position T. */
qkv_status rt_prefill(const rt_model *m, rt_cache *cache, const int *tokens, int T, float *logits,
                      qkv_error *err);

/* Decode one token at position cache->len, appending to the cache; logits (V).
 * Causal models only. Allocates nothing; products and heads run on m->pool. */
qkv_status rt_decode(const rt_model *m, rt_cache *cache, int token, float *logits,
                     const rt_hooks *hooks, qkv_error *err);

#endif
