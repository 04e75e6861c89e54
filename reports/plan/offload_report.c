#include "reports/plan/offload_report.h"

#include <inttypes.h>
#include <string.h>

#include "reports/fmt.h"
#include "reports/textwrap.h"
#include "reports/jsonutil.h"

static cJSON *device_json(const offload_device *d)
{
    cJSON *o = cJSON_CreateObject();
    JSON_CHECK(o);
    JSON_CHECK(cJSON_AddStringToObject(o, "name", d->name));
    JSON_CHECK(report_json_u64(o, "layers", d->layers));
    JSON_CHECK(report_json_u64(o, "weight_bytes", d->weight_bytes));
    JSON_CHECK(report_json_u64(o, "kv_cache_bytes", d->kv_bytes));
    JSON_CHECK(report_json_u64(o, "compute_bytes", d->compute_bytes));
    JSON_CHECK(report_json_u64(o, "total_bytes", d->total_bytes));
    JSON_CHECK(report_json_u64(o, "budget_bytes", d->budget_bytes));
    JSON_CHECK(report_json_i64(o, "headroom_bytes", d->headroom_bytes));
    JSON_CHECK(cJSON_AddBoolToObject(o, "fits", d->fits));
    return o;
nomem:
    cJSON_Delete(o);
    return NULL;
}

bool report_offload_json_row(cJSON *o, const struct offload_plan *plan, size_t i)
{
    const offload_row *w = &plan->rows[i];
    cJSON *arr, *item, *off;
    JSON_CHECK(report_json_u64(o, "gpu_layers", w->ngl));
    JSON_CHECK(report_json_u64(o, "gpu_bytes", w->gpu_bytes));
    JSON_CHECK(arr = cJSON_AddArrayToObject(o, "gpu_bytes_per_gpu"));
    for (size_t g = 0; g < w->n_gpus; g++) {
        char num[24];
        snprintf(num, sizeof num, "%" PRIu64, w->gpu[g].total_bytes);
        JSON_CHECK(item = cJSON_CreateRaw(num));
        cJSON_AddItemToArray(arr, item);
    }
    JSON_CHECK(report_json_u64(o, "host_bytes", w->host_bytes));
    JSON_CHECK(cJSON_AddBoolToObject(o, "gpu_fits", w->gpu_fits));
    JSON_CHECK(off = cJSON_AddObjectToObject(o, "offload"));
    JSON_CHECK(cJSON_AddStringToObject(off, "mode", plan->vllm ? "tensor_parallel" : "layers"));
    JSON_CHECK(cJSON_AddBoolToObject(off, "ngl_auto", plan->params.ngl_auto && !plan->vllm));
    JSON_CHECK(report_json_u64(off, "repeating_layers_on_gpu", w->gpu_layers));
    JSON_CHECK(cJSON_AddBoolToObject(off, "output_layer_on_gpu", w->output_on_gpu));
    JSON_CHECK(cJSON_AddBoolToObject(off, "kv_offload", !plan->params.no_kv_offload));
    JSON_CHECK(cJSON_AddBoolToObject(off, "fits", w->fits));
    JSON_CHECK(report_json_u64(off, "duplicated_output_bytes", w->dup_bytes));
    JSON_CHECK(report_json_u64(off, "extra_compute_bytes", w->extra_compute_bytes));
    if (w->host_mapped_bytes)
        JSON_CHECK(report_json_u64(off, "host_mapped_bytes", w->host_mapped_bytes));
    JSON_CHECK(report_json_u64(off, "max_ctx", w->max_ctx));
    JSON_CHECK(cJSON_AddBoolToObject(off, "max_ctx_capped", w->max_ctx_capped));
    JSON_CHECK(arr = cJSON_AddArrayToObject(off, "devices"));
    JSON_CHECK(item = device_json(&w->host));
    cJSON_AddItemToArray(arr, item);
    for (size_t g = 0; g < w->n_gpus; g++) {
        JSON_CHECK(item = device_json(&w->gpu[g]));
        cJSON_AddItemToArray(arr, item);
    }
    if (w->command[0])
        JSON_CHECK(cJSON_AddStringToObject(off, "command", w->command));
    else
        JSON_CHECK(cJSON_AddNullToObject(off, "command"));
    JSON_CHECK(arr = cJSON_AddArrayToObject(off, "layers_vs_ctx"));
    for (size_t k = 0; k < w->n_sweep; k++) {
        JSON_CHECK(item = cJSON_CreateObject());
        cJSON_AddItemToArray(arr, item);
        JSON_CHECK(report_json_u64(item, "ctx", w->sweep_ctx[k]));
        JSON_CHECK(report_json_u64(item, "gpu_layers", w->sweep_ngl[k]));
    }
    return true;
nomem:
    return false;
}

