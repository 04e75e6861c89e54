#include "reports/xlsx.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

#include "analyzer/dtype.h"
#include "analyzer/paper.h"
#include "reports/outfile.h"

#define GIB 1073741824.0
#define FIXED_CREATED 1767225600 /* 2026-01-01T00:00:00Z */

typedef struct {
    lxw_format *bold, *title, *header, *bytes, *gib, *pct, *ppl, *wrap, *ok, *bad, *num3, *left;
} formats;

static int make_formats(lxw_workbook *wb, formats *f)
{
    f->bold = workbook_add_format(wb);
    f->title = workbook_add_format(wb);
    f->header = workbook_add_format(wb);
    f->bytes = workbook_add_format(wb);
    f->gib = workbook_add_format(wb);
    f->pct = workbook_add_format(wb);
    f->ppl = workbook_add_format(wb);
    f->wrap = workbook_add_format(wb);
    f->ok = workbook_add_format(wb);
    f->bad = workbook_add_format(wb);
    f->num3 = workbook_add_format(wb);
    f->left = workbook_add_format(wb);
    if (!f->left ||!f->bold || !f->title || !f->header || !f->bytes || !f->gib || !f->pct || !f->ppl ||
        !f->wrap || !f->ok || !f->bad || !f->num3)
        return -1;
    format_set_bold(f->bold);
    format_set_align(f->bold, LXW_ALIGN_VERTICAL_TOP);
    format_set_bold(f->title);
    format_set_font_size(f->title, 14);
    format_set_bold(f->header);
    format_set_text_wrap(f->header);
    format_set_align(f->header, LXW_ALIGN_CENTER);
    format_set_align(f->header, LXW_ALIGN_VERTICAL_CENTER);
    format_set_bg_color(f->header, 0xDDE4EE);
    format_set_border(f->header, LXW_BORDER_THIN);
    format_set_num_format(f->bytes, "#,##0");
    format_set_num_format(f->gib, "0.000\" GiB\"");
    format_set_num_format(f->pct, "0.0%");
    format_set_num_format(f->ppl, "+0.0%;-0.0%;0.0%");
    format_set_num_format(f->num3, "0.000");
    format_set_num_format(f->left, "#,##0");
    format_set_align(f->left, LXW_ALIGN_LEFT);
    format_set_text_wrap(f->wrap);
    format_set_align(f->wrap, LXW_ALIGN_VERTICAL_TOP);
    format_set_bg_color(f->ok, 0xD9F2D9);
    format_set_bg_color(f->bad, 0xF8D7D7);
    return 0;
}

static void num(lxw_worksheet *ws, int r, int c, double v, lxw_format *fmt)
{
    if (isfinite(v))
        worksheet_write_number(ws, (lxw_row_t)r, (lxw_col_t)c, v, fmt);
    else
        worksheet_write_blank(ws, (lxw_row_t)r, (lxw_col_t)c, fmt);
}

static void str(lxw_worksheet *ws, int r, int c, const char *s, lxw_format *fmt)
{
    worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)c, s, fmt);
}

/* Landscape, one page wide: how a reviewer prints or exports a sheet. */
static void page_setup(lxw_worksheet *ws)
{
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_set_margins(ws, 0.4, 0.4, 0.5, 0.5);
}

/* Wrapped text in column B (100 characters wide): give the row the height
 * of its lines, as spreadsheet programs do not resize rows on opening. */
static void long_text(lxw_worksheet *ws, int r, const char *s)
{
    size_t lines = strlen(s) / 95 + 1;
    worksheet_set_row(ws, (lxw_row_t)r, 15.0 * (double)lines, NULL);
    worksheet_write_string(ws, (lxw_row_t)r, 1, s, NULL); /* column B's format wraps, top */
}

