#include "probes/train/study.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/core/clock.h"
#include "probes/runtime/rt_kernels.h"
#include "analyzer/kvplan.h"
#include "probes/runtime/rt_pos2d.h"

study_settings study_settings_default(void)
{
    study_settings s = {
        .d_model = STUDY_DEFAULT_D_MODEL,
        .layers = STUDY_DEFAULT_LAYERS,
        .heads = STUDY_DEFAULT_HEADS,
        .d_ff = 0,
        .seq_len = STUDY_DEFAULT_SEQ_LEN,
        .batch = STUDY_DEFAULT_BATCH,
        .steps = STUDY_DEFAULT_STEPS,
        .seeds = STUDY_DEFAULT_SEEDS,
        .eval_batches = STUDY_DEFAULT_EVAL_BATCHES,
        .threads = STUDY_DEFAULT_THREADS,
        .pos2d_form = RT_POS2D_CONV,
        .pos2d_scale = (float)STUDY_DEFAULT_POS2D_SCALE,
    };
    s.optim = rt_optim_default();
    s.optim.lr = (float)STUDY_DEFAULT_LR;
    s.optim.warmup = STUDY_DEFAULT_WARMUP;
    s.optim.weight_decay = 0.0f; /* Adam, as the authors' reproduction */
    s.optim.clip = (float)STUDY_DEFAULT_CLIP;
    return s;
}

qkv_status study_variant_parse(const char *spec, int n_heads, study_variant *v, qkv_error *err)
{
    memset(v, 0, sizeof *v);
    char share[32] = "", heads[32] = "";
    const char *rest;
    if (spec[0] == '(') { /* "(Q=K=V)+" or "(Q=K=V)+MQA" */
        const char *close = strchr(spec, ')');
        if (!close || close[1] != '+' || (size_t)(close - spec - 1) >= sizeof share)
            return qkv_error_set(err, QKV_ERR_INVALID, "variant '%s': write (SHARING)+", spec);
        memcpy(share, spec + 1, (size_t)(close - spec - 1));
        v->pos2d = true;
        rest = close + 2;
    } else { /* "Q-K=V", "Q-K=V+GQA-2", "Q=K=V+" */
        const char *plus = strchr(spec, '+');
        size_t len = plus ? (size_t)(plus - spec) : strlen(spec);
        if (len >= sizeof share)
            return qkv_error_set(err, QKV_ERR_INVALID, "variant '%s': unknown sharing", spec);
        memcpy(share, spec, len);
        rest = plus ? plus + 1 : "";
        if (plus && *rest == '\0')
            v->pos2d = true;
    }
    if (strlen(rest) >= sizeof heads)
        return qkv_error_set(err, QKV_ERR_INVALID, "variant '%s': unknown head sharing", spec);
    snprintf(heads, sizeof heads, "%s", rest);
    if (variant_share_parse(share, &v->share) != QKV_OK)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "variant '%s': unknown sharing '%s' (QKV, Q-K=V, Q=K-V, Q=K=V)", spec,
                             share);
    v->kv_heads = n_heads;
    if (heads[0]) {
        uint64_t kv;
        qkv_error e2;
        if (variant_parse_kv_heads(heads, (uint64_t)n_heads, &kv, &e2) != QKV_OK)
            return qkv_error_set(err, QKV_ERR_INVALID, "variant '%s': %s", spec, e2.msg);
        v->kv_heads = (int)kv;
    }
    if ((v->share == SHARE_QK || v->share == SHARE_ALL) && v->kv_heads != n_heads)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "variant '%s': sharing Q and K needs one key head per query head",
                             spec);
    char hl[24] = "";
    if (v->kv_heads != n_heads) {
        hl[0] = '+';
        variant_heads_label((uint64_t)v->kv_heads, (uint64_t)n_heads, hl + 1, sizeof hl - 1);
    }
    snprintf(v->label, sizeof v->label, v->pos2d ? "(%s)+%s" : "%s%s", variant_share_name(v->share),
             hl);
    return QKV_OK;
}

rt_config study_config(const study_settings *s, const task *t, const study_variant *v)
{
    rt_config c = rt_config_default(RT_GPT2);
    c.n_layers = s->layers;
    c.d_model = s->d_model;
    c.n_heads = s->heads;
    c.head_dim = s->heads > 0 ? s->d_model / s->heads : 1;
    c.n_kv_heads = v->kv_heads;
    c.d_ff = s->d_ff > 0 ? s->d_ff : 4 * s->d_model;
    c.vocab = task_vocab(t);
    c.max_seq = t->len;
    c.share = v->share;
    c.causal = task_causal(t);
    c.pos2d = v->pos2d ? s->pos2d_form : RT_POS2D_NONE;
    c.pos2d_scale = s->pos2d_scale;
    c.tied = true;
    return c;
}

