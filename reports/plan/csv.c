/* CSV writer (RFC 4180): one row per model x variant, exact integers, a header
 * row first. Non-finite doubles are written as empty fields. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reports/fmt.h"
#include "reports/plan/offload_report.h"
#include "reports/plan/report.h"

static void csv_string(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

qkv_status report_csv_write(FILE *f, const report_input *in, qkv_error *err)
{
    (void)err;
    fputs("model,label,share,kv_heads,as_built,cached_tensors,kv_bytes_per_token,ctx,seqs,"
          "ctx_per_seq,k_bytes,v_bytes,kv_bytes,kv_reduction,params,weight_bytes,scratch_bytes,"
          "total_bytes,device_bytes,reserve_bytes,fits,headroom_bytes,max_ctx,max_ctx_capped,"
          "max_seqs,max_seqs_capped,paper_ppl_delta_pct,engine_refusal",
          f);
    bool offload = false;
    for (size_t i = 0; i < in->n_plans; i++)
        offload = offload || in->plans[i].offload;
    if (offload)
        report_offload_csv_header(f);
    fputc('\n', f);
    for (size_t i = 0; i < in->n_plans; i++) {
        const kvplan_result *r = &in->plans[i];
        for (size_t j = 0; j < r->n_rows; j++) {
            const kvplan_row *w = &r->rows[j];
            char red[40], ppl[40] = "";
            fmt_double(w->kv_reduction, red, sizeof red);
            if (w->has_paper)
                fmt_double(w->paper_ppl_delta_pct, ppl, sizeof ppl);
            csv_string(f, r->model.name);
            fputc(',', f);
            csv_string(f, w->label);
            fprintf(f,
                    ",%s,%" PRIu64 ",%d,%d,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                    ",%" PRIu64 ",%" PRIu64 ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                    ",%" PRIu64 ",%" PRIu64 ",%d,%" PRId64 ",%" PRIu64 ",%d,%" PRIu64 ",%d,%s,",
                    w->v.mla ? "MLA" : variant_share_name(w->v.share), w->v.kv_heads,
                    w->v.as_built ? 1 : 0, w->cached_tensors, w->kv_bytes_per_token, r->params.ctx,
                    r->params.seqs, w->ctx_per_seq, w->k_bytes, w->v_bytes, w->kv_bytes, red,
                    w->params, w->weight_bytes, w->scratch_bytes, w->total_bytes,
                    r->params.device_bytes, r->params.reserve_bytes, w->fits ? 1 : 0,
                    w->headroom_bytes, w->max_ctx, w->max_ctx_capped ? 1 : 0, w->max_seqs,
                    w->max_seqs_capped ? 1 : 0, ppl);
            csv_string(f, w->engine_refusal); /* "" when accepted */
            if (r->offload)
                report_offload_csv_row(f, r->offload, j);
            else if (offload)
                fputs(",,,,,,", f); /* a model the GPUs could not split */
            fputc('\n', f);
        }
    }
    return QKV_OK;
}
