/* tests.h — the Check suites of qkvplan, one per module, run by check_main.c. */
#ifndef QKV_TESTS_H
#define QKV_TESTS_H

#include <check.h>
#include <stddef.h>
#include <stdio.h>

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
Suite *generate_suite(void);
Suite *offload_suite(void);
Suite *lm_suite(void);
Suite *sweep_suite(void);

/* A new private folder "$TMPDIR/qkvplan-STEM-XXXXXX" (TMPDIR defaults to
 * /tmp) written into buf; fails the test when it cannot be made. */
char *test_mkdtemp(char *buf, size_t buf_bytes, const char *stem);
/* Likewise a new file, open for writing: returns its descriptor. */
int test_mkstemp(char *buf, size_t buf_bytes, const char *stem);
/* Remove a file or a folder and everything in it (no shell). */
void test_rm_tree(const char *path);
/* Entries of dir whose name contains `containing` (NULL: all). */
int test_count_entries(const char *dir, const char *containing);

/* Record a test that cannot run here, with the reason; called while a suite
 * is built, instead of adding the test. check_main prints each skip and
 * counts them in its summary line. */
void test_skip(const char *name, const char *reason);
int test_skips_report(FILE *f);

/* Directory of test fixtures, relative to the repository root. */
#define FIXTURES "tests/fixtures/"

/* The bundled stories260K checkpoint (examples/models/README.md has its
 * configuration, sha256 and reference logits). */
#define STORIES "examples/models/stories260K.bin"

#endif
