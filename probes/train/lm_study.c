#include "probes/train/lm_study.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/core/clock.h"
#include "probes/runtime/rt_kernels.h"
#include "analyzer/kvplan.h"
#include "analyzer/paper.h"
#include "probes/probe.h"

lm_settings lm_settings_default(void)
{
    lm_settings s = {.d_model = LM_DEFAULT_D_MODEL,
                     .layers = LM_DEFAULT_LAYERS,
                     .heads = LM_DEFAULT_HEADS,
                     .ctx = LM_DEFAULT_CTX,
                     .ablation = {64, 128, 256},
                     .n_ablation = 3,
                     .batch = LM_DEFAULT_BATCH,
                     .steps = LM_DEFAULT_STEPS,
                     .seeds = LM_DEFAULT_SEEDS,
                     .threads = STUDY_DEFAULT_THREADS,
                     .shard_n = 1};
    s.optim = rt_optim_default();
    s.optim.lr = (float)LM_DEFAULT_LR;
    s.optim.warmup = LM_DEFAULT_WARMUP;
    return s;
}

rt_config lm_config(const lm_settings *s, int vocab, const study_variant *v, int ctx)
{
    rt_config c = rt_config_default(RT_GPT2);
    c.n_layers = s->layers;
    c.d_model = s->d_model;
    c.n_heads = s->heads;
    c.head_dim = s->heads > 0 ? s->d_model / s->heads : 1;
    c.n_kv_heads = v->kv_heads;
    c.d_ff = s->d_ff > 0 ? s->d_ff : 4 * s->d_model;
    c.vocab = vocab;
    c.max_seq = ctx;
    c.share = v->share;
    c.causal = true;
    c.pos2d = false;
    c.tied = true;
    return c;
}

/* Initial weights: each tensor from its own stream keyed by (seed, name,
 * layer), GPT-2's rule (N(0, 0.02) for matrices and embeddings, ones for
 * norm weights, zeros for biases). Tensors of equal shape in two variants
 * are equal; a K with fewer heads holds the first rows of the full one. */
static void init_weights(rt_model *m, uint64_t seed)
{
    for (size_t k = 0; k < m->n_tensors; k++) {
        const rt_tensor *t = &m->tensors[k];
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const char *p = t->name; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        rt_rng r = {seed * 0x9E3779B97F4A7C15ULL ^ h ^
                    (uint64_t)(t->layer + 2) * 0xD1B54A32D192ED03ULL};
        const size_t len = strlen(t->name);
        const bool norm_w =
            len >= 2 && strncmp(t->name, "ln", 2) == 0 && strcmp(t->name + len - 2, "_w") == 0;
        for (size_t i = 0; i < t->elems; i++)
            t->data[i] = t->decay ? (float)(0.02 * rt_rng_normal(&r)) : norm_w ? 1.0f : 0.0f;
    }
}

/* KV cache bytes per token (f16, exact engine, all layers): the planner's figure. */
/* The configuration a run trains: with param_match, a variant with fewer
 * parameters than QKV gets FFN units (2C + 1 parameters each) until it has
 * at least as many. */
static qkv_status run_config(const lm_settings *s, int vocab, const study_variant *v, int ctx,
                             rt_config *out, qkv_error *err)
{
    *out = lm_config(s, vocab, v, ctx);
    qkv_status st = rt_config_check(out, err);
    if (st != QKV_OK || !s->param_match)
        return st;
    study_variant base = {"QKV", SHARE_QKV, s->heads, false};
    rt_config b = lm_config(s, vocab, &base, ctx);
    size_t pb, pv;
    if ((st = rt_param_count(&b, &pb, err)) != QKV_OK ||
        (st = rt_param_count(out, &pv, err)) != QKV_OK)
        return st;
    if (pv < pb) {
        const size_t per = 2 * (size_t)s->d_model + 1, units = (pb - pv + per - 1) / per;
        out->d_ff += (int)((units + (size_t)s->layers - 1) / (size_t)s->layers);
    }
    return rt_config_check(out, err);
}

