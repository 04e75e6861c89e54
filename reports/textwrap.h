/* textwrap.h — prose fitted to a width, for the terminal writers.
 *
 * Text is broken at spaces so that no line is wider than width columns
 * (counted in UTF-8 characters, every character one column); continuation
 * lines are indented by indent spaces. A word longer than a whole line is
 * cut at the width rather than let through: the width is a promise to the
 * terminal. Output to a pipe or file gets the same lines (the CLI passes a
 * fixed width there), so it is complete and stable.
 */
#ifndef QKV_REPORT_TEXTWRAP_H
#define QKV_REPORT_TEXTWRAP_H

#include <stddef.h>
#include <stdio.h>

/* Width used when a writer is given 0. */
#define REPORT_WIDTH_DEFAULT 80
/* Narrowest width the writers lay out for. */
#define REPORT_WIDTH_MIN 40

/* Columns taken by s on a terminal: its UTF-8 characters. */
size_t report_text_cols(const char *s);

/* Write text wrapped at width (REPORT_WIDTH_DEFAULT when 0, at least
 * REPORT_WIDTH_MIN), each line ended by a newline. */
void report_wrap(FILE *f, const char *text, size_t width, size_t indent);

/* The same, continuing a line on which start columns are already written. */
void report_wrap_from(FILE *f, const char *text, size_t start, size_t width, size_t indent);

/* Write a shell command line indented by indent and wrapped at width, each
 * broken line ending in " \\" so that it pastes back as one command; a
 * single-quoted word is never broken (a word wider than a line is left
 * whole: a command must stay exact). */
void report_wrap_shell(FILE *f, const char *cmd, size_t width, size_t indent);

#endif
