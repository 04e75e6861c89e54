/* sweep_merge.c — a sweep's Table 1 from its runs, wherever they ran. */
#include "probes/train/sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

qkv_status sweep_merged_init(sweep_merged *m, const sweep_grid *g, qkv_error *err)
{
    memset(m, 0, sizeof *m);
    m->grid = *g;
    m->total = sweep_count(g);
    const int nt = g->n_tasks, nl = g->n_lens, nv = g->n_vars;
    for (int v = 0; v < nv; v++) {
        qkv_status st = study_variant_parse(g->vars[v], g->heads[0], &m->vars[v], err);
        if (st != QKV_OK)
            return st;
    }
    for (int t = 0; t < nt; t++) {
        task_parse(task_kind_name(g->tasks[t]), 16, &m->tasks_all[t], err);
        m->tasks_all[t].len = 0;
        for (int l = 0; l < nl; l++)
            task_parse(task_kind_name(g->tasks[t]), g->lens[l], &m->tasks_len[t * nl + l], err);
    }
    m->acc = malloc((size_t)m->total * sizeof(double));
    m->eval_loss = calloc((size_t)m->total, sizeof(double));
    m->runs_all = calloc((size_t)nt * nv, sizeof(int));
    m->runs_len = calloc((size_t)nt * nl * nv, sizeof(int));
    m->all.cells = calloc((size_t)nt * nv, sizeof(study_cell));
    m->by_len.cells = calloc((size_t)nt * nl * nv, sizeof(study_cell));
    if (!m->acc || !m->eval_loss || !m->runs_all || !m->runs_len || !m->all.cells ||
        !m->by_len.cells) {
        sweep_merged_free(m);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    for (long j = 0; j < m->total; j++)
        m->acc[j] = NAN;
    study_result *views[2] = {&m->all, &m->by_len};
    for (int k = 0; k < 2; k++) {
        views[k]->settings = study_settings_default();
        views[k]->settings.heads = g->heads[0];
        views[k]->settings.seeds = g->seeds;
        views[k]->n_vars = nv;
        views[k]->vars = m->vars;
    }
    m->all.n_tasks = nt;
    m->all.tasks = m->tasks_all;
    m->by_len.n_tasks = nt * nl;
    m->by_len.tasks = m->tasks_len;
    return QKV_OK;
}

bool sweep_merged_add(sweep_merged *m, long j, double accuracy, double eval_loss)
{
    if (j < 0 || j >= m->total || !isnan(m->acc[j])) {
        m->duplicates++;
        return false;
    }
    m->acc[j] = accuracy;
    m->eval_loss[j] = eval_loss;
    m->present++;
    return true;
}

/* Per cell and seed: sums of accuracy and eval loss, and runs. */
typedef struct {
    double acc, loss;
    int n;
} seed_sum;

/* A view's cells from its per-seed sums: the mean over every run present,
 * the sample sd of the seeds' means (the spread a rerun with other seeds
 * would show; a spread over grid points would mix shapes), differences
 * from QKV and the paper's comparison. */
static void close_cells(study_result *r, int seeds, const seed_sum *sums, int *runs)
{
    const int n = r->n_tasks * r->n_vars;
    for (int c = 0; c < n; c++) {
        study_cell *cell = &r->cells[c];
        double acc = 0.0, loss = 0.0, m1 = 0.0, m2 = 0.0;
        int k = 0, ks = 0;
        for (int sd = 0; sd < seeds; sd++) {
            const seed_sum *q = &sums[(size_t)c * seeds + sd];
            if (q->n == 0)
                continue;
            acc += q->acc, loss += q->loss, k += q->n, ks++;
            m1 += q->acc / q->n, m2 += (q->acc / q->n) * (q->acc / q->n);
        }
        runs[c] = k;
        cell->metric_mean = k ? acc / k : NAN;
        cell->metric_sd = ks > 1 ? sqrt(fmax(0.0, (m2 - m1 * m1 / ks) / (ks - 1))) : 0.0;
        cell->eval_loss = k ? loss / k : NAN;
        cell->chance_pct = 100.0 / task_vocab(&r->tasks[c / r->n_vars]);
    }
    /* differences from QKV on all heads without the 2D term */
    for (int t = 0; t < r->n_tasks; t++) {
        int base = -1;
        for (int v = 0; v < r->n_vars; v++)
            if (r->vars[v].share == SHARE_QKV && !r->vars[v].pos2d &&
                r->vars[v].kv_heads == r->settings.heads)
                base = v;
        for (int v = 0; base >= 0 && v < r->n_vars; v++) {
            study_cell *cell = &r->cells[t * r->n_vars + v];
            cell->has_delta = runs[t * r->n_vars + v] > 0 && runs[t * r->n_vars + base] > 0;
            cell->delta_vs_qkv = cell->metric_mean - r->cells[t * r->n_vars + base].metric_mean;
        }
    }
    study_compare(r);
}

qkv_status sweep_merged_finish(sweep_merged *m, qkv_error *err)
{
    const sweep_grid *g = &m->grid;
    const int nt = g->n_tasks, nl = g->n_lens, nv = g->n_vars, ns = g->seeds;
    const size_t na = (size_t)nt * nv, nb = (size_t)nt * nl * nv;
    seed_sum *sa = calloc((na + nb) * (size_t)ns, sizeof *sa);
    if (!sa)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory merging %ld runs", m->total);
    seed_sum *sb = sa + na * (size_t)ns;
    for (long j = 0; j < m->total; j++) {
        if (isnan(m->acc[j]))
            continue;
        sweep_run r;
        sweep_run_at(g, j, &r);
        int li = 0;
        while (li < nl && g->lens[li] != r.len)
            li++;
        const size_t ca = (size_t)r.task * nv + r.var, cb = ((size_t)r.task * nl + li) * nv + r.var;
        seed_sum *qa = &sa[ca * ns + r.seed], *qb = &sb[cb * ns + r.seed];
        qa->acc += m->acc[j], qa->loss += m->eval_loss[j], qa->n++;
        qb->acc += m->acc[j], qb->loss += m->eval_loss[j], qb->n++;
    }
    close_cells(&m->all, ns, sa, m->runs_all);
    close_cells(&m->by_len, ns, sb, m->runs_len);
    free(sa);
    return QKV_OK;
}

void sweep_merged_free(sweep_merged *m)
{
    free(m->acc);
    free(m->eval_loss);
    free(m->runs_all);
    free(m->runs_len);
    free(m->all.cells);
    free(m->by_len.cells);
    for (int t = 0; t < SWEEP_AXIS_MAX; t++)
        task_free(&m->tasks_all[t]);
    for (int t = 0; t < SWEEP_AXIS_MAX * SWEEP_AXIS_MAX; t++)
        task_free(&m->tasks_len[t]);
    memset(m, 0, sizeof *m);
}
