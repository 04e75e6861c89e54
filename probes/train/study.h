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
    char label[32]; /* "Q-K=V+MQA", "(Q=K=V)+" */
    variant_share share;
    int kv_heads; /* 0: one per query head */
    bool pos2d;   /* the `+` variants */
} study_variant;

/* Parse a variant: a sharing (QKV, Q-K=V, Q=K-V, Q=K=V, aliases), optionally
 * wrapped as (…)+ or followed by + for the 2D positional term, optionally
 * followed by +MHA, +MQA or +GQA-N. n_heads validates the head count. */
qkv_status study_variant_parse(const char *s, int n_heads, study_variant *v, qkv_error *err);

/* Parse a task as task_parse does, with an optional length: "reverse@64";
 * without one, default_len. Caller frees with task_free. */
qkv_status study_task_parse(const char *spec, int default_len, task *t, qkv_error *err);

/* The default study, defined once: study_settings_default() uses these and
 * the command line prints them in --help (STUDY_STR makes the text). */
/* The default is a subset of the paper's Table 1 sweep at one of its grid
 * points (embedding 64, 2 layers, 2 heads): the six Table 1 variants,
 * reverse and swap at lengths 16 and 64, sort, sub and copy at 16, with the
 * authors' optimiser (Adam 1e-3, cosine, clip 5) on fresh seeded batches. */
#define STUDY_DEFAULT_TASKS "reverse@16,reverse@64,swap@16,swap@64,sort@16,sub@16,copy@16"
#define STUDY_DEFAULT_VARIANTS "QKV,Q=K-V,(Q=K-V)+,Q-K=V,Q=K=V,(Q=K=V)+"
#define STUDY_DEFAULT_D_MODEL 64
#define STUDY_DEFAULT_LAYERS 2
#define STUDY_DEFAULT_HEADS 2
#define STUDY_DEFAULT_SEQ_LEN 16
#define STUDY_DEFAULT_BATCH 32
#define STUDY_DEFAULT_STEPS 150
#define STUDY_DEFAULT_SEEDS 3
#define STUDY_DEFAULT_THREADS 2
#define STUDY_DEFAULT_LR 0.001
#define STUDY_DEFAULT_WARMUP 10
#define STUDY_DEFAULT_CLIP 5
#define STUDY_DEFAULT_POS2D "paper"
#define STUDY_DEFAULT_POS2D_SCALE 1
#define STUDY_DEFAULT_EVAL_BATCHES 16
/* Evaluation sequences the trained models of seed 0 are probed on. */
#define STUDY_PROBE_SEQS 4
/* A measured difference of accuracy below this many points counts as no
 * difference when its sign is compared with the paper's (both sides). */
#define STUDY_SIGN_TOLERANCE_PCT 1.0
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

/* The KV cache of a runtime configuration, f16, all layers, per token, as
 * the planner computes it (kvplan_row_eval); 0 when it cannot plan it. The
 * synthetic and the LM study report it beside each variant. */
uint64_t study_kv_bytes_per_token(const rt_config *c);

typedef struct {
    int job, n_jobs;
    const char *task, *variant;
    int seed, step, steps;
    double loss;
    double elapsed_s, eta_s, tokens_per_s;
} study_progress;

typedef void (*study_progress_fn)(void *user, const study_progress *p);

typedef struct {
    double metric_mean, metric_sd; /* accuracy % (synthetic) or eval loss nats/token (text) */
    double *metric;                /* (seeds) */
    double train_loss_final;       /* mean over seeds */
    double *curve;                 /* (n_curve) mean train loss over seeds */
    uint64_t params;
    uint64_t kv_bytes_per_token; /* f16 cache, all layers, planner's exact figure */
    double kv_cos2, qk_cos2, chance, sym_w, sym_scores; /* seed-0 probe means */
    double erank_k_frac;                                /* K's effective rank over min(T, HD) */
    double cka_kv, cka_kv_rand;    /* K–V linear CKA, and with a random W_V (the baseline) */
    double kv_flat_cos;            /* cosine of flattened W_K, W_V (norm gain folded in) */
    bool has_delta;                /* a plain QKV variant (all heads, no 2D term) was trained */
    double delta_vs_qkv;           /* metric_mean − that variant's, same task */
    double eval_loss;              /* mean over seeds, nats/token on the evaluation set */
    double steps_to_99;            /* mean over the seeds that got there: first step whose
                                       training batch was >= 99% right (synthetic tasks) */
    int reached_99;                /* seeds that got there */
    double chance_pct;             /* accuracy of guessing uniformly: 100 / vocabulary */
    double *pos2d_gain;            /* (layers) learned Σw of the + term, mean over seeds;
                                       NULL without a learned term */
    bool has_paper;                /* Table 1 reports this sharing on this task */
    double paper_value;            /* its accuracy, percent (the measurement's scale) */
    bool has_paper_delta;          /* ... and the QKV row's, and QKV was trained here */
    double paper_delta;            /* paper_value − the paper's QKV, points */
    int sign_paper, sign_measured; /* −1, 0, +1 with STUDY_SIGN_TOLERANCE_PCT */
    rt_model model;                /* seed 0, trained */
} study_cell;

/* A qualitative finding of the paper, checked on the measurements. */
typedef struct {
    char what[160];  /* "Q=K=V below QKV on reverse (length 64)" */
    char detail[96]; /* "52.1 vs 99.8" */
    bool pass;
} study_check;

#define STUDY_CHECKS_MAX 128 /* 2 per task and length at most: a sweep of 8 x 8 */

typedef struct {
    study_settings settings;
    int n_tasks, n_vars;
    task *tasks;         /* borrowed from the caller */
    study_variant *vars; /* borrowed */
    study_cell *cells;   /* (n_tasks, n_vars) */
    int n_curve;         /* points per loss curve */
    int *curve_steps;    /* (n_curve) */
    double seconds, tokens_per_s;
    study_check checks[STUDY_CHECKS_MAX];
    int n_checks;
} study_result;

/* Run the study; progress may be NULL. Caller frees with study_result_free. */
qkv_status study_run(task *tasks, int n_tasks, study_variant *vars, int n_vars,
                     const study_settings *s, study_progress_fn progress, void *user,
                     study_result *out, qkv_error *err);

void study_result_free(study_result *r);

/* Set every cell's paper comparison (Table 1, analyzer/paper.h) and the
 * qualitative checks from the measured means (study_table1.c); study_run
 * calls it. */
void study_compare(study_result *r);

/* The model configuration a job of task t and variant v uses. */
rt_config study_config(const study_settings *s, const task *t, const study_variant *v);

#endif
