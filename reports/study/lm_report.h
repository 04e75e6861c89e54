/* lm_report.h — writers of the language-model study (`qkvplan study --tasks
 * lm`): table, JSON, CSV, Markdown; loss curves (gnuplot); the workbook; the
 * report folder (lm-study.md/.json/.csv/.xlsx, plots/); and, for sharded
 * runs, one JSON line per run. Same contract as report.h. */
#ifndef QKV_LM_REPORT_H
#define QKV_LM_REPORT_H

#include <stdio.h>

#include "probes/train/lm_study.h"
#include "reports/bundle.h"
#include "reports/format.h"

qkv_status report_lm_write(FILE *f, report_format fmt, const lm_result *r, qkv_error *err);

/* One compact JSON object per line for every run this shard trained:
 * variant, context, seed, validation nll and perplexity, the teacher's nll,
 * parameters, FFN width, steps, seconds, loss curve. */
qkv_status report_lm_runs_jsonl(FILE *f, const lm_result *r, qkv_error *err);

/* The settings a result line carries, as text: model shape, contexts,
 * batch, steps, seeds, optimiser, parameter matching and variants. A merge
 * accepts only lines whose text equals its own. */
#define LM_SETTINGS_TEXT_BYTES 1024
void report_lm_settings_text(const lm_result *r, char *buf, size_t n);

/* Read one line report_lm_runs_jsonl wrote into r (set up by
 * lm_study_prepare with the shards' settings): the run it names must be
 * that run of r (variant, context, seed), trained with r's settings
 * (report_lm_settings_text) on the same corpus (the teacher's validation
 * nll agrees). *duplicate is set, and r
 * left as it was, when the run was read already. QKV_ERR_INVALID names the
 * field and why. */
qkv_status report_lm_run_line_read(lm_result *r, const char *text, size_t n, bool *duplicate,
                                   qkv_error *err);

/* Loss curves into dir: lm_loss.{dat,gp,png,svg} (main context, every
 * variant, the teacher floor as a line) and lm_loss_ctx (the ablation). */
qkv_status report_lm_plots_write(const char *dir, const lm_result *r, qkv_error *err);
#define REPORT_LM_PLOTS 2
extern const char *const report_lm_plot_bases[REPORT_LM_PLOTS];

/* Sheets "LM study" (one row per variant and context), "Curves", "Probes". */
qkv_status report_xlsx_lm_write(const char *path, const lm_result *r, qkv_error *err);

report_bundle report_lm_bundle(const lm_result *r);

#endif