bool report_offload_json_root(cJSON *root, const kvplan_result *r)
{
    const struct offload_plan *plan = r->offload;
    cJSON *arr, *item;
    JSON_CHECK(cJSON_AddBoolToObject(root, "unified_memory", plan->params.unified));
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "gpus"));
    for (size_t g = 0; g < plan->params.n_gpus; g++) {
        JSON_CHECK(item = cJSON_CreateObject());
        cJSON_AddItemToArray(arr, item);
        JSON_CHECK(cJSON_AddStringToObject(item, "name", plan->params.gpu_name[g]));
        JSON_CHECK(report_json_u64(item, "bytes",
                                   plan->params.unified ? r->params.device_bytes
                                                        : plan->params.gpu_bytes[g]));
        JSON_CHECK(report_json_u64(item, "reserve_bytes",
                                   plan->params.unified ? 0 : plan->params.gpu_reserve[g]));
        if (plan->n_rows > 0)
            JSON_CHECK(report_json_u64(item, "usable_bytes", plan->rows[0].gpu[g].budget_bytes));
    }
    return true;
nomem:
    return false;
}

void report_offload_csv_header(FILE *f)
{
    fputs(",gpu_layers,gpu_bytes,host_bytes,gpu_fits,offload_fits,offload_max_ctx", f);
}

void report_offload_csv_row(FILE *f, const struct offload_plan *plan, size_t i)
{
    const offload_row *w = &plan->rows[i];
    fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d,%d,%" PRIu64, w->ngl, w->gpu_bytes,
            w->host_bytes, w->gpu_fits ? 1 : 0, w->fits ? 1 : 0, w->max_ctx);
}

static void size_text(uint64_t v, bool in_mib, char *buf, size_t n)
{
    if (in_mib)
        snprintf(buf, n, "%.2f MiB", (double)v / 1048576.0);
    else
        fmt_size(v, buf, n);
}

static void signed_text(int64_t v, bool in_mib, char *buf, size_t n)
{
    if (in_mib)
        snprintf(buf, n, "%.2f MiB", (double)v / 1048576.0);
    else
        fmt_size_signed(v, buf, n);
}

static const char *placement_title(const struct offload_plan *plan)
{
    return plan->vllm ? "GPU plan (vLLM tensor parallel: weights, KV and activations divided)"
                      : "GPU offload (llama.cpp v0.4.0 placement: -ngl counts the output layer "
                        "first; the input layer stays on the CPU)";
}

/* The per-device table: every column in 110 characters, or, narrower, without
 * compute and max ctx (width 0: no limit). */
