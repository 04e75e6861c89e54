#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../analyzer/kvplan.h"
#include "../probes/checkpoint.h"
#include "../probes/llama2c.h"
#include "../probes/probe.h"
#include "../probes/rt_forward.h"
#include "tests.h"

#define STORIES "../shared/models/stories260K.bin"

START_TEST(half_precision)
{
    ck_assert_uint_eq(tf_f32_to_f16(1.0f), 0x3C00);
    ck_assert_uint_eq(tf_f32_to_f16(-2.0f), 0xC000);
    ck_assert_uint_eq(tf_f32_to_f16(65504.0f), 0x7BFF);
    ck_assert_uint_eq(tf_f32_to_f16(65520.0f), 0x7C00); /* rounds to infinity */
    ck_assert_uint_eq(tf_f32_to_f16(0x1p-24f), 0x0001); /* smallest subnormal */
    ck_assert_uint_eq(tf_f32_to_f16(1.0f + 0x1p-11f), 0x3C00); /* tie to even */
    ck_assert_uint_eq(tf_f32_to_f16(1.0f + 0x1p-10f + 0x1p-11f), 0x3C02);
    /* every finite half survives half -> float -> half */
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7C00) == 0x7C00)
            continue;
        ck_assert_uint_eq(tf_f32_to_f16(tf_f16_to_f32((uint16_t)h)), h);
    }
    ck_assert(tf_bf16_to_f32(0x3F80) == 1.0f);
}
END_TEST

/* Block formats, decoded by hand from ggml's layouts. */
START_TEST(dequantisation)
{
    unsigned char q8[34] = {0x00, 0x38}; /* d = 0.5 */
    for (int j = 0; j < 32; j++)
        q8[2 + j] = (unsigned char)(int8_t)(j - 16);
    float out[256];
    tf_to_f32(TF_Q8_0, q8, out, 32);
    for (int j = 0; j < 32; j++)
        ck_assert(out[j] == 0.5f * (float)(j - 16));
    unsigned char q4[18] = {0x00, 0x40}; /* d = 2 */
    for (int j = 0; j < 16; j++)
        q4[2 + j] = (unsigned char)(j | (15 - j) << 4);
    tf_to_f32(TF_Q4_0, q4, out, 32);
    for (int j = 0; j < 16; j++) {
        ck_assert(out[j] == 2.0f * (float)(j - 8));
        ck_assert(out[j + 16] == 2.0f * (float)(15 - j - 8));
    }
    /* Q4_K: d = 1, dmin = 0.5, every sub-block scale 1 and min 2, nibbles 1 (low) and 2 (high):
     * each 64 values are 32 x (1 - 1) then 32 x (2 - 1) */
    unsigned char k4[144] = {0x00, 0x3C, 0x00, 0x38};
    for (int j = 0; j < 4; j++) {
        k4[4 + j] = 1;     /* scales of sub-blocks 0-3 */
        k4[4 + j + 4] = 2; /* mins of sub-blocks 0-3 */
        k4[4 + j + 8] = 0x21; /* sub-blocks 4-7: scale 1 (low nibble), min 2 (high nibble) */
    }
    memset(k4 + 16, 0x21, 128);
    tf_to_f32(TF_Q4_K, k4, out, 256);
    for (int j = 0; j < 256; j++)
        ck_assert_msg(out[j] == ((j % 64) < 32 ? 0.0f : 1.0f), "Q4_K element %d is %g", j, out[j]);
    /* Q6_K: scales 1, d = 0.25, all 6-bit values 0 -> every element (0 - 32) * 0.25 = -8 */
    unsigned char k6[210] = {0};
    memset(k6 + 192, 1, 16);
    k6[208] = 0x00;
    k6[209] = 0x34; /* 0.25 */
    tf_to_f32(TF_Q6_K, k6, out, 256);
    for (int j = 0; j < 256; j++)
        ck_assert(out[j] == -8.0f);
    ck_assert_uint_eq(tf_row_bytes(TF_Q4_K, 512), 288);
    ck_assert_uint_eq(tf_row_bytes(TF_Q4_K, 100), 0);
}
END_TEST

static char tmpdir[64];

