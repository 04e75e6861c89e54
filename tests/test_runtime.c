#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/kvplan.h"
#include "probes/runtime/llama2c.h"
#include "probes/runtime/rt_forward.h"
#include "tests/tests.h"

/* examples/models/README.md: greedy decoding from BOS, first eight logits. */
static const int ref_tokens[4] = {1, 461, 461, 401};
static const int ref_argmax[4] = {461, 461, 401, 401};
static const float ref_logits[4][8] = {
    {1.973871f, 2.654902f, 1.974989f, 1.974209f, 1.974348f, 1.974841f, 1.974447f, 1.975671f},
    {-4.752893f, 5.950700f, -4.753404f, -4.753860f, -4.752061f, -4.751963f, -4.753175f, -4.752323f},
    {-6.435327f, 4.292825f, -6.435618f, -6.436211f, -6.433729f, -6.434014f, -6.434953f, -6.434094f},
    {-4.525405f, -0.049579f, -4.522837f, -4.523787f, -4.522267f, -4.523679f, -4.522471f,
     -4.522501f},
};

static int argmax(const float *x, int n)
{
    int a = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[a])
            a = i;
    return a;
}

static void load_stories(rt_model *m)
{
    qkv_error err;
    ck_assert_msg(llama2c_load(STORIES, m, &err) == QKV_OK, "%s", err.msg);
}

START_TEST(stories_reference_logits)
{
    rt_model m;
    load_stories(&m);
    ck_assert_int_eq(m.cfg.d_model, 64);
    ck_assert_int_eq(m.cfg.n_kv_heads, 4);
    ck_assert(m.cfg.tied);
    float *logits = malloc(4 * 512 * sizeof(float));
    qkv_error err;
    ck_assert_int_eq(rt_forward(&m, ref_tokens, 1, 4, logits, NULL, &err), QKV_OK);
    /* Tolerance 1e-4: the README's figure for a correct float32 implementation. */
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 8; i++)
            ck_assert_msg(fabsf(logits[t * 512 + i] - ref_logits[t][i]) < 1e-4f,
                          "pos %d logit %d: %f, reference %f", t, i, logits[t * 512 + i],
                          ref_logits[t][i]);
        ck_assert_int_eq(argmax(logits + t * 512, 512), ref_argmax[t]);
    }
    free(logits);
    rt_model_free(&m);
}
END_TEST

START_TEST(stories_greedy_decoding)
{
    rt_model m;
    load_stories(&m);
    rt_cache c;
    qkv_error err;
    ck_assert_int_eq(rt_cache_init(&c, &m.cfg, 8, &err), QKV_OK);
    float logits[512];
    int tok = 1;
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(tok, ref_tokens[t]);
        ck_assert_int_eq(rt_decode(&m, &c, tok, logits, NULL, &err), QKV_OK);
        for (int i = 0; i < 8; i++)
            ck_assert(fabsf(logits[i] - ref_logits[t][i]) < 1e-4f);
        tok = argmax(logits, 512);
        ck_assert_int_eq(tok, ref_argmax[t]);
    }
    rt_cache_free(&c);
    rt_model_free(&m);
}
END_TEST

/* Prefill and token-by-token decode agree to 1e-5 of the logit vector's
 * scale (its largest magnitude). Both are float32 but sum in different
 * orders (GEMMs over the sequence against GEMVs over the cache); with the
 * same order everywhere the two agree exactly, so what remains is float32
 * reassociation, amplified through the layers: on stories260K the largest
 * absolute difference is 5.0e-5 on logits of scale 10 (5e-6 of the scale). */
