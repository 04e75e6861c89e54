/* offload_report.h — the host + GPU placement (analyzer/offload.h) in every
 * writer: JSON fields of a variant row, CSV columns, a terminal section and a
 * Markdown section. Writers only format what offload_plan computed. */
#ifndef QKV_OFFLOAD_REPORT_H
#define QKV_OFFLOAD_REPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "analyzer/offload.h"

/* Adds gpu_layers, gpu_bytes, gpu_bytes_per_gpu, host_bytes, gpu_fits and an
 * "offload" object (devices, command, sweep) to row object o. false: no memory. */
bool report_offload_json_row(cJSON *o, const struct offload_plan *plan, size_t i);
/* Adds the GPU budgets ("gpus") to the root object. false: no memory. */
bool report_offload_json_root(cJSON *root, const kvplan_result *r);

/* CSV: the extra header columns and one row's cells (each starting with ','). */
void report_offload_csv_header(FILE *f);
void report_offload_csv_row(FILE *f, const struct offload_plan *plan, size_t i);

/* The terminal section after a plan's table (nothing without a GPU budget). */
void report_offload_table(FILE *f, const kvplan_result *r, bool in_mib, size_t width);
/* The Markdown section (nothing without a GPU budget). */
void report_offload_md(FILE *f, const kvplan_result *r);

#endif
