#include "reports/bundle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/plan/plan_plots.h"
#include "reports/outfile.h"
#include "reports/plan/plan_xlsx.h"

const char *const report_bundle_files[BUNDLE_FILES] = {"report.md", "report.xlsx", "results.json"};

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

qkv_status report_bundle_write(const char *dir, const report_input *in, qkv_error *err)
{
    char path[4096], plots[4096];
    qkv_status s;
    if ((s = report_make_dir(dir, err)) != QKV_OK)
        return s;
    snprintf(plots, sizeof plots, "%s/plots", dir);
    if ((s = report_make_dir(plots, err)) != QKV_OK)
        return s;

    qkv_error plot_err;
    qkv_status plot_s = report_plots_write(plots, in, &plot_err);
    if (plot_s != QKV_OK && plot_s != QKV_ERR_TOOL) {
        if (err)
            *err = plot_err;
        return plot_s;
    }

    outfile of;
    snprintf(path, sizeof path, "%s/results.json", dir);
    if ((s = outfile_open(&of, path, err)) != QKV_OK)
        return s;
    if ((s = report_json_write(of.f, in, err)) != QKV_OK) {
        outfile_abort(&of);
        return s;
    }
    if ((s = outfile_commit(&of, err)) != QKV_OK)
        return s;

    snprintf(path, sizeof path, "%s/report.xlsx", dir);
    if ((s = report_xlsx_write(path, in, err)) != QKV_OK)
        return s;

    snprintf(path, sizeof path, "%s/report.md", dir);
    if ((s = outfile_open(&of, path, err)) != QKV_OK)
        return s;
    if ((s = report_md_write_plots(of.f, in, "plots", plot_s == QKV_OK ? NULL : plot_err.msg,
                                   err)) != QKV_OK) {
        outfile_abort(&of);
        return s;
    }
    fprintf(of.f, "\nAlso in this bundle: report.xlsx (the same plan as a workbook with charts), "
                  "results.json (exact integers), plots/ (gnuplot data and scripts to re-draw).\n");
    if ((s = outfile_commit(&of, err)) != QKV_OK)
        return s;
    if (plot_s != QKV_OK && err)
        *err = plot_err;
    return plot_s;
}
