/* safetext.h — names read from files made safe to show, once, at input.
 *
 * A model name (config.json model_type, GGUF general.name), a file name or a
 * task name is data: it must never act as markup, a formula or a terminal
 * command in any output. Readers pass every such string through
 * safetext_clean as they store it, so every writer (terminal table, JSON,
 * CSV, Markdown, XLSX, gnuplot) receives text that is:
 *   - valid UTF-8 (each byte of an invalid sequence becomes '?');
 *   - free of control characters: C0 (including newline, tab and ESC), DEL,
 *     C1 (U+0080..U+009F), the line and paragraph separators U+2028/U+2029
 *     and the bidirectional overrides U+202A..U+202E, U+2066..U+2069, each
 *     replaced by '?';
 *   - not read as a spreadsheet formula: a leading '=', '+', '-' or '@' is
 *     preceded by an apostrophe (the usual CSV-injection neutralisation).
 * Writers that embed text in a script (gnuplot) restrict it further; see
 * reports/gnuplot.h.
 */
#ifndef QKV_SAFETEXT_H
#define QKV_SAFETEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Clean the NUL-terminated string in s (a buffer of size bytes) in place;
 * the result is truncated at a character boundary when the apostrophe does
 * not fit. */
void safetext_clean(char *s, size_t size);

/* Length in bytes (1..4) of the well-formed UTF-8 sequence at p, which has
 * n bytes available; 0 when the bytes there are not well-formed UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included). */
size_t safetext_utf8_len(const unsigned char *p, size_t n);

/* Whether code point cp (of a well-formed sequence) must not be shown. */
bool safetext_is_control(unsigned long cp);

/* Decode the well-formed sequence of len bytes at p. */
unsigned long safetext_utf8_decode(const unsigned char *p, size_t len);

#endif
