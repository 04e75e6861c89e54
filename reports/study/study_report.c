#include "reports/study/study_report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "analyzer/paper.h"
#include "probes/runtime/rt_pos2d.h"
#include "reports/fmt.h"
#include "reports/jsonutil.h"
#include "reports/gnuplot.h"
#include "reports/safename.h"

static const char *metric_name(const task *t)
{
    return t->kind == TASK_TEXT ? "eval loss (nats/byte)" : "eval accuracy (%)";
}

static const char *const paper_note =
    "Paper: Table 1 of " PAPER_ARXIV ", token accuracy averaged over its whole sweep (embedding "
    "{32, 64, 256} x layers {2, 4} x heads {2, 4} x length {16, 64, 128} x 3 seeds, 3,240 runs), "
    "in percent; the same figure stands beside every length measured here. Signs: the paper's and "
    "the measured difference from QKV, each counted as 0 within 1 point; 'NOT REPRODUCED' marks "
    "a cell whose signs differ.";

static const char *sign_word(const study_cell *c)
{
    if (!c->has_paper_delta)
        return "";
    return c->sign_paper == c->sign_measured ? "agree" : "NOT REPRODUCED";
}

static void settings_line(FILE *f, const study_result *r, bool md)
{
    const study_settings *s = &r->settings;
    const char *li = md ? "- " : "";
    fprintf(
        f,
        "%sSweep subset: GPT-2-style bidirectional encoders, %d layer%s, d_model %d, %d heads x "
        "%d, FFN %d, learned positions; %d task/length cells x %d variants x %d seed%s.\n",
        li, s->layers, s->layers == 1 ? "" : "s", s->d_model, s->heads, s->d_model / s->heads,
        s->d_ff > 0 ? s->d_ff : 4 * s->d_model, r->n_tasks, r->n_vars, s->seeds,
        s->seeds == 1 ? "" : "s");
    fprintf(f,
            "%sData: fresh batches of %d sequences from a seeded stream, %d steps (%d sequences "
            "per run; the authors: fixed 10k train / 2k test sequences, 2 epochs); evaluation on "
            "%d fixed batches.\n",
            li, s->batch, s->steps, s->batch * s->steps, s->eval_batches);
    fprintf(f,
            "%sOptimiser: Adam lr %g, %d warm-up steps, cosine to 10%%, gradient norm clipped at "
            "%g, weight decay %g.\n",
            li, (double)s->optim.lr, s->optim.warmup, (double)s->optim.clip,
            (double)s->optim.weight_decay);
    fprintf(f, "%s+ term: %s.\n", li, rt_pos2d_form_name(s->pos2d_form));
    if (s->pos2d_form == RT_POS2D_RAMP)
        fprintf(f, "%sRamp scale %g.\n", li, (double)s->pos2d_scale);
    fprintf(f, "%sTrained in %.1f s (%.0f tokens/s).\n", li, r->seconds, r->tokens_per_s);
}

static void gains_text(const study_result *r, const study_cell *c, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int l = 0; c->pos2d_gain && l < r->settings.layers; l++) {
        const size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%.2f", l ? "/" : "", c->pos2d_gain[l]);
    }
}

