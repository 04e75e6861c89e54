/* study_table1.c — a study's tasks with their lengths, and its comparison
 * with the paper's Table 1: per cell the paper's accuracy and difference
 * from QKV beside the measured ones, and the paper's qualitative findings
 * checked on the measurements. */
#include "probes/train/study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/paper.h"

qkv_status study_task_parse(const char *spec, int default_len, task *t, qkv_error *err)
{
    const char *at = strncmp(spec, "text:", 5) == 0 ? NULL : strrchr(spec, '@');
    if (!at)
        return task_parse(spec, default_len, t, err);
    char name[64], *end;
    if ((size_t)(at - spec) >= sizeof name)
        return qkv_error_set(err, QKV_ERR_INVALID, "task '%s': name too long", spec);
    memcpy(name, spec, (size_t)(at - spec));
    name[at - spec] = '\0';
    const long len = strtol(at + 1, &end, 10);
    if (end == at + 1 || *end || len < 2 || len > 4096)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "task '%s': the length after @ must be 2 to 4096", spec);
    return task_parse(name, (int)len, t, err);
}

static int sign_of(double d)
{
    return fabs(d) < STUDY_SIGN_TOLERANCE_PCT ? 0 : d > 0 ? 1 : -1;
}

/* The variant index of a sharing over all heads, with or without the 2D term; -1 if absent. */
static int find_var(const study_result *r, variant_share share, bool pos2d)
{
    for (int vi = 0; vi < r->n_vars; vi++)
        if (r->vars[vi].share == share && r->vars[vi].pos2d == pos2d &&
            r->vars[vi].kv_heads == r->settings.heads)
            return vi;
    return -1;
}

static const study_cell *cell_of(const study_result *r, int ti, int vi)
{
    return vi < 0 ? NULL : &r->cells[ti * r->n_vars + vi];
}

static void add_check(study_result *r, bool pass, const char *detail, const char *fmt,
                      const char *task_name, int len)
{
    if (r->n_checks >= STUDY_CHECKS_MAX)
        return;
    study_check *c = &r->checks[r->n_checks++];
    char at[32] = "all lengths"; /* length 0: a sweep's mean over every length */
    if (len > 0)
        snprintf(at, sizeof at, "length %d", len);
    snprintf(c->what, sizeof c->what, fmt, task_name, at);
    snprintf(c->detail, sizeof c->detail, "%s", detail);
    c->pass = pass;
}

void study_compare(study_result *r)
{
    const int qkv = find_var(r, SHARE_QKV, false), all = find_var(r, SHARE_ALL, false),
              all_plus = find_var(r, SHARE_ALL, true);
    double paper_qkv = 0.0;
    r->n_checks = 0;
    for (int ti = 0; ti < r->n_tasks; ti++) {
        const task *t = &r->tasks[ti];
        const bool has_qkv_paper = paper_table1_accuracy(SHARE_QKV, false, t->name, &paper_qkv);
        for (int vi = 0; vi < r->n_vars; vi++) {
            study_cell *c = &r->cells[ti * r->n_vars + vi];
            const study_variant *v = &r->vars[vi];
            double acc;
            c->has_paper = v->kv_heads == r->settings.heads &&
                           paper_table1_accuracy(v->share, v->pos2d, t->name, &acc);
            if (!c->has_paper)
                continue;
            c->paper_value = 100.0 * acc;
            c->has_paper_delta = has_qkv_paper && c->has_delta && vi != qkv;
            if (c->has_paper_delta) {
                c->paper_delta = c->paper_value - 100.0 * paper_qkv;
                c->sign_paper = sign_of(c->paper_delta);
                c->sign_measured = sign_of(c->delta_vs_qkv);
            }
        }
        /* the paper's qualitative findings, where the variants ran */
        const study_cell *cq = cell_of(r, ti, qkv), *ca = cell_of(r, ti, all),
                         *cp = cell_of(r, ti, all_plus);
        char d[96];
        const bool directional = t->kind == TASK_REVERSE || t->kind == TASK_SWAP;
        /* a cell without runs (an unfinished sweep) is not checked */
        if (cq && isnan(cq->metric_mean))
            cq = NULL;
        if (ca && isnan(ca->metric_mean))
            ca = NULL;
        if (cp && isnan(cp->metric_mean))
            cp = NULL;
        if (directional && cq && ca) {
            /* clearly: by more than the tolerance and both spreads */
            const double gap = cq->metric_mean - ca->metric_mean;
            snprintf(d, sizeof d, "%.1f vs %.1f", ca->metric_mean, cq->metric_mean);
            add_check(r, gap > STUDY_SIGN_TOLERANCE_PCT && gap > cq->metric_sd + ca->metric_sd, d,
                      "Q=K=V below QKV on %s (%s)", t->name, t->len);
        }
        if (directional && ca && cp) {
            snprintf(d, sizeof d, "%.1f vs %.1f", cp->metric_mean, ca->metric_mean);
            add_check(r, cp->metric_mean - ca->metric_mean > STUDY_SIGN_TOLERANCE_PCT, d,
                      "(Q=K=V)+ above Q=K=V on %s (%s)", t->name, t->len);
        }
        bool missing = false; /* a variant without runs: the task's ranking is not checked */
        for (int vi = 0; vi < r->n_vars; vi++)
            missing |= isnan(r->cells[ti * r->n_vars + vi].metric_mean);
        if (!missing && (t->kind == TASK_SUB || t->kind == TASK_COPY)) {
            double lo = 100.0;
            for (int vi = 0; vi < r->n_vars; vi++)
                lo = fmin(lo, r->cells[ti * r->n_vars + vi].metric_mean);
            snprintf(d, sizeof d, "lowest mean %.1f", lo);
            add_check(r, lo >= 99.0, d, "every variant >= 99%% on %s (%s)", t->name, t->len);
        }
        if (!missing && t->kind == TASK_SORT && ca && r->n_vars > 1) {
            int low = 0;
            for (int vi = 1; vi < r->n_vars; vi++)
                if (r->cells[ti * r->n_vars + vi].metric_mean <
                    r->cells[ti * r->n_vars + low].metric_mean)
                    low = vi;
            snprintf(d, sizeof d, "lowest: %s %.1f", r->vars[low].label,
                     r->cells[ti * r->n_vars + low].metric_mean);
            add_check(r, low == all, d, "Q=K=V lowest on %s (%s)", t->name, t->len);
        }
    }
}
