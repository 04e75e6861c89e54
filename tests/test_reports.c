#define _GNU_SOURCE /* open_memstream is POSIX 2008; keep it visible */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/catalog.h"
#include "reports/fmt.h"
#include "reports/plan/plan_plots.h"
#include "reports/plan/plan_xlsx.h"
#include "reports/outfile.h"
#include "reports/plan/report.h"
#include "tests/tests.h"

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
    report_input in = {"8GB", plans, 2, false, 0, false};
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
    report_input in = {"x", &r, 1, false, 0, false};
    char *text = render(REPORT_JSON, &in);
    ck_assert_ptr_nonnull(strstr(text, "9007199254740993"));
    free(text);
    kvplan_result_free(&r);
}
END_TEST

START_TEST(csv_rows_and_values)
{
    kvplan_result r = plan_of("paper-1.2B", 32768);
    report_input in = {"8GB", &r, 1, false, 0, false};
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
    report_input in = {"8GB", &r, 1, false, 0, false};
    char *md = render(REPORT_MD, &in);
    char *js = render(REPORT_JSON, &in);
    cJSON *root = cJSON_Parse(js);
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "models"), 0), "variants");
    for (int j = 0; j < cJSON_GetArraySize(vs); j++) {
        const cJSON *v = cJSON_GetArrayItem(vs, j);
        /* the appendix: exact bytes with thousands separators */
        char g[6][FMT_BYTES], row[512];
        const char *const keys[6] = {"kv_bytes_per_token", "k_bytes", "v_bytes",
                                     "kv_bytes",           "params",  "weight_bytes"};
        for (int k = 0; k < 6; k++)
            fmt_grouped(json_u64(v, keys[k]), g[k], sizeof g[k]);
        snprintf(row, sizeof row, "| %s | %s | %s | %s | %s | %s |",
                 cJSON_GetObjectItemCaseSensitive(v, "label")->valuestring,
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "as_built")) ? "yes" : "", g[0],
                 g[1], g[2], g[3]);
        ck_assert_msg(strstr(md, row) != NULL, "markdown lacks '%s'", row);
        char tail[256], s1[FMT_BYTES], s2[FMT_BYTES];
        fmt_grouped(json_u64(v, "scratch_bytes"), s1, sizeof s1);
        fmt_grouped(json_u64(v, "total_bytes"), s2, sizeof s2);
        snprintf(tail, sizeof tail, " %s | %s | %s | %s |", g[4], g[5], s1, s2);
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
    report_input in = {"8GB", &r, 1, false, 0, false};
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
    char dir[256];
    test_mkdtemp(dir, sizeof dir, "test");
    char path[600];
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
    ck_assert_int_eq(test_count_entries(dir, NULL), 1);
    /* An unwritable place fails with the path in the message. */
    ck_assert_int_eq(outfile_open(&o, "/nonexistent-dir/x.json", &err), QKV_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent-dir/x.json"));
    unlink(path);
    rmdir(dir);
}
END_TEST

/* An interrupt in the middle of writing leaves neither the target nor the
 * temporary file behind. */
START_TEST(interrupted_write_leaves_nothing)
{
    char dir[256];
    test_mkdtemp(dir, sizeof dir, "sig");
    char path[600];
    snprintf(path, sizeof path, "%s/report.json", dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        outfile_install_signal_cleanup();
        outfile o;
        if (outfile_open(&o, path, NULL) != QKV_OK)
            _exit(3);
        fputs("{\"partial\":", o.f);
        fflush(o.f);
        raise(SIGINT);
        _exit(4); /* not reached */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
    ck_assert_int_eq(test_count_entries(dir, NULL), 0);
    test_rm_tree(dir);
}
END_TEST

START_TEST(write_error_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    ck_assert_ptr_nonnull(f);
    kvplan_result r = plan_of("paper-1.2B", 4096);
    report_input in = {"8GB", &r, 1, false, 0, false};
    qkv_error err;
    ck_assert_int_eq(report_write(f, REPORT_JSON, &in, &err), QKV_ERR_IO);
    fclose(f);
    kvplan_result_free(&r);
}
END_TEST

START_TEST(context_sweep)
{
    kvplan_result r = plan_of("paper-1.2B", 32768);
    ck_assert_int_eq(kvplan_sweep(&r, NULL), QKV_OK);
    /* 512 .. 2M: powers of two past max(trained 2048, requested 32768) until
     * no row fits; Q-K=V+MQA (2.75 KiB a token, 1.92 GiB of weights) fits
     * 7 GiB at 1M tokens (4.8 GiB) and not at 2M (7.5 GiB) */
    ck_assert_uint_eq(r.n_sweep, 13);
    ck_assert_uint_eq(r.sweep_ctx[12], 2097152);
    const uint64_t usable = r.params.device_bytes - r.params.reserve_bytes;
    bool fits_before = false;
    for (size_t i = 0; i < r.n_rows; i++) {
        ck_assert_uint_gt(r.sweep_total[i * r.n_sweep + 12], usable);
        fits_before |= r.sweep_total[i * r.n_sweep + 11] <= usable;
    }
    ck_assert(fits_before);
    ck_assert_uint_eq(r.sweep_ctx[0], 512);
    ck_assert_uint_eq(r.sweep_ctx[6], 32768);
    ck_assert_uint_eq(r.sweep_kv[0 * r.n_sweep + 6], 5905580032u);
    for (size_t i = 0; i < r.n_rows; i++) {
        ck_assert_uint_eq(r.sweep_kv[i * r.n_sweep + 6], r.rows[i].kv_bytes);
        ck_assert_uint_eq(r.sweep_total[i * r.n_sweep + 6], r.rows[i].total_bytes);
        for (size_t k = 1; k < r.n_sweep; k++) /* linear in context for the exact engine */
            ck_assert_uint_eq(r.sweep_kv[i * r.n_sweep + k], 2 * r.sweep_kv[i * r.n_sweep + k - 1]);
    }
    kvplan_result_free(&r);
    /* unknown trained context: up to 1M, then on to 2M, where Q-K=V+MQA
     * (still fitting at 1M) stops */
    kvplan_result q = plan_of("paper-1.2B", 1000);
    q.model.max_ctx = 0;
    ck_assert_int_eq(kvplan_sweep(&q, NULL), QKV_OK);
    ck_assert_uint_eq(q.sweep_ctx[q.n_sweep - 1], 1u << 21);
    ck_assert_uint_eq(q.sweep_ctx[q.n_sweep - 2], 1u << 20);
    int has_1000 = 0;
    for (size_t k = 0; k < q.n_sweep; k++)
        has_1000 |= q.sweep_ctx[k] == 1000;
    ck_assert(has_1000);
    kvplan_result_free(&q);
}
END_TEST

/* Read the output of a shell command (unzip) into a string. */
static char *capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    pclose(p);
    return buf;
}

