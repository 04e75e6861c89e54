/* qkvplan study --paper — the paper's full Table 1 sweep as resumable,
 * shardable runs, one JSON line each; qkvplan study merge — its table. */
#define _DEFAULT_SOURCE /* fsync, ftruncate */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/core/clock.h"
#include "analyzer/core/infile.h"
#include "cli/cli.h"
#include "cli/doc.h"
#include "cli/options.h"
#include "cli/pathguard.h"
#include "cli/units.h"
#include "probes/runtime/rt_kernels.h"
#include "probes/runtime/rt_pos2d.h"
#include "probes/train/sweep.h"
#include "reports/fmt.h"
#include "reports/study/sweep_report.h"

enum {
    P_PAPER = 1,
    P_SHARD,
    P_RESUME,
    P_DRY,
    P_TASKS,
    P_VARIANTS,
    P_SEEDS,
    P_D,
    P_LAYERS,
    P_HEADS,
    P_LEN,
    P_TRAIN,
    P_TEST,
    P_EPOCHS,
    P_BATCH,
    P_LR,
    P_POS2D,
    P_THREADS,
    P_OUTPUT,
    P_FORMAT,
    P_HELP
};

#define PSTR_(x) #x
#define PSTR(x) PSTR_(x)

const cli_option cli_study_paper_options[] = {
    {0, NULL, 0, NULL, NULL, "The sweep and its share:"},
    {P_PAPER, "paper", 0, NULL, NULL, "run the paper's Table 1 sweep (this command)"},
    {P_OUTPUT, "output", 'o', "FILE", NULL,
     "append one JSON line per finished run to FILE (required)"},
    {P_SHARD, "shard", 0, "I/N", "1/1", "run only the runs j with j mod N = I - 1"},
    {P_RESUME, "resume", 0, NULL, NULL,
     "continue FILE: skip the runs it holds (an unfinished last line is dropped)"},
    {P_DRY, "dry-run", 0, NULL, NULL,
     "print the runs this shard would train and the ETA, then stop"},
    {P_THREADS, "threads", 'j', "N", "2", "runs trained in parallel"},
    {0, NULL, 0, NULL, NULL, "The grid (the paper's by default):"},
    {P_TASKS, "tasks", 't', "LIST", SWEEP_PAPER_TASKS, "synthetic tasks"},
    {P_VARIANTS, "variants", 'v', "LIST", STUDY_DEFAULT_VARIANTS,
     "variants, as for qkvplan study (Table 1's six)"},
    {P_D, "d-model", 0, "LIST", SWEEP_PAPER_D, "embedding sizes"},
    {P_LAYERS, "layers", 0, "LIST", SWEEP_PAPER_LAYERS, "layer counts"},
    {P_HEADS, "heads", 0, "LIST", SWEEP_PAPER_HEADS, "query head counts"},
    {P_LEN, "seq-len", 0, "LIST", SWEEP_PAPER_LENS, "sequence lengths"},
    {P_SEEDS, "seeds", 's', "N", PSTR(SWEEP_PAPER_SEEDS), "seeds per grid point"},
    {0, NULL, 0, NULL, NULL, "The regime (the authors' reproduction by default):"},
    {P_TRAIN, "train-seqs", 0, "N", PSTR(SWEEP_TRAIN_SEQS), "fixed training sequences per seed"},
    {P_TEST, "test-seqs", 0, "N", PSTR(SWEEP_TEST_SEQS), "fixed test sequences"},
    {P_EPOCHS, "epochs", 0, "N", PSTR(SWEEP_EPOCHS), "passes over the training set"},
    {P_BATCH, "batch", 0, "N", PSTR(SWEEP_BATCH),
     "sequences per step (a partial last batch of "
     "an epoch is dropped)"},
    {P_LR, "lr", 0, "RATE", PSTR(SWEEP_LR),
     "Adam learning rate, cosine to 0, no warm-up, gradient norm clipped at " PSTR(SWEEP_CLIP)},
    {P_POS2D, "pos2d", 0, "FORM", "paper", "the + variants' term: paper, relative or ramp"},
    {P_HELP, "help", 'h', NULL, NULL, "show this help"},
    {0, NULL, 0, NULL, NULL, NULL},
};

