/* The planner's workbook (plan_xlsx.h). */
#include "reports/plan/plan_xlsx.h"

#include <stdio.h>
#include <string.h>

#include "analyzer/dtype.h"
#include "analyzer/paper.h"
#include "reports/xlsx.h"

#define GIB REPORT_XLSX_GIB

static void summary_sheet(lxw_worksheet *ws, const report_input *in, const report_xlsx_formats *f)
{
    const kvplan_params *p = &in->plans[0].params;
    char buf[1024];
    int r = 0;
    worksheet_set_column(ws, 0, 0, 24, NULL);
    worksheet_set_column(ws, 1, 1, 100, f->wrap);
    report_xlsx_str(ws, r++, 0, "qkvplan memory plan", f->title);
    r++;
    report_xlsx_str(ws, r, 0, "Device", f->bold);
    report_xlsx_str(ws, r++, 1, in->device_label, NULL);
    report_xlsx_str(ws, r, 0, "Device bytes", f->bold);
    report_xlsx_num(ws, r++, 1, (double)p->device_bytes, f->left);
    report_xlsx_str(ws, r, 0, "Reserve bytes", f->bold);
    report_xlsx_num(ws, r++, 1, (double)p->reserve_bytes, f->left);
    report_xlsx_str(ws, r, 0, "Usable bytes", f->bold);
    report_xlsx_num(ws, r++, 1, (double)(p->device_bytes - p->reserve_bytes), f->left);
    report_xlsx_str(ws, r, 0, "Context (tokens)", f->bold);
    report_xlsx_num(ws, r++, 1, (double)p->ctx, f->left);
    report_xlsx_str(ws, r, 0, "Sequences", f->bold);
    report_xlsx_num(ws, r++, 1, (double)p->seqs, f->left);
    report_xlsx_str(ws, r, 0, "Engine", f->bold);
    char engine[96];
    kvplan_engine_describe(p, engine, sizeof engine);
    snprintf(buf, sizeof buf, "%s, ubatch %llu, flash attention %s", engine,
             (unsigned long long)p->ubatch, kvplan_fa_name(p->flash_attn));
    report_xlsx_str(ws, r++, 1, buf, NULL);
    report_xlsx_str(ws, r, 0, "Cache types", f->bold);
    snprintf(buf, sizeof buf, "K %s, V %s", dtype_cache_get(p->type_k)->name,
             dtype_cache_get(p->type_v)->name);
    report_xlsx_str(ws, r++, 1, buf, NULL);
    report_xlsx_str(ws, r, 0, "Weight type", f->bold);
    report_xlsx_str(ws, r++, 1, in->n_plans > 0 ? kvplan_weight_type_name(&in->plans[0])
                                    : dtype_weight_get(p->weight_type)->name, NULL);
    report_xlsx_str(ws, r, 0, "Units", f->bold);
    report_xlsx_str(ws, r++, 1, "bytes; sizes in the memory convention (8 GB = 8 GiB = 8 x 2^30 bytes)", NULL);
    r++;
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *pl = &in->plans[i];
        report_xlsx_str(ws, r, 0, pl->model.name, f->bold);
        report_verdict(pl, buf, sizeof buf);
        report_xlsx_long_text(ws, r++, buf);
        report_xlsx_str(ws, r, 0, "  source", f->wrap);
        report_xlsx_long_text(ws, r++, pl->model.source);
        for (size_t k = 0; k < pl->n_notes; k++) {
            report_xlsx_str(ws, r, 0, "  note", f->wrap);
            report_xlsx_long_text(ws, r++, pl->notes[k]);
        }
    }
    r++;
    report_xlsx_str(ws, r, 0, "Paper", f->bold);
    report_xlsx_str(ws, r++, 1, PAPER_AUTHORS " (" PAPER_YEAR "). " PAPER_TITLE " " PAPER_SUBTITLE ". " PAPER_ARXIV ".",
        NULL);
}

enum {
    V_MODEL, V_LABEL, V_BUILT, V_SHARE, V_KVH, V_TENSORS, V_PERTOK, V_K, V_V, V_KV, V_KVGIB, V_RED,
    V_PARAMS, V_WBYTES, V_WGIB, V_SCRATCH, V_TOTAL, V_TOTGIB, V_FITS, V_HEAD, V_HEADGIB, V_MAXCTX,
    V_MAXSEQS, V_PAPER, V_NCOL
};

