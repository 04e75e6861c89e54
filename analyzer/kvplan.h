/* kvplan.h — the planner: exact KV-cache and total memory of a model under an
 * attention variant, on a device budget, for one of several engines.
 *
 * Per layer that holds a cache, per cell:
 *     K bytes = row_bytes(type_k, KVH x HD)
 *     V bytes = row_bytes(type_v, KVH x HDV)   only where V is cached (QKV, Q=K-V)
 * MLA layers cache one latent row of kv_lora_rank + rope_dim elements, as K.
 *
 * How many cells a layer holds depends on the engine (kvplan_engine):
 *   exact      every sequence holds ctx cells; a sliding-window layer holds
 *              min(ctx, window) — the least any engine could keep.
 *   llama.cpp  ctx is llama.cpp's n_ctx (-c), shared by the sequences (-np):
 *              n_ctx = pad256(ctx); unified: one stream of n_ctx cells;
 *              otherwise seqs streams of pad256(n_ctx / seqs) cells each.
 *              n_ubatch = min(ubatch, min(ctx, 2048)) (n_batch is clamped to
 *              the requested context first). Which layers slide is decided per
 *              architecture as llama.cpp does (analyzer/engine.h: Mistral v0.1
 *              loads as `llama` and has no windowed cache, phi3 switches it
 *              off); sliding-window layers hold
 *              pad256(min(stream cells, window x (unified ? seqs : 1) + n_ubatch))
 *              per stream (llama_kv_cache_iswa), or the stream cells with
 *              swa_full. MLA caches K only. Settings llama.cpp refuses are
 *              planned as refused rows (engine_refusal), never as if they ran.
 *   ollama     llama.cpp as ollama starts it (llm/llama_server.go:375-376):
 *              num_ctx = min(ctx, trained context) per sequence,
 *              -c num_ctx x seqs -np seqs, no --kv-unified.
 *   vllm       every sequence holds ctx rounded up to whole blocks of
 *              block_size tokens (16 by default); sliding-window layers
 *              min(ctx, window) rounded up likewise (an approximation of
 *              vLLM's sliding-window manager).
 *
 * Total memory = weights + KV cache + compute scratch, and it fits when it is
 * at most device − reserve. Scratch is an estimate (see kvplan_row).
 */
#ifndef QKV_KVPLAN_H
#define QKV_KVPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/dtype.h"
#include "analyzer/engine.h"
#include "analyzer/model.h"
#include "analyzer/core/qkv_error.h"
#include "analyzer/variant.h"

typedef enum {
    ENGINE_EXACT,
    ENGINE_LLAMACPP,
    ENGINE_VLLM,
    ENGINE_OLLAMA,
    ENGINE_COUNT
} kvplan_engine;

/* Bounds of the inputs and of the solvers' searches. */
#define KVPLAN_CTX_MAX ((uint64_t)1 << 32) /* tokens; llama.cpp's n_ctx is 32-bit */
#define KVPLAN_SEQS_MAX ((uint64_t)1 << 20)
#define KVPLAN_UBATCH_MAX ((uint64_t)1 << 20)
#define KVPLAN_DEVICE_MAX ((uint64_t)1 << 60) /* 1 EiB */
#define KVPLAN_LLAMA_PAD 256                  /* llama.cpp pads n_ctx and caches to 256 cells */
#define KVPLAN_LLAMA_N_BATCH 2048             /* llama.cpp's default logical batch */
#define KVPLAN_VLLM_BLOCK 16                  /* vLLM's default block size in tokens */
#define KVPLAN_BLOCK_MAX 4096                 /* largest --block-size accepted */

const char *kvplan_engine_name(kvplan_engine e);
qkv_status kvplan_engine_parse(const char *s, kvplan_engine *out);
/* Whether e runs llama.cpp's cache (llama.cpp itself, or ollama). */
bool kvplan_engine_is_llamacpp(kvplan_engine e);

const char *kvplan_fa_name(engine_fa fa); /* "on", "off", "auto" */
qkv_status kvplan_fa_parse(const char *s, engine_fa *out);

