#include "reports/study/lm_report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "analyzer/paper.h"
#include "reports/fmt.h"
#include "reports/gnuplot.h"
#include "reports/jsonutil.h"
#include "reports/xlsx.h"

const char *const report_lm_plot_bases[REPORT_LM_PLOTS] = {"lm_loss", "lm_loss_ctx"};

static const lm_cell *cell_at(const lm_result *r, int var, int ctx)
{
    for (int i = 0; i < r->n_cells; i++)
        if (r->cells[i].var == var && r->cells[i].ctx == ctx)
            return &r->cells[i];
    return NULL;
}

static void header(FILE *f, const lm_result *r, bool md)
{
    const lm_settings *s = &r->settings;
    const lm_corpus *c = r->corpus;
    const char *li = md ? "- " : "";
    if (md)
        fprintf(f, "# qkvplan study --tasks lm\n\n");
    else
        fprintf(f, "qkvplan study --tasks lm: the paper's language-model comparison, with a known "
                   "floor\n");
    fprintf(f,
            "%sCorpus: sampled at temperature 1 from the teacher %s (vocabulary %d), seed %llu: "
            "%d training + %d validation sequences of BOS + %d tokens; %s.\n",
            li, r->teacher_name ? r->teacher_name : "(teacher)", c->vocab,
            (unsigned long long)c->spec.seed, c->spec.n_train, c->spec.n_val, c->spec.seq_len,
            c->from_cache ? "read from the cache" : "sampled now");
    if (!c->from_cache)
        fprintf(f, "%sSampling: %.1f s, %.0f tokens/s.\n", li, c->seconds, c->tokens_per_s);
    fprintf(f,
            "%sTeacher floor: %.4f nats/token on the validation tokens, perplexity %.3f (no "
            "student can beat it in expectation).\n",
            li, c->teacher_val_nll, exp(c->teacher_val_nll));
    fprintf(f,
            "%sStudents: GPT-2 style (pre-LayerNorm, GELU, learned positions, tied embeddings, "
            "biases), %d layers, d_model %d, %d heads x %d, FFN %d%s; %d steps of %d x %d "
            "tokens; AdamW lr %g, warm-up %d, cosine to %g%%; %d seed%s; same initial weights "
            "where shapes agree and the same batches for every variant.\n",
            li, s->layers, s->d_model, s->heads, s->d_model / s->heads,
            s->d_ff > 0 ? s->d_ff : 4 * s->d_model,
            s->param_match ? " (parameter-matched: wider FFN where projections are dropped)" : "",
            s->steps, s->batch, s->ctx, (double)s->optim.lr, s->optim.warmup,
            100.0 * s->optim.min_lr_frac, s->seeds, s->seeds == 1 ? "" : "s");
    fprintf(f, "%sTrained in %.1f s (%.0f training tokens/s).\n", li, r->seconds, r->tokens_per_s);
}

