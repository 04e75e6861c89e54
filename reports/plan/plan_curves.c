/* The planner's figures over the context sweep (plan_curves.h). */
#include "reports/plan/plan_curves.h"

#include <inttypes.h>
#include <string.h>

#include "analyzer/dtype.h"
#include "reports/fmt.h"
#include "reports/gnuplot.h"
#include "reports/safename.h"

#define GIB 1073741824.0

static const uint64_t *series(const kvplan_result *r, bool total, size_t row)
{
    return (total ? r->sweep_total : r->sweep_kv) + row * r->n_sweep;
}

/* Row j is drawn (total: unless the engine refuses it). */
static bool drawn(const kvplan_result *r, bool total, size_t j)
{
    return !total || !r->rows[j].engine_refusal[0];
}

/* The first drawn row whose series equals row j's (j itself when none before). */
static size_t leader(const kvplan_result *r, bool total, size_t j)
{
    for (size_t k = 0; k < j; k++)
        if (drawn(r, total, k) &&
            memcmp(series(r, total, k), series(r, total, j), r->n_sweep * sizeof(uint64_t)) == 0)
            return k;
    return j;
}

/* Series name: the labels of the rows merged into leader j, ", "-separated,
 * the as-built one starred as in the table. Double quotes never occur in
 * labels (the planner builds them) and are dropped anyway. */
static void series_name(const kvplan_result *r, bool total, size_t j, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = j; k < r->n_rows; k++) {
        if (!drawn(r, total, k) || leader(r, total, k) != j)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s%s", used ? ", " : "", r->rows[k].label,
                         r->rows[k].v.as_built ? " *" : "");
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    for (char *c = buf; *c; c++)
        if (*c == '"')
            *c = '\'';
}

void plan_curves_dat(FILE *f, const kvplan_result *r, bool total)
{
    const uint64_t usable = r->params.device_bytes - r->params.reserve_bytes;
    fprintf(f, "# qkvplan: %s per variant over context, exact bytes; * = as built\n",
            total ? "total memory (weights + KV cache + scratch)" : "KV cache");
    fprintf(f,
            "# usable %" PRIu64 " bytes (device - reserve); requested context %" PRIu64
            "; trained context %" PRIu64 " (0: unknown)\n",
            usable, r->params.ctx, r->model.max_ctx);
    for (size_t j = 0; j < r->n_rows; j++)
        if (!drawn(r, total, j))
            fprintf(f, "# left out, refused by the engine: %s\n", r->rows[j].label);
    fputs("\"context\"", f);
    char name[1024];
    for (size_t j = 0; j < r->n_rows; j++) {
        if (!drawn(r, total, j) || leader(r, total, j) != j)
            continue;
        series_name(r, total, j, name, sizeof name);
        fprintf(f, " \"%s\"", name);
    }
    fputc('\n', f);
    for (size_t k = 0; k < r->n_sweep; k++) {
        fprintf(f, "%" PRIu64, r->sweep_ctx[k]);
        for (size_t j = 0; j < r->n_rows; j++)
            if (drawn(r, total, j) && leader(r, total, j) == j)
                fprintf(f, " %" PRIu64, series(r, total, j)[k]);
        fputc('\n', f);
    }
}

/* Twelve distinguishable colours, each with its own point type; series past
 * twelve reuse the colours with other points. */
void plan_curves_palette(FILE *f)
{
    static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                          "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                          "#bcbd22", "#17becf", "#393b79", "#637939"};
    for (int k = 0; k < 12; k++)
        fprintf(f, "set linetype %d lc rgb \"%s\" pt %d\n", k + 1, colours[k], 4 + k % 10);
}

/* Tics on a log axis at powers of two across [lo, hi], every step-th power,
 * labelled in binary units (bytes: "1 MiB") or tokens ("512", "32k", "1M"). */
static void pow2_tics(FILE *f, const char *axis, uint64_t lo, uint64_t hi, bool bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int first = 0, last = 0;
    while (first < 62 && ((uint64_t)1 << (first + 1)) <= lo)
        first++;
    while (last < 62 && ((uint64_t)1 << last) < hi)
        last++;
    const int step = last - first > 12 ? 2 : 1;
    fprintf(f, "set %stics (", axis);
    for (int e = first; e <= last; e += step) {
        char t[24];
        if (bytes)
            snprintf(t, sizeof t, "%d %s", 1 << (e % 10), units[e / 10]);
        else
            fmt_tokens((uint64_t)1 << e, t, sizeof t);
        fprintf(f, "%s\"%s\" 2**%d", e == first ? "" : ", ", t, e);
    }
    fputs(")\n", f);
}

