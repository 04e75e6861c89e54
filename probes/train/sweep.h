/* sweep.h — the paper's full Table 1 sweep (`qkvplan study --paper`) as a
 * list of independent runs that N machines can split and a stopped run can
 * resume.
 *
 * The grid: tasks x lengths x embedding x layers x heads x variants x seeds,
 * by default the paper's (5 x 3 x 3 x 2 x 2 x 6 x 3 = 3,240 runs). Run j of
 * the fixed order (length, embedding, layers, heads, task, variant, seed;
 * seed fastest, so the cheap runs come first) belongs to shard j mod N.
 *
 * The regime is the authors' reproduction: a fixed training set of
 * train_seqs sequences and test set of test_seqs (the training set drawn
 * from the seed, the test set the same for every run of a task and length),
 * `epochs` passes over the training set in a seeded shuffled order, batches
 * of `batch` (the last partial batch of an epoch is dropped), Adam at lr
 * with a cosine decay to 0 and no warm-up, gradient norm clipped at `clip`.
 * A run's result is its token accuracy on the whole test set.
 *
 * A sweep is named by two texts, its grid and its regime
 * ("tasks=reverse,...;variants=QKV,...;d=32,64,256;layers=2,4;heads=2,4;
 * len=16,64,128;seeds=3" and "train=10000;test=2000;epochs=2;batch=32;
 * lr=0.001;clip=5;pos2d=paper"). Every result line carries both, so a
 * resumed run and `study merge` refuse lines of another sweep.
 */
#ifndef QKV_SWEEP_H
#define QKV_SWEEP_H

#include <stdint.h>

#include "probes/train/study.h"

#define SWEEP_PAPER_TASKS "reverse,sort,sub,swap,copy"
#define SWEEP_PAPER_D "32,64,256"
#define SWEEP_PAPER_LAYERS "2,4"
#define SWEEP_PAPER_HEADS "2,4"
#define SWEEP_PAPER_LENS "16,64,128"
#define SWEEP_PAPER_SEEDS 3
#define SWEEP_TRAIN_SEQS 10000
#define SWEEP_TEST_SEQS 2000
#define SWEEP_EPOCHS 2
#define SWEEP_BATCH 32
#define SWEEP_LR 0.001
#define SWEEP_CLIP 5

/* Bounds of a sweep, on the command line and in the texts read back. */
#define SWEEP_SEEDS_MAX 64
#define SWEEP_TRAIN_MAX 10000000
#define SWEEP_TEST_MAX 1000000
#define SWEEP_EPOCHS_MAX 1000
#define SWEEP_BATCH_MAX 4096
#define SWEEP_RUNS_MAX 1000000
#define SWEEP_STEPS_MAX 100000000
#define SWEEP_DATA_TOKENS_MAX (1L << 27) /* (train + test) x length: 1 GiB of token ids */

#define SWEEP_AXIS_MAX 8
#define SWEEP_VARS_MAX 16
#define SWEEP_LAYERS_MAX 16
#define SWEEP_TEXT_BYTES 512

typedef struct {
    task_kind tasks[SWEEP_AXIS_MAX];
    int n_tasks;
    char vars[SWEEP_VARS_MAX][32]; /* variant specs as given; parsed per head count */
    int n_vars;
    int d[SWEEP_AXIS_MAX], n_d;
    int layers[SWEEP_AXIS_MAX], n_layers;
    int heads[SWEEP_AXIS_MAX], n_heads;
    int lens[SWEEP_AXIS_MAX], n_lens;
    int seeds;
    int train_seqs, test_seqs, epochs, batch;
    double lr, clip;
    rt_pos2d_form pos2d_form;
} sweep_grid;

/* The paper's grid and the authors' regime. */
sweep_grid sweep_grid_paper(void);

/* Set one axis from a comma list: "tasks", "variants", "d", "layers",
 * "heads", "len". QKV_ERR_INVALID names the axis, the item and why. */
qkv_status sweep_grid_set(sweep_grid *g, const char *axis, const char *list, qkv_error *err);

/* Check every run can be built: each variant parses for each head count,
 * each embedding divides by each head count, swap lengths are even, at
 * least one batch per epoch. */
