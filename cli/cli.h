/* cli.h — qkvplan's commands and exit codes. Only cli/ prints and exits. */
#ifndef QKV_CLI_H
#define QKV_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "analyzer/core/version.h" /* QKVPLAN_VERSION */

enum {
    EXIT_OK = 0,    /* success (a plan in which nothing fits is still a success) */
    EXIT_FAIL = 1,  /* output could not be written, or an internal failure */
    EXIT_USAGE = 2, /* bad command line: unknown option, value out of range */
    EXIT_INPUT = 3, /* an input file is unreadable, malformed or meaningless */
    EXIT_PLOTS = 4, /* plots not drawn (gnuplot missing or failing); all else written */
};

int cmd_plan(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_study_lm(int argc, char **argv);    /* qkvplan study --tasks lm */
int cmd_study_paper(int argc, char **argv); /* qkvplan study --paper */
int cmd_study_merge(int argc, char **argv); /* qkvplan study merge FILE... */
int cmd_convert(int argc, char **argv);
int cmd_generate(int argc, char **argv);

/* Print "qkvplan: <message>" to stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#include "analyzer/core/qkv_error.h"
#include "reports/plan/report.h"

/* Write path atomically with write(f, ctx, err); on failure print the
 * error (naming the file) and return EXIT_FAIL, else EXIT_OK. */
typedef qkv_status (*cli_writer)(FILE *f, const void *ctx, qkv_error *err);
int cli_write_file(const char *path, cli_writer write, const void *ctx);

/* A report writer for one format; cli_write_report writes it to path
 * atomically, or to stdout when path is NULL (then checking stdout). */
typedef qkv_status (*cli_report_writer)(FILE *f, report_format fmt, const void *ctx,
                                        qkv_error *err);
int cli_write_report(const char *path, report_format fmt, cli_report_writer write, const void *ctx);

/* Account for a plot writer's status: a gnuplot failure (QKV_ERR_TOOL) is
 * printed with prefix and sets *plots_missing (exit code 4 at the end);
 * other failures are printed and give EXIT_FAIL; success gives EXIT_OK. */
int cli_plot_status(qkv_status s, const qkv_error *err, const char *prefix, bool *plots_missing);

/* Print err's message as the run's one error line and return its exit code:
 * EXIT_FAIL when memory ran out, else `blame` (EXIT_INPUT for a file that
 * could not be read, EXIT_USAGE for a request that cannot be met, ...). */
int cli_fail(const qkv_error *err, int blame);

/* Call fn(ctx, line, n, err) for every line of path that is not empty, n
 * without the line end ("\n" or "\r\n"). A last line without its newline
 * (a writer stopped mid-line) is not passed: stderr says "FILE:LINE: an
 * unfinished last line, " and `unfinished`. Returns EXIT_OK; EXIT_INPUT
 * when path cannot be read; or, when fn fails, prints "FILE:LINE: message"
 * and returns EXIT_INPUT (EXIT_FAIL when memory ran out). *complete, if
 * not NULL, gets the bytes of the file's complete lines. */
typedef qkv_status (*cli_line_fn)(void *ctx, const char *line, size_t n, qkv_error *err);
int cli_each_line(const char *path, const char *unfinished, cli_line_fn fn, void *ctx,
                  long *complete);

/* Flush and check stdout; returns EXIT_FAIL with a message on a write error. */
int cli_finish_stdout(int code);

#endif
