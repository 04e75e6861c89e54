/* Terminal table: one block per model, human units, exact bytes where the
 * budget is stated. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/paper.h"
#include "analyzer/dtype.h"
#include "reports/fmt.h"
#include "reports/plan/offload_report.h"
#include "reports/plan/report.h"
#include "reports/textwrap.h"

#define NCOL 13

static const char *const heads[NCOL] = {"variant",  "KV/token", "K cache", "V cache", "KV total",
                                        "vs MHA",   "weights",  "scratch", "total",   "fits",
                                        "headroom", "max ctx",  "max seqs"};

/* A size as the table shows it: human units, or llama.cpp's MiB with two
 * decimals (--in-mib). */
static void size_cell(uint64_t bytes, bool in_mib, char *buf, size_t n)
{
    if (in_mib)
        snprintf(buf, n, "%.2f MiB", (double)bytes / 1048576.0);
    else
        fmt_size(bytes, buf, n);
}

static void row_cells(const kvplan_row *w, bool in_mib, char cell[NCOL + 1][FMT_BYTES])
{
    snprintf(cell[0], FMT_BYTES, "%.40s%s", w->label, w->v.as_built ? " *" : "");
    fmt_size(w->kv_bytes_per_token, cell[1], FMT_BYTES);
    size_cell(w->k_bytes, in_mib, cell[2], FMT_BYTES);
    if (w->cached_tensors == 2)
        size_cell(w->v_bytes, in_mib, cell[3], FMT_BYTES);
    else
        snprintf(cell[3], FMT_BYTES, "-");
    size_cell(w->kv_bytes, in_mib, cell[4], FMT_BYTES);
    if (isfinite(w->kv_reduction))
        snprintf(cell[5], FMT_BYTES, "%.1f%%", -100.0 * w->kv_reduction + 0.0);
    else
        snprintf(cell[5], FMT_BYTES, "n/a");
    size_cell(w->weight_bytes, in_mib, cell[6], FMT_BYTES);
    size_cell(w->scratch_bytes, in_mib, cell[7], FMT_BYTES);
    size_cell(w->total_bytes, in_mib, cell[8], FMT_BYTES);
    snprintf(cell[9], FMT_BYTES, "%s", w->engine_refusal[0] ? "refused" : w->fits ? "yes" : "no");
    fmt_size_signed(w->headroom_bytes, cell[10], FMT_BYTES);
    if (w->max_ctx_capped) {
        char t[24];
        fmt_tokens(w->max_ctx, t, sizeof t);
        snprintf(cell[11], FMT_BYTES, ">=%s", t);
    } else {
        snprintf(cell[11], FMT_BYTES, "%" PRIu64, w->max_ctx);
    }
    if (w->max_seqs_capped)
        snprintf(cell[12], FMT_BYTES, ">=%" PRIu64, w->max_seqs);
    else
        snprintf(cell[12], FMT_BYTES, "%" PRIu64, w->max_seqs);
    if (w->engine_refusal[0]) {
        snprintf(cell[11], FMT_BYTES, "-");
        snprintf(cell[12], FMT_BYTES, "-");
    }
    if (w->has_paper && isfinite(w->paper_ppl_delta_pct))
        snprintf(cell[NCOL], FMT_BYTES, "%+.1f%%", w->paper_ppl_delta_pct);
    else
        cell[NCOL][0] = '\0';
}

/* Order in which columns join the compact table: the variant and whether it
 * fits, then what a deployer reads next (total, KV cache, headroom, longest
 * context, the saving, the paper's measured cost), then the parts. */
static const int priority[NCOL + 1] = {0, 10, 12, 13, 3, 6, 8, 11, 2, 1, 4, 5, 9, 7};

