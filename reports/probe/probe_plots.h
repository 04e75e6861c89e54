/* probe_plots.h — gnuplot figures of probe results, each as .dat + .gp +
 * PNG + SVG (see gnuplot.h for how they are drawn and what happens when
 * gnuplot is missing):
 *   probe_maps     attention maps, a grid of layers x heads over the first
 *                  tokens kept (PROBE_MAP_MAX), query rows down, key columns
 *                  across (needs maps kept by probe_run);
 *   probe_heat     layers x heads heatmaps: K–V and Q–K mean cos² of the
 *                  weight read directions, effective rank of K / head_dim,
 *                  symmetric share of W_Qᵀ W_K;
 *   probe_angles   cosines of the K–V principal angles per layer and KV
 *                  head, with the random-subspace level sqrt(k/d);
 *   probe_spectra  singular values of each W_K slice over its largest, with
 *                  the k90 and k99 energy ranks marked. */
#ifndef QKV_PROBE_PLOTS_H
#define QKV_PROBE_PLOTS_H

#include "reports/probe/probe_report.h"

#define PROBE_PLOT_KINDS 4
extern const char *const report_probe_plot_kinds[PROBE_PLOT_KINDS];

qkv_status report_probe_plots_write(const char *dir, const probe_report_input *in, qkv_error *err);

#endif
