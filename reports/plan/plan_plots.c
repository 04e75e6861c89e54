/* The planner's figures (plan_plots.h): data and gnuplot scripts per plan. */
#include "reports/plan/plan_plots.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/dtype.h"
#include "analyzer/offload.h"
#include "reports/fmt.h"
#include "reports/gnuplot.h"
#include "reports/plan/plan_curves.h"
#include "reports/safename.h"

const char *const report_plot_kinds[PLOT_KINDS] = {
    "kv_vs_ctx", "memory", "max_ctx", "total_vs_ctx", "offload_devices", "offload_layers"};

bool report_plot_applies(const kvplan_result *r, int k)
{
    if (k == 0 || k == 3)
        return r->n_sweep > 0;
    if (k == 4 || k == 5)
        return r->offload != NULL && r->offload->n_rows > 0;
    return true;
}

void report_plot_name(const report_input *in, size_t i, int k, char *buf, size_t buf_bytes)
{
    if (in->n_plans <= 1) {
        snprintf(buf, buf_bytes, "%s", report_plot_kinds[k]);
        return;
    }
    char model[MODEL_NAME_BYTES];
    report_safe_file_name(in->plans[i].model.name, model, sizeof model);
    /* the same model planned several times (lists of contexts or types):
     * its plans are told apart by their place in the list */
    bool repeated = false;
    for (size_t j = 0; j < in->n_plans; j++)
        repeated |= j != i && strcmp(in->plans[j].model.name, in->plans[i].model.name) == 0;
    if (repeated)
        snprintf(buf, buf_bytes, "%s-%zu-%s", model, i + 1, report_plot_kinds[k]);
    else
        snprintf(buf, buf_bytes, "%s-%s", model, report_plot_kinds[k]);
}

typedef void (*writer_fn)(FILE *f, const report_input *in, size_t i, const char *base);

static void quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        if (*s != '"')
            fputc(*s, f);
    fputc('"', f);
}

static void common_header(FILE *f, const char *base, const char *what, const char *units)
{
    fprintf(f,
            "# qkvplan: %s. Re-draw with: gnuplot %s.gp\n"
            "# Data: %s.dat; %s.\n",
            what, base, base, units);
    report_gp_outputs(f, base);
    fputs("set encoding utf8\n"
          "set grid lc rgb \"#dddddd\"\n",
          f);
}

static void subtitle(const kvplan_result *r, char *buf, size_t n)
{
    snprintf(buf, n, "%s cache, %s engine, %" PRIu64 " seq%s",
             dtype_cache_get(r->params.type_k)->name, kvplan_engine_name(r->params.engine),
             r->params.seqs, r->params.seqs == 1 ? "" : "s");
}

/* Draw the plot twice, to PNG and to SVG, at the names the caller may set
 * with -e (outpng, outsvg). */
static void footer_with(FILE *f, const char *plot)
{
    report_gp_draw(f, plot, 1100, 650, 11);
}

static void kv_dat(FILE *f, const report_input *in, size_t i, const char *base)
{
    (void)base;
    plan_curves_dat(f, &in->plans[i], false);
}

static void kv_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    plan_curves_gp(f, in, i, base, false);
}

static void total_dat(FILE *f, const report_input *in, size_t i, const char *base)
{
    (void)base;
    plan_curves_dat(f, &in->plans[i], true);
}

static void total_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    plan_curves_gp(f, in, i, base, true);
}

static void mem_dat(FILE *f, const report_input *in, size_t i, const char *base)
{
    (void)base;
    const kvplan_result *r = &in->plans[i];
    fputs("# variant weights kv_cache scratch reserve (bytes)\n", f);
    for (size_t j = 0; j < r->n_rows; j++) {
        const kvplan_row *w = &r->rows[j];
        char label[VARIANT_LABEL_BYTES + 4];
        snprintf(label, sizeof label, "%s%s", w->label, w->v.as_built ? " *" : "");
        quoted(f, label);
        fprintf(f, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", w->weight_bytes,
                w->kv_bytes, w->scratch_bytes, r->params.reserve_bytes);
    }
}