static void variants_sheet(lxw_worksheet *ws, const report_input *in, const report_xlsx_formats *f)
{
    static const char *const heads[V_NCOL] = {
        "model", "variant", "as built", "sharing", "KV heads", "cached tensors",
        "KV bytes per token", "K bytes", "V bytes", "KV bytes", "KV cache", "KV vs QKV+MHA",
        "parameters", "weight bytes", "weights", "scratch bytes", "total bytes", "total", "fits",
        "headroom bytes", "headroom", "max context", "max sequences", "paper Δppl (300M)"};
    static const double widths[V_NCOL] = {18, 14, 8, 8, 8, 9, 12, 16, 16, 16, 12, 11,
                                          15, 16, 12, 14, 16, 12, 6, 16, 12, 12, 11, 12};
    for (int c = 0; c < V_NCOL; c++) {
        report_xlsx_str(ws, 0, c, heads[c], f->header);
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, widths[c], NULL);
    }
    worksheet_set_row(ws, 0, 32, NULL);
    int r = 1;
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *pl = &in->plans[i];
        for (size_t j = 0; j < pl->n_rows; j++, r++) {
            const kvplan_row *w = &pl->rows[j];
            report_xlsx_str(ws, r, V_MODEL, pl->model.name, NULL);
            report_xlsx_str(ws, r, V_LABEL, w->label, NULL);
            report_xlsx_str(ws, r, V_BUILT, w->v.as_built ? "yes" : "", NULL);
            report_xlsx_str(ws, r, V_SHARE, w->v.mla ? "MLA" : variant_share_name(w->v.share), NULL);
            report_xlsx_num(ws, r, V_KVH, (double)w->v.kv_heads, NULL);
            report_xlsx_num(ws, r, V_TENSORS, w->cached_tensors, NULL);
            report_xlsx_num(ws, r, V_PERTOK, (double)w->kv_bytes_per_token, f->bytes);
            report_xlsx_num(ws, r, V_K, (double)w->k_bytes, f->bytes);
            report_xlsx_num(ws, r, V_V, (double)w->v_bytes, f->bytes);
            report_xlsx_num(ws, r, V_KV, (double)w->kv_bytes, f->bytes);
            report_xlsx_num(ws, r, V_KVGIB, (double)w->kv_bytes / GIB, f->gib);
            report_xlsx_num(ws, r, V_RED, -w->kv_reduction + 0.0, f->pct);
            report_xlsx_num(ws, r, V_PARAMS, (double)w->params, f->bytes);
            report_xlsx_num(ws, r, V_WBYTES, (double)w->weight_bytes, f->bytes);
            report_xlsx_num(ws, r, V_WGIB, (double)w->weight_bytes / GIB, f->gib);
            report_xlsx_num(ws, r, V_SCRATCH, (double)w->scratch_bytes, f->bytes);
            report_xlsx_num(ws, r, V_TOTAL, (double)w->total_bytes, f->bytes);
            report_xlsx_num(ws, r, V_TOTGIB, (double)w->total_bytes / GIB, f->gib);
            report_xlsx_str(ws, r, V_FITS, w->fits ? "yes" : "no", NULL);
            report_xlsx_num(ws, r, V_HEAD, (double)w->headroom_bytes, f->bytes);
            report_xlsx_num(ws, r, V_HEADGIB, (double)w->headroom_bytes / GIB, f->gib);
            report_xlsx_num(ws, r, V_MAXCTX, (double)w->max_ctx, f->bytes);
            report_xlsx_num(ws, r, V_MAXSEQS, (double)w->max_seqs, f->bytes);
            if (w->has_paper)
                report_xlsx_num(ws, r, V_PAPER, w->paper_ppl_delta_pct / 100.0, f->ppl);
        }
    }
    worksheet_freeze_panes(ws, 1, 2);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(r > 1 ? r - 1 : 1), V_NCOL - 1);
    if (r > 1) {
        lxw_conditional_format yes = {0}, no = {0};
        yes.type = LXW_CONDITIONAL_TYPE_FORMULA;
        yes.value_string = "=$S2=\"yes\"";
        yes.format = f->ok;
        no.type = LXW_CONDITIONAL_TYPE_FORMULA;
        no.value_string = "=$S2=\"no\"";
        no.format = f->bad;
        worksheet_conditional_format_range(ws, 1, 0, (lxw_row_t)(r - 1), V_NCOL - 1, &yes);
        worksheet_conditional_format_range(ws, 1, 0, (lxw_row_t)(r - 1), V_NCOL - 1, &no);
    }
}