/* The workbook read back with unzip: its sheets, numbers stored as numbers,
 * a native chart on log axes, fixed document time. */
START_TEST(xlsx_contents)
{
    kvplan_result r = plan_of("paper-1.2B", 32768);
    ck_assert_int_eq(kvplan_sweep(&r, NULL), QKV_OK);
    report_input in = {"8GB", &r, 1, false, 0, false};
    char dir[256];
    test_mkdtemp(dir, sizeof dir, "xlsx");
    char path[600], cmd[1024];
    snprintf(path, sizeof path, "%s/plan.xlsx", dir);
    qkv_error err;
    ck_assert_msg(report_xlsx_write(path, &in, &err) == QKV_OK, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "unzip -Z1 %s", path);
    char *list = capture(cmd);
    const char *parts[] = {"xl/workbook.xml",          "xl/worksheets/sheet1.xml",
                           "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml",
                           "xl/worksheets/sheet4.xml", "xl/charts/chart1.xml",
                           "xl/drawings/drawing1.xml"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        ck_assert_msg(strstr(list, parts[i]) != NULL, "workbook lacks %s", parts[i]);
    free(list);
    snprintf(cmd, sizeof cmd, "unzip -p %s xl/workbook.xml", path);
    char *wb = capture(cmd);
    ck_assert_ptr_nonnull(strstr(wb, "name=\"Summary\""));
    ck_assert_ptr_nonnull(strstr(wb, "name=\"Variants\""));
    ck_assert_ptr_nonnull(strstr(wb, "name=\"Memory vs context\""));
    /* printed, every page of Variants repeats its header row and the
     * columns naming the row */
    ck_assert_ptr_nonnull(strstr(wb, "<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"1\">"
                                     "Variants!$A:$B,Variants!$1:$1</definedName>"));
    ck_assert_ptr_nonnull(strstr(wb, "name=\"Paper evidence\""));
    free(wb);
    snprintf(cmd, sizeof cmd, "unzip -p %s xl/worksheets/sheet2.xml", path);
    char *sheet = capture(cmd);
    ck_assert_ptr_nonnull(strstr(sheet, "<v>5905580032</v>")); /* KV bytes of QKV+MHA */
    ck_assert_ptr_nonnull(strstr(sheet, "<v>92274688</v>"));   /* Q-K=V+MQA */
    ck_assert_ptr_nonnull(strstr(sheet, "<pane xSplit=\"2\" ySplit=\"1\""));
    ck_assert_ptr_nonnull(strstr(sheet, "<autoFilter"));
    ck_assert_ptr_nonnull(strstr(sheet, "<conditionalFormatting"));
    free(sheet);
    snprintf(cmd, sizeof cmd, "unzip -p %s xl/charts/chart1.xml", path);
    char *chart = capture(cmd);
    ck_assert_ptr_nonnull(strstr(chart, "<c:scatterChart>"));
    ck_assert_ptr_nonnull(strstr(chart, "<c:logBase val=\"2\"/>"));
    ck_assert_ptr_nonnull(strstr(chart, "'Memory vs context'!$B$3:$B$15"));
    /* axes bounded to the data: the sweep's 512 .. 2M tokens, 0 .. 1.5 x 7 GiB */
    ck_assert_ptr_nonnull(strstr(chart, "<c:max val=\"2097152\"/><c:min val=\"512\"/>"));
    ck_assert_ptr_nonnull(strstr(chart, "<c:max val=\"10.5\"/><c:min val=\"0\"/>"));
    free(chart);
    /* sizes in a unit per column: 88 MiB of KV cache is not "0.086 GiB" */
    snprintf(cmd, sizeof cmd, "unzip -p %s xl/sharedStrings.xml", path);
    chart = capture(cmd);
    ck_assert_ptr_nonnull(strstr(chart, "KV cache (MiB)"));
    ck_assert_ptr_nonnull(strstr(chart, "total (GiB)"));
    free(chart);
    snprintf(cmd, sizeof cmd, "unzip -p %s docProps/core.xml", path);
    char *core = capture(cmd);
    ck_assert_ptr_nonnull(strstr(core, "2026-01-01T00:00:00Z"));
    free(core);
    test_rm_tree(dir);
    kvplan_result_free(&r);
}
END_TEST

/* PNG: signature and IHDR size; SVG: a complete document. */
static void check_images(const char *dir, const char *base)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.png", dir, base);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s missing", path);
    unsigned char h[24];
    ck_assert_uint_eq(fread(h, 1, 24, f), 24);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ck_assert_int_eq(memcmp(h, "\x89PNG\r\n\x1a\n", 8), 0);
    ck_assert_int_eq(memcmp(h + 12, "IHDR", 4), 0);
    unsigned w = (unsigned)h[16] << 24 | h[17] << 16 | h[18] << 8 | h[19];
    unsigned hh = (unsigned)h[20] << 24 | h[21] << 16 | h[22] << 8 | h[23];
    ck_assert_uint_eq(w, 1100);
    ck_assert_uint_eq(hh, 650);
    ck_assert_int_gt(size, 10000); /* a drawn chart, not an empty canvas */
    snprintf(path, sizeof path, "%s/%s.svg", dir, base);
    char *svg;
    size_t n;
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    svg = malloc(n + 1);
    ck_assert_uint_eq(fread(svg, 1, n, f), n);
    svg[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(svg, "<svg"));
    ck_assert_ptr_nonnull(strstr(svg, "</svg>"));
    ck_assert_uint_gt(n, 5000);
    free(svg);
}

