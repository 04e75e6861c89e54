/* Runtime benchmarks (`make bench`): the machine's SGEMM rate as the peer,
 * then prefill and decode of a mid-size model (d_model 512, 8 layers, 8 heads
 * x 64, FFN 2048, vocab 4096, 512 tokens) in tokens/s and achieved GFLOP/s,
 * and the probe pass over 256 tokens of stories260K. Printed, never asserted.
 *
 * FLOPs counted per token: 2 x (4 C² + 2 C FF) per layer for the projections
 * and FFN, 4 x (keys visible) x C per layer for causal attention (scores and
 * weighted values), and 2 C V for the logits. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "probes/runtime/llama2c.h"
#include "probes/probe.h"
#include "probes/runtime/rt_forward.h"
#include "probes/train/rt_train.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double sgemm_rate(int n)
{
    float *a = malloc((size_t)n * n * sizeof(float)), *b = malloc((size_t)n * n * sizeof(float)),
          *c = malloc((size_t)n * n * sizeof(float));
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 7) * 0.01f;
        b[i] = (float)(i % 5) * 0.01f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    int reps = 0;
    double t0 = now(), t;
    do {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        reps++;
        t = now() - t0;
    } while (t < 1.0);
    free(a);
    free(b);
    free(c);
    return 2.0 * n * (double)n * n * reps / t / 1e9;
}

int main(void)
{
    double peak = sgemm_rate(1024);
    printf("SGEMM 1024^3 (OpenBLAS, this machine): %.1f GFLOP/s\n", peak);

    rt_config c = rt_config_default(RT_GPT2);
    c.d_model = 512;
    c.n_layers = 8;
    c.n_heads = c.n_kv_heads = 8;
    c.head_dim = 64;
    c.d_ff = 2048;
    c.vocab = 4096;
    c.max_seq = 512;
    const int T = 512;
    rt_model m;
    qkv_error err;
    if (rt_model_init(&m, &c, &err) != QKV_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    rt_model_randomize(&m, 1);
    int *tokens = malloc(T * sizeof(int));
    float *logits = malloc((size_t)T * c.vocab * sizeof(float));
    for (int i = 0; i < T; i++)
        tokens[i] = (i * 131 + 7) % c.vocab;
    const double C = c.d_model, FF = c.d_ff, V = c.vocab, L = c.n_layers;
    double dense = 2.0 * (4 * C * C + 2 * C * FF) * L + 2 * C * V;
    double attn_prefill = 0.0;
    for (int i = 0; i < T; i++)
        attn_prefill += 4.0 * (i + 1) * C * L;
    double flops_prefill = dense * T + attn_prefill;

    rt_forward(&m, tokens, 1, T, logits, NULL, &err); /* warm-up */
    int reps = 0;
    double t0 = now(), t;
    do {
        if (rt_forward(&m, tokens, 1, T, logits, NULL, &err) != QKV_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        reps++;
        t = now() - t0;
    } while (t < 2.0);
    double per = t / reps;
    printf("prefill  d512 x 8 layers, %d tokens: %8.0f tokens/s, %6.1f GFLOP/s (%.0f%% of SGEMM)\n",
           T, T / per, flops_prefill / per / 1e9, 100.0 * flops_prefill / per / 1e9 / peak);

    rt_cache cache;
    if (rt_cache_init(&cache, &c, T, &err) != QKV_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    t0 = now();
    for (int i = 0; i < T; i++)
        if (rt_decode(&m, &cache, tokens[i], logits, NULL, &err) != QKV_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
    t = now() - t0;
    printf("decode   d512 x 8 layers, %d tokens: %8.0f tokens/s, %6.1f GFLOP/s (cache %zu bytes)\n",
           T, T / t, flops_prefill / t / 1e9, cache.bytes);
    rt_cache_free(&cache);
    rt_model_free(&m);

    /* Training: a matmul-heavy configuration, forward + backward + AdamW.
     * Model FLOPs utilisation = (6 x parameters x tokens/s + attention) /
     * the SGEMM rate, attention counted as 3 x 4 T C per token and layer. */
    rt_config tc = rt_config_default(RT_GPT2);
    tc.d_model = 512;
    tc.n_layers = 4;
    tc.n_heads = tc.n_kv_heads = 8;
    tc.head_dim = 64;
    tc.d_ff = 2048;
    tc.vocab = 256;
    tc.max_seq = 256;
    tc.causal = false;
    const int TB = 8, TT = 256;
    rt_model tm;
    rt_trainer tr;
    if (rt_model_init(&tm, &tc, &err) != QKV_OK ||
        rt_trainer_init(&tr, &tm, TB, TT, &err) != QKV_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    rt_model_randomize(&tm, 2);
    int *tin = malloc((size_t)TB * TT * sizeof(int)), *ttg = malloc((size_t)TB * TT * sizeof(int));
    for (int i = 0; i < TB * TT; i++) {
        tin[i] = (i * 37) % 256;
        ttg[i] = (i * 11) % 256;
    }
    rt_optim o = rt_optim_default();
    double loss;
    rt_train_grad(&tm, &tr, tin, ttg, &loss, NULL, &err); /* warm-up */
    rt_optim_step(&tm, &tr, &o);
    reps = 0;
    t0 = now();
    do {
        rt_train_grad(&tm, &tr, tin, ttg, &loss, NULL, &err);
        rt_optim_step(&tm, &tr, &o);
        reps++;
        t = now() - t0;
    } while (t < 3.0);
    const double tps = (double)reps * TB * TT / t;
    const double flops =
        6.0 * (double)tm.n_params * tps + 12.0 * TT * tc.d_model * tc.n_layers * tps;
    printf("training d512 x 4 layers, %d x %d tokens: %8.0f tokens/s, %6.1f GFLOP/s, model FLOPs "
           "utilisation %.0f%% of SGEMM\n",
           TB, TT, tps, flops / 1e9, 100.0 * flops / 1e9 / peak);
    free(tin);
    free(ttg);
    rt_trainer_free(&tr);
    rt_model_free(&tm);

    rt_model s;
    if (llama2c_load("examples/models/stories260K.bin", &s, &err) != QKV_OK) {
        printf("probe: skipped (%s)\n", err.msg);
    } else {
        int toks[256];
        probe_sample(&s, 256, 1, toks, &err);
        probe_result r;
        reps = 0;
        t0 = now();
        do {
            if (probe_run(&s, toks, 256, NULL, false, &r, &err) != QKV_OK) {
                fprintf(stderr, "bench: %s\n", err.msg);
                return 1;
            }
            probe_result_free(&r);
            reps++;
            t = now() - t0;
        } while (t < 1.0);
        printf("probe    stories260K, 256 tokens, 5 layers x 8 heads: %.1f ms per pass\n",
               1e3 * t / reps);
        rt_model_free(&s);
    }
    free(tokens);
    free(logits);
    return 0;
}
