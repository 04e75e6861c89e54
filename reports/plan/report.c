#include "reports/plan/report.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reports/fmt.h"

qkv_status report_write(FILE *f, report_format fmt, const report_input *in, qkv_error *err)
{
    qkv_status s;
    switch (fmt) {
    case REPORT_TABLE:
        s = report_table_write(f, in, err);
        break;
    case REPORT_JSON:
        s = report_json_write(f, in, err);
        break;
    case REPORT_CSV:
        s = report_csv_write(f, in, err);
        break;
    case REPORT_MD:
        s = report_md_write(f, in, err);
        break;
    default:
        return qkv_error_set(err, QKV_ERR_INVALID, "unknown report format");
    }
    return report_flushed(f, s, err);
}

void report_verdict(const kvplan_result *r, char *buf, size_t buf_bytes)
{
    const uint64_t usable = r->params.device_bytes - r->params.reserve_bytes;
    char a[FMT_BYTES], b[FMT_BYTES], c[FMT_BYTES];
    size_t used = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (used < buf_bytes) {                                                                    \
            int k = snprintf(buf + used, buf_bytes - used, __VA_ARGS__);                           \
            used += k < 0 ? 0 : (size_t)k;                                                         \
        }                                                                                          \
    } while (0)
    buf[0] = '\0';
    fmt_size(usable, b, sizeof b);
    if (r->built_row >= 0) {
        const kvplan_row *w = &r->rows[r->built_row];
        fmt_size(w->total_bytes, a, sizeof a);
        /* magnitude in unsigned arithmetic: headroom may be INT64_MIN */
        const uint64_t mag = w->headroom_bytes < 0 ? (uint64_t)0 - (uint64_t)w->headroom_bytes
                                                   : (uint64_t)w->headroom_bytes;
        fmt_size(mag, c, sizeof c);
        if (w->engine_refusal[0])
            PUT("%s as built (%s) is refused by %s: %s. ", r->model.name, w->label,
                kvplan_engine_name(r->params.engine), w->engine_refusal);
        else
            PUT("%s as built (%s) needs %s of %s usable: %s %s. ", r->model.name, w->label, a, b,
                w->fits ? "fits with" : "does not fit, short by", c);
        if (r->n_rows > 1)
            PUT("What-ifs (the same shape retrained with other attention): %zu of %zu fit.",
                r->n_fit - (w->fits ? 1 : 0), r->n_rows - 1);
    } else {
        PUT("%zu of %zu setups fit.", r->n_fit, r->n_rows);
    }
    if (r->best_row >= 0) {
        const kvplan_row *w = &r->rows[r->best_row];
        char red[32];
        if (w->kv_reduction > 0.0)
            snprintf(red, sizeof red, "KV cache -%.1f%% vs", 100.0 * w->kv_reduction);
        else
            snprintf(red, sizeof red, "the KV cache of");
        if (w->has_paper)
            PUT(" Least paper-measured loss among them: %s (%s QKV+MHA, %+.1f%% perplexity in the "
                "paper).",
                w->label, red, w->paper_ppl_delta_pct);
        else
            PUT(" Smallest that fits: %s (%s QKV+MHA).", w->label, red);
    } else if (r->n_rows > 1 || (r->n_rows == 1 && !r->rows[0].engine_refusal[0])) {
        size_t s = 0;
        for (size_t i = 1; i < r->n_rows; i++)
            if (r->rows[i].total_bytes < r->rows[s].total_bytes)
                s = i;
        fmt_size(r->rows[s].total_bytes, a, sizeof a);
        PUT(" Nothing fits: the smallest setup, %s, needs %s.", r->rows[s].label, a);
    }
#undef PUT
}
