/* The planner's figures (plan_plots.h): data and gnuplot scripts per plan. */
#include "reports/plan/plan_plots.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/dtype.h"
#include "reports/gnuplot.h"
#include "reports/safename.h"

const char *const report_plot_kinds[PLOT_KINDS] = {"kv_vs_ctx", "memory", "max_ctx"};

void report_plot_name(const report_input *in, size_t i, int k, char *buf, size_t buf_bytes)
{
    if (in->n_plans <= 1) {
        snprintf(buf, buf_bytes, "%s", report_plot_kinds[k]);
        return;
    }
    char model[MODEL_NAME_BYTES];
    report_safe_file_name(in->plans[i].model.name, model, sizeof model);
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

static void common_header(FILE *f, const char *base, const char *what)
{
    fprintf(f,
            "# qkvplan: %s. Re-draw with: gnuplot %s.gp\n"
            "# Data: %s.dat, exact bytes; plotted in GiB (2^30 bytes).\n",
            what, base, base);
    report_gp_outputs(f, base);
    fputs("set encoding utf8\n"
          "set grid lc rgb \"#dddddd\"\n",
          f);
}


static void subtitle(const kvplan_result *r, char *buf, size_t n)
{
    snprintf(buf, n, "%s cache, %s engine, %" PRIu64 " seq%s", dtype_cache_get(r->params.type_k)->name,
             kvplan_engine_name(r->params.engine), r->params.seqs, r->params.seqs == 1 ? "" : "s");
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
    const kvplan_result *r = &in->plans[i];
    fputs("\"context\"", f);
    for (size_t j = 0; j < r->n_rows; j++) {
        fputc(' ', f);
        quoted(f, r->rows[j].label);
    }
    fputc('\n', f);
    for (size_t k = 0; k < r->n_sweep; k++) {
        fprintf(f, "%" PRIu64, r->sweep_ctx[k]);
        for (size_t j = 0; j < r->n_rows; j++)
            fprintf(f, " %" PRIu64, r->sweep_kv[j * r->n_sweep + k]);
        fputc('\n', f);
    }
}

/* Twelve distinguishable colours; series past twelve reuse them with
 * other point types. */
static void palette(FILE *f)
{
    static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                          "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                          "#bcbd22", "#17becf", "#393b79", "#637939"};
    for (int k = 0; k < 12; k++)
        fprintf(f, "set linetype %d lc rgb \"%s\" pt %d\n", k + 1, colours[k], 4 + k % 10);
}

/* Log-scale tics in binary units, every factor of 4 across [lo, hi] bytes. */
static void byte_tics(FILE *f, uint64_t lo, uint64_t hi)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int first = 0, last = 0;
    while (first < 60 && ((uint64_t)1 << (first + 2)) <= lo)
        first += 2;
    while (last < 62 && ((uint64_t)1 << last) < hi)
        last += 2;
    fputs("set ytics (", f);
    for (int e = first; e <= last; e += 2)
        fprintf(f, "%s\"%d %s\" 2**%d", e == first ? "" : ", ", 1 << (e % 10), units[e / 10], e);
    fputs(")\n", f);
}

