#include "reports/fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void fmt_size(uint64_t bytes, char *buf, size_t buf_bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, buf_bytes, "%" PRIu64 " B", bytes);
        return;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 6) {
        v /= 1024.0;
        u++;
    }
    /* Keep three significant digits; promote when rounding reaches 1024. */
    if (v >= 1023.5 && u < 6) {
        v /= 1024.0;
        u++;
    }
    if (v < 9.995)
        snprintf(buf, buf_bytes, "%.2f %s", v, units[u]);
    else if (v < 99.95)
        snprintf(buf, buf_bytes, "%.1f %s", v, units[u]);
    else
        snprintf(buf, buf_bytes, "%.0f %s", v, units[u]);
}

void fmt_size_signed(int64_t bytes, char *buf, size_t buf_bytes)
{
    if (bytes >= 0) {
        fmt_size((uint64_t)bytes, buf, buf_bytes);
        return;
    }
    char tmp[FMT_BYTES];
    uint64_t mag = bytes == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)(-bytes);
    fmt_size(mag, tmp, sizeof tmp);
    snprintf(buf, buf_bytes, "-%s", tmp);
}

void fmt_grouped(uint64_t v, char *buf, size_t buf_bytes)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < buf_bytes; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < buf_bytes)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    if (buf_bytes > 0)
        buf[o < buf_bytes ? o : buf_bytes - 1] = '\0';
}

void fmt_tokens(uint64_t v, char *buf, size_t buf_bytes)
{
    if (v >= ((uint64_t)1 << 20) && v % ((uint64_t)1 << 20) == 0)
        snprintf(buf, buf_bytes, "%" PRIu64 "M", v >> 20);
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(buf, buf_bytes, "%" PRIu64 "k", v >> 10);
    else
        snprintf(buf, buf_bytes, "%" PRIu64, v);
}

int fmt_double(double d, char *buf, size_t buf_bytes)
{
    if (!isfinite(d)) {
        if (buf_bytes > 0)
            buf[0] = '\0';
        return 0;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, buf_bytes, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return 1;
    }
    return 1;
}
