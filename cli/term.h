/* term.h — the width terminal output is fitted to.
 *
 * COLUMNS when it holds a number (as a user or a script sets it), else the
 * width of the terminal on fd, else REPORT_WIDTH_DEFAULT (80): output to a
 * pipe or a file is laid out the same way every time, whatever terminal
 * started it. Never narrower than REPORT_WIDTH_MIN (40).
 */
#ifndef QKV_CLI_TERM_H
#define QKV_CLI_TERM_H

#include <stddef.h>

size_t cli_term_width(int fd);

#endif
