#include "reports/study/sweep_report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/formats/json_strict.h"
#include "analyzer/paper.h"
#include "reports/fmt.h"
#include "reports/jsonutil.h"
#include "reports/textwrap.h"

qkv_status report_sweep_line(const sweep_grid *g, long j, const sweep_outcome *o, char **text,
                             qkv_error *err)
{
    char gt[SWEEP_TEXT_BYTES], rt[SWEEP_TEXT_BYTES];
    sweep_grid_text(g, gt, sizeof gt);
    sweep_regime_text(g, rt, sizeof rt);
    sweep_run r;
    sweep_run_at(g, j, &r);
    study_variant v;
    qkv_status st = sweep_variant(g, &r, &v, err);
    if (st != QKV_OK)
        return st;
    cJSON *root = report_json_document(), *arr;
    JSON_CHECK(root);
    JSON_CHECK(cJSON_AddStringToObject(root, "study", "table1"));
    JSON_CHECK(cJSON_AddStringToObject(root, "grid", gt));
    JSON_CHECK(cJSON_AddStringToObject(root, "regime", rt));
    JSON_CHECK(cJSON_AddNumberToObject(root, "runs", (double)sweep_count(g)));
    JSON_CHECK(cJSON_AddNumberToObject(root, "run", (double)j));
    JSON_CHECK(cJSON_AddStringToObject(root, "task", task_kind_name(g->tasks[r.task])));
    JSON_CHECK(cJSON_AddNumberToObject(root, "len", r.len));
    JSON_CHECK(cJSON_AddNumberToObject(root, "d_model", r.d));
    JSON_CHECK(cJSON_AddNumberToObject(root, "layers", r.layers));
    JSON_CHECK(cJSON_AddNumberToObject(root, "heads", r.heads));
    JSON_CHECK(cJSON_AddStringToObject(root, "variant", v.label));
    JSON_CHECK(cJSON_AddNumberToObject(root, "seed", r.seed));
    JSON_CHECK(report_json_double(root, "accuracy", o->accuracy));
    JSON_CHECK(report_json_double(root, "eval_loss", o->eval_loss));
    JSON_CHECK(report_json_double(root, "train_loss_final", o->train_loss_final));
    JSON_CHECK(cJSON_AddNumberToObject(root, "steps", o->steps));
    JSON_CHECK(cJSON_AddNumberToObject(root, "steps_to_99", o->steps_to_99));
    JSON_CHECK(report_json_u64(root, "params", o->params));
    JSON_CHECK(report_json_u64(root, "kv_bytes_per_token", o->kv_bytes_per_token));
    if (o->n_gain) {
        JSON_CHECK(arr = cJSON_AddArrayToObject(root, "pos2d_gain"));
        for (int l = 0; l < o->n_gain; l++) {
            cJSON *n = report_json_double_item(o->gain[l]);
            JSON_CHECK(n);
            cJSON_AddItemToArray(arr, n);
        }
    }
    JSON_CHECK(report_json_double(root, "seconds", o->seconds));
    *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!*text)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building a result line");
    return QKV_OK;
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building a result line");
}

/* A string field into buf. */
static qkv_status get_string(const cJSON *o, const char *key, char *buf, size_t n, qkv_error *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(x))
        return qkv_error_set(err, QKV_ERR_INVALID, "field '%s': missing or not a string", key);
    if (strlen(x->valuestring) >= n)
        return qkv_error_set(err, QKV_ERR_INVALID, "field '%s': too long", key);
    snprintf(buf, n, "%s", x->valuestring);
    return QKV_OK;
}

