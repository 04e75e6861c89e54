#include <string.h>

#include "analyzer/catalog.h"
#include "analyzer/kvplan.h"
#include "tests/tests.h"

static uint64_t params_as_built(const char *name)
{
    const model_shape *m = catalog_find(name);
    ck_assert_msg(m != NULL, "%s not in catalog", name);
    variant v = variant_as_built(m);
    uint64_t n = 0;
    qkv_error err;
    ck_assert_msg(kvplan_param_count(m, &v, &n, &err) == QKV_OK, "%s", err.msg);
    return n;
}

/* Parameter counts as published for the released checkpoints (the sum of the
 * tensor sizes in their safetensors files, as shown on the model pages; the
 * Phi-3 figure is also the one keras-hub's preset lists). The planner counts
 * from the shape alone, so these are independent checks of the shape and of
 * the counting rules (tied embeddings, biases, norms, q/k norms, positions). */
START_TEST(published_parameter_counts)
{
    static const struct {
        const char *name;
        uint64_t params;
    } want[] = {
        {"gpt2", 124439808},          {"Llama-3.2-1B", 1235814400},
        {"Llama-3.1-8B", 8030261248}, {"Mistral-7B-v0.1", 7241732096},
        {"Gemma-2-2B", 2614341888},   {"Gemma-3-270M", 268098176},
        {"Qwen2.5-0.5B", 494032768},  {"Phi-3-mini-4k", 3821079552},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t got = params_as_built(want[i].name);
        ck_assert_msg(got == want[i].params, "%s: %llu parameters, published %llu", want[i].name,
                      (unsigned long long)got, (unsigned long long)want[i].params);
    }
}
END_TEST

/* Published round figures where no exact count is at hand: within 1%. */
START_TEST(published_rounded_sizes)
{
    static const struct {
        const char *name;
        double billions;
    } want[] = {
        {"Llama-3.2-3B", 3.2128},   /* model card: 3.21B */
        {"Qwen2.5-1.5B", 1.5431},   /* model card: 1.54B */
        {"Qwen2.5-7B", 7.6156},     /* model card: 7.61B */
        {"SmolLM2-1.7B", 1.7114},   /* model card: 1.71B */
        {"DeepSeek-V2-Lite", 15.7}, /* model card: 15.7B total */
        {"Gemma-3-1B", 0.9999},     /* model card: 1B */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        double got = (double)params_as_built(want[i].name) / 1e9;
        ck_assert_msg(got > want[i].billions * 0.99 && got < want[i].billions * 1.01,
                      "%s: %.4fB parameters, published %.4fB", want[i].name, got, want[i].billions);
    }
}
END_TEST

START_TEST(catalog_is_valid_and_cited)
{
    ck_assert_uint_ge(catalog_count(), 16);
    for (size_t i = 0; i < catalog_count(); i++) {
        const model_shape *m = catalog_get(i);
        qkv_error err;
        ck_assert_msg(model_validate(m, &err) == QKV_OK, "%s", err.msg);
        ck_assert_msg(strlen(m->source) > 10, "%s has no source", m->name);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(m->name, catalog_get(j)->name);
    }
    ck_assert_ptr_nonnull(catalog_find("llama-3.2-1b"));
    ck_assert_ptr_null(catalog_find("llama-9"));
    ck_assert_ptr_nonnull(catalog_find(CATALOG_DEFAULT));
}
END_TEST

/* Sharing removes parameters: Q-K=V drops W_V (and its bias), Q=K-V drops
 * W_Q, Q=K=V both; GQA shrinks W_K and W_V. Hand-computed on the 1.2B. */
START_TEST(sharing_removes_parameters)
{
    const model_shape *m = catalog_find("paper-1.2B");
    uint64_t base, kv, qk, all, gqa;
    variant v = {SHARE_QKV, 32, false, false};
    ck_assert_int_eq(kvplan_param_count(m, &v, &base, NULL), QKV_OK);
    v.share = SHARE_KV;
    ck_assert_int_eq(kvplan_param_count(m, &v, &kv, NULL), QKV_OK);
    v.share = SHARE_QK;
    ck_assert_int_eq(kvplan_param_count(m, &v, &qk, NULL), QKV_OK);
    v.share = SHARE_ALL;
    ck_assert_int_eq(kvplan_param_count(m, &v, &all, NULL), QKV_OK);
    v = (variant){SHARE_QKV, 4, false, false};
    ck_assert_int_eq(kvplan_param_count(m, &v, &gqa, NULL), QKV_OK);
    const uint64_t proj = 22ull * (2048 * 2048 + 2048);
    ck_assert_uint_eq(base - kv, proj);
    ck_assert_uint_eq(base - qk, proj);
    ck_assert_uint_eq(base - all, 2 * proj);
    ck_assert_uint_eq(base - gqa, 2 * 22ull * (2048 + 1) * (2048 - 256));
}
END_TEST

Suite *catalog_suite(void)
{
    Suite *s = suite_create("catalog");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, published_parameter_counts);
    tcase_add_test(tc, published_rounded_sizes);
    tcase_add_test(tc, catalog_is_valid_and_cited);
    tcase_add_test(tc, sharing_removes_parameters);
    suite_add_tcase(s, tc);
    return s;
}