static void main_table(FILE *f, const lm_result *r, bool md)
{
    const double floor = exp(r->corpus->teacher_val_nll);
    if (md)
        fprintf(f,
                "\n## Validation perplexity, context %d\n\n| variant | ppl mean ± sd | vs QKV | "
                "paper (300M) | rank / paper's | vs floor | KV bytes/token | params | FFN |\n"
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
                r->settings.ctx);
    else
        fprintf(f, "\nValidation perplexity, context %d:\n%-14s %17s %8s %8s %7s %8s %8s %8s %5s\n",
                r->settings.ctx, "variant", "ppl mean ± sd", "vs QKV", "paper", "rank", "vs floor",
                "KV B/tok", "params", "FFN");
    for (int v = 0; v < r->n_vars; v++) {
        const lm_cell *c = &r->cells[v];
        char ms[48], dv[24] = "", pp[24] = "-", rk[24] = "-", fl[24];
        snprintf(ms, sizeof ms, "%.3f ± %.3f", c->ppl_mean, c->ppl_sd);
        if (c->has_delta)
            snprintf(dv, sizeof dv, "%+.1f%%", c->delta_pct);
        if (c->has_paper)
            snprintf(pp, sizeof pp, "%+.1f%%", c->paper_pct);
        if (c->paper_rank > 0)
            snprintf(rk, sizeof rk, "%d/%d%s", c->rank, c->paper_rank,
                     c->rank != c->paper_rank ? (md ? " (differs)" : "*") : "");
        snprintf(fl, sizeof fl, "%+.1f%%", 100.0 * (c->ppl_mean / floor - 1.0));
        if (md)
            fprintf(f, "| %s | %s | %s | %s | %s | %s | %llu | %llu | %d |\n", r->vars[v].label, ms,
                    dv, pp, rk, fl, (unsigned long long)c->kv_bytes_per_token,
                    (unsigned long long)c->params, c->d_ff);
        else
            fprintf(f, "%-14s %17s %8s %8s %7s %8s %8llu %8llu %5d\n", r->vars[v].label, ms, dv, pp,
                    rk, fl, (unsigned long long)c->kv_bytes_per_token,
                    (unsigned long long)c->params, c->d_ff);
    }
    const char *li = md ? "\n- " : "\n";
    int worst = 0, all_q = -1;
    bool above = true;
    for (int v = 0; v < r->n_vars; v++) {
        if (r->cells[v].ppl_mean > r->cells[worst].ppl_mean)
            worst = v;
        if (r->vars[v].share == SHARE_ALL && !r->vars[v].pos2d &&
            r->vars[v].kv_heads == r->settings.heads)
            all_q = v;
        above = above && r->cells[v].ppl_mean > floor;
    }
    fprintf(f, "%sTeacher floor: perplexity %.3f; every variant above it: %s.", li, floor,
            above ? "yes" : "NO");
    if (all_q >= 0)
        fprintf(f, "%sQ=K=V worst: %s.", li,
                worst == all_q ? "yes"
                               : "no, the small scale does not "
                                 "reproduce it");
    fprintf(f,
            "%sOrdering against the paper's 300M figures: %d of %d pairs the paper orders are "
            "ordered the same here%s%s%s",
            li, r->ordering_same, r->ordering_pairs,
            r->ordering_agrees ? "." : "; differing: ", r->ordering_agrees ? "" : r->ordering_note,
            r->ordering_agrees ? ""
                               : " (rank column: ours / the paper's, * where they differ; "
                                 "pairs closer than the seeds' spread are within noise at "
                                 "this scale).");
    fprintf(f,
            "%sKV bytes/token: f16 cache, all layers (the planner's exact figure). GQA-2 of 8 "
            "heads is the paper's GQA-4 (4 query heads per KV head). vs QKV: mean perplexity "
            "against QKV's; vs floor: against the teacher's perplexity.\n",
            li);
}

static void ctx_table(FILE *f, const lm_result *r, bool md)
{
    int qkv = -1, kv = -1;
    for (int i = r->n_vars; i < r->n_cells; i++)
        *(r->vars[r->cells[i].var].share == SHARE_QKV ? &qkv : &kv) = r->cells[i].var;
    if (qkv < 0 || kv < 0)
        return;
    int ctxs[LM_CTX_MAX + 1], n = 0;
    for (int i = 0; i < r->n_cells; i++) {
        bool seen = false;
        for (int k = 0; k < n; k++)
            seen = seen || ctxs[k] == r->cells[i].ctx;
        if (!seen && (r->cells[i].var == qkv) && n < LM_CTX_MAX + 1)
            ctxs[n++] = r->cells[i].ctx;
    }
    for (int a = 0; a < n; a++) /* ascending */
        for (int b = a + 1; b < n; b++)
            if (ctxs[b] < ctxs[a]) {
                int t = ctxs[a];
                ctxs[a] = ctxs[b];
                ctxs[b] = t;
            }
    if (md)
        fprintf(f, "\n## Training context (Q-K=V vs QKV)\n\n| context | QKV ppl | Q-K=V ppl | "
                   "Q-K=V vs QKV |\n|--:|--:|--:|--:|\n");
    else
        fprintf(f,
                "\nTraining context (Q-K=V vs QKV; batch x context fixed):\n%-8s %17s %17s %12s\n",
                "context", "QKV ppl", "Q-K=V ppl", "Q-K=V cost");
    for (int k = 0; k < n; k++) {
        const lm_cell *a = cell_at(r, qkv, ctxs[k]), *b = cell_at(r, kv, ctxs[k]);
        if (!a || !b)
            continue;
        if (md)
            fprintf(f, "| %d | %.3f ± %.3f | %.3f ± %.3f | %+.2f%% |\n", ctxs[k], a->ppl_mean,
                    a->ppl_sd, b->ppl_mean, b->ppl_sd, b->delta_pct);
        else
            fprintf(f, "%-8d %9.3f ± %5.3f %9.3f ± %5.3f %+11.2f%%\n", ctxs[k], a->ppl_mean,
                    a->ppl_sd, b->ppl_mean, b->ppl_sd, b->delta_pct);
    }
    const lm_cell *lo = cell_at(r, kv, ctxs[0]), *hi = cell_at(r, kv, ctxs[n - 1]);
    fprintf(f, "%sThe paper: Q-K=V costs", md ? "\n- " : "");
    for (size_t i = 0; i < paper_kv_ctx_results_count; i++)
        fprintf(f, "%s %+.1f%% at %d", i ? " →" : "", paper_kv_ctx_results[i].ppl_delta_pct,
                paper_kv_ctx_results[i].ctx);
    if (lo && hi && n > 1)
        fprintf(f, "; here %+.2f%% at %d → %+.2f%% at %d: %s.\n", lo->delta_pct, ctxs[0],
                hi->delta_pct, ctxs[n - 1],
                hi->delta_pct < lo->delta_pct
                    ? "the cost shrinks with context, as in the paper"
                    : "the cost does not shrink with context at this scale "
                      "(the paper's trend is not reproduced)");
    else
        fprintf(f, ".\n");
}

