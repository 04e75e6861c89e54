/* qkvplan study — train every attention variant on the same tasks and report. */
#define _DEFAULT_SOURCE /* isatty */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "probes/runtime/rt_io.h"
#include "probes/runtime/rt_pos2d.h"
#include "probes/train/study.h"
#include "reports/bundle.h"
#include "analyzer/core/paths.h"
#include "reports/study/study_report.h"
#include "cli/cli.h"
#include "cli/doc.h"
#include "cli/term.h"
#include "cli/options.h"
#include "cli/units.h"
#include "cli/pathguard.h"
#include "cli/stderr_capture.h"
#include "cli/lists.h"
#include "reports/safename.h"

enum {
    S_TASKS = 1,
    S_VARIANTS,
    S_SEEDS,
    S_STEPS,
    S_DMODEL,
    S_LAYERS,
    S_HEADS,
    S_SEQLEN,
    S_BATCH,
    S_LR,
    S_POS2D,
    S_POS2D_FORM,
    S_THREADS,
    S_FORMAT,
    S_OUTPUT,
    S_XLSX,
    S_REPORT,
    S_HELP
};

#define LIST_MAX 32

const cli_option cli_study_options[] = {
    {0, NULL, 0, NULL, NULL, "What to train:"},
    {S_TASKS, "tasks", 't', "LIST", STUDY_DEFAULT_TASKS,
     "tasks: reverse, sort, sub (9 - x), swap (exchange halves), copy — bidirectional, symbols "
     "0-9, per-token classification — or text:FILE, causal byte-level language modelling; "
     "TASK@N sets that task's length (else --seq-len)"},
    {S_VARIANTS, "variants", 'v', "LIST", STUDY_DEFAULT_VARIANTS,
     "variants: a sharing (QKV, Q-K=V, Q=K-V, Q=K=V), (SHARING)+ for the 2D positional term "
     "(--pos2d), +GQA-N or +MQA for head sharing"},
    {S_SEEDS, "seeds", 's', "N", STUDY_STR(STUDY_DEFAULT_SEEDS),
     "seeds per variant (mean and spread)"},
    {S_STEPS, "steps", 'n', "N", STUDY_STR(STUDY_DEFAULT_STEPS), "training steps"},
    {0, NULL, 0, NULL, NULL, "Model and optimiser:"},
    {S_DMODEL, "d-model", 0, "N", STUDY_STR(STUDY_DEFAULT_D_MODEL), "hidden size"},
    {S_LAYERS, "layers", 0, "N", STUDY_STR(STUDY_DEFAULT_LAYERS), "layers"},
    {S_HEADS, "heads", 0, "N", STUDY_STR(STUDY_DEFAULT_HEADS),
     "query heads (d-model must be divisible by them)"},
    {S_SEQLEN, "seq-len", 0, "N", STUDY_STR(STUDY_DEFAULT_SEQ_LEN),
     "tokens per sequence (swap: even)"},
    {S_BATCH, "batch", 0, "N", STUDY_STR(STUDY_DEFAULT_BATCH), "sequences per step"},
    {S_LR, "lr", 0, "RATE", STUDY_STR(STUDY_DEFAULT_LR),
     "peak learning rate (Adam, " STUDY_STR(
         STUDY_DEFAULT_WARMUP) " warm-up steps, cosine to 10%, "
                               "gradient norm clipped at " STUDY_STR(STUDY_DEFAULT_CLIP) ")"},
    {S_POS2D_FORM, "pos2d", 0, "FORM", STUDY_DEFAULT_POS2D,
     "the + variants' 2D term: paper (fixed sin/cos features of i and j, learned 1x1 conv per "
     "layer), relative (features of j - i, learned conv) or ramp (fixed, not the paper's)"},
    {S_POS2D, "pos2d-scale", 0, "S", STUDY_STR(STUDY_DEFAULT_POS2D_SCALE),
     "--pos2d ramp only: S x (j - i) / seq-len is added to every score"},
    {S_THREADS, "threads", 'j', "N", STUDY_STR(STUDY_DEFAULT_THREADS),
     "training jobs run in parallel"},
    {0, NULL, 0, NULL, NULL, "Output:"},
    {S_FORMAT, "format", 'f', "FMT", "table", "table, json, csv or md"},
    {S_OUTPUT, "output", 'o', "FILE", NULL,
     "write to FILE (atomically) instead of standard output"},
    {S_XLSX, "xlsx", 0, "FILE", NULL, "also write an XLSX workbook, one row per task and variant"},
    {S_REPORT, "report", 'r', "DIR", NULL,
     "also write study.md, study.json, study.csv, study.xlsx, loss-curve plots and the trained "
     "models (seed 0) into DIR"},
    {S_HELP, "help", 'h', NULL, NULL, "show this help"},
    {0, NULL, 0, NULL, NULL, NULL},
};