qkv_status report_sweep_line_parse(const char *text, size_t n, sweep_line *out, qkv_error *err)
{
    memset(out, 0, sizeof *out);
    cJSON *o = NULL;
    qkv_status ps = json_strict_parse_status(text, n, &o, err);
    if (ps != QKV_OK)
        return ps;
    qkv_status st = QKV_OK;
    char study[16];
    double run = 0, len = 0, d = 0, layers = 0, heads = 0, seed = 0;
    if (!cJSON_IsObject(o))
        st = qkv_error_set(err, QKV_ERR_INVALID, "not a JSON object");
    if (st == QKV_OK && (st = get_string(o, "study", study, sizeof study, err)) == QKV_OK &&
        strcmp(study, "table1") != 0)
        st = qkv_error_set(err, QKV_ERR_INVALID,
                           "field 'study': '%s' is not a Table 1 sweep line (\"table1\")", study);
    if (st == QKV_OK)
        st = get_string(o, "grid", out->grid, sizeof out->grid, err);
    if (st == QKV_OK)
        st = get_string(o, "regime", out->regime, sizeof out->regime, err);
    if (st == QKV_OK)
        st = get_string(o, "task", out->task, sizeof out->task, err);
    if (st == QKV_OK)
        st = get_string(o, "variant", out->variant, sizeof out->variant, err);
    const struct {
        const char *key;
        double *v, lo, hi;
        bool whole, nullable;
    } nums[] = {{"run", &run, 0, 1e9, true, false},
                {"len", &len, 2, 4096, true, false},
                {"d_model", &d, 1, 4096, true, false},
                {"layers", &layers, 1, SWEEP_LAYERS_MAX, true, false},
                {"heads", &heads, 1, 256, true, false},
                {"seed", &seed, 0, 1e6, true, false},
                {"accuracy", &out->accuracy, 0, 100, false, false},
                {"eval_loss", &out->eval_loss, 0, 1e300, false, true},
                {"seconds", &out->seconds, 0, 1e9, false, false}};
    for (size_t i = 0; st == QKV_OK && i < sizeof nums / sizeof *nums; i++)
        st = report_json_read_number(o, nums[i].key, nums[i].lo, nums[i].hi, nums[i].whole,
                                     nums[i].nullable, nums[i].v, err);
    cJSON_Delete(o);
    out->run = (long)run;
    out->len = (int)len, out->d = (int)d, out->layers = (int)layers, out->heads = (int)heads;
    out->seed = (int)seed;
    return st;
}

qkv_status report_sweep_line_check(const sweep_grid *g, const sweep_line *l, qkv_error *err)
{
    if (l->run >= sweep_count(g))
        return qkv_error_set(err, QKV_ERR_INVALID, "run %ld: the sweep has %ld runs", l->run,
                             sweep_count(g));
    sweep_run r;
    sweep_run_at(g, l->run, &r);
    study_variant v;
    qkv_status st = sweep_variant(g, &r, &v, err);
    if (st != QKV_OK)
        return st;
    if (strcmp(l->task, task_kind_name(g->tasks[r.task])) != 0 || l->len != r.len || l->d != r.d ||
        l->layers != r.layers || l->heads != r.heads || l->seed != r.seed ||
        strcmp(l->variant, v.label) != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "run %ld is %s@%d d %d, %d layers, %d heads, %s, seed %d in this "
                             "sweep, not %s@%d d %d, %d layers, %d heads, %s, seed %d",
                             l->run, task_kind_name(g->tasks[r.task]), r.len, r.d, r.layers,
                             r.heads, v.label, r.seed, l->task, l->len, l->d, l->layers, l->heads,
                             l->variant, l->seed);
    return QKV_OK;
}

static const char *const merged_note =
    "Mean token accuracy (%) over the runs present of each cell, every grid point weighing the "
    "same, as the paper's Table 1 averages its sweep; ± is the sample sd of the seeds' means. "
    "Paper: Table 1 of " PAPER_ARXIV ". Signs: the paper's and the measured difference from QKV, "
    "each counted as 0 within 1 point; 'NOT REPRODUCED' marks a cell whose signs differ.";

static const char *sign_word(const study_cell *c)
{
    if (!c->has_paper_delta)
        return "";
    return c->sign_paper == c->sign_measured ? "agree" : "NOT REPRODUCED";
}

static long cell_total(const sweep_merged *m, bool by_len)
{
    const sweep_grid *g = &m->grid;
    const long per = (long)g->n_d * g->n_layers * g->n_heads * g->seeds;
    return by_len ? per : per * g->n_lens;
}