/* Prose, wrapped to the width; continuation lines indented by indent. */
static void prose(FILE *f, size_t width, size_t indent, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void prose(FILE *f, size_t width, size_t indent, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    report_wrap(f, text, width, indent);
}

static void write_plan(FILE *f, const report_input *in, const kvplan_result *r)
{
    const kvplan_params *p = &r->params;
    const bool in_mib = in->in_mib;
    /* --wide: every column, and prose on one line each as well */
    const size_t W = in->wide                       ? SIZE_MAX / 2
                     : in->width == 0               ? REPORT_WIDTH_DEFAULT
                     : in->width < REPORT_WIDTH_MIN ? REPORT_WIDTH_MIN
                                                    : in->width;
    char a[FMT_BYTES], b[FMT_BYTES], c[FMT_BYTES], d[FMT_BYTES], desc[320], verdict[1024];
    model_describe(&r->model, desc, sizeof desc);
    prose(f, W, 2, "%s: %s", r->model.name, desc);
    fmt_size(p->device_bytes, a, sizeof a);
    fmt_grouped(p->device_bytes, b, sizeof b);
    fmt_size(p->reserve_bytes, c, sizeof c);
    fmt_grouped(p->device_bytes - p->reserve_bytes, d, sizeof d);
    prose(f, W, 2, "device %s = %s (%s bytes), reserve %s, usable %s bytes", in->device_label, a, b,
          c, d);
    fmt_tokens(p->ctx, a, sizeof a);
    char engine[96];
    kvplan_engine_describe(p, engine, sizeof engine);
    prose(f, W, 2,
          "context %s (%" PRIu64 " tokens) x %" PRIu64 " seq%s, engine %s, ubatch %" PRIu64
          ", flash attention %s",
          a, p->ctx, p->seqs, p->seqs == 1 ? "" : "s", engine, p->ubatch,
          kvplan_fa_name(p->flash_attn));
    prose(f, W, 2, "cache K %s, V %s; weights %s", dtype_cache_get(p->type_k)->name,
          dtype_cache_get(p->type_v)->name, kvplan_weight_type_name(r));
    fputc('\n', f);
    report_verdict(r, verdict, sizeof verdict);
    report_wrap(f, verdict, W, 0);
    fputc('\n', f);

    /* Column widths from the content. */
    size_t width[NCOL + 1];
    char cell[NCOL + 1][FMT_BYTES];
    for (int j = 0; j < NCOL; j++)
        width[j] = strlen(heads[j]);
    width[NCOL] = strlen("paper");
    bool any_paper = false;
    for (size_t i = 0; i < r->n_rows; i++) {
        row_cells(&r->rows[i], in_mib, cell);
        for (int j = 0; j <= NCOL; j++)
            if (report_text_cols(cell[j]) > width[j])
                width[j] = report_text_cols(cell[j]);
        any_paper |= cell[NCOL][0] != '\0';
    }
    /* Which columns: all with --wide, else those that fit, by priority. */
    bool show[NCOL + 1];
    size_t used = 0;
    for (int j = 0; j <= NCOL; j++)
        show[j] = in->wide;
    show[NCOL] = show[NCOL] && any_paper;
    for (int k = 0; k <= NCOL && !in->wide; k++) {
        int j = 0;
        while (priority[j] != k)
            j++;
        if (j == NCOL && !any_paper)
            continue;
        size_t need = width[j] + (used ? 2 : 0);
        if (k < 2 || used + need <= W) { /* the variant and fits always */
            show[j] = true;
            used += need;
        }
    }
    bool first = true;
    for (int j = 0; j <= NCOL; j++) {
        if (!show[j])
            continue;
        fprintf(f, first ? "%-*s" : "  %*s", (int)width[j], j < NCOL ? heads[j] : "paper");
        first = false;
    }
    fputc('\n', f);
    for (size_t i = 0; i < r->n_rows; i++) {
        row_cells(&r->rows[i], in_mib, cell);
        /* the last shown cell: no trailing blanks when it is empty */
        int last = NCOL;
        while (last > 0 && (!show[last] || (last == NCOL && !cell[NCOL][0])))
            last--;
        first = true;
        for (int j = 0; j <= last; j++) {
            if (!show[j])
                continue;
            /* pad by characters, not bytes */
            size_t pad = width[j] - report_text_cols(cell[j]);
            if (first)
                fprintf(f, "%s%*s", cell[j], (int)pad, "");
            else
                fprintf(f, "  %*s%s", (int)pad, "", cell[j]);
            first = false;
        }
        /* a padded first cell alone would end in blanks */
        fputc('\n', f);
    }
    fputc('\n', f);
    fmt_size(r->baseline.kv_bytes, a, sizeof a);
    fmt_grouped(r->baseline.kv_bytes, b, sizeof b);
    prose(f, W, 2,
          "* the model as built; every other row is a what-if: the same shape retrained "
          "with that attention.");
    if (show[5])
        prose(f, W, 2, "vs MHA: KV cache change against QKV+MHA (%s = %s bytes).", a, b);
    if (show[NCOL])
        prose(f, W, 2,
              "paper (what-if rows only): validation perplexity change vs QKV measured "
              "in " PAPER_ARXIV " (300M model; GQA-4 = 4 KV heads).");
    if (show[11])
        prose(f, W, 2, "max ctx: longest context that fits at %" PRIu64 " seq%s, %s.", p->seqs,
              p->seqs == 1 ? "" : "s",
              r->rows[0].max_ctx_cap == KVPLAN_CAP_TRAINED ? "at most the trained context "
                                                             "(--beyond-trained looks further)"
                                                           : "at most 4G tokens");
    if (show[12])
        prose(f, W, 2, "max seqs: most sequences of %" PRIu64 " tokens that fit.",
              r->rows[0].ctx_per_seq);
    char hidden[256] = "";
    size_t h = 0;
    for (int j = 1; j <= NCOL; j++) {
        if (show[j] || (j == NCOL && !any_paper))
            continue;
        int k = snprintf(hidden + h, sizeof hidden - h, "%s%s", h ? ", " : "",
                         j < NCOL ? heads[j] : "paper");
        if (k > 0 && (size_t)k < sizeof hidden - h)
            h += (size_t)k;
    }
    if (h)
        prose(f, W, 2, "not shown at %zu columns: %s (--wide shows every column).", W, hidden);
    if (p->engine == ENGINE_VLLM && r->built_row >= 0)
        prose(f, W, 2,
              "vllm: maximum concurrency for %" PRIu64 " tokens per request: %.2fx (as built)",
              p->ctx, r->rows[r->built_row].max_concurrency);
    char cmd[KVPLAN_COMMAND_BYTES];
    kvplan_engine_command(r, cmd, sizeof cmd);
    if (cmd[0] && strlen("command: ") + report_text_cols(cmd) <= W) {
        fprintf(f, "command: %s\n", cmd);
    } else if (cmd[0]) { /* on lines of its own, continued with backslashes */
        fputs("command:\n", f);
        report_wrap_shell(f, cmd, W, 2);
    }
    for (size_t i = 0; i < r->n_notes; i++)
        prose(f, W, 2, "note: %s", r->notes[i]);
}

qkv_status report_table_write(FILE *f, const report_input *in, qkv_error *err)
{
    (void)err;
    for (size_t i = 0; i < in->n_plans; i++) {
        if (i > 0)
            fputc('\n', f);
        write_plan(f, in, &in->plans[i]);
        report_offload_table(f, &in->plans[i], in->in_mib,
                             in->wide    ? 0
                             : in->width ? in->width
                                         : REPORT_WIDTH_DEFAULT);
    }
    return QKV_OK;
}
