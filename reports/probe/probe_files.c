/* The probe's workbook (sheet "Probe", one row per head) and report folder. */
#include "reports/probe/probe_report.h"

#include "reports/probe/probe_plots.h"
#include "reports/xlsx.h"

qkv_status report_xlsx_probe_write(const char *path, const probe_report_input *in, qkv_error *err)
{
    static const char *const heads[] = {"layer",
                                        "head",
                                        "KV head",
                                        "erank Q",
                                        "erank K (pre-RoPE)",
                                        "erank K",
                                        "erank V",
                                        "erank map",
                                        "erank W_Q",
                                        "erank W_K",
                                        "erank W_V",
                                        "K–V mean cos²",
                                        "Q–K mean cos²",
                                        "chance k/d",
                                        "Grassmann K–V",
                                        "CKA K–V",
                                        "CKA Q–K",
                                        "sym share W",
                                        "sym share scores",
                                        "map entropy",
                                        "first-token mass",
                                        "mean distance"};
    const int nc = (int)(sizeof heads / sizeof heads[0]);
    outfile of;
    report_xlsx_formats f;
    qkv_status s;
    lxw_worksheet *ws;
    lxw_workbook *wb = report_xlsx_open_table(&of, path, &f, "Probe", heads, nc, &ws, err, &s);
    if (!wb)
        return s;
    for (int c = 0; c < nc; c++)
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c < 3 ? 7 : 11, NULL);
    const probe_result *r = in->probe;
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        const double v[] = {h->layer,
                            h->head,
                            h->kv_head,
                            h->q.erank,
                            h->k_pre.erank,
                            h->k.erank,
                            h->v.erank,
                            h->map.erank,
                            h->wq.erank,
                            h->wk.erank,
                            h->wv.erank,
                            h->kv.mean_cos2,
                            h->qk.mean_cos2,
                            h->kv.chance,
                            h->kv.grassmann,
                            h->cka_kv,
                            h->cka_qk,
                            h->sym_w,
                            h->sym_scores,
                            h->map_stats.entropy,
                            h->map_stats.first_mass,
                            h->map_stats.mean_dist};
        for (int c = 0; c < nc; c++)
            report_xlsx_num(ws, i + 1, c, v[c], c < 3 ? NULL : f.num3);
    }
    worksheet_freeze_panes(ws, 1, 3);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(r->n_heads > 0 ? r->n_heads : 1),
                         (lxw_col_t)(nc - 1));
    report_xlsx_str(ws, r->n_heads + 2, 0, in->model_label, f.bold);
    return report_xlsx_finish(wb, &of, path, err);
}

static qkv_status bundle_text(FILE *f, report_format fmt, const void *data, const char *plots_rel,
                              const char *plots_note, qkv_error *err)
{
    (void)plots_rel;
    (void)plots_note;
    return report_probe_write(f, fmt, data, err);
}

static qkv_status bundle_xlsx(const char *path, const void *data, qkv_error *err)
{
    return report_xlsx_probe_write(path, data, err);
}

static qkv_status bundle_plots(const char *dir, const void *data, qkv_error *err)
{
    return report_probe_plots_write(dir, data, err);
}

report_bundle report_probe_bundle(const probe_report_input *in)
{
    return (report_bundle){"probe", in, bundle_text, bundle_xlsx, bundle_plots};
}
