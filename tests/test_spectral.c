#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probes/spectral.h"
#include "probes/runtime/rt_model.h"
#include "tests/tests.h"

#define PI 3.14159265358979323846

static spectral_ranks ranks(const float *A, int m, int n)
{
    spectral_ranks r;
    qkv_error err;
    ck_assert_msg(spectral_ranks_of(A, m, n, n, &r, &err) == QKV_OK, "%s", err.msg);
    return r;
}

START_TEST(ranks_by_hand)
{
    float I[25] = {0};
    for (int i = 0; i < 5; i++)
        I[i * 5 + i] = 1.0f;
    spectral_ranks r = ranks(I, 5, 5);
    ck_assert_double_eq_tol(r.erank, 5.0, 1e-12);
    ck_assert_double_eq_tol(r.stable_rank, 5.0, 1e-12);
    /* 90% of five equal energies needs 5 (4 hold 80%); 99% needs 5. */
    ck_assert_int_eq(r.k90, 5);
    ck_assert_int_eq(r.k99, 5);
    /* rank 1: outer product */
    float R[12];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            R[i * 4 + j] = (float)((i + 1) * (j + 2));
    r = ranks(R, 3, 4);
    ck_assert_double_eq_tol(r.erank, 1.0, 1e-6);
    ck_assert_double_eq_tol(r.stable_rank, 1.0, 1e-12);
    ck_assert_int_eq(r.k90, 1);
    /* diag(1, 1, 2): p = (1/4, 1/4, 1/2), erank = exp(1.5 ln 2) = 2√2;
     * stable rank (1+1+4)/4 = 1.5; energies 4,1,1 of 6: k90 = k99 = 3. */
    float D[9] = {1, 0, 0, 0, 1, 0, 0, 0, 2};
    r = ranks(D, 3, 3);
    ck_assert_double_eq_tol(r.erank, 2.0 * sqrt(2.0), 1e-12);
    ck_assert_double_eq_tol(r.stable_rank, 1.5, 1e-12);
    ck_assert_int_eq(r.k90, 3);
    ck_assert_int_eq(r.k99, 3);
    /* diag(10, 1, 1): energies 100, 1, 1 of 102: 98.0% -> k90 = 1, k99 = 2. */
    float E[9] = {10, 0, 0, 0, 1, 0, 0, 0, 1};
    r = ranks(E, 3, 3);
    ck_assert_int_eq(r.k90, 1);
    ck_assert_int_eq(r.k99, 2);
    /* zero matrix: erank 0 */
    float Z[4] = {0};
    r = ranks(Z, 2, 2);
    ck_assert_double_eq(r.erank, 0.0);
    /* non-finite input is an error */
    float N[4] = {1, 0, 0, NAN};
    spectral_ranks rn;
    ck_assert_int_eq(spectral_ranks_of(N, 2, 2, 2, &rn, NULL), QKV_ERR_INVALID);
}
END_TEST

START_TEST(principal_angles_by_hand)
{
    /* span(e1, e2) and span(e1, (e2+e3)/√2) in R^3: cosines 1 and 1/√2. */
    const float s = (float)(1.0 / sqrt(2.0));
    float A[6] = {1, 0, 0, 0, 1, 0};
    float B[6] = {1, 0, 0, 0, s, s};
    double cos[2];
    spectral_overlap ov;
    ck_assert_int_eq(spectral_overlap_rows(A, 2, 3, B, 2, 3, 3, cos, &ov, NULL), QKV_OK);
    ck_assert_double_eq_tol(cos[0], 1.0, 1e-7);
    ck_assert_double_eq_tol(cos[1], 1.0 / sqrt(2.0), 1e-7);
    ck_assert_double_eq_tol(ov.mean_cos2, 0.75, 1e-7);
    ck_assert_double_eq_tol(ov.grassmann, PI / 4, 1e-6);
    ck_assert_double_eq_tol(ov.chance, 2.0 / 3.0, 1e-15);
    /* the same subspace under a different basis: overlap 1 */
    float C[6] = {2, 3, 0, -1, 5, 0};
    ck_assert_int_eq(spectral_overlap_rows(A, 2, 3, C, 2, 3, 3, cos, &ov, NULL), QKV_OK);
    ck_assert_double_eq_tol(ov.mean_cos2, 1.0, 1e-12);
    ck_assert_double_eq_tol(ov.grassmann, 0.0, 1e-6);
    /* orthogonal subspaces: overlap 0, Grassmann distance √2 · π/2 */
    float O[6] = {0, 0, 1, 0, 0, 2};
    ck_assert_int_eq(spectral_overlap_rows(A, 2, 3, O, 2, 3, 3, cos, &ov, NULL), QKV_OK);
    ck_assert_double_eq_tol(ov.mean_cos2, 0.0, 1e-12);
    ck_assert_double_eq_tol(ov.grassmann, sqrt(2.0) * PI / 2, 1e-6);
}
END_TEST

