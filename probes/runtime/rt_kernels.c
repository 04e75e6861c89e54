#define _DEFAULT_SOURCE /* madvise MADV_HUGEPAGE */
#include "probes/runtime/rt_kernels.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct rt_pool {
    int n;         /* threads, the caller included */
    int n_workers; /* workers started (n − 1 unless creation failed) */
    pthread_t th[RT_THREADS_MAX];
    int index[RT_THREADS_MAX];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    _Atomic unsigned long generation; /* bumped for every job */
    _Atomic int pending;              /* workers still running the current job */
    _Atomic bool stop;
    void (*fn)(void *ctx, int i, int n);
    void *ctx;
    int blas_threads; /* OpenBLAS's thread count before the pool */
};

typedef struct {
    rt_pool *p;
    int i;
} worker_arg;

/* How long a thread that has finished a job keeps watching for the next
 * before it sleeps. Decoding hands out about 60 jobs per token, microseconds
 * apart; waking a sleeping thread costs tens of microseconds on a VM, so a
 * short watch saves that on every job, and the bound keeps an idle pool
 * (or one on a busy machine) asleep rather than spinning. */
#define WATCH_NS 100000LL

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Watch for up to WATCH_NS until ready(p, seen); true if it came. */
static bool watch(bool (*ready)(rt_pool *p, unsigned long seen), rt_pool *p, unsigned long seen)
{
    const long long t0 = now_ns();
    for (unsigned i = 1;; i++) {
        if (ready(p, seen))
            return true;
        relax();
        if (i % 64 == 0 && now_ns() - t0 > WATCH_NS)
            return false;
    }
}

/* A job after generation seen, or the pool stopping. */
static bool job_posted(rt_pool *p, unsigned long seen)
{
    return atomic_load_explicit(&p->generation, memory_order_acquire) != seen ||
           atomic_load_explicit(&p->stop, memory_order_relaxed);
}

/* Every worker done with the current job. */
static bool job_done(rt_pool *p, unsigned long seen)
{
    (void)seen;
    return atomic_load_explicit(&p->pending, memory_order_acquire) == 0;
}

static void *worker(void *arg)
{
    rt_pool *p = ((worker_arg *)arg)->p;
    const int i = ((worker_arg *)arg)->i;
    free(arg);
    unsigned long seen = 0;
    for (;;) {
        watch(job_posted, p, seen);
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->stop)
            pthread_cond_wait(&p->go, &p->mu); /* sleeps once the watch is over */
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        void (*fn)(void *, int, int) = p->fn;
        void *ctx = p->ctx;
        const int n = p->n;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, i, n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

qkv_status rt_pool_init(rt_pool **out, int n_threads, qkv_error *err)
{
    *out = NULL;
    if (n_threads < 1 || n_threads > RT_THREADS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "%d threads is outside 1..%d", n_threads,
                             RT_THREADS_MAX);
    rt_pool *p = calloc(1, sizeof *p);
    if (!p)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for a thread pool");
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return qkv_error_set(err, QKV_ERR_NOMEM, "cannot create a mutex");
    }
    if (pthread_cond_init(&p->go, NULL) != 0 || pthread_cond_init(&p->done, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return qkv_error_set(err, QKV_ERR_NOMEM, "cannot create a condition variable");
    }
    p->n = n_threads;
    p->blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) {
            p->n = i;
            rt_pool_free(p);
            return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for a thread pool");
        }
        a->p = p;
        a->i = i;
        if (pthread_create(&p->th[i], NULL, worker, a) != 0) {
            free(a);
            p->n = i;
            rt_pool_free(p);
            return qkv_error_set(err, QKV_ERR_NOMEM, "cannot start worker thread %d of %d", i,
                                 n_threads);
        }
        p->n_workers = i;
    }
    *out = p;
    return QKV_OK;
}

void rt_pool_free(rt_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->n_workers; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    openblas_set_num_threads(p->blas_threads);
    free(p);
}

int rt_pool_threads(const rt_pool *p)
{
    return p ? p->n : 1;
}

