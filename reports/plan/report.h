/* report.h — writers of planner results: terminal table, JSON, CSV, Markdown.
 *
 * Writers format what the analyzer computed; they never compute a plan. Every
 * writer takes the same report_input and an open stream, returns QKV_ERR_IO
 * (with the reason in err) when the stream reports a write error, and leaves
 * closing the stream to the caller.
 *
 * Non-finite numbers: the planner's outputs are integers except kv_reduction
 * and the paper's perplexity change, both finite by construction; a writer
 * that meets a non-finite double anyway writes JSON null, an empty CSV field
 * or "n/a" in text, and never a made-up number.
 */
#ifndef QKV_REPORT_H
#define QKV_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "analyzer/kvplan.h"
#include "analyzer/core/qkv_error.h"
#include "reports/format.h"

typedef struct {
    const char *device_label;   /* how the user named the device: "8GB", "rpi5-8gb" */
    const kvplan_result *plans; /* one per model */
    size_t n_plans;
    bool in_mib;  /* table: sizes in MiB with two decimals, as llama.cpp logs them */
    size_t width; /* table: columns of the terminal (0: REPORT_WIDTH_DEFAULT);
                                 * prose is wrapped to it and the table keeps the columns
                                 * that fit, in the order a deployer reads them */
    bool wide;    /* table: every column, however wide the rows get */
} report_input;

qkv_status report_write(FILE *f, report_format fmt, const report_input *in, qkv_error *err);

qkv_status report_table_write(FILE *f, const report_input *in, qkv_error *err);
qkv_status report_json_write(FILE *f, const report_input *in, qkv_error *err);
qkv_status report_csv_write(FILE *f, const report_input *in, qkv_error *err);
qkv_status report_md_write(FILE *f, const report_input *in, qkv_error *err);

/* Markdown with each plan's plots embedded from plots_rel (a path relative
 * to the Markdown file), or, when plots_note is not NULL, that note in place
 * of the images (plots not drawn). */
qkv_status report_md_write_plots(FILE *f, const report_input *in, const char *plots_rel,
                                 const char *plots_note, qkv_error *err);

/* The one-paragraph verdict for a plan, as every writer prints it. */
void report_verdict(const kvplan_result *r, char *buf, size_t buf_bytes);

#endif
