#include "reports/format.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const char *const format_names[REPORT_FORMAT_COUNT] = {"table", "json", "csv", "md"};

qkv_status report_format_parse(const char *s, report_format *out)
{
    for (int i = 0; i < REPORT_FORMAT_COUNT; i++) {
        if (strcasecmp(s, format_names[i]) == 0) {
            *out = (report_format)i;
            return QKV_OK;
        }
    }
    if (strcasecmp(s, "markdown") == 0) {
        *out = REPORT_MD;
        return QKV_OK;
    }
    return QKV_ERR_INVALID;
}

const char *report_format_name(report_format f)
{
    return format_names[f];
}

qkv_status report_flushed(FILE *f, qkv_status s, qkv_error *err)
{
    if (s == QKV_OK && (fflush(f) != 0 || ferror(f)))
        return qkv_error_set(err, QKV_ERR_IO, "write failed: %s", strerror(errno));
    return s;
}