static void kv_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    const kvplan_result *r = &in->plans[i];
    char sub[128], name[MODEL_NAME_BYTES];
    subtitle(r, sub, sizeof sub);
    report_gp_text(r->model.name, name, sizeof name);
    common_header(f, base, "KV cache per variant over context");
    const uint64_t usable = r->params.device_bytes - r->params.reserve_bytes;
    uint64_t lo = UINT64_MAX, hi = usable;
    for (size_t k = 0; k < r->n_rows * r->n_sweep; k++) {
        if (r->sweep_kv[k] > 0 && r->sweep_kv[k] < lo)
            lo = r->sweep_kv[k];
        if (r->sweep_kv[k] > hi)
            hi = r->sweep_kv[k];
    }
    if (lo == UINT64_MAX)
        lo = 1;
    palette(f);
    fprintf(f,
            "usable = %" PRIu64 ".0  # device - reserve, bytes\n"
            "ctx = %" PRIu64 "  # requested context\n"
            "set title \"%s: KV cache vs context (%s)\" noenhanced\n"
            "set xlabel \"context (tokens)\"\n"
            "set ylabel \"KV cache\"\n"
            "set logscale x 2\n"
            "set logscale y 2\n"
            "set format x \"2^{%%L}\"\n",
            usable, r->params.ctx, name, sub);
    byte_tics(f, lo, hi);
    fprintf(f,
            "set key outside right top noenhanced\n"
            "set arrow 1 from ctx, graph 0 to ctx, graph 1 nohead dt 2 lc rgb \"#555555\"\n"
            "set label 1 sprintf(\"requested %%d\", ctx) at ctx, graph 0.04 right offset -0.5,0 "
            "tc rgb \"#555555\"\n"
            "# Variants with equal caches overlap: earlier series are drawn wider so they show\n"
            "# beneath later ones.\n");
    char plot[640];
    snprintf(plot, sizeof plot,
             "plot for [i=2:%zu] \"%s.dat\" using 1:i with linespoints lt (i-1) ps 0.9 "
             "lw (1.5 + 3.0*(%zu-i)/%zu.0) title columnheader(i), usable with lines lw 2.5 dt 2 "
             "lc rgb \"#C00000\" title \"usable memory\"",
             r->n_rows + 1, base, r->n_rows + 1, r->n_rows > 1 ? r->n_rows - 1 : 1);
    footer_with(f, plot);
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
        fprintf(f, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", w->weight_bytes, w->kv_bytes,
                w->scratch_bytes, r->params.reserve_bytes);
    }
}

static void mem_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    const kvplan_result *r = &in->plans[i];
    char sub[128], name[MODEL_NAME_BYTES];
    subtitle(r, sub, sizeof sub);
    report_gp_text(r->model.name, name, sizeof name);
    common_header(f, base, "memory breakdown per variant");
    fprintf(f,
            "device = %" PRIu64 ".0  # bytes\n"
            "set title \"%s at %" PRIu64 " tokens: memory per variant (%s; * = as built)\" noenhanced\n"
            "set ylabel \"memory (GiB)\"\n"
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
    fputs("# variant max_ctx capped (tokens; 0 = fits at no context, left out of the plot)\n", f);
    for (size_t j = 0; j < r->n_rows; j++) {
        quoted(f, r->rows[j].label);
        fprintf(f, " %" PRIu64 " %d\n", r->rows[j].max_ctx, r->rows[j].max_ctx_capped ? 1 : 0);
    }
}

static void ctx_gp(FILE *f, const report_input *in, size_t i, const char *base)
{
    const kvplan_result *r = &in->plans[i];
    char sub[128], name[MODEL_NAME_BYTES], device[128];
    subtitle(r, sub, sizeof sub);
    report_gp_text(r->model.name, name, sizeof name);
    report_gp_text(in->device_label, device, sizeof device);
    common_header(f, base, "longest context that fits per variant");
    fprintf(f,
            "ctx = %" PRIu64 "  # requested context\n"
            "set title \"%s: longest context that fits in %s (%s)\" noenhanced\n"
            "set ylabel \"longest context (tokens)\"\n"
            "set logscale y 2\n"
            "set format y \"2^{%%L}\"\n"
            "set style fill solid 0.85 border -1\n"
            "set boxwidth 0.7\n"
            "set xtics rotate by -35 noenhanced nomirror\n"
            "set xrange [-0.6:%zu.6]\n"
            "set yrange [256:*]\n"
            "set key outside right top\n",
            r->params.ctx, name, device, sub, r->n_rows - 1);
    char plot[512];
    snprintf(plot, sizeof plot,
             "plot \"%s.dat\" using 0:($2 > 0 ? $2 : NaN):xtic(1) with boxes lc rgb \"#4C72B0\" "
             "title \"max context\", ctx with lines lw 2.5 dt 2 lc rgb \"#C00000\" title "
             "\"requested context\"",
             base);
    footer_with(f, plot);
}

/* Run gnuplot on script in dir with outputs to temporary names; on success
 * rename them into place. */
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
    static const writer_fn dats[PLOT_KINDS] = {kv_dat, mem_dat, ctx_dat};
    static const writer_fn gps[PLOT_KINDS] = {kv_gp, mem_gp, ctx_gp};
    qkv_status tool = QKV_OK;
    qkv_error tool_err;
    for (size_t i = 0; i < in->n_plans; i++) {
        for (int k = 0; k < PLOT_KINDS; k++) {
            if (k == 0 && in->plans[i].n_sweep == 0)
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
