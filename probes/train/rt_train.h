/* rt_train.h — training for the reference runtime: a forward pass that keeps
 * its activations, the backward pass of every operation of both block
 * families and every attention variant, cross-entropy, AdamW with decoupled
 * weight decay, global-norm gradient clipping and a warm-up + cosine
 * learning-rate schedule.
 *
 * Gradients live in one buffer laid out exactly like the model's parameters,
 * and each weight's gradient is found by its offset in the parameters: tied
 * projections (Q-K=V's wv == wk, ...) and a tied classifier therefore
 * accumulate the gradients of every use into one place.
 *
 * Determinism: the same model, data and hyperparameters give bit-identical
 * weights (OpenBLAS partitions products across threads without splitting the
 * sums, and nothing here depends on timing).
 */
#ifndef QKV_RT_TRAIN_H
#define QKV_RT_TRAIN_H

#include "probes/runtime/rt_model.h"

typedef struct {
    float lr; /* peak learning rate */
    float beta1, beta2, eps;
    float weight_decay; /* decoupled; matrices and embeddings only */
    float clip;         /* global gradient-norm bound (0: none) */
    int warmup;         /* linear warm-up steps */
    int steps;          /* total steps (the cosine decays to min_lr_frac x lr) */
    float min_lr_frac;
} rt_optim;

rt_optim rt_optim_default(void);

typedef struct {
    int B, T; /* batch shape the trainer was sized for */
    size_t n_params;
    float *grads;         /* (n_params), same layout as the parameters */
    float *m, *v;         /* AdamW moments (n_params) */
    unsigned char *decay; /* (n_params) 1 where weight decay applies */
    long step;            /* optimizer steps taken */
    float *acts;          /* activations of the last forward pass */
    float *scratch;       /* backward buffers */
    size_t acts_n, scratch_n;
} rt_trainer;

/* Size the trainer for batches of B sequences of T tokens. Caller frees with
 * rt_trainer_free. */
qkv_status rt_trainer_init(rt_trainer *t, const rt_model *m, int B, int T, qkv_error *err);
void rt_trainer_free(rt_trainer *t);

/* Forward and backward over inputs (B, T) with targets (B, T); a target < 0
 * is ignored. Sets *loss to the mean cross-entropy over the counted targets
 * and fills t->grads (overwritten, not accumulated across calls). correct,
 * if not NULL, receives how many counted targets the argmax got right. */
qkv_status rt_train_grad(const rt_model *m, rt_trainer *t, const int *inputs, const int *targets,
                         double *loss, long *correct, qkv_error *err);

/* Loss (and correct count) only, no gradients; for evaluation. */
qkv_status rt_train_eval(const rt_model *m, rt_trainer *t, const int *inputs, const int *targets,
                         double *loss, long *correct, long *counted, qkv_error *err);

/* Learning rate at step (0-based) under the schedule. */
float rt_optim_lr(const rt_optim *o, long step);

/* One AdamW step with t->grads (clipped first when o->clip > 0). Returns
 * the gradient norm before clipping. */
double rt_optim_step(rt_model *m, rt_trainer *t, const rt_optim *o);

#endif
