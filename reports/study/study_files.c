/* The study's workbook (sheet "Study", one row per task and variant) and report folder. */
#include "reports/study/study_report.h"

#include "reports/xlsx.h"

qkv_status report_xlsx_study_write(const char *path, const study_result *r, qkv_error *err)
{
    static const char *const heads[] = {"task",
                                        "length",
                                        "variant",
                                        "metric",
                                        "mean",
                                        "sd",
                                        "vs QKV",
                                        "KV bytes per token",
                                        "parameters",
                                        "K–V mean cos²",
                                        "Q–K mean cos²",
                                        "sym share W",
                                        "sym share scores",
                                        "erank K / min(T,HD)",
                                        "K–V CKA",
                                        "K–V CKA, random W_V",
                                        "W_K·W_V cos"};
    const int nc = (int)(sizeof heads / sizeof heads[0]);
    outfile of;
    report_xlsx_formats f;
    qkv_status s;
    lxw_worksheet *ws;
    lxw_workbook *wb = report_xlsx_open_table(&of, path, &f, "Study", heads, nc, &ws, err, &s);
    if (!wb)
        return s;
    for (int c = 0; c < nc; c++)
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 0 || c == 2 || c == 3 ? 16 : 11,
                             NULL);
    int row = 1;
    for (int ti = 0; ti < r->n_tasks; ti++) {
        for (int vi = 0; vi < r->n_vars; vi++, row++) {
            const study_cell *c = &r->cells[ti * r->n_vars + vi];
            const bool text = r->tasks[ti].kind == TASK_TEXT;
            report_xlsx_str(ws, row, 0, r->tasks[ti].name, NULL);
            report_xlsx_num(ws, row, 1, r->tasks[ti].len, NULL);
            report_xlsx_str(ws, row, 2, r->vars[vi].label, NULL);
            report_xlsx_str(ws, row, 3, text ? "eval loss (nats)" : "eval accuracy (%)", NULL);
            report_xlsx_num(ws, row, 4, c->metric_mean, f.num3);
            report_xlsx_num(ws, row, 5, c->metric_sd, f.num3);
            if (c->has_delta)
                report_xlsx_num(ws, row, 6, c->delta_vs_qkv, f.num3);
            report_xlsx_num(ws, row, 7, (double)c->kv_bytes_per_token, f.bytes);
            report_xlsx_num(ws, row, 8, (double)c->params, f.bytes);
            report_xlsx_num(ws, row, 9, c->kv_cos2, f.num3);
            report_xlsx_num(ws, row, 10, c->qk_cos2, f.num3);
            report_xlsx_num(ws, row, 11, c->sym_w, f.num3);
            report_xlsx_num(ws, row, 12, c->sym_scores, f.num3);
            report_xlsx_num(ws, row, 13, c->erank_k_frac, f.num3);
            report_xlsx_num(ws, row, 14, c->cka_kv, f.num3);
            report_xlsx_num(ws, row, 15, c->cka_kv_rand, f.num3);
            report_xlsx_num(ws, row, 16, c->kv_flat_cos, f.num3);
        }
    }
    worksheet_freeze_panes(ws, 1, 3);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(row > 1 ? row - 1 : 1), (lxw_col_t)(nc - 1));
    return report_xlsx_finish(wb, &of, path, err);
}

static qkv_status bundle_text(FILE *f, report_format fmt, const void *data, const char *plots_rel,
                              const char *plots_note, qkv_error *err)
{
    (void)plots_rel;
    (void)plots_note;
    return report_study_write(f, fmt, data, err);
}

static qkv_status bundle_xlsx(const char *path, const void *data, qkv_error *err)
{
    return report_xlsx_study_write(path, data, err);
}

static qkv_status bundle_plots(const char *dir, const void *data, qkv_error *err)
{
    return report_study_plots_write(dir, data, err);
}

report_bundle report_study_bundle(const study_result *r)
{
    return (report_bundle){"study", r, bundle_text, bundle_xlsx, bundle_plots};
}
