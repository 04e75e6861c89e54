/* lm_study.h — `qkvplan study --tasks lm`: the paper's language-model
 * comparison at laptop scale, with a known floor.
 *
 * The corpus is sampled from a teacher (lm_corpus.h; the bundled
 * stories260K). Students are GPT-2 style, as the paper's (pre-LayerNorm,
 * GELU, learned absolute positions, tied embeddings, biases), one per
 * attention variant. Every student of a seed starts from the same initial
 * weights where shapes agree (each tensor is drawn from its own stream,
 * keyed by seed, name and layer, so a missing W_V or fewer K heads do not
 * shift the others) and sees the same batches in the same order; AdamW with
 * linear warm-up and cosine decay. Evaluation: the mean cross-entropy over
 * every sampled token of the validation split (each validation sequence
 * cut into windows of the training context), against the teacher's own
 * cross-entropy on the same tokens with full context — the floor no student
 * can beat in expectation.
 *
 * Runs: every variant at the main context, and the context ablation (QKV
 * and Q-K=V at each ablation context; batch x context is kept constant so
 * every run sees the same number of tokens), x seeds. Run j of the fixed
 * order belongs to shard j mod N. Seed 0's student at the main context is
 * probed: per layer, K–V linear CKA and W_K/W_V subspace overlap, beside
 * the same figures of its initial weights and the chance level.
 */
#ifndef QKV_LM_STUDY_H
#define QKV_LM_STUDY_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/train/lm_corpus.h"
#include "probes/train/rt_train.h"
#include "probes/train/study.h"

/* The default LM study (about 10 minutes on two shared cores), defined once:
 * lm_settings_default() uses these and the command line prints them. GQA-2
 * of 8 heads is the paper's GQA-4 of 16: four query heads per KV head. */
#define LM_DEFAULT_VARIANTS "QKV,Q-K=V,Q=K-V,Q=K=V,QKV+GQA-2,QKV+MQA,Q-K=V+GQA-2,Q-K=V+MQA"
#define LM_DEFAULT_D_MODEL 64
#define LM_DEFAULT_LAYERS 2
#define LM_DEFAULT_HEADS 8
#define LM_DEFAULT_CTX 128
#define LM_DEFAULT_ABLATION "64,128,256"
#define LM_DEFAULT_BATCH 8
#define LM_DEFAULT_STEPS 500
#define LM_DEFAULT_SEEDS 2
#define LM_DEFAULT_LR 0.003
#define LM_DEFAULT_WARMUP 40
#define LM_DEFAULT_CORPUS_LEN 256
#define LM_DEFAULT_CORPUS_TRAIN 1024
#define LM_DEFAULT_CORPUS_VAL 128
#define LM_DEFAULT_CORPUS_SEED 1
#define LM_DEFAULT_TEACHER "examples/models/stories260K.bin"
/* --budget long: a 4-layer d 128 student, 8x the steps, 8x the corpus. */
#define LM_LONG_D_MODEL 128
#define LM_LONG_LAYERS 4
#define LM_LONG_STEPS 4000
#define LM_LONG_CORPUS_TRAIN 8192
#define LM_LONG_CORPUS_VAL 256

#define LM_CTX_MAX 8

typedef struct {
    int d_model, layers, heads, d_ff; /* d_ff 0: 4 x d_model */
    int ctx;                          /* main training context */
    int ablation[LM_CTX_MAX];         /* contexts of the QKV vs Q-K=V ablation */
    int n_ablation;
    int batch, steps, seeds, threads; /* batch at the main context */
    bool param_match;                 /* widen the FFN of variants with fewer parameters */
    int shard_i, shard_n;             /* run the runs j with j % shard_n == shard_i */
    rt_optim optim;
} lm_settings;

lm_settings lm_settings_default(void);

/* One training run. */
typedef struct {
    int var, ctx, seed;     /* variant index, training context, seed index */
    bool done;              /* trained in this shard */
    double val_nll;         /* mean nats per validation token */
    double train_nll_final; /* mean of the last 10% of steps */
    double *curve;          /* (n_curve) mean training loss per curve interval */
    double seconds;
    uint64_t params;
    int d_ff;
} lm_run;

/* Per variant at one context. */
typedef struct {
    int var, ctx, n;                   /* n: seeds trained */
    double nll_mean, ppl_mean, ppl_sd; /* ppl per seed = exp(val_nll) */
    double delta_pct;                  /* ppl_mean vs QKV at the same context, percent */
    bool has_delta;
    bool has_paper;
    double paper_pct;     /* the paper's 300M figure for the variant */
    int rank, paper_rank; /* 1 = lowest perplexity among the main-context cells the paper
                               reports (QKV included); 0 when the paper has no figure */
    uint64_t params, kv_bytes_per_token;
    int d_ff;
    double *curve; /* (n_curve) mean over seeds */
} lm_cell;

/* Per layer probes of seed 0's main-context student. */
typedef struct {
    int var;
    double *cka_kv, *cka_kv_init;   /* (L) mean over heads: trained, initial weights */
    double *cos2_kv, *cos2_kv_init; /* (L) mean cos² of W_K/W_V principal angles */
    double chance;                  /* k/d for random subspaces */
} lm_probe;

typedef struct {
    lm_settings settings;
    const lm_corpus *corpus;  /* borrowed */
    const char *teacher_name; /* borrowed */
    int n_vars;
    study_variant *vars; /* borrowed */
    int n_runs;
    lm_run *runs;
    int n_cells;
    lm_cell *cells; /* main context per variant, then ablation (ctx, QKV/Q-K=V) */
    int n_probes;
    lm_probe *probes;
    int n_curve;
    int *curve_steps;                  /* (n_curve) */
    bool ordering_agrees;              /* every pair the paper orders, ordered the same */
    int ordering_pairs, ordering_same; /* pairs the paper orders; of them, ordered the same */
    char ordering_note[1024];          /* which pairs disagree */
    double seconds, tokens_per_s;
} lm_result;

typedef void (*lm_progress_fn)(void *user, int run, int n_runs, const char *variant, int ctx,
                               int seed, int step, int steps, double loss);

/* Train and evaluate every run of the shard; summarise (cells, probes,
 * ordering) when the shard holds every run. Caller frees with
 * lm_result_free. */
qkv_status lm_study_run(const lm_corpus *corpus, study_variant *vars, int n_vars,
                        const lm_settings *s, lm_progress_fn progress, void *user, lm_result *out,
                        qkv_error *err);

/* What lm_study_run does before training: check the settings and set up
 * every run (none done) and cell. For building a result from the result
 * lines of sharded runs (report_lm_run_line_read), then lm_study_summarise. */
qkv_status lm_study_prepare(const lm_corpus *corpus, study_variant *vars, int n_vars,
                            const lm_settings *s, lm_result *out, qkv_error *err);

/* Cells, deltas, ranks and the ordering check from the runs, every one of
 * which must be done. Probes are not touched. */
qkv_status lm_study_summarise(lm_result *r, qkv_error *err);

/* Free and forget the probes (a result merged from lines has no trained
 * models to probe). */
void lm_result_drop_probes(lm_result *r);

void lm_result_free(lm_result *r);

/* The student configuration of variant v at context ctx (d_ff before any
 * parameter matching). */
rt_config lm_config(const lm_settings *s, int vocab, const study_variant *v, int ctx);

#endif
