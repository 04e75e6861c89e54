/* LM-study benchmark (`make bench`): corpus sampling and student training
 * speed of `qkvplan study --tasks lm` at its default shapes.
 *
 * Corpus: 256 sequences of BOS + 256 tokens sampled from stories260K on 2
 * threads (batched decoding in chunks of LM_CORPUS_CHUNK, nothing cached).
 * Training: the default students (GPT-2 style, d 64, 2 layers, 8 heads,
 * context 128, batch 8) for QKV and Q-K=V, 100 steps each, one run per
 * thread on 2 threads, evaluation included. Prints tokens per second and
 * the load average, since the machine may be shared. */
#define _DEFAULT_SOURCE /* getloadavg */
#include <stdio.h>
#include <stdlib.h>

#include "probes/runtime/llama2c.h"
#include "probes/train/lm_study.h"

int main(void)
{
    rt_model m;
    qkv_error err;
    if (llama2c_load(LM_DEFAULT_TEACHER, &m, &err) != QKV_OK) {
        fprintf(stderr, "bench_lm: %s\n", err.msg);
        return 1;
    }
    double load[1] = {0};
    if (getloadavg(load, 1) < 1)
        load[0] = -1;
    lm_corpus_spec spec = {LM_DEFAULT_CORPUS_SEED, LM_DEFAULT_CORPUS_LEN, 240, 16, 2};
    lm_corpus c;
    if (lm_corpus_sample(&m, &spec, &c, &err) != QKV_OK) {
        fprintf(stderr, "bench_lm: %s\n", err.msg);
        return 1;
    }
    printf("lm corpus: %d sequences x %d tokens from stories260K in %.2f s: %.0f tokens/s "
           "(2 threads; load average %.2f before)\n",
           spec.n_train + spec.n_val, spec.seq_len, c.seconds, c.tokens_per_s, load[0]);
    study_variant v[2];
    if (study_variant_parse("QKV", LM_DEFAULT_HEADS, &v[0], &err) != QKV_OK ||
        study_variant_parse("Q-K=V", LM_DEFAULT_HEADS, &v[1], &err) != QKV_OK)
        return 1;
    lm_settings s = lm_settings_default();
    s.seeds = 1;
    s.steps = 100;
    s.n_ablation = 0;
    s.threads = 2;
    lm_result r;
    if (getloadavg(load, 1) < 1)
        load[0] = -1;
    if (lm_study_run(&c, v, 2, &s, NULL, NULL, &r, &err) != QKV_OK) {
        fprintf(stderr, "bench_lm: %s\n", err.msg);
        return 1;
    }
    printf("lm training: 2 students (d %d, %d layers, %d heads, ctx %d, batch %d) x %d steps in "
           "%.2f s: %.0f training tokens/s (2 threads, evaluation included; load average %.2f "
           "before)\n",
           s.d_model, s.layers, s.heads, s.ctx, s.batch, s.steps, r.seconds, r.tokens_per_s,
           load[0]);
    lm_result_free(&r);
    lm_corpus_free(&c);
    rt_model_free(&m);
    return 0;
}
