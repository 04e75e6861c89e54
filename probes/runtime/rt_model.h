/* rt_model.h — the reference runtime's model: configuration and weights.
 *
 * A small, exact float32 transformer. Matrices are row-major and stored as
 * [out][in], as in llama2.c. Dimension letters: L layers, C d_model, NH query
 * heads, KVH key/value heads, HD head width, FF FFN width, V vocabulary, T
 * tokens, B sequences.
 *
 * Two block families:
 *   GPT-2 style  learned positions, pre-LayerNorm (eps 1e-5), GELU (tanh
 *                form), biases on every linear layer, tied embeddings — the
 *                paper's language models;
 *   Llama style  RMSNorm (eps 1e-5), RoPE on interleaved pairs
 *                (theta 10000), SwiGLU FFN, no biases.
 *
 * Projection sharing is exact weight tying: shared projections point at the
 * same tensor (Q-K=V: wv == wk; Q=K-V: wq == wk; Q=K=V: both), so gradients of
 * every use accumulate into one buffer. Q=K variants need KVH = NH.
 *
 * The optional 2D positional term of the `+` variants acts on each head's
 * scaled scores S (after 1/sqrt(HD), before the mask and softmax); its form
 * is rt_pos2d_form (rt_pos2d.h has the features):
 *   RT_POS2D_CONV  the paper's: a fixed P (T, T, 10), P[i][j] = [5 sin/cos
 *                  features of i ‖ 5 of j], stacked with S and collapsed by
 *                  a learned 1x1 convolution, S'_ij = (Σ_c w_c) S_ij +
 *                  Σ_c w_c P_ijc + b, with w (10) and b learned per layer
 *                  and shared by the layer's heads (qkvplan's choice; the
 *                  paper leaves it open). w starts at 0.1 (Σw = 1), b at 0.
 *   RT_POS2D_REL   the later draft's relative form: the same learned w, b
 *                  over 10 sin/cos features of j − i.
 *   RT_POS2D_RAMP  a fixed ramp pos2d_scale x (j − i) / max_seq, nothing
 *                  learned. Not the paper's: kept for comparison only.
 */
#ifndef QKV_RT_MODEL_H
#define QKV_RT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/core/qkv_error.h"
#include "analyzer/variant.h"

typedef enum { RT_GPT2, RT_LLAMA } rt_family;

/* The `+` term's form; the values are stored in .qkvm files (rt_io.h). */
typedef enum {
    RT_POS2D_NONE = 0,
    RT_POS2D_CONV = 1, /* the paper's P (i ‖ j features) and learned 1x1 conv */
    RT_POS2D_REL = 2,  /* relative sin/cos features of j − i, learned 1x1 conv */
    RT_POS2D_RAMP = 3, /* fixed ramp, not the paper's */
    RT_POS2D_FORM_COUNT
} rt_pos2d_form;

#define RT_POS2D_CH 10 /* channels of P, hence of the learned w */

typedef struct {
    rt_family family;
    int n_layers;   /* L */
    int d_model;    /* C */
    int n_heads;    /* NH */
    int n_kv_heads; /* KVH */
    int head_dim;   /* HD; NH x HD need not equal C */
    int d_ff;       /* FF */
    int vocab;      /* V */
    int max_seq;    /* positions (GPT-2 table size; RoPE has no table) */
    variant_share share;
    bool causal;         /* causal mask, else bidirectional */
    rt_pos2d_form pos2d; /* the `+` term, RT_POS2D_NONE (0) without */
    float pos2d_scale;   /* RT_POS2D_RAMP only */
    float norm_eps;
    float rope_theta;
    bool tied; /* classifier = token embedding */
} rt_config;

/* Limits that keep every buffer size well inside size_t on 64-bit hosts and
 * reject absurd headers before anything is allocated. */
#define RT_DIM_MAX (1 << 16)
#define RT_LAYERS_MAX 1024
#define RT_VOCAB_MAX (1 << 22)
#define RT_SEQ_MAX (1 << 20)

struct rt_layer_s {
    float *ln1_w, *ln1_b;     /* (C) attention norm; b NULL for RMSNorm */
    float *wq;                /* (NH*HD, C), == wk when Q shares K */
    float *wk;                /* (KVH*HD, C) */
    float *wv;                /* (KVH*HD, C), == wk when V shares K */
    float *wo;                /* (C, NH*HD) */
    float *bq, *bk, *bv, *bo; /* GPT-2 biases, tied like their weights; NULL for Llama */
    float *ln2_w, *ln2_b;     /* (C) FFN norm */
    float *w1;                /* (FF, C) GPT-2 fc / Llama gate */
    float *b1;                /* (FF) GPT-2 only */
    float *w2;                /* (C, FF) down */
    float *b2;                /* (C) GPT-2 only */
    float *w3;                /* (FF, C) Llama up; NULL for GPT-2 */
    float *pos2d_w;           /* (RT_POS2D_CH) learned 1x1 conv of the + term; NULL without */
    float *pos2d_b;           /* (1) its bias */
    bool wt; /* the seven matrices are held transposed, (in, out), not as the shapes above
                say: rt_lazy's decode layout, for the forward and decode passes only */
};

