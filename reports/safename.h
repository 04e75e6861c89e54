/* safename.h — text that reaches a gnuplot script or a file name.
 *
 * Names are cleaned once at input (analyzer/safetext.h). These two filters
 * are the writers' own guarantee on top of that, whatever they are given:
 *
 * report_gp_text: for a string placed between double quotes in a .gp script
 * (titles). gnuplot substitutes `backquoted` commands and interprets
 * backslash escapes inside double quotes, a '"' ends the string, '%' is a
 * format directive where the title goes through sprintf, and a newline ends
 * the command. Only letters, digits, well-formed non-ASCII UTF-8 (no
 * control characters) and the characters  space . _ + = - ( ) [ ] , : / '
 * are kept; every other byte or character becomes '_'. Such text is inert:
 * the script does the same whatever the name, also when re-run by hand.
 *
 * report_safe_file_name: for a name used as (part of) a file name: letters,
 * digits, well-formed non-ASCII UTF-8 and . _ + = - ( ) are kept, every
 * other byte or character becomes '_', and a leading '.' becomes '_' (no
 * hidden files, no "..").
 *
 * Both write a NUL-terminated result of at most out_bytes - 1 bytes, never
 * cutting a character in two.
 */
#ifndef QKV_REPORT_SAFENAME_H
#define QKV_REPORT_SAFENAME_H

#include <stddef.h>

void report_gp_text(const char *in, char *out, size_t out_bytes);
void report_safe_file_name(const char *in, char *out, size_t out_bytes);

/* A variant label as a file-name word a shell and a file browser take as
 * it is: '=' becomes "eq", '+' becomes "plus", parentheses go, and the rest
 * as report_safe_file_name: "(Q=K-V)+" gives "QeqK-Vplus", "Q-K=V+MQA"
 * gives "Q-KeqVplusMQA". */
void report_label_file_word(const char *label, char *out, size_t out_bytes);

#endif
