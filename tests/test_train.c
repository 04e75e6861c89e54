#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "analyzer/paper.h"
#include "probes/runtime/rt_forward.h"
#include "probes/runtime/rt_io.h"
#include "probes/train/study.h"
#include "probes/train/tasks.h"
#include "probes/train/rt_train.h"
#include "tests/tests.h"

static rt_model small_model(rt_family fam, variant_share share, int kv, bool causal,
                            rt_pos2d_form pos2d, uint64_t seed)
{
    rt_config c = rt_config_default(fam);
    c.n_layers = 2;
    c.d_model = 16;
    c.n_heads = 4;
    c.n_kv_heads = kv;
    c.head_dim = 4;
    c.d_ff = 24;
    c.vocab = 11;
    c.max_seq = 8;
    c.share = share;
    c.causal = causal;
    c.pos2d = pos2d;
    c.pos2d_scale = 2.0f;
    c.tied = fam == RT_GPT2;
    rt_model m;
    ck_assert_int_eq(rt_model_init(&m, &c, NULL), QKV_OK);
    rt_model_randomize(&m, seed);
    rt_rng r = {seed ^ 0x5555};
    /* weights of std 0.06, norms near 1 and nonzero biases: every path matters
     * and attention is far from uniform, without saturating softmaxes */
    for (size_t i = 0; i < m.n_params; i++)
        m.params[i] = m.params[i] * 3.0f + (float)(0.05 * rt_rng_normal(&r));
    return m;
}

/* Central differences of the loss along a unit direction u inside one
 * tensor, D(h) = (L(θ + hu) − L(θ − hu)) / 2h, against the analytic
 * directional derivative g·u. Richardson's (4 D(h/2) − D(h)) / 3 cancels the
 * h² truncation term. h = 2e-3: on these models the truncation error is then
 * below 1e-5 relative (it falls as h⁴: 4e-2 at h = 2e-2, 3e-4 at 5e-3, 5e-7
 * at 2e-3). The forward pass is float32 (loss summed in double), so D also
 * carries rounding noise of about 1e-7 of the activations: ~5e-7 in L over
 * 2h = 4e-3, ~1.3e-4 absolute. Bound: |D − g·u| <= 2e-3 |g|_T + 2e-4, where
 * |g|_T is the norm of the tensor's analytic gradient (the scale against
 * which truncation is relative). */
typedef struct {
    rt_model *m;
    rt_trainer *t;
    const int *inputs, *targets;
    const float *g; /* analytic gradient, n_params */
    const char *what;
    double worst; /* worst |D − g·u| as a fraction of its bound */
    int probes;   /* directions checked */
} gradcheck;

static void check_direction(gradcheck *gc, const rt_tensor *ts, const double *u, const char *kind)
{
    const float *gk = gc->g + (ts->data - gc->m->params);
    double norm = 0.0, want = 0.0;
    for (size_t i = 0; i < ts->elems; i++) {
        norm += (double)gk[i] * gk[i];
        want += (double)gk[i] * u[i];
    }
    norm = sqrt(norm);
    float *saved = malloc(ts->elems * sizeof(float));
    ck_assert_ptr_nonnull(saved);
    memcpy(saved, ts->data, ts->elems * sizeof(float));
    double dd[2];
    for (int e = 0; e < 2; e++) {
        const double h = e ? 1e-3 : 2e-3;
        double lp, lm;
        for (size_t i = 0; i < ts->elems; i++)
            ts->data[i] = saved[i] + (float)(h * u[i]);
        ck_assert_int_eq(
            rt_train_eval(gc->m, gc->t, gc->inputs, gc->targets, &lp, NULL, NULL, NULL), QKV_OK);
        for (size_t i = 0; i < ts->elems; i++)
            ts->data[i] = saved[i] - (float)(h * u[i]);
        ck_assert_int_eq(
            rt_train_eval(gc->m, gc->t, gc->inputs, gc->targets, &lm, NULL, NULL, NULL), QKV_OK);
        dd[e] = (lp - lm) / (2 * h);
    }
    memcpy(ts->data, saved, ts->elems * sizeof(float));
    free(saved);
    const double fd = (4 * dd[1] - dd[0]) / 3, bound = 2e-3 * norm + 2e-4;
    const double rel = fabs(fd - want) / bound;
    if (rel > gc->worst)
        gc->worst = rel;
    gc->probes++;
    ck_assert_msg(fabs(fd - want) <= bound,
                  "%s: tensor %s (layer %d), %s: finite difference %.8g, analytic %.8g "
                  "(tensor gradient norm %.4g, bound %.3g)",
                  gc->what, ts->name, ts->layer, kind, fd, want, norm, bound);
}