static void mem_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    const kvplan_result *r = &in->plans[i];
    char sub[128], name[MODEL_NAME_BYTES];
    subtitle(r, sub, sizeof sub);
    report_gp_text(r->model.name, name, sizeof name);
    common_header(f, base, "memory breakdown per variant",
                  "exact bytes, plotted in GiB (2^30 bytes)");
    fprintf(f,
            "device = %" PRIu64 ".0  # bytes\n"
            "set title \"%s at %" PRIu64
            " tokens: memory per variant (%s; * = as built)\" noenhanced\n"
            "set ylabel \"memory (GiB)\"\n"
            "set xlabel \"variant\"\n"
            "set style data histograms\n"
            "set style histogram rowstacked\n"
            "set style fill solid 0.85 border -1\n"
            "set boxwidth 0.7\n"
            "set xtics rotate by -35 noenhanced nomirror\n"
            "set xrange [-0.6:%zu.6]\n"
            "set yrange [0:*]\n"
            "set key outside right top\n",
            r->params.device_bytes, name, r->params.ctx, sub, r->n_rows - 1);
    char plot[768];
    snprintf(plot, sizeof plot,
             "plot \"%s.dat\" using ($2/2**30):xtic(1) title \"weights\" lc rgb \"#4C72B0\", "
             "'' using ($3/2**30) title \"KV cache\" lc rgb \"#DD8452\", "
             "'' using ($4/2**30) title \"scratch\" lc rgb \"#55A868\", "
             "'' using ($5/2**30) title \"reserve\" lc rgb \"#BBBBBB\", "
             "device/2**30 with lines lw 2.5 dt 2 lc rgb \"#C00000\" title \"device\"",
             base);
    footer_with(f, plot);
}

static void ctx_dat(FILE *f, const report_input *in, size_t i, const char *base)
{
    (void)base;
    const kvplan_result *r = &in->plans[i];
    fputs("# variant max_ctx capped label (tokens; capped 1: the search's cap fits, so memory "
          "does not bound it; 0 = fits at no context)\n",
          f);
    for (size_t j = 0; j < r->n_rows; j++) {
        const kvplan_row *w = &r->rows[j];
        char label[VARIANT_LABEL_BYTES + 4], t[32], text[40];
        snprintf(label, sizeof label, "%s%s", w->label, w->v.as_built ? " *" : "");
        quoted(f, label);
        fmt_tokens(w->max_ctx, t, sizeof t);
        snprintf(text, sizeof text, "%s%s", w->max_ctx_capped ? ">=" : "", w->max_ctx ? t : "none");
        fprintf(f, " %" PRIu64 " %d \"%s\"\n", w->max_ctx, w->max_ctx_capped ? 1 : 0, text);
    }
}

/* The longest context per variant as points on a log axis in tokens (a bar
 * would have to start at an arbitrary floor), with the requested and the
 * trained context as lines. */
static void ctx_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    const kvplan_result *r = &in->plans[i];
    char sub[128], name[MODEL_NAME_BYTES], device[128];
    subtitle(r, sub, sizeof sub);
    report_gp_text(r->model.name, name, sizeof name);
    report_gp_text(in->device_label, device, sizeof device);
    common_header(f, base, "longest context that fits per variant",
                  "tokens, plotted on a log 2 axis");
    uint64_t lo = r->params.ctx, hi = r->params.ctx;
    if (r->model.max_ctx > 0) {
        lo = r->model.max_ctx < lo ? r->model.max_ctx : lo;
        hi = r->model.max_ctx > hi ? r->model.max_ctx : hi;
    }
    for (size_t j = 0; j < r->n_rows; j++) {
        const uint64_t m = r->rows[j].max_ctx;
        if (m > 0 && m < lo)
            lo = m;
        if (m > hi)
            hi = m;
    }
    int e_lo = 0, e_hi = 0; /* one power of two beyond the data either side */
    while (e_lo < 62 && ((uint64_t)1 << (e_lo + 1)) <= lo)
        e_lo++;
    e_lo = e_lo > 0 ? e_lo - 1 : 0;
    while (e_hi < 62 && ((uint64_t)1 << e_hi) <= hi)
        e_hi++;
    char req[24], trained[24];
    fmt_tokens(r->params.ctx, req, sizeof req);
    fmt_tokens(r->model.max_ctx, trained, sizeof trained);
    fprintf(f,
            "ctx = %" PRIu64 "  # requested context, tokens\n"
            "trained = %" PRIu64 "  # trained context (0: unknown)\n"
            "floor = 2**%d  # bottom of the axis: where 'fits at no context' is drawn\n"
            "set title \"%s: longest context that fits in %s (%s; * = as built)\" noenhanced\n"
            "set ylabel \"longest context (tokens, log scale)\"\n"
            "set xlabel \"variant\"\n"
            "set logscale y 2\n"
            "set yrange [2**%d:2**%d]\n",
            r->params.ctx, r->model.max_ctx, e_lo, name, device, sub, e_lo, e_hi);
    fputs("set ytics (", f);
    for (int e = e_lo; e <= e_hi; e += e_hi - e_lo > 12 ? 2 : 1) {
        char t[24];
        fmt_tokens((uint64_t)1 << e, t, sizeof t);
        fprintf(f, "%s\"%s\" 2**%d", e == e_lo ? "" : ", ", t, e);
    }
    fprintf(f,
            ")\n"
            "set xtics rotate by -35 noenhanced nomirror\n"
            "set grid xtics ytics\n"
            "set xrange [-0.6:%zu.6]\n"
            "set key below horizontal\n",
            r->n_rows - 1);
    char plot[1400];
    int k = snprintf(
        plot, sizeof plot,
        "plot \"%s.dat\" using 0:($3 == 0 && $2 > 0 ? $2 : NaN):xtic(1) with points pt 7 ps 1.8 "
        "lc rgb \"#4C72B0\" title \"longest context that fits\", "
        "'' using 0:($3 == 1 ? $2 : NaN) with points pt 9 ps 2 lc rgb \"#55A868\" "
        "title \"fits at the cap (memory does not bound it)\", "
        "'' using 0:($2 == 0 ? floor : NaN) with points pt 2 ps 1.8 lc rgb \"#C00000\" "
        "title \"fits at no context\", "
        "'' using 0:($2 > 0 ? $2 : floor):4 with labels offset 0,1.1 noenhanced notitle, "
        "ctx with lines lw 2 dt 2 lc rgb \"#555555\" title \"requested %s\"",
        base, req);
    if (r->model.max_ctx > 0 && k > 0 && (size_t)k < sizeof plot)
        snprintf(plot + k, sizeof plot - (size_t)k,
                 ", trained with lines lw 2 dt 3 lc rgb \"#2F6F3F\" title \"trained %s\"", trained);
    footer_with(f, plot);
}