typedef struct {
    const char *tasks, *variants, *output, *report, *xlsx;
    rt_pos2d_form pos2d_form;
    uint64_t seeds, steps, d_model, layers, heads, seq_len, batch, threads;
    double lr, pos2d;
    report_format format;
    bool help;
} study_state;

static int on_option(void *vs, int id, const char *name, const char *value)
{
    study_state *st = vs;
    char why[160];
    uint64_t *target = NULL, lo = 1, hi = 1 << 20;
    switch (id) {
    case S_TASKS:
        st->tasks = value;
        return 0;
    case S_VARIANTS:
        st->variants = value;
        return 0;
    case S_SEEDS:
        target = &st->seeds, hi = 64;
        break;
    case S_STEPS:
        target = &st->steps, hi = 10000000;
        break;
    case S_DMODEL:
        target = &st->d_model, hi = 4096;
        break;
    case S_LAYERS:
        target = &st->layers, hi = 64;
        break;
    case S_HEADS:
        target = &st->heads, hi = 256;
        break;
    case S_SEQLEN:
        target = &st->seq_len, lo = 2, hi = 4096;
        break;
    case S_BATCH:
        target = &st->batch, hi = 4096;
        break;
    case S_THREADS:
        target = &st->threads, hi = 16;
        break;
    case S_LR:
    case S_POS2D: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        /* Training runs in float32: the bottom keeps the value a normal
         * float (1e-320 would round to 0), and says so. */
        const double top = id == S_LR ? 1.0 : 1000.0, bottom = 1e-12;
        if (end == value || *end || !isfinite(v) || v > top || v < bottom) {
            cli_error("--%s '%s': must be a number from %g to %g", name, value, bottom, top);
            return -1;
        }
        *(id == S_LR ? &st->lr : &st->pos2d) = v;
        return 0;
    }
    case S_FORMAT:
        if (report_format_parse(value, &st->format) != QKV_OK) {
            cli_error("--%s '%s': unknown format (table, json, csv, md)", name, value);
            return -1;
        }
        return 0;
    case S_POS2D_FORM:
        if (rt_pos2d_form_parse(value, &st->pos2d_form) != QKV_OK) {
            cli_error("--%s '%s': unknown form (paper, relative, ramp)", name, value);
            return -1;
        }
        return 0;
    case S_OUTPUT:
        st->output = value;
        return 0;
    case S_REPORT:
        st->report = value;
        return 0;
    case S_XLSX:
        st->xlsx = value;
        return 0;
    case S_HELP:
        st->help = true;
        return 0;
    }
    if (target && units_parse_count(value, lo, hi, target, why, sizeof why) != 0) {
        cli_error("--%s '%s': %s", name, value, why);
        return -1;
    }
    return 0;
}

typedef struct {
    bool tty;
    int last_job;
} progress_state;

