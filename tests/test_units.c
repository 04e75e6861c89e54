#include <stdint.h>
#include <string.h>

#include "cli/units.h"
#include "tests/tests.h"

START_TEST(sizes)
{
    static const struct {
        const char *in;
        uint64_t bytes;
    } ok[] = {
        {"8GB", 8ull << 30},
        {"8GiB", 8ull << 30},
        {"8gb", 8ull << 30},
        {"12G", 12ull << 30},
        {"512MiB", 512ull << 20},
        {"8589934592", 8589934592ull},
        {"1.5GB", 3ull << 29},
        {"0.5K", 512},
        {"1TB", 1ull << 40},
        {"100B", 100},
        {"0", 0},
        {"1.500000000000000000000000000000000000000000000000000000000000GB", 3ull << 29},
    };
    char why[128];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t b = 0;
        ck_assert_msg(units_parse_size(ok[i].in, &b, why, sizeof why) == 0, "%s: %s", ok[i].in,
                      why);
        ck_assert_msg(b == ok[i].bytes, "%s: %llu", ok[i].in, (unsigned long long)b);
    }
    static const char *const bad[] = {"8XB", "GB", "", "-8GB", "8 GB", "1.5",
                                      "99999999999999999999", "20000000000GB", "8GBB", "1..5G",
                                      "1.G",
                                      /* found by fuzz_units: 63 decimals overran a buffer */
                                      "0.661666644444444444444444444444444444444444444444444444444"
                                      "44444\3066k"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t b;
        ck_assert_msg(units_parse_size(bad[i], &b, why, sizeof why) != 0, "'%s' accepted", bad[i]);
        ck_assert(strlen(why) > 0);
    }
}
END_TEST

START_TEST(tokens)
{
    char why[128];
    uint64_t t;
    ck_assert_int_eq(units_parse_tokens("32k", &t, why, sizeof why), 0);
    ck_assert_uint_eq(t, 32768);
    ck_assert_int_eq(units_parse_tokens("32K", &t, why, sizeof why), 0);
    ck_assert_uint_eq(t, 32768);
    ck_assert_int_eq(units_parse_tokens("1M", &t, why, sizeof why), 0);
    ck_assert_uint_eq(t, 1048576);
    ck_assert_int_eq(units_parse_tokens("4096", &t, why, sizeof why), 0);
    ck_assert_uint_eq(t, 4096);
    ck_assert_int_ne(units_parse_tokens("-5", &t, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "negative"));
    ck_assert_int_ne(units_parse_tokens("99999999999999999999", &t, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "too large"));
    ck_assert_int_ne(units_parse_tokens("32kb", &t, why, sizeof why), 0);
    ck_assert_int_ne(units_parse_tokens("1.5k", &t, why, sizeof why), 0);
    ck_assert_int_ne(units_parse_tokens("abc", &t, why, sizeof why), 0);
}
END_TEST

START_TEST(counts)
{
    char why[128];
    uint64_t v;
    ck_assert_int_eq(units_parse_count("4", 1, 10, &v, why, sizeof why), 0);
    ck_assert_uint_eq(v, 4);
    ck_assert_int_ne(units_parse_count("0", 1, 10, &v, why, sizeof why), 0);
    ck_assert_int_ne(units_parse_count("11", 1, 10, &v, why, sizeof why), 0);
    ck_assert_int_ne(units_parse_count("4x", 1, 10, &v, why, sizeof why), 0);
}
END_TEST

Suite *units_suite(void)
{
    Suite *s = suite_create("units");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, counts);
    suite_add_tcase(s, tc);
    return s;
}
