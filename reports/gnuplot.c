#define _DEFAULT_SOURCE /* mkdtemp */
#include "reports/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/dtype.h"
#include "reports/outfile.h"
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

qkv_status report_write_text(const char *dir, const char *name, void (*fn)(FILE *f, const void *ctx),
                             const void *ctx, qkv_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    outfile of;
    qkv_status s = outfile_open(&of, path, err);
    if (s != QKV_OK)
        return s;
    fn(of.f, ctx);
    return outfile_commit(&of, err);
}

typedef void (*writer_fn)(FILE *f, const report_input *in, size_t i, const char *base);

qkv_status report_figure(const char *dir, const char *base, void (*dat)(FILE *f, const void *ctx),
                         void (*gp)(FILE *f, const void *ctx), const void *ctx, qkv_status *tool,
                         qkv_error *tool_err, qkv_error *err)
{
    char name[256];
    qkv_status s;
    snprintf(name, sizeof name, "%s.dat", base);
    if ((s = report_write_text(dir, name, dat, ctx, err)) != QKV_OK)
        return s;
    snprintf(name, sizeof name, "%s.gp", base);
    if ((s = report_write_text(dir, name, gp, ctx, err)) != QKV_OK)
        return s;
    if (*tool != QKV_OK)
        return QKV_OK;
    s = report_gnuplot_run(dir, base, tool_err);
    if (s == QKV_ERR_IO) {
        if (err)
            *err = *tool_err;
        return s;
    }
    *tool = s;
    return QKV_OK;
}

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
            "# Data: %s.dat, exact bytes; plotted in GiB (2^30 bytes).\n"
            "if (!exists(\"outpng\")) outpng = \"%s.png\"\n"
            "if (!exists(\"outsvg\")) outsvg = \"%s.svg\"\n"
            "set encoding utf8\n"
            "set grid lc rgb \"#dddddd\"\n",
            what, base, base, base, base);
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
    fprintf(f,
            "set terminal pngcairo size 1100,650 font \"DejaVu Sans,11\"\n"
            "set output outpng\n%s\n"
            "set terminal svg size 1100,650 font \"DejaVu Sans,11\"\n"
            "set output outsvg\n%s\n"
            "set output\n",
            plot, plot);
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
static qkv_status run_and_rename(const char *dir, const char *base, const char *set,
                                 const char *script, const char *png_tmp, const char *svg_tmp,
                                 qkv_error *err);

qkv_status report_gnuplot_run(const char *dir, const char *base, qkv_error *err)
{
    /* gnuplot draws into a private directory (mkdtemp: an unpredictable
     * name, created exclusively, mode 0700) beside the targets, so no link
     * planted in dir can redirect its writes and concurrent runs into one
     * folder do not meet; the images are renamed out of it when complete. */
    char tmp_dir[4096], tmp_name[64], png_tmp[512], svg_tmp[512], set[1400], script[512];
    int k = snprintf(tmp_dir, sizeof tmp_dir, "%s/.qkvplan-XXXXXX", dir);
    if (k < 0 || (size_t)k >= sizeof tmp_dir)
        return qkv_error_set(err, QKV_ERR_IO, "cannot draw into '%s': path too long", dir);
    if (!mkdtemp(tmp_dir))
        return qkv_error_set(err, QKV_ERR_IO, "cannot draw into '%s': %s", dir, strerror(errno));
    outfile_track_dir(tmp_dir);
    snprintf(tmp_name, sizeof tmp_name, "%s", strrchr(tmp_dir, '/') + 1);
    snprintf(png_tmp, sizeof png_tmp, "%s/%s.png", tmp_name, base);
    snprintf(svg_tmp, sizeof svg_tmp, "%s/%s.svg", tmp_name, base);
    snprintf(set, sizeof set, "outpng=\"%s\"; outsvg=\"%s\"", png_tmp, svg_tmp);
    snprintf(script, sizeof script, "%s.gp", base);
    char track_png[4200], track_svg[4200];
    snprintf(track_png, sizeof track_png, "%s/%s", dir, png_tmp);
    snprintf(track_svg, sizeof track_svg, "%s/%s", dir, svg_tmp);
    outfile_track(track_png);
    outfile_track(track_svg);
    qkv_status st = run_and_rename(dir, base, set, script, png_tmp, svg_tmp, err);
    unlink(track_png); /* gone after a rename; left over after a failure */
    unlink(track_svg);
    outfile_untrack(track_png);
    outfile_untrack(track_svg);
    rmdir(tmp_dir);
    outfile_untrack_dir(tmp_dir);
    return st;
}