typedef struct {
    sweep_grid g;
    const char *output;
    int shard_i, shard_n;
    uint64_t threads;
    bool resume, dry, help;
} paper_state;

static int on_paper_option(void *vs, int id, const char *name, const char *value)
{
    paper_state *st = vs;
    static const char *const axes[] = {
        [P_TASKS] = "tasks",   [P_VARIANTS] = "variants", [P_D] = "d",
        [P_LAYERS] = "layers", [P_HEADS] = "heads",       [P_LEN] = "len"};
    char why[160];
    qkv_error err;
    uint64_t v, hi = 0;
    int *target = NULL;
    switch (id) {
    case P_PAPER:
        return 0;
    case P_OUTPUT:
        st->output = value;
        return 0;
    case P_RESUME:
        st->resume = true;
        return 0;
    case P_DRY:
        st->dry = true;
        return 0;
    case P_HELP:
        st->help = true;
        return 0;
    case P_SHARD:
        if (units_parse_shard(value, &st->shard_i, &st->shard_n, why, sizeof why) != 0) {
            cli_error("--%s '%s': %s", name, value, why);
            return -1;
        }
        return 0;
    case P_TASKS:
    case P_VARIANTS:
    case P_D:
    case P_LAYERS:
    case P_HEADS:
    case P_LEN:
        if (sweep_grid_set(&st->g, axes[id], value, &err) != QKV_OK) {
            cli_error("--%s: %s", name, err.msg);
            return -1;
        }
        return 0;
    case P_LR: {
        char *end;
        const double lr = strtod(value, &end);
        if (end == value || *end || !(lr >= 1e-12 && lr <= 1.0)) {
            cli_error("--%s '%s': must be a number from 1e-12 to 1", name, value);
            return -1;
        }
        /* the regime's text names the rate with 6 significant digits: it
         * must read back as the rate trained with */
        char text[32];
        snprintf(text, sizeof text, "%g", lr);
        if (strtod(text, NULL) != lr) {
            cli_error("--%s '%s': give the rate with at most 6 significant digits", name, value);
            return -1;
        }
        st->g.lr = lr;
        return 0;
    }
    case P_POS2D:
        if (rt_pos2d_form_parse(value, &st->g.pos2d_form) != QKV_OK) {
            cli_error("--%s '%s': unknown form (paper, relative, ramp)", name, value);
            return -1;
        }
        return 0;
    case P_THREADS:
        if (units_parse_count(value, 1, RT_WORKERS_MAX, &st->threads, why, sizeof why) != 0) {
            cli_error("--%s '%s': %s", name, value, why);
            return -1;
        }
        return 0;
    case P_SEEDS:
        target = &st->g.seeds, hi = 64;
        break;
    case P_TRAIN:
        target = &st->g.train_seqs, hi = 10000000;
        break;
    case P_TEST:
        target = &st->g.test_seqs, hi = 1000000;
        break;
    case P_EPOCHS:
        target = &st->g.epochs, hi = 1000;
        break;
    case P_BATCH:
        target = &st->g.batch, hi = 4096;
        break;
    }
    if (target) {
        if (units_parse_count(value, 1, hi, &v, why, sizeof why) != 0) {
            cli_error("--%s '%s': %s", name, value, why);
            return -1;
        }
        *target = (int)v;
    }
    return 0;
}

/* The runs a result file holds, read line by line. */
typedef struct {
    const sweep_grid *g;
    char gt[SWEEP_TEXT_BYTES], rt[SWEEP_TEXT_BYTES];
    bool *done;
    long n_done;
} done_reader;

