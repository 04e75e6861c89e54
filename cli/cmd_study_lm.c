/* qkvplan study --tasks lm — the language-model study (probes/train/lm_study.h):
 * a corpus sampled from a teacher, cached; every variant trained on it; the
 * report beside the paper's figures. */
#define _DEFAULT_SOURCE /* isatty */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "analyzer/core/paths.h"
#include "analyzer/core/infile.h"
#include "cli/cli.h"
#include "cli/lists.h"
#include "cli/options.h"
#include "cli/pathguard.h"
#include "cli/stderr_capture.h"
#include "cli/units.h"
#include "probes/runtime/llama2c.h"
#include "probes/train/lm_study.h"
#include "reports/study/lm_report.h"

enum {
    L_TASKS = 1,
    L_VARIANTS,
    L_SEEDS,
    L_STEPS,
    L_DMODEL,
    L_LAYERS,
    L_HEADS,
    L_CTX,
    L_CONTEXTS,
    L_BATCH,
    L_LR,
    L_THREADS,
    L_PMATCH,
    L_BUDGET,
    L_SHARD,
    L_MERGE,
    L_TEACHER,
    L_CSEED,
    L_CTRAIN,
    L_CVAL,
    L_CLEN,
    L_CACHE,
    L_FORMAT,
    L_OUTPUT,
    L_XLSX,
    L_REPORT,
    L_HELP
};

#define LM_STR(x) STUDY_STR(x)

