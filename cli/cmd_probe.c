/* qkvplan probe MODEL — run the reference runtime over tokens and report
 * attention evidence per layer and head. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probes/runtime/checkpoint.h"
#include "probes/runtime/rt_lazy.h"
#include "probes/probe.h"
#include "reports/bundle.h"
#include "reports/probe/probe_plots.h"
#include "analyzer/core/paths.h"
#include "reports/probe/probe_report.h"
#include "cli/cli.h"
#include "cli/term.h"
#include "cli/lists.h"
#include "cli/doc.h"
#include "cli/options.h"
#include "cli/units.h"
#include "cli/pathguard.h"
#include "cli/stderr_capture.h"
#include "analyzer/core/safetext.h"

enum {
    P_TOKENS = 1,
    P_SAMPLE,
    P_SEED,
    P_LAYERS,
    P_WEIGHTS,
    P_FORMAT,
    P_OUTPUT,
    P_XLSX,
    P_PLOT,
    P_REPORT,
    P_HELP
};

#define PROBE_TOKENS_MAX 4096

const cli_option cli_probe_options[] = {
    {0, NULL, 0, NULL, NULL, "Input:"},
    {P_TOKENS, "tokens", 't', "LIST", NULL,
     "token ids to run, separated by spaces or commas (e.g. \"1 461 461 401\")"},
    {P_SAMPLE, "sample", 'n', "N", "64",
     "without --tokens: N tokens the model samples itself, starting from BOS (token 1)"},
    {P_SEED, "seed", 0, "S", "1", "seed of the sampler"},
    {P_LAYERS, "layers", 'l', "LIST", NULL, "layers to probe, e.g. 0,2-4 (default: all)"},
    {P_WEIGHTS, "weights", 'w', NULL, NULL,
     "probe the weights alone, one layer at a time (no forward pass): overlaps, ranks, symmetric "
     "share and the K=V residual per head"},
    {0, NULL, 0, NULL, NULL, "Output:"},
    {P_FORMAT, "format", 'f', "FMT", "table", "table, json, csv or md"},
    {P_OUTPUT, "output", 'o', "FILE", NULL,
     "write to FILE (atomically) instead of standard output"},
    {P_XLSX, "xlsx", 0, "FILE", NULL, "also write an XLSX workbook with one row per head"},
    {P_PLOT, "plot", 0, "DIR", NULL,
     "also draw with gnuplot into DIR: attention-map grid, layers x heads heatmaps, "
     "principal-angle "
     "curves, singular-value spectra (PNG, SVG, .gp, .dat)"},
    {P_REPORT, "report", 'r', "DIR", NULL,
     "also write the report folder DIR (created if missing): probe.md, probe.json, probe.csv, "
     "probe.xlsx, plots/"},
    {P_HELP, "help", 'h', NULL, NULL, "show this help"},
    {0, NULL, 0, NULL, NULL, NULL},
};

typedef struct {
    const char *tokens, *layers, *output, *report, *xlsx, *plot;
    uint64_t sample, seed;
    report_format format;
    bool help, weights;
} probe_state;

static int on_option(void *vs, int id, const char *name, const char *value)
{
    probe_state *st = vs;
    char why[160];
    switch (id) {
    case P_TOKENS:
        st->tokens = value;
        return 0;
    case P_SAMPLE:
        if (units_parse_count(value, 2, PROBE_TOKENS_MAX, &st->sample, why, sizeof why) != 0) {
            cli_error("--%s '%s': %s", name, value, why);
            return -1;
        }
        return 0;
    case P_SEED:
        if (units_parse_count(value, 0, UINT64_MAX, &st->seed, why, sizeof why) != 0) {
            cli_error("--%s '%s': %s", name, value, why);
            return -1;
        }
        return 0;
    case P_LAYERS:
        st->layers = value;
        return 0;
    case P_WEIGHTS:
        st->weights = true;
        return 0;
    case P_FORMAT:
        if (report_format_parse(value, &st->format) != QKV_OK) {
            cli_error("--%s '%s': unknown format (table, json, csv, md)", name, value);
            return -1;
        }
        return 0;
    case P_OUTPUT:
        st->output = value;
        return 0;
    case P_REPORT:
        st->report = value;
        return 0;
    case P_XLSX:
        st->xlsx = value;
        return 0;
    case P_PLOT:
        st->plot = value;
        return 0;
    case P_HELP:
        st->help = true;
        return 0;
    }
    return 0;
}

/* "0,2-4" -> mask over n_layers. */
static int parse_layers(const char *s, int n_layers, bool *mask)
{
    for (int l = 0; l < n_layers; l++)
        mask[l] = false;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10), b;
        if (end == p || errno || a < 0)
            goto bad;
        b = a;
        if (*end == '-') {
            const char *q = end + 1;
            b = strtol(q, &end, 10);
            if (end == q || errno || b < a)
                goto bad;
        }
        if (b >= n_layers) {
            cli_error("--layers '%s': layer %ld does not exist (the model has %d, numbered from 0)",
                      s, b, n_layers);
            return -1;
        }
        for (long l = a; l <= b; l++)
            mask[l] = true;
        if (*end == ',')
            end++;
        else if (*end)
            goto bad;
        p = end;
    }
    return 0;