static void on_progress(void *user, const study_progress *p)
{
    progress_state *ps = user;
    if (!ps->tty)
        return;
    /* one row, cut short of the terminal's width: a line that wrapped would
     * leave its first row behind at the next \r */
    char line[256];
    snprintf(line, sizeof line,
             "[%d/%d] %s %s seed %d: step %d/%d, loss %.3f, %.0f tokens/s, %.0f s left", p->job,
             p->n_jobs, p->task, p->variant, p->seed, p->step, p->steps, p->loss, p->tokens_per_s,
             p->eta_s);
    const size_t w = cli_term_width(STDERR_FILENO) - 1;
    if (strlen(line) > w)
        line[w] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

static qkv_status write_study(FILE *f, report_format fmt, const void *r, qkv_error *err)
{
    return report_study_write(f, fmt, r, err);
}

static qkv_status write_model(FILE *f, const void *ctx, qkv_error *err)
{
    return rt_model_write(f, ctx, err);
}

/* dir/TASK_LENGTH-VARIANT.qkvm, the name made of safe characters. */
static void model_file_path(const char *dir, const char *task_name, int len, const char *label,
                            char *path, size_t path_bytes)
{
    /* "reverse_16-QeqK-Vplus.qkvm": no character a shell or a file browser
     * treats specially (text:FILE tasks keep only their safe characters) */
    char task_word[96], word[96];
    size_t n = 0;
    for (const char *p = task_name; *p && n + 1 < sizeof task_word; p++)
        task_word[n++] = (*p == '/' || *p == ':' || *p == ' ' || *p == '.') ? '_' : *p;
    task_word[n] = '\0';
    char safe[96];
    report_safe_file_name(task_word, safe, sizeof safe);
    report_label_file_word(label, word, sizeof word);
    snprintf(path, path_bytes, "%.3800s/%.90s_%d-%.90s.qkvm", dir, safe, len, word);
}

static int save_models(const char *dir, const study_result *r)
{
    qkv_error err;
    if (report_make_dir(dir, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    for (int ti = 0; ti < r->n_tasks; ti++)
        for (int vi = 0; vi < r->n_vars; vi++) {
            char path[QKV_PATH_BYTES + 2 * QKV_NAME_BYTES];
            model_file_path(dir, r->tasks[ti].name, r->tasks[ti].len, r->vars[vi].label, path,
                            sizeof path);
            int code = cli_write_file(path, write_model, &r->cells[ti * r->n_vars + vi].model);
            if (code != EXIT_OK)
                return code;
        }
    return EXIT_OK;
}

/* `--tasks lm` (or -t lm, --tasks=lm) selects the language-model study,
 * which has options of its own (cli/cmd_study_lm.c). */
static bool wants_lm(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcasecmp(argv[i], "--tasks=lm") == 0 || strcasecmp(argv[i], "-tlm") == 0)
            return true;
        if ((strcmp(argv[i], "--tasks") == 0 || strcmp(argv[i], "-t") == 0) && i + 1 < argc)
            return strcasecmp(argv[i + 1], "lm") == 0;
    }
    return false;
}

/* `--paper` selects the Table 1 sweep (cli/cmd_study_paper.c). */
static bool wants_paper(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--paper") == 0)
            return true;
    return false;
}

int cmd_study(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return cmd_study_merge(argc - 1, argv + 1);
    if (wants_lm(argc, argv))
        return cmd_study_lm(argc, argv);
    if (wants_paper(argc, argv))
        return cmd_study_paper(argc, argv);
    study_state st;
    memset(&st, 0, sizeof st);
    if (cli_apply_defaults(cli_study_options, on_option, &st) != 0)
        return EXIT_FAIL;
    if (cli_parse(cli_study_options, argc, argv, on_option, &st) != 0)
        return EXIT_USAGE;
    if (st.help) {
        printf(
            "Usage: qkvplan study [OPTIONS]\n\n"
            "Trains every attention variant from the same seeds on the same data and reports,\n"
            "per task and variant: evaluation accuracy (or loss) with its spread over seeds,\n"
            "the KV-cache bytes per token, the parameter count, and probes of the trained\n"
            "models. With no options it runs a subset of the paper's Table 1 sweep (the\n"
            "six Table 1 variants; reverse and swap at lengths 16 and 64, sort, sub and copy\n"
            "at 16; d 64, 2 layers, 2 heads; 3 seeds) and sets the paper's numbers beside it.\n");
        cli_print_options(stdout, cli_study_options);
        printf("\nTasks: %s\n(lm: the language-model study, see 'qkvplan study --tasks lm "
               "--help';\n--paper: the paper's whole Table 1 sweep, sharded and resumable, see\n"
               "'qkvplan study --paper --help'; 'qkvplan study merge FILE...' builds its "
               "table).\nExit codes: 0 written; 1 output could not be written; 2 bad "
               "command line;\n3 unreadable text file; 4 plots not drawn (gnuplot missing or "
               "failing).\n",
               task_names());
        return cli_finish_stdout(EXIT_OK);
    }
    if (st.d_model % st.heads != 0) {
        cli_error("--d-model %llu is not divisible by --heads %llu", (unsigned long long)st.d_model,
                  (unsigned long long)st.heads);
        return EXIT_USAGE;
    }
    char tbuf[1024], vbuf[1024], *titems[LIST_MAX], *vitems[LIST_MAX];
    long lt = cli_split_list("tasks", st.tasks, tbuf, sizeof tbuf, titems, LIST_MAX);
    long lv =
        lt < 0 ? -1 : cli_split_list("variants", st.variants, vbuf, sizeof vbuf, vitems, LIST_MAX);
    if (lt < 0 || lv < 0)
        return EXIT_USAGE;
    size_t nt = (size_t)lt, nv = (size_t)lv;
    if (nt == 0 || nv == 0) {
        cli_error("--tasks and --variants need at least one entry each");
        return EXIT_USAGE;
    }
    task tasks[LIST_MAX];
    study_variant vars[LIST_MAX];
    size_t loaded = 0;
    int code = EXIT_OK;
    qkv_error err;
    study_result r;
    memset(&r, 0, sizeof r);
    for (size_t i = 0; i < nv; i++)
        if (study_variant_parse(vitems[i], (int)st.heads, &vars[i], &err) != QKV_OK) {
            cli_error("--variants: %s", err.msg);
            return EXIT_USAGE;
        }
    for (; loaded < nt; loaded++) {
        if (study_task_parse(titems[loaded], (int)st.seq_len, &tasks[loaded], &err) != QKV_OK) {
            cli_error("--tasks: %s", err.msg);
            code = err.code == QKV_ERR_IO ||
                           (err.code == QKV_ERR_INVALID && strncmp(titems[loaded], "text:", 5) == 0)
                       ? EXIT_INPUT
                       : EXIT_USAGE;
            goto done;
        }
    }
    /* Every file this run will write, against every file it read, before
     * the minutes of training. */
    cli_outputs outs = {0};
    cli_outputs_add(&outs, "--output", "%s", st.output);
    cli_outputs_add(&outs, "--xlsx", "%s", st.xlsx);
    if (st.report) {
        cli_outputs_add_bundle(&outs, "--report", st.report, "study");
        char dir[QKV_PATH_BYTES + QKV_NAME_BYTES], path[QKV_PATH_BYTES + 2 * QKV_NAME_BYTES],
            base[QKV_NAME_BYTES];
        snprintf(dir, sizeof dir, "%s/models", st.report);
        for (size_t ti = 0; ti < nt; ti++)
            for (size_t vi = 0; vi < nv; vi++) {
                model_file_path(dir, tasks[ti].name, tasks[ti].len, vars[vi].label, path,
                                sizeof path);
                cli_outputs_add(&outs, "--report", "%s", path);
            }
        snprintf(dir, sizeof dir, "%s/%s", st.report, REPORT_BUNDLE_PLOTS);
        for (size_t ti = 0; ti < nt; ti++) {
            report_study_plot_base(tasks[ti].name, tasks[ti].len, base, sizeof base);
            cli_outputs_add_figure(&outs, "--report", dir, base);
        }
    }
    if ((code = cli_outputs_check(&outs)) != EXIT_OK)
        goto done;
    study_settings s = study_settings_default();
    s.d_model = (int)st.d_model;
    s.layers = (int)st.layers;
    s.heads = (int)st.heads;
    s.seq_len = (int)st.seq_len;
    s.batch = (int)st.batch;
    s.steps = (int)st.steps;
    s.seeds = (int)st.seeds;
    s.threads = (int)st.threads;
    s.optim.lr = (float)st.lr;
    s.pos2d_scale = (float)st.pos2d;
    s.pos2d_form = st.pos2d_form;
    if (s.optim.warmup >= s.steps)
        s.optim.warmup = s.steps / 10;
    progress_state ps = {isatty(STDERR_FILENO) == 1, 0};
    if (study_run(tasks, (int)nt, vars, (int)nv, &s, on_progress, &ps, &r, &err) != QKV_OK) {
        if (ps.tty)
            fputc('\n', stderr);
        cli_error("study: %s", err.msg);
        code = err.code == QKV_ERR_NOMEM ? EXIT_FAIL : EXIT_USAGE;
        goto done;
    }
    if (ps.tty)
        fprintf(stderr, "\r\033[K");
    if (st.report) {
        bool plots_missing = false;
        const report_bundle bundle = report_study_bundle(&r);
        if ((code = cli_plot_status(cli_bundle_write(st.report, &bundle, &err), &err,
                                    "report written without plots", &plots_missing)) != EXIT_OK)
            goto done;
        char path[QKV_PATH_BYTES + QKV_NAME_BYTES];
        snprintf(path, sizeof path, "%s/models", st.report);
        if ((code = save_models(path, &r)) != EXIT_OK)
            goto done;
        if (plots_missing)
            code = EXIT_PLOTS;
    }
    if (st.xlsx && cli_xlsx_study_write(st.xlsx, &r, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        code = EXIT_FAIL;
        goto done;
    }
    int out_code = cli_write_report(st.output, st.format, write_study, &r);
    if (out_code != EXIT_OK)
        code = out_code;
done:
    study_result_free(&r);
    for (size_t i = 0; i < loaded; i++)
        task_free(&tasks[i]);
    return code;
}
