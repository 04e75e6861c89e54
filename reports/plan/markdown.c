/* Markdown writer: inputs, verdict, one table per model with exact byte
 * counts beside human sizes, notes and the conventions used. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "analyzer/paper.h"
#include "analyzer/dtype.h"
#include "reports/fmt.h"
#include "reports/plan/plan_plots.h"
#include "reports/plan/offload_report.h"
#include "reports/plan/report.h"

/* The plan's sizes in exact bytes, with thousands separators. */
static void write_exact(FILE *f, const kvplan_result *r)
{
    fprintf(f,
            "| variant | as built | KV bytes/token | K bytes | V bytes | KV bytes | parameters | "
            "weight bytes | scratch bytes | total bytes | headroom bytes |\n");
    fprintf(f, "|---|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        const kvplan_row *w = &r->rows[i];
        const uint64_t v[] = {w->kv_bytes_per_token, w->k_bytes,    w->v_bytes,
                              w->kv_bytes,           w->params,     w->weight_bytes,
                              w->scratch_bytes,      w->total_bytes};
        fprintf(f, "| %s | %s |", w->label, w->v.as_built ? "yes" : "");
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            char g[FMT_BYTES];
            fmt_grouped(v[k], g, sizeof g);
            fprintf(f, " %s |", g);
        }
        char g[FMT_BYTES];
        const uint64_t mag = w->headroom_bytes < 0 ? (uint64_t)0 - (uint64_t)w->headroom_bytes
                                                   : (uint64_t)w->headroom_bytes;
        fmt_grouped(mag, g, sizeof g);
        fprintf(f, " %s%s |\n", w->headroom_bytes < 0 ? "-" : "", g);
    }
    fputc('\n', f);
}

static void write_plan(FILE *f, const report_input *in, size_t idx, const char *plots_rel,
                       const char *plots_note)
{
    const char *device_label = in->device_label;
    const kvplan_result *r = &in->plans[idx];
    const kvplan_params *p = &r->params;
    char a[FMT_BYTES], desc[320], verdict[1024];
    model_describe(&r->model, desc, sizeof desc);
    fprintf(f, "## %s\n\n", r->model.name);
    fprintf(f, "%s. Source: %s.\n\n", desc, r->model.source);
    char g[FMT_BYTES];
    fmt_size(p->device_bytes, a, sizeof a);
    fmt_grouped(p->device_bytes, g, sizeof g);
    fprintf(f, "| input | value |\n|---|---|\n");
    fprintf(f, "| device | %s = %s (%s bytes) |\n", device_label, a, g);
    fmt_size(p->reserve_bytes, a, sizeof a);
    fmt_grouped(p->reserve_bytes, g, sizeof g);
    fprintf(f, "| reserve | %s (%s bytes) |\n", a, g);
    fmt_size(p->device_bytes - p->reserve_bytes, a, sizeof a);
    fmt_grouped(p->device_bytes - p->reserve_bytes, g, sizeof g);
    fprintf(f, "| usable | %s (%s bytes) |\n", a, g);
    fmt_grouped(p->ctx, g, sizeof g);
    fprintf(f, "| context | %s tokens x %" PRIu64 " sequence%s |\n", g, p->seqs,
            p->seqs == 1 ? "" : "s");
    char engine[96];
    kvplan_engine_describe(p, engine, sizeof engine);
    fprintf(f, "| engine | %s, ubatch %" PRIu64 ", flash attention %s |\n", engine, p->ubatch,
            kvplan_fa_name(p->flash_attn));
    fprintf(f, "| types | K %s, V %s, weights %s |\n\n", dtype_cache_get(p->type_k)->name,
            dtype_cache_get(p->type_v)->name, kvplan_weight_type_name(r));
    report_verdict(r, verdict, sizeof verdict);
    fprintf(f, "**Verdict.** %s\n\n", verdict);
    /* Readable units here (KiB/MiB/GiB = 2^10/2^20/2^30 bytes); the exact
     * bytes are in the appendix and the JSON. */
    fprintf(f,
            "| variant | KV / token | KV cache | vs QKV+MHA | weights | scratch | total | fits | "
            "headroom | max context (tokens) | max seqs | paper Δppl |\n");
    fprintf(f, "|---|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|--:|\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        const kvplan_row *w = &r->rows[i];
        char red[24] = "n/a", ppl[24] = "", tok[FMT_BYTES], kv[FMT_BYTES], wt[FMT_BYTES],
             sc[FMT_BYTES], tot[FMT_BYTES], head[FMT_BYTES], ctx[FMT_BYTES], seqs[FMT_BYTES];
        if (isfinite(w->kv_reduction))
            snprintf(red, sizeof red, "%.1f%%", -100.0 * w->kv_reduction + 0.0);
        if (w->has_paper && isfinite(w->paper_ppl_delta_pct))
            snprintf(ppl, sizeof ppl, "%+.1f%%", w->paper_ppl_delta_pct);
        fmt_size(w->kv_bytes_per_token, tok, sizeof tok);
        fmt_size(w->kv_bytes, kv, sizeof kv);
        fmt_size(w->weight_bytes, wt, sizeof wt);
        fmt_size(w->scratch_bytes, sc, sizeof sc);
        fmt_size(w->total_bytes, tot, sizeof tot);
        fmt_size_signed(w->headroom_bytes, head, sizeof head);
        fmt_grouped(w->max_ctx, ctx, sizeof ctx);
        fmt_grouped(w->max_seqs, seqs, sizeof seqs);
        fprintf(f, "| %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s | %s%s | %s |\n",
                w->label, w->v.as_built ? " \\*" : "", tok, kv, red, wt, sc, tot,
                w->engine_refusal[0] ? "refused"
                : w->fits            ? "yes"
                                     : "no",
                head, w->max_ctx_capped ? ">= " : "", ctx, w->max_seqs_capped ? ">= " : "", seqs,
                ppl);
    }
    fprintf(f, "\n\\* the model as built; every other row is a what-if: the same shape retrained "
               "with that attention. Exact bytes: [appendix](#appendix-exact-bytes).\n");
    fputc('\n', f);
    for (size_t i = 0; i < r->n_notes; i++)
        fprintf(f, "- Note: %s\n", r->notes[i]);
    if (r->n_notes > 0)
        fputc('\n', f);
    if (plots_note) {
        fprintf(f, "Plots not drawn: %s\n\n", plots_note);
    } else if (plots_rel) {
        static const char *const captions[PLOT_KINDS] = {
            "KV cache alone vs context", "Memory per variant",
            "Longest context that fits", "Total memory vs context against the usable budget",
            "Memory per device",         "Layers on the GPUs vs context"};
        static const int order[PLOT_KINDS] = {3, 1, 2, 0, 4, 5}; /* the budget figure first */
        for (int o = 0; o < PLOT_KINDS; o++) {
            const int k = order[o];
            if (!report_plot_applies(r, k))
                continue;
            char base[160];
            report_plot_name(in, idx, k, base, sizeof base);
            fprintf(f, "![%s](%s/%s.png)\n\n", captions[k], plots_rel, base);
        }
    }
}

