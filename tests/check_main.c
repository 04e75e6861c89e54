/* Runs every Check suite; the exit status is non-zero when any test fails.
 * After Check's own summary it prints each skipped test with its reason and
 * one line "unit: N passed, N failed, N skipped". */
#include <stdio.h>
#include <stdlib.h>

#include "tests/tests.h"

int main(void)
{
    SRunner *sr = srunner_create(dtype_suite());
    srunner_add_suite(sr, variant_suite());
    srunner_add_suite(sr, kvplan_suite());
    srunner_add_suite(sr, catalog_suite());
    srunner_add_suite(sr, hfconfig_suite());
    srunner_add_suite(sr, units_suite());
    srunner_add_suite(sr, reports_suite());
    srunner_add_suite(sr, runtime_suite());
    srunner_add_suite(sr, spectral_suite());
    srunner_add_suite(sr, probe_suite());
    srunner_add_suite(sr, train_suite());
    srunner_add_suite(sr, formats_suite());
    srunner_add_suite(sr, generate_suite());
    srunner_add_suite(sr, offload_suite());
    srunner_add_suite(sr, lm_suite());
    srunner_add_suite(sr, sweep_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    const int skipped = test_skips_report(stdout);
    printf("unit: %d passed, %d failed, %d skipped\n", run - failed, failed, skipped);
    return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