typedef struct {
    study_result *r;
    const study_settings *s;
    int n_jobs, next, done_steps_total;
    long total_steps;
    long steps_done;
    double t0;
    double **seed_curves; /* (jobs) per-seed curves */
    double *final_loss;   /* (jobs) */
    double *eval_loss;    /* (jobs) */
    int *steps_99;        /* (jobs) first step with a >= 99% training batch, 0: never */
    double *gains;        /* (jobs, layers) learned Σw of the + term */
    qkv_status status;
    qkv_error err;
    pthread_mutex_t lock;
    study_progress_fn progress;
    void *user;
} runner;

/* Job index = ((task × vars) + var) × seeds + seed. */
/* Progress after step `step` of job `job` (every 25 steps and the last),
 * under the runner's lock: jobs finish out of order on worker threads. */
static void report_progress(runner *R, int job, int step, double loss)
{
    const study_settings *s = R->s;
    const study_result *r = R->r;
    const int seed = job % s->seeds, cell = job / s->seeds;
    const task *t = &r->tasks[cell / r->n_vars];
    const study_variant *v = &r->vars[cell % r->n_vars];
    const size_t n = (size_t)s->batch * t->len;
    pthread_mutex_lock(&R->lock);
    R->steps_done += (step + 1) % 25 == 0 ? 25 : (step + 1) % 25;
    if (R->progress) {
        double el = qkv_now_s() - R->t0;
        study_progress p = {job + 1,
                            R->n_jobs,
                            t->name,
                            v->label,
                            seed,
                            step + 1,
                            s->steps,
                            loss,
                            el,
                            el * (double)(R->total_steps - R->steps_done) /
                                (double)(R->steps_done ? R->steps_done : 1),
                            (double)R->steps_done * (double)n / (el > 0 ? el : 1e-9)};
        R->progress(R->user, &p);
    }
    pthread_mutex_unlock(&R->lock);
}

/* The metric of a trained model on the fixed evaluation batches drawn from
 * ev: token accuracy in percent, or (text) mean loss in nats per token. */
static qkv_status evaluate(const rt_model *m, rt_trainer *tr, const task *t,
                           const study_settings *s, rt_rng *ev, int *in, int *tg, double *metric,
                           double *eval_loss, qkv_error *err)
{
    double lsum = 0.0;
    long ok = 0, cnt = 0;
    for (int b = 0; b < s->eval_batches; b++) {
        task_batch(t, ev, s->batch, true, in, tg);
        double loss;
        long c1, n1;
        qkv_status st = rt_train_eval(m, tr, in, tg, &loss, &c1, &n1, err);
        if (st != QKV_OK)
            return st;
        lsum += loss;
        ok += c1;
        cnt += n1;
    }
    *metric = t->kind == TASK_TEXT ? lsum / s->eval_batches : 100.0 * (double)ok / (double)cnt;
    *eval_loss = lsum / s->eval_batches;
    return QKV_OK;
}

/* Probe a trained model on n sequences of T tokens (rows of tokens); the
 * cell keeps the means over sequences and heads of the K–V and Q–K
 * overlaps, symmetric shares, K's erank over min(T, HD) (the most it can
 * be), the K–V CKA beside its random-W_V baseline, and the flattened
 * W_K·W_V cosine (norm gain folded in). */
static qkv_status probe_cell(const rt_model *m, const int *tokens, int n, int T, study_cell *cellp,
                             qkv_error *err)
{
    double kv = 0, qk = 0, sw = 0, ss = 0, ek = 0, cka = 0, ckr = 0, fc = 0;
    int count = 0;
    const int HD = m->cfg.head_dim, top = T < HD ? T : HD;
    for (int q = 0; q < n; q++) {
        probe_result pr;
        qkv_status st = probe_run(m, tokens + (size_t)q * T, T, NULL, false, &pr, err);
        if (st != QKV_OK)
            return st;
        for (int i = 0; i < pr.n_heads; i++, count++) {
            const probe_head *h = &pr.heads[i];
            kv += h->kv.mean_cos2;
            qk += h->qk.mean_cos2;
            sw += h->sym_w;
            ss += h->sym_scores;
            ek += h->k.erank / top;
            cka += h->cka_kv;
            ckr += h->cka_kv_rand;
            fc += h->kv_flat_cos;
        }
        cellp->chance = pr.n_heads ? pr.heads[0].kv.chance : 0.0;
        probe_result_free(&pr);
    }
    if (count) {
        cellp->kv_cos2 = kv / count;
        cellp->qk_cos2 = qk / count;
        cellp->sym_w = sw / count;
        cellp->sym_scores = ss / count;
        cellp->erank_k_frac = ek / count;
        cellp->cka_kv = cka / count;
        cellp->cka_kv_rand = ckr / count;
        cellp->kv_flat_cos = fc / count;
    }
    return QKV_OK;
}