static void summary_sheet(lxw_worksheet *ws, const report_input *in, const formats *f)
{
    const kvplan_params *p = &in->plans[0].params;
    char buf[1024];
    int r = 0;
    worksheet_set_column(ws, 0, 0, 24, NULL);
    worksheet_set_column(ws, 1, 1, 100, f->wrap);
    str(ws, r++, 0, "qkvplan memory plan", f->title);
    r++;
    str(ws, r, 0, "Device", f->bold);
    str(ws, r++, 1, in->device_label, NULL);
    str(ws, r, 0, "Device bytes", f->bold);
    num(ws, r++, 1, (double)p->device_bytes, f->left);
    str(ws, r, 0, "Reserve bytes", f->bold);
    num(ws, r++, 1, (double)p->reserve_bytes, f->left);
    str(ws, r, 0, "Usable bytes", f->bold);
    num(ws, r++, 1, (double)(p->device_bytes - p->reserve_bytes), f->left);
    str(ws, r, 0, "Context (tokens)", f->bold);
    num(ws, r++, 1, (double)p->ctx, f->left);
    str(ws, r, 0, "Sequences", f->bold);
    num(ws, r++, 1, (double)p->seqs, f->left);
    str(ws, r, 0, "Engine", f->bold);
    char engine[96];
    kvplan_engine_describe(p, engine, sizeof engine);
    snprintf(buf, sizeof buf, "%s, ubatch %llu, flash attention %s", engine,
             (unsigned long long)p->ubatch, kvplan_fa_name(p->flash_attn));
    str(ws, r++, 1, buf, NULL);
    str(ws, r, 0, "Cache types", f->bold);
    snprintf(buf, sizeof buf, "K %s, V %s", dtype_cache_get(p->type_k)->name,
             dtype_cache_get(p->type_v)->name);
    str(ws, r++, 1, buf, NULL);
    str(ws, r, 0, "Weight type", f->bold);
    str(ws, r++, 1, in->n_plans > 0 ? kvplan_weight_type_name(&in->plans[0])
                                    : dtype_weight_get(p->weight_type)->name, NULL);
    str(ws, r, 0, "Units", f->bold);
    str(ws, r++, 1, "bytes; sizes in the memory convention (8 GB = 8 GiB = 8 x 2^30 bytes)", NULL);
    r++;
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *pl = &in->plans[i];
        str(ws, r, 0, pl->model.name, f->bold);
        report_verdict(pl, buf, sizeof buf);
        long_text(ws, r++, buf);
        str(ws, r, 0, "  source", f->wrap);
        long_text(ws, r++, pl->model.source);
        for (size_t k = 0; k < pl->n_notes; k++) {
            str(ws, r, 0, "  note", f->wrap);
            long_text(ws, r++, pl->notes[k]);
        }
    }
    r++;
    str(ws, r, 0, "Paper", f->bold);
    str(ws, r++, 1, PAPER_AUTHORS " (" PAPER_YEAR "). " PAPER_TITLE " " PAPER_SUBTITLE ". " PAPER_ARXIV ".",
        NULL);
}

enum {
    V_MODEL, V_LABEL, V_BUILT, V_SHARE, V_KVH, V_TENSORS, V_PERTOK, V_K, V_V, V_KV, V_KVGIB, V_RED,
    V_PARAMS, V_WBYTES, V_WGIB, V_SCRATCH, V_TOTAL, V_TOTGIB, V_FITS, V_HEAD, V_HEADGIB, V_MAXCTX,
    V_MAXSEQS, V_PAPER, V_NCOL
};

