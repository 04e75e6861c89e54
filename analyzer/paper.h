/* paper.h — the study qkvplan grew out of, and its measurements, written
 * once for every writer and the planner:
 *
 *   Kayyam, Madan Gopal, Lewis (2026). Do Transformers Need Three
 *   Projections? Systematic Study of QKV Variants. arXiv 2606.04032.
 *
 * The language-model results are validation-perplexity changes against QKV
 * (perplexity 5.11 at 300M), as the paper measured them — evidence shown
 * beside a variant, never a prediction. GQA-4 there means 4 KV heads; 300M
 * is 20 layers x d 1024 x 16 heads, 1.2B 22 layers x d 2048 x 32 heads.
 */
#ifndef QKV_PAPER_H
#define QKV_PAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/variant.h"

#define PAPER_AUTHORS "Kayyam, Madan Gopal, Lewis"
#define PAPER_YEAR "2026"
#define PAPER_TITLE "Do Transformers Need Three Projections?"
#define PAPER_SUBTITLE "Systematic Study of QKV Variants"
#define PAPER_ARXIV "arXiv 2606.04032"

typedef struct {
    const char *label; /* "Q-K=V+GQA-4", as the paper writes it */
    variant_share share;
    int kv_heads;         /* 0: one KV head per query head (MHA); else the KV head count */
    double ppl_delta_pct; /* validation perplexity change vs QKV, percent */
    const char *model;    /* "300M", "1.2B"; the QKV row carries the baseline perplexity */
} paper_lm_result;

extern const paper_lm_result paper_lm_results[];
extern const size_t paper_lm_results_count;

/* Q-K=V's validation-perplexity cost vs QKV by training context (the
 * paper's context-length result: the cost shrinks as the context grows). */
typedef struct {
    int ctx;              /* training context, tokens */
    double ppl_delta_pct; /* Q-K=V vs QKV, percent */
} paper_ctx_result;

extern const paper_ctx_result paper_kv_ctx_results[];
extern const size_t paper_kv_ctx_results_count;

/* The 300M result for variant v of a model with n_heads query heads, when
 * the paper reports one (MHA x every sharing; GQA-4 and MQA with QKV and
 * Q-K=V). */
bool paper_ppl_delta_300m(const variant *v, uint64_t n_heads, double *pct);

/* Table 1: token accuracy (fraction) averaged over the paper's sweep
 * (embedding {32, 64, 256} x layers {2, 4} x heads {2, 4} x length
 * {16, 64, 128} x 3 seeds), bidirectional encoder, learned positions,
 * symbols 0-9. Columns in the paper's order. The + rows add the 2D
 * positional term. */
enum {
    PAPER_T1_REVERSE,
    PAPER_T1_SORT,
    PAPER_T1_SUB,
    PAPER_T1_SWAP,
    PAPER_T1_COPY,
    PAPER_T1_TASKS
};

typedef struct {
    const char *label; /* "(Q=K=V)+", as the paper writes it */
    variant_share share;
    bool pos2d;
    double acc[PAPER_T1_TASKS]; /* fraction correct, 0..1 */
} paper_synthetic_row;

extern const paper_synthetic_row paper_table1[];
extern const size_t paper_table1_count;
extern const char *const paper_table1_tasks[PAPER_T1_TASKS]; /* "reverse", "sort", ... */

/* Table 1's accuracy (fraction) for a sharing with or without the 2D term
 * (all heads) on task ("reverse", "sort", "sub", "swap", "copy"), when the
 * paper reports one. */
bool paper_table1_accuracy(variant_share share, bool pos2d, const char *task, double *acc);

#endif
