#include <string.h>

#include "analyzer/catalog.h"
#include "analyzer/paper.h"
#include "analyzer/variant.h"
#include "tests/tests.h"

START_TEST(share_names_and_aliases)
{
    static const struct {
        const char *in;
        variant_share want;
    } cases[] = {{"QKV", SHARE_QKV},   {"none", SHARE_QKV}, {"q-k=v", SHARE_KV},
                 {"KV", SHARE_KV},     {"Q=K-V", SHARE_QK}, {"qk", SHARE_QK},
                 {"q=k=v", SHARE_ALL}, {"ALL", SHARE_ALL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        variant_share s;
        ck_assert_int_eq(variant_share_parse(cases[i].in, &s), QKV_OK);
        ck_assert_int_eq(s, cases[i].want);
    }
    variant_share s;
    ck_assert_int_eq(variant_share_parse("Q-K-V", &s), QKV_ERR_INVALID);
    ck_assert_int_eq(variant_cached_tensors(SHARE_QKV), 2);
    ck_assert_int_eq(variant_cached_tensors(SHARE_KV), 1);
    ck_assert_int_eq(variant_cached_tensors(SHARE_QK), 2);
    ck_assert_int_eq(variant_cached_tensors(SHARE_ALL), 1);
}
END_TEST

START_TEST(kv_heads_specs)
{
    uint64_t kv;
    qkv_error err;
    ck_assert_int_eq(variant_parse_kv_heads("mha", 32, &kv, &err), QKV_OK);
    ck_assert_uint_eq(kv, 32);
    ck_assert_int_eq(variant_parse_kv_heads("MQA", 32, &kv, &err), QKV_OK);
    ck_assert_uint_eq(kv, 1);
    ck_assert_int_eq(variant_parse_kv_heads("gqa-4", 32, &kv, &err), QKV_OK);
    ck_assert_uint_eq(kv, 4);
    ck_assert_int_eq(variant_parse_kv_heads("8", 32, &kv, &err), QKV_OK);
    ck_assert_uint_eq(kv, 8);
    ck_assert_int_eq(variant_parse_kv_heads("5", 32, &kv, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "1, 2, 4, 8, 16, 32"));
    ck_assert_int_eq(variant_parse_kv_heads("64", 32, &kv, &err), QKV_ERR_INVALID);
    ck_assert_int_eq(variant_parse_kv_heads("0", 32, &kv, &err), QKV_ERR_PARSE);
    ck_assert_int_eq(variant_parse_kv_heads("gqa", 32, &kv, &err), QKV_ERR_PARSE);
    ck_assert_int_eq(variant_parse_kv_heads("4x", 32, &kv, &err), QKV_ERR_PARSE);
    ck_assert_int_eq(variant_parse_kv_heads("-4", 32, &kv, &err), QKV_ERR_PARSE);
}
END_TEST

START_TEST(labels)
{
    char buf[VARIANT_LABEL_BYTES];
    variant v = {SHARE_KV, 4, false, false};
    variant_label(&v, 16, buf, sizeof buf);
    ck_assert_str_eq(buf, "Q-K=V+GQA-4");
    v = (variant){SHARE_QKV, 16, false, false};
    variant_label(&v, 16, buf, sizeof buf);
    ck_assert_str_eq(buf, "QKV+MHA");
    v = (variant){SHARE_ALL, 1, false, false};
    variant_label(&v, 16, buf, sizeof buf);
    ck_assert_str_eq(buf, "Q=K=V+MQA");
}
END_TEST

START_TEST(sharing_rules)
{
    const model_shape *m = catalog_find("paper-1.2B");
    ck_assert_ptr_nonnull(m);
    qkv_error err;
    variant qk_gqa = {SHARE_QK, 4, false, false};
    ck_assert_int_eq(variant_check(&qk_gqa, m, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "MHA"));
    variant kv_gqa = {SHARE_KV, 4, false, false};
    ck_assert_int_eq(variant_check(&kv_gqa, m, &err), QKV_OK);
    /* MLA model: K=V needs equal key (192) and value (128) widths. */
    const model_shape *ds = catalog_find("DeepSeek-V2-Lite");
    variant kv_mha = {SHARE_KV, 16, false, false};
    ck_assert_int_eq(variant_check(&kv_mha, ds, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "192"));
}
END_TEST

static void grid_labels(const char *model, char *out, size_t out_bytes)
{
    const model_shape *m = catalog_find(model);
    ck_assert_ptr_nonnull(m);
    variant vs[VARIANT_MAX];
    size_t n = variant_default_grid(m, vs, VARIANT_MAX);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char l[VARIANT_LABEL_BYTES];
        variant_label(&vs[i], m->n_heads, l, sizeof l);
        strncat(out, l, out_bytes - strlen(out) - 1);
        if (vs[i].as_built)
            strncat(out, "*", out_bytes - strlen(out) - 1);
        strncat(out, " ", out_bytes - strlen(out) - 1);
    }
}