static qkv_status run_job(runner *R, int job, qkv_error *err)
{
    const study_settings *s = R->s;
    study_result *r = R->r;
    const int seed = job % s->seeds, cell = job / s->seeds;
    const int ti = cell / r->n_vars, vi = cell % r->n_vars;
    const task *t = &r->tasks[ti];
    const study_variant *v = &r->vars[vi];
    rt_config c = study_config(s, t, v);
    rt_model m;
    qkv_status st = rt_model_init(&m, &c, err);
    if (st != QKV_OK)
        return st;
    rt_model_randomize(&m, 1000 + (uint64_t)seed);
    rt_trainer tr;
    if ((st = rt_trainer_init(&tr, &m, s->batch, t->len, err)) != QKV_OK) {
        rt_model_free(&m);
        return st;
    }
    const size_t n = (size_t)s->batch * t->len;
    int *in = malloc(n * sizeof(int)), *tg = malloc(n * sizeof(int));
    if (!in || !tg) {
        st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto out;
    }
    rt_rng data = {7919 * (uint64_t)(seed + 1)};
    rt_optim o = s->optim;
    o.steps = s->steps;
    int logged = 0;
    double window = 0.0;
    int in_window = 0;
    const int every = s->steps / r->n_curve > 0 ? s->steps / r->n_curve : 1;
    for (int step = 0; step < s->steps; step++) {
        task_batch(t, &data, s->batch, false, in, tg);
        double loss;
        long correct;
        if ((st = rt_train_grad(&m, &tr, in, tg, &loss, &correct, err)) != QKV_OK)
            goto out;
        if (R->steps_99[job] == 0 && (double)correct >= 0.99 * (double)n)
            R->steps_99[job] = step + 1;
        rt_optim_step(&m, &tr, &o);
        window += loss;
        in_window++;
        if ((step + 1) % every == 0 && logged < r->n_curve) {
            R->seed_curves[job][logged++] = window / in_window;
            window = 0.0;
            in_window = 0;
        }
        if ((step + 1) % 25 == 0 || step + 1 == s->steps)
            report_progress(R, job, step, loss);
        R->final_loss[job] = loss;
    }
    /* evaluation on the fixed set */
    rt_rng ev = {0xE7A1};
    study_cell *cellp = &r->cells[cell];
    if ((st = evaluate(&m, &tr, t, s, &ev, in, tg, &cellp->metric[seed], &R->eval_loss[job],
                       err)) != QKV_OK)
        goto out;
    for (int l = 0; l < c.n_layers; l++)
        R->gains[(size_t)job * c.n_layers + l] = rt_pos2d_gain(&c, &m.layers[l]);
    if (seed == 0) {
        /* STUDY_PROBE_SEQS sequences fit in the batch buffers: batch >= 1 */
        const int nq = s->batch < STUDY_PROBE_SEQS ? s->batch : STUDY_PROBE_SEQS;
        task_batch(t, &ev, nq, true, in, tg);
        if ((st = probe_cell(&m, in, nq, t->len, cellp, err)) != QKV_OK)
            goto out;
        cellp->params = m.n_params;
        cellp->model = m; /* kept: ownership moves to the cell */
        memset(&m, 0, sizeof m);
    }
out:
    free(in);
    free(tg);
    rt_trainer_free(&tr);
    rt_model_free(&m);
    return st;
}

static void *worker(void *arg)
{
    runner *R = arg;
    for (;;) {
        pthread_mutex_lock(&R->lock);
        int job = R->status == QKV_OK && R->next < R->n_jobs ? R->next++ : -1;
        pthread_mutex_unlock(&R->lock);
        if (job < 0)
            return NULL;
        qkv_error e;
        qkv_status st = run_job(R, job, &e);
        if (st != QKV_OK) {
            pthread_mutex_lock(&R->lock);
            if (R->status == QKV_OK) {
                R->status = st;
                R->err = e;
            }
            pthread_mutex_unlock(&R->lock);
        }
    }
}

