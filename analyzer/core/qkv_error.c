#include "analyzer/core/qkv_error.h"

#include <stdarg.h>
#include <stdio.h>

const char *qkv_strerror(qkv_status s)
{
    switch (s) {
    case QKV_OK:
        return "success";
    case QKV_ERR_NOMEM:
        return "out of memory";
    case QKV_ERR_IO:
        return "input/output error";
    case QKV_ERR_PARSE:
        return "malformed input";
    case QKV_ERR_INVALID:
        return "invalid value";
    case QKV_ERR_RANGE:
        return "value out of range";
    case QKV_ERR_OVERFLOW:
        return "size overflows 64 bits";
    case QKV_ERR_UNSUPPORTED:
        return "unsupported";
    case QKV_ERR_NOTFOUND:
        return "not found";
    case QKV_ERR_TOOL:
        return "external program failed";
    }
    return "unknown error";
}

qkv_status qkv_error_set(qkv_error *err, qkv_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void qkv_error_clear(qkv_error *err)
{
    if (err) {
        err->code = QKV_OK;
        err->msg[0] = '\0';
    }
}