/* Run gnuplot on script in dir with outputs to temporary names; on success
 * rename them into place. */
/* Offload: one bar per variant and device, stacked weights, KV cache and
 * compute, and the device's usable budget as a point on it. */
static void dev_dat(FILE *f, const report_input *in, size_t i, const char *base)
{
    (void)base;
    const kvplan_result *r = &in->plans[i];
    const struct offload_plan *p = r->offload;
    fputs("# variant/device weights kv_cache compute budget (bytes)\n", f);
    for (size_t j = 0; j < p->n_rows; j++) {
        const offload_row *w = &p->rows[j];
        for (size_t d = 0; d <= w->n_gpus; d++) {
            const offload_device *dev = d == 0 ? &w->host : &w->gpu[d - 1];
            if (p->vllm && d == 0)
                continue;
            char label[VARIANT_LABEL_BYTES + OFFLOAD_NAME_BYTES + 2];
            snprintf(label, sizeof label, "%s %s", r->rows[j].label, dev->name);
            quoted(f, label);
            fprintf(f, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", dev->weight_bytes,
                    dev->kv_bytes, dev->compute_bytes, dev->budget_bytes);
        }
    }
}

static void dev_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    const kvplan_result *r = &in->plans[i];
    const struct offload_plan *p = r->offload;
    size_t bars = 0;
    for (size_t j = 0; j < p->n_rows; j++)
        bars += p->rows[j].n_gpus + (p->vllm ? 0 : 1);
    char name[MODEL_NAME_BYTES];
    report_gp_text(r->model.name, name, sizeof name);
    common_header(f, base, "memory per device and variant with a GPU budget",
                  "exact bytes, plotted in GiB (2^30 bytes)");
    fprintf(f,
            "set title \"%s at %" PRIu64 " tokens: memory per device (%s)\" noenhanced\n"
            "set ylabel \"memory (GiB)\"\n"
            "set xlabel \"variant and device\"\n"
            "set style data histograms\n"
            "set style histogram rowstacked\n"
            "set style fill solid 0.85 border -1\n"
            "set boxwidth 0.7\n"
            "set xtics rotate by -45 noenhanced nomirror font \",9\"\n"
            "set xrange [-0.6:%zu.6]\n"
            "set yrange [0:*]\n"
            "set key outside right top\n",
            name, r->params.ctx, p->vllm ? "vLLM tensor parallel" : "llama.cpp -ngl placement",
            bars ? bars - 1 : 0);
    char plot[768];
    snprintf(plot, sizeof plot,
             "plot \"%s.dat\" using ($2/2**30):xtic(1) title \"weights\" lc rgb \"#4C72B0\", "
             "'' using ($3/2**30) title \"KV cache\" lc rgb \"#DD8452\", "
             "'' using ($4/2**30) title \"compute (estimate)\" lc rgb \"#55A868\", "
             "'' using 0:($5/2**30) with points pt 9 ps 1.6 lc rgb \"#C00000\" "
             "title \"usable budget of the device\"",
             base);
    footer_with(f, plot);
}