bad:
    cli_error("--layers '%s': use layer numbers and ranges, e.g. 0,2-4", s);
    return -1;
}

/* On a terminal, long runs say where they are (stderr, one rewritten line). */
static void sample_progress(void *user, int done, int total)
{
    (void)user;
    fprintf(stderr, "\r\033[Ksampling tokens: %d/%d", done, total);
    fflush(stderr);
}

static void stage_progress(const char *what, int tokens)
{
    if (isatty(STDERR_FILENO) == 1) {
        if (tokens > 0)
            fprintf(stderr, "\r\033[K%s %d tokens...", what, tokens);
        else
            fprintf(stderr, "\r\033[K%s...", what);
        fflush(stderr);
    }
}

static void progress_done(void)
{
    if (isatty(STDERR_FILENO) == 1)
        fputs("\r\033[K", stderr);
}

static qkv_status write_probe(FILE *f, report_format fmt, const void *in, qkv_error *err)
{
    return report_probe_write(f, fmt, in, err);
}

static int print_help(void)
{
    printf("Usage: qkvplan probe MODEL [OPTIONS]\n\n"
           "Runs the reference runtime over tokens and reports, per layer and head, the\n"
           "effective ranks of Q/K/V and of the attention map, the K-V and Q-K subspace\n"
           "overlap of the projection weights, linear CKA of the activations, symmetric\n"
           "shares and attention-map statistics. MODEL is a llama2.c checkpoint (.bin), a\n"
           "model saved by qkvplan study (.qkvm), a GGUF file, or safetensors (a file with\n"
           "config.json beside it, a directory, or a sharded index).\n");
    cli_print_options(stdout, cli_probe_options);
    printf("\nExit codes: 0 written; 1 output could not be written; 2 bad command line;\n"
           "3 unreadable or invalid model file; 4 plots not drawn (gnuplot missing or\n"
           "failing) though everything else was written.\n");
    return cli_finish_stdout(EXIT_OK);
}

/* The tokens to run: none for --weights, --tokens as given, or a sample the
 * model draws itself from BOS (causal models only), with progress on a
 * terminal. */
