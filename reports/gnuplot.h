/* gnuplot.h — figures drawn by gnuplot, run as an external program: the
 * common layer under the plan, probe and study figures.
 *
 * Every figure is a re-drawable pair of data (.dat) and script (.gp), then
 * drawn to PNG (pngcairo) and SVG. Data and scripts are always written
 * (atomically). Images are drawn into a private temporary folder and renamed
 * into place when gnuplot succeeds. When gnuplot is missing or fails, the
 * call returns QKV_ERR_TOOL with the reason (gnuplot's own message), and no
 * image of that figure is left half-written. Strings from files reach a
 * script only through the safe character set of reports/safename.h.
 */
#ifndef QKV_REPORT_GNUPLOT_H
#define QKV_REPORT_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

#include "analyzer/core/qkv_error.h"

/* Write dir/name atomically with fn(f, ctx). */
qkv_status report_write_text(const char *dir, const char *name,
                             void (*fn)(FILE *f, const void *ctx), const void *ctx, qkv_error *err);

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

/* Script pieces every figure shares: the default output names (a caller
 * of report_gnuplot_run sets outpng and outsvg to temporary names), and the
 * plot command drawn twice, to PNG (pngcairo) and SVG, at width x height
 * pixels with DejaVu Sans at font_pt points. */
void report_gp_outputs(FILE *f, const char *base);
void report_gp_draw(FILE *f, const char *plot, int width, int height, int font_pt);

#endif