static void convert_stories(void)
{
    if (tmpdir[0])
        return;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/qkvplan-fmt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    rt_model m;
    ck_assert_int_eq(llama2c_load(STORIES, &m, NULL), QKV_OK);
    char p[128], q[128];
    snprintf(p, sizeof p, "%s/st", tmpdir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/st/model.safetensors", tmpdir);
    snprintf(q, sizeof q, "%s/st/config.json", tmpdir);
    FILE *a = fopen(p, "wb"), *b = fopen(q, "w");
    ck_assert_int_eq(ckpt_write_safetensors(a, b, &m, 0, NULL), QKV_OK);
    fclose(a);
    fclose(b);
    snprintf(p, sizeof p, "%s/s.gguf", tmpdir);
    a = fopen(p, "wb");
    ck_assert_int_eq(ckpt_write_gguf(a, &m, 0, NULL), QKV_OK);
    fclose(a);
    snprintf(p, sizeof p, "%s/h.gguf", tmpdir);
    a = fopen(p, "wb");
    ck_assert_int_eq(ckpt_write_gguf(a, &m, 1, NULL), QKV_OK);
    fclose(a);
    rt_model_free(&m);
}

static void logits_of(const char *path, float *out)
{
    ckpt c;
    rt_model m;
    qkv_error err;
    ck_assert_msg(ckpt_open(path, &c, &err) == QKV_OK, "%s", err.msg);
    ck_assert_msg(ckpt_load_model(&c, &m, &err) == QKV_OK, "%s", err.msg);
    const int tokens[6] = {1, 461, 461, 401, 401, 261};
    ck_assert_int_eq(rt_forward(&m, tokens, 1, 6, out, NULL, NULL), QKV_OK);
    rt_model_free(&m);
    ckpt_close(&c);
}

/* stories260K written as safetensors and GGUF loads back to identical
 * logits: F32 files bit-identical to the llama2.c path; an F16 file
 * bit-identical to the llama2.c weights rounded to half precision in memory
 * (so the only change is the rounding, which the file format adds). */
START_TEST(round_trips_give_identical_logits)
{
    convert_stories();
    float ref[6 * 512], got[6 * 512];
    logits_of(STORIES, ref);
    const char *files[] = {"st", "st/model.safetensors", "s.gguf"};
    for (size_t i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        logits_of(p, got);
        ck_assert_msg(memcmp(ref, got, sizeof ref) == 0, "%s: logits differ", files[i]);
    }
    char p[128];
    snprintf(p, sizeof p, "%s/h.gguf", tmpdir);
    logits_of(p, got);
    rt_model m;
    ck_assert_int_eq(llama2c_load(STORIES, &m, NULL), QKV_OK);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] = tf_f16_to_f32(tf_f32_to_f16(m.params[i]));
    const int tokens[6] = {1, 461, 461, 401, 401, 261};
    ck_assert_int_eq(rt_forward(&m, tokens, 1, 6, ref, NULL, NULL), QKV_OK);
    rt_model_free(&m);
    ck_assert_msg(memcmp(ref, got, sizeof ref) == 0, "F16 GGUF logits differ from f16-rounded weights");
}
END_TEST

static probe_result weights_of(const char *path)
{
    ckpt c;
    probe_result r;
    qkv_error err;
    ck_assert_msg(ckpt_open(path, &c, &err) == QKV_OK, "%s", err.msg);
    ck_assert_msg(probe_weights(&c, NULL, &r, &err) == QKV_OK, "%s", err.msg);
    ckpt_close(&c);
    return r;
}

static void same_weight_metrics(const probe_result *a, const probe_result *b, double tol)
{
    ck_assert_int_eq(a->n_heads, b->n_heads);
    for (int i = 0; i < a->n_heads; i++) {
        const probe_head *x = &a->heads[i], *y = &b->heads[i];
        ck_assert_double_eq_tol(x->kv.mean_cos2, y->kv.mean_cos2, tol);
        ck_assert_double_eq_tol(x->qk.mean_cos2, y->qk.mean_cos2, tol);
        ck_assert_double_eq_tol(x->sym_w, y->sym_w, tol);
        ck_assert_double_eq_tol(x->kv_residual, y->kv_residual, tol);
        ck_assert_double_eq_tol(x->wk.erank, y->wk.erank, tol);
        ck_assert_double_eq_tol(x->wq.erank, y->wq.erank, tol);
    }
}

/* Weight probes agree across all three formats (the safetensors rows are in
 * Hugging Face order and are re-ordered on reading) and with the SVD-based
 * metrics of the activation probe. */
START_TEST(weight_probes_agree_across_formats)
{
    convert_stories();
    probe_result a = weights_of(STORIES);
    char p[128];
    snprintf(p, sizeof p, "%s/st", tmpdir);
    probe_result b = weights_of(p);
    snprintf(p, sizeof p, "%s/s.gguf", tmpdir);
    probe_result c = weights_of(p);
    same_weight_metrics(&a, &b, 1e-12);
    same_weight_metrics(&a, &c, 1e-12);
    /* against the SVD path (probe_run): Gram-based bases lose ~cond² precision */
    rt_model m;
    ck_assert_int_eq(llama2c_load(STORIES, &m, NULL), QKV_OK);
    int tokens[8] = {1, 461, 461, 401, 401, 261, 430, 403};
    probe_result d;
    ck_assert_int_eq(probe_run(&m, tokens, 8, NULL, false, &d, NULL), QKV_OK);
    for (int i = 0; i < a.n_heads; i++) {
        ck_assert_double_eq_tol(a.heads[i].kv.mean_cos2, d.heads[i].kv.mean_cos2, 1e-9);
        ck_assert_double_eq_tol(a.heads[i].sym_w, d.heads[i].sym_w, 1e-12);
        ck_assert(a.heads[i].kv_residual > 0.5 && a.heads[i].kv_residual <= 1.0);
    }
    probe_result_free(&a);
    probe_result_free(&b);
    probe_result_free(&c);
    probe_result_free(&d);
    rt_model_free(&m);
}
END_TEST

