/* The language-model study: the teacher-sampled corpus (its recorded floor
 * against an independent forward pass, determinism across threads, the
 * cache file) and tiny studies (shards, parameter matching, probes). */
#define _DEFAULT_SOURCE
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/runtime/llama2c.h"
#include "probes/runtime/rt_forward.h"
#include "probes/train/lm_study.h"
#include "tests/tests.h"

static void load_teacher(rt_model *m)
{
    qkv_error err;
    ck_assert_msg(llama2c_load(STORIES, m, &err) == QKV_OK, "%s", err.msg);
}

static void sample(const rt_model *m, int threads, lm_corpus *c)
{
    lm_corpus_spec s = {7, 24, 6, 3, threads};
    qkv_error err;
    ck_assert_msg(lm_corpus_sample(m, &s, c, &err) == QKV_OK, "%s", err.msg);
}

/* The floor recorded while sampling equals the teacher's cross-entropy on
 * the same tokens computed by rt_forward over whole sequences (the runtime's
 * prefill, checked against llama2.c's reference logits elsewhere). */
START_TEST(corpus_floor_matches_forward)
{
    rt_model m;
    load_teacher(&m);
    lm_corpus c;
    sample(&m, 1, &c);
    const int S = c.spec.seq_len, V = c.vocab;
    int tok[25];
    float *logits = malloc((size_t)S * V * sizeof(float));
    ck_assert_ptr_nonnull(logits);
    double sum = 0.0;
    qkv_error err;
    for (int q = 0; q < c.spec.n_val; q++) {
        const uint16_t *seq = lm_corpus_seq(&c, c.spec.n_train + q);
        ck_assert_int_eq(seq[0], LM_CORPUS_BOS);
        for (int i = 0; i <= S; i++) {
            ck_assert_int_lt(seq[i], V);
            tok[i] = seq[i];
        }
        ck_assert(rt_forward(&m, tok, 1, S, logits, NULL, &err) == QKV_OK);
        for (int i = 0; i < S; i++) {
            const float *l = logits + (size_t)i * V;
            double mx = l[0], z = 0.0;
            for (int v = 1; v < V; v++)
                mx = l[v] > mx ? l[v] : mx;
            for (int v = 0; v < V; v++)
                z += exp(l[v] - mx);
            sum += log(z) - (l[tok[i + 1]] - mx);
        }
    }
    const double ref = sum / ((double)c.spec.n_val * S);
    ck_assert_msg(fabs(ref - c.teacher_val_nll) < 1e-4, "floor %.6f, forward %.6f",
                  c.teacher_val_nll, ref);
    ck_assert(c.teacher_val_nll > 0.5 && c.teacher_val_nll < log(V));
    free(logits);
    lm_corpus_free(&c);
    rt_model_free(&m);
}
END_TEST

/* Same seed: the same tokens whatever the thread count; the cache returns
 * them from the file; a damaged file is refused and replaced. */
START_TEST(corpus_deterministic_and_cached)
{
    rt_model m;
    load_teacher(&m);
    lm_corpus a, b, d;
    sample(&m, 1, &a);
    sample(&m, 3, &b);
    const size_t n = (size_t)(a.spec.n_train + a.spec.n_val) * (a.spec.seq_len + 1);
    ck_assert(memcmp(a.tokens, b.tokens, n * sizeof(uint16_t)) == 0);
    ck_assert(a.teacher_val_nll == b.teacher_val_nll);
    lm_corpus_free(&b);
    char dir[512], name[160], path[800];
    test_mkdtemp(dir, sizeof dir, "lmcache");
    qkv_error err;
    ck_assert_msg(lm_corpus_get(&m, dir, &a.spec, &b, &err) == QKV_OK, "%s", err.msg);
    ck_assert(!b.from_cache);
    ck_assert_msg(lm_corpus_get(&m, dir, &a.spec, &d, &err) == QKV_OK, "%s", err.msg);
    ck_assert(d.from_cache);
    ck_assert(memcmp(a.tokens, d.tokens, n * sizeof(uint16_t)) == 0);
    ck_assert(d.teacher_val_nll == a.teacher_val_nll);
    lm_corpus_free(&d);
    lm_corpus_file_name(&a.spec, lm_corpus_teacher_hash(&m), name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 100, SEEK_SET);
    fputc(0x7f, f);
    fclose(f);
    ck_assert(lm_corpus_read(path, &a.spec, lm_corpus_teacher_hash(&m), &d, &err) ==
              QKV_ERR_INVALID);
    lm_corpus_spec other = a.spec;
    other.seed++;
    ck_assert(lm_corpus_read(path, &other, lm_corpus_teacher_hash(&m), &d, &err) ==
              QKV_ERR_INVALID);
    ck_assert_msg(lm_corpus_get(&m, dir, &a.spec, &d, &err) == QKV_OK, "%s", err.msg);
    ck_assert(!d.from_cache); /* regenerated */
    ck_assert(memcmp(a.tokens, d.tokens, n * sizeof(uint16_t)) == 0);
    unlink(path);
    rmdir(dir);
    lm_corpus_free(&a);
    lm_corpus_free(&b);
    lm_corpus_free(&d);
    rt_model_free(&m);
}
END_TEST

