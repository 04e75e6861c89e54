/* Prose fitted to a width (textwrap.h). */
#include "reports/textwrap.h"

#include <string.h>

size_t report_text_cols(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80; /* count lead bytes only */
    return n;
}

/* Bytes of s that make up at most cols characters. */
static size_t bytes_for_cols(const char *s, size_t len, size_t cols)
{
    size_t i = 0, c = 0;
    while (i < len) {
        size_t k = 1;
        while (i + k < len && ((unsigned char)s[i + k] & 0xC0) == 0x80)
            k++;
        if (c + 1 > cols)
            break;
        i += k;
        c++;
    }
    return i;
}

static size_t cols_of(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

void report_wrap(FILE *f, const char *text, size_t width, size_t indent)
{
    report_wrap_from(f, text, 0, width, indent);
}

void report_wrap_from(FILE *f, const char *text, size_t start, size_t width, size_t indent)
{
    if (width == 0)
        width = REPORT_WIDTH_DEFAULT;
    if (width < REPORT_WIDTH_MIN)
        width = REPORT_WIDTH_MIN;
    if (indent > width / 2)
        indent = width / 2;
    size_t col = start;
    int fresh = 1; /* nothing written on this line yet */
    const char *p = text;
    while (*p == ' ')
        p++;
    while (*p) {
        const char *w = p;
        while (*w && *w != ' ')
            w++;
        size_t len = (size_t)(w - p), wc = cols_of(p, len);
        if (fresh && col > indent && col + wc > width) { /* started too far right */
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        }
        if (!fresh && col + 1 + wc > width) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
            fresh = 1;
        } else if (!fresh) {
            fputc(' ', f);
            col++;
        }
        /* a word wider than a line: cut it at the width */
        while (col + wc > width) {
            size_t take = bytes_for_cols(p, len, width - col);
            fwrite(p, 1, take, f);
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
            p += take;
            len -= take;
            wc = cols_of(p, len);
        }
        fwrite(p, 1, len, f);
        col += wc;
        fresh = 0;
        p = w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

void report_wrap_shell(FILE *f, const char *cmd, size_t width, size_t indent)
{
    if (width == 0)
        width = REPORT_WIDTH_DEFAULT;
    if (width < REPORT_WIDTH_MIN)
        width = REPORT_WIDTH_MIN;
    fprintf(f, "%*s", (int)indent, "");
    size_t col = indent;
    int fresh = 1;
    const char *p = cmd;
    while (*p == ' ')
        p++;
    while (*p) {
        const char *w = p;
        int quoted = 0;
        while (*w && (quoted || *w != ' ')) {
            if (*w == '\'')
                quoted = !quoted;
            w++;
        }
        size_t len = (size_t)(w - p), wc = cols_of(p, len);
        if (!fresh && col + 1 + wc + 2 > width) { /* room for " \\" */
            fprintf(f, " \\\n%*s", (int)(indent + 2), "");
            col = indent + 2;
        } else if (!fresh) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, len, f);
        col += wc;
        fresh = 0;
        p = w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}