static qkv_status done_line(void *ctx, const char *line, size_t n, qkv_error *err)
{
    done_reader *d = ctx;
    sweep_line l;
    qkv_status st = report_sweep_line_parse(line, n, &l, err);
    if (st != QKV_OK)
        return st;
    if (strcmp(l.grid, d->gt) != 0 || strcmp(l.regime, d->rt) != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "a line of another sweep (%.200s; %.200s): resume with the options "
                             "that started it, or choose another --output",
                             strcmp(l.grid, d->gt) != 0 ? l.grid : "", l.regime);
    if ((st = report_sweep_line_check(d->g, &l, err)) != QKV_OK)
        return st;
    d->n_done += !d->done[l.run];
    d->done[l.run] = true;
    return QKV_OK;
}

/* Read the runs FILE holds into done[] (every line must belong to grid g).
 * An unfinished last line (a run stopped while writing) is cut off the
 * file when `cut`. Returns EXIT_OK, or prints "FILE:LINE: why" and returns
 * the code. */
static int read_done(const char *path, const sweep_grid *g, bool cut, bool *done, long *n_done)
{
    done_reader d = {.g = g, .done = done};
    sweep_grid_text(g, d.gt, sizeof d.gt);
    sweep_regime_text(g, d.rt, sizeof d.rt);
    long complete = 0;
    int code =
        cli_each_line(path, cut ? "dropped" : "left to its writer", done_line, &d, &complete);
    *n_done = d.n_done;
    struct stat sb;
    if (code == EXIT_OK && cut && stat(path, &sb) == 0 && complete < sb.st_size &&
        truncate(path, complete) != 0) {
        cli_error("cannot cut the unfinished line off '%s': %s", path, strerror(errno));
        code = EXIT_FAIL;
    }
    return code;
}

typedef struct {
    const sweep_grid *g;
    const long *todo;
    long n_todo, next, finished;
    double flops_total, flops_done, t0;
    int fd;
    const char *path;
    qkv_status status;
    qkv_error err;
    pthread_mutex_t lock;
} sweep_runner;

/* Seconds as "42 s", "12 min", "3.4 h", "2.1 days". */
static void fmt_duration(double s, char *buf, size_t n)
{
    if (s < 90)
        snprintf(buf, n, "%.0f s", s);
    else if (s < 5400)
        snprintf(buf, n, "%.0f min", s / 60);
    else if (s < 172800)
        snprintf(buf, n, "%.1f h", s / 3600);
    else
        snprintf(buf, n, "%.1f days", s / 86400);
}

/* Append the whole line and its newline with one write, then make it
 * durable: a run is either in the file or not. */
static qkv_status append_line(int fd, const char *path, const char *text, qkv_error *err)
{
    const size_t n = strlen(text);
    char *buf = malloc(n + 1);
    if (!buf)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    memcpy(buf, text, n);
    buf[n] = '\n';
    size_t off = 0;
    while (off < n + 1) {
        const ssize_t w = write(fd, buf + off, n + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(buf);
            return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path,
                                 w < 0 ? strerror(errno) : "no space");
        }
        off += (size_t)w;
    }
    free(buf);
    if (fsync(fd) != 0 && errno != EINVAL)
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    return QKV_OK;
}