/* KV cache bytes per token (f16, exact engine, all layers) from the planner. */
uint64_t study_kv_bytes_per_token(const rt_config *c)
{
    model_shape ms;
    memset(&ms, 0, sizeof ms);
    snprintf(ms.name, sizeof ms.name, "study");
    ms.n_layers = (uint64_t)c->n_layers;
    ms.d_model = (uint64_t)c->d_model;
    ms.n_heads = (uint64_t)c->n_heads;
    ms.n_kv_heads = (uint64_t)c->n_kv_heads;
    ms.head_dim = ms.v_head_dim = (uint64_t)c->head_dim;
    ms.d_ff = (uint64_t)c->d_ff;
    ms.vocab = (uint64_t)c->vocab;
    ms.norms_per_layer = 2;
    ms.norm = NORM_LAYER;
    ms.pos = POS_LEARNED;
    ms.max_ctx = (uint64_t)c->max_seq;
    ms.tied_embeddings = true;
    kvplan_params p = kvplan_params_default();
    variant v = {c->share, (uint64_t)c->n_kv_heads, false, false};
    kvplan_row row;
    if (kvplan_row_eval(&ms, &v, &p, false, &row, NULL) != QKV_OK)
        return 0;
    return row.kv_bytes_per_token;
}

/* Run every job on up to `threads` worker threads, one job per thread at a
 * time (rt_run_workers). */
static void run_workers(runner *R, int threads)
{
    pthread_mutex_init(&R->lock, NULL);
    R->t0 = qkv_now_s();
    rt_run_workers(worker, R, threads < R->n_jobs ? threads : R->n_jobs);
    pthread_mutex_destroy(&R->lock);
}

/* Per cell: mean and sample sd of the metric over seeds, the mean loss
 * curve and final training loss, the KV bytes per token; per task, each
 * variant's difference from plain QKV (all heads, no 2D term) when trained. */
static void summarise(runner *R)
{
    study_result *out = R->r;
    const study_settings *s = R->s;
    const int n_vars = out->n_vars, n_cells = out->n_tasks * n_vars;
    for (int cell = 0; cell < n_cells; cell++) {
        study_cell *c = &out->cells[cell];
        double sum = 0.0, sum2 = 0.0, fl = 0.0;
        for (int sd = 0; sd < s->seeds; sd++) {
            sum += c->metric[sd];
            sum2 += c->metric[sd] * c->metric[sd];
            fl += R->final_loss[cell * s->seeds + sd];
            for (int k = 0; k < out->n_curve; k++)
                c->curve[k] += R->seed_curves[cell * s->seeds + sd][k] / s->seeds;
        }
        c->metric_mean = sum / s->seeds;
        c->metric_sd =
            s->seeds > 1 ? sqrt(fmax(0.0, (sum2 - sum * sum / s->seeds) / (s->seeds - 1))) : 0.0;
        c->train_loss_final = fl / s->seeds;
        double el = 0.0, st99 = 0.0;
        c->reached_99 = 0;
        for (int sd = 0; sd < s->seeds; sd++) {
            const int job = cell * s->seeds + sd;
            el += R->eval_loss[job];
            if (R->steps_99[job] > 0) {
                st99 += R->steps_99[job];
                c->reached_99++;
            }
            for (int l = 0; c->pos2d_gain && l < s->layers; l++)
                c->pos2d_gain[l] += R->gains[(size_t)job * s->layers + l] / s->seeds;
        }
        c->eval_loss = el / s->seeds;
        c->steps_to_99 = c->reached_99 ? st99 / c->reached_99 : 0.0;
        c->chance_pct = 100.0 / task_vocab(&out->tasks[cell / n_vars]);
        rt_config cfg = study_config(s, &out->tasks[cell / n_vars], &out->vars[cell % n_vars]);
        c->kv_bytes_per_token = study_kv_bytes_per_token(&cfg);
    }
    for (int ti = 0; ti < out->n_tasks; ti++) {
        int base = -1;
        for (int vi = 0; vi < n_vars; vi++)
            if (out->vars[vi].share == SHARE_QKV && out->vars[vi].kv_heads == s->heads &&
                !out->vars[vi].pos2d)
                base = vi;
        for (int vi = 0; base >= 0 && vi < n_vars; vi++) {
            study_cell *c = &out->cells[ti * n_vars + vi];
            c->has_delta = true;
            c->delta_vs_qkv = c->metric_mean - out->cells[ti * n_vars + base].metric_mean;
        }
    }
}

