#include "probes/train/sweep.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/core/clock.h"
#include "probes/runtime/rt_pos2d.h"

sweep_grid sweep_grid_paper(void)
{
    sweep_grid g;
    memset(&g, 0, sizeof g);
    qkv_error e;
    /* the paper's lists are valid: these cannot fail */
    sweep_grid_set(&g, "tasks", SWEEP_PAPER_TASKS, &e);
    sweep_grid_set(&g, "variants", STUDY_DEFAULT_VARIANTS, &e);
    sweep_grid_set(&g, "d", SWEEP_PAPER_D, &e);
    sweep_grid_set(&g, "layers", SWEEP_PAPER_LAYERS, &e);
    sweep_grid_set(&g, "heads", SWEEP_PAPER_HEADS, &e);
    sweep_grid_set(&g, "len", SWEEP_PAPER_LENS, &e);
    g.seeds = SWEEP_PAPER_SEEDS;
    g.train_seqs = SWEEP_TRAIN_SEQS;
    g.test_seqs = SWEEP_TEST_SEQS;
    g.epochs = SWEEP_EPOCHS;
    g.batch = SWEEP_BATCH;
    g.lr = SWEEP_LR;
    g.clip = SWEEP_CLIP;
    g.pos2d_form = RT_POS2D_CONV;
    return g;
}

/* One integer axis item: lo..hi. */
static qkv_status parse_int(const char *axis, const char *item, int lo, int hi, int *out,
                            qkv_error *err)
{
    char *end;
    errno = 0;
    const long v = strtol(item, &end, 10);
    if (end == item || *end || errno || v < lo || v > hi)
        return qkv_error_set(err, QKV_ERR_INVALID, "%s '%s': must be a whole number from %d to %d",
                             axis, item, lo, hi);
    *out = (int)v;
    return QKV_OK;
}

qkv_status sweep_grid_set(sweep_grid *g, const char *axis, const char *list, qkv_error *err)
{
    char buf[SWEEP_TEXT_BYTES];
    if (strlen(list) >= sizeof buf)
        return qkv_error_set(err, QKV_ERR_INVALID, "%s: the list is too long", axis);
    snprintf(buf, sizeof buf, "%s", list);
    const bool is_tasks = strcmp(axis, "tasks") == 0, is_vars = strcmp(axis, "variants") == 0;
    int *vals = NULL, *count, lo = 1, hi = 4096, n = 0, cap = SWEEP_AXIS_MAX;
    if (is_tasks)
        count = &g->n_tasks;
    else if (is_vars)
        count = &g->n_vars, cap = SWEEP_VARS_MAX;
    else if (strcmp(axis, "d") == 0)
        vals = g->d, count = &g->n_d;
    else if (strcmp(axis, "layers") == 0)
        vals = g->layers, count = &g->n_layers, hi = SWEEP_LAYERS_MAX;
    else if (strcmp(axis, "heads") == 0)
        vals = g->heads, count = &g->n_heads, hi = 256;
    else if (strcmp(axis, "len") == 0)
        vals = g->lens, count = &g->n_lens, lo = 2;
    else
        return qkv_error_set(err, QKV_ERR_INVALID, "unknown sweep axis '%s'", axis);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (n >= cap)
            return qkv_error_set(err, QKV_ERR_INVALID, "%s: at most %d entries", axis, cap);
        if (is_tasks) {
            task t;
            qkv_status st =
                strncmp(item, "text:", 5) == 0
                    ? qkv_error_set(err, QKV_ERR_INVALID,
                                    "tasks '%s': the sweep runs the synthetic tasks", item)
                    : task_parse(item, 16, &t, err);
            if (st != QKV_OK)
                return st;
            task_free(&t);
            for (int i = 0; i < n; i++)
                if (g->tasks[i] == t.kind)
                    return qkv_error_set(err, QKV_ERR_INVALID, "tasks: '%s' twice", item);
            g->tasks[n++] = t.kind;
        } else if (is_vars) {
            if (strlen(item) >= sizeof g->vars[0])
                return qkv_error_set(err, QKV_ERR_INVALID, "variants '%s': too long", item);
            for (int i = 0; i < n; i++)
                if (strcmp(g->vars[i], item) == 0)
                    return qkv_error_set(err, QKV_ERR_INVALID, "variants: '%s' twice", item);
            snprintf(g->vars[n++], sizeof g->vars[0], "%s", item);
        } else {
            int v;
            qkv_status st = parse_int(axis, item, lo, hi, &v, err);
            if (st != QKV_OK)
                return st;
            for (int i = 0; i < n; i++)
                if (vals[i] == v)
                    return qkv_error_set(err, QKV_ERR_INVALID, "%s: %d twice", axis, v);
            vals[n++] = v;
        }
    }
    if (n == 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "%s: the list is empty", axis);
    *count = n;
    return QKV_OK;
}

