/* xlsx.h — XLSX workbooks (libxlsxwriter) for design reviews.
 *
 * Plans: sheets "Summary" (inputs and verdicts), "Variants" (every plan
 * column as numbers: exact bytes, GiB, percentages; frozen header,
 * autofilter, rows shaded by fit), "KV vs context" (the context sweep per
 * model with a native scatter chart on log axes and the usable memory as a
 * series) and "Paper evidence" (the paper's measurements beside the planned
 * variants, with the citation). Probes: sheet "Probe", one row per head.
 *
 * Files are written atomically; the document's creation time is fixed
 * (2026-01-01) so equal inputs give equal workbooks. Non-finite numbers
 * (none are expected) are written as empty cells: Excel cannot store NaN.
 */
#ifndef QKV_REPORT_XLSX_H
#define QKV_REPORT_XLSX_H

#include "reports/probe/probe_report.h"
#include "reports/plan/report.h"

/* The plans need their sweeps (kvplan_sweep) for the "KV vs context" sheet;
 * a plan without one gets no chart. */
qkv_status report_xlsx_write(const char *path, const report_input *in, qkv_error *err);

qkv_status report_xlsx_probe_write(const char *path, const probe_report_input *in, qkv_error *err);

/* Study results: sheet "Study", one row per task and variant. */
#include "reports/study/study_report.h"
qkv_status report_xlsx_study_write(const char *path, const study_result *r, qkv_error *err);

#endif
