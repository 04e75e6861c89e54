#include <stdint.h>
#include <string.h>

#include "analyzer/dtype.h"
#include "tests/tests.h"

/* Block sizes from ggml's type traits (DESIGN.md table): bytes for one 4096-wide row. */
START_TEST(row_bytes_match_block_table)
{
    static const struct {
        const char *name;
        uint64_t bytes_4096;
    } want[] = {
        {"f32", 16384},     {"f16", 8192},  {"bf16", 8192},   {"fp8", 4096},
        {"fp8_e5m2", 4096}, {"q8_0", 4352}, {"q5_1", 3072},   {"q5_0", 2816},
        {"q4_1", 2560},     {"q4_0", 2304}, {"iq4_nl", 2304},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        dtype_cache t;
        uint64_t b = 0;
        ck_assert_int_eq(dtype_cache_parse(want[i].name, &t), QKV_OK);
        ck_assert_int_eq(dtype_row_bytes(t, 4096, &b, NULL), QKV_OK);
        ck_assert_msg(b == want[i].bytes_4096, "%s: %llu bytes, want %llu", want[i].name,
                      (unsigned long long)b, (unsigned long long)want[i].bytes_4096);
    }
}
END_TEST

START_TEST(block_types_reject_partial_rows)
{
    qkv_error err;
    uint64_t b;
    ck_assert_int_eq(dtype_row_bytes(DTYPE_Q4_0, 40, &b, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "40"));
    ck_assert_ptr_nonnull(strstr(err.msg, "32"));
    ck_assert_int_eq(dtype_row_bytes(DTYPE_Q8_0, 96, &b, &err), QKV_OK);
    ck_assert_uint_eq(b, 102);
    ck_assert_int_eq(dtype_row_bytes(DTYPE_F16, 40, &b, &err), QKV_OK);
    ck_assert_uint_eq(b, 80);
}
END_TEST

START_TEST(cache_type_names)
{
    dtype_cache t;
    ck_assert_int_eq(dtype_cache_parse("Q8_0", &t), QKV_OK);
    ck_assert_int_eq(t, DTYPE_Q8_0);
    ck_assert_int_eq(dtype_cache_parse("FP8", &t), QKV_OK);
    ck_assert_int_eq(t, DTYPE_FP8_E4M3);
    ck_assert_int_eq(dtype_cache_parse("q3_k", &t), QKV_ERR_INVALID);
    ck_assert_int_eq(dtype_cache_parse("", &t), QKV_ERR_INVALID);
}
END_TEST

START_TEST(weight_bytes_round_up)
{
    uint64_t b;
    dtype_weight w;
    /* q8_0: 34 bytes per 32 weights. */
    ck_assert_int_eq(dtype_weight_bytes(WTYPE_Q8_0, 32, &b), QKV_OK);
    ck_assert_uint_eq(b, 34);
    /* q4_0: 18 bytes per 32; 1000 weights = 562.5 bytes -> 563. */
    ck_assert_int_eq(dtype_weight_bytes(WTYPE_Q4_0, 1000, &b), QKV_OK);
    ck_assert_uint_eq(b, 563);
    /* q4_K_M at 4.84 bits: 100 weights = 484 bits = 60.5 bytes -> 61. */
    ck_assert_int_eq(dtype_weight_parse("Q4_K_M", &w), QKV_OK);
    ck_assert_int_eq(dtype_weight_bytes(w, 100, &b), QKV_OK);
    ck_assert_uint_eq(b, 61);
    ck_assert(dtype_weight_get(w)->approximate);
    /* f32 near the top of the range overflows instead of wrapping. */
    ck_assert_int_eq(dtype_weight_bytes(WTYPE_F32, UINT64_MAX / 2, &b), QKV_ERR_OVERFLOW);
    ck_assert_int_eq(dtype_weight_bytes(WTYPE_F16, UINT64_MAX / 2, &b), QKV_OK);
    ck_assert_uint_eq(b, UINT64_MAX / 2 * 2);
}
END_TEST

Suite *dtype_suite(void)
{
    Suite *s = suite_create("dtype");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, row_bytes_match_block_table);
    tcase_add_test(tc, block_types_reject_partial_rows);
    tcase_add_test(tc, cache_type_names);
    tcase_add_test(tc, weight_bytes_round_up);
    suite_add_tcase(s, tc);
    return s;
}
