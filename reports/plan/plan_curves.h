/* plan_curves.h — the planner's two figures over the context sweep (the
 * writers behind plan_plots.h's kv_vs_ctx and total_vs_ctx):
 *
 *   total_vs_ctx  weights + KV cache + scratch per variant against the usable
 *                 budget (device − reserve): a curve is under the budget line
 *                 at the requested context exactly when the table says the
 *                 variant fits. Variants the engine refuses are left out (they
 *                 fit at no context; the .dat says which).
 *   kv_vs_ctx     the KV cache alone, log-log; no budget line, since the
 *                 cache alone says nothing about fitting.
 *
 * Both mark the requested and the trained context, and merge variants whose
 * curves are equal at every point into one series named "A, B" (the data
 * hold each series once). The .dat starts with comment lines giving the
 * usable bytes and both contexts, then a header line of series names, then
 * one line per context (tokens) with exact bytes.
 */
#ifndef QKV_REPORT_PLAN_CURVES_H
#define QKV_REPORT_PLAN_CURVES_H

#include <stdbool.h>
#include <stdio.h>

#include "reports/plan/report.h"

/* Twelve distinguishable colours as gnuplot linetypes 1..12, each with its
 * own point type, for every figure with one curve a variant. */
void plan_curves_palette(FILE *f);
void plan_curves_dat(FILE *f, const kvplan_result *r, bool total);
void plan_curves_gp(FILE *f, const report_input *in, size_t i, const char *base, bool total);

#endif