static void header(FILE *f, const sweep_merged *m, int n_sources, bool md)
{
    char gt[SWEEP_TEXT_BYTES], rt[SWEEP_TEXT_BYTES], a[32], b[32];
    sweep_grid_text(&m->grid, gt, sizeof gt);
    sweep_regime_text(&m->grid, rt, sizeof rt);
    fmt_grouped((uint64_t)m->present, a, sizeof a);
    fmt_grouped((uint64_t)m->total, b, sizeof b);
    const char *li = md ? "- " : "";
    if (md)
        fprintf(f, "# qkvplan study merge: the paper's Table 1 sweep\n\n");
    else
        fprintf(f, "qkvplan study merge: the paper's Table 1 sweep\n");
    fprintf(f, "%sSweep: %s\n%sRegime: %s\n", li, gt, li, rt);
    fprintf(f, "%sRuns: %s of %s from %d file%s", li, a, b, n_sources, n_sources == 1 ? "" : "s");
    if (m->duplicates)
        fprintf(f, " (%ld repeated line%s ignored: the first of each run counts)", m->duplicates,
                m->duplicates == 1 ? "" : "s");
    fprintf(f, m->present < m->total ? "; INCOMPLETE: each mean covers only its runs present.\n"
                                     : "; complete.\n");
}

static void write_cells(FILE *f, const sweep_merged *m, bool md)
{
    const study_result *r = &m->all;
    const long per = cell_total(m, false);
    if (md)
        fprintf(f, "\n## Table 1: every length\n\n| task | variant | runs | measured | vs QKV | "
                   "paper | paper vs QKV | signs | eval loss |\n"
                   "|---|---|--:|--:|--:|--:|--:|---|--:|\n");
    else
        fprintf(f, "\nTable 1, every length (accuracy %%):\n%-8s %-10s %9s %12s %6s %6s %6s %s\n",
                "task", "variant", "runs", "mean ± sd", "vsQKV", "paper", "p.vsQ", "signs");
    for (int t = 0; t < r->n_tasks; t++)
        for (int v = 0; v < r->n_vars; v++) {
            const study_cell *c = &r->cells[t * r->n_vars + v];
            char runs[32], ms[40] = "-", dv[16] = "", pv[16] = "", pd[16] = "";
            snprintf(runs, sizeof runs, "%d/%ld", m->runs_all[t * r->n_vars + v], per);
            if (!isnan(c->metric_mean))
                snprintf(ms, sizeof ms, "%.1f ± %.1f", c->metric_mean, c->metric_sd);
            if (c->has_delta) /* + 0.0: a difference that rounds to zero shows +0.0 */
                snprintf(dv, sizeof dv, "%+.1f", round(c->delta_vs_qkv * 10.0) / 10.0 + 0.0);
            if (c->has_paper)
                snprintf(pv, sizeof pv, "%.1f", c->paper_value);
            if (c->has_paper_delta)
                snprintf(pd, sizeof pd, "%+.1f", c->paper_delta);
            char el[24] = "-";
            if (isfinite(c->eval_loss))
                snprintf(el, sizeof el, "%.3f", c->eval_loss);
            if (md)
                fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r->tasks[t].name,
                        r->vars[v].label, runs, ms, dv, pv, pd, sign_word(c), el);
            else
                fprintf(f, "%-8s %-10s %9s %12s %6s %6s %6s %s\n", r->tasks[t].name,
                        r->vars[v].label, runs, ms, dv, pv, pd, sign_word(c));
        }
}

static void write_by_length(FILE *f, const sweep_merged *m, bool md)
{
    const study_result *r = &m->by_len;
    fprintf(f,
            md ? "\n## By length (mean accuracy %%)\n\n| task |"
               : "\nBy length (mean accuracy %%):\n%-11s",
            md ? "" : "task");
    for (int v = 0; v < r->n_vars; v++)
        fprintf(f, md ? " %s |" : " %9.9s", r->vars[v].label);
    fputs(md ? "\n|---|" : "\n", f);
    for (int v = 0; md && v < r->n_vars; v++)
        fputs("--:|", f);
    if (md)
        fputc('\n', f);
    for (int t = 0; t < r->n_tasks; t++) {
        char name[96];
        snprintf(name, sizeof name, "%s@%d", r->tasks[t].name, r->tasks[t].len);
        fprintf(f, md ? "| %s |" : "%-11s", name);
        for (int v = 0; v < r->n_vars; v++) {
            const study_cell *c = &r->cells[t * r->n_vars + v];
            char x[16] = "-";
            if (!isnan(c->metric_mean))
                snprintf(x, sizeof x, "%.1f", c->metric_mean);
            fprintf(f, md ? " %s |" : " %9s", x);
        }
        fputc('\n', f);
    }
}