static int sweep_sheet(lxw_workbook *wb, lxw_worksheet *ws, const report_input *in, const report_xlsx_formats *f)
{
    int r = 0;
    worksheet_set_column(ws, 0, 0, 14, NULL);
    worksheet_set_column(ws, 1, 60, 13, NULL);
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *pl = &in->plans[i];
        if (pl->n_sweep == 0)
            continue;
        const int top = r, cols = (int)pl->n_rows + 2;
        char title[160];
        snprintf(title, sizeof title, "%s: KV cache (GiB) by context, %s cache, %s engine",
                 pl->model.name, dtype_cache_get(pl->params.type_k)->name,
                 kvplan_engine_name(pl->params.engine));
        report_xlsx_str(ws, r++, 0, title, f->bold);
        report_xlsx_str(ws, r, 0, "context (tokens)", f->header);
        for (size_t j = 0; j < pl->n_rows; j++)
            report_xlsx_str(ws, r, (int)j + 1, pl->rows[j].label, f->header);
        report_xlsx_str(ws, r, cols - 1, "usable memory", f->header);
        worksheet_set_row(ws, (lxw_row_t)r, 30, NULL);
        const int head = r++;
        const double usable = (double)(pl->params.device_bytes - pl->params.reserve_bytes) / GIB;
        for (size_t k = 0; k < pl->n_sweep; k++, r++) {
            report_xlsx_num(ws, r, 0, (double)pl->sweep_ctx[k], f->bytes);
            for (size_t j = 0; j < pl->n_rows; j++)
                report_xlsx_num(ws, r, (int)j + 1, (double)pl->sweep_kv[j * pl->n_sweep + k] / GIB, f->gib);
            report_xlsx_num(ws, r, cols - 1, usable, f->gib);
        }
        const int last = r - 1;
        lxw_chart *ch = workbook_add_chart(wb, LXW_CHART_SCATTER_STRAIGHT_WITH_MARKERS);
        if (!ch)
            return -1;
        for (int c = 1; c < cols; c++) {
            lxw_chart_series *s = chart_add_series(ch, NULL, NULL);
            if (!s)
                return -1;
            chart_series_set_categories(s, "KV vs context", (lxw_row_t)(head + 1), 0, (lxw_row_t)last, 0);
            chart_series_set_values(s, "KV vs context", (lxw_row_t)(head + 1), (lxw_col_t)c,
                                    (lxw_row_t)last, (lxw_col_t)c);
            chart_series_set_name_range(s, "KV vs context", (lxw_row_t)head, (lxw_col_t)c);
            if (c == cols - 1) {
                lxw_chart_line line = {.color = 0xC00000, .width = 2.25, .dash_type = LXW_CHART_LINE_DASH_DASH};
                chart_series_set_line(s, &line);
                chart_series_set_marker_type(s, LXW_CHART_MARKER_NONE);
            }
        }
        snprintf(title, sizeof title, "%s: KV cache vs context", pl->model.name);
        chart_title_set_name(ch, title);
        chart_axis_set_name(ch->x_axis, "context (tokens, log scale)");
        chart_axis_set_name(ch->y_axis, "KV cache (GiB, log scale)");
        chart_axis_set_log_base(ch->x_axis, 2);
        chart_axis_set_log_base(ch->y_axis, 10);
        chart_legend_set_position(ch, LXW_CHART_LEGEND_RIGHT);
        lxw_chart_options opt = {.x_offset = 0, .y_offset = 10, .x_scale = 2.0, .y_scale = 1.6};
        worksheet_insert_chart_opt(ws, (lxw_row_t)(last + 1), 0, ch, &opt);
        (void)top;
        r = last + 1 + 27;
    }
    return 0;
}

