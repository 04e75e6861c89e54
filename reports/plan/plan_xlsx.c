/* The planner's workbook (plan_xlsx.h). */
#include "reports/plan/plan_xlsx.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/dtype.h"
#include "analyzer/offload.h"
#include "analyzer/paper.h"
#include "reports/xlsx.h"

#define GIB REPORT_XLSX_GIB

/* A binary unit for a column of sizes: the largest in which the column's
 * smallest nonzero magnitude is still at least 1 (so 1.375 MiB is never
 * "0.001 GiB"), at most GiB. */
typedef struct {
    const char *name; /* "KiB", "MiB", "GiB" or "bytes" */
    double bytes;
} size_unit;

static size_unit unit_for(const double *mags, size_t n)
{
    static const size_unit units[] = {
        {"GiB", 1073741824.0}, {"MiB", 1048576.0}, {"KiB", 1024.0}, {"bytes", 1.0}};
    double lo = 0;
    for (size_t i = 0; i < n; i++)
        if (mags[i] > 0 && (lo == 0 || mags[i] < lo))
            lo = mags[i];
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if (lo >= units[u].bytes)
            return units[u];
    return units[0];
}

/* The unit of one kvplan_row size field over every row of every plan. */
static size_unit column_unit(const report_input *in, size_t offset, bool is_signed)
{
    size_t n = 0;
    for (size_t i = 0; i < in->n_plans; i++)
        n += in->plans[i].n_rows;
    double *m = calloc(n ? n : 1, sizeof *m);
    if (!m)
        return (size_unit){"GiB", GIB};
    n = 0;
    for (size_t i = 0; i < in->n_plans; i++)
        for (size_t j = 0; j < in->plans[i].n_rows; j++) {
            const char *row = (const char *)&in->plans[i].rows[j];
            if (is_signed) {
                int64_t v;
                memcpy(&v, row + offset, sizeof v);
                m[n++] = v < 0 ? -(double)v : (double)v;
            } else {
                uint64_t v;
                memcpy(&v, row + offset, sizeof v);
                m[n++] = (double)v;
            }
        }
    size_unit u = unit_for(m, n);
    free(m);
    return u;
}

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
    report_xlsx_str(ws, r++, 1,
                    in->n_plans > 0 ? kvplan_weight_type_name(&in->plans[0])
                                    : dtype_weight_get(p->weight_type)->name,
                    NULL);
    report_xlsx_str(ws, r, 0, "Units", f->bold);
    report_xlsx_str(ws, r++, 1,
                    "bytes; sizes in the memory convention (8 GB = 8 GiB = 8 x 2^30 bytes)", NULL);
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
    report_xlsx_str(ws, r++, 1,
                    PAPER_AUTHORS " (" PAPER_YEAR "). " PAPER_TITLE " " PAPER_SUBTITLE
                                  ". " PAPER_ARXIV ".",
                    NULL);
}

enum {
    V_MODEL,
    V_LABEL,
    V_BUILT,
    V_SHARE,
    V_KVH,
    V_TENSORS,
    V_PERTOK,
    V_K,
    V_V,
    V_KV,
    V_KVGIB,
    V_RED,
    V_PARAMS,
    V_WBYTES,
    V_WGIB,
    V_SCRATCH,
    V_TOTAL,
    V_TOTGIB,
    V_FITS,
    V_HEAD,
    V_HEADGIB,
    V_MAXCTX,
    V_MAXSEQS,
    V_PAPER,
    V_NCOL
};

