/* tasks.h — training tasks for `qkvplan study`.
 *
 * The paper's synthetic tasks run a bidirectional encoder with per-token
 * classification over the symbols 0–9 (vocabulary 10): for an input x of
 * length n the target at position i is
 *   reverse  x[n−1−i]                copy  x[i]
 *   sort     the i-th smallest of x  sub   9 − x[i]
 *   swap     x[(i + n/2) mod n]      (the two halves exchanged; n even)
 * Symbols are drawn uniformly and independently.
 * text:FILE is causal language modelling on the bytes of FILE (vocabulary
 * 256): windows of n bytes predict the next byte; the first 90% of the file
 * trains and the last 10% evaluates.
 */
#ifndef QKV_TASKS_H
#define QKV_TASKS_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/core/qkv_error.h"
#include "probes/runtime/rt_model.h"

typedef enum { TASK_REVERSE, TASK_SORT, TASK_SUB, TASK_SWAP, TASK_COPY, TASK_TEXT } task_kind;

typedef struct {
    task_kind kind;
    int len;              /* tokens per sequence */
    char name[64];        /* "reverse", "text:story.txt" */
    unsigned char *text;  /* TASK_TEXT: the file's bytes (owned) */
    size_t text_n, split; /* bytes, and where evaluation data starts */
} task;

#define TASK_TEXT_MAX_BYTES ((size_t)1 << 30)

/* Parse "reverse", "sort", "sub", "swap", "copy" (any case) or "text:FILE"
 * (read now). len must be at least 2 (swap: even); text needs a file of more
 * than 10 x (len + 1) bytes. Caller frees with task_free. */
qkv_status task_parse(const char *spec, int len, task *t, qkv_error *err);
void task_free(task *t);

int task_vocab(const task *t);
bool task_causal(const task *t);

/* Fill B sequences of inputs and targets (B, len) from rng; eval draws text
 * windows from the evaluation part. */
void task_batch(const task *t, rt_rng *rng, int B, bool eval, int *inputs, int *targets);

/* "reverse", ... "copy"; "text" for TASK_TEXT. */
const char *task_kind_name(task_kind k);

/* Comma-separated names for --help. */
const char *task_names(void);

#endif
