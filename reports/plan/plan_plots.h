/* plan_plots.h — the planner's figures, drawn by gnuplot (reports/gnuplot.h).
 *
 * For each plan, four figures, each a re-drawable pair of data (.dat, exact
 * bytes) and script (.gp), drawn to PNG and SVG:
 *   total_vs_ctx  total memory per variant over the context sweep against the
 *              usable budget (plan_curves.h): under the line at the requested
 *              context exactly where the table says "fits";
 *   kv_vs_ctx  the KV cache alone over the sweep, log-log;
 *   memory     weights / KV cache / scratch / reserve per variant, stacked,
 *              against the device size;
 *   max_ctx    the longest context that fits per variant (log scale), with
 *              the requested and trained contexts marked.
 * With several plans the files are prefixed with the model's name.
 * Non-finite values: the data are integers and cannot be; a variant that fits
 * at no context has max_ctx 0, which the log-scale plot leaves out (noted in
 * the script).
 */
#ifndef QKV_REPORT_PLAN_PLOTS_H
#define QKV_REPORT_PLAN_PLOTS_H

#include <stddef.h>

#include "reports/plan/report.h"

#define PLOT_KINDS 6
/* "kv_vs_ctx", "memory", "max_ctx", "total_vs_ctx", and with a GPU budget
 * "offload_devices" (weights, KV and compute per device and variant, stacked,
 * against each device's budget) and "offload_layers" (layers on the GPUs
 * versus context) */
extern const char *const report_plot_kinds[PLOT_KINDS];

/* Whether figure kind k is drawn for plan r: the sweep figures need the
 * context sweep, the offload figures a GPU budget. */
bool report_plot_applies(const kvplan_result *r, int k);

/* Base name (no extension) of plan i's plot of kind k, e.g. "kv_vs_ctx" or
 * "Llama-3.2-1B-kv_vs_ctx" when there are several plans. */
void report_plot_name(const report_input *in, size_t i, int k, char *buf, size_t buf_bytes);

/* Write every plan's plots into dir (which must exist). The plans need their
 * sweeps. QKV_ERR_TOOL: gnuplot missing or failing (err says which), data and
 * scripts written; QKV_ERR_IO: a file could not be written. */
qkv_status report_plots_write(const char *dir, const report_input *in, qkv_error *err);

#endif