static const cli_option
    lm_options
        [] =
            {
                {0, NULL, 0, NULL, NULL, "What to train:"},
                {L_TASKS, "tasks", 't', "lm", "lm",
                 "the language-model study (other tasks: qkvplan study --help)"},
                {L_VARIANTS, "variants", 'v', "LIST", LM_DEFAULT_VARIANTS,
                 "variants: a sharing (QKV, Q-K=V, Q=K-V, Q=K=V), +GQA-N (N KV heads) or +MQA"},
                {L_SEEDS, "seeds", 's', "N", LM_STR(LM_DEFAULT_SEEDS),
                 "seeds per variant (mean and spread)"},
                {L_STEPS, "steps", 'n', "N", LM_STR(LM_DEFAULT_STEPS),
                 "training steps of every run"},
                {L_BUDGET, "budget", 0, "NAME", "default",
                 "default, or long: d-model " LM_STR(LM_LONG_D_MODEL) ", " LM_STR(LM_LONG_LAYERS) " layers, " LM_STR(LM_LONG_STEPS) " steps, " LM_STR(
                     LM_LONG_CORPUS_TRAIN) " + " LM_STR(LM_LONG_CORPUS_VAL) " corpus sequences "
                                                                            "(for the options left "
                                                                            "at their defaults); "
                                                                            "hours on two cores, "
                                                                            "so shard it"},
                {L_SHARD, "shard", 0, "I/N", NULL,
                 "run only the runs j with j mod N = I - 1 and print one JSON line per run "
                 "(variant, context, seed, validation perplexity, teacher floor, curve) instead "
                 "of the report; --merge builds the report from the shards' lines"},
                {L_MERGE, "merge", 0, "FILE", NULL,
                 "instead of training, build the report from the lines --shard runs wrote "
                 "to FILE (repeat for every shard's file; give the shards' other options)"},
                {0, NULL, 0, NULL, NULL, "Students (GPT-2 style) and optimiser:"},
                {L_DMODEL, "d-model", 0, "N", LM_STR(LM_DEFAULT_D_MODEL), "hidden size"},
                {L_LAYERS, "layers", 0, "N", LM_STR(LM_DEFAULT_LAYERS), "layers"},
                {L_HEADS, "heads", 0, "N", LM_STR(LM_DEFAULT_HEADS),
                 "query heads (d-model must be divisible by them)"},
                {L_CTX, "ctx", 0, "N", LM_STR(LM_DEFAULT_CTX),
                 "training context of the main comparison (divides --corpus-len)"},
                {L_CONTEXTS, "contexts", 0, "LIST", LM_DEFAULT_ABLATION,
                 "training contexts of the QKV vs Q-K=V ablation (batch x context kept fixed), or "
                 "none"},
                {L_BATCH, "batch", 0, "N", LM_STR(LM_DEFAULT_BATCH), "sequences per step at --ctx"},
                {L_LR, "lr", 0, "RATE", LM_STR(LM_DEFAULT_LR),
                 "peak learning rate (AdamW, " LM_STR(
                     LM_DEFAULT_WARMUP) " warm-up steps, cosine to 10%)"},
                {L_PMATCH, "param-match", 0, NULL, NULL,
                 "widen the FFN of variants that drop projections to QKV's parameter count"},
                {L_THREADS, "threads", 'j', "N", LM_STR(STUDY_DEFAULT_THREADS),
                 "runs (and sampling chunks) in parallel"},
                {0, NULL, 0, NULL, NULL, "Corpus:"},
                {L_TEACHER, "teacher", 0, "FILE", LM_DEFAULT_TEACHER,
                 "llama2.c checkpoint the corpus is sampled from"},
                {L_CSEED, "corpus-seed", 0, "N", LM_STR(LM_DEFAULT_CORPUS_SEED),
                 "seed of the sampler"},
                {L_CTRAIN, "corpus-train", 0, "N", LM_STR(LM_DEFAULT_CORPUS_TRAIN),
                 "training sequences"},
                {L_CVAL, "corpus-val", 0, "N", LM_STR(LM_DEFAULT_CORPUS_VAL),
                 "validation sequences"},
                {L_CLEN, "corpus-len", 0, "N", LM_STR(LM_DEFAULT_CORPUS_LEN),
                 "tokens sampled per sequence after BOS"},
                {L_CACHE, "cache", 0, "DIR", NULL,
                 "corpus cache folder [default: $XDG_CACHE_HOME/qkvplan, else ~/.cache/qkvplan, "
                 "else "
                 "build/lm-corpus]"},
                {0, NULL, 0, NULL, NULL, "Output:"},
                {L_FORMAT, "format", 'f', "FMT", "table", "table, json, csv or md"},
                {L_OUTPUT, "output", 'o', "FILE", NULL,
                 "write to FILE (atomically) instead of standard output"},
                {L_XLSX, "xlsx", 0, "FILE", NULL,
                 "also write an XLSX workbook (results, curves, probes)"},
                {L_REPORT, "report", 'r', "DIR", NULL,
                 "also write lm-study.md, .json, .csv, .xlsx and loss-curve plots into DIR"},
                {L_HELP, "help", 'h', NULL, NULL, "show this help"},
                {0, NULL, 0, NULL, NULL, NULL},
};

#define LM_MERGE_MAX 4096

typedef struct {
    const char *variants, *contexts, *teacher, *cache, *output, *xlsx, *report;
    uint64_t seeds, steps, d_model, layers, heads, ctx, batch, threads, cseed, ctrain, cval, clen;
    double lr;
    bool long_budget, param_match, help, sharded;
    int shard_i, shard_n;
    const char *merge[LM_MERGE_MAX]; /* --merge files */
    int n_merge;
    report_format format;
} lm_state;