typedef struct {
    kvplan_engine engine;
    bool kv_unified;      /* llama.cpp: one cache shared by all sequences */
    bool swa_full;        /* llama.cpp --swa-full: sliding-window layers hold full streams */
    engine_fa flash_attn; /* off: scratch holds the NH x ubatch x cells f32 score matrix;
                           * auto plans as on (llama.cpp lays the cache out as with FA on,
                           * and enables it on CPU and for a quantized V) */
    uint64_t block_size;  /* vllm: tokens per cache block */
    bool beyond_trained;  /* let max_ctx go past the model's trained context */
    uint64_t ctx;         /* tokens (per sequence, or llama.cpp's shared n_ctx) */
    uint64_t seqs;        /* concurrent sequences */
    uint64_t ubatch;      /* tokens per micro-batch */
    dtype_cache type_k;
    dtype_cache type_v;
    dtype_weight weight_type;
    uint64_t device_bytes;
    uint64_t reserve_bytes;
} kvplan_params;

/* The engine and its cache layout as reports print it: "exact", "vllm",
 * "llama.cpp (unified cache)" or "llama.cpp (cache per sequence)". */
void kvplan_engine_describe(const kvplan_params *p, char *buf, size_t buf_bytes);

/* Default parameters: exact engine, flash attention on, ctx 4096, one
 * sequence, ubatch 512, f16 cache and weights, 8 GiB device, 1 GiB reserve,
 * 16-token vLLM blocks, max_ctx capped at the trained context. */
kvplan_params kvplan_params_default(void);

/* What bounds the max_ctx search: the model's trained context (per
 * sequence; unless beyond_trained), or KVPLAN_CTX_MAX. */
typedef enum { KVPLAN_CAP_TRAINED, KVPLAN_CAP_LIMIT } kvplan_ctx_cap;
const char *kvplan_ctx_cap_name(kvplan_ctx_cap c); /* "trained_context", "ctx_limit" */

/* One variant's plan. All byte counts are exact integers. */
typedef struct {
    variant v;
    char label[VARIANT_LABEL_BYTES];
    int cached_tensors;          /* 2 (K and V), 1 (one shared tensor) */
    uint64_t kv_bytes_per_token; /* one token of one sequence, all KV layers */
    uint64_t cells_full;         /* cells of one full-attention layer, all sequences */
    uint64_t cells_swa;          /* cells of one sliding-window layer, all sequences */
    uint64_t ctx_per_seq;        /* context each sequence gets */
    uint64_t n_ubatch;           /* micro-batch after the engine's clamp (llama.cpp:
                                  * min(ubatch, ctx, 2048)) */
    uint64_t swa_layers;         /* layers the engine gives a sliding-window cache */
    uint64_t window;             /* their window */
    uint64_t k_bytes;            /* K cache at ctx x seqs */
    uint64_t v_bytes;            /* V cache (0 when V is not cached) */
    uint64_t kv_bytes;           /* k_bytes + v_bytes */
    double kv_reduction;         /* 1 − kv_bytes / QKV+MHA kv_bytes (same types) */
    uint64_t params;             /* parameter count of this variant */
    uint64_t weight_bytes;       /* params at the weight type */
    /* Scratch estimate: logits (V x n_tok x 4), attention scores without
     * flash attention (NH x n_tok x stream cells x 4), FFN intermediates
     * (n_tok x FF x 4, twice when gated), Q/K/V (n_tok x (NH+2 KVH) x HD x 4)
     * and two residual buffers (2 x n_tok x C x 4), n_tok = min(ubatch, ctx). */
    uint64_t scratch_bytes;
    uint64_t total_bytes; /* weights + kv + scratch */
    bool fits;            /* total <= device − reserve, and the engine accepts it */
    /* The engine's refusal in its own words ("" when accepted): such a row
     * does not fit, and max_ctx and max_seqs are 0. Byte counts are what the
     * cache would have held (0 when not even that can be computed). */
    char engine_refusal[ENGINE_REFUSAL_BYTES];
    int64_t headroom_bytes;     /* device − reserve − total (negative: short by) */
    uint64_t max_ctx;           /* largest ctx that fits at these seqs (0: none) */
    bool max_ctx_capped;        /* the cap itself fits: memory does not bound ctx */
    kvplan_ctx_cap max_ctx_cap; /* which cap bounds the search */
    uint64_t max_seqs;          /* most sequences of ctx_per_seq that fit (0: none) */
    bool max_seqs_capped;
    double max_concurrency;     /* vllm: requests of ctx tokens the KV budget holds at once
                                  * (vLLM's "maximum concurrency" figure); 0 otherwise */
    bool has_paper;             /* the paper measured this variant (what-if rows only: the
                                  * as-built row never carries the paper's figure) */
    double paper_ppl_delta_pct; /* its validation perplexity change vs QKV, % */
    bool rope_caveat;           /* shared K=V under RoPE: cache before rotation */
} kvplan_row;

