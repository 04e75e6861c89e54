/* qkvplan [plan] — the planner command. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/catalog.h"
#include "analyzer/devices.h"
#include "analyzer/formats/hfconfig.h"
#include "analyzer/formats/modelfile.h"
#include "analyzer/kvplan.h"
#include "analyzer/offload.h"
#include "analyzer/core/paths.h"
#include "reports/plan/plan_bundle.h"
#include "reports/plan/plan_plots.h"
#include "reports/plan/plan_xlsx.h"
#include "reports/plan/report.h"
#include "cli/cli.h"
#include "cli/doc.h"
#include "cli/options.h"
#include "cli/units.h"
#include "cli/pathguard.h"
#include "cli/stderr_capture.h"
#include "cli/lists.h"
#include "cli/term.h"
#include "cli/plan_options.h"

/* Variants to plan for model m. Returns the count, or -1 after an error.
 * For a single model a head sharing that does not fit the model is an error;
 * for the whole catalog it is skipped with a note. */
static long build_variants(const plan_state *st, const model_shape *m, variant *out, bool lenient,
                           char skipped[][KVPLAN_NOTE_BYTES], size_t *n_skipped)
{
    *n_skipped = 0;
    if (st->as_built) {
        out[0] = variant_as_built(m);
        return 1;
    }
    if (!st->share_list && !st->kv_heads_list)
        return (long)variant_default_grid(m, out, VARIANT_MAX);
    char sbuf[512], kbuf[512], *shares[VARIANT_MAX], *heads[VARIANT_MAX];
    long n_shares = 0, n_heads = 0;
    if (st->share_list && (n_shares = cli_split_list("share", st->share_list, sbuf, sizeof sbuf,
                                                     shares, VARIANT_MAX)) <= 0) {
        if (n_shares == 0)
            cli_error("--share '%s': empty list", st->share_list);
        return -1;
    }
    if (st->kv_heads_list && (n_heads = cli_split_list("kv-heads", st->kv_heads_list, kbuf,
                                                       sizeof kbuf, heads, VARIANT_MAX)) <= 0) {
        if (n_heads == 0)
            cli_error("--kv-heads '%s': empty list", st->kv_heads_list);
        return -1;
    }
    size_t n;
    qkv_error err;
    if (variant_list(m, shares, (size_t)n_shares, heads, (size_t)n_heads, lenient, out, VARIANT_MAX,
                     &n, skipped[0], KVPLAN_NOTE_BYTES, KVPLAN_NOTES_MAX, n_skipped,
                     &err) != QKV_OK) {
        cli_error("%s", err.msg);
        return -1;
    }
    return (long)n;
}

/* One model to plan: its shape, and the file it came from (NULL for the
 * catalog) for exit codes and GGUF layouts. */
typedef struct {
    model_shape shape;
    const char *path;
    bool from_file;
} model_entry;

/* The values the comma lists ask for (one each when not a list). */
typedef struct {
    uint64_t ctx[PLAN_LIST_MAX];
    dtype_cache kv[PLAN_LIST_MAX];
    dtype_weight wt[PLAN_LIST_MAX];
    size_t n_ctx, n_kv, n_wt;
} plan_axes;

static int plan_axes_read(const plan_state *st, plan_axes *ax)
{
    char buf[512], *items[PLAN_LIST_MAX], why[160];
    ax->ctx[0] = st->p.ctx;
    ax->kv[0] = st->kv_type;
    ax->wt[0] = st->p.weight_type;
    ax->n_ctx = ax->n_kv = ax->n_wt = 1;
    /* the lists were checked item by item while parsing */
    long n;
    if (st->ctx_list &&
        (n = cli_split_list("ctx", st->ctx_list, buf, sizeof buf, items, PLAN_LIST_MAX)) > 0)
        for (ax->n_ctx = 0; ax->n_ctx < (size_t)n; ax->n_ctx++)
            units_parse_tokens(items[ax->n_ctx], &ax->ctx[ax->n_ctx], why, sizeof why);
    if (st->kv_type_list && (n = cli_split_list("kv-type", st->kv_type_list, buf, sizeof buf, items,
                                                PLAN_LIST_MAX)) > 0)
        for (ax->n_kv = 0; ax->n_kv < (size_t)n; ax->n_kv++)
            dtype_cache_parse(items[ax->n_kv], &ax->kv[ax->n_kv]);
    if (st->wtype_list && (n = cli_split_list("weight-type", st->wtype_list, buf, sizeof buf, items,
                                              PLAN_LIST_MAX)) > 0)
        for (ax->n_wt = 0; ax->n_wt < (size_t)n; ax->n_wt++)
            dtype_weight_parse(items[ax->n_wt], &ax->wt[ax->n_wt]);
    return EXIT_OK;
}