static void unit(double *u, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += u[i] * u[i];
    s = sqrt(s);
    for (size_t i = 0; s > 0 && i < n; i++)
        u[i] /= s;
}

/* Every tensor of the model's table, each probed along: the analytic
 * gradient's own direction (when it is not zero), three random directions
 * (which see a component missing from g, unlike g/|g|), four single entries
 * picked at random, and for the embeddings and classifier every entry of row
 * 0 and a random direction inside it (row 0 is the easiest row to drop by an
 * off-by-one). Zero-gradient tensors are checked too: their finite
 * differences must then be zero as well. */
static double check_model(rt_model *m, const char *what, int *probes)
{
    const int B = 2, T = 5;
    int inputs[10], targets[10];
    for (int i = 0; i < B * T; i++) {
        inputs[i] = (i * 7 + 3) % m->cfg.vocab;
        targets[i] = i == 4 ? -1 : (i * 5 + 1) % m->cfg.vocab; /* one ignored target */
    }
    /* token 0 and position 0 occur, so row 0 of both embeddings has a gradient */
    inputs[1] = 0;
    rt_trainer t;
    ck_assert_int_eq(rt_trainer_init(&t, m, B, T, NULL), QKV_OK);
    double loss;
    ck_assert_int_eq(rt_train_grad(m, &t, inputs, targets, &loss, NULL, NULL), QKV_OK);
    float *g = malloc(t.n_params * sizeof(float));
    ck_assert_ptr_nonnull(g);
    memcpy(g, t.grads, t.n_params * sizeof(float));
    /* the table covers the model: a tensor left out of it fails here */
    size_t total = 0;
    for (size_t k = 0; k < m->n_tensors; k++)
        total += m->tensors[k].elems;
    ck_assert_uint_eq(total, m->n_params);
    gradcheck gc = {m, &t, inputs, targets, g, what, 0.0, 0};
    rt_rng r = {0xC0FFEEu ^ m->n_params};
    for (size_t k = 0; k < m->n_tensors; k++) {
        const rt_tensor *ts = &m->tensors[k];
        const float *gk = g + (ts->data - m->params);
        double *u = calloc(ts->elems, sizeof(double));
        ck_assert_ptr_nonnull(u);
        bool nonzero = false;
        for (size_t i = 0; i < ts->elems; i++) {
            u[i] = gk[i];
            nonzero |= gk[i] != 0.0f;
        }
        if (nonzero) {
            unit(u, ts->elems);
            check_direction(&gc, ts, u, "gradient direction");
        }
        for (int d = 0; d < 3; d++) {
            for (size_t i = 0; i < ts->elems; i++)
                u[i] = rt_rng_normal(&r);
            unit(u, ts->elems);
            check_direction(&gc, ts, u, "random direction");
        }
        char kind[64];
        for (int d = 0; d < 4; d++) {
            memset(u, 0, ts->elems * sizeof(double));
            const size_t i = (size_t)(rt_rng_uniform(&r) * (double)ts->elems);
            u[i] = 1.0;
            snprintf(kind, sizeof kind, "entry %zu", i);
            check_direction(&gc, ts, u, kind);
        }
        if (ts->rows > 1 && (!strcmp(ts->name, "tok_emb") || !strcmp(ts->name, "pos_emb") ||
                             !strcmp(ts->name, "wcls"))) {
            for (size_t j = 0; j < ts->cols; j++) {
                memset(u, 0, ts->elems * sizeof(double));
                u[j] = 1.0;
                snprintf(kind, sizeof kind, "row 0, entry %zu", j);
                check_direction(&gc, ts, u, kind);
            }
            memset(u, 0, ts->elems * sizeof(double));
            for (size_t j = 0; j < ts->cols; j++)
                u[j] = rt_rng_normal(&r);
            unit(u, ts->cols);
            check_direction(&gc, ts, u, "random direction in row 0");
        }
        free(u);
    }
    free(g);
    rt_trainer_free(&t);
    *probes += gc.probes;
    return gc.worst;
}