static void *sweep_worker(void *arg)
{
    sweep_runner *R = arg;
    for (;;) {
        pthread_mutex_lock(&R->lock);
        const long k = R->status == QKV_OK && R->next < R->n_todo ? R->next++ : -1;
        pthread_mutex_unlock(&R->lock);
        if (k < 0)
            return NULL;
        const long j = R->todo[k];
        sweep_run r;
        sweep_run_at(R->g, j, &r);
        sweep_outcome o;
        qkv_error e;
        char *text = NULL;
        qkv_status st = sweep_train(R->g, &r, &o, &e);
        if (st != QKV_OK) { /* say which run */
            study_variant v;
            qkv_error e2;
            const char *label = sweep_variant(R->g, &r, &v, &e2) == QKV_OK ? v.label : "?";
            char msg[sizeof e.msg];
            snprintf(msg, sizeof msg, "%s", e.msg);
            qkv_error_set(&e, st, "run %ld (%s@%d, d %d, %d layers, %d heads, %s, seed %d): %.200s",
                          j, task_kind_name(R->g->tasks[r.task]), r.len, r.d, r.layers, r.heads,
                          label, r.seed, msg);
        }
        if (st == QKV_OK)
            st = report_sweep_line(R->g, j, &o, &text, &e);
        pthread_mutex_lock(&R->lock);
        if (st == QKV_OK)
            st = append_line(R->fd, R->path, text, &e);
        if (st != QKV_OK && R->status == QKV_OK) {
            R->status = st;
            R->err = e;
        }
        if (st == QKV_OK) {
            R->finished++;
            R->flops_done += sweep_run_flops(R->g, &r);
            const double el = qkv_now_s() - R->t0;
            char left[32];
            fmt_duration(el * (R->flops_total - R->flops_done) / R->flops_done, left, sizeof left);
            study_variant v;
            sweep_variant(R->g, &r, &v, &e);
            fprintf(stderr,
                    "[%ld/%ld] %s@%d d %d, %d layers, %d heads, %s, seed %d: %.1f%% in %.1f s; %s "
                    "left\n",
                    R->finished, R->n_todo, task_kind_name(R->g->tasks[r.task]), r.len, r.d,
                    r.layers, r.heads, v.label, r.seed, o.accuracy, o.seconds, left);
        }
        pthread_mutex_unlock(&R->lock);
        free(text);
    }
}

/* Seconds to train and evaluate the pending runs, one after another: the
 * time of a training step is measured on the smallest and the largest
 * pending run and interpolated linearly in the step's FLOP for the others
 * (small steps run at a lower rate than large ones). 0 when it cannot be
 * measured. */
static double estimate_seconds(const sweep_grid *g, const long *todo, long n_todo)
{
    long lo = todo[0], hi = todo[0];
    double flo = INFINITY, fhi = 0.0;
    for (long k = 0; k < n_todo; k++) {
        sweep_run r;
        sweep_run_at(g, todo[k], &r);
        const double f = sweep_step_flops(g, &r);
        if (f < flo)
            flo = f, lo = todo[k];
        if (f > fhi)
            fhi = f, hi = todo[k];
    }
    sweep_run rl, rh;
    sweep_run_at(g, lo, &rl);
    sweep_run_at(g, hi, &rh);
    double tl, th;
    qkv_error e;
    if (sweep_step_seconds(g, &rl, &tl, &e) != QKV_OK ||
        (hi != lo && sweep_step_seconds(g, &rh, &th, &e) != QKV_OK))
        return 0.0;
    if (hi == lo || fhi <= flo)
        th = tl, fhi = flo + 1.0;
    const double steps = sweep_run_step_equivalents(g);
    double total = 0.0;
    for (long k = 0; k < n_todo; k++) {
        sweep_run r;
        sweep_run_at(g, todo[k], &r);
        const double f = sweep_step_flops(g, &r);
        total += steps * fmax(tl, tl + (th - tl) * (f - flo) / (fhi - flo));
    }
    return total;
}

