#include "analyzer/core/safetext.h"

#include <string.h>

size_t safetext_utf8_len(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    const unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

unsigned long safetext_utf8_decode(const unsigned char *p, size_t len)
{
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    unsigned long cp = p[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++)
        cp = cp << 6 | (p[i] & 0x3F);
    return cp;
}

bool safetext_is_control(unsigned long cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void safetext_clean(char *s, size_t size)
{
    if (!s || size == 0)
        return;
    unsigned char *p = (unsigned char *)s;
    size_t n = strnlen(s, size - 1), r = 0, w = 0;
    p[n] = '\0';
    /* Cleaning never lengthens: each bad byte or character becomes one '?'. */
    while (r < n) {
        size_t len = safetext_utf8_len(p + r, n - r);
        if (len == 0) {
            p[w++] = '?';
            r++;
        } else if (safetext_is_control(safetext_utf8_decode(p + r, len))) {
            p[w++] = '?';
            r += len;
        } else {
            memmove(p + w, p + r, len);
            w += len;
            r += len;
        }
    }
    p[w] = '\0';
    if (w > 0 && (p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@')) {
        size_t keep = w + 1 < size ? w : size - 2; /* bytes kept after the apostrophe */
        while (keep > 0 && keep < w && (p[keep] & 0xC0) == 0x80)
            keep--; /* do not cut a character in two */
        memmove(p + 1, p, keep);
        p[0] = '\'';
        p[keep + 1] = '\0';
    }
}