/* A random orthogonal change of basis within each head (the same for a
 * query head and its KV head, so q·k is unchanged) changes no weight probe. */
START_TEST(weight_probes_invariant_to_rebasing)
{
    ckpt c;
    ck_assert_int_eq(ckpt_open(STORIES, &c, NULL), QKV_OK);
    probe_result before;
    ck_assert_int_eq(probe_weights(&c, NULL, &before, NULL), QKV_OK);
    const rt_config *g = &c.cfg;
    const int HD = g->head_dim, C = g->d_model, group = g->n_heads / g->n_kv_heads;
    rt_rng r = {77};
    float *tmp = malloc((size_t)HD * C * sizeof(float));
    for (int l = 0; l < g->n_layers; l++) {
        rt_layer *y = &c.rt.layers[l];
        for (int kv = 0; kv < g->n_kv_heads; kv++) {
            /* orthogonal R by Gram–Schmidt on a Gaussian matrix */
            double R[64][64];
            for (int i = 0; i < HD; i++) {
                for (int j = 0; j < HD; j++)
                    R[i][j] = rt_rng_normal(&r);
                for (int k = 0; k < i; k++) {
                    double dot = 0;
                    for (int j = 0; j < HD; j++)
                        dot += R[i][j] * R[k][j];
                    for (int j = 0; j < HD; j++)
                        R[i][j] -= dot * R[k][j];
                }
                double n = 0;
                for (int j = 0; j < HD; j++)
                    n += R[i][j] * R[i][j];
                for (int j = 0; j < HD; j++)
                    R[i][j] /= sqrt(n);
            }
            float *slices[8];
            int ns = 0;
            slices[ns++] = y->wk + (size_t)kv * HD * C;
            slices[ns++] = y->wv + (size_t)kv * HD * C;
            for (int q = 0; q < group; q++)
                slices[ns++] = y->wq + (size_t)(kv * group + q) * HD * C;
            for (int s = 0; s < ns; s++) {
                float *w = slices[s];
                for (int i = 0; i < HD; i++)
                    for (int t = 0; t < C; t++) {
                        double acc = 0;
                        for (int j = 0; j < HD; j++)
                            acc += R[i][j] * w[(size_t)j * C + t];
                        tmp[(size_t)i * C + t] = (float)acc;
                    }
                memcpy(w, tmp, (size_t)HD * C * sizeof(float));
            }
        }
    }
    free(tmp);
    probe_result after;
    ck_assert_int_eq(probe_weights(&c, NULL, &after, NULL), QKV_OK);
    /* float32 re-rounding of the rotated weights: agreement to 1e-5 */
    same_weight_metrics(&before, &after, 1e-5);
    probe_result_free(&before);
    probe_result_free(&after);
    ckpt_close(&c);
}
END_TEST

START_TEST(planner_reads_model_files)
{
    convert_stories();
    char p[128];
    model_shape ms;
    qkv_error err;
    snprintf(p, sizeof p, "%s/s.gguf", tmpdir);
    ck_assert_msg(ckpt_plan_shape(p, &ms, &err) == QKV_OK, "%s", err.msg);
    ck_assert_uint_eq(ms.n_layers, 5);
    ck_assert_uint_eq(ms.n_kv_heads, 4);
    ck_assert_uint_eq(ms.vocab, 512);
    ck_assert_uint_eq(ms.file_params, 260032); /* every tensor of stories260K, tied */
    ck_assert_uint_eq(ms.file_weight_bytes, 4 * 260032);
    snprintf(p, sizeof p, "%s/st", tmpdir);
    ck_assert_msg(ckpt_plan_shape(p, &ms, &err) == QKV_OK, "%s", err.msg);
    ck_assert_uint_eq(ms.file_weight_bytes, 4 * 260032);
    kvplan_params pp = kvplan_params_default();
    variant v = variant_as_built(&ms);
    kvplan_row row;
    ck_assert_int_eq(kvplan_row_eval(&ms, &v, &pp, false, &row, NULL), QKV_OK);
    ck_assert_uint_eq(row.weight_bytes, 4 * 260032);
    ck_assert_uint_eq(row.params, 260032);
}
END_TEST

START_TEST(cleanup)
{
    if (tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
    }
}
END_TEST

Suite *formats_suite(void)
{
    Suite *s = suite_create("formats");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, half_precision);
    tcase_add_test(tc, dequantisation);
    tcase_add_test(tc, round_trips_give_identical_logits);
    tcase_add_test(tc, weight_probes_agree_across_formats);
    tcase_add_test(tc, weight_probes_invariant_to_rebasing);
    tcase_add_test(tc, planner_reads_model_files);
    tcase_add_test(tc, cleanup);
    suite_add_tcase(s, tc);
    return s;
}