static int on_option(void *vs, int id, const char *name, const char *value)
{
    lm_state *st = vs;
    char why[160];
    uint64_t *target = NULL, lo = 1, hi = 1 << 20;
    switch (id) {
    case L_TASKS:
        if (strcasecmp(value, "lm") != 0) {
            cli_error("--%s '%s': the language-model study takes only 'lm'", name, value);
            return -1;
        }
        return 0;
    case L_VARIANTS:
        st->variants = value;
        return 0;
    case L_CONTEXTS:
        st->contexts = value;
        return 0;
    case L_TEACHER:
        st->teacher = value;
        return 0;
    case L_CACHE:
        st->cache = value;
        return 0;
    case L_SEEDS:
        target = &st->seeds, hi = 64;
        break;
    case L_STEPS:
        target = &st->steps, hi = 10000000;
        break;
    case L_DMODEL:
        target = &st->d_model, hi = 4096;
        break;
    case L_LAYERS:
        target = &st->layers, hi = 64;
        break;
    case L_HEADS:
        target = &st->heads, hi = 256;
        break;
    case L_CTX:
        target = &st->ctx, lo = 2, hi = 4096;
        break;
    case L_BATCH:
        target = &st->batch, hi = 4096;
        break;
    case L_THREADS:
        target = &st->threads, hi = 16;
        break;
    case L_CSEED:
        target = &st->cseed, lo = 0, hi = UINT32_MAX;
        break;
    case L_CTRAIN:
        target = &st->ctrain, hi = 1 << 22;
        break;
    case L_CVAL:
        target = &st->cval, hi = 1 << 20;
        break;
    case L_CLEN:
        target = &st->clen, lo = 2, hi = 4096;
        break;
    case L_PMATCH:
        st->param_match = true;
        return 0;
    case L_BUDGET:
        if (strcmp(value, "default") != 0 && strcmp(value, "long") != 0) {
            cli_error("--%s '%s': default or long", name, value);
            return -1;
        }
        st->long_budget = strcmp(value, "long") == 0;
        return 0;
    case L_MERGE:
        if (st->n_merge >= LM_MERGE_MAX) {
            cli_error("--%s: at most %d files", name, LM_MERGE_MAX);
            return -1;
        }
        st->merge[st->n_merge++] = value;
        return 0;
    case L_SHARD:
        if (units_parse_shard(value, &st->shard_i, &st->shard_n, why, sizeof why) != 0) {
            cli_error("--%s '%s': %s", name, value, why);
            return -1;
        }
        st->sharded = true;
        return 0;
    case L_LR: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || !isfinite(v) || v > 1.0 || v < 1e-12) {
            cli_error("--%s '%s': must be a number from %g to %g", name, value, 1e-12, 1.0);
            return -1;
        }
        st->lr = v;
        return 0;
    }
    case L_FORMAT:
        if (report_format_parse(value, &st->format) != QKV_OK) {
            cli_error("--%s '%s': unknown format (table, json, csv, md)", name, value);
            return -1;
        }
        return 0;
    case L_OUTPUT:
        st->output = value;
        return 0;
    case L_XLSX:
        st->xlsx = value;
        return 0;
    case L_REPORT:
        st->report = value;
        return 0;
    case L_HELP:
        st->help = true;
        return 0;
    }
    if (target && units_parse_count(value, lo, hi, target, why, sizeof why) != 0) {
        cli_error("--%s '%s': %s", name, value, why);
        return -1;
    }
    return 0;
}

static void on_progress(void *user, int run, int n_runs, const char *label, int ctx, int seed,
                        int step, int steps, double loss)
{
    if (!*(bool *)user)
        return;
    fprintf(stderr, "\r\033[K[run %d/%d] %s ctx %d seed %d: step %d/%d, loss %.3f", run + 1, n_runs,
            label, ctx, seed, step, steps, loss);
    fflush(stderr);
}

static qkv_status write_lm(FILE *f, report_format fmt, const void *r, qkv_error *err)
{
    return report_lm_write(f, fmt, r, err);
}

static qkv_status write_jsonl(FILE *f, report_format fmt, const void *r, qkv_error *err)
{
    (void)fmt;
    return report_lm_runs_jsonl(f, r, err);
}

/* The corpus cache folder: --cache, $XDG_CACHE_HOME/qkvplan, ~/.cache/qkvplan
 * (created), else build/lm-corpus. */