static void probe_table(FILE *f, const lm_result *r, bool md)
{
    if (r->n_probes == 0) {
        fprintf(f,
                "\n%sProbes: none (a report merged from shard lines has no trained models "
                "to probe).\n",
                md ? "- " : "");
        return;
    }
    if (md)
        fprintf(f, "\n## Probes of the trained students (seed 0, per layer, mean over heads)\n\n"
                   "| variant | layer | K–V CKA | at init | W_K–W_V cos² | at init | chance |\n"
                   "|---|--:|--:|--:|--:|--:|--:|\n");
    else
        fprintf(f,
                "\nProbes (seed 0, per layer, mean over heads):\n%-14s %5s %8s %8s %8s %8s %7s\n",
                "variant", "layer", "CKA K-V", "init", "cos2 K-V", "init", "chance");
    for (int p = 0; p < r->n_probes; p++) {
        const lm_probe *pr = &r->probes[p];
        for (int l = 0; l < r->settings.layers; l++)
            fprintf(f,
                    md ? "| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f |\n"
                       : "%-14s %5d %8.3f %8.3f %8.3f %8.3f %7.3f\n",
                    r->vars[pr->var].label, l, pr->cka_kv[l], pr->cka_kv_init[l], pr->cos2_kv[l],
                    pr->cos2_kv_init[l], pr->chance);
    }
    fprintf(f,
            "%sK–V CKA: linear CKA of K and V over one validation window (1 when V shares K's "
            "projection); cos²: mean squared cosine of the principal angles between a head's "
            "W_K and W_V rows; at init: the same student before training; chance: k/d for "
            "random subspaces.\n",
            md ? "\n- " : "");
}

