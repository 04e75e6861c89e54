/* format.h — the text formats every command writes (table, JSON, CSV,
 * Markdown), named once for option parsing, --help and the report bundles. */
#ifndef QKV_REPORT_FORMAT_H
#define QKV_REPORT_FORMAT_H

#include <stdio.h>

#include "analyzer/core/qkv_error.h"

typedef enum {
    REPORT_TABLE,
    REPORT_JSON,
    REPORT_CSV,
    REPORT_MD,
    REPORT_FORMAT_COUNT
} report_format;

/* "table", "json", "csv", "md" (or "markdown"), any case; QKV_ERR_INVALID otherwise. */
qkv_status report_format_parse(const char *s, report_format *out);

/* The format's name, which is also its file extension in a bundle ("json"). */
const char *report_format_name(report_format f);

/* The status of a writer that has finished writing to f: s when it failed
 * already, else QKV_ERR_IO ("write failed: ...") when f cannot be flushed or
 * has seen an error, else QKV_OK. */
qkv_status report_flushed(FILE *f, qkv_status s, qkv_error *err);

#endif
