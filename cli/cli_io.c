/* Messages and the final stdout check, shared by every command. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../reports/bundle.h"
#include "../reports/outfile.h"
#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("qkvplan: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
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
    if (path)
        return cli_write_file(path, write_job, &j);
    qkv_error err;
    if (write(stdout, fmt, ctx, &err) != QKV_OK) {
        cli_error("cannot write to standard output: %s", err.msg);
        return EXIT_FAIL;
    }
    return cli_finish_stdout(EXIT_OK);
}

int cli_write_report_set(const char *dir, const char *stem, cli_report_writer write, const void *ctx)
{
    static const struct {
        const char *ext;
        report_format fmt;
    } files[] = {{"json", REPORT_JSON}, {"csv", REPORT_CSV}, {"md", REPORT_MD}};
    qkv_error err;
    if (report_make_dir(dir, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%.4000s/%s.%s", dir, stem, files[i].ext);
        int code = cli_write_report(path, files[i].fmt, write, ctx);
        if (code != EXIT_OK)
            return code;
    }
    return EXIT_OK;
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
