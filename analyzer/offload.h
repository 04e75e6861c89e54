/* offload.h — a host + GPU plan: which device holds each layer's weights and
 * KV cache, and what every device then holds (weights, KV, compute, total,
 * headroom), as llama.cpp release v0.4.0 places them; vLLM's tensor
 * parallelism; unified-memory devices as one pool.
 *
 * llama.cpp v0.4.0 (src/llama-model.cpp:1437-1500, load_tensors; line
 * numbers of the pinned source, see tests/peer/README.md):
 *   - -ngl N counts the output layer first: i_gpu_start = max(L + 1 − N, 0)
 *     and act = min(N, L + 1), so layers il >= i_gpu_start go to a GPU and
 *     layer L — the output layer (output_norm, output) — is on the GPU as
 *     soon as N >= 1. -ngl 4 on an 8-layer model offloads the output layer
 *     and 3 repeating layers (it logs "offloading 3 repeating layers").
 *   - the input layer (token_embd and other tensors outside blk.N and the
 *     output) always stays on the CPU (:1491).
 *   - a GPU-resident layer il goes to GPU upper_bound(splits,
 *     float(il − i_gpu_start) / act), splits being the cumulative,
 *     normalised --tensor-split (single-precision floats), or each GPU's free
 *     memory when no split is given (qkvplan: each GPU's usable budget).
 *   - a model without an output.weight ties it to token_embd; the output
 *     layer then holds a copy of token_embd (TENSOR_DUPLICATED) when it is
 *     on a GPU: those bytes exist twice (dup_bytes).
 *   - --cpu-moe / --n-cpu-moe N keep the routed-expert tensors
 *     (`\.ffn_(up|down|gate|gate_up)_(ch|)exps`, common/common.h:1131) of
 *     every layer / of layers 0..N−1 in CPU memory (-ot ...=CPU).
 *   - the KV cache of layer il lives on that layer's device unless
 *     --no-kv-offload (offload_kqv = false) keeps every layer's on the CPU
 *     (src/llama-kv-cache.cpp:212-221).
 *   - the host and every GPU get a compute buffer whatever -ngl is
 *     (src/llama-context.cpp:683-692; large-batch products of CPU weights
 *     run on the GPU too); qkvplan plans the row's scratch estimate on each
 *     — an estimate: the peer check states how close it gets.
 *
 * Conservation (what the tests check): over all devices, weights add up to
 * the row's weight_bytes + dup_bytes and KV to the row's kv_bytes, exactly;
 * compute adds up to the row's scratch_bytes + extra_compute_bytes (the
 * scratch each GPU holds again beside the host's).
 *
 * vLLM (--tp N): weights, KV and activations are divided over the N GPUs
 * (the remainder of a division on GPU 0), each GPU's budget is its memory
 * times --gpu-memory-utilization, nothing is planned on the host.
 *
 * Unified memory (Apple silicon, Jetson, phones): host and GPU share one
 * pool — the host budget (--device); the GPU may use its profile's share
 * of it, and host + GPU together must fit the pool.
 */
#ifndef QKV_OFFLOAD_H
#define QKV_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/core/qkv_error.h"
#include "analyzer/kvplan.h"

#define OFFLOAD_GPUS_MAX 8
#define OFFLOAD_NAME_BYTES 24
#define OFFLOAD_SWEEP_MAX 48
/* Reserve kept free on a GPU given as a size: the runtime's context (CUDA
 * context and cuBLAS/cuDNN workspaces, ~300-500 MiB on current drivers). */
#define OFFLOAD_GPU_RESERVE_DEFAULT ((uint64_t)512 << 20)

typedef struct {
    size_t n_gpus;                                       /* 0: no GPU budget, no offload plan */
    uint64_t gpu_bytes[OFFLOAD_GPUS_MAX];                /* each GPU's memory */
    uint64_t gpu_reserve[OFFLOAD_GPUS_MAX];              /* kept free on each */
    char gpu_name[OFFLOAD_GPUS_MAX][OFFLOAD_NAME_BYTES]; /* as given (profile or size) */
    bool unified;                /* one pool: the GPU shares the host's budget */
    unsigned gpu_share_permille; /* unified: the GPU may use this share of the pool */
    bool ngl_auto;               /* solve for the most layers that fit every GPU */
    uint64_t ngl;                /* llama.cpp -ngl (output layer first, see above) */
    bool no_kv_offload;          /* llama.cpp -nkvo */
    bool split_set;              /* --tensor-split given */
    float split[OFFLOAD_GPUS_MAX];
    bool cpu_moe;       /* --cpu-moe: every layer's experts on the CPU */
    uint64_t n_cpu_moe; /* --n-cpu-moe N: experts of layers 0..N-1 */
    uint64_t tp;        /* vLLM --tensor-parallel-size (0 or 1: none) */
} offload_params;