qkv_status report_md_write(FILE *f, const report_input *in, qkv_error *err)
{
    return report_md_write_plots(f, in, NULL, NULL, err);
}

qkv_status report_md_write_plots(FILE *f, const report_input *in, const char *plots_rel,
                                 const char *plots_note, qkv_error *err)
{
    (void)err;
    fprintf(f, "# qkvplan memory plan\n\n");
    for (size_t i = 0; i < in->n_plans; i++) {
        write_plan(f, in, i, plots_rel, plots_note);
        report_offload_md(f, &in->plans[i]);
    }
    fprintf(f, "## Appendix: exact bytes\n\n");
    for (size_t i = 0; i < in->n_plans; i++) {
        if (in->n_plans > 1)
            fprintf(f, "### %s\n\n", in->plans[i].model.name);
        write_exact(f, &in->plans[i]);
    }
    fprintf(f,
            "## Assumptions and conventions\n\n"
            "- Sizes follow the memory convention: 1 GB = 1 GiB = 2^30 bytes (KiB, MiB: 2^10, "
            "2^20); the tables show three significant digits, the appendix and plan.json the "
            "exact bytes.\n"
            "- vs QKV+MHA: change of the KV cache against standard attention with one KV head "
            "per query head, same shape and cache types.\n"
            "- paper Δppl: validation perplexity change against QKV measured in " PAPER_AUTHORS
            " (" PAPER_YEAR "), *" PAPER_TITLE "*, " PAPER_ARXIV " "
            "(300M model; GQA-4 = 4 KV heads). Measurements, not predictions.\n"
            "- Scratch is an estimate of compute buffers (logits, FFN and Q/K/V activations, "
            "attention scores without flash attention).\n"
            "- Reserve: memory kept free for the OS and runtime; a setup fits when weights + "
            "KV cache + scratch <= device - reserve.\n"
            "- Engines: exact = ctx cells per sequence (sliding-window layers min(ctx, window)); "
            "llama.cpp = n_ctx padded to 256, per-sequence streams of pad256(n_ctx / seqs) cells "
            "unless unified, sliding-window caches of pad256(min(stream, window x (unified ? "
            "seqs : 1) + n_ubatch)), MLA caching one K latent; vllm = 16-token blocks per "
            "sequence.\n"
            "- Weights: parameter count x bits per weight of the weight type (K-quant mixes use "
            "llama.cpp's Llama 2 7B averages and are approximate). Sharing removes parameters: "
            "Q-K=V drops W_V, Q=K-V drops W_Q, Q=K=V both; GQA shrinks W_K and W_V.\n"
            "- With RoPE, a shared K=V tensor must be cached before rotation (values are not "
            "rotated), so keys are rotated again at every decode step.\n"
            "- Q=K variants need one key head per query head; the paper combines sharing with "
            "GQA/MQA only for Q-K=V.\n");
    return QKV_OK;
}