static bool is_plain(const lm_settings *s, const study_variant *v, variant_share share)
{
    return v->share == share && v->kv_heads == s->heads && !v->pos2d;
}

/* The paper's 300M figure for a variant, matched by sharing and by query
 * heads per KV head (its GQA-4 is 16 heads over 4 KV heads). */
static bool paper_pct(const lm_settings *s, const study_variant *v, double *pct)
{
    if (v->pos2d)
        return false;
    const int kv = v->kv_heads == s->heads       ? 0
                   : v->kv_heads == 1            ? 1
                   : s->heads / v->kv_heads == 4 ? 4
                                                 : -1;
    for (size_t i = 0; i < paper_lm_results_count; i++) {
        const paper_lm_result *r = &paper_lm_results[i];
        if (r->share == v->share && r->kv_heads == kv && strncmp(r->model, "300M", 4) == 0) {
            *pct = r->ppl_delta_pct;
            return true;
        }
    }
    return false;
}

typedef struct {
    lm_result *r;
    const lm_settings *s;
    int next;
    qkv_status status;
    qkv_error err;
    pthread_mutex_t lock;
    lm_progress_fn progress;
    void *user;
    long tokens;
} runner;

/* Mean nats per token over every sampled token of the validation split,
 * each sequence cut into windows of T (the trainer's shape, B x T). */
static qkv_status evaluate(const rt_model *m, rt_trainer *tr, const lm_corpus *c, int *in, int *tg,
                           double *nll, qkv_error *err)
{
    const int B = tr->B, T = tr->T, S = c->spec.seq_len, per_seq = S / T;
    const long n_windows = (long)c->spec.n_val * per_seq;
    double sum = 0.0;
    long counted = 0;
    for (long w0 = 0; w0 < n_windows; w0 += B) {
        for (int b = 0; b < B; b++) {
            const long w = w0 + b;
            for (int i = 0; i < T; i++) {
                const size_t o = (size_t)b * T + i;
                if (w >= n_windows) {
                    in[o] = 0;
                    tg[o] = -1;
                    continue;
                }
                const uint16_t *seq = lm_corpus_seq(c, c->spec.n_train + (int)(w / per_seq));
                const int a = (int)(w % per_seq) * T;
                in[o] = seq[a + i];
                tg[o] = seq[a + i + 1];
            }
        }
        double loss;
        long ok, n;
        qkv_status st = rt_train_eval(m, tr, in, tg, &loss, &ok, &n, err);
        if (st != QKV_OK)
            return st;
        sum += loss * (double)n;
        counted += n;
    }
    *nll = counted ? sum / (double)counted : NAN;
    return QKV_OK;
}

/* Per layer means over heads of K–V CKA and W_K/W_V mean cos² of model m on
 * tokens (T). */