static void variants_sheet(lxw_worksheet *ws, const report_input *in, const formats *f)
{
    static const char *const heads[V_NCOL] = {
        "model", "variant", "as built", "sharing", "KV heads", "cached tensors",
        "KV bytes per token", "K bytes", "V bytes", "KV bytes", "KV cache", "KV vs QKV+MHA",
        "parameters", "weight bytes", "weights", "scratch bytes", "total bytes", "total", "fits",
        "headroom bytes", "headroom", "max context", "max sequences", "paper Δppl (300M)"};
    static const double widths[V_NCOL] = {18, 14, 8, 8, 8, 9, 12, 16, 16, 16, 12, 11,
                                          15, 16, 12, 14, 16, 12, 6, 16, 12, 12, 11, 12};
    for (int c = 0; c < V_NCOL; c++) {
        str(ws, 0, c, heads[c], f->header);
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, widths[c], NULL);
    }
    worksheet_set_row(ws, 0, 32, NULL);
    int r = 1;
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *pl = &in->plans[i];
        for (size_t j = 0; j < pl->n_rows; j++, r++) {
            const kvplan_row *w = &pl->rows[j];
            str(ws, r, V_MODEL, pl->model.name, NULL);
            str(ws, r, V_LABEL, w->label, NULL);
            str(ws, r, V_BUILT, w->v.as_built ? "yes" : "", NULL);
            str(ws, r, V_SHARE, w->v.mla ? "MLA" : variant_share_name(w->v.share), NULL);
            num(ws, r, V_KVH, (double)w->v.kv_heads, NULL);
            num(ws, r, V_TENSORS, w->cached_tensors, NULL);
            num(ws, r, V_PERTOK, (double)w->kv_bytes_per_token, f->bytes);
            num(ws, r, V_K, (double)w->k_bytes, f->bytes);
            num(ws, r, V_V, (double)w->v_bytes, f->bytes);
            num(ws, r, V_KV, (double)w->kv_bytes, f->bytes);
            num(ws, r, V_KVGIB, (double)w->kv_bytes / GIB, f->gib);
            num(ws, r, V_RED, -w->kv_reduction + 0.0, f->pct);
            num(ws, r, V_PARAMS, (double)w->params, f->bytes);
            num(ws, r, V_WBYTES, (double)w->weight_bytes, f->bytes);
            num(ws, r, V_WGIB, (double)w->weight_bytes / GIB, f->gib);
            num(ws, r, V_SCRATCH, (double)w->scratch_bytes, f->bytes);
            num(ws, r, V_TOTAL, (double)w->total_bytes, f->bytes);
            num(ws, r, V_TOTGIB, (double)w->total_bytes / GIB, f->gib);
            str(ws, r, V_FITS, w->fits ? "yes" : "no", NULL);
            num(ws, r, V_HEAD, (double)w->headroom_bytes, f->bytes);
            num(ws, r, V_HEADGIB, (double)w->headroom_bytes / GIB, f->gib);
            num(ws, r, V_MAXCTX, (double)w->max_ctx, f->bytes);
            num(ws, r, V_MAXSEQS, (double)w->max_seqs, f->bytes);
            if (w->has_paper)
                num(ws, r, V_PAPER, w->paper_ppl_delta_pct / 100.0, f->ppl);
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

static int sweep_sheet(lxw_workbook *wb, lxw_worksheet *ws, const report_input *in, const formats *f)
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
        str(ws, r++, 0, title, f->bold);
        str(ws, r, 0, "context (tokens)", f->header);
        for (size_t j = 0; j < pl->n_rows; j++)
            str(ws, r, (int)j + 1, pl->rows[j].label, f->header);
        str(ws, r, cols - 1, "usable memory", f->header);
        worksheet_set_row(ws, (lxw_row_t)r, 30, NULL);
        const int head = r++;
        const double usable = (double)(pl->params.device_bytes - pl->params.reserve_bytes) / GIB;
        for (size_t k = 0; k < pl->n_sweep; k++, r++) {
            num(ws, r, 0, (double)pl->sweep_ctx[k], f->bytes);
            for (size_t j = 0; j < pl->n_rows; j++)
                num(ws, r, (int)j + 1, (double)pl->sweep_kv[j * pl->n_sweep + k] / GIB, f->gib);
            num(ws, r, cols - 1, usable, f->gib);
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

static void paper_sheet(lxw_worksheet *ws, const report_input *in, const formats *f)
{
    int r = 0;
    worksheet_set_column(ws, 0, 0, 18, NULL);
    worksheet_set_column(ws, 1, 1, 16, NULL);
    worksheet_set_column(ws, 2, 5, 22, NULL);
    str(ws, r++, 0, "Validation perplexity change vs QKV, as measured in the paper (not predicted)",
        f->bold);
    str(ws, r++, 0, PAPER_AUTHORS " (" PAPER_YEAR "), " PAPER_TITLE ", " PAPER_ARXIV
                    ". GQA-4 = 4 KV heads; 300M = 20 layers x d 1024 x 16 heads.",
        NULL);
    r++;
    str(ws, r, 0, "variant", f->header);
    str(ws, r, 1, "Δ perplexity", f->header);
    str(ws, r++, 2, "model", f->header);
    for (size_t i = 0; i < paper_lm_results_count; i++, r++) {
        str(ws, r, 0, paper_lm_results[i].label, NULL);
        num(ws, r, 1, paper_lm_results[i].ppl_delta_pct / 100.0, f->ppl);
        str(ws, r, 2, paper_lm_results[i].model, NULL);
    }
    r++;
    str(ws, r++, 0, "Beside the planned variants", f->bold);
    str(ws, r, 0, "model", f->header);
    str(ws, r, 1, "variant", f->header);
    str(ws, r, 2, "KV vs QKV+MHA", f->header);
    str(ws, r, 3, "fits", f->header);
    str(ws, r++, 4, "paper Δppl (300M)", f->header);
    for (size_t i = 0; i < in->n_plans; i++)
        for (size_t j = 0; j < in->plans[i].n_rows; j++) {
            const kvplan_row *w = &in->plans[i].rows[j];
            if (!w->has_paper)
                continue;
            str(ws, r, 0, in->plans[i].model.name, NULL);
            str(ws, r, 1, w->label, NULL);
            num(ws, r, 2, -w->kv_reduction + 0.0, f->pct);
            str(ws, r, 3, w->fits ? "yes" : "no", NULL);
            num(ws, r++, 4, w->paper_ppl_delta_pct / 100.0, f->ppl);
        }
}

static qkv_status finish(lxw_workbook *wb, outfile *of, const char *path, qkv_error *err)
{
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        outfile_abort(of);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, lxw_strerror(e));
    }
    return outfile_commit(of, err);
}