/* Independent random k-dimensional subspaces of R^d: E[mean cos²] = k/d and
 * Var[Σ cos²] = 2k²(d−k)² / (d²(d−1)(d+2)) (the distribution of tr(P_A P_B)
 * for uniformly random projections; for k = 1 it is Beta(1/2, (d−1)/2)).
 * Over 200 trials the sample mean must lie within three standard errors of
 * k/d, and the sample spread within 25% of the predicted one. */
START_TEST(random_subspaces_chance_level)
{
    const int d = 64, k = 8, trials = 200;
    rt_rng r = {2026};
    float *A = malloc((size_t)k * d * sizeof(float)), *B = malloc((size_t)k * d * sizeof(float));
    double sum = 0.0, sum2 = 0.0;
    for (int t = 0; t < trials; t++) {
        for (int i = 0; i < k * d; i++) {
            A[i] = (float)rt_rng_normal(&r);
            B[i] = (float)rt_rng_normal(&r);
        }
        spectral_overlap ov;
        ck_assert_int_eq(spectral_overlap_rows(A, k, d, B, k, d, d, NULL, &ov, NULL), QKV_OK);
        ck_assert_double_eq_tol(ov.chance, (double)k / d, 1e-15);
        sum += ov.mean_cos2;
        sum2 += ov.mean_cos2 * ov.mean_cos2;
    }
    double mean = sum / trials, var = sum2 / trials - mean * mean;
    double pred_sd =
        sqrt(2.0 * k * k * (double)(d - k) * (d - k) / ((double)d * d * (d - 1) * (d + 2))) / k;
    ck_assert_msg(fabs(mean - (double)k / d) < 3.0 * pred_sd / sqrt((double)trials),
                  "mean cos2 %g, chance %g, 3 standard errors %g", mean, (double)k / d,
                  3.0 * pred_sd / sqrt((double)trials));
    ck_assert_msg(fabs(sqrt(var) / pred_sd - 1.0) < 0.25, "spread %g, predicted %g", sqrt(var),
                  pred_sd);
    free(A);
    free(B);
}
END_TEST

START_TEST(cka_by_hand)
{
    /* Y = 2X + 3: CKA 1. */
    float X[8] = {1, 2, 3, 5, -1, 0, 2, 7}, Y[8];
    for (int i = 0; i < 8; i++)
        Y[i] = 2 * X[i] + 3;
    double cka;
    ck_assert_int_eq(spectral_cka(X, 4, 2, 2, Y, 2, 2, &cka, NULL), QKV_OK);
    ck_assert_double_eq_tol(cka, 1.0, 1e-12);
    /* centred, uncorrelated columns: CKA 0 */
    float P[4] = {1, -1, 1, -1}, Q[4] = {1, 1, -1, -1};
    ck_assert_int_eq(spectral_cka(P, 4, 1, 1, Q, 1, 1, &cka, NULL), QKV_OK);
    ck_assert_double_eq_tol(cka, 0.0, 1e-15);
    /* one dimension each: CKA is the squared correlation. x = (1,2,3,4),
     * y = (1,3,2,4): r = 0.8, so CKA = 0.64. */
    float x[4] = {1, 2, 3, 4}, y[4] = {1, 3, 2, 4};
    ck_assert_int_eq(spectral_cka(x, 4, 1, 1, y, 1, 1, &cka, NULL), QKV_OK);
    ck_assert_double_eq_tol(cka, 0.64, 1e-12);
}
END_TEST

