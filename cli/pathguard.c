#include "cli/pathguard.h"
#include "reports/bundle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/core/infile.h"
#include "cli/cli.h"

void cli_outputs_add(cli_outputs *o, const char *option, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (strcmp(fmt, "%s") == 0) {
        const char *s = va_arg(ap, const char *);
        va_end(ap);
        if (!s)
            return;
        va_start(ap, fmt);
    }
    char *path = NULL;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && (path = malloc((size_t)n + 1)) != NULL)
        vsnprintf(path, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    va_end(ap);
    if (!path) {
        o->nomem = true;
        return;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16;
        char **p = realloc(o->paths, cap * sizeof *p);
        if (p)
            o->paths = p;
        const char **q = p ? realloc(o->options, cap * sizeof *q) : NULL;
        if (q)
            o->options = q;
        if (!p || !q) {
            free(path);
            o->nomem = true;
            return;
        }
        o->cap = cap;
    }
    o->paths[o->n] = path;
    o->options[o->n++] = option;
}

void cli_outputs_add_figure(cli_outputs *o, const char *option, const char *dir, const char *base)
{
    static const char *const ext[] = {"dat", "gp", "png", "svg"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        cli_outputs_add(o, option, "%s/%s.%s", dir, base, ext[i]);
}

void cli_outputs_add_bundle(cli_outputs *o, const char *option, const char *dir, const char *name)
{
    for (size_t i = 0; i < REPORT_BUNDLE_EXTS; i++)
        cli_outputs_add(o, option, "%s/%s.%s", dir, name, report_bundle_exts[i]);
}

int cli_outputs_check(cli_outputs *o)
{
    int code = EXIT_OK;
    if (o->nomem) {
        cli_error("out of memory listing the output files");
        code = EXIT_FAIL;
    }
    for (size_t i = 0; i < o->n && code == EXIT_OK; i++) {
        const char *input = infile_which(o->paths[i]);
        if (!input)
            continue;
        if (strcmp(input, o->paths[i]) == 0)
            cli_error("%s: '%s' is the input file; refusing to overwrite it (nothing "
                      "was written)",
                      o->options[i], o->paths[i]);
        else
            cli_error("%s: '%s' is the input file '%s'; refusing to overwrite it (nothing was "
                      "written)",
                      o->options[i], o->paths[i], input);
        code = EXIT_USAGE;
    }
    for (size_t i = 0; i < o->n; i++)
        free(o->paths[i]);
    free(o->paths);
    free(o->options);
    *o = (cli_outputs){0};
    return code;
}
