/* rt_generate.h — text generation with the reference runtime: the prompt
 * in one prefill (logits at every position, as rt_forward computes them),
 * then one rt_decode per new token, each token drawn greedily (temperature
 * 0: the first largest logit, as llama2.c's argmax) or from
 * softmax(logits / temperature) with a seeded generator. Times prefill and
 * decode separately; nothing is allocated per token. */
#ifndef QKV_RT_GENERATE_H
#define QKV_RT_GENERATE_H

#include <stdint.h>

#include "probes/runtime/rt_model.h"

typedef struct {
    int n_new;          /* tokens to generate, >= 1 */
    double temperature; /* 0: greedy; else > 0 */
    uint64_t seed;      /* of the sampler */
    /* called after each generated token (i of n); may be NULL */
    void (*on_token)(void *user, int i, int n, int token);
    void *user;
} rt_gen_opts;

typedef struct {
    double prefill_s; /* seconds of the prompt's prefill, logits included */
    double decode_s;  /* seconds of the n_decode one-token decode steps, sampling included */
    int n_decode;     /* n_new − 1: the last new token needs no decoding */
} rt_gen_stats;

/* Generate o->n_new tokens after prompt (n_prompt >= 1) into out (n_new).
 * The cache holds n_prompt + n_new − 1 tokens. */
qkv_status rt_generate(const rt_model *m, const int *prompt, int n_prompt, const rt_gen_opts *o,
                       int *out, rt_gen_stats *st, qkv_error *err);

/* The next token from logits (V): greedy at temperature 0, else drawn
 * from softmax(logits / temperature) with rng. */
int rt_sample(const float *logits, int V, double temperature, rt_rng *rng);

#endif