/* Weights left in their checkpoint file (rt_lazy.h) reach the forward passes
 * through this table. layer() points *y at layer l's weights as float32
 * (straight into the mapped file when it holds them in that form, into the
 * decode layout's transposed copies when y->wt, else widened into a scratch
 * buffer of one layer), valid until the next call. rows() points *rows at
 * rows [row0, row0 + n) of the token embedding (RT_ROWS_EMB) or the
 * classifier (RT_ROWS_CLS), n <= rows_max, valid until the next call. Not
 * for concurrent use: one forward pass at a time. */
enum { RT_ROWS_EMB, RT_ROWS_CLS };
typedef struct rt_layer_s rt_layer;
typedef struct {
    void *ctx;
    size_t rows_max;
    qkv_status (*layer)(void *ctx, int l, rt_layer *y, qkv_error *err);
    qkv_status (*rows)(void *ctx, int which, size_t row0, size_t n, const float **rows,
                       qkv_error *err);
    bool cls_wt; /* rows(RT_ROWS_CLS, 0, vocab) gives the whole classifier transposed,
                    (C, vocab); rows_max is then the vocabulary */
} rt_fetch;

/* One distinct tensor of a model (tied projections appear once, as wk). */
typedef struct {
    const char *name;  /* "tok_emb", "wq", "ln1_b", ...: the runtime's own names */
    int layer;         /* 0..L-1, or -1 for the embeddings, classifier and final norm */
    float *data;       /* inside rt_model.params */
    size_t rows, cols; /* [out][in]; vectors have rows == 1 */
    size_t elems;      /* rows x cols */
    bool decay;        /* AdamW decays it (embeddings and matrices, not norms or biases) */
} rt_tensor;

typedef struct {
    rt_config cfg;
    float *params; /* every weight, one allocation of n_params floats */
    size_t n_params;
    float *tok_emb;       /* (V, C) */
    float *pos_emb;       /* (max_seq, C) GPT-2 only */
    float *lnf_w, *lnf_b; /* (C) final norm */
    float *wcls;          /* (V, C), == tok_emb when tied */
    rt_layer *layers;     /* (L) */
    rt_tensor *tensors;   /* (n_tensors) every distinct tensor in layout order; their
                             elems add up to n_params. The one table that init,
                             training, checkpoints and tests read. */
    size_t n_tensors;
    const rt_fetch *fetch; /* weights kept in their file: layers, tok_emb and wcls are then
                              NULL and read through fetch (rt_lazy.h); NULL when every
                              weight is in params */
    struct rt_pool *pool;  /* threads for the inference kernels (rt_kernels.h), not owned;
                              NULL: the calling thread */
} rt_model;

/* Check a configuration: positive sizes within the limits above, KVH
 * dividing NH, Q=K variants with KVH = NH. */
qkv_status rt_config_check(const rt_config *c, qkv_error *err);

/* Number of distinct float parameters the configuration needs (shared
 * projections counted once). */
qkv_status rt_param_count(const rt_config *c, size_t *count, qkv_error *err);

/* Allocate the model's weights (zeroed) and lay out the pointers. The caller
 * frees with rt_model_free. */
qkv_status rt_model_init(rt_model *m, const rt_config *c, qkv_error *err);

/* Fill the weights from a seeded generator: N(0, 0.02) for matrices (GPT-2
 * initialisation), ones for norm weights, zeros for biases. Deterministic. */
void rt_model_randomize(rt_model *m, uint64_t seed);

/* Release the weights; NULL and zeroed models are allowed. */
void rt_model_free(rt_model *m);

/* A llama-style or GPT-2-style configuration with sensible defaults. */
rt_config rt_config_default(rt_family family);

/* Deterministic generator (splitmix64) used for initialisation and sampling. */
typedef struct {
    uint64_t state;
} rt_rng;
uint64_t rt_rng_next(rt_rng *r);
double rt_rng_uniform(rt_rng *r); /* [0, 1) */
double rt_rng_normal(rt_rng *r);  /* N(0, 1), Box–Muller */

#endif
