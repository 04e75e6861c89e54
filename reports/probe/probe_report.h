/* probe_report.h — writers of probe results (table, JSON, CSV, Markdown).
 * Same contract as report.h: format only, QKV_ERR_IO on a write error.
 * Non-finite metric values (none are expected) are written as JSON null,
 * empty CSV fields and "n/a". */
#ifndef QKV_PROBE_REPORT_H
#define QKV_PROBE_REPORT_H

#include <stdio.h>

#include "probes/probe.h"
#include "reports/plan/report.h"

typedef struct {
    const char *model_label; /* file or name the user gave */
    const probe_result *probe;
    size_t width; /* table: columns available; 0 for no limit. The head
                                table is printed in two parts when it is wider. */
} probe_report_input;

qkv_status report_probe_write(FILE *f, report_format fmt, const probe_report_input *in,
                              qkv_error *err);

/* The probe's report folder in the common layout (reports/bundle.h):
 * probe.md, probe.json, probe.csv, probe.xlsx and plots/. */
#include "reports/bundle.h"
report_bundle report_probe_bundle(const probe_report_input *in);

/* An XLSX workbook (reports/xlsx.h): sheet "Probe", one row per head. */
qkv_status report_xlsx_probe_write(const char *path, const probe_report_input *in, qkv_error *err);

#endif