static void prefill_matches_decode(const rt_model *m, const int *tokens, int T)
{
    const int V = m->cfg.vocab;
    float *pre = malloc((size_t)T * V * sizeof(float)), *dec = malloc((size_t)V * sizeof(float));
    qkv_error err;
    ck_assert_msg(rt_forward(m, tokens, 1, T, pre, NULL, &err) == QKV_OK, "%s", err.msg);
    rt_cache c;
    ck_assert_int_eq(rt_cache_init(&c, &m->cfg, T, &err), QKV_OK);
    for (int t = 0; t < T; t++) {
        ck_assert_msg(rt_decode(m, &c, tokens[t], dec, NULL, &err) == QKV_OK, "%s", err.msg);
        float scale = 0.0f;
        for (int i = 0; i < V; i++)
            scale = fmaxf(scale, fabsf(pre[(size_t)t * V + i]));
        for (int i = 0; i < V; i++)
            ck_assert_msg(fabsf(dec[i] - pre[(size_t)t * V + i]) <= 1e-5f * scale,
                          "%s pos %d logit %d: decode %g prefill %g",
                          variant_share_name(m->cfg.share), t, i, dec[i], pre[(size_t)t * V + i]);
    }
    rt_cache_free(&c);
    free(pre);
    free(dec);
}

START_TEST(stories_prefill_equals_decode)
{
    rt_model m;
    load_stories(&m);
    int tokens[48];
    rt_rng r = {7};
    for (int i = 0; i < 48; i++)
        tokens[i] = (int)(rt_rng_next(&r) % 512);
    prefill_matches_decode(&m, tokens, 48);
    rt_model_free(&m);
}
END_TEST

static rt_model random_model(rt_family fam, variant_share share, int kv_heads, bool pos2d,
                             uint64_t seed)
{
    rt_config c = rt_config_default(fam);
    c.share = share;
    c.n_kv_heads = kv_heads;
    c.pos2d = pos2d;
    rt_model m;
    qkv_error err;
    ck_assert_msg(rt_model_init(&m, &c, &err) == QKV_OK, "%s", err.msg);
    rt_model_randomize(&m, seed);
    /* Larger weights than GPT-2's init so attention is far from uniform. */
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] *= 10.0f;
    for (int l = 0; l < c.n_layers; l++)
        for (int i = 0; i < c.d_model; i++)
            m.layers[l].ln1_w[i] = m.layers[l].ln2_w[i] = 1.0f;
    for (int i = 0; i < c.d_model; i++)
        m.lnf_w[i] = 1.0f;
    /* the learned 2D term (pos2d true is the paper's form): a gain near 1,
     * unequal channels and a bias, so every part of it reaches the logits */
    for (int l = 0; pos2d && l < c.n_layers; l++) {
        for (int k = 0; k < RT_POS2D_CH; k++)
            m.layers[l].pos2d_w[k] = 0.05f + 0.02f * (float)k;
        m.layers[l].pos2d_b[0] = 0.5f;
    }
    return m;
}

START_TEST(every_variant_prefill_equals_decode)
{
    const rt_family fams[] = {RT_GPT2, RT_LLAMA};
    int tokens[24];
    for (int i = 0; i < 24; i++)
        tokens[i] = (i * 37 + 5) % 64;
    for (int f = 0; f < 2; f++) {
        for (int s = 0; s < SHARE_COUNT; s++) {
            const int kv_options[] = {4, 2, 1};
            for (int k = 0; k < 3; k++) {
                if ((s == SHARE_QK || s == SHARE_ALL) && kv_options[k] != 4)
                    continue;
                for (int p = 0; p < 2; p++) {
                    rt_model m = random_model(fams[f], (variant_share)s, kv_options[k], p, 11);
                    prefill_matches_decode(&m, tokens, 24);
                    rt_model_free(&m);
                }
            }
        }
    }
}
END_TEST

START_TEST(shared_projections_are_one_tensor)
{
    rt_model m = random_model(RT_GPT2, SHARE_KV, 2, false, 1);
    ck_assert_ptr_eq(m.layers[0].wv, m.layers[0].wk);
    ck_assert_ptr_eq(m.layers[0].bv, m.layers[0].bk);
    ck_assert_ptr_ne(m.layers[0].wq, m.layers[0].wk);
    rt_model_free(&m);
    m = random_model(RT_LLAMA, SHARE_ALL, 4, false, 1);
    ck_assert_ptr_eq(m.layers[1].wq, m.layers[1].wk);
    ck_assert_ptr_eq(m.layers[1].wv, m.layers[1].wk);
    size_t qkv_count;
    rt_config c = m.cfg;
    c.share = SHARE_QKV;
    ck_assert_int_eq(rt_param_count(&c, &qkv_count, NULL), QKV_OK);
    /* Q=K=V stores two fewer (NH*HD x C) projections per layer. */
    ck_assert_uint_eq(qkv_count - m.n_params, 2u * 2 * 64 * 64);
    rt_model_free(&m);
}
END_TEST