static void cache_dir(const char *opt, char *buf, size_t n)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (opt)
        snprintf(buf, n, "%s", opt);
    else if (xdg && xdg[0] == '/')
        snprintf(buf, n, "%s/qkvplan", xdg);
    else if (home && home[0] == '/') {
        char parent[QKV_PATH_BYTES - 16];
        snprintf(parent, sizeof parent, "%.*s/.cache", (int)(sizeof parent - 8), home);
        qkv_error e;
        if (report_make_dir(parent, &e) == QKV_OK)
            snprintf(buf, n, "%.*s/qkvplan", (int)(n > 16 ? n - 16 : 0), parent);
        else
            snprintf(buf, n, "build/lm-corpus");
    } else
        snprintf(buf, n, "build/lm-corpus");
}

/* Options at their defaults take the long budget's values. */
static void apply_budget(lm_state *st)
{
    if (!st->long_budget)
        return;
    if (st->d_model == LM_DEFAULT_D_MODEL)
        st->d_model = LM_LONG_D_MODEL;
    if (st->layers == LM_DEFAULT_LAYERS)
        st->layers = LM_LONG_LAYERS;
    if (st->steps == LM_DEFAULT_STEPS)
        st->steps = LM_LONG_STEPS;
    if (st->ctrain == LM_DEFAULT_CORPUS_TRAIN)
        st->ctrain = LM_LONG_CORPUS_TRAIN;
    if (st->cval == LM_DEFAULT_CORPUS_VAL)
        st->cval = LM_LONG_CORPUS_VAL;
}

/* One result line of a shard into the study. */
typedef struct {
    lm_result *r;
    long repeated;
} lm_merge;

static qkv_status merge_line(void *ctx, const char *line, size_t n, qkv_error *err)
{
    lm_merge *mg = ctx;
    bool dup;
    qkv_status st = report_lm_run_line_read(mg->r, line, n, &dup, err);
    mg->repeated += st == QKV_OK && dup;
    return st;
}

/* The study's result from the lines of its shards: every run must be in
 * one of the files (a run found twice counts once). */