/* Give up on a workbook being built: nothing is left behind at path. */
static qkv_status abandon(lxw_workbook *wb, outfile *of, const char *path, const char *what,
                          qkv_error *err)
{
    workbook_close(wb);
    outfile_abort(of);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building %s'%s'", what, path);
}

static lxw_workbook *open_book(outfile *of, const char *path, formats *f, qkv_error *err,
                               qkv_status *s)
{
    if ((*s = outfile_open_path(of, path, err)) != QKV_OK)
        return NULL;
    lxw_workbook *wb = workbook_new(of->tmp_path);
    if (!wb) {
        outfile_abort(of);
        *s = qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': libxlsxwriter could not start", path);
        return NULL;
    }
    lxw_doc_properties props = {.title = "qkvplan report", .author = "qkvplan",
                                .created = FIXED_CREATED};
    workbook_set_properties(wb, &props);
    if (make_formats(wb, f) != 0) {
        *s = abandon(wb, of, path, "", err);
        return NULL;
    }
    return wb;
}

qkv_status report_xlsx_write(const char *path, const report_input *in, qkv_error *err)
{
    outfile of;
    formats f;
    qkv_status s;
    if (in->n_plans == 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "no plan to write");
    lxw_workbook *wb = open_book(&of, path, &f, err, &s);
    if (!wb)
        return s;
    lxw_worksheet *sum = workbook_add_worksheet(wb, "Summary");
    lxw_worksheet *var = workbook_add_worksheet(wb, "Variants");
    lxw_worksheet *swp = workbook_add_worksheet(wb, "KV vs context");
    lxw_worksheet *pap = workbook_add_worksheet(wb, "Paper evidence");
    if (!sum || !var || !swp || !pap)
        return abandon(wb, &of, path, "", err);
    page_setup(sum);
    page_setup(var);
    worksheet_fit_to_pages(var, 2, 0); /* 24 columns: two pages across stay legible */
    page_setup(swp);
    page_setup(pap);
    summary_sheet(sum, in, &f);
    variants_sheet(var, in, &f);
    if (sweep_sheet(wb, swp, in, &f) != 0) {
        return abandon(wb, &of, path, "charts for ", err);
    }
    paper_sheet(pap, in, &f);
    return finish(wb, &of, path, err);
}

/* A workbook of one table sheet: opened, page set up, header row written. */
static lxw_workbook *open_table_book(outfile *of, const char *path, formats *f, const char *sheet,
                                     const char *const *heads, int nc, lxw_worksheet **ws,
                                     qkv_error *err, qkv_status *s)
{
    lxw_workbook *wb = open_book(of, path, f, err, s);
    if (!wb)
        return NULL;
    if (!(*ws = workbook_add_worksheet(wb, sheet))) {
        *s = abandon(wb, of, path, "", err);
        return NULL;
    }
    page_setup(*ws);
    for (int c = 0; c < nc; c++)
        str(*ws, 0, c, heads[c], f->header);
    worksheet_set_row(*ws, 0, 32, NULL);
    return wb;
}