START_TEST(invalid_combinations_rejected)
{
    rt_config c = rt_config_default(RT_LLAMA);
    qkv_error err;
    c.share = SHARE_QK;
    c.n_kv_heads = 2;
    ck_assert_int_eq(rt_config_check(&c, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "MHA"));
    c = rt_config_default(RT_LLAMA);
    c.n_kv_heads = 3;
    ck_assert_int_eq(rt_config_check(&c, &err), QKV_ERR_INVALID);
    c = rt_config_default(RT_LLAMA);
    c.head_dim = 15;
    ck_assert_int_eq(rt_config_check(&c, &err), QKV_ERR_INVALID);
    c = rt_config_default(RT_GPT2);
    c.d_model = 0;
    ck_assert_int_eq(rt_config_check(&c, &err), QKV_ERR_RANGE);
}
END_TEST

/* A GQA model equals the MHA model whose K and V heads are the GQA heads
 * repeated for each query head of the group. */
START_TEST(gqa_equals_expanded_mha)
{
    rt_model g = random_model(RT_LLAMA, SHARE_QKV, 2, false, 5);
    rt_config c = g.cfg;
    c.n_kv_heads = 4;
    rt_model h;
    ck_assert_int_eq(rt_model_init(&h, &c, NULL), QKV_OK);
    /* copy every tensor, expanding wk/wv */
    const int C = c.d_model, HD = c.head_dim;
    memcpy(h.tok_emb, g.tok_emb, (size_t)c.vocab * C * sizeof(float));
    memcpy(h.lnf_w, g.lnf_w, (size_t)C * sizeof(float));
    for (int l = 0; l < c.n_layers; l++) {
        rt_layer *a = &g.layers[l], *b = &h.layers[l];
        memcpy(b->ln1_w, a->ln1_w, (size_t)C * sizeof(float));
        memcpy(b->ln2_w, a->ln2_w, (size_t)C * sizeof(float));
        memcpy(b->wq, a->wq, (size_t)4 * HD * C * sizeof(float));
        memcpy(b->wo, a->wo, (size_t)C * 4 * HD * sizeof(float));
        memcpy(b->w1, a->w1, (size_t)c.d_ff * C * sizeof(float));
        memcpy(b->w2, a->w2, (size_t)c.d_ff * C * sizeof(float));
        memcpy(b->w3, a->w3, (size_t)c.d_ff * C * sizeof(float));
        for (int q = 0; q < 4; q++) {
            memcpy(b->wk + (size_t)q * HD * C, a->wk + (size_t)(q / 2) * HD * C,
                   (size_t)HD * C * sizeof(float));
            memcpy(b->wv + (size_t)q * HD * C, a->wv + (size_t)(q / 2) * HD * C,
                   (size_t)HD * C * sizeof(float));
        }
    }
    int tokens[16];
    for (int i = 0; i < 16; i++)
        tokens[i] = (i * 13 + 3) % 64;
    float *lg = malloc(16 * 64 * sizeof(float)), *lh = malloc(16 * 64 * sizeof(float));
    ck_assert_int_eq(rt_forward(&g, tokens, 1, 16, lg, NULL, NULL), QKV_OK);
    ck_assert_int_eq(rt_forward(&h, tokens, 1, 16, lh, NULL, NULL), QKV_OK);
    for (int i = 0; i < 16 * 64; i++)
        ck_assert_msg(fabsf(lg[i] - lh[i]) < 1e-5f, "logit %d: %g vs %g", i, lg[i], lh[i]);
    free(lg);
    free(lh);
    rt_model_free(&g);
    rt_model_free(&h);
}
END_TEST