START_TEST(gradient_check_every_variant)
{
    const rt_family fams[] = {RT_GPT2, RT_LLAMA};
    double worst = 0.0;
    int checked = 0, probes = 0;
    for (int f = 0; f < 2; f++)
        for (int s = 0; s < SHARE_COUNT; s++)
            for (int kvi = 0; kvi < 3; kvi++) {
                const int kv = (int[]){4, 2, 1}[kvi];
                if ((s == SHARE_QK || s == SHARE_ALL) && kv != 4)
                    continue;
                for (int causal = 0; causal < 2; causal++)
                    for (int p2 = 0; p2 < RT_POS2D_FORM_COUNT; p2++) {
                        /* every form of the + term: the learned ones put
                         * pos2d_w and pos2d_b in the tensor table, so the
                         * walk below checks their gradients too */
                        rt_model m = small_model(fams[f], (variant_share)s, kv, causal,
                                                 (rt_pos2d_form)p2, 100 + s);
                        size_t learned = 0;
                        for (size_t k = 0; k < m.n_tensors; k++)
                            learned += !strcmp(m.tensors[k].name, "pos2d_w") ||
                                       !strcmp(m.tensors[k].name, "pos2d_b");
                        ck_assert_uint_eq(learned, p2 == RT_POS2D_CONV || p2 == RT_POS2D_REL
                                                       ? 2 * (size_t)m.cfg.n_layers
                                                       : 0);
                        char what[96];
                        snprintf(what, sizeof what, "%s %s KVH %d %s +2D form %d",
                                 f ? "llama" : "gpt2", variant_share_name((variant_share)s), kv,
                                 causal ? "causal" : "bidirectional", p2);
                        double w = check_model(&m, what, &probes);
                        if (w > worst)
                            worst = w;
                        checked++;
                        rt_model_free(&m);
                    }
            }
    ck_assert_int_eq(checked, 2 * (2 * 3 + 2) * 2 * RT_POS2D_FORM_COUNT);
    fprintf(stderr,
            "gradient check: %d configurations, %d directions, worst error %.2f of "
            "its bound\n",
            checked, probes, worst);
}
END_TEST

/* The training forward pass computes the same logits as inference. */
START_TEST(train_loss_matches_inference)
{
    rt_model m = small_model(RT_LLAMA, SHARE_KV, 2, true, false, 3);
    int inputs[5] = {1, 2, 3, 4, 5}, targets[5] = {2, 3, 4, 5, 6};
    float logits[5 * 11];
    ck_assert_int_eq(rt_forward(&m, inputs, 1, 5, logits, NULL, NULL), QKV_OK);
    double want = 0.0;
    for (int i = 0; i < 5; i++) {
        double mx = logits[i * 11], sum = 0.0;
        for (int v = 1; v < 11; v++)
            mx = fmax(mx, logits[i * 11 + v]);
        for (int v = 0; v < 11; v++)
            sum += exp(logits[i * 11 + v] - mx);
        want -= logits[i * 11 + targets[i]] - mx - log(sum);
    }
    want /= 5;
    rt_trainer t;
    ck_assert_int_eq(rt_trainer_init(&t, &m, 1, 5, NULL), QKV_OK);
    double loss;
    long counted;
    ck_assert_int_eq(rt_train_eval(&m, &t, inputs, targets, &loss, NULL, &counted, NULL), QKV_OK);
    ck_assert_int_eq(counted, 5);
    ck_assert_double_eq_tol(loss, want, 1e-5);
    rt_trainer_free(&t);
    rt_model_free(&m);
}
END_TEST

/* Same seed, same data: bit-identical weights after training. Training
 * lowers the loss. */