void rt_pool_run(rt_pool *p, void (*fn)(void *ctx, int i, int n), void *ctx)
{
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    if (watch(job_done, p, 0))
        return;
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* Rows [r0, r1) of one product. */
static void mm_rows(const rt_mm *m, int r0, int r1)
{
    const int rows = r1 - r0;
    if (rows <= 0)
        return;
    float *out = m->out + r0;
    /* rows [r0, r1) of W (OUT, IN), or its columns when held as (IN, OUT) */
    const float *w = m->wt ? m->w + r0 : m->w + (size_t)r0 * m->IN;
    if (m->wt) {
        if (m->N == 1)
            cblas_sgemv(CblasRowMajor, CblasTrans, m->IN, rows, 1.0f, w, m->OUT, m->in, 1, 0.0f,
                        out, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m->N, rows, m->IN, 1.0f, m->in,
                        m->IN, w, m->OUT, 0.0f, out, m->ld_out);
    } else if (m->N == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, m->IN, 1.0f, w, m->IN, m->in, 1, 0.0f, out,
                    1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m->N, rows, m->IN, 1.0f, m->in, m->IN,
                    w, m->IN, 0.0f, out, m->ld_out);
    }
    if (m->b)
        for (int n = 0; n < m->N; n++)
            for (int o = r0; o < r1; o++)
                m->out[(size_t)n * m->ld_out + o] += m->b[o];
}

typedef struct {
    const rt_mm *jobs;
    int n;
    long total; /* rows of W over all jobs */
} mm_batch;

/* Thread i of n takes the rows [total·i/n, total·(i+1)/n) of the jobs laid
 * end to end, cut at multiples of 16 rows so that threads do not write into
 * one cache line of out. */
static void mm_task(void *vctx, int i, int n)
{
    const mm_batch *b = vctx;
    long lo = b->total * i / n, hi = b->total * (i + 1) / n;
    lo = i == 0 ? 0 : lo - lo % 16;
    hi = i == n - 1 ? b->total : hi - hi % 16;
    long base = 0;
    for (int j = 0; j < b->n && base < hi; j++) {
        const long rows = b->jobs[j].OUT;
        const long a = lo > base ? lo : base, z = hi < base + rows ? hi : base + rows;
        if (a < z)
            mm_rows(&b->jobs[j], (int)(a - base), (int)(z - base));
        base += rows;
    }
}

/* Below this many multiply-adds a job costs more to hand out than to run. */
#define SMALL_JOB_MACS (1L << 15)

void rt_matmul_many(rt_pool *p, const rt_mm *jobs, int n)
{
    mm_batch b = {jobs, n, 0};
    long macs = 0;
    for (int j = 0; j < n; j++) {
        b.total += jobs[j].OUT;
        macs += (long)jobs[j].OUT * jobs[j].IN * jobs[j].N;
    }
    rt_pool_run(macs < SMALL_JOB_MACS ? NULL : p, mm_task, &b);
}

void rt_matmul_pool(rt_pool *p, float *out, const float *in, const float *w, const float *b, int N,
                    int IN, int OUT)
{
    const rt_mm job = {out, in, w, b, N, IN, OUT, OUT, false};
    rt_matmul_many(p, &job, 1);
}

void rt_run_workers(void *(*work)(void *), void *arg, int threads)
{
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    pthread_t th[RT_WORKERS_MAX];
    const int nt = threads < RT_WORKERS_MAX ? threads : RT_WORKERS_MAX;
    int started = 0;
    for (int i = 0; i < nt; i++)
        if (pthread_create(&th[started], NULL, work, arg) == 0)
            started++;
    if (started == 0)
        work(arg);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    openblas_set_num_threads(blas_threads);
}

void *rt_alloc_streamed(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    if (n == 0 || n > SIZE_MAX - huge)
        return NULL;
    const size_t bytes = (n + huge - 1) / huge * huge; /* aligned_alloc: a multiple */
    void *p = aligned_alloc(huge, bytes);
    if (p)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only */
    return p;
}