static void variants_sheet(lxw_workbook *wb, lxw_worksheet *ws, const report_input *in,
                           const report_xlsx_formats *f)
{
    static const char *const heads[V_NCOL] = {"model",
                                              "variant",
                                              "as built",
                                              "sharing",
                                              "KV heads",
                                              "cached tensors",
                                              "KV bytes per token",
                                              "K bytes",
                                              "V bytes",
                                              "KV bytes",
                                              "KV cache",
                                              "KV vs QKV+MHA",
                                              "parameters",
                                              "weight bytes",
                                              "weights",
                                              "scratch bytes",
                                              "total bytes",
                                              "total",
                                              "fits",
                                              "headroom bytes",
                                              "headroom",
                                              "max context (tokens)",
                                              "max sequences",
                                              "paper Δppl (300M)"};
    static const double widths[V_NCOL] = {18, 14, 8,  8,  8,  9,  12, 16, 16, 16, 12, 11,
                                          15, 16, 12, 14, 16, 12, 6,  16, 12, 12, 11, 12};
    /* the readable size columns: each in the unit its values read best in */
    const size_unit u_kv = column_unit(in, offsetof(kvplan_row, kv_bytes), false),
                    u_w = column_unit(in, offsetof(kvplan_row, weight_bytes), false),
                    u_tot = column_unit(in, offsetof(kvplan_row, total_bytes), false),
                    u_head = column_unit(in, offsetof(kvplan_row, headroom_bytes), true);
    lxw_format *size = workbook_add_format(wb);
    if (size)
        format_set_num_format(size, "#,##0.00");
    for (int c = 0; c < V_NCOL; c++) {
        char head[64];
        const size_unit *u = c == V_KVGIB     ? &u_kv
                             : c == V_WGIB    ? &u_w
                             : c == V_TOTGIB  ? &u_tot
                             : c == V_HEADGIB ? &u_head
                                              : NULL;
        if (u)
            snprintf(head, sizeof head, "%s (%s)", heads[c], u->name);
        else
            snprintf(head, sizeof head, "%s", heads[c]);
        report_xlsx_str(ws, 0, c, head, f->header);
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
            report_xlsx_str(ws, r, V_SHARE, w->v.mla ? "MLA" : variant_share_name(w->v.share),
                            NULL);
            report_xlsx_num(ws, r, V_KVH, (double)w->v.kv_heads, NULL);
            report_xlsx_num(ws, r, V_TENSORS, w->cached_tensors, NULL);
            report_xlsx_num(ws, r, V_PERTOK, (double)w->kv_bytes_per_token, f->bytes);
            report_xlsx_num(ws, r, V_K, (double)w->k_bytes, f->bytes);
            report_xlsx_num(ws, r, V_V, (double)w->v_bytes, f->bytes);
            report_xlsx_num(ws, r, V_KV, (double)w->kv_bytes, f->bytes);
            report_xlsx_num(ws, r, V_KVGIB, (double)w->kv_bytes / u_kv.bytes, size);
            report_xlsx_num(ws, r, V_RED, -w->kv_reduction + 0.0, f->pct);
            report_xlsx_num(ws, r, V_PARAMS, (double)w->params, f->bytes);
            report_xlsx_num(ws, r, V_WBYTES, (double)w->weight_bytes, f->bytes);
            report_xlsx_num(ws, r, V_WGIB, (double)w->weight_bytes / u_w.bytes, size);
            report_xlsx_num(ws, r, V_SCRATCH, (double)w->scratch_bytes, f->bytes);
            report_xlsx_num(ws, r, V_TOTAL, (double)w->total_bytes, f->bytes);
            report_xlsx_num(ws, r, V_TOTGIB, (double)w->total_bytes / u_tot.bytes, size);
            report_xlsx_str(ws, r, V_FITS, w->fits ? "yes" : "no", NULL);
            report_xlsx_num(ws, r, V_HEAD, (double)w->headroom_bytes, f->bytes);
            report_xlsx_num(ws, r, V_HEADGIB, (double)w->headroom_bytes / u_head.bytes, size);
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

/* One table of the sweep: context, then one column per row of series
 * (sweep_total or sweep_kv) in unit u, then (with_usable) the budget.
 * Returns the last row written. */
static int sweep_table(lxw_worksheet *ws, int r, const kvplan_result *pl, const uint64_t *series,
                       size_unit u, bool with_usable, lxw_format *size,
                       const report_xlsx_formats *f)
{
    report_xlsx_str(ws, r, 0, "context (tokens)", f->header);
    for (size_t j = 0; j < pl->n_rows; j++) {
        char head[VARIANT_LABEL_BYTES + 24];
        snprintf(head, sizeof head, "%s%s (%s)", pl->rows[j].label,
                 pl->rows[j].v.as_built ? " *" : "", u.name);
        report_xlsx_str(ws, r, (int)j + 1, head, f->header);
    }
    if (with_usable) {
        char head[48];
        snprintf(head, sizeof head, "usable (%s)", u.name);
        report_xlsx_str(ws, r, (int)pl->n_rows + 1, head, f->header);
    }
    worksheet_set_row(ws, (lxw_row_t)r, 30, NULL);
    r++;
    const double usable = (double)(pl->params.device_bytes - pl->params.reserve_bytes);
    for (size_t k = 0; k < pl->n_sweep; k++, r++) {
        report_xlsx_num(ws, r, 0, (double)pl->sweep_ctx[k], f->bytes);
        for (size_t j = 0; j < pl->n_rows; j++)
            report_xlsx_num(ws, r, (int)j + 1, (double)series[j * pl->n_sweep + k] / u.bytes, size);
        if (with_usable)
            report_xlsx_num(ws, r, (int)pl->n_rows + 1, usable / u.bytes, size);
    }
    return r - 1;
}

/* Per plan: total memory by context with the usable budget and a chart of
 * it (what decides "fits"), then the KV cache alone. Axes are bounded to
 * the data: x from the first to the last context of the sweep, y from 0 to
 * half again the budget (or past every variant at the requested context). */
static int sweep_sheet(lxw_workbook *wb, lxw_worksheet *ws, const report_input *in,
                       const report_xlsx_formats *f)
{
    static const char sheet[] = "Memory vs context";
    int r = 0;
    worksheet_set_column(ws, 0, 0, 14, NULL);
    worksheet_set_column(ws, 1, 60, 13, NULL);
    lxw_format *size = workbook_add_format(wb);
    if (!size)
        return -1;
    format_set_num_format(size, "#,##0.00");
    /* printed, each table starts a page: a table split across pages would
     * continue without its header */
    lxw_row_t breaks[2 * 64 + 1] = {0};
    size_t n_breaks = 0;
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *pl = &in->plans[i];
        if (pl->n_sweep == 0)
            continue;
        if (r > 0 && n_breaks + 1 < sizeof breaks / sizeof breaks[0])
            breaks[n_breaks++] = (lxw_row_t)r;
        const size_t n = pl->n_rows * pl->n_sweep;
        double *m = malloc((n ? n : 1) * sizeof *m);
        if (!m)
            return -1;
        for (size_t k = 0; k < n; k++)
            m[k] = (double)pl->sweep_total[k];
        const size_unit u_tot = unit_for(m, n);
        for (size_t k = 0; k < n; k++)
            m[k] = (double)pl->sweep_kv[k];
        const size_unit u_kv = unit_for(m, n);
        free(m);
        char title[200];
        snprintf(title, sizeof title,
                 "%s: total memory (weights + KV cache + scratch) by context, %s cache, %s engine; "
                 "* = as built",
                 pl->model.name, dtype_cache_get(pl->params.type_k)->name,
                 kvplan_engine_name(pl->params.engine));
        report_xlsx_str(ws, r++, 0, title, f->bold);
        const int head = r;
        const int last = sweep_table(ws, r, pl, pl->sweep_total, u_tot, true, size, f);
        const int cols = (int)pl->n_rows + 2;
        lxw_chart *ch = workbook_add_chart(wb, LXW_CHART_SCATTER_STRAIGHT_WITH_MARKERS);
        if (!ch)
            return -1;
        for (int c = 1; c < cols; c++) {
            if (c < cols - 1 && pl->rows[c - 1].engine_refusal[0])
                continue; /* refused: fits at no context */
            lxw_chart_series *sr = chart_add_series(ch, NULL, NULL);
            if (!sr)
                return -1;
            chart_series_set_categories(sr, sheet, (lxw_row_t)(head + 1), 0, (lxw_row_t)last, 0);
            chart_series_set_values(sr, sheet, (lxw_row_t)(head + 1), (lxw_col_t)c, (lxw_row_t)last,
                                    (lxw_col_t)c);
            chart_series_set_name_range(sr, sheet, (lxw_row_t)head, (lxw_col_t)c);
            if (c == cols - 1) {
                lxw_chart_line line = {
                    .color = 0xC00000, .width = 2.25, .dash_type = LXW_CHART_LINE_DASH_DASH};
                chart_series_set_line(sr, &line);
                chart_series_set_marker_type(sr, LXW_CHART_MARKER_NONE);
            }
        }
        const uint64_t usable = pl->params.device_bytes - pl->params.reserve_bytes;
        double top = 1.5 * (double)usable;
        for (size_t k = 0; k < pl->n_sweep; k++)
            for (size_t j = 0; pl->sweep_ctx[k] == pl->params.ctx && j < pl->n_rows; j++)
                if (!pl->rows[j].engine_refusal[0] &&
                    1.1 * (double)pl->sweep_total[j * pl->n_sweep + k] > top)
                    top = 1.1 * (double)pl->sweep_total[j * pl->n_sweep + k];
        snprintf(title, sizeof title, "%s: total memory vs context against the usable budget",
                 pl->model.name);
        chart_title_set_name(ch, title);
        chart_axis_set_name(ch->x_axis, "context (tokens, log scale)");
        snprintf(title, sizeof title, "weights + KV cache + scratch (%s)", u_tot.name);
        chart_axis_set_name(ch->y_axis, title);
        chart_axis_set_log_base(ch->x_axis, 2);
        chart_axis_set_min(ch->x_axis, (double)pl->sweep_ctx[0]);
        chart_axis_set_max(ch->x_axis, (double)pl->sweep_ctx[pl->n_sweep - 1]);
        chart_axis_set_min(ch->y_axis, 0);
        chart_axis_set_max(ch->y_axis, top / u_tot.bytes);
        chart_legend_set_position(ch, LXW_CHART_LEGEND_RIGHT);
        lxw_chart_options opt = {.x_offset = 0, .y_offset = 10, .x_scale = 2.0, .y_scale = 1.6};
        worksheet_insert_chart_opt(ws, (lxw_row_t)(last + 1), 0, ch, &opt);
        r = last + 1 + 27;
        if (n_breaks + 1 < sizeof breaks / sizeof breaks[0])
            breaks[n_breaks++] = (lxw_row_t)r;
        snprintf(title, sizeof title, "%s: KV cache alone by context (part of the total above)",
                 pl->model.name);
        report_xlsx_str(ws, r++, 0, title, f->bold);
        r = sweep_table(ws, r, pl, pl->sweep_kv, u_kv, false, size, f) + 2;
    }
    if (n_breaks > 0)
        worksheet_set_h_pagebreaks(ws, breaks);
    return 0;
}

static void paper_sheet(lxw_worksheet *ws, const report_input *in, const report_xlsx_formats *f)
{
    int r = 0;
    worksheet_set_column(ws, 0, 0, 18, NULL);
    worksheet_set_column(ws, 1, 1, 16, NULL);
    worksheet_set_column(ws, 2, 5, 22, NULL);
    report_xlsx_str(ws, r++, 0,
                    "Validation perplexity change vs QKV, as measured in the paper (not predicted)",
                    f->bold);
    report_xlsx_str(ws, r++, 0,
                    PAPER_AUTHORS " (" PAPER_YEAR "), " PAPER_TITLE ", " PAPER_ARXIV
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

static bool any_offload(const report_input *in)
{
    for (size_t i = 0; i < in->n_plans; i++)
        if (in->plans[i].offload && in->plans[i].offload->n_rows > 0)
            return true;
    return false;
}

/* With a GPU budget: one row per variant and device, exact bytes. */
static void offload_sheet(lxw_worksheet *ws, const report_input *in, const report_xlsx_formats *f)
{
    static const char *const heads[] = {"model",
                                        "variant",
                                        "-ngl",
                                        "device",
                                        "layers",
                                        "weights (bytes)",
                                        "KV cache (bytes)",
                                        "compute, estimate (bytes)",
                                        "total (bytes)",
                                        "usable budget (bytes)",
                                        "headroom (bytes)",
                                        "fits"};
    const int nc = (int)(sizeof heads / sizeof heads[0]);
    for (int c = 0; c < nc; c++) {
        report_xlsx_str(ws, 0, c, heads[c], f->header);
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c < 2 ? 18 : c < 5 ? 8 : 15, NULL);
    }
    worksheet_set_row(ws, 0, 32, NULL);
    int r = 1;
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *pl = &in->plans[i];
        const struct offload_plan *p = pl->offload;
        for (size_t j = 0; p && j < p->n_rows; j++) {
            const offload_row *w = &p->rows[j];
            for (size_t d = 0; d <= w->n_gpus; d++, r++) {
                const offload_device *dev = d == 0 ? &w->host : &w->gpu[d - 1];
                report_xlsx_str(ws, r, 0, pl->model.name, NULL);
                report_xlsx_str(ws, r, 1, pl->rows[j].label, NULL);
                report_xlsx_num(ws, r, 2, (double)w->ngl, NULL);
                report_xlsx_str(ws, r, 3, dev->name, NULL);
                report_xlsx_num(ws, r, 4, (double)dev->layers, NULL);
                report_xlsx_num(ws, r, 5, (double)dev->weight_bytes, f->bytes);
                report_xlsx_num(ws, r, 6, (double)dev->kv_bytes, f->bytes);
                report_xlsx_num(ws, r, 7, (double)dev->compute_bytes, f->bytes);
                report_xlsx_num(ws, r, 8, (double)dev->total_bytes, f->bytes);
                report_xlsx_num(ws, r, 9, (double)dev->budget_bytes, f->bytes);
                report_xlsx_num(ws, r, 10, (double)dev->headroom_bytes, f->bytes);
                report_xlsx_str(ws, r, 11, dev->fits ? "yes" : "no", dev->fits ? f->ok : f->bad);
            }
        }
    }
    worksheet_freeze_panes(ws, 1, 2);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(r > 1 ? r - 1 : 1), (lxw_col_t)(nc - 1));
    worksheet_repeat_rows(ws, 0, 0);
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
    lxw_worksheet *swp = workbook_add_worksheet(wb, "Memory vs context");
    lxw_worksheet *pap = workbook_add_worksheet(wb, "Paper evidence");
    if (!sum || !var || !swp || !pap)
        return report_xlsx_abandon(wb, &of, path, "", err);
    report_xlsx_page_setup(sum);
    report_xlsx_page_setup(var);
    worksheet_fit_to_pages(var, 2, 0); /* 24 columns: two pages across stay legible */
    /* every printed page of a table repeats its header row and, across, the
     * columns that name the row (model, variant) */
    worksheet_repeat_rows(var, 0, 0);
    worksheet_repeat_columns(var, 0, 1);
    report_xlsx_page_setup(swp);
    worksheet_repeat_columns(swp, 0, 0); /* the context beside every printed column */
    report_xlsx_page_setup(pap);
    summary_sheet(sum, in, &f);
    variants_sheet(wb, var, in, &f);
    if (sweep_sheet(wb, swp, in, &f) != 0) {
        return report_xlsx_abandon(wb, &of, path, "charts for ", err);
    }
    paper_sheet(pap, in, &f);
    if (any_offload(in)) {
        lxw_worksheet *off = workbook_add_worksheet(wb, "Offload");
        if (!off)
            return report_xlsx_abandon(wb, &of, path, "", err);
        report_xlsx_page_setup(off);
        offload_sheet(off, in, &f);
    }
    return report_xlsx_finish(wb, &of, path, err);
}
