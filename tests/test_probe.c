#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probes/runtime/llama2c.h"
#include "probes/probe.h"
#include "tests/tests.h"

static probe_result probe_random(rt_family fam, variant_share share, int kv, bool pos2d)
{
    rt_config c = rt_config_default(fam);
    c.share = share;
    c.n_kv_heads = kv;
    c.pos2d = pos2d ? RT_POS2D_RAMP : RT_POS2D_NONE;
    c.pos2d_scale = 64.0f; /* ±31 at the ends of 32 tokens: comparable to the scores */
    rt_model m;
    ck_assert_int_eq(rt_model_init(&m, &c, NULL), QKV_OK);
    rt_model_randomize(&m, 17);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] *= 10.0f;
    int tokens[32];
    for (int i = 0; i < 32; i++)
        tokens[i] = (i * 29 + 3) % 64;
    probe_result r;
    qkv_error err;
    ck_assert_msg(probe_run(&m, tokens, 32, NULL, false, &r, &err) == QKV_OK, "%s", err.msg);
    rt_model_free(&m);
    return r;
}

/* Identities the metrics must hold by construction (DESIGN.md). */
START_TEST(kv_shared_gives_overlap_and_cka_one)
{
    const rt_family fams[] = {RT_GPT2, RT_LLAMA};
    for (int f = 0; f < 2; f++) {
        probe_result r = probe_random(fams[f], SHARE_KV, 2, false);
        ck_assert_int_eq(r.n_heads, 2 * 4);
        for (int i = 0; i < r.n_heads; i++) {
            ck_assert_double_eq_tol(r.heads[i].kv.mean_cos2, 1.0, 1e-9);
            ck_assert_double_eq_tol(r.heads[i].cka_kv, 1.0, 1e-9);
        }
        probe_result_free(&r);
    }
}
END_TEST

START_TEST(qk_shared_gives_symmetric_share_one)
{
    const rt_family fams[] = {RT_GPT2, RT_LLAMA};
    for (int f = 0; f < 2; f++) {
        probe_result r = probe_random(fams[f], SHARE_QK, 4, false);
        for (int i = 0; i < r.n_heads; i++) {
            ck_assert_double_eq_tol(r.heads[i].sym_w, 1.0, 1e-9);
            ck_assert_double_eq_tol(r.heads[i].cka_qk, 1.0, 1e-9);
            ck_assert_double_eq_tol(r.heads[i].qk.mean_cos2, 1.0, 1e-9);
            /* scores before the mask are symmetric, RoPE included:
             * q_i·k_j = k_iᵀ R(j−i) k_j is unchanged by swapping i and j */
            ck_assert_double_eq_tol(r.heads[i].sym_scores, 1.0, 1e-6);
        }
        probe_result_free(&r);
        /* the antisymmetric 2D term breaks the symmetry of the scores */
        r = probe_random(fams[f], SHARE_QK, 4, true);
        for (int i = 0; i < r.n_heads; i++) {
            ck_assert_double_eq_tol(r.heads[i].sym_w, 1.0, 1e-9);
            ck_assert_double_lt(r.heads[i].sym_scores, 1.0 - 1e-4);
        }
        probe_result_free(&r);
    }
}
END_TEST

START_TEST(independent_projections_near_chance)
{
    probe_result r = probe_random(RT_LLAMA, SHARE_QKV, 4, false);
    double mean = 0.0;
    for (int i = 0; i < r.n_heads; i++) {
        ck_assert_double_eq_tol(r.heads[i].kv.chance, 16.0 / 64.0, 1e-15);
        ck_assert_double_lt(r.heads[i].kv.mean_cos2, 0.6);
        mean += r.heads[i].kv.mean_cos2;
    }
    mean /= r.n_heads;
    /* 8 heads of 16-dim subspaces in R^64: mean within 0.1 of chance (0.25);
     * one head's standard deviation is 0.06, the mean's 0.02. */
    ck_assert_double_lt(fabs(mean - 0.25), 0.1);
    probe_result_free(&r);
}
END_TEST