START_TEST(training_is_deterministic_and_learns)
{
    float *w[2];
    double first = 0.0, last = 0.0;
    for (int run = 0; run < 2; run++) {
        rt_model m = small_model(RT_GPT2, SHARE_KV, 2, false, false, 9);
        rt_trainer t;
        ck_assert_int_eq(rt_trainer_init(&t, &m, 4, 6, NULL), QKV_OK);
        rt_optim o = rt_optim_default();
        o.steps = 60;
        o.warmup = 5;
        o.lr = 3e-3f;
        rt_rng r = {42};
        for (int s = 0; s < o.steps; s++) {
            int in[24], tg[24];
            for (int i = 0; i < 24; i++) {
                in[i] = (int)(rt_rng_next(&r) % 10);
                tg[i] = 9 - in[i]; /* SUB */
            }
            double loss;
            ck_assert_int_eq(rt_train_grad(&m, &t, in, tg, &loss, NULL, NULL), QKV_OK);
            if (s == 0)
                first = loss;
            last = loss;
            rt_optim_step(&m, &t, &o);
        }
        w[run] = malloc(m.n_params * sizeof(float));
        memcpy(w[run], m.params, m.n_params * sizeof(float));
        if (run == 1)
            ck_assert_int_eq(memcmp(w[0], w[1], m.n_params * sizeof(float)), 0);
        rt_trainer_free(&t);
        rt_model_free(&m);
    }
    ck_assert_double_lt(last, 0.5 * first);
    free(w[0]);
    free(w[1]);
}
END_TEST

START_TEST(schedule_and_clipping)
{
    rt_optim o = rt_optim_default();
    o.lr = 1.0f;
    o.warmup = 10;
    o.steps = 110;
    o.min_lr_frac = 0.1f;
    ck_assert_double_eq_tol(rt_optim_lr(&o, 0), 0.1, 1e-6);
    ck_assert_double_eq_tol(rt_optim_lr(&o, 9), 1.0, 1e-6);
    ck_assert_double_eq_tol(rt_optim_lr(&o, 60), 0.55, 1e-6); /* halfway down the cosine */
    ck_assert_double_eq_tol(rt_optim_lr(&o, 110), 0.1, 1e-6);
    ck_assert_double_eq_tol(rt_optim_lr(&o, 500), 0.1, 1e-6);
    /* clipping: a step with gradient norm 10 and clip 1 moves like norm 1 */
    rt_model m = small_model(RT_GPT2, SHARE_QKV, 4, true, false, 1);
    rt_trainer t;
    ck_assert_int_eq(rt_trainer_init(&t, &m, 1, 4, NULL), QKV_OK);
    for (size_t i = 0; i < t.n_params; i++)
        t.grads[i] = 0.0f;
    t.grads[0] = 10.0f;
    o = rt_optim_default();
    o.weight_decay = 0.0f;
    o.warmup = 0;
    const float before = m.params[0];
    ck_assert_double_eq_tol(rt_optim_step(&m, &t, &o), 10.0, 1e-9);
    /* Adam's first step moves by lr whatever the scale; the clipped moment is 1 */
    ck_assert_double_eq_tol(t.m[0], 0.1, 1e-6);
    ck_assert_double_eq_tol(before - m.params[0], o.lr, 1e-6);
    rt_trainer_free(&t);
    rt_model_free(&m);
}
END_TEST

/* Saved models load back bit-identical and give the same logits. */
START_TEST(model_save_and_load)
{
    rt_model m = small_model(RT_LLAMA, SHARE_KV, 2, true, true, 21);
    char path[512];
    int fd = test_mkstemp(path, sizeof path, "model");
    FILE *f = fdopen(fd, "wb");
    ck_assert_int_eq(rt_model_write(f, &m, NULL), QKV_OK);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert(rt_model_is_qkvplan(path));
    rt_model b;
    qkv_error err;
    ck_assert_msg(rt_model_load(path, &b, &err) == QKV_OK, "%s", err.msg);
    ck_assert_uint_eq(b.n_params, m.n_params);
    ck_assert_int_eq(memcmp(b.params, m.params, m.n_params * sizeof(float)), 0);
    ck_assert_int_eq(b.cfg.share, SHARE_KV);
    ck_assert(b.cfg.pos2d);
    ck_assert_ptr_eq(b.layers[0].wv, b.layers[0].wk);
    int in[5] = {1, 2, 3, 4, 5};
    float la[55], lb[55];
    ck_assert_int_eq(rt_forward(&m, in, 1, 5, la, NULL, NULL), QKV_OK);
    ck_assert_int_eq(rt_forward(&b, in, 1, 5, lb, NULL, NULL), QKV_OK);
    ck_assert_int_eq(memcmp(la, lb, sizeof la), 0);
    rt_model_free(&b);
    /* a truncated file is rejected with both sizes named */
    ck_assert_int_eq(truncate(path, 200), 0);
    ck_assert_int_eq(rt_model_load(path, &b, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "200 bytes"));
    unlink(path);
    rt_model_free(&m);
}
END_TEST