START_TEST(batch_equals_single_sequences)
{
    rt_model m = random_model(RT_GPT2, SHARE_KV, 2, false, 3);
    int tokens[2][12];
    for (int i = 0; i < 12; i++) {
        tokens[0][i] = (i * 7 + 1) % 64;
        tokens[1][i] = (i * 11 + 2) % 64;
    }
    float *both = malloc(2 * 12 * 64 * sizeof(float)), *one = malloc(12 * 64 * sizeof(float));
    ck_assert_int_eq(rt_forward(&m, &tokens[0][0], 2, 12, both, NULL, NULL), QKV_OK);
    for (int b = 0; b < 2; b++) {
        ck_assert_int_eq(rt_forward(&m, tokens[b], 1, 12, one, NULL, NULL), QKV_OK);
        for (int i = 0; i < 12 * 64; i++)
            ck_assert(fabsf(both[b * 12 * 64 + i] - one[i]) < 1e-5f);
    }
    free(both);
    free(one);
    rt_model_free(&m);
}
END_TEST

/* The decode cache holds exactly what the planner's exact engine counts
 * for the same shape, variant and an f32 cache. */
START_TEST(cache_bytes_equal_planner)
{
    for (int s = 0; s < SHARE_COUNT; s++) {
        const int kv_options[] = {4, 2, 1};
        for (int k = 0; k < 3; k++) {
            if ((s == SHARE_QK || s == SHARE_ALL) && kv_options[k] != 4)
                continue;
            rt_config c = rt_config_default(RT_LLAMA);
            c.share = (variant_share)s;
            c.n_kv_heads = kv_options[k];
            rt_cache cache;
            ck_assert_int_eq(rt_cache_init(&cache, &c, 1000, NULL), QKV_OK);
            model_shape ms;
            memset(&ms, 0, sizeof ms);
            strcpy(ms.name, "rt");
            ms.n_layers = (uint64_t)c.n_layers;
            ms.d_model = (uint64_t)c.d_model;
            ms.n_heads = (uint64_t)c.n_heads;
            ms.n_kv_heads = (uint64_t)c.n_kv_heads;
            ms.head_dim = ms.v_head_dim = (uint64_t)c.head_dim;
            ms.d_ff = (uint64_t)c.d_ff;
            ms.gated_ffn = true;
            ms.vocab = (uint64_t)c.vocab;
            ms.norms_per_layer = 2;
            ms.pos = POS_ROPE;
            kvplan_params p = kvplan_params_default();
            p.ctx = 1000;
            p.type_k = p.type_v = DTYPE_F32;
            variant v = {(variant_share)s, (uint64_t)c.n_kv_heads, false, false};
            kvplan_row row;
            qkv_error err;
            ck_assert_msg(kvplan_row_eval(&ms, &v, &p, false, &row, &err) == QKV_OK, "%s", err.msg);
            ck_assert_uint_eq(cache.bytes, row.kv_bytes);
            rt_cache_free(&cache);
        }
    }
}
END_TEST

typedef struct {
    int events;
    int causal_ok, rows_ok;
} mask_check;

static void check_mask(void *user, const rt_attn_event *ev)
{
    mask_check *mc = user;
    mc->events++;
    for (int i = 0; i < ev->n_queries; i++) {
        double sum = 0.0;
        for (int j = 0; j < ev->n_keys; j++) {
            float a = ev->att[i * ev->n_keys + j];
            sum += a;
            if (j > i && a != 0.0f)
                mc->causal_ok = 0;
        }
        if (fabs(sum - 1.0) > 1e-5)
            mc->rows_ok = 0;
    }
}