static void print_help(void)
{
    printf("Usage: qkvplan study --paper -o FILE [OPTIONS]\n"
           "       qkvplan study merge FILE... [-f FMT] [-o OUT]\n\n"
           "Runs the paper's Table 1 sweep (tasks x lengths x embedding x layers x heads\n"
           "x variants x seeds; 3,240 runs by default) under the authors' regime, and\n"
           "appends one JSON line per finished run to FILE. Runs are independent: --shard\n"
           "splits the sweep across machines, --resume continues a stopped run, and\n"
           "'qkvplan study merge' builds the table beside the paper's from any set of\n"
           "result files. An ETA is printed before the first run, a line per run after.\n");
    cli_print_options(stdout, cli_study_paper_options);
    printf("\nSplitting the sweep:\n"
           "  GNU parallel, 4 shards on one machine, one thread each:\n"
           "    parallel -j4 qkvplan study --paper --threads 1 --resume \\\n"
           "      --shard {}/4 -o shard-{}.jsonl ::: 1 2 3 4\n"
           "  Slurm, a job array of 32 tasks (sbatch script):\n"
           "    #SBATCH --array=1-32 --cpus-per-task=2\n"
           "    qkvplan study --paper --resume --shard $SLURM_ARRAY_TASK_ID/32 \\\n"
           "      -o shard-$SLURM_ARRAY_TASK_ID.jsonl\n"
           "  then: qkvplan study merge shard-*.jsonl -f md -o table1.md\n"
           "--resume on a missing or empty FILE starts it, so a requeued job continues.\n"
           "\nExit codes: 0 done; 1 FILE could not be written; 2 bad command line, or FILE\n"
           "holds results and --resume was not given; 3 FILE holds a malformed line or\n"
           "one of another sweep.\n");
}

int cmd_study_paper(int argc, char **argv)
{
    paper_state st;
    memset(&st, 0, sizeof st);
    st.g = sweep_grid_paper();
    st.shard_n = 1;
    if (cli_apply_defaults(cli_study_paper_options, on_paper_option, &st) != 0)
        return EXIT_FAIL;
    if (cli_parse(cli_study_paper_options, argc, argv, on_paper_option, &st) != 0)
        return EXIT_USAGE;
    if (st.help) {
        print_help();
        return cli_finish_stdout(EXIT_OK);
    }
    qkv_error err;
    if (sweep_grid_check(&st.g, &err) != QKV_OK)
        return cli_fail(&err, EXIT_USAGE);
    if (!st.output && !st.dry) {
        cli_error("--paper needs -o FILE: each finished run is appended to it (--resume "
                  "continues it)");
        return EXIT_USAGE;
    }
    const sweep_grid *g = &st.g;
    const long total = sweep_count(g);
    bool *done = calloc((size_t)total, sizeof(bool));
    long *todo = malloc((size_t)total * sizeof(long));
    int code = EXIT_OK, fd = -1;
    bool created = false; /* this run made the output file */
    long n_done = 0, n_todo = 0;
    if (!done || !todo) {
        cli_error("out of memory");
        code = EXIT_FAIL;
        goto out;
    }
    struct stat sb;
    bool exists = st.output && stat(st.output, &sb) == 0;
    if (exists && !S_ISREG(sb.st_mode)) { /* a FIFO would block the open */
        cli_error("'%s' is not a regular file", st.output);
        code = EXIT_USAGE;
        goto out;
    }
    if (!st.dry) { /* one writer per file: a second run on it would cut its lines */
        fd = open(st.output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                  0644);
        if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            cli_error("cannot write '%s': %s", st.output,
                      fd < 0 ? strerror(errno) : "not a regular file");
            code = fd < 0 ? EXIT_FAIL : EXIT_USAGE;
            goto out;
        }
        created = !exists;
        exists = true;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            cli_error("'%s' is being written by another run (it holds the file's lock)", st.output);
            code = EXIT_USAGE;
            goto out;
        }
    }
    if (exists && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        if (!st.resume) {
            cli_error("'%s' holds results already: --resume continues it, or choose another "
                      "--output",
                      st.output);
            code = EXIT_USAGE;
            goto out;
        }
        if ((code = read_done(st.output, g, !st.dry, done, &n_done)) != EXIT_OK)
            goto out;
    }
    double flops = 0.0;
    for (long j = st.shard_i; j < total; j += st.shard_n)
        if (!done[j]) {
            todo[n_todo++] = j;
            sweep_run r;
            sweep_run_at(g, j, &r);
            flops += sweep_run_flops(g, &r);
        }
    char a[32], b[32], c[32], eta[32] = "nothing";
    fmt_grouped((uint64_t)n_todo, a, sizeof a);
    fmt_grouped((uint64_t)total, b, sizeof b);
    fmt_grouped((uint64_t)n_done, c, sizeof c);
    const int threads = (int)(st.threads < (uint64_t)(n_todo > 0 ? n_todo : 1)
                                  ? st.threads
                                  : (uint64_t)(n_todo > 0 ? n_todo : 1));
    if (n_todo > 0) {
        const double secs = estimate_seconds(g, todo, n_todo);
        if (secs > 0.0)
            fmt_duration(secs / threads, eta, sizeof eta);
        else
            snprintf(eta, sizeof eta, "an unknown time");
    }
    fprintf(stderr,
            "qkvplan: shard %d/%d of the %s-run sweep: %s run%s to train (%s in the file "
            "already), %.2g FLOP; about %s on %d thread%s\n",
            st.shard_i + 1, st.shard_n, b, a, n_todo == 1 ? "" : "s", c, flops, eta, threads,
            threads == 1 ? "" : "s");
    if (st.dry) {
        for (long k = 0; k < n_todo; k++) {
            sweep_run r;
            study_variant v;
            sweep_run_at(g, todo[k], &r);
            sweep_variant(g, &r, &v, &err);
            printf("%ld %s@%d d%d L%d H%d %s seed %d\n", todo[k], task_kind_name(g->tasks[r.task]),
                   r.len, r.d, r.layers, r.heads, v.label, r.seed);
        }
        code = cli_finish_stdout(EXIT_OK);
        goto out;
    }
    sweep_runner R = {.g = g,
                      .todo = todo,
                      .n_todo = n_todo,
                      .flops_total = flops,
                      .fd = fd,
                      .path = st.output,
                      .status = QKV_OK};
    pthread_mutex_init(&R.lock, NULL);
    R.t0 = qkv_now_s();
    if (n_todo > 0)
        rt_run_workers(sweep_worker, &R, threads);
    pthread_mutex_destroy(&R.lock);
    if (R.status != QKV_OK) {
        code = cli_fail(&R.err, EXIT_FAIL);
        goto out;
    }
    fprintf(stderr, "qkvplan: %ld run%s written to %s; the table: qkvplan study merge %s\n",
            R.finished, R.finished == 1 ? "" : "s", st.output, st.output);
