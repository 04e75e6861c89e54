#include "reports/probe/probe_plots.h"

#include <math.h>
#include <string.h>

#include "reports/gnuplot.h"
#include "reports/safename.h"

const char *const report_probe_plot_kinds[PROBE_PLOT_KINDS] = {"probe_maps", "probe_heat",
                                                               "probe_angles", "probe_spectra"};

/* Layers present in the result, in order (at most L). */
static int layers_of(const probe_result *r, int *layers)
{
    int n = 0;
    for (int i = 0; i < r->n_heads; i++)
        if (n == 0 || layers[n - 1] != r->heads[i].layer)
            layers[n++] = r->heads[i].layer;
    return n;
}

/* The model's file name without its directories, for titles: inert text
 * (reports/safename.h), in a buffer that lives until the next call. */
static const char *short_name(const char *label)
{
    static _Thread_local char safe[256];
    const char *slash = strrchr(label, '/');
    report_gp_text(slash && slash[1] ? slash + 1 : label, safe, sizeof safe);
    return safe;
}

static void header(FILE *f, const char *base, const char *what)
{
    fprintf(f, "# qkvplan probe: %s. Re-draw with: gnuplot %s.gp (data: %s.dat)\n", what, base,
            base);
    report_gp_outputs(f, base);
    fputs("set encoding utf8\n", f);
}

static void draw(FILE *f, const char *body, int w, int h)
{
    report_gp_draw(f, body, w, h, 10);
}

static void maps_dat(FILE *f, const void *ctx)
{
    const probe_result *r = ((const probe_report_input *)ctx)->probe;
    const int n = r->map_n;
    fprintf(f,
            "# attention maps, %d x %d each (query rows, key columns), one block per layer and "
            "head in order\n",
            n, n);
    for (int i = 0; i < r->n_heads; i++) {
        const float *m = r->heads[i].att_map;
        for (int q = 0; q < n; q++) {
            for (int k = 0; k < n; k++)
                fprintf(f, "%s%.6g", k ? " " : "", m ? (double)m[(size_t)q * n + k] : 0.0);
            fputc('\n', f);
        }
        fputs("\n\n", f);
    }
}

static void maps_gp(FILE *f, const void *ctx)
{
    const probe_report_input *in = ctx;
    const probe_result *r = in->probe;
    int layers[RT_LAYERS_MAX];
    const int nl = layers_of(r, layers), nh = r->cfg.n_heads;
    header(f, "probe_maps", "attention maps, layers x heads");
    fputs("layers = \"", f);
    for (int i = 0; i < nl; i++)
        fprintf(f, "%s%d", i ? " " : "", layers[i]);
    fprintf(f, "\"\nnh = %d\nn = %d\n", nh, r->map_n);
    fputs("set palette defined (0 \"#ffffff\", 0.25 \"#9ecae1\", 1 \"#08306b\")\n"
          "set cbrange [0:1]\n"
          "unset key\n"
          "unset xtics\n"
          "unset ytics\n"
          "set xrange [-0.5:n-0.5]\n"
          "set yrange [n-0.5:-0.5]\n"
          "set size ratio -1\n",
          f);
    char body[1024];
    snprintf(body, sizeof body,
             "set multiplot layout %d,%d title sprintf(\"%s: attention maps over the first %%d "
             "tokens (rows: queries, columns: keys)\", n) noenhanced margins 0.02,0.86,0.03,0.90 "
             "spacing 0.01,0.05\n"
             "# one colour scale for every panel, keyed once at the right\n"
             "set colorbox user origin screen 0.89, screen 0.15 size screen 0.02, screen 0.7\n"
             "set cblabel \"attention weight\"\n"
             "set cbtics 0.25\n"
             "do for [k=0:%d] {\n"
             "  set title sprintf(\"L%%s H%%d\", word(layers, k/nh + 1), k%%nh) offset 0,-0.8\n"
             "  plot \"probe_maps.dat\" index k matrix with image\n"
             "}\n"
             "unset multiplot",
             nl, nh, short_name(in->model_label), r->n_heads - 1);
    int w = 150 * nh + 80, h = 150 * nl + 80;
    draw(f, body, w < 700 ? 700 : w, h < 400 ? 400 : h);
}

