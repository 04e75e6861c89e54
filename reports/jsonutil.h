/* jsonutil.h — numbers into cJSON objects, exactly: integers as raw text
 * (cJSON's doubles are exact only below 2^53), doubles as the shortest text
 * that reads back as the same value, and non-finite doubles as null. */
#ifndef QKV_REPORT_JSONUTIL_H
#define QKV_REPORT_JSONUTIL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include <stdio.h>

#include "analyzer/core/qkv_error.h"

/* Jump to the writer's `nomem` label when a cJSON call returns NULL. */
#define JSON_CHECK(x)                                                                              \
    do {                                                                                           \
        if (!(x))                                                                                  \
            goto nomem;                                                                            \
    } while (0)

/* A new JSON document: an object that starts with "schema_version" and
 * "qkvplan_version", as every JSON qkvplan writes does. NULL on no memory. */
cJSON *report_json_document(void);

/* Print root (indented) and a newline to f, then delete root. */
qkv_status report_json_emit(FILE *f, cJSON *root, qkv_error *err);

cJSON *report_json_u64(cJSON *o, const char *key, uint64_t v);
cJSON *report_json_i64(cJSON *o, const char *key, int64_t v);
cJSON *report_json_double(cJSON *o, const char *key, double v);
/* A double as an array element (null when non-finite); NULL on no memory. */
cJSON *report_json_double_item(double v);

/* Read number field `key` of o into *out: finite, in lo..hi, whole when
 * `whole`. A writer gives a non-finite double as null (report_json_double):
 * with `nullable` a null reads back as NaN. QKV_ERR_INVALID names the field
 * and why. */
#include <stdbool.h>
qkv_status report_json_read_number(const cJSON *o, const char *key, double lo, double hi,
                                   bool whole, bool nullable, double *out, qkv_error *err);

#endif
