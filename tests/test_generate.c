/* Generation, the threaded kernels, prefill into a cache, and GGUF token
 * texts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/formats/gguf_vocab.h"
#include "probes/runtime/llama2c.h"
#include "probes/runtime/rt_forward.h"
#include "probes/runtime/rt_generate.h"
#include "probes/runtime/rt_kernels.h"
#include "probes/runtime/rt_lazy.h"
#include "tests/tests.h"

#define STORIES "examples/models/stories260K.bin"

/* llama2.c's run.c at temperature 0 continues BOS with these. */
static const int stories_greedy[4] = {461, 461, 401, 401};

static rt_model stories(void)
{
    rt_model m;
    qkv_error err;
    ck_assert_msg(llama2c_load(STORIES, &m, &err) == QKV_OK, "%s", err.msg);
    return m;
}

START_TEST(greedy_continuation_matches_llama2c)
{
    rt_model m = stories();
    for (int threads = 1; threads <= 3; threads++) {
        rt_pool *pool;
        ck_assert_int_eq(rt_pool_init(&pool, threads, NULL), QKV_OK);
        m.pool = pool;
        const int bos = 1;
        int out[4];
        rt_gen_stats st;
        rt_gen_opts o = {4, 0.0, 1, NULL, NULL};
        qkv_error err;
        ck_assert_msg(rt_generate(&m, &bos, 1, &o, out, &st, &err) == QKV_OK, "%s", err.msg);
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(out[i], stories_greedy[i]);
        ck_assert_int_eq(st.n_decode, 3);
        m.pool = NULL;
        rt_pool_free(pool);
    }
    rt_model_free(&m);
}
END_TEST

/* A seeded sampler repeats itself and differs from greedy decoding. */
START_TEST(sampling_is_seeded)
{
    rt_model m = stories();
    const int bos = 1;
    int a[32], b[32], g[32];
    rt_gen_stats st;
    rt_gen_opts o = {32, 1.0, 5, NULL, NULL};
    ck_assert_int_eq(rt_generate(&m, &bos, 1, &o, a, &st, NULL), QKV_OK);
    ck_assert_int_eq(rt_generate(&m, &bos, 1, &o, b, &st, NULL), QKV_OK);
    o.temperature = 0.0;
    ck_assert_int_eq(rt_generate(&m, &bos, 1, &o, g, &st, NULL), QKV_OK);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    ck_assert(memcmp(a, g, sizeof a) != 0);
    o.temperature = -1.0;
    ck_assert_int_eq(rt_generate(&m, &bos, 1, &o, g, &st, NULL), QKV_ERR_RANGE);
    rt_model_free(&m);
}
END_TEST

/* A small Llama-style shape with grouped KV heads. */
static rt_config small_llama(void)
{
    rt_config c = rt_config_default(RT_LLAMA);
    c.d_model = 128;
    c.n_heads = 8;
    c.n_kv_heads = 2;
    c.d_ff = 344;
    c.vocab = 300;
    return c;
}

/* Write src to path: a GGUF file, or a safetensors folder (model.safetensors
 * and config.json) made at path; f16 weights when half. */
static void write_model(const char *path, const rt_model *src, bool gguf, int half)
{
    if (gguf) {
        FILE *f = fopen(path, "wb");
        ck_assert_int_eq(ckpt_write_gguf(f, src, half, NULL), QKV_OK);
        ck_assert_int_eq(fclose(f), 0);
        return;
    }
    ck_assert_int_eq(mkdir(path, 0700), 0);
    char w[700], cfg[700];
    snprintf(w, sizeof w, "%s/model.safetensors", path);
    snprintf(cfg, sizeof cfg, "%s/config.json", path);
    FILE *fw = fopen(w, "wb"), *fc = fopen(cfg, "w");
    ck_assert_int_eq(ckpt_write_safetensors(fw, fc, src, half, NULL), QKV_OK);
    ck_assert_int_eq(fclose(fw), 0);
    ck_assert_int_eq(fclose(fc), 0);
}

/* The logit vectors of a threaded prefill and decode agree with the
 * single-threaded ones to 1e-6 of their scale: threads split rows of W, so
 * each output is still one BLAS call's sum (OpenBLAS may pick another
 * kernel for a shorter block, hence a tolerance rather than equality). */