static void paper_sheet(lxw_worksheet *ws, const report_input *in, const report_xlsx_formats *f)
{
    int r = 0;
    worksheet_set_column(ws, 0, 0, 18, NULL);
    worksheet_set_column(ws, 1, 1, 16, NULL);
    worksheet_set_column(ws, 2, 5, 22, NULL);
    report_xlsx_str(ws, r++, 0, "Validation perplexity change vs QKV, as measured in the paper (not predicted)",
        f->bold);
    report_xlsx_str(ws, r++, 0, PAPER_AUTHORS " (" PAPER_YEAR "), " PAPER_TITLE ", " PAPER_ARXIV
                    ". GQA-4 = 4 KV heads; 300M = 20 layers x d 1024 x 16 heads.",
        NULL);
    r++;
    report_xlsx_str(ws, r, 0, "variant", f->header);
    report_xlsx_str(ws, r, 1, "Δ perplexity", f->header);
    report_xlsx_str(ws, r++, 2, "model", f->header);
    for (size_t i = 0; i < paper_lm_results_count; i++, r++) {
        report_xlsx_str(ws, r, 0, paper_lm_results[i].label, NULL);
        report_xlsx_num(ws, r, 1, paper_lm_results[i].ppl_delta_pct / 100.0, f->ppl);
        report_xlsx_str(ws, r, 2, paper_lm_results[i].model, NULL);
    }
    r++;
    report_xlsx_str(ws, r++, 0, "Beside the planned variants", f->bold);
    report_xlsx_str(ws, r, 0, "model", f->header);
    report_xlsx_str(ws, r, 1, "variant", f->header);
    report_xlsx_str(ws, r, 2, "KV vs QKV+MHA", f->header);
    report_xlsx_str(ws, r, 3, "fits", f->header);
    report_xlsx_str(ws, r++, 4, "paper Δppl (300M)", f->header);
    for (size_t i = 0; i < in->n_plans; i++)
        for (size_t j = 0; j < in->plans[i].n_rows; j++) {
            const kvplan_row *w = &in->plans[i].rows[j];
            if (!w->has_paper)
                continue;
            report_xlsx_str(ws, r, 0, in->plans[i].model.name, NULL);
            report_xlsx_str(ws, r, 1, w->label, NULL);
            report_xlsx_num(ws, r, 2, -w->kv_reduction + 0.0, f->pct);
            report_xlsx_str(ws, r, 3, w->fits ? "yes" : "no", NULL);
            report_xlsx_num(ws, r++, 4, w->paper_ppl_delta_pct / 100.0, f->ppl);
        }
}

qkv_status report_xlsx_write(const char *path, const report_input *in, qkv_error *err)
{
    outfile of;
    report_xlsx_formats f;
    qkv_status s;
    if (in->n_plans == 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "no plan to write");
    lxw_workbook *wb = report_xlsx_open(&of, path, &f, err, &s);
    if (!wb)
        return s;
    lxw_worksheet *sum = workbook_add_worksheet(wb, "Summary");
    lxw_worksheet *var = workbook_add_worksheet(wb, "Variants");
    lxw_worksheet *swp = workbook_add_worksheet(wb, "KV vs context");
    lxw_worksheet *pap = workbook_add_worksheet(wb, "Paper evidence");
    if (!sum || !var || !swp || !pap)
        return report_xlsx_abandon(wb, &of, path, "", err);
    report_xlsx_page_setup(sum);
    report_xlsx_page_setup(var);
    worksheet_fit_to_pages(var, 2, 0); /* 24 columns: two pages across stay legible */
    report_xlsx_page_setup(swp);
    report_xlsx_page_setup(pap);
    summary_sheet(sum, in, &f);
    variants_sheet(var, in, &f);
    if (sweep_sheet(wb, swp, in, &f) != 0) {
        return report_xlsx_abandon(wb, &of, path, "charts for ", err);
    }
    paper_sheet(pap, in, &f);
    return report_xlsx_finish(wb, &of, path, err);
}