static study_settings settings_of(const sweep_grid *g, const sweep_run *r)
{
    study_settings s = study_settings_default();
    s.d_model = r->d;
    s.layers = r->layers;
    s.heads = r->heads;
    s.d_ff = 0;
    s.seq_len = r->len;
    s.batch = g->batch;
    s.seeds = 1;
    s.pos2d_form = g->pos2d_form;
    return s;
}

qkv_status sweep_variant(const sweep_grid *g, const sweep_run *r, study_variant *v, qkv_error *err)
{
    return study_variant_parse(g->vars[r->var], r->heads, v, err);
}

qkv_status sweep_grid_check(const sweep_grid *g, qkv_error *err)
{
    if (g->seeds < 1 || g->epochs < 1 || g->batch < 1 || g->test_seqs < 1)
        return qkv_error_set(err, QKV_ERR_RANGE,
                             "a sweep needs seeds, epochs, a batch and a test set");
    if (g->train_seqs < g->batch)
        return qkv_error_set(err, QKV_ERR_RANGE,
                             "%d training sequences make no batch of %d: an epoch needs one",
                             g->train_seqs, g->batch);
    if (!(g->lr > 0.0 && g->lr <= 1.0) || !(g->clip >= 0.0))
        return qkv_error_set(err, QKV_ERR_RANGE, "learning rate %g or clip %g out of range", g->lr,
                             g->clip);
    if (g->seeds > SWEEP_SEEDS_MAX || g->train_seqs > SWEEP_TRAIN_MAX ||
        g->test_seqs > SWEEP_TEST_MAX || g->epochs > SWEEP_EPOCHS_MAX || g->batch > SWEEP_BATCH_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "seeds, sequences, epochs or batch out of range");
    if (sweep_count(g) > SWEEP_RUNS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "%ld runs: a sweep has at most %d", sweep_count(g),
                             SWEEP_RUNS_MAX);
    if ((long)g->epochs * (g->train_seqs / g->batch) > SWEEP_STEPS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "%ld steps per run: at most %d",
                             (long)g->epochs * (g->train_seqs / g->batch), SWEEP_STEPS_MAX);
    for (int i = 0; i < g->n_lens; i++) {
        const long len = g->lens[i];
        if ((long)g->batch * len > RT_SEQ_MAX)
            return qkv_error_set(err, QKV_ERR_RANGE, "batches of %d x %ld tokens exceed %d",
                                 g->batch, len, RT_SEQ_MAX);
        if (((long)g->train_seqs + g->test_seqs) * len > SWEEP_DATA_TOKENS_MAX)
            return qkv_error_set(err, QKV_ERR_RANGE,
                                 "%d + %d sequences of %ld tokens exceed %ld tokens of data",
                                 g->train_seqs, g->test_seqs, len, (long)SWEEP_DATA_TOKENS_MAX);
    }
    /* the naming texts must hold the grid whole */
    char big[4 * SWEEP_TEXT_BYTES];
    sweep_grid_text(g, big, sizeof big);
    if (strlen(big) >= SWEEP_TEXT_BYTES)
        return qkv_error_set(err, QKV_ERR_RANGE,
                             "the grid's description is longer than %d bytes: fewer variants",
                             SWEEP_TEXT_BYTES - 1);
    /* one column per variant: two spellings of one are refused */
    for (int a = 0; a < g->n_vars; a++)
        for (int b = 0; b < a; b++) {
            study_variant va, vb;
            qkv_error e2;
            if (study_variant_parse(g->vars[a], g->heads[0], &va, &e2) == QKV_OK &&
                study_variant_parse(g->vars[b], g->heads[0], &vb, &e2) == QKV_OK &&
                strcmp(va.label, vb.label) == 0)
                return qkv_error_set(err, QKV_ERR_INVALID, "variants '%s' and '%s' are the same",
                                     g->vars[b], g->vars[a]);
        }
    /* every combination once, seeds aside */
    const long n = sweep_count(g) / g->seeds;
    for (long j = 0; j < n; j++) {
        sweep_run r;
        sweep_run_at(g, j * g->seeds, &r);
        if (r.d % r.heads != 0)
            return qkv_error_set(err, QKV_ERR_INVALID, "d %d is not divisible by %d heads", r.d,
                                 r.heads);
        study_variant v;
        qkv_error e2;
        if (sweep_variant(g, &r, &v, &e2) != QKV_OK)
            return qkv_error_set(err, QKV_ERR_INVALID, "with %d heads: %s", r.heads, e2.msg);
        task t;
        qkv_status st = task_parse(task_kind_name(g->tasks[r.task]), r.len, &t, err);
        if (st != QKV_OK)
            return st;
        const study_settings s = settings_of(g, &r);
        rt_config c = study_config(&s, &t, &v);
        task_free(&t);
        if ((st = rt_config_check(&c, err)) != QKV_OK)
            return st;
    }
    return QKV_OK;
}