/* Offload: for each variant, the -ngl llama.cpp's auto would choose at each
 * context of the sweep (the output layer counts first), one data block a
 * variant. */
static void ngl_dat(FILE *f, const report_input *in, size_t i, const char *base)
{
    (void)base;
    const kvplan_result *r = &in->plans[i];
    const struct offload_plan *p = r->offload;
    fputs("# one block per variant: context (tokens), -ngl that fits (output layer first)\n", f);
    for (size_t j = 0; j < p->n_rows; j++) {
        fprintf(f, "%s# %s\n", j ? "\n\n" : "", r->rows[j].label);
        for (size_t k = 0; k < p->rows[j].n_sweep; k++)
            fprintf(f, "%" PRIu64 " %" PRIu64 "\n", p->rows[j].sweep_ctx[k],
                    p->rows[j].sweep_ngl[k]);
    }
}

static void ngl_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    const kvplan_result *r = &in->plans[i];
    const struct offload_plan *p = r->offload;
    char name[MODEL_NAME_BYTES], titles[2048] = "";
    report_gp_text(r->model.name, name, sizeof name);
    for (size_t j = 0; j < p->n_rows; j++) {
        char t[VARIANT_LABEL_BYTES];
        report_gp_text(r->rows[j].label, t, sizeof t);
        const size_t used = strlen(titles);
        snprintf(titles + used, sizeof titles - used, "%s%s", j ? " " : "", t);
    }
    common_header(f, base, "layers on the GPUs versus context",
                  "contexts in tokens, the -ngl llama.cpp's auto would choose");
    plan_curves_palette(f);
    fprintf(f,
            "set title \"%s: layers that fit on the GPUs (-ngl, output layer first; %" PRIu64
            " repeating layers)\" noenhanced\n"
            "set xlabel \"context (tokens)\"\n"
            "set ylabel \"-ngl (layers on the GPUs)\"\n"
            "set logscale x 2\n"
            "set yrange [0:%" PRIu64 ".5]\n"
            "set key outside right top noenhanced\n"
            "titles = \"%s\"\n"
            "set arrow from %" PRIu64 ", graph 0 to %" PRIu64
            ", graph 1 nohead dt 2 lc rgb \"#888888\"\n"
            "set label \"requested\" at %" PRIu64 ", graph 0.97 offset 0.5,0 tc rgb \"#666666\"\n",
            name, r->model.n_layers, r->model.n_layers + 1, titles, r->params.ctx, r->params.ctx,
            r->params.ctx);
    char plot[512];
    snprintf(plot, sizeof plot,
             "plot for [i=0:%zu] \"%s.dat\" index i using 1:2 with linespoints lt (i + 1) lw 2 "
             "ps 0.9 title word(titles, i + 1)",
             p->n_rows ? p->n_rows - 1 : 0, base);
    footer_with(f, plot);
}

/* The plan figures' data and script writers, adapted to report_figure. */
typedef struct {
    writer_fn dat, gp;
    const report_input *in;
    size_t i;
    const char *base;
} plan_figure;

static void plan_dat(FILE *f, const void *ctx)
{
    const plan_figure *p = ctx;
    p->dat(f, p->in, p->i, p->base);
}

static void plan_gp(FILE *f, const void *ctx)
{
    const plan_figure *p = ctx;
    p->gp(f, p->in, p->i, p->base);
}

qkv_status report_plots_write(const char *dir, const report_input *in, qkv_error *err)
{
    static const writer_fn dats[PLOT_KINDS] = {kv_dat,    mem_dat, ctx_dat,
                                               total_dat, dev_dat, ngl_dat};
    static const writer_fn gps[PLOT_KINDS] = {kv_gp, mem_gp, ctx_gp, total_gp, dev_gp, ngl_gp};
    qkv_status tool = QKV_OK;
    qkv_error tool_err;
    for (size_t i = 0; i < in->n_plans; i++) {
        for (int k = 0; k < PLOT_KINDS; k++) {
            if (!report_plot_applies(&in->plans[i], k))
                continue;
            char base[160];
            report_plot_name(in, i, k, base, sizeof base);
            plan_figure pf = {dats[k], gps[k], in, i, base};
            qkv_status s = report_figure(dir, base, plan_dat, plan_gp, &pf, &tool, &tool_err, err);
            if (s != QKV_OK)
                return s;
        }
    }
    if (tool != QKV_OK && err)
        *err = tool_err;
    return tool;
}