START_TEST(tasks_by_definition)
{
    task t;
    qkv_error err;
    int in[8], tg[8];
    rt_rng r = {5};
    static const char *const names[] = {"reverse", "sort", "sub", "swap", "copy"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        ck_assert_int_eq(task_parse(names[k], 8, &t, &err), QKV_OK);
        r.state = 5;
        task_batch(&t, &r, 1, false, in, tg);
        for (int i = 0; i < 8; i++) {
            ck_assert(in[i] >= 0 && in[i] <= 9);
            int want;
            switch (t.kind) {
            case TASK_REVERSE:
                want = in[7 - i];
                break;
            case TASK_SUB:
                want = 9 - in[i];
                break;
            case TASK_SWAP:
                want = in[(i + 4) % 8];
                break;
            case TASK_COPY:
                want = in[i];
                break;
            default:
                want = tg[i];
                break;
            }
            ck_assert_int_eq(tg[i], want);
            if (t.kind == TASK_SORT && i > 0)
                ck_assert_int_le(tg[i - 1], tg[i]);
        }
        task_free(&t);
    }
    ck_assert_int_eq(task_parse("swap", 7, &t, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "even"));
    ck_assert_int_eq(task_parse("rotate", 8, &t, &err), QKV_ERR_INVALID);
    ck_assert_int_eq(task_parse("copy", 0, &t, &err), QKV_ERR_RANGE);
    ck_assert_int_eq(task_parse("text:/nonexistent/file.txt", 8, &t, &err), QKV_ERR_IO);
    /* text: next-byte targets, evaluation windows from the last 10% */
    char path[512];
    int fd = test_mkstemp(path, sizeof path, "text");
    char buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (char)('a' + i % 26);
    ck_assert_int_eq(write(fd, buf, sizeof buf), 1000);
    close(fd);
    char spec[600];
    snprintf(spec, sizeof spec, "text:%s", path);
    ck_assert_int_eq(task_parse(spec, 8, &t, &err), QKV_OK);
    ck_assert_int_eq(task_vocab(&t), 256);
    ck_assert(task_causal(&t));
    for (int e = 0; e < 2; e++) {
        task_batch(&t, &r, 1, e, in, tg);
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(tg[i], 'a' + (in[i] - 'a' + 1) % 26);
    }
    task_free(&t);
    unlink(path);
}
END_TEST

START_TEST(study_variant_names)
{
    study_variant v;
    qkv_error err;
    ck_assert_int_eq(study_variant_parse("(Q=K=V)+", 4, &v, &err), QKV_OK);
    ck_assert(v.pos2d);
    ck_assert_int_eq(v.share, SHARE_ALL);
    ck_assert_str_eq(v.label, "(Q=K=V)+");
    ck_assert_int_eq(study_variant_parse("Q-K=V+MQA", 4, &v, &err), QKV_OK);
    ck_assert_int_eq(v.kv_heads, 1);
    ck_assert_str_eq(v.label, "Q-K=V+MQA");
    ck_assert_int_eq(study_variant_parse("kv+gqa-2", 4, &v, &err), QKV_OK);
    ck_assert_str_eq(v.label, "Q-K=V+GQA-2");
    ck_assert_int_eq(study_variant_parse("Q=K-V+", 4, &v, &err), QKV_OK);
    ck_assert(v.pos2d);
    ck_assert_str_eq(v.label, "(Q=K-V)+");
    ck_assert_int_eq(study_variant_parse("Q=K=V+MQA", 4, &v, &err), QKV_ERR_INVALID);
    ck_assert_int_eq(study_variant_parse("Q-K=V+GQA-3", 4, &v, &err), QKV_ERR_INVALID);
    ck_assert_int_eq(study_variant_parse("(QKV", 4, &v, &err), QKV_ERR_INVALID);
    /* task lengths and Table 1 (the paper's figures, as printed there) */
    task t;
    ck_assert_int_eq(study_task_parse("reverse@64", 16, &t, &err), QKV_OK);
    ck_assert_int_eq(t.len, 64);
    ck_assert_int_eq(t.kind, TASK_REVERSE);
    task_free(&t);
    ck_assert_int_eq(study_task_parse("swap", 12, &t, &err), QKV_OK);
    ck_assert_int_eq(t.len, 12);
    task_free(&t);
    ck_assert_int_eq(study_task_parse("swap@7", 16, &t, &err), QKV_ERR_INVALID);
    ck_assert_int_eq(study_task_parse("swap@x", 16, &t, &err), QKV_ERR_INVALID);
    double acc;
    ck_assert(paper_table1_accuracy(SHARE_ALL, false, "reverse", &acc));
    ck_assert_double_eq(acc, 0.514);
    ck_assert(paper_table1_accuracy(SHARE_ALL, true, "swap", &acc));
    ck_assert_double_eq(acc, 0.576);
    ck_assert(paper_table1_accuracy(SHARE_QK, true, "sort", &acc));
    ck_assert_double_eq(acc, 0.963);
    ck_assert(!paper_table1_accuracy(SHARE_KV, true, "sort", &acc)); /* no (Q-K=V)+ row */
    ck_assert(!paper_table1_accuracy(SHARE_QKV, false, "text:x", &acc));
}
END_TEST