qkv_status study_run(task *tasks, int n_tasks, study_variant *vars, int n_vars,
                     const study_settings *s, study_progress_fn progress, void *user,
                     study_result *out, qkv_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_tasks < 1 || n_vars < 1 || s->seeds < 1 || s->steps < 1 || s->batch < 1 ||
        s->eval_batches < 1 || s->threads < 1)
        return qkv_error_set(err, QKV_ERR_RANGE,
                             "a study needs tasks, variants, seeds, steps and "
                             "batches");
    if (s->heads < 1 || s->d_model % s->heads != 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "d_model %d is not divisible by %d heads",
                             s->d_model, s->heads);
    for (int ti = 0; ti < n_tasks; ti++)
        for (int vi = 0; vi < n_vars; vi++) {
            rt_config c = study_config(s, &tasks[ti], &vars[vi]);
            qkv_status st = rt_config_check(&c, err);
            if (st != QKV_OK)
                return st;
        }
    out->settings = *s;
    out->n_tasks = n_tasks;
    out->n_vars = n_vars;
    out->tasks = tasks;
    out->vars = vars;
    out->n_curve = s->steps < 50 ? s->steps : 50;
    const int n_cells = n_tasks * n_vars, n_jobs = n_cells * s->seeds;
    out->cells = calloc((size_t)n_cells, sizeof *out->cells);
    out->curve_steps = calloc((size_t)out->n_curve, sizeof(int));
    runner R = {.r = out,
                .s = s,
                .n_jobs = n_jobs,
                .total_steps = (long)n_jobs * s->steps,
                .progress = progress,
                .user = user,
                .status = QKV_OK};
    R.seed_curves = calloc((size_t)n_jobs, sizeof(double *));
    R.final_loss = calloc((size_t)n_jobs, sizeof(double));
    R.eval_loss = calloc((size_t)n_jobs, sizeof(double));
    R.steps_99 = calloc((size_t)n_jobs, sizeof(int));
    R.gains = calloc((size_t)n_jobs * s->layers, sizeof(double));
    qkv_status st = QKV_OK;
    if (!out->cells || !out->curve_steps || !R.seed_curves || !R.final_loss || !R.eval_loss ||
        !R.steps_99 || !R.gains) {
        st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int j = 0; j < n_jobs; j++)
        if (!(R.seed_curves[j] = calloc((size_t)out->n_curve, sizeof(double)))) {
            st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
            goto done;
        }
    for (int i = 0; i < n_cells; i++) {
        out->cells[i].metric = calloc((size_t)s->seeds, sizeof(double));
        out->cells[i].curve = calloc((size_t)out->n_curve, sizeof(double));
        const bool learned = vars[i % n_vars].pos2d &&
                             (s->pos2d_form == RT_POS2D_CONV || s->pos2d_form == RT_POS2D_REL);
        if (learned)
            out->cells[i].pos2d_gain = calloc((size_t)s->layers, sizeof(double));
        if (!out->cells[i].metric || !out->cells[i].curve ||
            (learned && !out->cells[i].pos2d_gain)) {
            st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    const int every = s->steps / out->n_curve > 0 ? s->steps / out->n_curve : 1;
    for (int k = 0; k < out->n_curve; k++)
        out->curve_steps[k] = (k + 1) * every;

    run_workers(&R, s->threads);
    out->seconds = qkv_now_s() - R.t0;
    double tokens = 0.0;
    for (int ti = 0; ti < n_tasks; ti++)
        tokens += (double)n_vars * s->seeds * s->steps * s->batch * tasks[ti].len;
    out->tokens_per_s = tokens / (out->seconds > 0 ? out->seconds : 1);
    if (R.status != QKV_OK) {
        st = R.status;
        if (err)
            *err = R.err;
        goto done;
    }
    summarise(&R);
    study_compare(out);
done:
    for (int j = 0; R.seed_curves && j < n_jobs; j++)
        free(R.seed_curves[j]);
    free(R.seed_curves);
    free(R.final_loss);
    free(R.eval_loss);
    free(R.steps_99);
    free(R.gains);
    if (st != QKV_OK)
        study_result_free(out);
    return st;
}

void study_result_free(study_result *r)
{
    if (!r)
        return;
    for (int i = 0; r->cells && i < r->n_tasks * r->n_vars; i++) {
        free(r->cells[i].metric);
        free(r->cells[i].curve);
        free(r->cells[i].pos2d_gain);
        rt_model_free(&r->cells[i].model);
    }
    free(r->cells);
    free(r->curve_steps);
    memset(r, 0, sizeof *r);
}
