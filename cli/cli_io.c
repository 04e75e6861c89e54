/* Messages and the final stdout check, shared by every command. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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


bool same_path(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0 || S_ISDIR(sa.st_mode))
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
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
