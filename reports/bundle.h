/* bundle.h — a command's report folder, one layout for plan, probe and study:
 *
 *   DIR/NAME.md     the report a reviewer reads (the plan's embeds its plots)
 *   DIR/NAME.json   every number, exact
 *   DIR/NAME.csv    one row per variant, head or study cell
 *   DIR/NAME.xlsx   the workbook
 *   DIR/plots/      gnuplot data, scripts and images
 *
 * NAME is the command ("plan", "probe", "study"); a command may add folders
 * of its own (study: models/). DIR and DIR/plots are created when missing,
 * every file is written atomically, and the plots come first so that the
 * Markdown can embed them or say why they are missing. Returns QKV_ERR_TOOL
 * when only the plots could not be drawn (every other file, and the plots'
 * data and scripts, written; err says why).
 */
#ifndef QKV_REPORT_BUNDLE_H
#define QKV_REPORT_BUNDLE_H

#include <stdio.h>

#include "analyzer/core/qkv_error.h"
#include "reports/format.h"

#define REPORT_BUNDLE_PLOTS "plots"

typedef struct {
    const char *name; /* file stem and command: "plan", "probe", "study" */
    const void *data; /* what the writers below format */
    /* JSON, CSV or Markdown of data into f; Markdown gets the plots folder
     * relative to the file and, when the plots could not be drawn, the
     * reason (NULL when they were). */
    qkv_status (*write)(FILE *f, report_format fmt, const void *data, const char *plots_rel,
                        const char *plots_note, qkv_error *err);
    qkv_status (*write_xlsx)(const char *path, const void *data, qkv_error *err);
    qkv_status (*write_plots)(const char *dir, const void *data, qkv_error *err);
} report_bundle;

/* The files of a bundle besides its plots, by extension. */
#define REPORT_BUNDLE_EXTS 4
extern const char *const report_bundle_exts[REPORT_BUNDLE_EXTS]; /* md, json, csv, xlsx */

qkv_status report_bundle_write(const char *dir, const report_bundle *b, qkv_error *err);

/* Create dir if it does not exist. */
qkv_status report_make_dir(const char *dir, qkv_error *err);

#endif
