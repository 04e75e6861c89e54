/* tests.h — the Check suites of qkvplan, one per module, run by check_main.c. */
#ifndef QKV_TESTS_H
#define QKV_TESTS_H

#include <check.h>

Suite *dtype_suite(void);
Suite *variant_suite(void);
Suite *kvplan_suite(void);
Suite *catalog_suite(void);
Suite *hfconfig_suite(void);
Suite *units_suite(void);
Suite *reports_suite(void);
Suite *runtime_suite(void);
Suite *spectral_suite(void);
Suite *probe_suite(void);
Suite *train_suite(void);
Suite *formats_suite(void);

/* Directory of test fixtures, relative to the repository root. */
#define FIXTURES "tests/fixtures/"

#endif