/* Where the bytes of a GGUF file's tensors sit, by llama.cpp's layers: the
 * exact per-layer weights of the model as built, and each piece's extent in
 * the data section (llama.cpp maps the CPU tensors as one span from the
 * first to the last, src/llama-model-loader.cpp:1442-1457). */
typedef struct {
    uint64_t bytes, lo, hi; /* tensor bytes; [lo, hi) in the data section (lo > hi: empty) */
} offload_piece;

typedef struct {
    uint64_t n_layers;
    offload_piece input;       /* token_embd and everything outside blk.N and output */
    offload_piece output;      /* output.* (bytes 0: tied to token_embd) */
    offload_piece output_norm; /* output_norm.* */
    offload_piece *layer;      /* (n_layers) blk.N.* except routed experts */
    offload_piece *experts;    /* (n_layers) blk.N.ffn_*_exps */
} offload_layout;

/* Read the layout of a GGUF file whose model has n_layers layers. The caller
 * frees it with offload_layout_free. */
qkv_status offload_layout_read(const char *path, uint64_t n_layers, offload_layout *out,
                               qkv_error *err);
void offload_layout_free(offload_layout *l);

typedef struct {
    char name[OFFLOAD_NAME_BYTES]; /* "CPU", "GPU0", ... */
    uint64_t layers;               /* repeating layers placed here */
    uint64_t weight_bytes;
    uint64_t kv_bytes;
    uint64_t compute_bytes; /* estimate: the row's scratch (llama.cpp: on every device) */
    uint64_t total_bytes;
    uint64_t budget_bytes;  /* usable: memory − reserve (unified GPU: its share) */
    int64_t headroom_bytes; /* budget − total (negative: short by) */
    bool fits;
} offload_device;

typedef struct {
    uint64_t ngl;        /* the -ngl value (given, or solved by auto) */
    uint64_t gpu_layers; /* repeating layers on GPUs */
    bool output_on_gpu;
    size_t n_gpus;
    offload_device host;
    offload_device gpu[OFFLOAD_GPUS_MAX];
    uint64_t gpu_bytes; /* all GPUs */
    uint64_t host_bytes;
    uint64_t dup_bytes; /* tied output matrix copied to the GPU */
    uint64_t extra_compute_bytes;
    uint64_t host_mapped_bytes; /* llama.cpp's CPU_Mapped span (0: no file layout) */
    bool gpu_fits;              /* every GPU within its budget */
    bool fits;                  /* every device, host included (unified: the pool too) */
    uint64_t max_ctx;           /* longest ctx that fits every device at this ngl (0: none) */
    bool max_ctx_capped;
    size_t n_sweep; /* layers on the GPUs (auto) at each sweep context */
    uint64_t sweep_ctx[OFFLOAD_SWEEP_MAX];
    uint64_t sweep_ngl[OFFLOAD_SWEEP_MAX];
    char command[KVPLAN_COMMAND_BYTES]; /* engine command line with -ngl, -ts, -ot */
} offload_row;

struct offload_plan {
    offload_params params;
    bool vllm; /* tensor parallel rather than layer offload */
    size_t n_rows;
    offload_row rows[]; /* one per kvplan row, same order */
};

/* Place every row of r with op; layout (may be NULL) gives the model file's
 * exact per-layer bytes. Stores the plan in r->offload (freed with r).
 * Fails on invalid parameters (a split with the wrong count, more GPUs than
 * --tp, a tensor-parallel size that does not divide the heads). */
qkv_status offload_plan(kvplan_result *r, const offload_params *op, const offload_layout *layout,
                        qkv_error *err);

/* Place one row at -ngl ngl (no solving). */
qkv_status offload_place(const kvplan_result *r, const kvplan_row *row, const offload_params *op,
                         const offload_layout *layout, uint64_t ngl, offload_row *out,
                         qkv_error *err);

#endif