/* "a,b,c" of n integers into buf at *at. */
static void put_ints(char *buf, size_t n, size_t *at, const char *key, const int *v, int count)
{
    *at += (size_t)snprintf(buf + *at, *at < n ? n - *at : 0, "%s=", key);
    for (int i = 0; i < count; i++)
        *at += (size_t)snprintf(buf + *at, *at < n ? n - *at : 0, "%s%d", i ? "," : "", v[i]);
    *at += (size_t)snprintf(buf + *at, *at < n ? n - *at : 0, ";");
}

void sweep_grid_text(const sweep_grid *g, char *buf, size_t n)
{
    size_t at = (size_t)snprintf(buf, n, "tasks=");
    for (int i = 0; i < g->n_tasks; i++)
        at += (size_t)snprintf(buf + at, at < n ? n - at : 0, "%s%s", i ? "," : "",
                               task_kind_name(g->tasks[i]));
    at += (size_t)snprintf(buf + at, at < n ? n - at : 0, ";variants=");
    for (int i = 0; i < g->n_vars; i++)
        at += (size_t)snprintf(buf + at, at < n ? n - at : 0, "%s%s", i ? "," : "", g->vars[i]);
    at += (size_t)snprintf(buf + at, at < n ? n - at : 0, ";");
    put_ints(buf, n, &at, "d", g->d, g->n_d);
    put_ints(buf, n, &at, "layers", g->layers, g->n_layers);
    put_ints(buf, n, &at, "heads", g->heads, g->n_heads);
    put_ints(buf, n, &at, "len", g->lens, g->n_lens);
    snprintf(buf + at, at < n ? n - at : 0, "seeds=%d", g->seeds);
}

void sweep_regime_text(const sweep_grid *g, char *buf, size_t n)
{
    snprintf(buf, n, "train=%d;test=%d;epochs=%d;batch=%d;lr=%g;clip=%g;pos2d=%s", g->train_seqs,
             g->test_seqs, g->epochs, g->batch, g->lr, g->clip, rt_pos2d_form_word(g->pos2d_form));
}

