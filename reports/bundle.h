/* bundle.h — the design-review bundle: DIR/report.md (inputs, verdict, table,
 * plots embedded, assumptions, the paper's evidence with its source),
 * DIR/report.xlsx, DIR/plots/ (gnuplot data, scripts and images) and
 * DIR/results.json. Every file is written atomically; DIR and DIR/plots are
 * created when missing. Returns QKV_ERR_TOOL when only the plots could not
 * be drawn (everything else, including the plot data and scripts, written). */
#ifndef QKV_REPORT_BUNDLE_H
#define QKV_REPORT_BUNDLE_H

#include "reports/plan/report.h"

#define BUNDLE_FILES 3
extern const char *const report_bundle_files[BUNDLE_FILES]; /* report.md, report.xlsx, results.json */

qkv_status report_bundle_write(const char *dir, const report_input *in, qkv_error *err);

/* Create dir if it does not exist. */
qkv_status report_make_dir(const char *dir, qkv_error *err);

#endif
