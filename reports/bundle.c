#include "reports/bundle.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/core/paths.h"
#include "reports/outfile.h"

const char *const report_bundle_exts[REPORT_BUNDLE_EXTS] = {"md", "json", "csv", "xlsx"};

qkv_status report_make_dir(const char *dir, qkv_error *err)
{
    struct stat st;
    if (mkdir(dir, 0777) == 0)
        return QKV_OK;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return QKV_OK;
    return qkv_error_set(err, QKV_ERR_IO, "cannot create directory '%s': %s", dir,
                         errno == EEXIST ? "a file of that name exists" : strerror(errno));
}

static qkv_status write_text(const char *dir, const report_bundle *b, report_format fmt,
                             const char *plots_note, qkv_error *err)
{
    char path[QKV_PATH_BYTES];
    if (snprintf(path, sizeof path, "%s/%s.%s", dir, b->name, report_format_name(fmt)) >=
        (int)sizeof path)
        return qkv_error_set(err, QKV_ERR_RANGE, "path too long: '%s'", dir);
    outfile of;
    qkv_status s = outfile_open(&of, path, err);
    if (s != QKV_OK)
        return s;
    if ((s = b->write(of.f, fmt, b->data, REPORT_BUNDLE_PLOTS, plots_note, err)) != QKV_OK) {
        outfile_abort(&of);
        return s;
    }
    return outfile_commit(&of, err);
}

qkv_status report_bundle_write(const char *dir, const report_bundle *b, qkv_error *err)
{
    char path[QKV_PATH_BYTES], plots[QKV_PATH_BYTES];
    qkv_status s;
    if ((s = report_make_dir(dir, err)) != QKV_OK)
        return s;
    if (snprintf(plots, sizeof plots, "%s/%s", dir, REPORT_BUNDLE_PLOTS) >= (int)sizeof plots ||
        snprintf(path, sizeof path, "%s/%s.xlsx", dir, b->name) >= (int)sizeof path)
        return qkv_error_set(err, QKV_ERR_RANGE, "path too long: '%s'", dir);
    if ((s = report_make_dir(plots, err)) != QKV_OK)
        return s;
    qkv_error plot_err;
    qkv_status plot_s = b->write_plots(plots, b->data, &plot_err);
    if (plot_s != QKV_OK && plot_s != QKV_ERR_TOOL) {
        if (err)
            *err = plot_err;
        return plot_s;
    }
    const char *note = plot_s == QKV_OK ? NULL : plot_err.msg;
    static const report_format texts[] = {REPORT_JSON, REPORT_CSV, REPORT_MD};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if ((s = write_text(dir, b, texts[i], note, err)) != QKV_OK)
            return s;
    if ((s = b->write_xlsx(path, b->data, err)) != QKV_OK)
        return s;
    if (plot_s != QKV_OK && err)
        *err = plot_err;
    return plot_s;
}