/* One -m entry: a catalog name, "-" (a config.json on standard input) or a
 * model file. */
static int load_model(const char *arg, model_entry *e)
{
    qkv_error err;
    const model_shape *c = catalog_find(arg);
    memset(e, 0, sizeof *e);
    if (c) {
        e->shape = *c;
        return EXIT_OK;
    }
    e->from_file = true;
    e->path = arg;
    if (strcmp(arg, "-") == 0) /* a config.json on standard input */
        return hfconfig_read(stdin, "standard input", &e->shape, &err) != QKV_OK
                   ? cli_fail(&err, EXIT_INPUT)
                   : EXIT_OK;
    struct stat sb;
    if (stat(arg, &sb) != 0 && !strchr(arg, '/') && !strstr(arg, ".json")) {
        cli_error("--model '%s': no such catalog model or file (see 'qkvplan models')", arg);
        return EXIT_USAGE;
    }
    if (modelfile_shape(arg, &e->shape, &err) != QKV_OK)
        return cli_fail(&err, EXIT_INPUT);
    return EXIT_OK;
}

/* The models of -m: the whole catalog, one model, or a comma list; shape
 * overrides apply to one model only. */
static int load_models(const plan_state *st, model_entry **out, size_t *n_out)
{
    const bool all = strcasecmp(st->model_arg, "all") == 0;
    char buf[2048], *items[PLAN_LIST_MAX];
    long n = 1;
    if (all)
        n = (long)catalog_count();
    else if (strchr(st->model_arg, ',') &&
             (n = cli_split_list("model", st->model_arg, buf, sizeof buf, items, PLAN_LIST_MAX)) <=
                 0) {
        if (n == 0)
            cli_error("--model '%s': empty list", st->model_arg);
        return EXIT_USAGE;
    } else if (!strchr(st->model_arg, ',')) {
        items[0] = (char *)st->model_arg;
    }
    model_entry *m = calloc((size_t)n, sizeof *m);
    if (!m) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    *out = m;
    *n_out = (size_t)n;
    for (long i = 0; i < n; i++) {
        int code = EXIT_OK;
        if (all)
            m[i].shape = *catalog_get((size_t)i);
        else if ((code = load_model(items[i], &m[i])) != EXIT_OK)
            return code;
    }
    bool any_override = false;
    for (int id = O_LAYERS; id <= O_VOCAB; id++)
        any_override |= st->ov[id] != 0;
    if (any_override && n > 1) {
        cli_error("shape overrides apply to one model, not to %s",
                  all ? "--model all" : "a list of models");
        return EXIT_USAGE;
    }
    const model_overrides ov = {st->ov[O_LAYERS],   st->ov[O_DMODEL],  st->ov[O_HEADS],
                                st->ov[O_MKVHEADS], st->ov[O_HEADDIM], st->ov[O_FFN],
                                st->ov[O_VOCAB]};
    qkv_error err;
    if (n == 1 && model_apply_overrides(&m[0].shape, &ov, &err) != QKV_OK)
        return cli_fail(&err, EXIT_USAGE);
    return EXIT_OK;
}

/* Plan model e with parameters p into plans[*n_plans]; with the whole catalog
 * a model none of the variants fit, or the GPUs cannot split, is left out. */
