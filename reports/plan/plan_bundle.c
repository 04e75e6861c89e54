/* The planner's report folder (reports/bundle.h): plan.md with the plots
 * embedded, plan.json, plan.csv, plan.xlsx and plots/. */
#include "reports/plan/plan_bundle.h"

#include "reports/plan/plan_plots.h"
#include "reports/plan/plan_xlsx.h"

static qkv_status write(FILE *f, report_format fmt, const void *data, const char *plots_rel,
                        const char *plots_note, qkv_error *err)
{
    if (fmt != REPORT_MD)
        return report_write(f, fmt, data, err);
    qkv_status s = report_md_write_plots(f, data, plots_rel, plots_note, err);
    if (s == QKV_OK)
        fprintf(f,
                "\nAlso in this folder: plan.xlsx (the same plan as a workbook with charts), "
                "plan.json (exact integers), plan.csv (one row per variant), %s/ (gnuplot "
                "data and scripts to re-draw).\n",
                plots_rel);
    return s;
}

static qkv_status write_xlsx(const char *path, const void *data, qkv_error *err)
{
    return report_xlsx_write(path, data, err);
}

static qkv_status write_plots(const char *dir, const void *data, qkv_error *err)
{
    return report_plots_write(dir, data, err);
}

report_bundle report_plan_bundle(const report_input *in)
{
    return (report_bundle){"plan", in, write, write_xlsx, write_plots};
}
