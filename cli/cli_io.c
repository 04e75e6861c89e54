/* Messages and the final stdout check, shared by every command. */
#define _DEFAULT_SOURCE /* getline */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/bundle.h"
#include "reports/outfile.h"
#include "cli/cli.h"
#include "analyzer/core/infile.h"
#include "analyzer/core/safetext.h"

void cli_error(const char *fmt, ...)
{
    /* One line, whatever the message quotes (an argument, a file name, a
     * name read from a file): control characters, invalid UTF-8 and
     * terminal escapes are written as \n, \xHH or \u{HHHH}, never raw. */
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("qkvplan: ", stderr);
    const unsigned char *p = (const unsigned char *)msg;
    size_t n = strlen(msg);
    for (size_t i = 0; i < n;) {
        size_t len = safetext_utf8_len(p + i, n - i);
        unsigned long cp = len ? safetext_utf8_decode(p + i, len) : 0;
        if (len == 0)
            fprintf(stderr, "\\x%02X", p[i]);
        else if (cp == '\n')
            fputs("\\n", stderr);
        else if (cp == '\r')
            fputs("\\r", stderr);
        else if (cp == '\t')
            fputs("\\t", stderr);
        else if (safetext_is_control(cp))
            fprintf(stderr, cp < 0x80 ? "\\x%02lX" : "\\u{%04lX}", cp);
        else
            fwrite(p + i, 1, len, stderr);
        i += len ? len : 1;
    }
    fputc('\n', stderr);
}

int cli_finish_stdout(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to standard output: %s", strerror(errno));
        return EXIT_FAIL;
    }
    return code;
}

int cli_write_file(const char *path, cli_writer write, const void *ctx)
{
    outfile of;
    qkv_error err;
    if (outfile_open(&of, path, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    if (write(of.f, ctx, &err) != QKV_OK) {
        outfile_abort(&of);
        cli_error("cannot write '%s': %s", path, err.msg);
        return EXIT_FAIL;
    }
    if (outfile_commit(&of, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

typedef struct {
    cli_report_writer write;
    report_format fmt;
    const void *ctx;
} report_job;

static qkv_status write_job(FILE *f, const void *ctx, qkv_error *err)
{
    const report_job *j = ctx;
    return j->write(f, j->fmt, j->ctx, err);
}

int cli_write_report(const char *path, report_format fmt, cli_report_writer write, const void *ctx)
{
    report_job j = {write, fmt, ctx};
    if (path && strcmp(path, "-") == 0)
        path = NULL; /* -o - is standard output */
    if (path)
        return cli_write_file(path, write_job, &j);
    qkv_error err;
    if (write(stdout, fmt, ctx, &err) != QKV_OK) {
        cli_error("cannot write to standard output: %s", err.msg);
        return EXIT_FAIL;
    }
    return cli_finish_stdout(EXIT_OK);
}

int cli_plot_status(qkv_status s, const qkv_error *err, const char *prefix, bool *plots_missing)
{
    if (s == QKV_OK)
        return EXIT_OK;
    if (s == QKV_ERR_TOOL) {
        cli_error("%s: %s", prefix, err->msg);
        *plots_missing = true;
        return EXIT_OK;
    }
    cli_error("%s", err->msg);
    return EXIT_FAIL;
}

int cli_fail(const qkv_error *err, int blame)
{
    cli_error("%s", err->msg);
    return err->code == QKV_ERR_NOMEM ? EXIT_FAIL : blame;
}

int cli_each_line(const char *path, const char *unfinished, cli_line_fn fn, void *ctx,
                  long *complete)
{
    FILE *f;
    qkv_error err;
    if (infile_fopen(path, &f, &err) != QKV_OK)
        return cli_fail(&err, EXIT_INPUT);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, done = 0;
    int code = EXIT_OK;
    while (code == EXIT_OK && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] != '\n') {
            fprintf(stderr, "qkvplan: %s:%ld: an unfinished last line, %s\n", path, lineno,
                    unfinished);
            break;
        }
        done += n;
        size_t len = (size_t)n - 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            continue;
        if (fn(ctx, line, len, &err) != QKV_OK) {
            cli_error("%s:%ld: %s", path, lineno, err.msg);
            code = err.code == QKV_ERR_NOMEM ? EXIT_FAIL : EXIT_INPUT;
        }
    }
    if (code == EXIT_OK && ferror(f)) {
        cli_error("cannot read '%s': %s", path, strerror(errno));
        code = EXIT_INPUT;
    }
    free(line);
    fclose(f);
    if (complete)
        *complete = done;
    return code;
}