static int plan_one(const plan_state *st, const model_entry *e, const kvplan_params *p, bool all,
                    variant *vs, kvplan_result *plans, size_t *n_plans)
{
    qkv_error err;
    char skipped[KVPLAN_NOTES_MAX][KVPLAN_NOTE_BYTES];
    size_t n_skipped;
    if (model_validate(&e->shape, &err) != QKV_OK) {
        /* A file's own shape was validated as it was read: what fails now
         * is the command line's overrides, so say which. */
        const char *with = strstr(e->shape.source, " with --");
        if (with)
            cli_error("%s: %s", with + 6, err.msg);
        else
            cli_error("%s", err.msg);
        return e->from_file && !with ? EXIT_INPUT : EXIT_USAGE;
    }
    long n = build_variants(st, &e->shape, vs, all, skipped, &n_skipped);
    if (n < 0)
        return EXIT_USAGE;
    /* One explicitly requested variant that cannot be built is an error; in
     * a grid or a list, such combinations are skipped with a note. */
    const bool single = st->share_list && st->kv_heads_list && !strchr(st->share_list, ',') &&
                        !strchr(st->kv_heads_list, ',');
    if (kvplan_plan(&e->shape, vs, (size_t)n, p, all || !single, &plans[*n_plans], &err) !=
        QKV_OK) {
        if (all && (n == 0 || err.code == QKV_ERR_INVALID))
            return EXIT_OK; /* the whole catalog: a model none of the variants fit is left out */
        /* Sizes that grow with the context and sequences overflow because
         * of the request: say so and name the options. Sizes of the model
         * alone (parameters, weights) are the file's. */
        const bool request = err.code == QKV_ERR_OVERFLOW &&
                             (strstr(err.msg, "cell count") || strstr(err.msg, "KV cache size") ||
                              strstr(err.msg, "scratch size") || strstr(err.msg, "total memory"));
        const bool model_size = err.code == QKV_ERR_OVERFLOW && !request;
        if (request)
            cli_error("--ctx %" PRIu64 " with --seqs %" PRIu64 ": %s", p->ctx, p->seqs, err.msg);
        else
            cli_error("%s", err.msg);
        return err.code == QKV_ERR_NOMEM    ? EXIT_FAIL
               : model_size && e->from_file ? EXIT_INPUT
                                            : EXIT_USAGE;
    }
    kvplan_result *r = &plans[(*n_plans)++];
    for (size_t k = 0; k < n_skipped && r->n_notes < KVPLAN_NOTES_MAX; k++)
        memcpy(r->notes[r->n_notes++], skipped[k], KVPLAN_NOTE_BYTES);
    if (st->op.n_gpus == 0)
        return EXIT_OK;
    /* a GGUF as published gives each layer's exact bytes */
    offload_layout layout = {0};
    const bool use_file = e->from_file && e->path && strcmp(e->shape.name, "custom") != 0 &&
                          modelfile_is_gguf(e->path);
    qkv_status ls =
        use_file ? offload_layout_read(e->path, e->shape.n_layers, &layout, &err) : QKV_OK;
    if (ls == QKV_OK)
        ls = offload_plan(r, &st->op, use_file ? &layout : NULL, &err);
    offload_layout_free(&layout);
    if (ls == QKV_OK || (all && ls == QKV_ERR_INVALID))
        return EXIT_OK; /* the catalog: a model the GPUs cannot split is left without */
    cli_error("%s", err.msg);
    return ls == QKV_ERR_NOMEM                                        ? EXIT_FAIL
           : use_file && ls != QKV_ERR_RANGE && ls != QKV_ERR_INVALID ? EXIT_INPUT
                                                                      : EXIT_USAGE;
}

static qkv_status write_plan(FILE *f, report_format fmt, const void *in, qkv_error *err)
{
    return report_write(f, fmt, in, err);
}