START_TEST(gnuplot_plots)
{
    kvplan_result r = plan_of("Llama-3.2-1B", 65536);
    ck_assert_int_eq(kvplan_sweep(&r, NULL), QKV_OK);
    report_input in = {"8GB", &r, 1, false, 0, false};
    char dir[256];
    test_mkdtemp(dir, sizeof dir, "plots");
    qkv_error err;
    ck_assert_msg(report_plots_write(dir, &in, &err) == QKV_OK, "%s", err.msg);
    for (int k = 0; k < PLOT_KINDS; k++)
        if (report_plot_applies(&r, k))
            check_images(dir, report_plot_kinds[k]);
    /* the data are exact bytes: the sweep's last point of the first row */
    char path[600], line[4096];
    snprintf(path, sizeof path, "%s/kv_vs_ctx.dat", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    do /* comment lines first: the budget and the contexts */
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (line[0] == '#');
    ck_assert_ptr_nonnull(strstr(line, "\"QKV+GQA-8 *\""));
    size_t rows = 0;
    char last[4096] = "";
    while (fgets(line, sizeof line, f)) {
        rows++;
        strcpy(last, line);
    }
    fclose(f);
    ck_assert_uint_eq(rows, r.n_sweep);
    char want[64];
    snprintf(want, sizeof want, "%llu %llu ", (unsigned long long)r.sweep_ctx[r.n_sweep - 1],
             (unsigned long long)r.sweep_kv[r.n_sweep - 1]);
    ck_assert_msg(strncmp(last, want, strlen(want)) == 0, "last row '%s'", last);
    ck_assert_int_eq(test_count_entries(dir, "tmp"), 0);
    test_rm_tree(dir);
    kvplan_result_free(&r);
}
END_TEST

Suite *reports_suite(void)
{
    Suite *s = suite_create("reports");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, json_exact_beyond_double);
    tcase_add_test(tc, csv_rows_and_values);
    tcase_add_test(tc, markdown_matches_json);
    tcase_add_test(tc, table_has_verdict_and_rows);
    tcase_add_test(tc, formatting);
    tcase_add_test(tc, atomic_output);
    if (access("/dev/full", W_OK) == 0)
        tcase_add_test(tc, write_error_is_reported);
    else
        test_skip("reports: write_error_is_reported", "no writable /dev/full on this system");
    tcase_add_test(tc, interrupted_write_leaves_nothing);
    tcase_add_test(tc, context_sweep);
    tcase_add_test(tc, xlsx_contents);
    tcase_add_test(tc, gnuplot_plots);
    suite_add_tcase(s, tc);
    return s;
}