#define KVPLAN_NOTE_BYTES 256
#define KVPLAN_NOTES_MAX 16

typedef struct {
    model_shape model;
    kvplan_params params;
    kvplan_row baseline; /* QKV+MHA of the same shape and types */
    kvplan_row *rows;    /* n_rows rows: the as-built one first, then as requested */
    size_t n_rows;
    size_t n_fit;   /* rows that fit */
    long built_row; /* index of the as-built row (0: it leads), −1 if not
                              * planned; the other rows follow in the order requested */
    long best_row;  /* the fitting row with the smallest paper-measured loss
                              * (else the smallest total), −1 if none fits */
    char notes[KVPLAN_NOTES_MAX][KVPLAN_NOTE_BYTES];
    size_t n_notes;
    /* Context sweep (kvplan_sweep): n_sweep context values and, per row,
     * the KV cache and total bytes at each: row i, point j at [i * n_sweep + j]. */
    size_t n_sweep;
    uint64_t *sweep_ctx;   /* (n_sweep) ascending */
    uint64_t *sweep_kv;    /* (n_rows, n_sweep) */
    uint64_t *sweep_total; /* (n_rows, n_sweep) */
    /* Host + GPU placement of every row (analyzer/offload.h, offload_plan);
     * NULL without a GPU budget. Freed with the result. */
    struct offload_plan *offload;
} kvplan_result;

/* Plan every variant in vs (n of them) for model m. Variants that cannot be
 * built on m are skipped with a note when skip_invalid is set, and are an
 * error otherwise. Fills *out; the caller frees it with kvplan_result_free.
 * Fails with the message in err on invalid parameters, a row width a block
 * type cannot store, or sizes overflowing 64 bits. */
qkv_status kvplan_plan(const model_shape *m, const variant *vs, size_t n, const kvplan_params *p,
                       bool skip_invalid, kvplan_result *out, qkv_error *err);

/* Plan one variant (no solving when solve is false: max_ctx and max_seqs are 0). */
qkv_status kvplan_row_eval(const model_shape *m, const variant *v, const kvplan_params *p,
                           bool solve, kvplan_row *row, qkv_error *err);

/* Parameter count of m built as v. */
qkv_status kvplan_param_count(const model_shape *m, const variant *v, uint64_t *params,
                              qkv_error *err);

/* Validate p on its own (ranges, reserve below device). */
qkv_status kvplan_params_check(const kvplan_params *p, qkv_error *err);

/* Smallest context of a sweep. */
#define KVPLAN_SWEEP_MIN 512
/* Top of a sweep when the model's context is unknown. */
#define KVPLAN_SWEEP_DEFAULT_TOP ((uint64_t)1 << 20)

/* Evaluate every row of r over a context sweep: powers of two from 512 to
 * the larger of the model's trained context (1M when unknown) and the
 * requested context, doubled on until no row fits (at most KVPLAN_CTX_MAX),
 * plus the trained and requested contexts themselves, with all other
 * parameters as planned. A context at which a row cannot be built (llama.cpp
 * leaving no cells per sequence) is skipped for all rows. */
qkv_status kvplan_sweep(kvplan_result *r, qkv_error *err);

/* The command line that realises r's settings in its engine
 * ("llama-server -m M -c CTX -np N -ctk K -ctv V -fa on -ub U",
 * ollama's environment and "ollama serve", "vllm serve M --max-model-len
 * ..."); "" for the exact engine. The model is the file it was read from,
 * quoted for a POSIX shell, or a placeholder NAME.gguf / Hugging Face repo. */
#define KVPLAN_COMMAND_BYTES 768
void kvplan_engine_command(const kvplan_result *r, char *buf, size_t n);

/* The weight type of r's as-built model: the model file's own ("f32",
 * "q8_0", "mixed") when it came from one, else the planned weight_type. */
const char *kvplan_weight_type_name(const kvplan_result *r);

/* Frees what kvplan_plan allocated; NULL and zeroed results are allowed. */
void kvplan_result_free(kvplan_result *r);

#endif
