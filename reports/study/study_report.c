#include "reports/study/study_report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "reports/fmt.h"
#include "reports/jsonutil.h"
#include "reports/gnuplot.h"
#include "reports/safename.h"

static const char *metric_name(const task *t)
{
    return t->kind == TASK_TEXT ? "eval loss (nats/byte)" : "eval accuracy (%)";
}

static const char *const paper_note =
    "The paper's own Table 1 figures for these tasks are not part of qkvplan's sources, so no "
    "paper column is shown; its language-model measurements are in `qkvplan plan` reports.";

static void settings_line(FILE *f, const study_result *r)
{
    const study_settings *s = &r->settings;
    fprintf(f,
            "GPT-2-style models: %d layer%s, d_model %d, %d heads x %d, FFN %d; %d steps of %d "
            "sequences, AdamW lr %g (warm-up %d, cosine), %d seed%s; 2D term scale %g. "
            "Trained in %.1f s (%.0f tokens/s).\n",
            s->layers, s->layers == 1 ? "" : "s", s->d_model, s->heads, s->d_model / s->heads,
            s->d_ff > 0 ? s->d_ff : 4 * s->d_model, s->steps, s->batch, (double)s->optim.lr,
            s->optim.warmup, s->seeds, s->seeds == 1 ? "" : "s", (double)s->pos2d_scale, r->seconds,
            r->tokens_per_s);
}

static void write_table(FILE *f, const study_result *r, bool md)
{
    if (md)
        fprintf(f, "# qkvplan study\n\n");
    settings_line(f, r);
    for (int ti = 0; ti < r->n_tasks; ti++) {
        const task *t = &r->tasks[ti];
        if (md)
            fprintf(f, "\n## %s (length %d)\n\n| variant | %s | vs QKV | KV bytes/token | params | "
                       "K–V cos² | Q–K cos² | sym W | sym S | erank K / HD |\n"
                       "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
                    t->name, t->len, metric_name(t));
        else
            fprintf(f, "\n%s (length %d), %s:\n%-14s %16s %8s %8s %8s %7s %7s %6s %6s %6s\n", t->name,
                    t->len, metric_name(t), "variant", "mean ± sd", "vs QKV", "KV B/tok", "params",
                    "K-V c2", "Q-K c2", "symW", "symS", "erankK");
        for (int vi = 0; vi < r->n_vars; vi++) {
            const study_cell *c = &r->cells[ti * r->n_vars + vi];
            char ms[48], dv[24] = "";
            snprintf(ms, sizeof ms, t->kind == TASK_TEXT ? "%.3f ± %.3f" : "%.1f ± %.1f",
                     c->metric_mean, c->metric_sd);
            if (c->has_delta)
                snprintf(dv, sizeof dv, t->kind == TASK_TEXT ? "%+.3f" : "%+.1f", c->delta_vs_qkv);
            if (md)
                fprintf(f, "| %s | %s | %s | %llu | %llu | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                        r->vars[vi].label, ms, dv, (unsigned long long)c->kv_bytes_per_token,
                        (unsigned long long)c->params, c->kv_cos2, c->qk_cos2, c->sym_w,
                        c->sym_scores, c->erank_k_frac);
            else
                fprintf(f, "%-14s %16s %8s %8llu %8llu %7.3f %7.3f %6.3f %6.3f %6.3f\n",
                        r->vars[vi].label, ms, dv, (unsigned long long)c->kv_bytes_per_token,
                        (unsigned long long)c->params, c->kv_cos2, c->qk_cos2, c->sym_w,
                        c->sym_scores, c->erank_k_frac);
        }
    }
    fprintf(f, "%s", md ? "\n" : "\n");
    fprintf(f, "%sKV bytes/token: f16 cache, all layers (the planner's exact figure). K-V c2 / Q-K "
               "c2: mean cos^2 of the principal angles between the trained W_K and W_V (W_Q and "
               "W_K), chance %.3f; sym W / sym S: symmetric share of W_Q^T W_K and of the scores; "
               "probes of seed 0's model on one evaluation sequence. vs QKV: difference of means "
               "from plain QKV.\n%s%s\n",
            md ? "- " : "", r->n_tasks && r->n_vars ? r->cells[0].chance : 0.0, md ? "- " : "",
            paper_note);
}


