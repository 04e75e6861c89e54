/* gnuplot.h — plots drawn by gnuplot, run as an external program.
 *
 * For each plan, three figures, each written as a re-drawable pair of data
 * (.dat, exact bytes) and script (.gp), then drawn to PNG (pngcairo) and SVG:
 *   kv_vs_ctx  KV cache per variant over the context sweep, log-log, with the
 *              usable memory as a line and the requested context marked;
 *   memory     weights / KV cache / scratch / reserve per variant, stacked,
 *              against the device size;
 *   max_ctx    the longest context that fits per variant (log scale), with
 *              the requested context marked.
 * With several plans the files are prefixed with the model's name.
 *
 * Data and scripts are always written (atomically). Images are drawn to
 * temporary names and renamed when gnuplot succeeds. When gnuplot is missing
 * or fails, the call returns QKV_ERR_TOOL with the reason (gnuplot's own
 * message), and no image of that figure is left half-written.
 * Non-finite values: the data are integers and cannot be; a variant that fits
 * at no context has max_ctx 0, which the log-scale plot leaves out (noted in
 * the script).
 */
#ifndef QKV_REPORT_GNUPLOT_H
#define QKV_REPORT_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

#include "reports/plan/report.h"

#define PLOT_KINDS 3
extern const char *const report_plot_kinds[PLOT_KINDS]; /* "kv_vs_ctx", "memory", "max_ctx" */

/* Base name (no extension) of plan i's plot of kind k, e.g. "kv_vs_ctx" or
 * "Llama-3.2-1B-kv_vs_ctx" when there are several plans. */
void report_plot_name(const report_input *in, size_t i, int k, char *buf, size_t buf_bytes);

/* Write dir/name atomically with fn(f, ctx). */
qkv_status report_write_text(const char *dir, const char *name, void (*fn)(FILE *f, const void *ctx),
                             const void *ctx, qkv_error *err);

/* Draw dir/base.gp with gnuplot (run in dir) to base.png and base.svg: the
 * script takes its output names from the variables outpng and outsvg, which
 * are set to temporary names and renamed when gnuplot succeeds.
 * QKV_ERR_TOOL: gnuplot missing or failing (err quotes it). */
qkv_status report_gnuplot_run(const char *dir, const char *base, qkv_error *err);

/* One figure: write dir/base.dat and dir/base.gp with dat and gp, then draw
 * it with gnuplot unless *tool already records a gnuplot failure. A file
 * that cannot be written is returned as an error; a gnuplot failure is not:
 * it goes into *tool and tool_err, so the caller keeps writing the data and
 * scripts of the other figures and reports the failure at the end. */
qkv_status report_figure(const char *dir, const char *base, void (*dat)(FILE *f, const void *ctx),
                         void (*gp)(FILE *f, const void *ctx), const void *ctx, qkv_status *tool,
                         qkv_error *tool_err, qkv_error *err);

/* Write every plan's plots into dir (which must exist). The plans need their
 * sweeps. QKV_ERR_TOOL: gnuplot missing or failing (err says which), data and
 * scripts written; QKV_ERR_IO: a file could not be written. */
qkv_status report_plots_write(const char *dir, const report_input *in, qkv_error *err);

#endif
