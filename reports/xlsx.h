/* xlsx.h — the common layer of the XLSX workbooks (libxlsxwriter) that the
 * plan, probe and study writers build on: one set of cell formats, cells that
 * never hold NaN, printing set-up, and workbooks written atomically.
 *
 * Files are written through outfile (a temporary renamed into place); the
 * document's creation time is fixed (2026-01-01) so equal inputs give equal
 * workbooks. Non-finite numbers are written as empty cells: Excel cannot
 * store NaN. The writers themselves: reports/plan/plan_xlsx.h,
 * reports/probe/probe_report.h, reports/study/study_report.h.
 */
#ifndef QKV_REPORT_XLSX_H
#define QKV_REPORT_XLSX_H

#include <xlsxwriter.h>

#include "analyzer/core/qkv_error.h"
#include "reports/outfile.h"

#define REPORT_XLSX_GIB 1073741824.0

typedef struct {
    lxw_format *bold, *title, *header, *bytes, *gib, *pct, *ppl, *wrap, *ok, *bad, *num3, *left;
} report_xlsx_formats;

/* A number (an empty cell when not finite) or a string at row r, column c. */
void report_xlsx_num(lxw_worksheet *ws, int r, int c, double v, lxw_format *fmt);
void report_xlsx_str(lxw_worksheet *ws, int r, int c, const char *s, lxw_format *fmt);

/* Landscape A4, one page wide: how a reviewer prints or exports a sheet. */
void report_xlsx_page_setup(lxw_worksheet *ws);

/* Wrapped text in column B (100 characters wide), its row as tall as its lines. */
void report_xlsx_long_text(lxw_worksheet *ws, int r, const char *s);

/* Start a workbook for path: an outfile, the fixed properties and formats.
 * NULL with *s (and err) set on failure, nothing left at path. */
lxw_workbook *report_xlsx_open(outfile *of, const char *path, report_xlsx_formats *f,
                               qkv_error *err, qkv_status *s);

/* A workbook of one table sheet: opened, page set up, header row written. */
lxw_workbook *report_xlsx_open_table(outfile *of, const char *path, report_xlsx_formats *f,
                                     const char *sheet, const char *const *heads, int nc,
                                     lxw_worksheet **ws, qkv_error *err, qkv_status *s);

/* Close the workbook and rename it into place, or remove it on failure. */
qkv_status report_xlsx_finish(lxw_workbook *wb, outfile *of, const char *path, qkv_error *err);

/* Give up on a workbook being built (out of memory building WHAT): nothing
 * is left behind at path. */
qkv_status report_xlsx_abandon(lxw_workbook *wb, outfile *of, const char *path, const char *what,
                               qkv_error *err);

#endif