static qkv_status write_json(FILE *f, const lm_result *r, qkv_error *err)
{
    const lm_settings *s = &r->settings;
    const lm_corpus *c = r->corpus;
    cJSON *root = cJSON_CreateObject(), *o, *arr, *x, *vals;
    JSON_CHECK(root);
    JSON_CHECK(cJSON_AddStringToObject(root, "study", "lm"));
    JSON_CHECK(o = cJSON_AddObjectToObject(root, "corpus"));
    JSON_CHECK(cJSON_AddStringToObject(o, "teacher", r->teacher_name ? r->teacher_name : ""));
    JSON_CHECK(cJSON_AddNumberToObject(o, "seed", (double)c->spec.seed));
    JSON_CHECK(cJSON_AddNumberToObject(o, "seq_len", c->spec.seq_len));
    JSON_CHECK(cJSON_AddNumberToObject(o, "train_sequences", c->spec.n_train));
    JSON_CHECK(cJSON_AddNumberToObject(o, "val_sequences", c->spec.n_val));
    JSON_CHECK(cJSON_AddNumberToObject(o, "vocab", c->vocab));
    JSON_CHECK(cJSON_AddBoolToObject(o, "from_cache", c->from_cache));
    JSON_CHECK(report_json_double(o, "sampling_tokens_per_s", c->tokens_per_s));
    JSON_CHECK(report_json_double(o, "teacher_val_nll", c->teacher_val_nll));
    JSON_CHECK(report_json_double(o, "teacher_val_ppl", exp(c->teacher_val_nll)));
    JSON_CHECK(report_json_double(o, "teacher_train_nll", c->teacher_train_nll));
    JSON_CHECK(o = cJSON_AddObjectToObject(root, "settings"));
    JSON_CHECK(cJSON_AddNumberToObject(o, "d_model", s->d_model));
    JSON_CHECK(cJSON_AddNumberToObject(o, "layers", s->layers));
    JSON_CHECK(cJSON_AddNumberToObject(o, "heads", s->heads));
    JSON_CHECK(cJSON_AddNumberToObject(o, "ctx", s->ctx));
    JSON_CHECK(cJSON_AddNumberToObject(o, "batch", s->batch));
    JSON_CHECK(cJSON_AddNumberToObject(o, "steps", s->steps));
    JSON_CHECK(cJSON_AddNumberToObject(o, "seeds", s->seeds));
    JSON_CHECK(cJSON_AddBoolToObject(o, "param_match", s->param_match));
    JSON_CHECK(report_json_double(o, "lr", s->optim.lr));
    JSON_CHECK(report_json_double(root, "seconds", r->seconds));
    JSON_CHECK(report_json_double(root, "tokens_per_s", r->tokens_per_s));
    JSON_CHECK(cJSON_AddBoolToObject(root, "ordering_agrees", r->ordering_agrees));
    JSON_CHECK(cJSON_AddStringToObject(root, "ordering_note", r->ordering_note));
    JSON_CHECK(cJSON_AddNumberToObject(root, "ordering_pairs", r->ordering_pairs));
    JSON_CHECK(cJSON_AddNumberToObject(root, "ordering_same", r->ordering_same));
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "curve_steps"));
    for (int k = 0; k < r->n_curve; k++) {
        JSON_CHECK(x = cJSON_CreateNumber(r->curve_steps[k]));
        cJSON_AddItemToArray(arr, x);
    }
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "cells"));
    for (int i = 0; i < r->n_cells; i++) {
        const lm_cell *cl = &r->cells[i];
        JSON_CHECK(x = cJSON_CreateObject());
        cJSON_AddItemToArray(arr, x);
        JSON_CHECK(cJSON_AddStringToObject(x, "variant", r->vars[cl->var].label));
        JSON_CHECK(cJSON_AddNumberToObject(x, "ctx", cl->ctx));
        JSON_CHECK(cJSON_AddNumberToObject(x, "seeds", cl->n));
        JSON_CHECK(report_json_double(x, "val_nll_mean", cl->nll_mean));
        JSON_CHECK(report_json_double(x, "ppl_mean", cl->ppl_mean));
        JSON_CHECK(report_json_double(x, "ppl_sd", cl->ppl_sd));
        if (cl->has_delta)
            JSON_CHECK(report_json_double(x, "delta_vs_qkv_pct", cl->delta_pct));
        if (cl->has_paper && i < r->n_vars)
            JSON_CHECK(report_json_double(x, "paper_value", cl->paper_pct));
        if (cl->paper_rank > 0) {
            JSON_CHECK(cJSON_AddNumberToObject(x, "rank", cl->rank));
            JSON_CHECK(cJSON_AddNumberToObject(x, "paper_rank", cl->paper_rank));
        }
        JSON_CHECK(cJSON_AddNumberToObject(x, "params", (double)cl->params));
        JSON_CHECK(cJSON_AddNumberToObject(x, "d_ff", cl->d_ff));
        JSON_CHECK(
            cJSON_AddNumberToObject(x, "kv_bytes_per_token", (double)cl->kv_bytes_per_token));
        JSON_CHECK(vals = cJSON_AddArrayToObject(x, "loss_curve"));
        for (int k = 0; k < r->n_curve; k++) {
            cJSON *n = report_json_double_item(cl->curve[k]);
            JSON_CHECK(n);
            cJSON_AddItemToArray(vals, n);
        }
    }
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "probes"));
    for (int p = 0; p < r->n_probes; p++) {
        const lm_probe *pr = &r->probes[p];
        for (int l = 0; l < s->layers; l++) {
            JSON_CHECK(x = cJSON_CreateObject());
            cJSON_AddItemToArray(arr, x);
            JSON_CHECK(cJSON_AddStringToObject(x, "variant", r->vars[pr->var].label));
            JSON_CHECK(cJSON_AddNumberToObject(x, "layer", l));
            JSON_CHECK(report_json_double(x, "cka_kv", pr->cka_kv[l]));
            JSON_CHECK(report_json_double(x, "cka_kv_init", pr->cka_kv_init[l]));
            JSON_CHECK(report_json_double(x, "kv_mean_cos2", pr->cos2_kv[l]));
            JSON_CHECK(report_json_double(x, "kv_mean_cos2_init", pr->cos2_kv_init[l]));
            JSON_CHECK(report_json_double(x, "chance", pr->chance));
        }
    }
    return report_json_emit(f, root, err);
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}

