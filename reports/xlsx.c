#include "reports/xlsx.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FIXED_CREATED 1767225600 /* 2026-01-01T00:00:00Z */

static int make_formats(lxw_workbook *wb, report_xlsx_formats *f)
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
    if (!f->left || !f->bold || !f->title || !f->header || !f->bytes || !f->gib || !f->pct ||
        !f->ppl || !f->wrap || !f->ok || !f->bad || !f->num3)
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

void report_xlsx_num(lxw_worksheet *ws, int r, int c, double v, lxw_format *fmt)
{
    if (isfinite(v))
        worksheet_write_number(ws, (lxw_row_t)r, (lxw_col_t)c, v, fmt);
    else
        worksheet_write_blank(ws, (lxw_row_t)r, (lxw_col_t)c, fmt);
}

void report_xlsx_str(lxw_worksheet *ws, int r, int c, const char *s, lxw_format *fmt)
{
    worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)c, s, fmt);
}

/* Landscape, one page wide: how a reviewer prints or exports a sheet. */
void report_xlsx_page_setup(lxw_worksheet *ws)
{
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_set_margins(ws, 0.4, 0.4, 0.5, 0.5);
}

/* Wrapped text in column B (100 characters wide): give the row the height
 * of its lines, as spreadsheet programs do not resize rows on opening. */
void report_xlsx_long_text(lxw_worksheet *ws, int r, const char *s)
{
    size_t lines = strlen(s) / 95 + 1;
    worksheet_set_row(ws, (lxw_row_t)r, 15.0 * (double)lines, NULL);
    worksheet_write_string(ws, (lxw_row_t)r, 1, s, NULL); /* column B's format wraps, top */
}

qkv_status report_xlsx_finish(lxw_workbook *wb, outfile *of, const char *path, qkv_error *err)
{
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        outfile_abort(of);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, lxw_strerror(e));
    }
    return outfile_commit(of, err);
}

/* Give up on a workbook being built: nothing is left behind at path. */
qkv_status report_xlsx_abandon(lxw_workbook *wb, outfile *of, const char *path, const char *what,
                               qkv_error *err)
{
    workbook_close(wb);
    outfile_abort(of);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building %s'%s'", what, path);
}

lxw_workbook *report_xlsx_open(outfile *of, const char *path, report_xlsx_formats *f,
                               qkv_error *err, qkv_status *s)
{
    if ((*s = outfile_open_path(of, path, err)) != QKV_OK)
        return NULL;
    lxw_workbook *wb = workbook_new(of->tmp_path);
    if (!wb) {
        outfile_abort(of);
        *s = qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': libxlsxwriter could not start",
                           path);
        return NULL;
    }
    lxw_doc_properties props = {
        .title = "qkvplan report", .author = "qkvplan", .created = FIXED_CREATED};
    workbook_set_properties(wb, &props);
    if (make_formats(wb, f) != 0) {
        *s = report_xlsx_abandon(wb, of, path, "", err);
        return NULL;
    }
    return wb;
}

/* A workbook of one table sheet: opened, page set up, header row written. */
lxw_workbook *report_xlsx_open_table(outfile *of, const char *path, report_xlsx_formats *f,
                                     const char *sheet, const char *const *heads, int nc,
                                     lxw_worksheet **ws, qkv_error *err, qkv_status *s)
{
    lxw_workbook *wb = report_xlsx_open(of, path, f, err, s);
    if (!wb)
        return NULL;
    if (!(*ws = workbook_add_worksheet(wb, sheet))) {
        *s = report_xlsx_abandon(wb, of, path, "", err);
        return NULL;
    }
    report_xlsx_page_setup(*ws);
    for (int c = 0; c < nc; c++)
        report_xlsx_str(*ws, 0, c, heads[c], f->header);
    worksheet_set_row(*ws, 0, 32, NULL);
    return wb;
}