int cmd_plan(int argc, char **argv)
{
    plan_state st;
    memset(&st, 0, sizeof st);
    st.p = kvplan_params_default();
    if (cli_apply_defaults(cli_plan_options, plan_on_option, &st) != 0)
        return EXIT_FAIL; /* a default the table itself gets wrong */
    st.parsing = true;
    if (cli_parse_aliases(cli_plan_options, cli_plan_aliases, argc, argv, plan_on_option, &st) != 0)
        return EXIT_USAGE;
    if (st.help) {
        plan_print_help(stdout);
        return cli_finish_stdout(EXIT_OK);
    }
    if (st.version) {
        printf("qkvplan %s\n", QKVPLAN_VERSION);
        return cli_finish_stdout(EXIT_OK);
    }
    if (st.gpu_util > 0 && st.reserve_set) {
        cli_error("--gpu-memory-utilization and --reserve both set the budget; give one");
        return EXIT_USAGE;
    }
    if (plan_offload_setup(&st) != 0)
        return EXIT_USAGE;
    if (st.gpu_util > 0) /* vLLM may use this fraction of the device */
        st.p.reserve_bytes =
            st.p.device_bytes - (uint64_t)((double)st.p.device_bytes * st.gpu_util);
    else if (st.reserve_permille > 0)
        st.p.reserve_bytes = (uint64_t)((double)st.p.device_bytes * st.reserve_permille / 1000.0);
    if (!st.k_set)
        st.p.type_k = st.kv_type;
    if (!st.v_set)
        st.p.type_v = st.kv_type;
    if (st.as_built && (st.share_list || st.kv_heads_list)) {
        cli_error("--as-built plans the model as published; it cannot be combined with --share "
                  "or --kv-heads");
        return EXIT_USAGE;
    }
    qkv_error err;
    if (kvplan_params_check(&st.p, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
    }

    /* Models, and the plans the lists ask for: every model at every context,
     * cache type and weight type. */
    int code = EXIT_OK;
    size_t n_plans = 0, n_models = 0;
    model_entry *models = NULL;
    kvplan_result *plans = NULL;
    variant *vs = calloc(VARIANT_MAX, sizeof *vs);
    plan_axes ax;
    if (!vs) {
        cli_error("out of memory");
        code = EXIT_FAIL;
        goto done;
    }
    if ((code = plan_axes_read(&st, &ax)) != EXIT_OK ||
        (code = load_models(&st, &models, &n_models)) != EXIT_OK)
        goto done;
    const bool all = strcasecmp(st.model_arg, "all") == 0;
    const size_t n_combos = n_models * ax.n_ctx * ax.n_kv * ax.n_wt;
    if (!(plans = calloc(n_combos, sizeof *plans))) {
        cli_error("out of memory");
        code = EXIT_FAIL;
        goto done;
    }
    for (size_t i = 0; i < n_models; i++)
        for (size_t c = 0; c < ax.n_ctx; c++)
            for (size_t k = 0; k < ax.n_kv; k++)
                for (size_t w = 0; w < ax.n_wt; w++) {
                    kvplan_params p = st.p;
                    p.ctx = ax.ctx[c];
                    if (!st.k_set)
                        p.type_k = ax.kv[k];
                    if (!st.v_set)
                        p.type_v = ax.kv[k];
                    p.weight_type = ax.wt[w];
                    if ((code = plan_one(&st, &models[i], &p, all, vs, plans, &n_plans)) != EXIT_OK)
                        goto done;
                }
    /* Every file this run will write, against every file it read. */
    report_input planned = {st.device_label, plans, n_plans, st.in_mib, 0, false};
    cli_outputs outs = {0};
    cli_outputs_add(&outs, "--output", "%s",
                    st.output && strcmp(st.output, "-") ? st.output : NULL);
    cli_outputs_add(&outs, "--xlsx", "%s", st.xlsx);
    char plots[QKV_PATH_BYTES + QKV_NAME_BYTES];
    snprintf(plots, sizeof plots, "%s/%s", st.report ? st.report : "", REPORT_BUNDLE_PLOTS);
    if (st.report)
        cli_outputs_add_bundle(&outs, "--report", st.report, "plan");
    for (size_t i = 0; i < n_plans; i++) {
        for (int k = 0; k < PLOT_KINDS; k++) {
            char base[QKV_NAME_BYTES];
            report_plot_name(&planned, i, k, base, sizeof base);
            if (st.plot)
                cli_outputs_add_figure(&outs, "--plot", st.plot, base);
            if (st.report)
                cli_outputs_add_figure(&outs, "--report", plots, base);
        }
    }
    if ((code = cli_outputs_check(&outs)) != EXIT_OK)
        goto done;

    if (st.xlsx || st.plot || st.report) {
        for (size_t i = 0; i < n_plans; i++) {
            if (kvplan_sweep(&plans[i], &err) != QKV_OK) {
                cli_error("%s", err.msg);
                code = EXIT_FAIL;
                goto done;
            }
        }
    }

    /* Output. */
    report_input in = {st.device_label,
                       plans,
                       n_plans,
                       st.in_mib,
                       cli_term_width(st.output && strcmp(st.output, "-") ? -1 : STDOUT_FILENO),
                       st.wide};
    if ((code = cli_write_report(st.output, st.format, write_plan, &in)) != EXIT_OK)
        goto done;
    if (st.xlsx && cli_xlsx_write(st.xlsx, &in, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        code = EXIT_FAIL;
        goto done;
    }
    bool plots_missing = false;
    if (st.plot) {
        qkv_status ps = report_make_dir(st.plot, &err);
        if (ps == QKV_OK)
            ps = report_plots_write(st.plot, &in, &err);
        if ((code = cli_plot_status(ps, &err, "plots not drawn", &plots_missing)) != EXIT_OK)
            goto done;
    }
    const report_bundle bundle = report_plan_bundle(&in);
    if (st.report &&
        (code = cli_plot_status(cli_bundle_write(st.report, &bundle, &err), &err,
                                "report written without plots", &plots_missing)) != EXIT_OK)
        goto done;
    if (plots_missing)
        code = EXIT_PLOTS;
done:
    if (plans)
        for (size_t i = 0; i < n_plans; i++)
            kvplan_result_free(&plans[i]);
    free(plans);
    free(models);
    free(vs);
    return code;
}
