/* pathguard.h — no output may replace an input.
 *
 * A command lists every file it is about to write (each -o, --xlsx, and every
 * file of a --plot or --report bundle, plots included) before it writes
 * anything; cli_outputs_check compares each with every input file the run
 * has opened (analyzer/infile.h: by device and inode, so another path, a
 * symbolic link or a hard link to an input is caught too) and refuses the
 * whole run with one line and EXIT_USAGE when one would be replaced.
 */
#ifndef QKV_CLI_PATHGUARD_H
#define QKV_CLI_PATHGUARD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **paths;         /* owned */
    const char **options; /* the option each path comes from ("--report") */
    size_t n, cap;
    bool nomem; /* an add failed; check reports it */
} cli_outputs;

/* Add the path made by fmt (NULL paths are ignored when fmt is "%s"). */
void cli_outputs_add(cli_outputs *o, const char *option, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Add dir/base.dat, .gp, .png and .svg: the files of one gnuplot figure. */
void cli_outputs_add_figure(cli_outputs *o, const char *option, const char *dir, const char *base);

/* The files of a report folder (reports/bundle.h) other than its plots:
 * DIR/NAME.md, .json, .csv and .xlsx. Its figures are DIR/plots/BASE.*. */
void cli_outputs_add_bundle(cli_outputs *o, const char *option, const char *dir, const char *name);

/* EXIT_OK when no listed path names an input file; else print which and
 * return EXIT_USAGE (EXIT_FAIL when a path could not be recorded). Frees o. */
int cli_outputs_check(cli_outputs *o);

#endif