/* A small study: results do not depend on the number of worker threads,
 * and the trained models are kept. */
START_TEST(study_is_reproducible_across_threads)
{
    task t;
    ck_assert_int_eq(task_parse("sort", 6, &t, NULL), QKV_OK);
    study_variant v[3];
    ck_assert_int_eq(study_variant_parse("QKV", 2, &v[0], NULL), QKV_OK);
    ck_assert_int_eq(study_variant_parse("Q=K=V", 2, &v[1], NULL), QKV_OK);
    ck_assert_int_eq(study_variant_parse("(Q=K=V)+", 2, &v[2], NULL), QKV_OK); /* learned 2D term */
    study_settings s = study_settings_default();
    s.d_model = 16;
    s.layers = 1;
    s.heads = 2;
    s.steps = 40;
    s.seeds = 2;
    s.batch = 8;
    s.eval_batches = 2;
    study_result r[2];
    for (int k = 0; k < 2; k++) {
        s.threads = k + 1;
        qkv_error err;
        ck_assert_msg(study_run(&t, 1, v, 3, &s, NULL, NULL, &r[k], &err) == QKV_OK, "%s", err.msg);
    }
    for (int c = 0; c < 3; c++) {
        ck_assert_double_eq(r[0].cells[c].metric[0], r[1].cells[c].metric[0]);
        ck_assert_double_eq(r[0].cells[c].metric[1], r[1].cells[c].metric[1]);
        ck_assert_int_eq(memcmp(r[0].cells[c].model.params, r[1].cells[c].model.params,
                                r[0].cells[c].model.n_params * sizeof(float)),
                         0);
        ck_assert(r[0].cells[c].metric_mean >= 0 && r[0].cells[c].metric_mean <= 100);
    }
    /* Q=K=V keeps half the KV cache of QKV, and its probe sees tied projections */
    ck_assert_uint_eq(r[0].cells[1].kv_bytes_per_token * 2, r[0].cells[0].kv_bytes_per_token);
    ck_assert_double_eq_tol(r[0].cells[1].kv_cos2, 1.0, 1e-9);
    ck_assert_double_eq_tol(r[0].cells[1].sym_w, 1.0, 1e-9);
    ck_assert(r[0].cells[0].has_delta);
    ck_assert_double_eq(r[0].cells[0].delta_vs_qkv, 0.0);
    study_result_free(&r[0]);
    study_result_free(&r[1]);
    task_free(&t);
}
END_TEST

Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, gradient_check_every_variant);
    tcase_add_test(tc, train_loss_matches_inference);
    tcase_add_test(tc, training_is_deterministic_and_learns);
    tcase_add_test(tc, schedule_and_clipping);
    tcase_add_test(tc, model_save_and_load);
    tcase_add_test(tc, tasks_by_definition);
    tcase_add_test(tc, study_variant_names);
    tcase_add_test(tc, study_is_reproducible_across_threads);
    suite_add_tcase(s, tc);
    return s;
}