static lm_settings tiny(void)
{
    lm_settings s = lm_settings_default();
    s.d_model = 16;
    s.layers = 1;
    s.heads = 4;
    s.ctx = 8;
    s.ablation[0] = 4;
    s.ablation[1] = 8;
    s.n_ablation = 2;
    s.batch = 4;
    s.steps = 6;
    s.seeds = 2;
    s.threads = 2;
    s.optim.warmup = 2;
    return s;
}

static void run_tiny(const lm_corpus *c, study_variant *v, int nv, const lm_settings *s,
                     lm_result *r)
{
    qkv_error err;
    ck_assert_msg(lm_study_run(c, v, nv, s, NULL, NULL, r, &err) == QKV_OK, "%s", err.msg);
}

START_TEST(tiny_study_shards_and_probes)
{
    rt_model m;
    load_teacher(&m);
    lm_corpus c;
    sample(&m, 2, &c);
    study_variant v[3];
    qkv_error err;
    const char *names[] = {"QKV", "Q-K=V", "Q=K=V"};
    for (int i = 0; i < 3; i++)
        ck_assert(study_variant_parse(names[i], 4, &v[i], &err) == QKV_OK);
    lm_settings s = tiny();
    lm_result all, s0, s1;
    run_tiny(&c, v, 3, &s, &all);
    ck_assert_int_eq(all.n_cells, 3 + 2); /* the ablation adds QKV and Q-K=V at 4 */
    ck_assert_int_eq(all.n_runs, (3 + 2) * 2);
    for (int i = 0; i < all.n_cells; i++) {
        ck_assert(isfinite(all.cells[i].ppl_mean));
        ck_assert(all.cells[i].nll_mean > c.teacher_val_nll); /* 6 steps: far above the floor */
    }
    ck_assert(all.cells[0].has_delta && all.cells[0].delta_pct == 0.0);
    ck_assert(all.cells[1].has_paper && all.cells[1].paper_pct == 3.1);
    ck_assert(all.cells[1].kv_bytes_per_token * 2 == all.cells[0].kv_bytes_per_token);
    ck_assert(all.probes[1].cka_kv[0] > 0.999 && all.probes[1].cos2_kv[0] > 0.999); /* V = K */
    ck_assert(all.probes[0].cka_kv[0] < 0.999);
    ck_assert(fabs(all.probes[0].chance - 0.25) < 1e-12); /* HD 4 of d 16 */
    s.shard_n = 2;
    s.shard_i = 0;
    run_tiny(&c, v, 3, &s, &s0);
    s.shard_i = 1;
    run_tiny(&c, v, 3, &s, &s1);
    for (int j = 0; j < all.n_runs; j++) {
        const lm_run *p = j % 2 == 0 ? &s0.runs[j] : &s1.runs[j];
        const lm_run *q = j % 2 == 0 ? &s1.runs[j] : &s0.runs[j];
        ck_assert(p->done && !q->done);
        ck_assert_msg(p->val_nll == all.runs[j].val_nll, "run %d: shard %.9g, whole %.9g", j,
                      p->val_nll, all.runs[j].val_nll);
    }
    lm_result_free(&all);
    lm_result_free(&s0);
    lm_result_free(&s1);
    lm_corpus_free(&c);
    rt_model_free(&m);
}
END_TEST

START_TEST(param_match_widens_the_ffn)
{
    rt_model m;
    load_teacher(&m);
    lm_corpus c;
    sample(&m, 2, &c);
    study_variant v[2];
    qkv_error err;
    ck_assert(study_variant_parse("QKV", 4, &v[0], &err) == QKV_OK);
    ck_assert(study_variant_parse("Q-K=V+MQA", 4, &v[1], &err) == QKV_OK);
    lm_settings s = tiny();
    s.n_ablation = 0;
    s.seeds = 1;
    s.param_match = true;
    lm_result r;
    run_tiny(&c, v, 2, &s, &r);
    ck_assert_int_eq(r.cells[0].d_ff, 64);
    ck_assert_int_gt(r.cells[1].d_ff, 64);
    ck_assert(r.cells[1].params >= r.cells[0].params);
    ck_assert(r.cells[1].params < r.cells[0].params + 2 * 16 + 1); /* within one FFN unit */
    lm_result_free(&r);
    lm_corpus_free(&c);
    rt_model_free(&m);
}
END_TEST

Suite *lm_suite(void)
{
    Suite *s = suite_create("lm");
    TCase *tc = tcase_create("lm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, corpus_floor_matches_forward);
    tcase_add_test(tc, corpus_deterministic_and_cached);
    tcase_add_test(tc, tiny_study_shards_and_probes);
    tcase_add_test(tc, param_match_widens_the_ffn);
    suite_add_tcase(s, tc);
    return s;
}
