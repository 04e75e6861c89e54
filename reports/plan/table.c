/* Terminal table: one block per model, human units, exact bytes where the
 * budget is stated. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/paper.h"
#include "analyzer/dtype.h"
#include "reports/fmt.h"
#include "reports/plan/offload_report.h"
#include "reports/plan/report.h"

#define NCOL 13

static const char *const heads[NCOL] = {"variant", "KV/token", "K cache", "V cache", "KV total",
                                        "vs MHA", "weights", "scratch", "total", "fits",
                                        "headroom", "max ctx", "max seqs"};

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

static void write_plan(FILE *f, const char *device_label, bool in_mib, const kvplan_result *r)
{
    const kvplan_params *p = &r->params;
    char a[FMT_BYTES], b[FMT_BYTES], c[FMT_BYTES], d[FMT_BYTES], desc[320], verdict[1024];
    model_describe(&r->model, desc, sizeof desc);
    fprintf(f, "%s: %s\n", r->model.name, desc);
    fmt_size(p->device_bytes, a, sizeof a);
    fmt_grouped(p->device_bytes, b, sizeof b);
    fmt_size(p->reserve_bytes, c, sizeof c);
    fmt_grouped(p->device_bytes - p->reserve_bytes, d, sizeof d);
    fprintf(f, "device %s = %s (%s bytes), reserve %s, usable %s bytes\n", device_label, a, b, c, d);
    fmt_tokens(p->ctx, a, sizeof a);
    char engine[96];
    kvplan_engine_describe(p, engine, sizeof engine);
    fprintf(f, "context %s (%" PRIu64 " tokens) x %" PRIu64 " seq%s, engine %s, ubatch %" PRIu64
               ", flash attention %s\n",
            a, p->ctx, p->seqs, p->seqs == 1 ? "" : "s", engine, p->ubatch, kvplan_fa_name(p->flash_attn));
    fprintf(f, "cache K %s, V %s; weights %s\n\n", dtype_cache_get(p->type_k)->name,
            dtype_cache_get(p->type_v)->name, kvplan_weight_type_name(r));
    report_verdict(r, verdict, sizeof verdict);
    fprintf(f, "%s\n\n", verdict);

    /* Column widths from the content. */
    size_t width[NCOL + 1];
    char cell[NCOL + 1][FMT_BYTES];
    for (int j = 0; j < NCOL; j++)
        width[j] = strlen(heads[j]);
    width[NCOL] = strlen("paper");
    for (size_t i = 0; i < r->n_rows; i++) {
        row_cells(&r->rows[i], in_mib, cell);
        for (int j = 0; j <= NCOL; j++)
            if (strlen(cell[j]) > width[j])
                width[j] = strlen(cell[j]);
    }
    for (int j = 0; j <= NCOL; j++)
        fprintf(f, j == 0 ? "%-*s" : "  %*s", (int)width[j], j < NCOL ? heads[j] : "paper");
    fputc('\n', f);
    for (size_t i = 0; i < r->n_rows; i++) {
        row_cells(&r->rows[i], in_mib, cell);
        for (int j = 0; j <= NCOL; j++)
            if (j < NCOL || cell[j][0]) /* no trailing blanks for an empty last cell */
                fprintf(f, j == 0 ? "%-*s" : "  %*s", (int)width[j], cell[j]);
        fputc('\n', f);
    }
    fputc('\n', f);
    fmt_size(r->baseline.kv_bytes, a, sizeof a);
    fmt_grouped(r->baseline.kv_bytes, b, sizeof b);
    fprintf(f, "* the model as built; every other row is a what-if: the same shape retrained with "
               "that attention.\n");
    fprintf(f, "vs MHA: KV cache change against QKV+MHA (%s = %s bytes).\n", a, b);
    fprintf(f, "paper (what-if rows only): validation perplexity change vs QKV measured in "
            PAPER_ARXIV " (300M model; GQA-4 = 4 KV heads).\n");
    fprintf(f, "max ctx: longest context that fits at %" PRIu64 " seq%s, %s; max seqs: most "
               "sequences of %" PRIu64 " tokens that fit.\n",
            p->seqs, p->seqs == 1 ? "" : "s",
            r->rows[0].max_ctx_cap == KVPLAN_CAP_TRAINED ? "at most the trained context "
                                                           "(--beyond-trained looks further)"
                                                         : "at most 4G tokens",
            r->rows[0].ctx_per_seq);
    if (p->engine == ENGINE_VLLM && r->built_row >= 0)
        fprintf(f, "vllm: maximum concurrency for %" PRIu64 " tokens per request: %.2fx (as built)\n",
                p->ctx, r->rows[r->built_row].max_concurrency);
    char cmd[KVPLAN_COMMAND_BYTES];
    kvplan_engine_command(r, cmd, sizeof cmd);
    if (cmd[0])
        fprintf(f, "command: %s\n", cmd);
    for (size_t i = 0; i < r->n_notes; i++)
        fprintf(f, "note: %s\n", r->notes[i]);
}

qkv_status report_table_write(FILE *f, const report_input *in, qkv_error *err)
{
    (void)err;
    for (size_t i = 0; i < in->n_plans; i++) {
        if (i > 0)
            fputc('\n', f);
        write_plan(f, in->device_label, in->in_mib, &in->plans[i]);
        report_offload_table(f, &in->plans[i], in->in_mib);
    }
    return QKV_OK;
}