START_TEST(threads_do_not_change_results)
{
    rt_config c = small_llama();
    rt_model m;
    ck_assert_int_eq(rt_model_init(&m, &c, NULL), QKV_OK);
    rt_model_randomize(&m, 11);
    enum { T = 40 };
    int tokens[T];
    for (int i = 0; i < T; i++)
        tokens[i] = (i * 37 + 5) % c.vocab;
    float *one = malloc((size_t)T * c.vocab * sizeof(float)),
          *two = malloc((size_t)T * c.vocab * sizeof(float));
    ck_assert_int_eq(rt_forward(&m, tokens, 1, T, one, NULL, NULL), QKV_OK);
    rt_pool *pool;
    ck_assert_int_eq(rt_pool_init(&pool, 2, NULL), QKV_OK);
    m.pool = pool;
    ck_assert_int_eq(rt_forward(&m, tokens, 1, T, two, NULL, NULL), QKV_OK);
    float scale = 0.0f;
    for (int i = 0; i < T * c.vocab; i++)
        scale = fmaxf(scale, fabsf(one[i]));
    for (int i = 0; i < T * c.vocab; i++)
        ck_assert_msg(fabsf(one[i] - two[i]) <= 1e-6f * scale, "logit %d: %g vs %g", i, one[i],
                      two[i]);
    m.pool = NULL;
    rt_pool_free(pool);
    rt_model_free(&m);
    free(one);
    free(two);
}
END_TEST

/* Prefill into a cache, then decode: the next logits are those of a
 * forward pass over the prompt and the token (to 1e-5 of their scale), for
 * a two-tensor cache and for Q-K=V's one unrotated tensor. */
START_TEST(prefill_fills_the_cache)
{
    for (int share = SHARE_QKV; share <= SHARE_KV; share += SHARE_KV - SHARE_QKV) {
        rt_config c = rt_config_default(RT_LLAMA);
        c.share = (variant_share)share;
        rt_model m;
        ck_assert_int_eq(rt_model_init(&m, &c, NULL), QKV_OK);
        rt_model_randomize(&m, 4);
        enum { T = 12 };
        int tokens[T + 1];
        for (int i = 0; i <= T; i++)
            tokens[i] = (i * 11 + 3) % c.vocab;
        float *all = malloc((size_t)(T + 1) * c.vocab * sizeof(float)),
              *dec = malloc((size_t)c.vocab * sizeof(float));
        ck_assert_int_eq(rt_forward(&m, tokens, 1, T + 1, all, NULL, NULL), QKV_OK);
        rt_cache cache;
        ck_assert_int_eq(rt_cache_init(&cache, &c, T + 1, NULL), QKV_OK);
        ck_assert_int_eq(rt_prefill(&m, &cache, tokens, T, NULL, NULL), QKV_OK);
        ck_assert_int_eq(cache.len, T);
        ck_assert_int_eq(rt_prefill(&m, &cache, tokens, T, NULL, NULL), QKV_ERR_INVALID);
        ck_assert_int_eq(rt_decode(&m, &cache, tokens[T], dec, NULL, NULL), QKV_OK);
        const float *want = all + (size_t)T * c.vocab;
        float scale = 0.0f;
        for (int i = 0; i < c.vocab; i++)
            scale = fmaxf(scale, fabsf(want[i]));
        for (int i = 0; i < c.vocab; i++)
            ck_assert_msg(fabsf(dec[i] - want[i]) <= 1e-5f * scale, "%s logit %d: %g vs %g",
                          variant_share_name(c.share), i, dec[i], want[i]);
        rt_cache_free(&cache);
        rt_model_free(&m);
        free(all);
        free(dec);
    }
}
END_TEST

/* A model read where it lies in its file gives the logits of the same file
 * loaded whole (to 1e-6 of their scale: the classifier runs in blocks of
 * rows), for f32 and f16 GGUF and safetensors (whose Q/K rows are re-ordered
 * as they are widened); an f32 GGUF needs no scratch at all. */