static void write_table(FILE *f, const study_result *r, bool md)
{
    if (md)
        fprintf(f, "# qkvplan study\n\n");
    settings_line(f, r, md);
    for (int ti = 0; ti < r->n_tasks; ti++) {
        const task *t = &r->tasks[ti];
        const double chance = r->n_vars ? r->cells[ti * r->n_vars].chance_pct : 0.0;
        if (md)
            fprintf(f,
                    "\n## %s (length %d)\n\n%s; chance %.1f%%.\n\n"
                    "| variant | measured | vs QKV | paper | paper vs QKV | signs | eval loss | "
                    "steps to 99%% | Σw per layer | KV bytes/token | params | K–V cos² | sym S | "
                    "erank K / min(T,HD) | K–V CKA | CKA, random W_V | W_K·W_V cos |\n"
                    "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
                    t->name, t->len, metric_name(t), chance);
        else
            fprintf(f,
                    "\n%s (length %d), %s; chance %.1f%%:\n%-10s %12s %6s %6s %6s %-14s %6s %6s "
                    "%-9s %6s %7s %6s %5s %6s\n",
                    t->name, t->len, metric_name(t), chance, "variant", "mean ± sd", "vsQKV",
                    "paper", "p.vsQ", "signs", "evloss", "st99", "sum w", "KVB/tk", "params",
                    "K-Vc2", "symS", "erankK");
        for (int vi = 0; vi < r->n_vars; vi++) {
            const study_cell *c = &r->cells[ti * r->n_vars + vi];
            char ms[48], dv[24] = "", pv[24] = "", pd[24] = "", st99[24] = "", gw[64];
            snprintf(ms, sizeof ms, t->kind == TASK_TEXT ? "%.3f ± %.3f" : "%.1f ± %.1f",
                     c->metric_mean, c->metric_sd);
            if (c->has_delta)
                snprintf(dv, sizeof dv, t->kind == TASK_TEXT ? "%+.3f" : "%+.1f", c->delta_vs_qkv);
            if (c->has_paper)
                snprintf(pv, sizeof pv, "%.1f", c->paper_value);
            if (c->has_paper_delta)
                snprintf(pd, sizeof pd, "%+.1f", c->paper_delta);
            if (t->kind != TASK_TEXT) {
                if (c->reached_99 == r->settings.seeds)
                    snprintf(st99, sizeof st99, "%.0f", c->steps_to_99);
                else if (c->reached_99)
                    snprintf(st99, sizeof st99, "%.0f(%d)", c->steps_to_99, c->reached_99);
                else
                    snprintf(st99, sizeof st99, "never");
            }
            gains_text(r, c, gw, sizeof gw);
            if (md)
                fprintf(f,
                        "| %s | %s | %s | %s | %s | %s | %.3f | %s | %s | %llu | %llu | %.3f | "
                        "%.3f | %.3f | %.3f | %.3f | %.3f |\n",
                        r->vars[vi].label, ms, dv, pv, pd, sign_word(c), c->eval_loss, st99, gw,
                        (unsigned long long)c->kv_bytes_per_token, (unsigned long long)c->params,
                        c->kv_cos2, c->sym_scores, c->erank_k_frac, c->cka_kv, c->cka_kv_rand,
                        c->kv_flat_cos);
            else
                fprintf(f,
                        "%-10s %12s %6s %6s %6s %-14s %6.3f %6s %-9s %6llu %7llu %6.3f %5.3f "
                        "%6.3f\n",
                        r->vars[vi].label, ms, dv, pv, pd, sign_word(c), c->eval_loss, st99, gw,
                        (unsigned long long)c->kv_bytes_per_token, (unsigned long long)c->params,
                        c->kv_cos2, c->sym_scores, c->erank_k_frac);
        }
    }
    if (r->n_checks) {
        int passed = 0;
        for (int k = 0; k < r->n_checks; k++)
            passed += r->checks[k].pass;
        fprintf(f, "\n%sThe paper's qualitative findings (%d of %d hold here):%s\n",
                md ? "## " : "", passed, r->n_checks, md ? "\n" : "");
        for (int k = 0; k < r->n_checks; k++)
            fprintf(f, "%s%s %s (%s)\n", md ? "- " : "  ", r->checks[k].pass ? "PASS" : "FAIL",
                    r->checks[k].what, r->checks[k].detail);
    }
    fprintf(f,
            "\n%smean ± sd over seeds; vs QKV: difference of means from plain QKV; steps to "
            "99%%: mean first step whose training batch was at least 99%% right (in brackets "
            "how many seeds got there when not all did); sum w: the learned gain of the + "
            "term's 1x1 conv per layer, mean over seeds. KV bytes/token: f16 cache, all layers "
            "(the planner's exact figure). K-V c2: mean cos^2 of the principal angles between "
            "the trained W_K and W_V, chance %.3f; sym S: symmetric share of the scores; erank "
            "K: effective rank of K over min(T, HD), the most it can be; K–V CKA: linear CKA "
            "of K and V, beside the same with a random Gaussian W_V (what any two projections "
            "of the same input share); W_K·W_V cos: cosine of the flattened W_K and W_V with the "
            "attention norm's gain folded in. Probes of seed 0's model, means over heads and "
            "%d evaluation sequences. The paper's cos(K,V) = 0.73 and erank 687/702 use "
            "definitions it does not publish; these are not the same figures.\n%s%s\n",
            md ? "- " : "", r->n_tasks && r->n_vars ? r->cells[0].chance : 0.0, STUDY_PROBE_SEQS,
            md ? "- " : "", paper_note);
}