out:
    if (fd >= 0 && close(fd) != 0 && code == EXIT_OK) {
        cli_error("cannot write '%s': %s", st.output, strerror(errno));
        code = EXIT_FAIL;
    }
    /* a file this run created and left empty is removed */
    if (created && code != EXIT_OK && stat(st.output, &sb) == 0 && sb.st_size == 0)
        unlink(st.output);
    free(done);
    free(todo);
    return code;
}

/* --- qkvplan study merge ------------------------------------------------ */

enum { M_FORMAT = 1, M_OUTPUT, M_HELP };

const cli_option cli_study_merge_options[] = {
    {M_FORMAT, "format", 'f', "FMT", "table", "table, json, csv or md"},
    {M_OUTPUT, "output", 'o', "FILE", NULL,
     "write to FILE (atomically) instead of standard output"},
    {M_HELP, "help", 'h', NULL, NULL, "show this help"},
    {0, NULL, 0, NULL, NULL, NULL},
};

typedef struct {
    report_format format;
    const char *output;
    bool help;
} merge_state;

static int on_merge_option(void *vs, int id, const char *name, const char *value)
{
    merge_state *st = vs;
    switch (id) {
    case M_FORMAT:
        if (report_format_parse(value, &st->format) != QKV_OK) {
            cli_error("--%s '%s': unknown format (table, json, csv, md)", name, value);
            return -1;
        }
        return 0;
    case M_OUTPUT:
        st->output = value;
        return 0;
    case M_HELP:
        st->help = true;
        return 0;
    }
    return 0;
}

/* Result lines into a merged sweep, set up from the first line read. */
typedef struct {
    sweep_merged *m;
    bool started;
    char gt[SWEEP_TEXT_BYTES], rt[SWEEP_TEXT_BYTES];
} merger;