/* The K–V baselines: the random-W_V CKA, and W_K, W_V read through the
 * attention norm's gain. */
START_TEST(kv_baselines_and_gain_folding)
{
    rt_config c = rt_config_default(RT_LLAMA);
    rt_model m;
    ck_assert_int_eq(rt_model_init(&m, &c, NULL), QKV_OK);
    rt_model_randomize(&m, 23);
    const int C = c.d_model, HD = c.head_dim;
    int tokens[32];
    for (int i = 0; i < 32; i++)
        tokens[i] = (i * 29 + 3) % 64;
    probe_result r[3];
    qkv_error err;
    /* a constant gain changes no direction: folded = unfolded (2 scales every
     * float exactly, so the decompositions agree to rounding) */
    for (int l = 0; l < c.n_layers; l++)
        for (int k = 0; k < C; k++)
            m.layers[l].ln1_w[k] = 2.0f;
    ck_assert_msg(probe_run(&m, tokens, 32, NULL, false, &r[0], &err) == QKV_OK, "%s", err.msg);
    for (int i = 0; i < r[0].n_heads; i++) {
        ck_assert_double_eq_tol(r[0].heads[i].kv_folded.mean_cos2, r[0].heads[i].kv.mean_cos2,
                                1e-9);
        ck_assert_double_eq_tol(r[0].heads[i].qk_folded.mean_cos2, r[0].heads[i].qk.mean_cos2,
                                1e-9);
    }
    /* an uneven gain: the flattened cosine by hand, in double */
    for (int l = 0; l < c.n_layers; l++)
        for (int k = 0; k < C; k++)
            m.layers[l].ln1_w[k] = 0.1f + (float)(k % 7);
    ck_assert_msg(probe_run(&m, tokens, 32, NULL, false, &r[1], &err) == QKV_OK, "%s", err.msg);
    ck_assert_msg(probe_run(&m, tokens, 32, NULL, false, &r[2], &err) == QKV_OK, "%s", err.msg);
    double cka = 0.0, rnd = 0.0;
    for (int i = 0; i < r[1].n_heads; i++) {
        const probe_head *h = &r[1].heads[i];
        const rt_layer *y = &m.layers[h->layer];
        double ab = 0.0, aa = 0.0, bb = 0.0;
        for (int row = 0; row < HD; row++)
            for (int k = 0; k < C; k++) {
                const size_t at = ((size_t)h->kv_head * HD + row) * C + k;
                const double g = y->ln1_w[k], a = y->wk[at] * g, b = y->wv[at] * g;
                ab += a * b, aa += a * a, bb += b * b;
            }
        /* float products summed in double on both sides: 1e-6 covers the
         * rounding of the float a[i] = w * g */
        ck_assert_double_eq_tol(h->kv_flat_cos, ab / sqrt(aa * bb), 1e-6);
        ck_assert(h->cka_kv_rand >= 0.0 && h->cka_kv_rand <= 1.0 + 1e-12);
        ck_assert_double_eq(h->cka_kv_rand, r[2].heads[i].cka_kv_rand); /* seeded */
        cka += h->cka_kv;
        rnd += h->cka_kv_rand;
    }
    /* untrained: V is itself a random projection, so K–V CKA sits at its
     * random baseline (8 heads; the spread of one head's CKA is about 0.1) */
    ck_assert_double_lt(fabs(cka - rnd) / r[1].n_heads, 0.15);
    for (int k = 0; k < 3; k++)
        probe_result_free(&r[k]);
    rt_model_free(&m);
    /* V = K: every K–V figure is 1 */
    probe_result s = probe_random(RT_GPT2, SHARE_KV, 2, false);
    for (int i = 0; i < s.n_heads; i++) {
        ck_assert_double_eq_tol(s.heads[i].kv_flat_cos, 1.0, 1e-9);
        ck_assert_double_eq_tol(s.heads[i].kv_folded.mean_cos2, 1.0, 1e-9);
    }
    probe_result_free(&s);
    /* Q = K: the folded Q–K angles are all 0 */
    s = probe_random(RT_LLAMA, SHARE_QK, 4, false);
    for (int i = 0; i < s.n_heads; i++)
        ck_assert_double_eq_tol(s.heads[i].qk_folded.mean_cos2, 1.0, 1e-9);
    probe_result_free(&s);
}
END_TEST

