/* rt_kernels.h — the inference kernels of the reference runtime: a pool of
 * worker threads and matrix products split over it.
 *
 * Why: a single row (decode) multiplied through cblas_sgemm with N = 1 is
 * 3–8x slower in OpenBLAS 0.3.21 than cblas_sgemv at the runtime's shapes;
 * rt_matmul_rows sends N = 1 to sgemv. Threads: OpenBLAS's own threads wait
 * by spinning; these sleep on a condition variable between jobs, so a busy
 * machine is not burnt by idle workers (after a job a thread watches for
 * the next one for at most 0.1 ms before it sleeps: decoding hands out
 * about 60 jobs per token, and the watch measured 11% faster decoding at
 * two threads than sleeping at once). A job's matrix products are split
 * by rows of W (output features): each thread runs OpenBLAS single-threaded
 * on its share, so the sum for one output element is formed by one call in
 * one order whatever the thread count — results do not depend on T.
 *
 * The products still go through CBLAS (OpenBLAS); nothing here re-implements
 * a BLAS routine.
 */
#ifndef QKV_RT_KERNELS_H
#define QKV_RT_KERNELS_H

#include "analyzer/core/qkv_error.h"

#include <stdbool.h>
#include <stddef.h>

#define RT_THREADS_MAX 64

typedef struct rt_pool rt_pool;

/* A pool of n_threads threads: the caller plus n_threads − 1 workers that
 * sleep between jobs (after a 0.1 ms watch). While a pool exists OpenBLAS runs single-threaded
 * (openblas_set_num_threads(1); rt_pool_free restores the previous count),
 * so that its threads do not compete with the pool's. One pool serves one
 * caller thread at a time. Caller frees with rt_pool_free. */
qkv_status rt_pool_init(rt_pool **out, int n_threads, qkv_error *err);
void rt_pool_free(rt_pool *p);         /* NULL allowed */
int rt_pool_threads(const rt_pool *p); /* 1 for NULL */

/* Run fn(ctx, i, n) for i in 0..n−1 on the pool's n threads (the caller is
 * i = 0) and return when all have finished. NULL pool: fn(ctx, 0, 1). */
void rt_pool_run(rt_pool *p, void (*fn)(void *ctx, int i, int n), void *ctx);

/* n bytes (> 0) for a large array the kernels stream through, uninitialised,
 * aligned to 2 MiB and offered to the kernel as transparent huge pages
 * (madvise MADV_HUGEPAGE; a hint that the system may ignore). Fewer TLB
 * misses while streaming: with the decode layout in huge pages, decoding
 * the bench's model measured 21% faster than from 4 KiB pages of the file
 * map (`make bench`, README.md). Release with free(). */
void *rt_alloc_streamed(size_t n);

#define RT_WORKERS_MAX 16

/* Run work(arg) on min(threads, RT_WORKERS_MAX) threads at once and wait for
 * them all; in the caller's thread when none can be started. work takes its
 * jobs from arg itself. For jobs of many small matrix products (training
 * runs, corpus sampling): parallel over jobs, with OpenBLAS single-threaded
 * meanwhile and its thread count restored afterwards. */
void rt_run_workers(void *(*work)(void *), void *arg, int threads);

/* One matrix product: out (N, OUT) = in (N, IN) · W (OUT, IN)ᵀ + b (b may be
 * NULL). out rows are ld_out floats apart (ld_out >= OUT). With wt, W is
 * held transposed, (IN, OUT) row-major: rt_lazy.h's decode layout, in which
 * a single row runs through OpenBLAS's column-streaming sgemv kernel; one
 * token's 85 products of the bench's model ran 8% faster that way than
 * through the row-dot kernel on the same memory. */
typedef struct {
    float *out;
    const float *in, *w, *b;
    int N, IN, OUT, ld_out;
    bool wt;
} rt_mm;

/* Run n independent products as one pool job, their rows of W split evenly
 * over the threads (N = 1 through sgemv, else sgemm). */
void rt_matmul_many(rt_pool *p, const rt_mm *jobs, int n);

/* One product (rt_matmul_many of one). */
void rt_matmul_pool(rt_pool *p, float *out, const float *in, const float *w, const float *b, int N,
                    int IN, int OUT);

#endif