START_TEST(masks_and_hooks)
{
    rt_model m = random_model(RT_LLAMA, SHARE_QKV, 2, false, 9);
    int tokens[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    float *lg = malloc(10 * 64 * sizeof(float));
    mask_check mc = {0, 1, 1};
    rt_hooks hooks = {check_mask, &mc};
    ck_assert_int_eq(rt_forward(&m, tokens, 1, 10, lg, &hooks, NULL), QKV_OK);
    ck_assert_int_eq(mc.events, m.cfg.n_layers * m.cfg.n_heads);
    ck_assert(mc.causal_ok);
    ck_assert(mc.rows_ok);
    /* bidirectional: rows still sum to 1, keys after the query get weight */
    m.cfg.causal = false;
    mc = (mask_check){0, 1, 1};
    ck_assert_int_eq(rt_forward(&m, tokens, 1, 10, lg, &hooks, NULL), QKV_OK);
    ck_assert(mc.rows_ok);
    ck_assert(!mc.causal_ok);
    qkv_error err;
    float dec[64];
    rt_cache c;
    ck_assert_int_eq(rt_cache_init(&c, &m.cfg, 4, NULL), QKV_OK);
    ck_assert_int_eq(rt_decode(&m, &c, 1, dec, NULL, &err), QKV_ERR_INVALID);
    rt_cache_free(&c);
    /* tokens out of range */
    tokens[3] = 64;
    ck_assert_int_eq(rt_forward(&m, tokens, 1, 10, lg, NULL, &err), QKV_ERR_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "64"));
    free(lg);
    rt_model_free(&m);
}
END_TEST

/* Bad checkpoints: each is written to a temporary file from the real one. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*n + 8);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void expect_bad(const char *bytes, size_t n, qkv_status want, const char *needle)
{
    char path[512];
    int fd = test_mkstemp(path, sizeof path, "bad");
    ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    rt_model m;
    qkv_error err;
    qkv_status s = llama2c_load(path, &m, &err);
    unlink(path);
    ck_assert_msg(s == want, "status %d (%s), want %d", s, err.msg, want);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
}

START_TEST(bad_checkpoints)
{
    size_t n;
    char *b = slurp(STORIES, &n);
    expect_bad(b, 10, QKV_ERR_INVALID, "too short");
    expect_bad(b, n - 4, QKV_ERR_INVALID, "needs 1056540");
    expect_bad(b, n + 4, QKV_ERR_INVALID, "needs 1056540");
    int32_t orig;
    memcpy(&orig, b, 4);
    int32_t absurd = 1000000000;
    memcpy(b, &absurd, 4);
    expect_bad(b, n, QKV_ERR_INVALID, "header field dim is 1000000000");
    int32_t neg = -5;
    memcpy(b, &orig, 4);
    memcpy(b + 8, &neg, 4);
    expect_bad(b, n, QKV_ERR_INVALID, "n_layers is -5");
    int32_t five = 5;
    memcpy(b + 8, &five, 4);
    int32_t three = 3;
    memcpy(b + 16, &three, 4);
    expect_bad(b, n, QKV_ERR_INVALID, "whole, even heads");
    int32_t four = 4;
    memcpy(b + 16, &four, 4);
    float nan = NAN;
    memcpy(b + 28 + 4 * 1000, &nan, 4); /* inside the token embedding */
    expect_bad(b, n, QKV_ERR_INVALID, "tensor 'token_embedding' holds a non-finite value");
    free(b);
    rt_model m;
    qkv_error err;
    ck_assert_int_eq(llama2c_load("/nonexistent/x.bin", &m, &err), QKV_ERR_IO);
}
END_TEST

Suite *runtime_suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stories_reference_logits);
    tcase_add_test(tc, stories_greedy_decoding);
    tcase_add_test(tc, stories_prefill_equals_decode);
    tcase_add_test(tc, every_variant_prefill_equals_decode);
    tcase_add_test(tc, shared_projections_are_one_tensor);
    tcase_add_test(tc, invalid_combinations_rejected);
    tcase_add_test(tc, gqa_equals_expanded_mha);
    tcase_add_test(tc, batch_equals_single_sequences);
    tcase_add_test(tc, cache_bytes_equal_planner);
    tcase_add_test(tc, masks_and_hooks);
    tcase_add_test(tc, bad_checkpoints);
    suite_add_tcase(s, tc);
    return s;
}