START_TEST(stories_probe_is_finite_and_selects_layers)
{
    rt_model m;
    qkv_error err;
    ck_assert_int_eq(llama2c_load(STORIES, &m, &err), QKV_OK);
    int tokens[40];
    ck_assert_int_eq(probe_sample(&m, 40, 3, tokens, &err), QKV_OK);
    ck_assert_int_eq(tokens[0], 1);
    int again[40];
    ck_assert_int_eq(probe_sample(&m, 40, 3, again, &err), QKV_OK);
    ck_assert_int_eq(memcmp(tokens, again, sizeof tokens), 0); /* seeded: reproducible */
    bool mask[5] = {false, true, false, false, true};
    probe_result r;
    ck_assert_int_eq(probe_run(&m, tokens, 40, mask, true, &r, &err), QKV_OK);
    ck_assert_int_eq(r.n_heads, 2 * 8);
    ck_assert_int_eq(r.heads[0].layer, 1);
    ck_assert_int_eq(r.heads[8].layer, 4);
    for (int i = 0; i < r.n_heads; i++) {
        const probe_head *h = &r.heads[i];
        ck_assert_int_eq(h->kv_head, h->head / 2);
        ck_assert_double_eq_tol(h->kv.chance, 8.0 / 64.0, 1e-15);
        const double vals[] = {h->q.erank,      h->k.erank,          h->v.erank, h->map.erank,
                               h->kv.mean_cos2, h->cka_kv,           h->cka_qk,  h->sym_w,
                               h->sym_scores,   h->map_stats.entropy};
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++)
            ck_assert(isfinite(vals[j]) && vals[j] >= 0.0);
        ck_assert_double_le(h->q.erank, 8.0 + 1e-9);
        ck_assert_double_le(h->kv.mean_cos2, 1.0 + 1e-9);
        ck_assert_double_le(h->map_stats.entropy, 1.0 + 1e-9);
    }
    /* kept attention maps: causal rows that sum to one over the first 40 tokens */
    ck_assert_int_eq(r.map_n, 40);
    for (int i = 0; i < r.n_heads; i++) {
        const float *a = r.heads[i].att_map;
        ck_assert_ptr_nonnull(a);
        for (int q = 0; q < 40; q++) {
            double sum = 0.0;
            for (int k = 0; k < 40; k++) {
                sum += a[q * 40 + k];
                if (k > q)
                    ck_assert(a[q * 40 + k] == 0.0f);
            }
            ck_assert_double_eq_tol(sum, 1.0, 1e-5);
        }
        /* weight spectra are kept, descending, and agree with the rank figures */
        ck_assert_double_eq(r.heads[i].sv_wk[0], r.heads[i].wk.sigma_max);
        for (int j = 1; j < 8; j++)
            ck_assert_double_le(r.heads[i].sv_wk[j], r.heads[i].sv_wk[j - 1]);
    }
    /* heads of one KV group share their K/V weight metrics */
    ck_assert_double_eq(r.heads[0].kv.mean_cos2, r.heads[1].kv.mean_cos2);
    probe_result_free(&r);
    ck_assert_int_eq(probe_run(&m, tokens, 1, NULL, false, &r, &err), QKV_ERR_RANGE);
    rt_model_free(&m);
}
END_TEST

Suite *probe_suite(void)
{
    Suite *s = suite_create("probe");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kv_shared_gives_overlap_and_cka_one);
    tcase_add_test(tc, qk_shared_gives_symmetric_share_one);
    tcase_add_test(tc, independent_projections_near_chance);
    tcase_add_test(tc, kv_baselines_and_gain_folding);
    tcase_add_test(tc, stories_probe_is_finite_and_selects_layers);
    suite_add_tcase(s, tc);
    return s;
}