static qkv_status merge_line(void *ctx, const char *line, size_t n, qkv_error *err)
{
    merger *mg = ctx;
    sweep_line l;
    qkv_status st = report_sweep_line_parse(line, n, &l, err);
    if (st != QKV_OK)
        return st;
    if (!mg->started) {
        sweep_grid g;
        if ((st = sweep_grid_from_text(l.grid, l.regime, &g, err)) != QKV_OK ||
            (st = sweep_merged_init(mg->m, &g, err)) != QKV_OK)
            return st;
        snprintf(mg->gt, sizeof mg->gt, "%s", l.grid);
        snprintf(mg->rt, sizeof mg->rt, "%s", l.regime);
        mg->started = true;
    } else if (strcmp(l.grid, mg->gt) != 0 || strcmp(l.regime, mg->rt) != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "a line of another sweep than the first file's (grid %.200s; "
                             "regime %.200s)",
                             l.grid, l.regime);
    if ((st = report_sweep_line_check(&mg->m->grid, &l, err)) != QKV_OK)
        return st;
    sweep_merged_add(mg->m, l.run, l.accuracy, l.eval_loss);
    return QKV_OK;
}

typedef struct {
    const sweep_merged *m;
    int n_sources;
} merge_ctx;

static qkv_status write_merged(FILE *f, report_format fmt, const void *ctx, qkv_error *err)
{
    const merge_ctx *c = ctx;
    return report_sweep_write(f, fmt, c->m, c->n_sources, err);
}

int cmd_study_merge(int argc, char **argv)
{
    merge_state st = {REPORT_TABLE, NULL, false};
    cli_positional pos = {.max = CLI_POSITIONAL_MAX};
    if (cli_parse_positional(cli_study_merge_options, argc, argv, on_merge_option, &st, &pos) != 0)
        return EXIT_USAGE;
    if (st.help) {
        printf("Usage: qkvplan study merge FILE... [OPTIONS]\n\n"
               "Builds the paper's Table 1 from the result lines of 'qkvplan study --paper'\n"
               "(any shards, in any order; a run found twice counts once): per task and\n"
               "variant over every length beside the paper's figure, per length, and the\n"
               "paper's findings checked. An unfinished sweep is merged, marked INCOMPLETE.\n");
        cli_print_options(stdout, cli_study_merge_options);
        printf("\nExit codes: 0 written; 1 output could not be written; 2 bad command line;\n"
               "3 a file is unreadable, malformed or from another sweep, or no file holds a\n"
               "result line.\n");
        return cli_finish_stdout(EXIT_OK);
    }
    if (pos.n == 0) {
        cli_error("study merge needs result files (qkvplan study --paper -o FILE writes them)");
        return EXIT_USAGE;
    }
    sweep_merged m;
    memset(&m, 0, sizeof m);
    qkv_error err;
    merger mg = {.m = &m};
    int code = EXIT_OK;
    for (int i = 0; i < pos.n && code == EXIT_OK; i++)
        code = cli_each_line(pos.arg[i], "skipped (a run still writing?)", merge_line, &mg, NULL);
    const bool started = mg.started;
    if (code == EXIT_OK && !started) {
        cli_error("no result lines in %s%s", pos.arg[0], pos.n > 1 ? " and the other files" : "");
        code = EXIT_INPUT;
    }
    if (code == EXIT_OK) {
        cli_outputs outs = {0};
        cli_outputs_add(&outs, "--output", "%s", st.output);
        code = cli_outputs_check(&outs);
    }
    if (code == EXIT_OK && sweep_merged_finish(&m, &err) != QKV_OK)
        code = cli_fail(&err, EXIT_FAIL);
    if (code == EXIT_OK) {
        const merge_ctx ctx = {&m, pos.n};
        code = cli_write_report(st.output, st.format, write_merged, &ctx);
    }
    if (started)
        sweep_merged_free(&m);
    return code;
}
