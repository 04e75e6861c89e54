/* Planner benchmarks (`make bench`):
 *   1. plans per second over the whole catalog x default grid x a context
 *      sweep (512 .. 1M, powers of two), one plan = one variant evaluated at
 *      one context, without and with solving for max ctx / max seqs;
 *   2. wall time of the headline command (`qkvplan --device 8GB --ctx 32k`,
 *      output to /dev/null), median of repeated runs, process start included;
 *   3. wall time of the same command writing the full design-review bundle
 *      (--report: Markdown, XLSX, JSON and three gnuplot figures as PNG + SVG).
 * Timings are printed, never asserted: the machine is shared and noisy. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/catalog.h"
#include "analyzer/kvplan.h"

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

/* Median wall time of running args (output to /dev/null) runs times. */
static double median_run(char **args, int runs, double *min_out)
{
    double times[64];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    for (int i = 0; i < runs; i++) {
        pid_t pid;
        int status;
        double t0 = now();
        if (posix_spawn(&pid, args[0], &fa, NULL, args, environ) != 0 ||
            waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            posix_spawn_file_actions_destroy(&fa);
            return -1.0;
        }
        times[i] = now() - t0;
    }
    posix_spawn_file_actions_destroy(&fa);
    qsort(times, (size_t)runs, sizeof times[0], cmp_double);
    *min_out = times[0];
    return times[runs / 2];
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

    char *args[] = {(char *)bin, "--device", "8GB", "--ctx", "32k", NULL};
    double mn, med = median_run(args, 25, &mn);
    if (med < 0) {
        fprintf(stderr, "bench: %s failed\n", bin);
        return 1;
    }
    printf("headline `qkvplan --device 8GB --ctx 32k`: median %.2f ms, min %.2f ms (25 runs)\n",
           1e3 * med, 1e3 * mn);
    char dir[] = "/tmp/qkvplan-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        return 1;
    }
    char *rargs[] = {(char *)bin, "--device", "8GB", "--ctx", "32k", "--report", dir, NULL};
    med = median_run(rargs, 10, &mn);
    if (med < 0) {
        fprintf(stderr, "bench: %s --report failed (is gnuplot installed?)\n", bin);
        return 1;
    }
    printf("headline with --report (md, xlsx, json, 3 gnuplot figures as PNG+SVG): median %.0f ms, "
           "min %.0f ms (10 runs)\n",
           1e3 * med, 1e3 * mn);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
    return sink == 42 ? 2 : 0;
}