static void heat_dat(FILE *f, const void *ctx)
{
    const probe_result *r = ((const probe_report_input *)ctx)->probe;
    fputs("# layer head kv_mean_cos2 qk_mean_cos2 erank_k_over_hd sym_share_w\n", f);
    int row = 0;
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        if (i > 0 && h->layer != r->heads[i - 1].layer) {
            fputc('\n', f); /* one block per layer: grid data for `with image` */
            row++;
        }
        fprintf(f, "%d %d %.6g %.6g %.6g %.6g\n", row, h->head, h->kv.mean_cos2, h->qk.mean_cos2,
                (r->weights_only ? h->wk.erank : h->k.erank) / r->cfg.head_dim, h->sym_w);
    }
}

static void heat_gp(FILE *f, const void *ctx)
{
    const probe_report_input *in = ctx;
    const probe_result *r = in->probe;
    int layers[RT_LAYERS_MAX];
    const int nl = layers_of(r, layers), nh = r->cfg.n_heads;
    header(f, "probe_heat", "layers x heads heatmaps");
    fputs("set ytics (", f);
    for (int i = 0; i < nl; i++)
        fprintf(f, "%s\"L%d\" %d", i ? ", " : "", layers[i], i);
    fprintf(f,
            ")\nset xtics 1\nset xlabel \"head\"\nset xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n"
            "set ylabel \"layer\"\n"
            "set palette defined (0 \"#fff5eb\", 0.5 \"#fd8d3c\", 1 \"#7f2704\")\n"
            "# every panel on the same fixed scale, each with its colour key: all four\n"
            "# quantities are shares or ratios in [0, 1]\n"
            "set cbrange [0:1]\n"
            "set cbtics 0.25\n"
            "unset key\n",
            nh - 1, nl - 1);
    char body[1400];
    snprintf(body, sizeof body,
             "set multiplot layout 2,2 title \"%s: per layer and head (chance level for K-V and "
             "Q-K: %.3f)\" noenhanced\n"
             "set cbrange [0:1]\n"
             "set title \"K-V overlap (mean cos^2 of principal angles)\"\n"
             "plot \"probe_heat.dat\" using 2:1:3 with image\n"
             "set title \"Q-K overlap (mean cos^2)\"\n"
             "plot \"probe_heat.dat\" using 2:1:4 with image\n"
             "set title \"effective rank of K%s / head width\"\n"
             "plot \"probe_heat.dat\" using 2:1:5 with image\n"
             "set title \"symmetric share of W_Q^T W_K\"\n"
             "plot \"probe_heat.dat\" using 2:1:6 with image\n"
             "unset multiplot",
             short_name(in->model_label), r->n_heads ? r->heads[0].kv.chance : 0.0,
             r->weights_only ? " weights (W_K)" : "");
    draw(f, body, 1100, 800);
}

/* The layers as a gnuplot word list, and one distinguishable colour each
 * (layers are discrete: a key entry per layer, not a continuous bar). */
static void layer_words(FILE *f, const probe_result *r)
{
    static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                          "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                          "#bcbd22", "#17becf", "#393b79", "#637939"};
    for (int k = 0; k < 12; k++)
        fprintf(f, "set linetype %d lc rgb \"%s\"\n", k + 1, colours[k]);
    int layers[RT_LAYERS_MAX];
    const int nl = layers_of(r, layers);
    fputs("layers = \"", f);
    for (int i = 0; i < nl; i++)
        fprintf(f, "%s%d", i ? " " : "", layers[i]);
    fputs("\"\n", f);
}

/* One block per (layer, KV head): index and value. */
static void curves_dat(FILE *f, const probe_result *r, bool spectra)
{
    const int hd = r->cfg.head_dim < r->cfg.d_model ? r->cfg.head_dim : r->cfg.d_model;
    fprintf(f, "# %s; one block per layer and KV head: \"layer\" then index value\n",
            spectra ? "singular values of W_K over the largest"
                    : "cosines of K-V principal angles");
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        if (h->head != h->kv_head * (r->cfg.n_heads / r->cfg.n_kv_heads))
            continue; /* first query head of each KV group */
        const double *v = spectra ? h->sv_wk : h->cos_kv;
        const int n = spectra ? hd : h->kv.k;
        fprintf(f, "# layer %d kv_head %d\n", h->layer, h->kv_head);
        for (int j = 0; j < n; j++)
            fprintf(f, "%d %.6g %d\n", j + 1, spectra ? (v[0] > 0 ? v[j] / v[0] : 0.0) : v[j],
                    h->layer);
        fputs("\n\n", f);
    }
}

