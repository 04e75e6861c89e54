/* study.h — train every attention variant on the same tasks and data and
 * measure them: the paper's comparison, at laptop scale.
 *
 * Each (task, variant, seed) job builds a GPT-2-style model (the paper's
 * block family; bidirectional for the synthetic tasks, causal for text),
 * initialised from the seed, and trains it with AdamW on batches drawn from
 * the same seeded stream for every variant. Evaluation uses one fixed set of
 * batches for all variants and seeds. Seed 0's trained model of every cell
 * is probed and kept. Jobs run on worker threads; every job is
 * deterministic, so results do not depend on the number of threads.
 */
#ifndef QKV_STUDY_H
#define QKV_STUDY_H

#include <stdint.h>

#include "probes/probe.h"
#include "probes/train/rt_train.h"
#include "probes/train/tasks.h"

typedef struct {
    char label[32];      /* "Q-K=V+MQA", "(Q=K=V)+" */
    variant_share share;
    int kv_heads;        /* 0: one per query head */
    bool pos2d;          /* the `+` variants */
} study_variant;

/* Parse a variant: a sharing (QKV, Q-K=V, Q=K-V, Q=K=V, aliases), optionally
 * wrapped as (…)+ or followed by + for the 2D positional term, optionally
 * followed by +MHA, +MQA or +GQA-N. n_heads validates the head count. */
qkv_status study_variant_parse(const char *s, int n_heads, study_variant *v, qkv_error *err);

/* The default study, defined once: study_settings_default() uses these and
 * the command line prints them in --help (STUDY_STR makes the text). */
#define STUDY_DEFAULT_TASKS "reverse,sort,swap,sub,copy"
#define STUDY_DEFAULT_VARIANTS "QKV,Q=K-V,(Q=K-V)+,Q-K=V,Q=K=V,(Q=K=V)+,Q-K=V+GQA-2,Q-K=V+MQA"
#define STUDY_DEFAULT_D_MODEL 48
#define STUDY_DEFAULT_LAYERS 2
#define STUDY_DEFAULT_HEADS 4
#define STUDY_DEFAULT_SEQ_LEN 16
#define STUDY_DEFAULT_BATCH 32
#define STUDY_DEFAULT_STEPS 300
#define STUDY_DEFAULT_SEEDS 3
#define STUDY_DEFAULT_THREADS 2
#define STUDY_DEFAULT_LR 0.003
#define STUDY_DEFAULT_WARMUP 20
#define STUDY_DEFAULT_POS2D_SCALE 1
#define STUDY_DEFAULT_EVAL_BATCHES 16
#define STUDY_STR_(x) #x
#define STUDY_STR(x) STUDY_STR_(x)

typedef struct {
    int d_model, layers, heads, d_ff; /* d_ff 0: 4 x d_model */
    int seq_len, batch, steps, seeds, eval_batches, threads;
    rt_pos2d_form pos2d_form; /* the + variants' term (rt_model.h) */
    float pos2d_scale;        /* RT_POS2D_RAMP only */
    rt_optim optim;
} study_settings;

study_settings study_settings_default(void);

typedef struct {
    int job, n_jobs;
    const char *task, *variant;
    int seed, step, steps;
    double loss;
    double elapsed_s, eta_s, tokens_per_s;
} study_progress;

typedef void (*study_progress_fn)(void *user, const study_progress *p);

typedef struct {
    double metric_mean, metric_sd;  /* accuracy % (synthetic) or eval loss nats/token (text) */
    double *metric;                 /* (seeds) */
    double train_loss_final;        /* mean over seeds */
    double *curve;                  /* (n_curve) mean train loss over seeds */
    uint64_t params;
    uint64_t kv_bytes_per_token;    /* f16 cache, all layers, planner's exact figure */
    double kv_cos2, qk_cos2, chance, sym_w, sym_scores, erank_k_frac; /* seed-0 probe means */
    bool has_delta;                 /* a plain QKV variant (all heads, no 2D term) was trained */
    double delta_vs_qkv;            /* metric_mean − that variant's, same task */
    rt_model model;                 /* seed 0, trained */
} study_cell;

typedef struct {
    study_settings settings;
    int n_tasks, n_vars;
    task *tasks;              /* borrowed from the caller */
    study_variant *vars;      /* borrowed */
    study_cell *cells;        /* (n_tasks, n_vars) */
    int n_curve;              /* points per loss curve */
    int *curve_steps;         /* (n_curve) */
    double seconds, tokens_per_s;
} study_result;

/* Run the study; progress may be NULL. Caller frees with study_result_free. */
qkv_status study_run(task *tasks, int n_tasks, study_variant *vars, int n_vars,
                     const study_settings *s, study_progress_fn progress, void *user,
                     study_result *out, qkv_error *err);

void study_result_free(study_result *r);

/* The model configuration a job of task t and variant v uses. */
rt_config study_config(const study_settings *s, const task *t, const study_variant *v);

#endif
