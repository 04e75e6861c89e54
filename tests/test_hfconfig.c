#include <string.h>

#include "analyzer/catalog.h"
#include "analyzer/formats/hfconfig.h"
#include "analyzer/kvplan.h"
#include "tests/tests.h"

static model_shape load_ok(const char *file)
{
    model_shape m;
    qkv_error err;
    qkv_status s = hfconfig_load(file, &m, &err);
    ck_assert_msg(s == QKV_OK, "%s: %s", file, err.msg);
    return m;
}

/* The shape read from a published config.json must plan exactly like the
 * catalog entry transcribed from the same file. */
static void same_plan_as_catalog(const char *file, const char *catalog_name)
{
    model_shape m = load_ok(file);
    const model_shape *c = catalog_find(catalog_name);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(m.n_layers, c->n_layers);
    ck_assert_uint_eq(m.d_model, c->d_model);
    ck_assert_uint_eq(m.n_heads, c->n_heads);
    ck_assert_uint_eq(m.n_kv_heads, c->n_kv_heads);
    ck_assert_uint_eq(m.head_dim, c->head_dim);
    ck_assert_uint_eq(m.v_head_dim, c->v_head_dim);
    ck_assert_uint_eq(m.n_swa_layers, c->n_swa_layers);
    ck_assert_uint_eq(m.window, c->window);
    ck_assert_str_eq(m.arch, c->arch);
    ck_assert_uint_eq(m.swa_period, c->swa_period);
    kvplan_params p = kvplan_params_default();
    p.ctx = 8192;
    variant vm = variant_as_built(&m), vc = variant_as_built(c);
    kvplan_row rm, rc;
    ck_assert_int_eq(kvplan_row_eval(&m, &vm, &p, false, &rm, NULL), QKV_OK);
    ck_assert_int_eq(kvplan_row_eval(c, &vc, &p, false, &rc, NULL), QKV_OK);
    ck_assert_uint_eq(rm.kv_bytes, rc.kv_bytes);
    p.engine = ENGINE_LLAMACPP; /* the same per-architecture rule applies */
    ck_assert_int_eq(kvplan_row_eval(&m, &vm, &p, false, &rm, NULL), QKV_OK);
    ck_assert_int_eq(kvplan_row_eval(c, &vc, &p, false, &rc, NULL), QKV_OK);
    ck_assert_uint_eq(rm.kv_bytes, rc.kv_bytes);
    ck_assert_uint_eq(rm.swa_layers, rc.swa_layers);
    ck_assert_msg(rm.params == rc.params, "%s: %llu params from config, %llu from catalog", file,
                  (unsigned long long)rm.params, (unsigned long long)rc.params);
}

START_TEST(published_configs)
{
    same_plan_as_catalog(FIXTURES "llama-3.2-1b.json", "Llama-3.2-1B");
    same_plan_as_catalog(FIXTURES "gpt2.json", "gpt2");
    same_plan_as_catalog(FIXTURES "gemma-3-270m.json", "Gemma-3-270M");
    same_plan_as_catalog(FIXTURES "mistral-7b-v0.1.json", "Mistral-7B-v0.1");
    same_plan_as_catalog(FIXTURES "deepseek-v2-lite.json", "DeepSeek-V2-Lite");
    same_plan_as_catalog(FIXTURES "qwen2.5-0.5b.json", "Qwen2.5-0.5B");
}
END_TEST

START_TEST(text_config_and_pattern)
{
    model_shape m = load_ok(FIXTURES "nested-text-config.json");
    ck_assert_uint_eq(m.n_layers, 34);
    ck_assert_uint_eq(m.d_model, 2560);
    ck_assert_uint_eq(m.n_kv_heads, 4);
    ck_assert_uint_eq(m.head_dim, 256);
    /* sliding_window_pattern 6: every sixth layer is global; 34 - 5 = 29 slide. */
    ck_assert_uint_eq(m.n_swa_layers, 29);
    ck_assert_uint_eq(m.window, 1024);
    ck_assert(m.tied_embeddings);
    ck_assert_uint_eq(m.norms_per_layer, 4);
}
END_TEST