qkv_status sweep_grid_check(const sweep_grid *g, qkv_error *err);

/* The naming texts (see above); buffers of SWEEP_TEXT_BYTES. */
void sweep_grid_text(const sweep_grid *g, char *buf, size_t n);
void sweep_regime_text(const sweep_grid *g, char *buf, size_t n);

/* Rebuild a grid from its two texts (a result line's); QKV_ERR_INVALID when
 * they are not texts sweep_grid_text and sweep_regime_text write. */
qkv_status sweep_grid_from_text(const char *grid, const char *regime, sweep_grid *g,
                                qkv_error *err);

typedef struct {
    int task, var;             /* indices into the grid's tasks and vars */
    int d, layers, heads, len; /* values */
    int seed;                  /* 0-based */
} sweep_run;

long sweep_count(const sweep_grid *g);
void sweep_run_at(const sweep_grid *g, long j, sweep_run *r);

/* The variant of run r as study_variant_parse reads it for r's heads. */
qkv_status sweep_variant(const sweep_grid *g, const sweep_run *r, study_variant *v, qkv_error *err);

/* Floating-point operations to train and evaluate run r, estimated:
 * 6 x matrix parameters x tokens for the projections and the classifier,
 * and 12 x layers x len^2 x d per sequence for the attention products
 * (forward and backward); the ETA scales it by a measured rate. */
double sweep_run_flops(const sweep_grid *g, const sweep_run *r);

/* The same for one training step of run r. */
double sweep_step_flops(const sweep_grid *g, const sweep_run *r);

/* A run's training steps plus its evaluation counted in training steps (a
 * forward pass is a third of one): run FLOP = this x step FLOP. */
double sweep_run_step_equivalents(const sweep_grid *g);

/* Seconds one training step of run r takes here: the mean of 3 timed steps
 * after an untimed one (model set-up excluded). */
qkv_status sweep_step_seconds(const sweep_grid *g, const sweep_run *r, double *seconds,
                              qkv_error *err);

typedef struct {
    double accuracy;         /* percent of test tokens right */
    double eval_loss;        /* nats per test token */
    double train_loss_final; /* mean over the last epoch's final 10% of steps */
    int steps;               /* optimiser steps taken */
    int steps_to_99;         /* first step whose batch was >= 99% right, 0: never */
    uint64_t params, kv_bytes_per_token;
    int n_gain;                    /* layers with a learned + term, else 0 */
    double gain[SWEEP_LAYERS_MAX]; /* learned sum of w per layer */
    double seconds;
} sweep_outcome;

/* Train and evaluate one run under the grid's regime (deterministic: the
 * same run gives the same outcome, seconds aside). */
qkv_status sweep_train(const sweep_grid *g, const sweep_run *r, sweep_outcome *o, qkv_error *err);

/* A sweep's results gathered from result lines (`qkvplan study merge`):
 * per task and variant over every length (the paper's Table 1 averages the
 * whole sweep) and per task, length and variant. Cells average the runs
 * present; runs_* say how many that is. */
typedef struct {
    sweep_grid grid;
    long total, present, duplicates;
    double *acc, *eval_loss;        /* (total) by run index; acc NaN while missing */
    task tasks_all[SWEEP_AXIS_MAX]; /* len 0: every length */
    task tasks_len[SWEEP_AXIS_MAX * SWEEP_AXIS_MAX];
    study_variant vars[SWEEP_VARS_MAX]; /* parsed for the grid's first head count */
    int *runs_all, *runs_len;           /* runs present per cell of all and by_len */
    study_result all, by_len;           /* the paper's comparison and checks: study_compare */
} sweep_merged;

qkv_status sweep_merged_init(sweep_merged *m, const sweep_grid *g, qkv_error *err);

/* Record run j's outcome; false when run j was recorded already (the first
 * one stays). */
bool sweep_merged_add(sweep_merged *m, long j, double accuracy, double eval_loss);

/* Means and spreads over the runs present, differences from QKV, and the
 * paper's Table 1 beside them. QKV_ERR_NOMEM when memory runs out. */
qkv_status sweep_merged_finish(sweep_merged *m, qkv_error *err);
void sweep_merged_free(sweep_merged *m);

#endif