static qkv_status write_json(FILE *f, const study_result *r, qkv_error *err)
{
    const study_settings *s = &r->settings;
    cJSON *root = report_json_document(), *o, *arr, *tasks, *cell, *vals;
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
    JSON_CHECK(cJSON_AddStringToObject(o, "pos2d_form", rt_pos2d_form_name(s->pos2d_form)));
    JSON_CHECK(report_json_double(o, "clip", s->optim.clip));
    JSON_CHECK(cJSON_AddNumberToObject(o, "warmup", s->optim.warmup));
    JSON_CHECK(cJSON_AddNumberToObject(o, "eval_batches", s->eval_batches));
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "checks"));
    for (int k = 0; k < r->n_checks; k++) {
        JSON_CHECK(cell = cJSON_CreateObject());
        cJSON_AddItemToArray(arr, cell);
        JSON_CHECK(cJSON_AddStringToObject(cell, "finding", r->checks[k].what));
        JSON_CHECK(cJSON_AddStringToObject(cell, "measured", r->checks[k].detail));
        JSON_CHECK(cJSON_AddBoolToObject(cell, "pass", r->checks[k].pass));
    }
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
        JSON_CHECK(cJSON_AddStringToObject(
            t, "metric", r->tasks[ti].kind == TASK_TEXT ? "eval_loss" : "eval_accuracy_pct"));
        JSON_CHECK(arr = cJSON_AddArrayToObject(t, "variants"));
        for (int vi = 0; vi < r->n_vars; vi++) {
            const study_cell *c = &r->cells[ti * r->n_vars + vi];
            JSON_CHECK(cell = cJSON_CreateObject());
            cJSON_AddItemToArray(arr, cell);
            JSON_CHECK(cJSON_AddStringToObject(cell, "label", r->vars[vi].label));
            JSON_CHECK(
                cJSON_AddStringToObject(cell, "share", variant_share_name(r->vars[vi].share)));
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
            if (c->has_paper)
                JSON_CHECK(report_json_double(cell, "paper_value", c->paper_value));
            if (c->has_paper_delta) {
                JSON_CHECK(report_json_double(cell, "paper_delta_vs_qkv", c->paper_delta));
                JSON_CHECK(
                    cJSON_AddBoolToObject(cell, "signs_agree", c->sign_paper == c->sign_measured));
            }
            JSON_CHECK(report_json_double(cell, "eval_loss", c->eval_loss));
            JSON_CHECK(report_json_double(cell, "chance_pct", c->chance_pct));
            JSON_CHECK(cJSON_AddNumberToObject(cell, "seeds_reaching_99", c->reached_99));
            if (c->reached_99)
                JSON_CHECK(report_json_double(cell, "steps_to_99_mean", c->steps_to_99));
            if (c->pos2d_gain) {
                JSON_CHECK(vals = cJSON_AddArrayToObject(cell, "pos2d_gain_per_layer"));
                for (int l = 0; l < r->settings.layers; l++) {
                    cJSON *n = report_json_double_item(c->pos2d_gain[l]);
                    JSON_CHECK(n);
                    cJSON_AddItemToArray(vals, n);
                }
            }
            JSON_CHECK(report_json_double(cell, "train_loss_final", c->train_loss_final));
            JSON_CHECK(cJSON_AddNumberToObject(cell, "params", (double)c->params));
            JSON_CHECK(
                cJSON_AddNumberToObject(cell, "kv_bytes_per_token", (double)c->kv_bytes_per_token));
            JSON_CHECK(report_json_double(cell, "kv_mean_cos2", c->kv_cos2));
            JSON_CHECK(report_json_double(cell, "qk_mean_cos2", c->qk_cos2));
            JSON_CHECK(report_json_double(cell, "chance", c->chance));
            JSON_CHECK(report_json_double(cell, "sym_share_w", c->sym_w));
            JSON_CHECK(report_json_double(cell, "sym_share_scores", c->sym_scores));
            JSON_CHECK(report_json_double(cell, "erank_k_frac", c->erank_k_frac));
            JSON_CHECK(report_json_double(cell, "cka_kv", c->cka_kv));
            JSON_CHECK(report_json_double(cell, "cka_kv_random_wv", c->cka_kv_rand));
            JSON_CHECK(report_json_double(cell, "wk_wv_flat_cos_gain_folded", c->kv_flat_cos));
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
                fprintf(f, "%s,%d,%s,%s,%d,%d,%d,%s,%llu,%llu\n", r->tasks[ti].name,
                        r->tasks[ti].len, r->vars[vi].label, variant_share_name(r->vars[vi].share),
                        r->vars[vi].kv_heads, r->vars[vi].pos2d ? 1 : 0, sd, buf,
                        (unsigned long long)c->params, (unsigned long long)c->kv_bytes_per_token);
            }
        }
}