START_TEST(directory_holding_config)
{
    /* tests/fixtures/dir-model/config.json */
    model_shape m = load_ok(FIXTURES "dir-model");
    ck_assert_uint_eq(m.n_layers, 16);
}
END_TEST

static void load_fails(const char *file, qkv_status want, const char *needle)
{
    model_shape m;
    qkv_error err;
    qkv_status s = hfconfig_load(file, &m, &err);
    ck_assert_msg(s == want, "%s: status %d (%s), want %d", file, s, err.msg, want);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", file, err.msg,
                  needle);
}

START_TEST(malformed_configs)
{
    load_fails(FIXTURES "bad-truncated.json", QKV_ERR_PARSE, "not valid JSON");
    load_fails(FIXTURES "bad-empty.json", QKV_ERR_PARSE, "empty");
    load_fails(FIXTURES "bad-not-object.json", QKV_ERR_PARSE, "not a JSON object");
    load_fails(FIXTURES "bad-zero-layers.json", QKV_ERR_INVALID, "'num_hidden_layers' is 0");
    load_fails(FIXTURES "bad-negative-layers.json", QKV_ERR_INVALID, "'num_hidden_layers' is -4");
    load_fails(FIXTURES "bad-string-layers.json", QKV_ERR_INVALID,
               "'num_hidden_layers' is not a number");
    load_fails(FIXTURES "bad-fraction-layers.json", QKV_ERR_INVALID, "not a whole number");
    load_fails(FIXTURES "bad-huge-number.json", QKV_ERR_INVALID, "not a whole number");
    load_fails(FIXTURES "bad-missing-hidden.json", QKV_ERR_INVALID, "'hidden_size' is missing");
    load_fails(FIXTURES "bad-kv-heads.json", QKV_ERR_INVALID, "5 KV heads do not divide 32");
    load_fails(FIXTURES "bad-layer-type.json", QKV_ERR_INVALID, "quantum_attention");
    load_fails(FIXTURES "no-such-file.json", QKV_ERR_IO, "no-such-file.json");
    /* Each message names the file. */
    load_fails(FIXTURES "bad-zero-layers.json", QKV_ERR_INVALID, "bad-zero-layers.json");
}
END_TEST

START_TEST(overflowing_sizes_fail_in_planning)
{
    model_shape m = load_ok(FIXTURES "bad-overflow.json");
    kvplan_params p = kvplan_params_default();
    variant v = variant_as_built(&m);
    kvplan_row row;
    qkv_error err;
    ck_assert_int_eq(kvplan_row_eval(&m, &v, &p, false, &row, &err), QKV_ERR_OVERFLOW);
}
END_TEST

START_TEST(parse_from_memory)
{
    const char *js = "{\"num_hidden_layers\": 2, \"hidden_size\": 64, \"num_attention_heads\": 4,"
                     " \"intermediate_size\": 128, \"vocab_size\": 100, \"sliding_window\": 16,"
                     " \"layer_types\": [\"sliding_attention\", \"linear_attention\"]}";
    model_shape m;
    qkv_error err;
    ck_assert_int_eq(hfconfig_parse(js, strlen(js), "mem", &m, &err), QKV_OK);
    ck_assert_uint_eq(m.n_swa_layers, 1);
    ck_assert_uint_eq(m.n_nokv_layers, 1);
    ck_assert_uint_eq(m.head_dim, 16);
    ck_assert_uint_eq(m.window, 16);
    /* layer_types of the wrong length */
    const char *bad = "{\"num_hidden_layers\": 3, \"hidden_size\": 64, \"num_attention_heads\": 4,"
                      " \"intermediate_size\": 128, \"vocab_size\": 100,"
                      " \"layer_types\": [\"full_attention\"]}";
    ck_assert_int_eq(hfconfig_parse(bad, strlen(bad), "mem", &m, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "lists 1 layers"));
}
END_TEST

Suite *hfconfig_suite(void)
{
    Suite *s = suite_create("hfconfig");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, published_configs);
    tcase_add_test(tc, text_config_and_pattern);
    tcase_add_test(tc, directory_holding_config);
    tcase_add_test(tc, malformed_configs);
    tcase_add_test(tc, overflowing_sizes_fail_in_planning);
    tcase_add_test(tc, parse_from_memory);
    suite_add_tcase(s, tc);
    return s;
}
