#define _GNU_SOURCE /* open_memstream is POSIX 2008; keep it visible */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analyzer/catalog.h"
#include "../reports/fmt.h"
#include "../reports/outfile.h"
#include "../reports/report.h"
#include "tests.h"

static kvplan_result plan_of(const char *model, uint64_t ctx)
{
    const model_shape *m = catalog_find(model);
    kvplan_params p = kvplan_params_default();
    p.ctx = ctx;
    variant vs[VARIANT_MAX];
    size_t n = variant_default_grid(m, vs, VARIANT_MAX);
    kvplan_result r;
    qkv_error err;
    ck_assert_int_eq(kvplan_plan(m, vs, n, &p, true, &r, &err), QKV_OK);
    return r;
}

static char *render(report_format fmt, const report_input *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    qkv_error err;
    ck_assert_int_eq(report_write(f, fmt, in, &err), QKV_OK);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

static uint64_t json_u64(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v && cJSON_IsNumber(v), "missing number '%s'", key);
    /* Read the text back exactly rather than through the double. */
    char *text = cJSON_PrintUnformatted(v);
    uint64_t x = strtoull(text, NULL, 10);
    cJSON_free(text);
    return x;
}

START_TEST(json_round_trip)
{
    kvplan_result plans[2] = {plan_of("paper-1.2B", 32768), plan_of("Llama-3.1-8B", 131072)};
    report_input in = {"8GB", plans, 2};
    char *text = render(REPORT_JSON, &in);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    ck_assert_int_eq(cJSON_GetArraySize(models), 2);
    ck_assert_uint_eq(json_u64(cJSON_GetObjectItemCaseSensitive(root, "device"), "bytes"),
                      8ull << 30);
    for (int i = 0; i < 2; i++) {
        const cJSON *m = cJSON_GetArrayItem(models, i);
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring,
                         plans[i].model.name);
        const cJSON *vs = cJSON_GetObjectItemCaseSensitive(m, "variants");
        ck_assert_int_eq(cJSON_GetArraySize(vs), (int)plans[i].n_rows);
        for (size_t j = 0; j < plans[i].n_rows; j++) {
            const cJSON *v = cJSON_GetArrayItem(vs, (int)j);
            const kvplan_row *w = &plans[i].rows[j];
            ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(v, "label")->valuestring, w->label);
            ck_assert_uint_eq(json_u64(v, "kv_bytes"), w->kv_bytes);
            ck_assert_uint_eq(json_u64(v, "k_bytes"), w->k_bytes);
            ck_assert_uint_eq(json_u64(v, "v_bytes"), w->v_bytes);
            ck_assert_uint_eq(json_u64(v, "weight_bytes"), w->weight_bytes);
            ck_assert_uint_eq(json_u64(v, "total_bytes"), w->total_bytes);
            ck_assert_uint_eq(json_u64(v, "max_ctx"), w->max_ctx);
            ck_assert_uint_eq(json_u64(v, "max_seqs"), w->max_seqs);
            ck_assert_uint_eq(json_u64(v, "kv_heads"), w->v.kv_heads);
            ck_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(v, "fits")));
            ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "fits")) == w->fits);
            ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(v, "kv_reduction")->valuedouble,
                                w->kv_reduction);
            const cJSON *ppl = cJSON_GetObjectItemCaseSensitive(v, "paper_ppl_delta_pct");
            ck_assert(w->has_paper ? cJSON_IsNumber(ppl) : cJSON_IsNull(ppl));
        }
    }
    /* The paper figure, exactly. */
    const cJSON *v0 = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(models, 0), "variants"), 0);
    ck_assert_uint_eq(json_u64(v0, "kv_bytes"), 5905580032u);
    cJSON_Delete(root);
    free(text);
    kvplan_result_free(&plans[0]);
    kvplan_result_free(&plans[1]);
}
END_TEST

/* Byte counts above 2^53 stay exact (a double would round them). */
START_TEST(json_exact_beyond_double)
{
    kvplan_result r = plan_of("Llama-3.1-8B", 4096);
    r.rows[0].kv_bytes = (1ull << 53) + 1;
    report_input in = {"x", &r, 1};
    char *text = render(REPORT_JSON, &in);
    ck_assert_ptr_nonnull(strstr(text, "9007199254740993"));
    free(text);
    kvplan_result_free(&r);
}
END_TEST

START_TEST(csv_rows_and_values)
{
    kvplan_result r = plan_of("paper-1.2B", 32768);
    report_input in = {"8GB", &r, 1};
    char *text = render(REPORT_CSV, &in);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, r.n_rows + 1);
    ck_assert_ptr_nonnull(strstr(text, "paper-1.2B,QKV+MHA,QKV,32,1,2,180224,32768,1,32768,"
                                       "2952790016,2952790016,5905580032,0,"));
    ck_assert_ptr_nonnull(strstr(text, "paper-1.2B,Q-K=V+MQA,Q-K=V,1,0,1,2816,"));
    free(text);
    kvplan_result_free(&r);
}
END_TEST