static qkv_status write_json(FILE *f, const study_result *r, qkv_error *err)
{
    const study_settings *s = &r->settings;
    cJSON *root = cJSON_CreateObject(), *o, *arr, *tasks, *cell, *vals;
    JSON_CHECK(root);
    JSON_CHECK(o = cJSON_AddObjectToObject(root, "settings"));
    JSON_CHECK(cJSON_AddNumberToObject(o, "d_model", s->d_model));
    JSON_CHECK(cJSON_AddNumberToObject(o, "layers", s->layers));
    JSON_CHECK(cJSON_AddNumberToObject(o, "heads", s->heads));
    JSON_CHECK(cJSON_AddNumberToObject(o, "seq_len", r->n_tasks ? r->tasks[0].len : 0));
    JSON_CHECK(cJSON_AddNumberToObject(o, "batch", s->batch));
    JSON_CHECK(cJSON_AddNumberToObject(o, "steps", s->steps));
    JSON_CHECK(cJSON_AddNumberToObject(o, "seeds", s->seeds));
    JSON_CHECK(report_json_double(o, "lr", s->optim.lr));
    JSON_CHECK(report_json_double(o, "pos2d_scale", s->pos2d_scale));
    JSON_CHECK(report_json_double(root, "seconds", r->seconds));
    JSON_CHECK(report_json_double(root, "tokens_per_s", r->tokens_per_s));
    JSON_CHECK(cJSON_AddStringToObject(root, "note", paper_note));
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "curve_steps"));
    for (int k = 0; k < r->n_curve; k++) {
        cJSON *n = cJSON_CreateNumber(r->curve_steps[k]);
        JSON_CHECK(n);
        cJSON_AddItemToArray(arr, n);
    }
    JSON_CHECK(tasks = cJSON_AddArrayToObject(root, "tasks"));
    for (int ti = 0; ti < r->n_tasks; ti++) {
        cJSON *t = cJSON_CreateObject();
        JSON_CHECK(t);
        cJSON_AddItemToArray(tasks, t);
        JSON_CHECK(cJSON_AddStringToObject(t, "task", r->tasks[ti].name));
        JSON_CHECK(cJSON_AddNumberToObject(t, "length", r->tasks[ti].len));
        JSON_CHECK(cJSON_AddStringToObject(t, "metric", r->tasks[ti].kind == TASK_TEXT ? "eval_loss"
                                                                                   : "eval_accuracy_pct"));
        JSON_CHECK(arr = cJSON_AddArrayToObject(t, "variants"));
        for (int vi = 0; vi < r->n_vars; vi++) {
            const study_cell *c = &r->cells[ti * r->n_vars + vi];
            JSON_CHECK(cell = cJSON_CreateObject());
            cJSON_AddItemToArray(arr, cell);
            JSON_CHECK(cJSON_AddStringToObject(cell, "label", r->vars[vi].label));
            JSON_CHECK(cJSON_AddStringToObject(cell, "share", variant_share_name(r->vars[vi].share)));
            JSON_CHECK(cJSON_AddNumberToObject(cell, "kv_heads", r->vars[vi].kv_heads));
            JSON_CHECK(cJSON_AddBoolToObject(cell, "pos2d", r->vars[vi].pos2d));
            JSON_CHECK(report_json_double(cell, "metric_mean", c->metric_mean));
            JSON_CHECK(report_json_double(cell, "metric_sd", c->metric_sd));
            JSON_CHECK(vals = cJSON_AddArrayToObject(cell, "metric_per_seed"));
            for (int sd = 0; sd < r->settings.seeds; sd++) {
                cJSON *n = report_json_double_item(c->metric[sd]);
                JSON_CHECK(n);
                cJSON_AddItemToArray(vals, n);
            }
            if (c->has_delta)
                JSON_CHECK(report_json_double(cell, "delta_vs_qkv", c->delta_vs_qkv));
            JSON_CHECK(report_json_double(cell, "train_loss_final", c->train_loss_final));
            JSON_CHECK(cJSON_AddNumberToObject(cell, "params", (double)c->params));
            JSON_CHECK(cJSON_AddNumberToObject(cell, "kv_bytes_per_token", (double)c->kv_bytes_per_token));
            JSON_CHECK(report_json_double(cell, "kv_mean_cos2", c->kv_cos2));
            JSON_CHECK(report_json_double(cell, "qk_mean_cos2", c->qk_cos2));
            JSON_CHECK(report_json_double(cell, "chance", c->chance));
            JSON_CHECK(report_json_double(cell, "sym_share_w", c->sym_w));
            JSON_CHECK(report_json_double(cell, "sym_share_scores", c->sym_scores));
            JSON_CHECK(report_json_double(cell, "erank_k_frac", c->erank_k_frac));
            JSON_CHECK(vals = cJSON_AddArrayToObject(cell, "loss_curve"));
            for (int k = 0; k < r->n_curve; k++) {
                cJSON *n = report_json_double_item(c->curve[k]);
                JSON_CHECK(n);
                cJSON_AddItemToArray(vals, n);
            }
        }
    }
    return report_json_emit(f, root, err);
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}

