/* The width terminal output is fitted to (term.h). */
#define _DEFAULT_SOURCE /* struct winsize, TIOCGWINSZ */
#include "cli/term.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "reports/textwrap.h"

/* Widest layout asked for; wider COLUMNS values are taken as this. */
#define TERM_WIDTH_MAX 1000

size_t cli_term_width(int fd)
{
    size_t w = 0;
    const char *env = getenv("COLUMNS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v > 0)
            w = v > TERM_WIDTH_MAX ? TERM_WIDTH_MAX : (size_t)v;
    }
    struct winsize ws;
    if (w == 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        w = ws.ws_col;
    if (w == 0)
        w = REPORT_WIDTH_DEFAULT;
    return w < REPORT_WIDTH_MIN ? REPORT_WIDTH_MIN : w;
}
