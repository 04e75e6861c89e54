/* study_report.h — writers of study results: table, JSON, CSV, Markdown, and
 * gnuplot loss curves (one figure per task, mean training loss over seeds per
 * variant). Same contract as report.h. */
#ifndef QKV_STUDY_REPORT_H
#define QKV_STUDY_REPORT_H

#include <stdio.h>

#include "probes/train/study.h"
#include "reports/plan/report.h"

qkv_status report_study_write(FILE *f, report_format fmt, const study_result *r, qkv_error *err);

/* Loss curves into dir (exists): loss_<task>.dat/.gp/.png/.svg. QKV_ERR_TOOL
 * when gnuplot is missing or fails (data and scripts written). */
qkv_status report_study_plots_write(const char *dir, const study_result *r, qkv_error *err);

/* Base name of the loss plot of a task: "loss_" and the task's name as a
 * safe file name ("loss_text_notes_txt" for text:notes.txt). */
void report_study_plot_base(const char *task_name, int len, char *buf, size_t buf_bytes);

/* The study's report folder in the common layout (reports/bundle.h):
 * study.md, study.json, study.csv, study.xlsx and plots/ (the command adds
 * models/). */
#include "reports/bundle.h"
report_bundle report_study_bundle(const study_result *r);

/* An XLSX workbook (reports/xlsx.h): sheet "Study", one row per task and variant. */
qkv_status report_xlsx_study_write(const char *path, const study_result *r, qkv_error *err);

#endif
