/* stderr_capture.h — keep a library's own messages off the terminal.
 *
 * libxlsxwriter prints its errors to stderr itself ("[ERROR] workbook_close():
 * ... System error = File too large"), which would make a failed run print
 * several lines. The CLI runs every workbook writer between capture and
 * release: what the library printed goes to an anonymous temporary file, and
 * release returns its most useful part (the system error, else the last
 * line), cleaned to one line, for the CLI's own single error line.
 */
#ifndef QKV_CLI_STDERR_CAPTURE_H
#define QKV_CLI_STDERR_CAPTURE_H

#include <stddef.h>
#include <stdio.h>

#include "analyzer/core/qkv_error.h"

typedef struct {
    int saved_fd; /* the original stderr, -1 when not capturing */
    FILE *sink;
} cli_stderr_capture;

/* Start capturing; when that is impossible stderr is left as it is. */
void cli_capture_stderr(cli_stderr_capture *c);

/* Restore stderr. When err is not NULL (the writer failed), what was
 * captured is appended to its message: " (File too large)". */
void cli_release_stderr(cli_stderr_capture *c, qkv_error *err);

#include "probes/train/study.h"
#include "reports/probe/probe_report.h"
#include "reports/bundle.h"
#include "reports/plan/report.h"

/* The workbook writers (reports/xlsx.h, reports/bundle.h) with libxlsxwriter's
 * own messages captured into err. */
qkv_status cli_xlsx_write(const char *path, const report_input *in, qkv_error *err);
qkv_status cli_xlsx_probe_write(const char *path, const probe_report_input *in, qkv_error *err);
qkv_status cli_xlsx_study_write(const char *path, const study_result *r, qkv_error *err);
qkv_status cli_bundle_write(const char *dir, const report_bundle *b, qkv_error *err);

#endif