static void write_csv(FILE *f, const lm_result *r)
{
    fputs("variant,share,kv_heads,ctx,seed,val_nll,val_ppl,teacher_val_nll,params,d_ff,"
          "kv_bytes_per_token\n",
          f);
    for (int j = 0; j < r->n_runs; j++) {
        const lm_run *run = &r->runs[j];
        if (!run->done)
            continue;
        const lm_cell *cl = cell_at(r, run->var, run->ctx);
        char a[40], b[40], t[40];
        fmt_double(run->val_nll, a, sizeof a);
        fmt_double(exp(run->val_nll), b, sizeof b);
        fmt_double(r->corpus->teacher_val_nll, t, sizeof t);
        fprintf(f, "%s,%s,%d,%d,%d,%s,%s,%s,%llu,%d,%llu\n", r->vars[run->var].label,
                variant_share_name(r->vars[run->var].share), r->vars[run->var].kv_heads, run->ctx,
                run->seed, a, b, t, (unsigned long long)run->params, run->d_ff,
                (unsigned long long)(cl ? cl->kv_bytes_per_token : 0));
    }
}

qkv_status report_lm_write(FILE *f, report_format fmt, const lm_result *r, qkv_error *err)
{
    qkv_status s = QKV_OK;
    switch (fmt) {
    case REPORT_TABLE:
    case REPORT_MD: {
        const bool md = fmt == REPORT_MD;
        header(f, r, md);
        main_table(f, r, md);
        ctx_table(f, r, md);
        probe_table(f, r, md);
        break;
    }
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

void report_lm_settings_text(const lm_result *r, char *buf, size_t n)
{
    const lm_settings *s = &r->settings;
    size_t at =
        (size_t)snprintf(buf, n,
                         "d=%d;layers=%d;heads=%d;d_ff=%d;ctx=%d;batch=%d;steps=%d;seeds=%d;lr=%g;"
                         "warmup=%d;clip=%g;wd=%g;param_match=%d;contexts=",
                         s->d_model, s->layers, s->heads, s->d_ff, s->ctx, s->batch, s->steps,
                         s->seeds, (double)s->optim.lr, s->optim.warmup, (double)s->optim.clip,
                         (double)s->optim.weight_decay, s->param_match ? 1 : 0);
    for (int i = 0; i < s->n_ablation; i++)
        at += (size_t)snprintf(buf + at, at < n ? n - at : 0, "%s%d", i ? "," : "", s->ablation[i]);
    at += (size_t)snprintf(buf + at, at < n ? n - at : 0, ";variants=");
    for (int v = 0; v < r->n_vars; v++)
        at +=
            (size_t)snprintf(buf + at, at < n ? n - at : 0, "%s%s", v ? "," : "", r->vars[v].label);
}

qkv_status report_lm_runs_jsonl(FILE *f, const lm_result *r, qkv_error *err)
{
    char settings[LM_SETTINGS_TEXT_BYTES];
    report_lm_settings_text(r, settings, sizeof settings);
    for (int j = 0; j < r->n_runs; j++) {
        const lm_run *run = &r->runs[j];
        if (!run->done)
            continue;
        cJSON *o = cJSON_CreateObject(), *arr;
        JSON_CHECK(o);
        JSON_CHECK(cJSON_AddStringToObject(o, "study", "lm"));
        JSON_CHECK(cJSON_AddNumberToObject(o, "run", j));
        JSON_CHECK(cJSON_AddNumberToObject(o, "shard", r->settings.shard_i + 1));
        JSON_CHECK(cJSON_AddNumberToObject(o, "shards", r->settings.shard_n));
        JSON_CHECK(cJSON_AddStringToObject(o, "variant", r->vars[run->var].label));
        JSON_CHECK(cJSON_AddNumberToObject(o, "ctx", run->ctx));
        JSON_CHECK(cJSON_AddNumberToObject(o, "seed", run->seed));
        JSON_CHECK(report_json_double(o, "val_nll", run->val_nll));
        JSON_CHECK(report_json_double(o, "val_ppl", exp(run->val_nll)));
        JSON_CHECK(report_json_double(o, "teacher_val_nll", r->corpus->teacher_val_nll));
        JSON_CHECK(report_json_double(o, "train_nll_final", run->train_nll_final));
        JSON_CHECK(cJSON_AddNumberToObject(o, "params", (double)run->params));
        JSON_CHECK(cJSON_AddNumberToObject(o, "d_ff", run->d_ff));
        JSON_CHECK(cJSON_AddNumberToObject(o, "steps", r->settings.steps));
        JSON_CHECK(cJSON_AddStringToObject(o, "settings", settings));
        JSON_CHECK(report_json_double(o, "seconds", run->seconds));
        JSON_CHECK(arr = cJSON_AddArrayToObject(o, "loss_curve"));
        for (int k = 0; k < r->n_curve; k++) {
            cJSON *n = report_json_double_item(run->curve[k]);
            if (!n) {
                cJSON_Delete(o);
                goto nomem_outer;
            }
            cJSON_AddItemToArray(arr, n);
        }
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!text)
            goto nomem_outer;
        fprintf(f, "%s\n", text);
        cJSON_free(text);
        continue;
    nomem:
        cJSON_Delete(o);
        goto nomem_outer;
    }
    return report_flushed(f, QKV_OK, err);
nomem_outer:
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}

/* ---- plots ----------------------------------------------------------- */

typedef struct {
    const lm_result *r;
    bool ctx; /* the ablation figure */
    const char *base;
} plot_ctx;

/* The main figure holds the main-context cells; the ablation figure the
 * ablation cells and the main-context cells of their two variants. */
static bool in_plot(const plot_ctx *pc, int i)
{
    const lm_result *r = pc->r;
    if (!pc->ctx)
        return i < r->n_vars;
    if (r->n_cells <= r->n_vars + 1)
        return false;
    return i >= r->n_vars || i == r->cells[r->n_vars].var || i == r->cells[r->n_vars + 1].var;
}

static void plot_dat(FILE *f, const void *vp)
{
    const plot_ctx *pc = vp;
    const lm_result *r = pc->r;
    fputs("\"step\"", f);
    for (int i = 0; i < r->n_cells; i++)
        if (in_plot(pc, i)) {
            if (pc->ctx)
                fprintf(f, " \"%s ctx %d\"", r->vars[r->cells[i].var].label, r->cells[i].ctx);
            else
                fprintf(f, " \"%s\"", r->vars[r->cells[i].var].label);
        }
    fputs(" \"teacher floor\"\n", f);
    char fl[40];
    fmt_double(r->corpus->teacher_val_nll, fl, sizeof fl);
    for (int k = 0; k < r->n_curve; k++) {
        fprintf(f, "%d", r->curve_steps[k]);
        for (int i = 0; i < r->n_cells; i++)
            if (in_plot(pc, i)) {
                char buf[40];
                fmt_double(r->cells[i].curve[k], buf, sizeof buf);
                fprintf(f, " %s", buf[0] ? buf : "NaN");
            }
        fprintf(f, " %s\n", fl[0] ? fl : "NaN");
    }
}

static void plot_gp(FILE *f, const void *vp)
{
    const plot_ctx *pc = vp;
    int n = 0;
    for (int i = 0; i < pc->r->n_cells; i++)
        n += in_plot(pc, i);
    fprintf(f,
            "# qkvplan study --tasks lm: training loss, mean over seeds. Re-draw: gnuplot %s.gp\n",
            pc->base);
    report_gp_outputs(f, pc->base);
    fprintf(f,
            "set title \"LM study: training loss (mean over %d seed%s)%s\" noenhanced\n"
            "set xlabel \"step\"\nset ylabel \"cross-entropy (nats/token)\"\nset logscale y\n"
            "set grid\nset key outside right top noenhanced\n",
            pc->r->settings.seeds, pc->r->settings.seeds == 1 ? "" : "s",
            pc->ctx ? ", QKV vs Q-K=V by context" : "");
    char plot[320];
    snprintf(plot, sizeof plot,
             "plot for [i=2:%d] \"%s.dat\" using 1:i with lines lw 2 title columnheader(i), "
             "\"%s.dat\" using 1:%d with lines dt 2 lc rgb \"black\" title columnheader(%d)",
             n + 1, pc->base, pc->base, n + 2, n + 2);
    report_gp_draw(f, plot, 1000, 600, 11);
}

qkv_status report_lm_plots_write(const char *dir, const lm_result *r, qkv_error *err)
{
    qkv_status tool = QKV_OK;
    qkv_error tool_err;
    for (int k = 0; k < REPORT_LM_PLOTS; k++) {
        if (k == 1 && r->n_cells == r->n_vars)
            continue;
        plot_ctx pc = {r, k == 1, report_lm_plot_bases[k]};
        qkv_status s = report_figure(dir, pc.base, plot_dat, plot_gp, &pc, &tool, &tool_err, err);
        if (s != QKV_OK)
            return s;
    }
    if (tool != QKV_OK && err)
        *err = tool_err;
    return tool;
}

/* ---- workbook --------------------------------------------------------- */

qkv_status report_xlsx_lm_write(const char *path, const lm_result *r, qkv_error *err)
{
    static const char *const heads[] = {"variant",
                                        "context",
                                        "seeds",
                                        "val ppl mean",
                                        "sd",
                                        "vs QKV",
                                        "paper (300M)",
                                        "rank",
                                        "paper rank",
                                        "teacher ppl",
                                        "KV bytes per token",
                                        "parameters",
                                        "FFN"};
    const int nc = (int)(sizeof heads / sizeof heads[0]);
    outfile of;
    report_xlsx_formats f;
    qkv_status s;
    lxw_worksheet *ws;
    lxw_workbook *wb = report_xlsx_open_table(&of, path, &f, "LM study", heads, nc, &ws, err, &s);
    if (!wb)
        return s;
    worksheet_set_column(ws, 0, 0, 16, NULL);
    worksheet_set_column(ws, 1, (lxw_col_t)(nc - 1), 12, NULL);
    int row = 1;
    for (int i = 0; i < r->n_cells; i++, row++) {
        const lm_cell *c = &r->cells[i];
        report_xlsx_str(ws, row, 0, r->vars[c->var].label, NULL);
        report_xlsx_num(ws, row, 1, c->ctx, NULL);
        report_xlsx_num(ws, row, 2, c->n, NULL);
        report_xlsx_num(ws, row, 3, c->ppl_mean, f.num3);
        report_xlsx_num(ws, row, 4, c->ppl_sd, f.num3);
        if (c->has_delta)
            report_xlsx_num(ws, row, 5, c->delta_pct / 100.0, f.pct);
        if (c->has_paper && i < r->n_vars)
            report_xlsx_num(ws, row, 6, c->paper_pct / 100.0, f.pct);
        if (c->paper_rank > 0) {
            report_xlsx_num(ws, row, 7, c->rank, NULL);
            report_xlsx_num(ws, row, 8, c->paper_rank, NULL);
        }
        report_xlsx_num(ws, row, 9, exp(r->corpus->teacher_val_nll), f.num3);
        report_xlsx_num(ws, row, 10, (double)c->kv_bytes_per_token, f.bytes);
        report_xlsx_num(ws, row, 11, (double)c->params, f.bytes);
        report_xlsx_num(ws, row, 12, c->d_ff, NULL);
    }
    worksheet_freeze_panes(ws, 1, 1);
    lxw_worksheet *cs = workbook_add_worksheet(wb, "Curves");
    lxw_worksheet *ps = workbook_add_worksheet(wb, "Probes");
    if (!cs || !ps)
        return report_xlsx_abandon(wb, &of, path, "the workbook", err);
    report_xlsx_str(cs, 0, 0, "step", f.header);
    for (int i = 0; i < r->n_cells; i++) {
        char h[64];
        snprintf(h, sizeof h, "%s ctx %d", r->vars[r->cells[i].var].label, r->cells[i].ctx);
        report_xlsx_str(cs, 0, i + 1, h, f.header);
    }
    for (int k = 0; k < r->n_curve; k++) {
        report_xlsx_num(cs, k + 1, 0, r->curve_steps[k], NULL);
        for (int i = 0; i < r->n_cells; i++)
            report_xlsx_num(cs, k + 1, i + 1, r->cells[i].curve[k], f.num3);
    }
    if (r->n_curve > 1) { /* a native chart of the main-context curves */
        lxw_chart *ch = workbook_add_chart(wb, LXW_CHART_SCATTER_STRAIGHT);
        if (ch) {
            for (int i = 0; i < r->n_vars; i++) {
                lxw_chart_series *se = chart_add_series(ch, NULL, NULL);
                if (!se)
                    continue;
                chart_series_set_categories(se, "Curves", 1, 0, (lxw_row_t)r->n_curve, 0);
                chart_series_set_values(se, "Curves", 1, (lxw_col_t)(i + 1), (lxw_row_t)r->n_curve,
                                        (lxw_col_t)(i + 1));
                chart_series_set_name_range(se, "Curves", 0, (lxw_col_t)(i + 1));
            }
            chart_title_set_name(ch, "Training loss (nats/token), mean over seeds");
            chart_axis_set_name(ch->x_axis, "step");
            chart_axis_set_name(ch->y_axis, "cross-entropy");
            worksheet_insert_chart(cs, 1, (lxw_col_t)(r->n_cells + 2), ch);
        }
    }
    static const char *const ph[] = {"variant",      "layer",   "K–V CKA", "at init",
                                     "W_K–W_V cos²", "at init", "chance"};
    for (int c = 0; c < 7; c++)
        report_xlsx_str(ps, 0, c, ph[c], f.header);
    row = 1;
    for (int p = 0; p < r->n_probes; p++)
        for (int l = 0; l < r->settings.layers; l++, row++) {
            const lm_probe *pr = &r->probes[p];
            report_xlsx_str(ps, row, 0, r->vars[pr->var].label, NULL);
            report_xlsx_num(ps, row, 1, l, NULL);
            report_xlsx_num(ps, row, 2, pr->cka_kv[l], f.num3);
            report_xlsx_num(ps, row, 3, pr->cka_kv_init[l], f.num3);
            report_xlsx_num(ps, row, 4, pr->cos2_kv[l], f.num3);
            report_xlsx_num(ps, row, 5, pr->cos2_kv_init[l], f.num3);
            report_xlsx_num(ps, row, 6, pr->chance, f.num3);
        }
    return report_xlsx_finish(wb, &of, path, err);
}

static qkv_status bundle_text(FILE *f, report_format fmt, const void *data, const char *plots_rel,
                              const char *plots_note, qkv_error *err)
{
    qkv_status s = report_lm_write(f, fmt, data, err);
    if (s == QKV_OK && fmt == REPORT_MD) {
        const lm_result *r = data;
        if (plots_note)
            fprintf(f, "\nPlots not drawn: %s\n", plots_note);
        else
            for (int k = 0; k < REPORT_LM_PLOTS; k++)
                if (k == 0 || r->n_cells > r->n_vars)
                    fprintf(f, "\n![%s](%s/%s.png)\n", report_lm_plot_bases[k], plots_rel,
                            report_lm_plot_bases[k]);
        return report_flushed(f, s, err);
    }
    return s;
}

static qkv_status bundle_xlsx(const char *path, const void *data, qkv_error *err)
{
    return report_xlsx_lm_write(path, data, err);
}

static qkv_status bundle_plots(const char *dir, const void *data, qkv_error *err)
{
    return report_lm_plots_write(dir, data, err);
}

report_bundle report_lm_bundle(const lm_result *r)
{
    return (report_bundle){"lm-study", r, bundle_text, bundle_xlsx, bundle_plots};
}