void report_offload_table(FILE *f, const kvplan_result *r, bool in_mib, size_t width)
{
    const struct offload_plan *plan = r->offload;
    if (!plan)
        return;
    const bool full = width == 0 || width >= 110;
    const size_t wrap = width ? width : 1000;
    fputc('\n', f);
    report_wrap(f, placement_title(plan), wrap, 2);
    if (full)
        fprintf(f, "%-22s %5s %-5s %11s %11s %11s %11s %12s %4s  %s\n", "variant", "-ngl", "dev",
                "weights", "KV", "compute", "total", "headroom", "fits", "max ctx");
    else
        fprintf(f, "%-20s %4s %-5s %9s %9s %9s %10s %4s\n", "variant", "-ngl", "dev", "weights",
                "KV", "total", "headroom", "fits");
    for (size_t i = 0; i < plan->n_rows; i++) {
        const offload_row *w = &plan->rows[i];
        for (size_t d = 0; d <= w->n_gpus; d++) {
            const offload_device *dev = d == 0 ? &w->host : &w->gpu[d - 1];
            if (plan->vllm && d == 0)
                continue;
            char a[FMT_BYTES], b[FMT_BYTES], c[FMT_BYTES], t[FMT_BYTES], h[FMT_BYTES],
                ngl[16] = "", mc[FMT_BYTES] = "";
            size_text(dev->weight_bytes, in_mib, a, sizeof a);
            size_text(dev->kv_bytes, in_mib, b, sizeof b);
            size_text(dev->compute_bytes, in_mib, c, sizeof c);
            size_text(dev->total_bytes, in_mib, t, sizeof t);
            signed_text(dev->headroom_bytes, in_mib, h, sizeof h);
            const bool first = plan->vllm ? d == 1 : d == 0;
            if (first) {
                if (!plan->vllm)
                    snprintf(ngl, sizeof ngl, "%" PRIu64, w->ngl);
                fmt_tokens(w->max_ctx, mc, sizeof mc);
            }
            if (full)
                fprintf(f, "%-22s %5s %-5s %11s %11s %11s %11s %12s %4s  %s\n",
                        first ? r->rows[i].label : "", ngl, dev->name, a, b, c, t, h,
                        dev->fits ? "yes" : "no", mc);
            else
                fprintf(f, "%-20s %4s %-5s %9s %9s %9s %10s %4s\n", first ? r->rows[i].label : "",
                        ngl, dev->name, a, b, t, h, dev->fits ? "yes" : "no");
        }
    }
    if (plan->n_rows > 0 && plan->rows[0].command[0]) {
        fprintf(f, "command (%s):\n", r->rows[0].label);
        report_wrap_shell(f, plan->rows[0].command, wrap, 2);
    }
    if (plan->n_rows > 0 && plan->rows[0].dup_bytes > 0) {
        char d[FMT_BYTES], note[256];
        fmt_size(plan->rows[0].dup_bytes, d, sizeof d);
        snprintf(note, sizeof note,
                 "note: the output layer on a GPU holds its own copy of the tied token embeddings "
                 "(%s, counted on both devices)",
                 d);
        report_wrap(f, note, wrap, 2);
    }
    report_wrap(f,
                full ? "compute is an estimate (llama.cpp keeps a compute buffer for a whole "
                       "micro-batch on the host and on every GPU); max ctx: every device fits at "
                       "this -ngl"
                     : "total includes an estimate of compute buffers (llama.cpp keeps one on the "
                       "host and on every GPU); compute and max ctx (every device fits at this "
                       "-ngl): --wide or a wider terminal",
                wrap, 0);
}

void report_offload_md(FILE *f, const kvplan_result *r)
{
    const struct offload_plan *plan = r->offload;
    if (!plan)
        return;
    fprintf(f, "\n### %s\n\n", placement_title(plan));
    fputs("| variant | -ngl | device | layers | weights (bytes) | KV (bytes) | compute (bytes) | "
          "total (bytes) | headroom (bytes) | fits "
          "|\n|---|---:|---|---:|---:|---:|---:|---:|---:|---|\n",
          f);
    for (size_t i = 0; i < plan->n_rows; i++) {
        const offload_row *w = &plan->rows[i];
        for (size_t d = 0; d <= w->n_gpus; d++) {
            const offload_device *dev = d == 0 ? &w->host : &w->gpu[d - 1];
            if (plan->vllm && d == 0)
                continue;
            fprintf(f,
                    "| %s | %" PRIu64 " | %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64
                    " | %" PRIu64 " | %" PRId64 " | %s |\n",
                    r->rows[i].label, w->ngl, dev->name, dev->layers, dev->weight_bytes,
                    dev->kv_bytes, dev->compute_bytes, dev->total_bytes, dev->headroom_bytes,
                    dev->fits ? "yes" : "no");
        }
    }
    if (plan->n_rows > 0 && plan->rows[0].command[0])
        fprintf(f, "\nCommand for %s: `%s`\n", r->rows[0].label, plan->rows[0].command);
}