static int merge_runs(const lm_corpus *corpus, study_variant *vars, int nv, const lm_settings *s,
                      const char *const *files, int n_files, lm_result *r)
{
    qkv_error err;
    if (lm_study_prepare(corpus, vars, nv, s, r, &err) != QKV_OK)
        return cli_fail(&err, EXIT_USAGE);
    lm_merge mg = {r, 0};
    for (int i = 0; i < n_files; i++) {
        const int code = cli_each_line(files[i], "skipped", merge_line, &mg, NULL);
        if (code != EXIT_OK)
            return code;
    }
    const long repeated = mg.repeated;
    double seconds = 0.0;
    for (int j = 0; j < r->n_runs; j++) {
        const lm_run *run = &r->runs[j];
        if (!run->done) {
            cli_error("run %d (%s at context %d, seed %d) is in none of the --merge files: the "
                      "shards do not cover the study",
                      j, vars[run->var].label, run->ctx, run->seed);
            return EXIT_INPUT;
        }
        seconds += run->seconds;
    }
    if (repeated)
        fprintf(stderr, "qkvplan: %ld repeated line%s ignored (the first of each run counts)\n",
                repeated, repeated == 1 ? "" : "s");
    /* every run sees batch x context tokens per step */
    r->seconds = seconds;
    r->tokens_per_s = seconds > 0 ? (double)r->n_runs * s->steps * s->batch * s->ctx / seconds : 0;
    lm_result_drop_probes(r);
    if (lm_study_summarise(r, &err) != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    return EXIT_OK;
}

int cmd_study_lm(int argc, char **argv)
{
    lm_state st;
    memset(&st, 0, sizeof st);
    st.shard_n = 1;
    if (cli_apply_defaults(lm_options, on_option, &st) != 0)
        return EXIT_FAIL;
    if (cli_parse(lm_options, argc, argv, on_option, &st) != 0)
        return EXIT_USAGE;
    if (st.help) {
        printf("Usage: qkvplan study --tasks lm [OPTIONS]\n\n"
               "The paper's language-model comparison with a known floor. A corpus is sampled\n"
               "at temperature 1 from a teacher (the bundled stories260K, 512 tokens) and cached\n"
               "by seed and size; GPT-2-style students, one per variant, train on it with the\n"
               "same initial weights and batches; the report gives each variant's validation\n"
               "perplexity (mean ± sd over seeds), its change vs QKV beside the paper's, the\n"
               "teacher's perplexity on the same tokens (the floor), KV bytes per token,\n"
               "parameters, a QKV vs Q-K=V training-context ablation and K-V probes of the\n"
               "trained students. The default takes about ten minutes on two cores.\n");
        cli_print_options(stdout, lm_options);
        printf("\nExit codes: 0 written; 1 output could not be written; 2 bad command line;\n3 "
               "unreadable teacher, or a --merge file unreadable, malformed, of another\nstudy "
               "or missing runs; 4 plots not drawn (gnuplot missing or failing).\n");
        return cli_finish_stdout(EXIT_OK);
    }
    apply_budget(&st);
    if (st.d_model % st.heads != 0) {
        cli_error("--d-model %llu is not divisible by --heads %llu", (unsigned long long)st.d_model,
                  (unsigned long long)st.heads);
        return EXIT_USAGE;
    }
    if (st.sharded && st.n_merge) {
        cli_error("--shard trains a share of the runs; --merge reads them: one or the other");
        return EXIT_USAGE;
    }
    if (st.sharded && (st.report || st.xlsx)) {
        cli_error("--shard prints one JSON line per run; --report and --xlsx need every run");
        return EXIT_USAGE;
    }
    char vbuf[1024], cbuf[256], *vitems[32], *citems[LM_CTX_MAX];
    long nv = cli_split_list("variants", st.variants, vbuf, sizeof vbuf, vitems, 32);
    if (nv < 0)
        return EXIT_USAGE;
    if (nv == 0) {
        cli_error("--variants needs at least one entry");
        return EXIT_USAGE;
    }
    lm_settings s = lm_settings_default();
    s.n_ablation = 0;
    if (strcasecmp(st.contexts, "none") != 0) {
        long nc = cli_split_list("contexts", st.contexts, cbuf, sizeof cbuf, citems, LM_CTX_MAX);
        if (nc < 0)
            return EXIT_USAGE;
        for (long i = 0; i < nc; i++) {
            uint64_t v;
            char why[160];
            if (units_parse_count(citems[i], 2, 4096, &v, why, sizeof why) != 0) {
                cli_error("--contexts '%s': %s", citems[i], why);
                return EXIT_USAGE;
            }
            s.ablation[s.n_ablation++] = (int)v;
        }
    }
    study_variant vars[32];
    qkv_error err;
    for (long i = 0; i < nv; i++)
        if (study_variant_parse(vitems[i], (int)st.heads, &vars[i], &err) != QKV_OK) {
            cli_error("--variants: %s", err.msg);
            return EXIT_USAGE;
        }
    s.d_model = (int)st.d_model;
    s.layers = (int)st.layers;
    s.heads = (int)st.heads;
    s.ctx = (int)st.ctx;
    s.batch = (int)st.batch;
    s.steps = (int)st.steps;
    s.seeds = (int)st.seeds;
    s.threads = (int)st.threads;
    s.param_match = st.param_match;
    s.shard_i = st.shard_i;
    s.shard_n = st.shard_n;
    s.optim.lr = (float)st.lr;
    if (s.optim.warmup >= s.steps)
        s.optim.warmup = s.steps / 10;
    const lm_corpus_spec spec = {st.cseed, (int)st.clen, (int)st.ctrain, (int)st.cval,
                                 (int)st.threads};
    for (int i = -1; i < s.n_ablation; i++) {
        const int c = i < 0 ? s.ctx : s.ablation[i];
        if (c > spec.seq_len || spec.seq_len % c != 0) {
            cli_error("training context %d must divide --corpus-len %d", c, spec.seq_len);
            return EXIT_USAGE;
        }
    }
    rt_model teacher;
    memset(&teacher, 0, sizeof teacher);
    lm_corpus corpus;
    memset(&corpus, 0, sizeof corpus);
    lm_result r;
    memset(&r, 0, sizeof r);
    int code = EXIT_OK;
    if (llama2c_load(st.teacher, &teacher, &err) != QKV_OK) {
        cli_error("--teacher: %s", err.msg);
        return EXIT_INPUT;
    }
    for (int i = 0; i < st.n_merge; i++) { /* known as inputs before any output is checked */
        FILE *mf;
        if (infile_fopen(st.merge[i], &mf, &err) != QKV_OK) {
            code = cli_fail(&err, EXIT_INPUT);
            goto done;
        }
        fclose(mf);
    }
    cli_outputs outs = {0};
    cli_outputs_add(&outs, "--output", "%s", st.output);
    cli_outputs_add(&outs, "--xlsx", "%s", st.xlsx);
    if (st.report) {
        cli_outputs_add_bundle(&outs, "--report", st.report, "lm-study");
        char dir[QKV_PATH_BYTES + QKV_NAME_BYTES];
        snprintf(dir, sizeof dir, "%s/%s", st.report, REPORT_BUNDLE_PLOTS);
        for (int k = 0; k < REPORT_LM_PLOTS; k++)
            cli_outputs_add_figure(&outs, "--report", dir, report_lm_plot_bases[k]);
    }
    if ((code = cli_outputs_check(&outs)) != EXIT_OK)
        goto done;
    char cdir[QKV_PATH_BYTES];
    cache_dir(st.cache, cdir, sizeof cdir);
    if (lm_corpus_get(&teacher, cdir, &spec, &corpus, &err) != QKV_OK) {
        cli_error("corpus: %s", err.msg);
        code = err.code == QKV_ERR_NOMEM || err.code == QKV_ERR_IO ? EXIT_FAIL : EXIT_USAGE;
        goto done;
    }
    bool tty = isatty(STDERR_FILENO) == 1;
    if (st.n_merge) {
        if ((code = merge_runs(&corpus, vars, (int)nv, &s, st.merge, st.n_merge, &r)) != EXIT_OK)
            goto done;
    } else if (lm_study_run(&corpus, vars, (int)nv, &s, on_progress, &tty, &r, &err) != QKV_OK) {
        if (tty)
            fputc('\n', stderr);
        cli_error("study: %s", err.msg);
        code = err.code == QKV_ERR_NOMEM ? EXIT_FAIL : EXIT_USAGE;
        goto done;
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    r.teacher_name = st.teacher;
    if (st.sharded) {
        code = cli_write_report(st.output, st.format, write_jsonl, &r);
        goto done;
    }
    if (st.report) {
        bool plots_missing = false;
        const report_bundle bundle = report_lm_bundle(&r);
        if ((code = cli_plot_status(cli_bundle_write(st.report, &bundle, &err), &err,
                                    "report written without plots", &plots_missing)) != EXIT_OK)
            goto done;
        if (plots_missing)
            code = EXIT_PLOTS;
    }
    if (st.xlsx) {
        cli_stderr_capture cap;
        cli_capture_stderr(&cap);
        qkv_status xs = report_xlsx_lm_write(st.xlsx, &r, &err);
        cli_release_stderr(&cap, xs == QKV_OK ? NULL : &err);
        if (xs != QKV_OK) {
            cli_error("%s", err.msg);
            code = EXIT_FAIL;
            goto done;
        }
    }
    int out_code = cli_write_report(st.output, st.format, write_lm, &r);
    if (out_code != EXIT_OK)
        code = out_code;
done:
    lm_result_free(&r);
    lm_corpus_free(&corpus);
    rt_model_free(&teacher);
    return code;
}
