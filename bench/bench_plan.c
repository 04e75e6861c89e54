/* Planner benchmarks (`make bench`):
 *   1. plans per second over the whole catalog x default grid x a context
 *      sweep (512 .. 1M, powers of two), one plan = one variant evaluated at
 *      one context, without and with solving for max ctx / max seqs;
 *   2. wall time of the headline command (`qkvplan --device 8GB --ctx 32k`,
 *      output to /dev/null), median of repeated runs, process start included.
 * Timings are printed, never asserted: the machine is shared and noisy. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../analyzer/catalog.h"
#include "../analyzer/kvplan.h"

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Evaluate every catalog model x grid variant x context; returns plans done. */
static long sweep(bool solve, volatile uint64_t *sink)
{
    long plans = 0;
    for (size_t mi = 0; mi < catalog_count(); mi++) {
        const model_shape *m = catalog_get(mi);
        variant vs[VARIANT_MAX];
        size_t n = variant_default_grid(m, vs, VARIANT_MAX);
        for (uint64_t ctx = 512; ctx <= ((uint64_t)1 << 20); ctx *= 2) {
            for (int e = 0; e < ENGINE_COUNT; e++) {
                kvplan_params p = kvplan_params_default();
                p.ctx = ctx;
                p.engine = (kvplan_engine)e;
                for (size_t i = 0; i < n; i++) {
                    kvplan_row row;
                    if (kvplan_row_eval(m, &vs[i], &p, solve, &row, NULL) == QKV_OK)
                        *sink += row.total_bytes + row.max_ctx;
                    plans++;
                }
            }
        }
    }
    return plans;
}

int main(int argc, char **argv)
{
    const char *bin = argc > 1 ? argv[1] : "./qkvplan";
    volatile uint64_t sink = 0;

    for (int solve = 0; solve <= 1; solve++) {
        long plans = 0;
        double t0 = now(), t;
        do {
            plans += sweep(solve, &sink);
            t = now() - t0;
        } while (t < 1.0);
        printf("planner %-28s %12.0f plans/s  (%ld plans in %.2f s)\n",
               solve ? "with max ctx/seqs solving:" : "memory only:", (double)plans / t, plans, t);
    }

    enum { RUNS = 25 };
    double times[RUNS];
    char *args[] = {(char *)bin, "--device", "8GB", "--ctx", "32k", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    for (int i = 0; i < RUNS; i++) {
        pid_t pid;
        int status;
        double t0 = now();
        if (posix_spawn(&pid, bin, &fa, NULL, args, environ) != 0) {
            fprintf(stderr, "bench: cannot run %s\n", bin);
            return 1;
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bench: %s failed\n", bin);
            return 1;
        }
        times[i] = now() - t0;
    }
    posix_spawn_file_actions_destroy(&fa);
    qsort(times, RUNS, sizeof times[0], cmp_double);
    printf("headline `qkvplan --device 8GB --ctx 32k`: median %.2f ms, min %.2f ms (%d runs)\n",
           1e3 * times[RUNS / 2], 1e3 * times[0], RUNS);
    return sink == 42 ? 2 : 0;
}
