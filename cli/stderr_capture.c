#include "cli/stderr_capture.h"

#include <string.h>
#include <unistd.h>

#include "reports/bundle.h"
#include "reports/plan/plan_xlsx.h"
#include "reports/study/study_report.h"

void cli_capture_stderr(cli_stderr_capture *c)
{
    c->saved_fd = -1;
    c->sink = tmpfile();
    if (!c->sink)
        return;
    fflush(stderr);
    c->saved_fd = dup(STDERR_FILENO);
    if (c->saved_fd < 0 || dup2(fileno(c->sink), STDERR_FILENO) < 0) {
        if (c->saved_fd >= 0)
            close(c->saved_fd);
        c->saved_fd = -1;
        fclose(c->sink);
        c->sink = NULL;
    }
}

void cli_release_stderr(cli_stderr_capture *c, qkv_error *err)
{
    if (c->saved_fd < 0)
        return;
    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    c->saved_fd = -1;
    char text[2048], line[2048] = "";
    size_t n = 0;
    if (fseek(c->sink, 0, SEEK_SET) == 0)
        n = fread(text, 1, sizeof text - 1, c->sink);
    text[n] = '\0';
    fclose(c->sink);
    c->sink = NULL;
    const char *sys = strstr(text, "System error = ");
    if (sys) {
        snprintf(line, sizeof line, "%s", sys + strlen("System error = "));
    } else {
        /* the last non-empty line */
        char *save = NULL;
        for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
            snprintf(line, sizeof line, "%s", t);
    }
    line[strcspn(line, "\r\n")] = '\0';
    size_t used = err ? strlen(err->msg) : 0;
    if (err && line[0] && !strstr(err->msg, line) && used + 4 < sizeof err->msg)
        snprintf(err->msg + used, sizeof err->msg - used, " (%.*s)",
                 (int)(sizeof err->msg - used - 4), line);
}

#define CAPTURED(call)                                                                             \
    do {                                                                                           \
        cli_stderr_capture c;                                                                      \
        cli_capture_stderr(&c);                                                                    \
        qkv_status s = (call);                                                                     \
        cli_release_stderr(&c, s == QKV_OK ? NULL : err);                                          \
        return s;                                                                                  \
    } while (0)

qkv_status cli_xlsx_write(const char *path, const report_input *in, qkv_error *err)
{
    CAPTURED(report_xlsx_write(path, in, err));
}

qkv_status cli_xlsx_probe_write(const char *path, const probe_report_input *in, qkv_error *err)
{
    CAPTURED(report_xlsx_probe_write(path, in, err));
}

qkv_status cli_xlsx_study_write(const char *path, const study_result *r, qkv_error *err)
{
    CAPTURED(report_xlsx_study_write(path, r, err));
}

qkv_status cli_bundle_write(const char *dir, const report_bundle *b, qkv_error *err)
{
    CAPTURED(report_bundle_write(dir, b, err));
}