START_TEST(symmetric_share_by_hand)
{
    float M[4] = {0, 1, 0, 0}; /* S = [[0, .5], [.5, 0]]: 0.5 / 1 */
    ck_assert_double_eq_tol(spectral_sym_share(M, 2, 2), 0.5, 1e-15);
    float A[4] = {0, 1, -1, 0};
    ck_assert_double_eq_tol(spectral_sym_share(A, 2, 2), 0.0, 1e-15);
    float S[4] = {1, 2, 2, 3};
    ck_assert_double_eq_tol(spectral_sym_share(S, 2, 2), 1.0, 1e-15);
    /* The HD x HD shortcut for W_Qᵀ W_K equals the share of the explicit
     * C x C matrix, on random 4 x 12 slices. */
    rt_rng r = {99};
    float Wq[48], Wk[48], Mx[144];
    for (int i = 0; i < 48; i++) {
        Wq[i] = (float)rt_rng_normal(&r);
        Wk[i] = (float)rt_rng_normal(&r);
    }
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < 12; j++) {
            double s = 0.0;
            for (int h = 0; h < 4; h++)
                s += (double)Wq[h * 12 + i] * Wk[h * 12 + j];
            Mx[i * 12 + j] = (float)s;
        }
    double share;
    ck_assert_int_eq(spectral_sym_share_bilinear(Wq, Wk, 4, 12, 12, &share, NULL), QKV_OK);
    ck_assert_double_eq_tol(share, spectral_sym_share(Mx, 12, 12), 1e-6);
    /* Q = K: exactly symmetric */
    ck_assert_int_eq(spectral_sym_share_bilinear(Wk, Wk, 4, 12, 12, &share, NULL), QKV_OK);
    ck_assert_double_eq_tol(share, 1.0, 1e-12);
}
END_TEST

START_TEST(map_statistics_by_hand)
{
    /* Uniform causal map over T = 4: entropy 1 on every row with > 1 key,
     * first-key mass mean(1, 1/2, 1/3, 1/4), distance mean(0, .5, 1, 1.5). */
    float A[16] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j <= i; j++)
            A[i * 4 + j] = 1.0f / (float)(i + 1);
    spectral_map_stats st;
    spectral_map_stats_of(A, 4, 4, 1, &st);
    ck_assert_double_eq_tol(st.entropy, 1.0, 1e-6);
    ck_assert_double_eq_tol(st.first_mass, (1.0 + 0.5 + 1.0 / 3 + 0.25) / 4, 1e-6);
    ck_assert_double_eq_tol(st.mean_dist, (0 + 0.5 + 1.0 + 1.5) / 4, 1e-6);
    /* Attending only to the first token: entropy 0, first mass 1, distance mean(i). */
    float F[16] = {0};
    for (int i = 0; i < 4; i++)
        F[i * 4] = 1.0f;
    spectral_map_stats_of(F, 4, 4, 1, &st);
    ck_assert_double_eq_tol(st.entropy, 0.0, 1e-12);
    ck_assert_double_eq_tol(st.first_mass, 1.0, 1e-12);
    ck_assert_double_eq_tol(st.mean_dist, 1.5, 1e-12);
}
END_TEST

Suite *spectral_suite(void)
{
    Suite *s = suite_create("spectral");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ranks_by_hand);
    tcase_add_test(tc, principal_angles_by_hand);
    tcase_add_test(tc, random_subspaces_chance_level);
    tcase_add_test(tc, cka_by_hand);
    tcase_add_test(tc, symmetric_share_by_hand);
    tcase_add_test(tc, map_statistics_by_hand);
    suite_add_tcase(s, tc);
    return s;
}
