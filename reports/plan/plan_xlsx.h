/* plan_xlsx.h — the planner's XLSX workbook for design reviews.
 *
 * Sheets "Summary" (inputs and verdicts), "Variants" (every plan column as
 * numbers: exact bytes, GiB, percentages; frozen header, autofilter, rows
 * shaded by fit), "KV vs context" (the context sweep per model with a native
 * scatter chart on log axes and the usable memory as a series) and "Paper
 * evidence" (the paper's measurements beside the planned variants, with the
 * citation). Written atomically (reports/xlsx.h).
 */
#ifndef QKV_REPORT_PLAN_XLSX_H
#define QKV_REPORT_PLAN_XLSX_H

#include "reports/plan/report.h"

/* The plans need their sweeps (kvplan_sweep) for the "KV vs context" sheet;
 * a plan without one gets no chart. */
qkv_status report_xlsx_write(const char *path, const report_input *in, qkv_error *err);

#endif
