#include "reports/jsonutil.h"

#include <math.h>

#include "analyzer/core/version.h"

#include <inttypes.h>
#include <stdio.h>

#include "reports/fmt.h"

cJSON *report_json_u64(cJSON *o, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_AddRawToObject(o, key, buf);
}

cJSON *report_json_i64(cJSON *o, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return cJSON_AddRawToObject(o, key, buf);
}

cJSON *report_json_double(cJSON *o, const char *key, double v)
{
    char buf[40];
    if (!fmt_double(v, buf, sizeof buf))
        return cJSON_AddNullToObject(o, key);
    return cJSON_AddRawToObject(o, key, buf);
}

cJSON *report_json_double_item(double v)
{
    char buf[40];
    return fmt_double(v, buf, sizeof buf) ? cJSON_CreateRaw(buf) : cJSON_CreateNull();
}

qkv_status report_json_emit(FILE *f, cJSON *root, qkv_error *err)
{
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
    fputs(text, f);
    fputc('\n', f);
    cJSON_free(text);
    return QKV_OK;
}

cJSON *report_json_document(void)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!cJSON_AddNumberToObject(root, "schema_version", QKVPLAN_SCHEMA_VERSION) ||
                 !cJSON_AddStringToObject(root, "qkvplan_version", QKVPLAN_VERSION))) {
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

qkv_status report_json_read_number(const cJSON *o, const char *key, double lo, double hi,
                                   bool whole, bool nullable, double *out, qkv_error *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (nullable && cJSON_IsNull(x)) {
        *out = NAN;
        return QKV_OK;
    }
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return qkv_error_set(err, QKV_ERR_INVALID, "field '%s': missing or not a number", key);
    const double v = x->valuedouble;
    if (v < lo || v > hi || (whole && v != floor(v)))
        return qkv_error_set(err, QKV_ERR_INVALID, "field '%s': %g is not %s from %g to %g", key, v,
                             whole ? "a whole number" : "a number", lo, hi);
    *out = v;
    return QKV_OK;
}