qkv_status report_xlsx_probe_write(const char *path, const probe_report_input *in, qkv_error *err)
{
    static const char *const heads[] = {
        "layer", "head", "KV head", "erank Q", "erank K (pre-RoPE)", "erank K", "erank V",
        "erank map", "erank W_Q", "erank W_K", "erank W_V", "K–V mean cos²", "Q–K mean cos²",
        "chance k/d", "Grassmann K–V", "CKA K–V", "CKA Q–K", "sym share W", "sym share scores",
        "map entropy", "first-token mass", "mean distance"};
    const int nc = (int)(sizeof heads / sizeof heads[0]);
    outfile of;
    formats f;
    qkv_status s;
    lxw_worksheet *ws;
    lxw_workbook *wb = open_table_book(&of, path, &f, "Probe", heads, nc, &ws, err, &s);
    if (!wb)
        return s;
    for (int c = 0; c < nc; c++)
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c < 3 ? 7 : 11, NULL);
    const probe_result *r = in->probe;
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        const double v[] = {h->layer, h->head, h->kv_head, h->q.erank, h->k_pre.erank,
                            h->k.erank, h->v.erank, h->map.erank, h->wq.erank, h->wk.erank,
                            h->wv.erank, h->kv.mean_cos2, h->qk.mean_cos2, h->kv.chance,
                            h->kv.grassmann, h->cka_kv, h->cka_qk, h->sym_w, h->sym_scores,
                            h->map_stats.entropy, h->map_stats.first_mass, h->map_stats.mean_dist};
        for (int c = 0; c < nc; c++)
            num(ws, i + 1, c, v[c], c < 3 ? NULL : f.num3);
    }
    worksheet_freeze_panes(ws, 1, 3);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(r->n_heads > 0 ? r->n_heads : 1), (lxw_col_t)(nc - 1));
    str(ws, r->n_heads + 2, 0, in->model_label, f.bold);
    return finish(wb, &of, path, err);
}

qkv_status report_xlsx_study_write(const char *path, const study_result *r, qkv_error *err)
{
    static const char *const heads[] = {"task", "length", "variant", "metric", "mean", "sd",
                                        "vs QKV", "KV bytes per token", "parameters",
                                        "K–V mean cos²", "Q–K mean cos²", "sym share W",
                                        "sym share scores", "erank K / HD"};
    const int nc = (int)(sizeof heads / sizeof heads[0]);
    outfile of;
    formats f;
    qkv_status s;
    lxw_worksheet *ws;
    lxw_workbook *wb = open_table_book(&of, path, &f, "Study", heads, nc, &ws, err, &s);
    if (!wb)
        return s;
    for (int c = 0; c < nc; c++)
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 0 || c == 2 || c == 3 ? 16 : 11, NULL);
    int row = 1;
    for (int ti = 0; ti < r->n_tasks; ti++) {
        for (int vi = 0; vi < r->n_vars; vi++, row++) {
            const study_cell *c = &r->cells[ti * r->n_vars + vi];
            const bool text = r->tasks[ti].kind == TASK_TEXT;
            str(ws, row, 0, r->tasks[ti].name, NULL);
            num(ws, row, 1, r->tasks[ti].len, NULL);
            str(ws, row, 2, r->vars[vi].label, NULL);
            str(ws, row, 3, text ? "eval loss (nats)" : "eval accuracy (%)", NULL);
            num(ws, row, 4, c->metric_mean, f.num3);
            num(ws, row, 5, c->metric_sd, f.num3);
            if (c->has_delta)
                num(ws, row, 6, c->delta_vs_qkv, f.num3);
            num(ws, row, 7, (double)c->kv_bytes_per_token, f.bytes);
            num(ws, row, 8, (double)c->params, f.bytes);
            num(ws, row, 9, c->kv_cos2, f.num3);
            num(ws, row, 10, c->qk_cos2, f.num3);
            num(ws, row, 11, c->sym_w, f.num3);
            num(ws, row, 12, c->sym_scores, f.num3);
            num(ws, row, 13, c->erank_k_frac, f.num3);
        }
    }
    worksheet_freeze_panes(ws, 1, 3);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)(row > 1 ? row - 1 : 1), (lxw_col_t)(nc - 1));
    return finish(wb, &of, path, err);
}