/* Every byte count in the Markdown table equals the JSON's. */
START_TEST(markdown_matches_json)
{
    kvplan_result r = plan_of("Gemma-3-270M", 32768);
    report_input in = {"8GB", &r, 1};
    char *md = render(REPORT_MD, &in);
    char *js = render(REPORT_JSON, &in);
    cJSON *root = cJSON_Parse(js);
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "models"), 0), "variants");
    for (int j = 0; j < cJSON_GetArraySize(vs); j++) {
        const cJSON *v = cJSON_GetArrayItem(vs, j);
        char row[512];
        snprintf(row, sizeof row, "| %s | %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |",
                 cJSON_GetObjectItemCaseSensitive(v, "label")->valuestring,
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "as_built")) ? "yes" : "",
                 json_u64(v, "kv_bytes_per_token"), json_u64(v, "k_bytes"), json_u64(v, "v_bytes"),
                 json_u64(v, "kv_bytes"));
        ck_assert_msg(strstr(md, row) != NULL, "markdown lacks '%s'", row);
        char tail[128];
        snprintf(tail, sizeof tail, " %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |",
                 json_u64(v, "params"), json_u64(v, "weight_bytes"), json_u64(v, "scratch_bytes"),
                 json_u64(v, "total_bytes"));
        ck_assert_msg(strstr(md, tail) != NULL, "markdown lacks '%s'", tail);
    }
    cJSON_Delete(root);
    free(md);
    free(js);
    kvplan_result_free(&r);
}
END_TEST

START_TEST(table_has_verdict_and_rows)
{
    kvplan_result r = plan_of("paper-1.2B", 32768);
    report_input in = {"8GB", &r, 1};
    char *text = render(REPORT_TABLE, &in);
    ck_assert_ptr_nonnull(strstr(text, "as built (QKV+MHA) needs"));
    ck_assert_ptr_nonnull(strstr(text, "does not fit"));
    ck_assert_ptr_nonnull(strstr(text, "5,905,580,032 bytes"));
    for (size_t i = 0; i < r.n_rows; i++)
        ck_assert_ptr_nonnull(strstr(text, r.rows[i].label));
    free(text);
    kvplan_result_free(&r);
}
END_TEST

START_TEST(formatting)
{
    char b[FMT_BYTES];
    fmt_size(5905580032u, b, sizeof b);
    ck_assert_str_eq(b, "5.50 GiB");
    fmt_size(180224, b, sizeof b);
    ck_assert_str_eq(b, "176 KiB");
    fmt_size(1023, b, sizeof b);
    ck_assert_str_eq(b, "1023 B");
    fmt_size((1ull << 20) - 1, b, sizeof b);
    ck_assert_str_eq(b, "1.00 MiB");
    fmt_size_signed(-(int64_t)(3ull << 29), b, sizeof b);
    ck_assert_str_eq(b, "-1.50 GiB");
    fmt_grouped(5905580032u, b, sizeof b);
    ck_assert_str_eq(b, "5,905,580,032");
    fmt_grouped(999, b, sizeof b);
    ck_assert_str_eq(b, "999");
    fmt_tokens(32768, b, sizeof b);
    ck_assert_str_eq(b, "32k");
    fmt_tokens(1u << 20, b, sizeof b);
    ck_assert_str_eq(b, "1M");
    fmt_tokens(27439, b, sizeof b);
    ck_assert_str_eq(b, "27439");
    ck_assert(fmt_double(3.1, b, sizeof b));
    ck_assert_str_eq(b, "3.1");
    ck_assert(fmt_double(0.984375, b, sizeof b));
    ck_assert_str_eq(b, "0.984375");
    ck_assert(!fmt_double(0.0 / 0.0, b, sizeof b));
    ck_assert_str_eq(b, "");
}
END_TEST

START_TEST(atomic_output)
{
    char dir[] = "/tmp/qkvplan-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.json", dir);
    /* An existing file survives an aborted write untouched. */
    FILE *f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    outfile o;
    qkv_error err;
    ck_assert_int_eq(outfile_open(&o, path, &err), QKV_OK);
    fputs("partial", o.f);
    outfile_abort(&o);
    f = fopen(path, "r");
    char buf[16] = "";
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "old");
    /* A committed write replaces it and leaves no temporary behind. */
    ck_assert_int_eq(outfile_open(&o, path, &err), QKV_OK);
    fputs("new", o.f);
    ck_assert_int_eq(outfile_commit(&o, &err), QKV_OK);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "new");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    /* An unwritable place fails with the path in the message. */
    ck_assert_int_eq(outfile_open(&o, "/nonexistent-dir/x.json", &err), QKV_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent-dir/x.json"));
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(write_error_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        return; /* no /dev/full on this system */
    kvplan_result r = plan_of("paper-1.2B", 4096);
    report_input in = {"8GB", &r, 1};
    qkv_error err;
    ck_assert_int_eq(report_write(f, REPORT_JSON, &in, &err), QKV_ERR_IO);
    fclose(f);
    kvplan_result_free(&r);
}
END_TEST

Suite *reports_suite(void)
{
    Suite *s = suite_create("reports");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, json_exact_beyond_double);
    tcase_add_test(tc, csv_rows_and_values);
    tcase_add_test(tc, markdown_matches_json);
    tcase_add_test(tc, table_has_verdict_and_rows);
    tcase_add_test(tc, formatting);
    tcase_add_test(tc, atomic_output);
    tcase_add_test(tc, write_error_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