START_TEST(lazy_model_matches_loaded_model)
{
    rt_config c = rt_config_default(RT_LLAMA);
    c.n_kv_heads = 2;
    c.vocab = 2000;
    c.tied = false;
    rt_model src;
    ck_assert_int_eq(rt_model_init(&src, &c, NULL), QKV_OK);
    rt_model_randomize(&src, 9);
    char dir[512];
    test_mkdtemp(dir, sizeof dir, "lazy");
    enum { T = 10 };
    int tokens[T];
    for (int i = 0; i < T; i++)
        tokens[i] = (i * 97 + 1) % c.vocab;
    float *want = malloc((size_t)T * c.vocab * sizeof(float)),
          *got = malloc((size_t)T * c.vocab * sizeof(float));
    for (int kind = 0; kind < 4; kind++) {
        const bool gguf = kind < 2, half = kind % 2;
        char path[600];
        snprintf(path, sizeof path, "%s/m%d%s", dir, kind, gguf ? ".gguf" : "");
        write_model(path, &src, gguf, half);
        ckpt ck;
        qkv_error err;
        rt_model whole, lazy_m;
        rt_lazy *z;
        ck_assert_msg(ckpt_open(path, &ck, &err) == QKV_OK, "%s", err.msg);
        ck_assert_msg(ckpt_load_model(&ck, &whole, &err) == QKV_OK, "%s", err.msg);
        ck_assert_msg(rt_lazy_open(&ck, &lazy_m, &z, &err) == QKV_OK, "%s", err.msg);
        ck_assert_ptr_null(lazy_m.layers);
        if (kind == 0)
            ck_assert_uint_eq(rt_lazy_scratch_bytes(z), 0);
        ck_assert_int_eq(rt_forward(&whole, tokens, 1, T, want, NULL, NULL), QKV_OK);
        ck_assert_int_eq(rt_forward(&lazy_m, tokens, 1, T, got, NULL, NULL), QKV_OK);
        float scale = 0.0f;
        for (int i = 0; i < T * c.vocab; i++)
            scale = fmaxf(scale, fabsf(want[i]));
        for (int i = 0; i < T * c.vocab; i++)
            ck_assert_msg(fabsf(want[i] - got[i]) <= 1e-6f * scale, "kind %d logit %d: %g vs %g",
                          kind, i, want[i], got[i]);
        /* and decoding reads it the same way */
        rt_cache a, b;
        ck_assert_int_eq(rt_cache_init(&a, &c, 3, NULL), QKV_OK);
        ck_assert_int_eq(rt_cache_init(&b, &c, 3, NULL), QKV_OK);
        for (int t = 0; t < 3; t++) {
            ck_assert_int_eq(rt_decode(&whole, &a, tokens[t], want, NULL, NULL), QKV_OK);
            ck_assert_int_eq(rt_decode(&lazy_m, &b, tokens[t], got, NULL, NULL), QKV_OK);
            for (int i = 0; i < c.vocab; i++)
                ck_assert(fabsf(want[i] - got[i]) <= 1e-6f * scale);
        }
        rt_cache_free(&a);
        rt_cache_free(&b);
        rt_lazy_free(z, &lazy_m);
        rt_model_free(&whole);
        ckpt_close(&ck);
    }
    free(want);
    free(got);
    rt_model_free(&src);
    test_rm_tree(dir);
}
END_TEST

/* The decode layout (float32 matrices copied transposed) gives the logits
 * of the same file read where it lies, prefill and decode, on 1 and 2
 * threads (2 threads split the transposed matrices by columns), for a tied
 * f32 GGUF and an f32 safetensors whose Q/K rows are re-ordered on the way.
 * Tolerance 2e-6 of the logits' scale: a decoded output is summed in another
 * order (OpenBLAS's column sgemv kernel against its row kernel), float32
 * rounding over at most d_ff = 344 terms; measured here: prefill identical,
 * decode up to 3.1e-7 (the margin is for other CPUs' kernels). */