/* fork and exec gnuplot in dir with its stderr into *err_fd; signals that
 * clean up are held until the child is recorded, so an interrupt cannot
 * leave it running unrecorded. Returns the pid, or -1 with errno set. */
static pid_t spawn_gnuplot(const char *dir, const char *set, const char *script, int *err_fd)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    sigset_t hold, old;
    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGHUP);
    sigprocmask(SIG_BLOCK, &hold, &old);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(pipefd[0]);
        dup2(pipefd[1], STDERR_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        if (chdir(dir) != 0)
            _exit(126);
        execlp("gnuplot", "gnuplot", "-e", set, script, (char *)NULL);
        _exit(127);
    }
    int e = errno;
    if (pid > 0)
        outfile_track_child(pid);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        errno = e;
        return -1;
    }
    *err_fd = pipefd[0];
    return pid;
}

static qkv_status run_and_rename(const char *dir, const char *base, const char *set,
                                 const char *script, const char *png_tmp, const char *svg_tmp,
                                 qkv_error *err)
{
    int err_fd;
    pid_t pid = spawn_gnuplot(dir, set, script, &err_fd);
    if (pid < 0)
        return qkv_error_set(err, QKV_ERR_TOOL, "cannot run gnuplot: %s", strerror(errno));
    char msg[2048];
    size_t used = 0;
    ssize_t n;
    char chunk[512];
    while ((n = read(err_fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
        if (n <= 0)
            continue;
        size_t take = (size_t)n < sizeof msg - 1 - used ? (size_t)n : sizeof msg - 1 - used;
        memcpy(msg + used, chunk, take);
        used += take;
    }
    msg[used] = '\0';
    close(err_fd);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            outfile_track_child(0);
            return qkv_error_set(err, QKV_ERR_TOOL, "gnuplot: %s", strerror(errno));
        }
    }
    outfile_track_child(0);
    char png_tmp_path[4200], svg_tmp_path[4200], png[4096], svg[4096];
    snprintf(png_tmp_path, sizeof png_tmp_path, "%s/%s", dir, png_tmp);
    snprintf(svg_tmp_path, sizeof svg_tmp_path, "%s/%s", dir, svg_tmp);
    snprintf(png, sizeof png, "%s/%s.png", dir, base);
    snprintf(svg, sizeof svg, "%s/%s.svg", dir, base);
    struct stat st;
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat(png_tmp_path, &st) == 0 &&
              st.st_size > 0 && stat(svg_tmp_path, &st) == 0 && st.st_size > 0;
    if (!ok) {
        /* first line of gnuplot's message, without the blank lines it starts with */
        char *m = msg;
        while (*m == '\n' || *m == ' ')
            m++;
        m[strcspn(m, "\n")] = '\0';
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            return qkv_error_set(err, QKV_ERR_TOOL,
                                 "gnuplot is not installed (install gnuplot-nox); data and scripts "
                                 "are in '%s'",
                                 dir);
        return qkv_error_set(err, QKV_ERR_TOOL, "gnuplot failed on '%s/%s': %.300s", dir, script,
                             *m ? m : "no output");
    }
    if (rename(png_tmp_path, png) != 0 || rename(svg_tmp_path, svg) != 0) {
        int e = errno;
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", png, strerror(e));
    }
    return QKV_OK;
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