static qkv_status probe_layers(const rt_model *m, const int *tokens, int T, double *cka,
                               double *cos2, double *chance, qkv_error *err)
{
    probe_result pr;
    qkv_status st = probe_run(m, tokens, T, NULL, false, &pr, err);
    if (st != QKV_OK)
        return st;
    const int L = m->cfg.n_layers;
    int *n = calloc((size_t)L, sizeof(int));
    if (!n) {
        probe_result_free(&pr);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    for (int l = 0; l < L; l++)
        cka[l] = cos2[l] = 0.0;
    for (int i = 0; i < pr.n_heads; i++) {
        const probe_head *h = &pr.heads[i];
        cka[h->layer] += h->cka_kv;
        cos2[h->layer] += h->kv.mean_cos2;
        n[h->layer]++;
    }
    for (int l = 0; l < L; l++) {
        cka[l] = n[l] ? cka[l] / n[l] : NAN;
        cos2[l] = n[l] ? cos2[l] / n[l] : NAN;
    }
    *chance = pr.n_heads ? pr.heads[0].kv.chance : NAN;
    free(n);
    probe_result_free(&pr);
    return QKV_OK;
}

static int batch_at(const lm_settings *s, int ctx)
{
    const int b = (int)((long)s->batch * s->ctx / ctx);
    return b > 0 ? b : 1;
}

static qkv_status run_one(runner *R, int j, qkv_error *err)
{
    lm_result *r = R->r;
    const lm_settings *s = R->s;
    lm_run *run = &r->runs[j];
    const lm_corpus *c = r->corpus;
    const study_variant *v = &r->vars[run->var];
    rt_config cfg;
    qkv_status st = run_config(s, c->vocab, v, run->ctx, &cfg, err);
    if (st != QKV_OK)
        return st;
    rt_model m, m0;
    memset(&m0, 0, sizeof m0);
    if ((st = rt_model_init(&m, &cfg, err)) != QKV_OK)
        return st;
    init_weights(&m, 1000 + (uint64_t)run->seed);
    const int B = batch_at(s, run->ctx), T = run->ctx;
    rt_trainer tr;
    int *in = NULL, *tg = NULL;
    if ((st = rt_trainer_init(&tr, &m, B, T, err)) != QKV_OK) {
        rt_model_free(&m);
        return st;
    }
    const bool probe = run->seed == 0 && run->ctx == s->ctx;
    if (probe) { /* the initial weights, for the probes' baseline */
        if ((st = rt_model_init(&m0, &cfg, err)) != QKV_OK)
            goto out;
        memcpy(m0.params, m.params, m.n_params * sizeof(float));
    }
    in = malloc((size_t)B * T * sizeof(int));
    tg = malloc((size_t)B * T * sizeof(int));
    if (!in || !tg) {
        st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto out;
    }
    rt_rng data = {7919 * (uint64_t)(run->seed + 1)};
    rt_optim o = s->optim;
    o.steps = s->steps;
    const double t0 = qkv_now_s();
    const int every = s->steps / r->n_curve > 0 ? s->steps / r->n_curve : 1;
    const int tail = s->steps / 10 > 0 ? s->steps / 10 : 1;
    double window = 0.0, tail_sum = 0.0;
    int in_window = 0, logged = 0;
    for (int step = 0; step < s->steps; step++) {
        lm_corpus_batch(c, &data, B, T, in, tg);
        double loss;
        if ((st = rt_train_grad(&m, &tr, in, tg, &loss, NULL, err)) != QKV_OK)
            goto out;
        rt_optim_step(&m, &tr, &o);
        window += loss;
        in_window++;
        if (step >= s->steps - tail)
            tail_sum += loss;
        if ((step + 1) % every == 0 && logged < r->n_curve) {
            run->curve[logged++] = window / in_window;
            window = 0.0;
            in_window = 0;
        }
        if (R->progress && ((step + 1) % 25 == 0 || step + 1 == s->steps)) {
            pthread_mutex_lock(&R->lock);
            R->progress(R->user, j, r->n_runs, v->label, run->ctx, run->seed, step + 1, s->steps,
                        loss);
            pthread_mutex_unlock(&R->lock);
        }
    }
    run->train_nll_final = tail_sum / tail;
    if ((st = evaluate(&m, &tr, c, in, tg, &run->val_nll, err)) != QKV_OK)
        goto out;
    run->seconds = qkv_now_s() - t0;
    run->params = m.n_params;
    run->d_ff = cfg.d_ff;
    if (probe) {
        lm_probe *p = NULL;
        for (int k = 0; k < r->n_probes; k++)
            if (r->probes[k].var == run->var)
                p = &r->probes[k];
        const uint16_t *seq = lm_corpus_seq(c, c->spec.n_train);
        for (int i = 0; i < T; i++)
            in[i] = seq[i];
        double chance0;
        if (p &&
            ((st = probe_layers(&m, in, T, p->cka_kv, p->cos2_kv, &p->chance, err)) != QKV_OK ||
             (st = probe_layers(&m0, in, T, p->cka_kv_init, p->cos2_kv_init, &chance0, err)) !=
                 QKV_OK))
            goto out;
    }
    run->done = true;
    pthread_mutex_lock(&R->lock);
    R->tokens += (long)s->steps * B * T;
    pthread_mutex_unlock(&R->lock);
out:
    free(in);
    free(tg);
    rt_trainer_free(&tr);
    rt_model_free(&m);
    rt_model_free(&m0);
    return st;
}

static void *worker(void *arg)
{
    runner *R = arg;
    const lm_settings *s = R->s;
    for (;;) {
        pthread_mutex_lock(&R->lock);
        int j = -1;
        while (R->status == QKV_OK && R->next < R->r->n_runs && j < 0) {
            const int k = R->next++;
            if (k % s->shard_n == s->shard_i)
                j = k;
        }
        pthread_mutex_unlock(&R->lock);
        if (j < 0)
            return NULL;
        qkv_error e;
        qkv_status st = run_one(R, j, &e);
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

/* Cells (variant x context) from the runs, Δ vs QKV at the same context,
 * and the ordering check against the paper. */
static qkv_status summarise(lm_result *r, qkv_error *err)
{
    const lm_settings *s = &r->settings;
    for (int ci = 0; ci < r->n_cells; ci++) {
        lm_cell *cl = &r->cells[ci];
        double sum = 0.0, sum2 = 0.0, nll = 0.0;
        cl->n = 0;
        for (int j = 0; j < r->n_runs; j++) {
            const lm_run *run = &r->runs[j];
            if (run->var != cl->var || run->ctx != cl->ctx || !run->done)
                continue;
            const double ppl = exp(run->val_nll);
            sum += ppl;
            sum2 += ppl * ppl;
            nll += run->val_nll;
            for (int k = 0; k < r->n_curve; k++)
                cl->curve[k] += run->curve[k];
            cl->params = run->params;
            cl->d_ff = run->d_ff;
            cl->n++;
        }
        if (cl->n == 0)
            return qkv_error_set(err, QKV_ERR_INVALID, "internal: a cell without runs");
        cl->ppl_mean = sum / cl->n;
        cl->nll_mean = nll / cl->n;
        cl->ppl_sd = cl->n > 1 ? sqrt(fmax(0.0, (sum2 - sum * sum / cl->n) / (cl->n - 1))) : 0.0;
        for (int k = 0; k < r->n_curve; k++)
            cl->curve[k] /= cl->n;
        rt_config cfg = lm_config(s, r->corpus->vocab, &r->vars[cl->var], cl->ctx);
        cfg.d_ff = cl->d_ff;
        cl->kv_bytes_per_token = study_kv_bytes_per_token(&cfg);
        cl->has_paper = paper_pct(s, &r->vars[cl->var], &cl->paper_pct);
    }
    for (int ci = 0; ci < r->n_cells; ci++) {
        lm_cell *cl = &r->cells[ci];
        for (int b = 0; b < r->n_cells; b++)
            if (r->cells[b].ctx == cl->ctx && is_plain(s, &r->vars[r->cells[b].var], SHARE_QKV)) {
                cl->has_delta = true;
                cl->delta_pct = 100.0 * (cl->ppl_mean / r->cells[b].ppl_mean - 1.0);
            }
    }
    for (int a = 0; a < r->n_vars; a++) {
        lm_cell *ca = &r->cells[a];
        const bool a_base = is_plain(s, &r->vars[a], SHARE_QKV);
        if (!ca->has_paper && !a_base)
            continue;
        ca->rank = ca->paper_rank = 1;
        for (int b = 0; b < r->n_vars; b++) {
            const lm_cell *cb = &r->cells[b];
            if (b == a || (!cb->has_paper && !is_plain(s, &r->vars[b], SHARE_QKV)))
                continue;
            ca->rank += cb->ppl_mean < ca->ppl_mean;
            ca->paper_rank += cb->paper_pct < ca->paper_pct;
        }
    }
    /* ordering: every pair of main-context cells the paper orders */
    r->ordering_agrees = true;
    r->ordering_pairs = r->ordering_same = 0;
    size_t used = 0;
    r->ordering_note[0] = '\0';
    for (int a = 0; a < r->n_vars; a++)
        for (int b = 0; b < r->n_vars; b++) {
            const lm_cell *ca = &r->cells[a], *cb = &r->cells[b];
            const bool a_base = is_plain(s, &r->vars[a], SHARE_QKV);
            const double pa = a_base ? 0.0 : ca->paper_pct, pb = cb->paper_pct;
            if (!(ca->has_paper || a_base) || !cb->has_paper || !(pa < pb))
                continue;
            r->ordering_pairs++;
            if (ca->ppl_mean < cb->ppl_mean) {
                r->ordering_same++;
                continue;
            }
            r->ordering_agrees = false;
            if (used + 80 < sizeof r->ordering_note)
                used += (size_t)snprintf(r->ordering_note + used, sizeof r->ordering_note - used,
                                         "%s%s is not below %s", used ? "; " : "", r->vars[a].label,
                                         r->vars[b].label);
        }
    return QKV_OK;
}

qkv_status lm_study_prepare(const lm_corpus *corpus, study_variant *vars, int n_vars,
                            const lm_settings *s, lm_result *out, qkv_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_vars < 1 || s->seeds < 1 || s->steps < 1 || s->batch < 1 || s->threads < 1 ||
        s->shard_n < 1 || s->shard_i < 0 || s->shard_i >= s->shard_n || s->n_ablation < 0 ||
        s->n_ablation > LM_CTX_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE,
                             "an LM study needs variants, seeds, steps, a batch "
                             "and a shard I/N with I < N");
    if (s->heads < 1 || s->d_model % s->heads != 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "d_model %d is not divisible by %d heads",
                             s->d_model, s->heads);
    const int S = corpus->spec.seq_len;
    int qkv = -1, kv = -1;
    for (int v = 0; v < n_vars; v++) {
        if (is_plain(s, &vars[v], SHARE_QKV))
            qkv = v;
        if (is_plain(s, &vars[v], SHARE_KV))
            kv = v;
    }
    int ctxs[LM_CTX_MAX + 1], n_ctx = 0;
    ctxs[n_ctx++] = s->ctx;
    for (int i = 0; i < s->n_ablation; i++)
        if (s->ablation[i] != s->ctx && qkv >= 0 && kv >= 0)
            ctxs[n_ctx++] = s->ablation[i];
    for (int i = 0; i < n_ctx; i++)
        if (ctxs[i] < 2 || ctxs[i] > S || S % ctxs[i] != 0)
            return qkv_error_set(
                err, QKV_ERR_RANGE,
                "training context %d must divide the corpus sequences of %d tokens", ctxs[i], S);
    for (int v = 0; v < n_vars; v++)
        for (int i = 0; i < n_ctx; i++) {
            rt_config c;
            qkv_status st = run_config(s, corpus->vocab, &vars[v], ctxs[i], &c, err);
            if (st != QKV_OK)
                return st;
        }
    out->settings = *s;
    out->corpus = corpus;
    out->n_vars = n_vars;
    out->vars = vars;
    out->n_curve = s->steps < 50 ? s->steps : 50;
    out->n_cells = n_vars + 2 * (n_ctx - 1);
    out->n_runs = out->n_cells * s->seeds;
    out->n_probes = n_vars;
    out->runs = calloc((size_t)out->n_runs, sizeof *out->runs);
    out->cells = calloc((size_t)out->n_cells, sizeof *out->cells);
    out->probes = calloc((size_t)n_vars, sizeof *out->probes);
    out->curve_steps = calloc((size_t)out->n_curve, sizeof(int));
    qkv_status st = QKV_OK;
    if (!out->runs || !out->cells || !out->probes || !out->curve_steps)
        goto nomem;
    for (int ci = 0; ci < out->n_cells; ci++) {
        lm_cell *cl = &out->cells[ci];
        cl->var = ci < n_vars ? ci : (ci - n_vars) % 2 == 0 ? qkv : kv;
        cl->ctx = ci < n_vars ? s->ctx : ctxs[1 + (ci - n_vars) / 2];
        if (!(cl->curve = calloc((size_t)out->n_curve, sizeof(double))))
            goto nomem;
        for (int sd = 0; sd < s->seeds; sd++) {
            lm_run *run = &out->runs[ci * s->seeds + sd];
            run->var = cl->var;
            run->ctx = cl->ctx;
            run->seed = sd;
            run->val_nll = NAN;
            if (!(run->curve = calloc((size_t)out->n_curve, sizeof(double))))
                goto nomem;
        }
    }
    for (int v = 0; v < n_vars; v++) {
        lm_probe *p = &out->probes[v];
        p->var = v;
        p->chance = NAN;
        const size_t L = (size_t)s->layers;
        if (!(p->cka_kv = calloc(L, sizeof(double))) ||
            !(p->cka_kv_init = calloc(L, sizeof(double))) ||
            !(p->cos2_kv = calloc(L, sizeof(double))) ||
            !(p->cos2_kv_init = calloc(L, sizeof(double))))
            goto nomem;
    }
    const int every = s->steps / out->n_curve > 0 ? s->steps / out->n_curve : 1;
    for (int k = 0; k < out->n_curve; k++)
        out->curve_steps[k] = (k + 1) * every;
    return QKV_OK;
nomem:
    st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    lm_result_free(out);
    return st;
}

qkv_status lm_study_summarise(lm_result *r, qkv_error *err)
{
    return summarise(r, err);
}

qkv_status lm_study_run(const lm_corpus *corpus, study_variant *vars, int n_vars,
                        const lm_settings *s, lm_progress_fn progress, void *user, lm_result *out,
                        qkv_error *err)
{
    qkv_status st = lm_study_prepare(corpus, vars, n_vars, s, out, err);
    if (st != QKV_OK)
        return st;
    runner R = {.r = out, .s = s, .status = QKV_OK, .progress = progress, .user = user};
    pthread_mutex_init(&R.lock, NULL);
    const double t0 = qkv_now_s();
    rt_run_workers(worker, &R, s->threads);
    pthread_mutex_destroy(&R.lock);
    out->seconds = qkv_now_s() - t0;
    out->tokens_per_s = (double)R.tokens / (out->seconds > 0 ? out->seconds : 1e-9);
    if (R.status != QKV_OK) {
        if (err)
            *err = R.err;
        st = R.status;
        goto fail;
    }
    if (s->shard_n == 1 && (st = summarise(out, err)) != QKV_OK)
        goto fail;
    return QKV_OK;
fail:
    lm_result_free(out);
    return st;
}

void lm_result_drop_probes(lm_result *r)
{
    for (int p = 0; r->probes && p < r->n_probes; p++) {
        free(r->probes[p].cka_kv);
        free(r->probes[p].cka_kv_init);
        free(r->probes[p].cos2_kv);
        free(r->probes[p].cos2_kv_init);
    }
    free(r->probes);
    r->probes = NULL;
    r->n_probes = 0;
}

void lm_result_free(lm_result *r)
{
    if (!r)
        return;
    for (int j = 0; r->runs && j < r->n_runs; j++)
        free(r->runs[j].curve);
    for (int c = 0; r->cells && c < r->n_cells; c++)
        free(r->cells[c].curve);
    lm_result_drop_probes(r);
    free(r->runs);
    free(r->cells);
    free(r->curve_steps);
    memset(r, 0, sizeof *r);
}