void plan_curves_gp(FILE *f, const report_input *in, size_t i, const char *base, bool total)
{
    const kvplan_result *r = &in->plans[i];
    const kvplan_params *p = &r->params;
    const uint64_t usable = p->device_bytes - p->reserve_bytes;
    char name[MODEL_NAME_BYTES], device[128];
    report_gp_text(r->model.name, name, sizeof name);
    report_gp_text(in->device_label, device, sizeof device);
    fprintf(f,
            "# qkvplan: %s per variant over context. Re-draw with: gnuplot %s.gp\n"
            "# Data: %s.dat, exact bytes; x in tokens (log 2), y in %s.\n"
            "# Variants with equal curves are one series (\"A, B\" in the key).\n",
            total ? "total memory against the usable budget" : "KV cache", base, base,
            total ? "GiB (2^30 bytes)" : "bytes (log 2, binary units)");
    report_gp_outputs(f, base);
    fputs("set encoding utf8\nset grid lc rgb \"#dddddd\"\n", f);
    plan_curves_palette(f);
    const uint64_t c_lo = r->sweep_ctx[0], c_hi = r->sweep_ctx[r->n_sweep - 1];
    fprintf(f,
            "usable = %" PRIu64 ".0  # device - reserve, bytes\n"
            "ctx = %" PRIu64 "  # requested context, tokens\n"
            "trained = %" PRIu64 "  # the model's trained context (0: unknown)\n"
            "set logscale x 2\n"
            "set xrange [%" PRIu64 ":%" PRIu64 "]\n"
            "set xlabel \"context (tokens%s, log scale)\"\n",
            usable, p->ctx, r->model.max_ctx, c_lo, c_hi,
            kvplan_engine_is_llamacpp(p->engine) ? ", n_ctx shared by the sequences"
            : p->seqs > 1                        ? " per sequence"
                                                 : "");
    pow2_tics(f, "x", c_lo, c_hi, false);
    char sub[160];
    snprintf(sub, sizeof sub, "%s cache, %s engine, %" PRIu64 " seq%s",
             dtype_cache_get(p->type_k)->name, kvplan_engine_name(p->engine), p->seqs,
             p->seqs == 1 ? "" : "s");
    size_t n_series = 0;
    for (size_t j = 0; j < r->n_rows; j++)
        n_series += drawn(r, total, j) && leader(r, total, j) == j;
    if (total) {
        /* up to half again the budget, and past every curve at the requested context */
        uint64_t at_req = 0;
        for (size_t k = 0; k < r->n_sweep; k++)
            if (r->sweep_ctx[k] == p->ctx)
                for (size_t j = 0; j < r->n_rows; j++)
                    if (drawn(r, total, j) && series(r, total, j)[k] > at_req)
                        at_req = series(r, total, j)[k];
        double top = 1.5 * (double)usable;
        if (1.1 * (double)at_req > top)
            top = 1.1 * (double)at_req;
        char u[FMT_BYTES];
        fmt_size(usable, u, sizeof u);
        fprintf(f,
                "set title \"%s in %s: total memory vs context (%s; * = as built)\" noenhanced\n"
                "set ylabel \"weights + KV cache + scratch (GiB)\"\n"
                "set yrange [0:%.6g]\n"
                "set key outside right top noenhanced title \"variant\"\n"
                "set label 3 \"usable %s\" at graph 0.01, first usable/2**30 offset 0,0.7 "
                "tc rgb \"#C00000\"\n",
                name, device, sub, top / GIB, u);
    } else {
        uint64_t lo = UINT64_MAX, hi = 1;
        for (size_t k = 0; k < r->n_rows * r->n_sweep; k++) {
            if (r->sweep_kv[k] > 0 && r->sweep_kv[k] < lo)
                lo = r->sweep_kv[k];
            if (r->sweep_kv[k] > hi)
                hi = r->sweep_kv[k];
        }
        if (lo == UINT64_MAX)
            lo = 1;
        fprintf(f,
                "set title \"%s: KV cache alone vs context (%s; * = as built)\" noenhanced\n"
                "set ylabel \"KV cache (bytes, log scale)\"\n"
                "set logscale y 2\n"
                "set key outside right top noenhanced title \"variant\"\n"
                "# The budget is for weights + KV cache + scratch together: see total_vs_ctx.\n",
                name, sub);
        pow2_tics(f, "y", lo, hi, true);
    }
    char req[24], trained[24];
    fmt_tokens(p->ctx, req, sizeof req);
    fmt_tokens(r->model.max_ctx, trained, sizeof trained);
    fprintf(f,
            "set arrow 1 from ctx, graph 0 to ctx, graph 1 nohead dt 2 lc rgb \"#555555\"\n"
            "set label 1 \"requested %s\" at ctx, graph 0.97 right offset -0.5,0 "
            "tc rgb \"#555555\"\n",
            req);
    if (r->model.max_ctx > 0)
        fprintf(f,
                "set arrow 2 from trained, graph 0 to trained, graph 1 nohead dt 3 lw 1.5 "
                "lc rgb \"#2F6F3F\"\n"
                "set label 2 \"trained %s\" at trained, graph 0.91 %s offset %s,0 "
                "tc rgb \"#2F6F3F\"\n",
                trained, r->model.max_ctx > p->ctx ? "left" : "right",
                r->model.max_ctx > p->ctx ? "0.5" : "-0.5");
    char plot[640];
    if (total)
        snprintf(
            plot, sizeof plot,
            "plot for [i=2:%zu] \"%s.dat\" using 1:(column(i)/2**30) with linespoints lt (i-1) "
            "lw 2 ps 0.9 title columnheader(i), usable/2**30 with lines lw 2.5 dt 2 "
            "lc rgb \"#C00000\" title \"usable (device - reserve)\"",
            n_series + 1, base);
    else
        snprintf(plot, sizeof plot,
                 "plot for [i=2:%zu] \"%s.dat\" using 1:i with linespoints lt (i-1) lw 2 ps 0.9 "
                 "title columnheader(i)",
                 n_series + 1, base);
    report_gp_draw(f, plot, 1100, 650, 11);
}