static void write_checks(FILE *f, const study_result *r, const char *title, bool md)
{
    if (!r->n_checks)
        return;
    int passed = 0;
    for (int k = 0; k < r->n_checks; k++)
        passed += r->checks[k].pass;
    fprintf(f, "\n%s%s (%d of %d hold):%s\n", md ? "## " : "", title, passed, r->n_checks,
            md ? "\n" : "");
    for (int k = 0; k < r->n_checks; k++)
        fprintf(f, "%s%s %s (%s)\n", md ? "- " : "  ", r->checks[k].pass ? "PASS" : "FAIL",
                r->checks[k].what, r->checks[k].detail);
}

static void write_text(FILE *f, const sweep_merged *m, int n_sources, bool md)
{
    header(f, m, n_sources, md);
    write_cells(f, m, md);
    write_by_length(f, m, md);
    write_checks(f, &m->all, "The paper's findings over the sweep", md);
    write_checks(f, &m->by_len, "The same per length", md);
    fputc('\n', f);
    if (md)
        fprintf(f, "- %s\n", merged_note);
    else
        report_wrap(f, merged_note, 80, 0);
}

/* A view's cells; with_paper: the paper's figures beside them (Table 1
 * averages every length, so the per-length view goes without). */
static qkv_status json_view(cJSON *root, const char *key, const study_result *r, const int *runs,
                            long per, bool with_paper)
{
    cJSON *arr = cJSON_AddArrayToObject(root, key), *cell;
    JSON_CHECK(arr);
    for (int t = 0; t < r->n_tasks; t++)
        for (int v = 0; v < r->n_vars; v++) {
            const study_cell *c = &r->cells[t * r->n_vars + v];
            JSON_CHECK(cell = cJSON_CreateObject());
            cJSON_AddItemToArray(arr, cell);
            JSON_CHECK(cJSON_AddStringToObject(cell, "task", r->tasks[t].name));
            if (r->tasks[t].len > 0)
                JSON_CHECK(cJSON_AddNumberToObject(cell, "len", r->tasks[t].len));
            JSON_CHECK(cJSON_AddStringToObject(cell, "variant", r->vars[v].label));
            JSON_CHECK(cJSON_AddNumberToObject(cell, "runs", runs[t * r->n_vars + v]));
            JSON_CHECK(cJSON_AddNumberToObject(cell, "runs_expected", (double)per));
            JSON_CHECK(report_json_double(cell, "accuracy_mean", c->metric_mean));
            JSON_CHECK(report_json_double(cell, "accuracy_sd_over_seeds", c->metric_sd));
            JSON_CHECK(report_json_double(cell, "eval_loss", c->eval_loss));
            if (c->has_delta)
                JSON_CHECK(report_json_double(cell, "delta_vs_qkv", c->delta_vs_qkv));
            if (with_paper && c->has_paper)
                JSON_CHECK(report_json_double(cell, "paper_value", c->paper_value));
            if (with_paper && c->has_paper_delta) {
                JSON_CHECK(report_json_double(cell, "paper_delta_vs_qkv", c->paper_delta));
                JSON_CHECK(
                    cJSON_AddBoolToObject(cell, "signs_agree", c->sign_paper == c->sign_measured));
            }
        }
    return QKV_OK;
nomem:
    return QKV_ERR_NOMEM;
}

static qkv_status json_checks(cJSON *root, const char *key, const study_result *r)
{
    cJSON *arr = cJSON_AddArrayToObject(root, key), *cell;
    JSON_CHECK(arr);
    for (int k = 0; k < r->n_checks; k++) {
        JSON_CHECK(cell = cJSON_CreateObject());
        cJSON_AddItemToArray(arr, cell);
        JSON_CHECK(cJSON_AddStringToObject(cell, "finding", r->checks[k].what));
        JSON_CHECK(cJSON_AddStringToObject(cell, "measured", r->checks[k].detail));
        JSON_CHECK(cJSON_AddBoolToObject(cell, "pass", r->checks[k].pass));
    }
    return QKV_OK;
nomem:
    return QKV_ERR_NOMEM;
}

