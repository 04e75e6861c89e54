#include "reports/safename.h"

#include <string.h>

#include "analyzer/core/safetext.h"

static void filter(const char *in, char *out, size_t out_bytes, const char *ascii_ok)
{
    if (out_bytes == 0)
        return;
    const unsigned char *p = (const unsigned char *)in;
    size_t n = strlen(in), r = 0, w = 0;
    while (r < n) {
        size_t len = safetext_utf8_len(p + r, n - r);
        const char *keep = NULL;
        size_t keep_len = 1;
        if (len == 1 && ((p[r] >= 'a' && p[r] <= 'z') || (p[r] >= 'A' && p[r] <= 'Z') ||
                         (p[r] >= '0' && p[r] <= '9') || (p[r] && strchr(ascii_ok, p[r]))))
            keep = (const char *)p + r;
        else if (len > 1 && !safetext_is_control(safetext_utf8_decode(p + r, len)))
            keep = (const char *)p + r, keep_len = len;
        if (!keep)
            keep = "_", keep_len = 1;
        if (w + keep_len + 1 > out_bytes)
            break;
        memcpy(out + w, keep, keep_len);
        w += keep_len;
        r += len ? len : 1;
    }
    out[w] = '\0';
}

void report_gp_text(const char *in, char *out, size_t out_bytes)
{
    filter(in, out, out_bytes, " ._+=-()[],:/'");
}

void report_safe_file_name(const char *in, char *out, size_t out_bytes)
{
    filter(in, out, out_bytes, "._+=-()");
    if (out_bytes > 0 && out[0] == '.')
        out[0] = '_';
}

void report_label_file_word(const char *label, char *out, size_t out_bytes)
{
    char word[256];
    size_t n = 0;
    for (const char *p = label; *p && n + 5 < sizeof word; p++) {
        if (*p == '=') {
            memcpy(word + n, "eq", 2);
            n += 2;
        } else if (*p == '+') {
            memcpy(word + n, "plus", 4);
            n += 4;
        } else if (*p != '(' && *p != ')') {
            word[n++] = *p;
        }
    }
    word[n] = '\0';
    report_safe_file_name(word, out, out_bytes);
}