START_TEST(decode_layout_matches_file_layout)
{
    rt_config c = small_llama();
    char dir[512];
    test_mkdtemp(dir, sizeof dir, "declayout");
    enum { T = 12, STEPS = 4 };
    int tokens[T];
    for (int i = 0; i < T; i++)
        tokens[i] = (i * 41 + 3) % c.vocab;
    float *want = malloc((size_t)T * c.vocab * sizeof(float)),
          *got = malloc((size_t)T * c.vocab * sizeof(float));
    for (int kind = 0; kind < 2; kind++) {
        c.tied = kind == 0;
        rt_model src;
        ck_assert_int_eq(rt_model_init(&src, &c, NULL), QKV_OK);
        rt_model_randomize(&src, 21 + (uint64_t)kind);
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, kind == 0 ? "m.gguf" : "st");
        write_model(path, &src, kind == 0, 0);
        rt_model_free(&src);
        ckpt ck;
        qkv_error err;
        rt_model file_m, dec_m;
        rt_lazy *zf, *zd;
        ck_assert_msg(ckpt_open(path, &ck, &err) == QKV_OK, "%s", err.msg);
        ck_assert_msg(rt_lazy_open(&ck, &file_m, &zf, &err) == QKV_OK, "%s", err.msg);
        ck_assert_msg(rt_lazy_open(&ck, &dec_m, &zd, &err) == QKV_OK, "%s", err.msg);
        ck_assert_uint_eq(rt_lazy_decode_bytes(zd), 0);
        ck_assert_msg(rt_lazy_decode_layout(zd, &dec_m, &err) == QKV_OK, "%s", err.msg);
        size_t params = 0;
        ck_assert_int_eq(rt_param_count(&c, &params, NULL), QKV_OK);
        /* every matrix and the classifier: all but the embedding (when not
         * tied) and the norms */
        const size_t norms = (size_t)c.n_layers * 2 * c.d_model + c.d_model;
        const size_t emb = (size_t)c.vocab * c.d_model;
        ck_assert_uint_eq(rt_lazy_decode_bytes(zd),
                          (params - norms - (c.tied ? 0 : emb)) * sizeof(float));
        for (int threads = 1; threads <= 2; threads++) {
            rt_pool *pool;
            ck_assert_int_eq(rt_pool_init(&pool, threads, NULL), QKV_OK);
            file_m.pool = dec_m.pool = pool;
            ck_assert_int_eq(rt_forward(&file_m, tokens, 1, T, want, NULL, NULL), QKV_OK);
            ck_assert_int_eq(rt_forward(&dec_m, tokens, 1, T, got, NULL, NULL), QKV_OK);
            float scale = 0.0f;
            for (int i = 0; i < T * c.vocab; i++)
                scale = fmaxf(scale, fabsf(want[i]));
            ck_assert(scale > 0.0f);
            for (int i = 0; i < T * c.vocab; i++)
                ck_assert_msg(fabsf(want[i] - got[i]) <= 2e-6f * scale,
                              "kind %d, %d threads, logit %d: %g vs %g", kind, threads, i, want[i],
                              got[i]);
            rt_cache a, b;
            ck_assert_int_eq(rt_cache_init(&a, &c, STEPS, NULL), QKV_OK);
            ck_assert_int_eq(rt_cache_init(&b, &c, STEPS, NULL), QKV_OK);
            for (int t = 0; t < STEPS; t++) {
                ck_assert_int_eq(rt_decode(&file_m, &a, tokens[t], want, NULL, NULL), QKV_OK);
                ck_assert_int_eq(rt_decode(&dec_m, &b, tokens[t], got, NULL, NULL), QKV_OK);
                for (int i = 0; i < c.vocab; i++)
                    ck_assert_msg(fabsf(want[i] - got[i]) <= 2e-6f * scale,
                                  "kind %d, %d threads, step %d, logit %d: %g vs %g", kind, threads,
                                  t, i, want[i], got[i]);
            }
            rt_cache_free(&a);
            rt_cache_free(&b);
            file_m.pool = dec_m.pool = NULL;
            rt_pool_free(pool);
        }
        rt_lazy_free(zd, &dec_m);
        rt_lazy_free(zf, &file_m);
        ckpt_close(&ck);
    }
    free(want);
    free(got);
    test_rm_tree(dir);
}
END_TEST

static void put(FILE *f, const void *p, size_t n)
{
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
}

static void put_u64(FILE *f, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(f, b, 8);
}

static void put_u32(FILE *f, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(f, b, 4);
}

static void put_str(FILE *f, const char *s)
{
    put_u64(f, strlen(s));
    put(f, s, strlen(s));
}

/* A GGUF of no tensors and one key: tokenizer.ggml.tokens. */
START_TEST(gguf_token_texts)
{
    char path[512];
    int fd = test_mkstemp(path, sizeof path, "vocab");
    FILE *f = fdopen(fd, "wb");
    put(f, "GGUF", 4);
    put_u32(f, 3);
    put_u64(f, 0); /* tensors */
    put_u64(f, 1); /* keys */
    put_str(f, "tokenizer.ggml.tokens");
    put_u32(f, GGUF_ARRAY);
    put_u32(f, GGUF_STRING);
    put_u64(f, 4);
    put_str(f, "<s>");
    put_str(f, "\xE2\x96\x81Once");
    put_str(f, "<0x0A>");
    put_str(f, "\xE2\x96\x81upon");
    ck_assert_int_eq(fclose(f), 0);
    gguf_file g;
    qkv_error err;
    ck_assert_msg(gguf_open(path, &g, &err) == QKV_OK, "%s", err.msg);
    gguf_vocab v;
    ck_assert_msg(gguf_vocab_read(&g, &v, &err) == QKV_OK, "%s", err.msg);
    ck_assert_uint_eq(v.n, 4);
    char text[64] = "";
    const int ids[] = {1, 3, 2, 7, 1};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        gguf_vocab_text(&v, ids[i], text, sizeof text);
    ck_assert_str_eq(text, " Once upon\n Once");
    char small[5] = "";
    gguf_vocab_text(&v, 1, small, sizeof small);
    ck_assert_str_eq(small, " Onc");
    gguf_vocab_free(&v);
    gguf_close(&g);
    unlink(path);
}
END_TEST

Suite *generate_suite(void)
{
    Suite *s = suite_create("generate");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, greedy_continuation_matches_llama2c);
    tcase_add_test(tc, sampling_is_seeded);
    tcase_add_test(tc, threads_do_not_change_results);
    tcase_add_test(tc, prefill_fills_the_cache);
    tcase_add_test(tc, gguf_token_texts);
    tcase_add_test(tc, lazy_model_matches_loaded_model);
    tcase_add_test(tc, decode_layout_matches_file_layout);
    suite_add_tcase(s, tc);
    return s;
}