qkv_status report_study_write(FILE *f, report_format fmt, const study_result *r, qkv_error *err)
{
    qkv_status s = QKV_OK;
    switch (fmt) {
    case REPORT_TABLE:
        write_table(f, r, false);
        break;
    case REPORT_MD:
        write_table(f, r, true);
        break;
    case REPORT_JSON:
        s = write_json(f, r, err);
        break;
    case REPORT_CSV:
        write_csv(f, r);
        break;
    default:
        return qkv_error_set(err, QKV_ERR_INVALID, "unknown report format");
    }
    return report_flushed(f, s, err);
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
    fprintf(f,
            "# qkvplan study: training loss of task %s, mean over seeds. Re-draw: gnuplot %s.gp\n",
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

void report_study_plot_base(const char *task_name, int len, char *buf, size_t buf_bytes)
{
    char plain[96], safe[96];
    size_t n = 0;
    for (const char *p = task_name; *p && n + 1 < sizeof plain; p++)
        plain[n++] = (*p == '/' || *p == ':' || *p == ' ' || *p == '.') ? '_' : *p;
    plain[n] = '\0';
    report_safe_file_name(plain, safe, sizeof safe);
    snprintf(buf, buf_bytes, "loss_%s_%d", safe, len);
}

qkv_status report_study_plots_write(const char *dir, const study_result *r, qkv_error *err)
{
    qkv_status tool = QKV_OK;
    qkv_error tool_err;
    for (int ti = 0; ti < r->n_tasks; ti++) {
        char base[96];
        report_study_plot_base(r->tasks[ti].name, r->tasks[ti].len, base, sizeof base);
        curve_ctx cc = {r, ti, base};
        qkv_status s = report_figure(dir, base, curve_dat, curve_gp, &cc, &tool, &tool_err, err);
        if (s != QKV_OK)
            return s;
    }
    if (tool != QKV_OK && err)
        *err = tool_err;
    return tool;
}