START_TEST(default_grids)
{
    char got[1024];
    grid_labels("paper-1.2B", got, sizeof got);
    ck_assert_str_eq(got, "QKV+MHA* Q-K=V+MHA Q=K-V+MHA Q=K=V+MHA QKV+GQA-8 Q-K=V+GQA-8 "
                          "QKV+GQA-4 Q-K=V+GQA-4 QKV+MQA Q-K=V+MQA ");
    /* Llama-3.2-1B is GQA-8 as built: that grid row is marked, none added. */
    grid_labels("Llama-3.2-1B", got, sizeof got);
    ck_assert_str_eq(got, "QKV+MHA Q-K=V+MHA Q=K-V+MHA Q=K=V+MHA QKV+GQA-8* Q-K=V+GQA-8 "
                          "QKV+GQA-4 Q-K=V+GQA-4 QKV+MQA Q-K=V+MQA ");
    /* 14 heads: GQA-8 and GQA-4 do not divide; as built (2 KV heads) is added. */
    grid_labels("Qwen2.5-0.5B", got, sizeof got);
    ck_assert_str_eq(got, "QKV+MHA Q-K=V+MHA Q=K-V+MHA Q=K=V+MHA QKV+MQA Q-K=V+MQA QKV+GQA-2* ");
    /* MLA first; K=V rows are left out because key and value widths differ. */
    grid_labels("DeepSeek-V2-Lite", got, sizeof got);
    ck_assert_str_eq(got, "MLA* QKV+MHA Q=K-V+MHA QKV+GQA-8 QKV+GQA-4 QKV+MQA ");
}
END_TEST

START_TEST(paper_evidence)
{
    double pct;
    variant v = {SHARE_KV, 16, false, false};
    ck_assert(paper_ppl_delta_300m(&v, 16, &pct));
    ck_assert_double_eq(pct, 3.1);
    v = (variant){SHARE_ALL, 16, false, false};
    ck_assert(paper_ppl_delta_300m(&v, 16, &pct));
    ck_assert_double_eq(pct, 25.4);
    v = (variant){SHARE_KV, 1, false, false};
    ck_assert(paper_ppl_delta_300m(&v, 16, &pct));
    ck_assert_double_eq(pct, 4.8);
    v = (variant){SHARE_QKV, 4, false, false};
    ck_assert(paper_ppl_delta_300m(&v, 16, &pct));
    ck_assert_double_eq(pct, 0.7);
    v = (variant){SHARE_QKV, 8, false, false};
    ck_assert(!paper_ppl_delta_300m(&v, 16, &pct));
}
END_TEST

Suite *variant_suite(void)
{
    Suite *s = suite_create("variant");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, share_names_and_aliases);
    tcase_add_test(tc, kv_heads_specs);
    tcase_add_test(tc, labels);
    tcase_add_test(tc, sharing_rules);
    tcase_add_test(tc, default_grids);
    tcase_add_test(tc, paper_evidence);
    suite_add_tcase(s, tc);
    return s;
}