static int probe_tokens(const probe_state *st, const char *model_path, const rt_model *m,
                        int *tokens, int *n)
{
    const rt_config *mc = &m->cfg;
    if (st->weights) {
        if (st->tokens) {
            cli_error("--weights probes weights alone; --tokens does not apply");
            return EXIT_USAGE;
        }
        return EXIT_OK;
    }
    if (st->tokens)
        return cli_parse_tokens(st->tokens, mc->vocab, 2, PROBE_TOKENS_MAX, tokens, n) != 0
                   ? EXIT_USAGE
                   : EXIT_OK;
    if (!mc->causal) {
        cli_error("probe: '%s' is a bidirectional model, which cannot sample its own tokens; give "
                  "them with --tokens (or probe the weights with --weights)",
                  model_path);
        return EXIT_USAGE;
    }
    *n = (int)st->sample;
    const bool tty = isatty(STDERR_FILENO) == 1;
    qkv_error err;
    if (probe_sample_progress(m, *n, st->seed, tokens, tty ? sample_progress : NULL, NULL, &err) !=
        QKV_OK) {
        if (tty)
            fputs("\r\033[K", stderr);
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* Every file this run will write, against every file it read. */
static int check_outputs(const probe_state *st)
{
    cli_outputs outs = {0};
    cli_outputs_add(&outs, "--output", "%s", st->output);
    cli_outputs_add(&outs, "--xlsx", "%s", st->xlsx);
    char plots[QKV_PATH_BYTES + QKV_NAME_BYTES];
    snprintf(plots, sizeof plots, "%s/%s", st->report ? st->report : "", REPORT_BUNDLE_PLOTS);
    if (st->report)
        cli_outputs_add_bundle(&outs, "--report", st->report, "probe");
    for (int k = 0; k < PROBE_PLOT_KINDS; k++) {
        if (st->plot)
            cli_outputs_add_figure(&outs, "--plot", st->plot, report_probe_plot_kinds[k]);
        if (st->report)
            cli_outputs_add_figure(&outs, "--report", plots, report_probe_plot_kinds[k]);
    }
    return cli_outputs_check(&outs);
}

/* The report folder, the workbook, the plots and the main output; EXIT_PLOTS
 * when only plots are missing. */
static int write_outputs(const probe_state *st, const probe_report_input *in)
{
    qkv_error err;
    int code;
    bool plots_missing = false;
    const report_bundle bundle = report_probe_bundle(in);
    if (st->report &&
        (code = cli_plot_status(cli_bundle_write(st->report, &bundle, &err), &err,
                                "report written without plots", &plots_missing)) != EXIT_OK)
        return code;
    if (st->xlsx && cli_xlsx_probe_write(st->xlsx, in, &err) != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    if (st->plot) {
        qkv_status ps = report_make_dir(st->plot, &err);
        if (ps == QKV_OK)
            ps = report_probe_plots_write(st->plot, in, &err);
        if ((code = cli_plot_status(ps, &err, "plots not drawn", &plots_missing)) != EXIT_OK)
            return code;
    }
    code = cli_write_report(st->output, st->format, write_probe, in);
    return code == EXIT_OK && plots_missing ? EXIT_PLOTS : code;
}

/* The probe of one model file, from opening it to the last output. */
static int run_probe(const probe_state *cst, const char *model_path)
{
    const probe_state st = *cst;
    rt_model m;
    memset(&m, 0, sizeof m);
    qkv_error err;
    ckpt ck;
    if (ckpt_open(model_path, &ck, &err) != QKV_OK)
        return cli_fail(&err, EXIT_INPUT);
    rt_lazy *lazy = NULL; /* weights stay in the file, widened one layer at a time */
    if (!st.weights && rt_lazy_open(&ck, &m, &lazy, &err) != QKV_OK) {
        ckpt_close(&ck);
        return cli_fail(&err, EXIT_INPUT);
    }
    const int guard = check_outputs(&st);
    if (guard != EXIT_OK) {
        rt_lazy_free(lazy, &m);
        ckpt_close(&ck);
        return guard;
    }
    /* Folders this run creates are removed again if it fails. */
    struct stat dir_st;
    const bool report_existed = st.report && stat(st.report, &dir_st) == 0;
    const bool plot_existed = st.plot && stat(st.plot, &dir_st) == 0;
    const rt_config *mc = &ck.cfg;
    int code = EXIT_OK, n = 0;
    int *tokens = malloc(PROBE_TOKENS_MAX * sizeof *tokens);
    bool *mask = malloc((size_t)mc->n_layers * sizeof *mask);
    probe_result r;
    memset(&r, 0, sizeof r);
    if (!tokens || !mask) {
        cli_error("out of memory");
        code = EXIT_FAIL;
        goto done;
    }
    if ((code = probe_tokens(&st, model_path, &m, tokens, &n)) != EXIT_OK)
        goto done;
    if (st.layers && parse_layers(st.layers, mc->n_layers, mask) != 0) {
        code = EXIT_USAGE;
        goto done;
    }
    stage_progress(st.weights ? "probing weights" : "probing", st.weights ? 0 : n);
    qkv_status run_s = st.weights ? probe_weights(&ck, st.layers ? mask : NULL, &r, &err)
                                  : probe_run(&m, tokens, n, st.layers ? mask : NULL,
                                              st.plot || st.report, &r, &err);
    progress_done();
    if (run_s != QKV_OK) {
        cli_error("probe: %s", err.msg);
        code = err.code == QKV_ERR_NOMEM ? EXIT_FAIL : st.weights ? EXIT_INPUT : EXIT_USAGE;
        goto done;
    }
    char label[QKV_PATH_BYTES]; /* the file name as reports show it: never obeyed */
    snprintf(label, sizeof label, "%s", model_path);
    safetext_clean(label, sizeof label);
    probe_report_input in = {label, &r, st.output ? 0 : cli_term_width(STDOUT_FILENO)};
    code = write_outputs(&st, &in);
done:
    if (code != EXIT_OK && code != EXIT_PLOTS) {
        if (st.report && !report_existed)
            rmdir(st.report); /* only when empty: files written stay */
        if (st.plot && !plot_existed)
            rmdir(st.plot);
    }
    probe_result_free(&r);
    free(tokens);
    free(mask);
    rt_lazy_free(lazy, &m);
    ckpt_close(&ck);
    return code;
}

int cmd_probe(int argc, char **argv)
{
    probe_state st;
    memset(&st, 0, sizeof st);
    if (cli_apply_defaults(cli_probe_options, on_option, &st) != 0)
        return EXIT_FAIL;
    cli_positional pos = {.max = 1};
    if (cli_parse_positional(cli_probe_options, argc, argv, on_option, &st, &pos) != 0)
        return EXIT_USAGE;
    const char *model_path = pos.n ? pos.arg[0] : NULL;
    if (st.help)
        return print_help();
    if (!model_path) {
        cli_error("probe: give a model file (see 'qkvplan probe --help')");
        return EXIT_USAGE;
    }
    return run_probe(&st, model_path);
}