static qkv_status write_json(FILE *f, const sweep_merged *m, int n_sources, qkv_error *err)
{
    char gt[SWEEP_TEXT_BYTES], rt[SWEEP_TEXT_BYTES];
    sweep_grid_text(&m->grid, gt, sizeof gt);
    sweep_regime_text(&m->grid, rt, sizeof rt);
    cJSON *root = report_json_document();
    JSON_CHECK(root);
    JSON_CHECK(cJSON_AddStringToObject(root, "study", "table1"));
    JSON_CHECK(cJSON_AddStringToObject(root, "grid", gt));
    JSON_CHECK(cJSON_AddStringToObject(root, "regime", rt));
    JSON_CHECK(cJSON_AddNumberToObject(root, "files", n_sources));
    JSON_CHECK(cJSON_AddNumberToObject(root, "runs_expected", (double)m->total));
    JSON_CHECK(cJSON_AddNumberToObject(root, "runs_present", (double)m->present));
    JSON_CHECK(cJSON_AddNumberToObject(root, "lines_repeated", (double)m->duplicates));
    JSON_CHECK(cJSON_AddBoolToObject(root, "complete", m->present == m->total));
    if (json_view(root, "cells", &m->all, m->runs_all, cell_total(m, false), true) != QKV_OK ||
        json_view(root, "by_length", &m->by_len, m->runs_len, cell_total(m, true), false) !=
            QKV_OK ||
        json_checks(root, "checks", &m->all) != QKV_OK ||
        json_checks(root, "checks_by_length", &m->by_len) != QKV_OK)
        goto nomem;
    JSON_CHECK(cJSON_AddStringToObject(root, "note", merged_note));
    return report_json_emit(f, root, err);
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}

static void csv_view(FILE *f, const study_result *r, const int *runs, long per)
{
    for (int t = 0; t < r->n_tasks; t++)
        for (int v = 0; v < r->n_vars; v++) {
            const study_cell *c = &r->cells[t * r->n_vars + v];
            char mean[40], sd[40], dv[40] = "", pv[40] = "", pd[40] = "";
            fmt_double(c->metric_mean, mean, sizeof mean);
            fmt_double(c->metric_sd, sd, sizeof sd);
            if (c->has_delta)
                fmt_double(c->delta_vs_qkv, dv, sizeof dv);
            if (c->has_paper)
                fmt_double(c->paper_value, pv, sizeof pv);
            if (c->has_paper_delta)
                fmt_double(c->paper_delta, pd, sizeof pd);
            fprintf(f, "%s,%s,%s,%d,%ld,%s,%s,%s,%s,%s,%s\n", r->tasks[t].name,
                    r->tasks[t].len > 0 ? "" : "all", r->vars[v].label, runs[t * r->n_vars + v],
                    per, mean, sd, dv, pv, pd,
                    c->has_paper_delta ? (c->sign_paper == c->sign_measured ? "1" : "0") : "");
        }
}

static void write_csv(FILE *f, const sweep_merged *m)
{
    fputs("task,len,variant,runs,runs_expected,accuracy_mean,accuracy_sd_over_seeds,"
          "delta_vs_qkv,paper_value,paper_delta_vs_qkv,signs_agree\n",
          f);
    csv_view(f, &m->all, m->runs_all, cell_total(m, false));
    /* per length: the len column holds the length */
    const study_result *r = &m->by_len;
    for (int t = 0; t < r->n_tasks; t++)
        for (int v = 0; v < r->n_vars; v++) {
            const study_cell *c = &r->cells[t * r->n_vars + v];
            char mean[40], sd[40], dv[40] = "";
            fmt_double(c->metric_mean, mean, sizeof mean);
            fmt_double(c->metric_sd, sd, sizeof sd);
            if (c->has_delta)
                fmt_double(c->delta_vs_qkv, dv, sizeof dv);
            fprintf(f, "%s,%d,%s,%d,%ld,%s,%s,%s,,,\n", r->tasks[t].name, r->tasks[t].len,
                    r->vars[v].label, m->runs_len[t * r->n_vars + v], cell_total(m, true), mean, sd,
                    dv);
        }
}

qkv_status report_sweep_write(FILE *f, report_format fmt, const sweep_merged *m, int n_sources,
                              qkv_error *err)
{
    qkv_status s = QKV_OK;
    switch (fmt) {
    case REPORT_TABLE:
    case REPORT_MD:
        write_text(f, m, n_sources, fmt == REPORT_MD);
        break;
    case REPORT_JSON:
        s = write_json(f, m, n_sources, err);
        break;
    case REPORT_CSV:
        write_csv(f, m);
        break;
    default:
        return qkv_error_set(err, QKV_ERR_INVALID, "unknown report format");
    }
    return report_flushed(f, s, err);
}
