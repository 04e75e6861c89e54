/* sweep_report.h — the Table 1 sweep's files: one JSON line per finished
 * run (written as the run ends, read back by --resume and `study merge`),
 * and the merged table in table, JSON, CSV and Markdown. */
#ifndef QKV_SWEEP_REPORT_H
#define QKV_SWEEP_REPORT_H

#include <stdio.h>

#include "probes/train/sweep.h"
#include "reports/format.h"

/* One result line, without its newline, allocated (free with free()). */
qkv_status report_sweep_line(const sweep_grid *g, long j, const sweep_outcome *o, char **text,
                             qkv_error *err);

/* What a result line holds. */
typedef struct {
    char grid[SWEEP_TEXT_BYTES], regime[SWEEP_TEXT_BYTES];
    long run;
    char task[16], variant[32];
    int len, d, layers, heads, seed;
    double accuracy, eval_loss, seconds;
} sweep_line;

/* Parse one line (n bytes, no newline): QKV_ERR_INVALID names the field and
 * why. The caller checks it against its sweep with report_sweep_line_check. */
qkv_status report_sweep_line_parse(const char *text, size_t n, sweep_line *out, qkv_error *err);

/* Whether line l is run l->run of grid g as g would write it (task, length,
 * shape, variant, seed): QKV_ERR_INVALID says what differs. */
qkv_status report_sweep_line_check(const sweep_grid *g, const sweep_line *l, qkv_error *err);

/* The merged sweep: per task and variant over every length beside the
 * paper's Table 1, per length, and the paper's findings checked. sources
 * names the files read (for the header). */
qkv_status report_sweep_write(FILE *f, report_format fmt, const sweep_merged *m, int n_sources,
                              qkv_error *err);

#endif