/* One key=value pair of a naming text into the grid. */
static qkv_status set_pair(sweep_grid *g, const char *key, const char *val, qkv_error *err)
{
    static const char *const axes[] = {"tasks", "variants", "d", "layers", "heads", "len"};
    for (size_t i = 0; i < sizeof axes / sizeof *axes; i++)
        if (strcmp(key, axes[i]) == 0)
            return sweep_grid_set(g, key, val, err);
    static const struct {
        const char *key;
        size_t off;
        int hi; /* the command line's bounds */
    } ints[] = {{"seeds", offsetof(sweep_grid, seeds), SWEEP_SEEDS_MAX},
                {"train", offsetof(sweep_grid, train_seqs), SWEEP_TRAIN_MAX},
                {"test", offsetof(sweep_grid, test_seqs), SWEEP_TEST_MAX},
                {"epochs", offsetof(sweep_grid, epochs), SWEEP_EPOCHS_MAX},
                {"batch", offsetof(sweep_grid, batch), SWEEP_BATCH_MAX}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        if (strcmp(key, ints[i].key) == 0)
            return parse_int(key, val, 1, ints[i].hi, (int *)((char *)g + ints[i].off), err);
    if (strcmp(key, "lr") == 0 || strcmp(key, "clip") == 0) {
        char *end;
        const double v = strtod(val, &end);
        if (end == val || *end || !isfinite(v))
            return qkv_error_set(err, QKV_ERR_INVALID, "%s '%s' is not a number", key, val);
        *(key[0] == 'l' ? &g->lr : &g->clip) = v;
        return QKV_OK;
    }
    if (strcmp(key, "pos2d") == 0)
        return rt_pos2d_form_parse(val, &g->pos2d_form) == QKV_OK
                   ? QKV_OK
                   : qkv_error_set(err, QKV_ERR_INVALID, "pos2d '%s' is unknown", val);
    return qkv_error_set(err, QKV_ERR_INVALID, "unknown key '%s'", key);
}

qkv_status sweep_grid_from_text(const char *grid, const char *regime, sweep_grid *g, qkv_error *err)
{
    memset(g, 0, sizeof *g);
    char buf[2 * SWEEP_TEXT_BYTES + 2];
    if (strlen(grid) + strlen(regime) + 2 > sizeof buf)
        return qkv_error_set(err, QKV_ERR_INVALID, "the sweep's description is too long");
    const size_t ng = strlen(grid);
    memcpy(buf, grid, ng);
    buf[ng] = ';';
    memcpy(buf + ng + 1, regime, strlen(regime) + 1);
    char *save = NULL;
    for (char *pair = strtok_r(buf, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(pair, '=');
        if (!eq)
            return qkv_error_set(err, QKV_ERR_INVALID, "'%s' is not key=value", pair);
        *eq = '\0';
        qkv_status st = set_pair(g, pair, eq + 1, err);
        if (st != QKV_OK)
            return st;
    }
    /* complete and canonical: the texts it writes back are the texts read */
    char g2[SWEEP_TEXT_BYTES], r2[SWEEP_TEXT_BYTES];
    sweep_grid_text(g, g2, sizeof g2);
    sweep_regime_text(g, r2, sizeof r2);
    if (strcmp(g2, grid) != 0 || strcmp(r2, regime) != 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "the sweep's description is incomplete");
    return sweep_grid_check(g, err);
}

long sweep_count(const sweep_grid *g)
{
    return (long)g->n_tasks * g->n_vars * g->n_d * g->n_layers * g->n_heads * g->n_lens * g->seeds;
}

void sweep_run_at(const sweep_grid *g, long j, sweep_run *r)
{
    r->seed = (int)(j % g->seeds);
    j /= g->seeds;
    r->var = (int)(j % g->n_vars);
    j /= g->n_vars;
    r->task = (int)(j % g->n_tasks);
    j /= g->n_tasks;
    r->heads = g->heads[j % g->n_heads];
    j /= g->n_heads;
    r->layers = g->layers[j % g->n_layers];
    j /= g->n_layers;
    r->d = g->d[j % g->n_d];
    j /= g->n_d;
    r->len = g->lens[j % g->n_lens];
}

double sweep_step_flops(const sweep_grid *g, const sweep_run *r)
{
    const double d = r->d, n = r->len, L = r->layers;
    const double per_token = 6.0 * (12.0 * d * d * L + 10.0 * d);
    const double attn = 12.0 * L * n * n * d;
    return g->batch * (per_token * n + attn);
}

double sweep_run_step_equivalents(const sweep_grid *g)
{
    return (double)g->epochs * (g->train_seqs / g->batch) + g->test_seqs / (3.0 * g->batch);
}

double sweep_run_flops(const sweep_grid *g, const sweep_run *r)
{
    return sweep_run_step_equivalents(g) * sweep_step_flops(g, r);
}

/* The test set of run r, in batches of g->batch; the last batch is padded
 * with ignored targets. Accuracy in percent and loss in nats per token. */
static qkv_status evaluate(const sweep_grid *g, const rt_model *m, rt_trainer *tr, const int *tin,
                           const int *ttg, int len, int *in, int *tg, sweep_outcome *o,
                           qkv_error *err)
{
    double lsum = 0.0;
    long ok = 0, cnt = 0;
    for (int b0 = 0; b0 < g->test_seqs; b0 += g->batch) {
        for (int b = 0; b < g->batch; b++) {
            const int src = b0 + b < g->test_seqs ? b0 + b : 0;
            memcpy(in + (size_t)b * len, tin + (size_t)src * len, (size_t)len * sizeof(int));
            for (int i = 0; i < len; i++)
                tg[(size_t)b * len + i] = b0 + b < g->test_seqs ? ttg[(size_t)src * len + i] : -1;
        }
        double loss;
        long c1, n1;
        qkv_status st = rt_train_eval(m, tr, in, tg, &loss, &c1, &n1, err);
        if (st != QKV_OK)
            return st;
        lsum += loss * (double)n1;
        ok += c1;
        cnt += n1;
    }
    o->accuracy = 100.0 * (double)ok / (double)cnt;
    o->eval_loss = lsum / (double)cnt;
    return QKV_OK;
}

/* Train for g->epochs over the fixed training set (tin, ttg) in a seeded
 * shuffled order. */
static qkv_status train(const sweep_grid *g, const sweep_run *r, rt_model *m, rt_trainer *tr,
                        const int *tin, const int *ttg, int *in, int *tg, sweep_outcome *o,
                        qkv_error *err)
{
    const int len = r->len, per_epoch = g->train_seqs / g->batch;
    const size_t bn = (size_t)g->batch * len;
    int *order = malloc((size_t)g->train_seqs * sizeof(int));
    if (!order)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->train_seqs; i++)
        order[i] = i;
    rt_rng shuffle = {0x5EED5EEDull + (uint64_t)r->seed};
    rt_optim opt = rt_optim_default();
    opt.lr = (float)g->lr;
    opt.clip = (float)g->clip;
    opt.weight_decay = 0.0f;
    opt.warmup = 0;
    opt.min_lr_frac = 0.0f;
    opt.steps = g->epochs * per_epoch;
    const int tail_from = opt.steps - (opt.steps / 10 > 0 ? opt.steps / 10 : 1);
    double tail = 0.0;
    qkv_status st = QKV_OK;
    for (int ep = 0; ep < g->epochs && st == QKV_OK; ep++) {
        for (int i = g->train_seqs - 1; i > 0; i--) { /* Fisher–Yates */
            const int k = (int)(rt_rng_next(&shuffle) % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[k];
            order[k] = t;
        }
        for (int b = 0; b < per_epoch && st == QKV_OK; b++) {
            for (int s = 0; s < g->batch; s++) {
                const size_t src = (size_t)order[b * g->batch + s] * len;
                memcpy(in + (size_t)s * len, tin + src, (size_t)len * sizeof(int));
                memcpy(tg + (size_t)s * len, ttg + src, (size_t)len * sizeof(int));
            }
            double loss;
            long correct;
            if ((st = rt_train_grad(m, tr, in, tg, &loss, &correct, err)) != QKV_OK)
                break;
            const int step = ep * per_epoch + b;
            if (o->steps_to_99 == 0 && (double)correct >= 0.99 * (double)bn)
                o->steps_to_99 = step + 1;
            if (step >= tail_from)
                tail += loss;
            rt_optim_step(m, tr, &opt);
        }
    }
    o->steps = opt.steps;
    o->train_loss_final = tail / (double)(opt.steps - tail_from);
    free(order);
    return st;
}

/* Run r's task (the caller frees it with task_free) and model configuration. */
static qkv_status run_setup(const sweep_grid *g, const sweep_run *r, task *t, rt_config *c,
                            qkv_error *err)
{
    study_variant v;
    qkv_status st = sweep_variant(g, r, &v, err);
    if (st != QKV_OK)
        return st;
    if ((st = task_parse(task_kind_name(g->tasks[r->task]), r->len, t, err)) != QKV_OK)
        return st;
    const study_settings s = settings_of(g, r);
    *c = study_config(&s, t, &v);
    return QKV_OK;
}

qkv_status sweep_train(const sweep_grid *g, const sweep_run *r, sweep_outcome *o, qkv_error *err)
{
    memset(o, 0, sizeof *o);
    const double t0 = qkv_now_s();
    task t;
    rt_config c;
    qkv_status st = run_setup(g, r, &t, &c, err);
    if (st != QKV_OK)
        return st;
    rt_model m;
    if ((st = rt_model_init(&m, &c, err)) != QKV_OK) {
        task_free(&t);
        return st;
    }
    rt_model_randomize(&m, 1000 + (uint64_t)r->seed);
    rt_trainer tr;
    if ((st = rt_trainer_init(&tr, &m, g->batch, r->len, err)) != QKV_OK) {
        rt_model_free(&m);
        task_free(&t);
        return st;
    }
    const size_t len = (size_t)r->len;
    int *tin = malloc((size_t)g->train_seqs * len * sizeof(int));
    int *ttg = malloc((size_t)g->train_seqs * len * sizeof(int));
    int *ein = malloc((size_t)g->test_seqs * len * sizeof(int));
    int *etg = malloc((size_t)g->test_seqs * len * sizeof(int));
    int *in = malloc((size_t)g->batch * len * sizeof(int));
    int *tg = malloc((size_t)g->batch * len * sizeof(int));
    if (!tin || !ttg || !ein || !etg || !in || !tg) {
        st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for the sweep's data sets");
        goto out;
    }
    /* the training set of a seed; one test set per task and length */
    rt_rng data = {7919 * (uint64_t)(r->seed + 1)}, test = {0xE7A1};
    task_batch(&t, &data, g->train_seqs, false, tin, ttg);
    task_batch(&t, &test, g->test_seqs, true, ein, etg);
    if ((st = train(g, r, &m, &tr, tin, ttg, in, tg, o, err)) != QKV_OK)
        goto out;
    if ((st = evaluate(g, &m, &tr, ein, etg, r->len, in, tg, o, err)) != QKV_OK)
        goto out;
    o->params = m.n_params;
    o->kv_bytes_per_token = study_kv_bytes_per_token(&c);
    if (c.pos2d == RT_POS2D_CONV || c.pos2d == RT_POS2D_REL) {
        o->n_gain = c.n_layers;
        for (int l = 0; l < c.n_layers; l++)
            o->gain[l] = rt_pos2d_gain(&c, &m.layers[l]);
    }
    o->seconds = qkv_now_s() - t0;
out:
    free(tin);
    free(ttg);
    free(ein);
    free(etg);
    free(in);
    free(tg);
    rt_trainer_free(&tr);
    rt_model_free(&m);
    task_free(&t);
    return st;
}

qkv_status sweep_step_seconds(const sweep_grid *g, const sweep_run *r, double *seconds,
                              qkv_error *err)
{
    task t;
    rt_config c;
    qkv_status st = run_setup(g, r, &t, &c, err);
    if (st != QKV_OK)
        return st;
    rt_model m;
    rt_trainer tr;
    memset(&tr, 0, sizeof tr);
    const size_t n = (size_t)g->batch * r->len;
    int *in = malloc(n * sizeof(int)), *tg = malloc(n * sizeof(int));
    if ((st = rt_model_init(&m, &c, err)) != QKV_OK) {
        free(in);
        free(tg);
        task_free(&t);
        return st;
    }
    if (!in || !tg)
        st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    if (st == QKV_OK)
        st = rt_trainer_init(&tr, &m, g->batch, r->len, err);
    if (st == QKV_OK) {
        rt_model_randomize(&m, 1000);
        rt_rng data = {1};
        task_batch(&t, &data, g->batch, false, in, tg);
        double loss, t0 = 0.0;
        for (int k = 0; k < 4 && st == QKV_OK; k++) {
            if (k == 1)
                t0 = qkv_now_s();
            st = rt_train_grad(&m, &tr, in, tg, &loss, NULL, err);
            rt_optim o = rt_optim_default();
            if (st == QKV_OK)
                rt_optim_step(&m, &tr, &o);
        }
        *seconds = (qkv_now_s() - t0) / 3.0;
    }
    free(in);
    free(tg);
    rt_trainer_free(&tr);
    rt_model_free(&m);
    task_free(&t);
    return st;
}