static void angles_dat(FILE *f, const void *ctx)
{
    curves_dat(f, ((const probe_report_input *)ctx)->probe, false);
}

static void spectra_dat(FILE *f, const void *ctx)
{
    curves_dat(f, ((const probe_report_input *)ctx)->probe, true);
}

static void angles_gp(FILE *f, const void *ctx)
{
    const probe_report_input *in = ctx;
    const probe_result *r = in->probe;
    header(f, "probe_angles", "K-V principal angles");
    fprintf(f,
            "chance = %.6g  # sqrt(k/d): the rms cosine of independent random subspaces\n"
            "set title \"%s: cosines of the principal angles between W_K and W_V (per layer and KV "
            "head)\" noenhanced\n"
            "set xlabel \"principal angle (sorted)\"\n"
            "set ylabel \"cos(theta)\"\n"
            "set yrange [0:1.02]\n"
            "set grid\n"
            "set key outside right top\n",
            sqrt(r->n_heads ? r->heads[0].kv.chance : 0.0), short_name(in->model_label));
    layer_words(f, r);
    draw(f,
         "plot for [i=1:words(layers)] \"probe_angles.dat\" using 1:(int($3) == int(word(layers, "
         "i)) ? $2 : NaN) with linespoints lt i pt 7 ps 0.5 title \"layer \".word(layers, i), "
         "chance with lines dt 2 lw 2 lc rgb \"#555555\" title \"random subspaces (rms)\"",
         1000, 600);
}

static void spectra_marks(FILE *f, const probe_result *r)
{
    fputs("$marks << EOD\n", f);
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        if (h->head != h->kv_head * (r->cfg.n_heads / r->cfg.n_kv_heads) || h->sv_wk[0] <= 0)
            continue;
        fprintf(f, "%d %.6g %d %.6g\n", h->wk.k90, h->sv_wk[h->wk.k90 - 1] / h->sv_wk[0], h->wk.k99,
                h->sv_wk[h->wk.k99 - 1] / h->sv_wk[0]);
    }
    fputs("EOD\n", f);
}

static void spectra_gp(FILE *f, const void *ctx)
{
    const probe_report_input *in = ctx;
    const probe_result *r = in->probe;
    header(f, "probe_spectra", "singular-value spectra of W_K");
    spectra_marks(f, r);
    fprintf(
        f,
        "set title \"%s: singular values of each W_K slice over its largest (k90, k99 marked)\" "
        "noenhanced\n"
        "set xlabel \"index\"\n"
        "set ylabel \"sigma_i / sigma_1\"\n"
        "set yrange [0:1.05]\n"
        "set grid\n"
        "set key outside right top\n",
        short_name(in->model_label));
    layer_words(f, r);
    draw(f,
         "plot for [i=1:words(layers)] \"probe_spectra.dat\" using 1:(int($3) == int(word(layers, "
         "i)) ? $2 : NaN) with lines lt i lw 1.2 title \"layer \".word(layers, i), "
         "$marks using 1:2 with points pt 9 ps 1.3 lc rgb \"#2ca02c\" title \"k90\", "
         "$marks using 3:4 with points pt 5 ps 1.1 lc rgb \"#000000\" title \"k99\"",
         1000, 600);
}

qkv_status report_probe_plots_write(const char *dir, const probe_report_input *in, qkv_error *err)
{
    typedef void (*fn)(FILE *, const void *);
    static const fn dats[PROBE_PLOT_KINDS] = {maps_dat, heat_dat, angles_dat, spectra_dat};
    static const fn gps[PROBE_PLOT_KINDS] = {maps_gp, heat_gp, angles_gp, spectra_gp};
    qkv_status tool = QKV_OK;
    qkv_error tool_err;
    for (int k = 0; k < PROBE_PLOT_KINDS; k++) {
        if (k == 0 && in->probe->map_n == 0)
            continue;
        qkv_status s = report_figure(dir, report_probe_plot_kinds[k], dats[k], gps[k], in, &tool,
                                     &tool_err, err);
        if (s != QKV_OK)
            return s;
    }
    if (tool != QKV_OK && err)
        *err = tool_err;
    return tool;
}
