#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/kvplan.h"
#include "analyzer/formats/modelfile.h"
#include "probes/runtime/checkpoint.h"
#include "probes/runtime/llama2c.h"
#include "probes/probe.h"
#include "probes/runtime/rt_forward.h"
#include "analyzer/formats/safetensors.h"
#include "tests/tests.h"

START_TEST(half_precision)
{
    ck_assert_uint_eq(tf_f32_to_f16(1.0f), 0x3C00);
    ck_assert_uint_eq(tf_f32_to_f16(-2.0f), 0xC000);
    ck_assert_uint_eq(tf_f32_to_f16(65504.0f), 0x7BFF);
    ck_assert_uint_eq(tf_f32_to_f16(65520.0f), 0x7C00);        /* rounds to infinity */
    ck_assert_uint_eq(tf_f32_to_f16(0x1p-24f), 0x0001);        /* smallest subnormal */
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
        k4[4 + j] = 1;        /* scales of sub-blocks 0-3 */
        k4[4 + j + 4] = 2;    /* mins of sub-blocks 0-3 */
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

/* stories260K converted to safetensors (st/), GGUF F32 (s.gguf) and F16
 * (h.gguf) once for the whole test case, by an unchecked fixture in the
 * runner's process; the teardown removes the folder. */
static char tmpdir[512];

static void convert_stories(void)
{
    test_mkdtemp(tmpdir, sizeof tmpdir, "fmt");
    rt_model m;
    ck_assert_int_eq(llama2c_load(STORIES, &m, NULL), QKV_OK);
    char p[600], q[600];
    snprintf(p, sizeof p, "%s/st", tmpdir);
    ck_assert_int_eq(mkdir(p, 0777), 0);
    snprintf(p, sizeof p, "%s/st/model.safetensors", tmpdir);
    snprintf(q, sizeof q, "%s/st/config.json", tmpdir);
    FILE *a = fopen(p, "wb"), *b = fopen(q, "w");
    ck_assert_int_eq(ckpt_write_safetensors(a, b, &m, 0, NULL), QKV_OK);
    ck_assert_int_eq(fclose(a), 0);
    ck_assert_int_eq(fclose(b), 0);
    snprintf(p, sizeof p, "%s/s.gguf", tmpdir);
    a = fopen(p, "wb");
    ck_assert_int_eq(ckpt_write_gguf(a, &m, 0, NULL), QKV_OK);
    ck_assert_int_eq(fclose(a), 0);
    snprintf(p, sizeof p, "%s/h.gguf", tmpdir);
    a = fopen(p, "wb");
    ck_assert_int_eq(ckpt_write_gguf(a, &m, 1, NULL), QKV_OK);
    ck_assert_int_eq(fclose(a), 0);
    rt_model_free(&m);
}

static void remove_stories(void)
{
    if (tmpdir[0])
        test_rm_tree(tmpdir);
    tmpdir[0] = '\0';
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
    float ref[6 * 512], got[6 * 512];
    logits_of(STORIES, ref);
    const char *files[] = {"st", "st/model.safetensors", "s.gguf"};
    for (size_t i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        logits_of(p, got);
        ck_assert_msg(memcmp(ref, got, sizeof ref) == 0, "%s: logits differ", files[i]);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/h.gguf", tmpdir);
    logits_of(p, got);
    rt_model m, keep;
    ck_assert_int_eq(llama2c_load(STORIES, &m, NULL), QKV_OK);
    ck_assert_int_eq(llama2c_load(STORIES, &keep, NULL), QKV_OK);
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] = tf_f16_to_f32(tf_f32_to_f16(m.params[i]));
    /* norm weights (1-D) stay F32 in an F16 GGUF, as llama.cpp needs */
    const size_t C = (size_t)m.cfg.d_model;
    memcpy(m.lnf_w, keep.lnf_w, C * sizeof(float));
    for (int l = 0; l < m.cfg.n_layers; l++) {
        memcpy(m.layers[l].ln1_w, keep.layers[l].ln1_w, C * sizeof(float));
        memcpy(m.layers[l].ln2_w, keep.layers[l].ln2_w, C * sizeof(float));
    }
    rt_model_free(&keep);
    const int tokens[6] = {1, 461, 461, 401, 401, 261};
    ck_assert_int_eq(rt_forward(&m, tokens, 1, 6, ref, NULL, NULL), QKV_OK);
    rt_model_free(&m);
    ck_assert_msg(memcmp(ref, got, sizeof ref) == 0,
                  "F16 GGUF logits differ from f16-rounded weights");
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
    probe_result a = weights_of(STORIES);
    char p[600];
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

/* The safetensors file holds Q and K rows in Hugging Face's rotate-half order:
 * row i + k·HD/2 of each head is row 2i + k of llama2.c's interleaved order
 * (the permutation in Hugging Face's convert_llama_weights_to_hf.py). */
START_TEST(safetensors_rows_in_rotate_half_order)
{
    rt_model m;
    ck_assert_int_eq(llama2c_load(STORIES, &m, NULL), QKV_OK);
    const int HD = m.cfg.head_dim, C = m.cfg.d_model;
    char p[600];
    snprintf(p, sizeof p, "%s/st/model.safetensors", tmpdir);
    st_file f;
    ck_assert_int_eq(st_open(p, &f, NULL), QKV_OK);
    for (int l = 0; l < m.cfg.n_layers; l++)
        for (int w = 0; w < 2; w++) {
            char name[96];
            snprintf(name, sizeof name, "model.layers.%d.self_attn.%s_proj.weight", l,
                     w ? "k" : "q");
            const st_tensor *t = st_find(&f, name);
            ck_assert_ptr_nonnull(t);
            const int heads = w ? m.cfg.n_kv_heads : m.cfg.n_heads;
            const float *ref = w ? m.layers[l].wk : m.layers[l].wq;
            float *rows = malloc((size_t)heads * HD * C * sizeof(float));
            ck_assert_ptr_nonnull(rows);
            ck_assert_int_eq(st_read_rows(&f, t, 0, (uint64_t)heads * HD, rows, NULL), QKV_OK);
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < HD / 2; i++)
                    for (int k = 0; k < 2; k++)
                        ck_assert_msg(memcmp(rows + ((size_t)h * HD + i + k * HD / 2) * C,
                                             ref + ((size_t)h * HD + 2 * i + k) * C,
                                             (size_t)C * sizeof(float)) == 0,
                                      "%s head %d row %d", name, h, i + k * HD / 2);
            free(rows);
        }
    st_close(&f);
    rt_model_free(&m);
}
END_TEST

START_TEST(planner_reads_model_files)
{
    char p[600];
    model_shape ms;
    qkv_error err;
    snprintf(p, sizeof p, "%s/s.gguf", tmpdir);
    ck_assert_msg(modelfile_shape(p, &ms, &err) == QKV_OK, "%s", err.msg);
    ck_assert_uint_eq(ms.n_layers, 5);
    ck_assert_uint_eq(ms.n_kv_heads, 4);
    ck_assert_uint_eq(ms.vocab, 512);
    ck_assert_uint_eq(ms.file_params, 260032); /* every tensor of stories260K, tied */
    ck_assert_uint_eq(ms.file_weight_bytes, 4 * 260032);
    snprintf(p, sizeof p, "%s/st", tmpdir);
    ck_assert_msg(modelfile_shape(p, &ms, &err) == QKV_OK, "%s", err.msg);
    ck_assert_uint_eq(ms.file_weight_bytes, 4 * 260032);
    kvplan_params pp = kvplan_params_default();
    variant v = variant_as_built(&ms);
    kvplan_row row;
    ck_assert_int_eq(kvplan_row_eval(&ms, &v, &pp, false, &row, NULL), QKV_OK);
    ck_assert_uint_eq(row.weight_bytes, 4 * 260032);
    ck_assert_uint_eq(row.params, 260032);
}
END_TEST

/* A GPT-2-style runtime model written the way Hugging Face stores GPT-2
 * (fused c_attn, in x out, with the attn.bias mask buffer beside it) and
 * GPT-NeoX (fused query_key_value, out x in, rows [q_h; k_h; v_h] per head)
 * gives the same weight probes as the model itself. */
static void write_fused(const rt_model *m, bool neox, const char *dir)
{
    const rt_config *g = &m->cfg;
    const int C = g->d_model, HD = g->head_dim, NH = g->n_heads, L = g->n_layers;
    st_out_tensor ts[16];
    float *bufs[8];
    char names[16][80];
    size_t n = 0;
    for (int l = 0; l < L; l++) {
        float *f = malloc((size_t)3 * C * C * sizeof(float));
        bufs[l] = f;
        const float *parts[3] = {m->layers[l].wq, m->layers[l].wk, m->layers[l].wv};
        for (int o = 0; o < 3 * C; o++)
            for (int i = 0; i < C; i++) {
                if (neox) { /* row o: head o / 3HD, part (o % 3HD) / HD, row o % HD */
                    const int h = o / (3 * HD), part = (o % (3 * HD)) / HD, r = o % HD;
                    f[(size_t)o * C + i] = parts[part][((size_t)h * HD + r) * C + i];
                } else { /* stored in x out: f[i][o] */
                    f[(size_t)i * 3 * C + o] = parts[o / C][(size_t)(o % C) * C + i];
                }
            }
        snprintf(names[n], sizeof names[n],
                 neox ? "gpt_neox.layers.%d.attention.query_key_value.weight"
                      : "h.%d.attn.c_attn.weight",
                 l);
        ts[n] = (st_out_tensor){
            names[n], f, 2, {neox ? 3u * C : (unsigned)C, neox ? (unsigned)C : 3u * C}};
        n++;
        if (!neox) { /* the mask buffer that is not a weight */
            static float mask[64];
            snprintf(names[n], sizeof names[n], "h.%d.attn.bias", l);
            ts[n] = (st_out_tensor){names[n], mask, 2, {8, 8}};
            n++;
        }
    }
    (void)NH;
    char p[600];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    FILE *f = fopen(p, "wb");
    ck_assert_int_eq(st_write(f, ts, n, 0, NULL), QKV_OK);
    fclose(f);
    snprintf(p, sizeof p, "%s/config.json", dir);
    f = fopen(p, "w");
    if (neox)
        fprintf(f,
                "{\"model_type\":\"gpt_neox\",\"num_hidden_layers\":%d,\"hidden_size\":%d,"
                "\"num_attention_heads\":%d,\"intermediate_size\":%d,\"vocab_size\":%d}\n",
                L, C, NH, g->d_ff, g->vocab);
    else
        fprintf(f,
                "{\"model_type\":\"gpt2\",\"n_layer\":%d,\"n_embd\":%d,\"n_head\":%d,"
                "\"vocab_size\":%d,\"n_positions\":%d}\n",
                L, C, NH, g->vocab, g->max_seq);
    fclose(f);
    for (int l = 0; l < L; l++)
        free(bufs[l]);
}

START_TEST(gpt2_and_neox_name_maps)
{
    rt_config cfg = rt_config_default(RT_GPT2);
    cfg.n_layers = 2;
    cfg.d_model = 32;
    cfg.n_heads = cfg.n_kv_heads = 4;
    cfg.head_dim = 8;
    ckpt ref;
    memset(&ref, 0, sizeof ref);
    ck_assert_int_eq(rt_model_init(&ref.rt, &cfg, NULL), QKV_OK);
    rt_model_randomize(&ref.rt, 31);
    ref.has_rt = true;
    ref.kind = CKPT_QKVM;
    ref.cfg = cfg;
    probe_result want;
    ck_assert_int_eq(probe_weights(&ref, NULL, &want, NULL), QKV_OK);
    for (int neox = 0; neox < 2; neox++) {
        char dir[512];
        test_mkdtemp(dir, sizeof dir, "fused");
        write_fused(&ref.rt, neox, dir);
        ckpt c;
        qkv_error err;
        ck_assert_msg(ckpt_open(dir, &c, &err) == QKV_OK, "%s", err.msg);
        ck_assert_int_eq(c.layout, neox ? CKPT_LAYOUT_NEOX : CKPT_LAYOUT_GPT2);
        probe_result got;
        ck_assert_msg(probe_weights(&c, NULL, &got, &err) == QKV_OK, "%s", err.msg);
        same_weight_metrics(&want, &got, 1e-12);
        /* the runtime does not run them; weight probes are what they support */
        rt_model m;
        ck_assert_int_eq(ckpt_load_model(&c, &m, &err), QKV_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(err.msg, "--weights"));
        probe_result_free(&got);
        ckpt_close(&c);
        if (!neox) { /* the planner does not count the mask buffers as weights */
            model_shape ms;
            ck_assert_int_eq(modelfile_shape(dir, &ms, NULL), QKV_OK);
            ck_assert_uint_eq(ms.file_params, 2u * 3 * 32 * 32);
        }
        test_rm_tree(dir);
    }
    probe_result_free(&want);
    rt_model_free(&ref.rt);
}
END_TEST

Suite *formats_suite(void)
{
    Suite *s = suite_create("formats");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, convert_stories, remove_stories);
    tcase_add_test(tc, half_precision);
    tcase_add_test(tc, dequantisation);
    tcase_add_test(tc, round_trips_give_identical_logits);
    tcase_add_test(tc, weight_probes_agree_across_formats);
    tcase_add_test(tc, weight_probes_invariant_to_rebasing);
    tcase_add_test(tc, safetensors_rows_in_rotate_half_order);
    tcase_add_test(tc, planner_reads_model_files);
    tcase_add_test(tc, gpt2_and_neox_name_maps);
    suite_add_tcase(s, tc);
    return s;
}