static void write_csv(FILE *f, const study_result *r)
{
    fputs("task,length,variant,share,kv_heads,pos2d,seed,metric,params,kv_bytes_per_token\n", f);
    for (int ti = 0; ti < r->n_tasks; ti++)
        for (int vi = 0; vi < r->n_vars; vi++) {
            const study_cell *c = &r->cells[ti * r->n_vars + vi];
            for (int sd = 0; sd < r->settings.seeds; sd++) {
                char buf[40];
                fmt_double(c->metric[sd], buf, sizeof buf);
                fprintf(f, "%s,%d,%s,%s,%d,%d,%d,%s,%llu,%llu\n", r->tasks[ti].name, r->tasks[ti].len,
                        r->vars[vi].label, variant_share_name(r->vars[vi].share),
                        r->vars[vi].kv_heads, r->vars[vi].pos2d ? 1 : 0, sd, buf,
                        (unsigned long long)c->params, (unsigned long long)c->kv_bytes_per_token);
            }
        }
}

qkv_status report_study_write(FILE *f, report_format fmt, const study_result *r, qkv_error *err)
{
    qkv_status s = QKV_OK;
    switch (fmt) {
    case REPORT_TABLE: write_table(f, r, false); break;
    case REPORT_MD: write_table(f, r, true); break;
    case REPORT_JSON: s = write_json(f, r, err); break;
    case REPORT_CSV: write_csv(f, r); break;
    default: return qkv_error_set(err, QKV_ERR_INVALID, "unknown report format");
    }
    if (s == QKV_OK && (fflush(f) != 0 || ferror(f)))
        return qkv_error_set(err, QKV_ERR_IO, "write failed: %s", strerror(errno));
    return s;
}

typedef struct {
    const study_result *r;
    int task;
    const char *base;
} curve_ctx;

static void curve_dat(FILE *f, const void *vp)
{
    const curve_ctx *cc = vp;
    const study_result *r = cc->r;
    fputs("\"step\"", f);
    for (int vi = 0; vi < r->n_vars; vi++)
        fprintf(f, " \"%s\"", r->vars[vi].label);
    fputc('\n', f);
    for (int k = 0; k < r->n_curve; k++) {
        fprintf(f, "%d", r->curve_steps[k]);
        for (int vi = 0; vi < r->n_vars; vi++) {
            char buf[40];
            fmt_double(r->cells[cc->task * r->n_vars + vi].curve[k], buf, sizeof buf);
            fprintf(f, " %s", buf[0] ? buf : "NaN");
        }
        fputc('\n', f);
    }
}

static void curve_gp(FILE *f, const void *vp)
{
    const curve_ctx *cc = vp;
    const study_result *r = cc->r;
    char task_name[128];
    report_gp_text(r->tasks[cc->task].name, task_name, sizeof task_name);
    fprintf(f, "# qkvplan study: training loss of task %s, mean over seeds. Re-draw: gnuplot %s.gp\n",
            task_name, cc->base);
    report_gp_outputs(f, cc->base);
    /* A log axis only when the losses span more than a factor of 10: over a
     * narrower range it shows one or two labels and hides the differences. */
    double lo = 0, hi = 0;
    for (int vi = 0; vi < r->n_vars; vi++)
        for (int k = 0; k < r->n_curve; k++) {
            const double v = r->cells[cc->task * r->n_vars + vi].curve[k];
            if (isfinite(v) && v > 0) {
                lo = lo == 0 || v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    const bool log_y = lo > 0 && hi / lo > 10;
    fprintf(f,
            "set title \"%s: training loss (mean over %d seed%s)\" noenhanced\n"
            "set xlabel \"training step\"\nset ylabel \"cross-entropy (nats%s)\"\n%s"
            "set grid\nset mytics\n"
            "set key outside right top noenhanced\n",
            task_name, r->settings.seeds, r->settings.seeds == 1 ? "" : "s",
            log_y ? ", log scale" : "", log_y ? "set logscale y\nset format y \"%g\"\n" : "");
    char plot[256];
    snprintf(plot, sizeof plot,
             "plot for [i=2:%d] \"%s.dat\" using 1:i with lines lw 2 title columnheader(i)",
             r->n_vars + 1, cc->base);
    report_gp_draw(f, plot, 1000, 600, 11);
}

void report_study_plot_base(const char *task_name, char *buf, size_t buf_bytes)
{
    char plain[96], safe[96];
    size_t n = 0;
    for (const char *p = task_name; *p && n + 1 < sizeof plain; p++)
        plain[n++] = (*p == '/' || *p == ':' || *p == ' ' || *p == '.') ? '_' : *p;
    plain[n] = '\0';
    report_safe_file_name(plain, safe, sizeof safe);
    snprintf(buf, buf_bytes, "loss_%s", safe);
}

qkv_status report_study_plots_write(const char *dir, const study_result *r, qkv_error *err)
{
    qkv_status tool = QKV_OK;
    qkv_error tool_err;
    for (int ti = 0; ti < r->n_tasks; ti++) {
        char base[96];
        report_study_plot_base(r->tasks[ti].name, base, sizeof base);
        curve_ctx cc = {r, ti, base};
        qkv_status s = report_figure(dir, base, curve_dat, curve_gp, &cc, &tool, &tool_err, err);
        if (s != QKV_OK)
            return s;
    }
    if (tool != QKV_OK && err)
        *err = tool_err;
    return tool;
}
