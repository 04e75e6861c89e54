/* JSON writer (cJSON). Byte counts are written as exact integers: cJSON holds
 * numbers as doubles, which are exact only below 2^53, so integers go in as
 * raw number text. Non-finite doubles become null. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/core/version.h"
#include "analyzer/paper.h"
#include "analyzer/dtype.h"
#include "reports/fmt.h"
#include "reports/jsonutil.h"
#include "reports/plan/offload_report.h"
#include "reports/plan/report.h"

static cJSON *shape_json(const model_shape *m)
{
    cJSON *o = cJSON_CreateObject();
    JSON_CHECK(o);
    JSON_CHECK(report_json_u64(o, "layers", m->n_layers));
    JSON_CHECK(report_json_u64(o, "d_model", m->d_model));
    JSON_CHECK(report_json_u64(o, "heads", m->n_heads));
    JSON_CHECK(report_json_u64(o, "kv_heads", m->n_kv_heads));
    JSON_CHECK(report_json_u64(o, "head_dim", m->head_dim));
    JSON_CHECK(report_json_u64(o, "v_head_dim", m->v_head_dim));
    JSON_CHECK(report_json_u64(o, "ffn", m->d_ff));
    JSON_CHECK(cJSON_AddBoolToObject(o, "gated_ffn", m->gated_ffn));
    JSON_CHECK(report_json_u64(o, "vocab", m->vocab));
    JSON_CHECK(cJSON_AddBoolToObject(o, "tied_embeddings", m->tied_embeddings));
    JSON_CHECK(report_json_u64(o, "max_ctx", m->max_ctx));
    JSON_CHECK(report_json_u64(o, "sliding_window_layers", m->n_swa_layers));
    JSON_CHECK(report_json_u64(o, "window", m->window));
    JSON_CHECK(report_json_u64(o, "no_kv_layers", m->n_nokv_layers));
    if (model_is_mla(m)) {
        JSON_CHECK(report_json_u64(o, "kv_lora_rank", m->kv_lora_rank));
        JSON_CHECK(report_json_u64(o, "rope_dim", m->rope_dim));
    }
    if (m->n_experts > 0) {
        JSON_CHECK(report_json_u64(o, "experts", m->n_experts));
        JSON_CHECK(report_json_u64(o, "shared_experts", m->n_shared_experts));
        JSON_CHECK(report_json_u64(o, "moe_ffn", m->moe_d_ff));
    }
    return o;
nomem:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *row_json(const kvplan_row *w)
{
    cJSON *o = cJSON_CreateObject();
    JSON_CHECK(o);
    JSON_CHECK(cJSON_AddStringToObject(o, "label", w->label));
    JSON_CHECK(
        cJSON_AddStringToObject(o, "share", w->v.mla ? "MLA" : variant_share_name(w->v.share)));
    JSON_CHECK(report_json_u64(o, "kv_heads", w->v.kv_heads));
    JSON_CHECK(cJSON_AddBoolToObject(o, "as_built", w->v.as_built));
    JSON_CHECK(cJSON_AddBoolToObject(o, "what_if", !w->v.as_built)); /* needs retraining */
    JSON_CHECK(report_json_u64(o, "cached_tensors", (uint64_t)w->cached_tensors));
    JSON_CHECK(report_json_u64(o, "kv_bytes_per_token", w->kv_bytes_per_token));
    JSON_CHECK(report_json_u64(o, "cells_full", w->cells_full));
    JSON_CHECK(report_json_u64(o, "cells_swa", w->cells_swa));
    JSON_CHECK(report_json_u64(o, "ctx_per_seq", w->ctx_per_seq));
    JSON_CHECK(report_json_u64(o, "k_bytes", w->k_bytes));
    JSON_CHECK(report_json_u64(o, "v_bytes", w->v_bytes));
    JSON_CHECK(report_json_u64(o, "kv_bytes", w->kv_bytes));
    JSON_CHECK(report_json_double(o, "kv_reduction", w->kv_reduction));
    JSON_CHECK(report_json_u64(o, "params", w->params));
    JSON_CHECK(report_json_u64(o, "weight_bytes", w->weight_bytes));
    JSON_CHECK(report_json_u64(o, "scratch_bytes", w->scratch_bytes));
    JSON_CHECK(report_json_u64(o, "total_bytes", w->total_bytes));
    JSON_CHECK(report_json_u64(o, "n_ubatch", w->n_ubatch));
    JSON_CHECK(report_json_u64(o, "sliding_window_layers", w->swa_layers));
    JSON_CHECK(report_json_u64(o, "window", w->window));
    JSON_CHECK(cJSON_AddBoolToObject(o, "fits", w->fits));
    if (w->engine_refusal[0])
        JSON_CHECK(cJSON_AddStringToObject(o, "engine_refusal", w->engine_refusal));
    else
        JSON_CHECK(cJSON_AddNullToObject(o, "engine_refusal"));
    JSON_CHECK(report_json_i64(o, "headroom_bytes", w->headroom_bytes));
    JSON_CHECK(report_json_u64(o, "max_ctx", w->max_ctx));
    JSON_CHECK(cJSON_AddBoolToObject(o, "max_ctx_capped", w->max_ctx_capped));
    JSON_CHECK(cJSON_AddStringToObject(o, "max_ctx_cap", kvplan_ctx_cap_name(w->max_ctx_cap)));
    JSON_CHECK(report_json_u64(o, "max_seqs", w->max_seqs));
    JSON_CHECK(report_json_double(o, "max_concurrency", w->max_concurrency));
    JSON_CHECK(cJSON_AddBoolToObject(o, "max_seqs_capped", w->max_seqs_capped));
    if (w->has_paper)
        JSON_CHECK(report_json_double(o, "paper_ppl_delta_pct", w->paper_ppl_delta_pct));
    else
        JSON_CHECK(cJSON_AddNullToObject(o, "paper_ppl_delta_pct"));
    JSON_CHECK(cJSON_AddBoolToObject(o, "rope_caveat", w->rope_caveat));
    return o;
nomem:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *plan_json(const kvplan_result *r)
{
    char verdict[1024];
    cJSON *o = cJSON_CreateObject(), *arr, *item;
    JSON_CHECK(o);
    JSON_CHECK(cJSON_AddStringToObject(o, "name", r->model.name));
    JSON_CHECK(cJSON_AddStringToObject(o, "source", r->model.source));
    JSON_CHECK(cJSON_AddStringToObject(o, "arch", r->model.arch));
    JSON_CHECK(cJSON_AddStringToObject(o, "weight_type", kvplan_weight_type_name(r)));
    JSON_CHECK(item = shape_json(&r->model));
    cJSON_AddItemToObject(o, "shape", item);
    report_verdict(r, verdict, sizeof verdict);
    JSON_CHECK(cJSON_AddStringToObject(o, "verdict", verdict));
    JSON_CHECK(report_json_u64(o, "ctx", r->params.ctx));
    JSON_CHECK(cJSON_AddStringToObject(o, "k_type", dtype_cache_get(r->params.type_k)->name));
    JSON_CHECK(cJSON_AddStringToObject(o, "v_type", dtype_cache_get(r->params.type_v)->name));
    char cmd[KVPLAN_COMMAND_BYTES];
    kvplan_engine_command(r, cmd, sizeof cmd);
    if (cmd[0])
        JSON_CHECK(cJSON_AddStringToObject(o, "engine_command", cmd));
    else
        JSON_CHECK(cJSON_AddNullToObject(o, "engine_command"));
    if (r->offload)
        JSON_CHECK(report_offload_json_root(o, r));
    JSON_CHECK(report_json_u64(o, "baseline_kv_bytes", r->baseline.kv_bytes));
    JSON_CHECK(report_json_u64(o, "fitting_variants", r->n_fit));
    JSON_CHECK(arr = cJSON_AddArrayToObject(o, "notes"));
    for (size_t i = 0; i < r->n_notes; i++) {
        JSON_CHECK(item = cJSON_CreateString(r->notes[i]));
        cJSON_AddItemToArray(arr, item);
    }
    JSON_CHECK(arr = cJSON_AddArrayToObject(o, "variants"));
    for (size_t i = 0; i < r->n_rows; i++) {
        JSON_CHECK(item = row_json(&r->rows[i]));
        cJSON_AddItemToArray(arr, item);
        if (r->offload)
            JSON_CHECK(report_offload_json_row(item, r->offload, i));
    }
    return o;
nomem:
    cJSON_Delete(o);
    return NULL;
}

qkv_status report_json_write(FILE *f, const report_input *in, qkv_error *err)
{
    cJSON *root = report_json_document(), *arr, *item;
    JSON_CHECK(root);
    if (in->n_plans > 0) {
        const kvplan_params *p = &in->plans[0].params;
        JSON_CHECK(cJSON_AddStringToObject(root, "units",
                                           "bytes; sizes in the memory convention "
                                           "(1 GB = 1 GiB = 2^30 bytes)"));
        cJSON *dev = cJSON_AddObjectToObject(root, "device");
        JSON_CHECK(dev);
        JSON_CHECK(cJSON_AddStringToObject(dev, "name", in->device_label));
        JSON_CHECK(report_json_u64(dev, "bytes", p->device_bytes));
        JSON_CHECK(report_json_u64(dev, "reserve_bytes", p->reserve_bytes));
        JSON_CHECK(report_json_u64(dev, "usable_bytes", p->device_bytes - p->reserve_bytes));
        JSON_CHECK(cJSON_AddStringToObject(root, "engine", kvplan_engine_name(p->engine)));
        JSON_CHECK(cJSON_AddBoolToObject(root, "kv_unified", p->kv_unified));
        JSON_CHECK(cJSON_AddStringToObject(root, "flash_attn", kvplan_fa_name(p->flash_attn)));
        JSON_CHECK(report_json_u64(root, "ctx", p->ctx));
        JSON_CHECK(report_json_u64(root, "seqs", p->seqs));
        JSON_CHECK(report_json_u64(root, "ubatch", p->ubatch));
        JSON_CHECK(cJSON_AddStringToObject(root, "k_type", dtype_cache_get(p->type_k)->name));
        JSON_CHECK(cJSON_AddStringToObject(root, "v_type", dtype_cache_get(p->type_v)->name));
        JSON_CHECK(
            cJSON_AddStringToObject(root, "weight_type", dtype_weight_get(p->weight_type)->name));
        JSON_CHECK(cJSON_AddStringToObject(
            root, "paper", PAPER_AUTHORS " (" PAPER_YEAR "), " PAPER_TITLE ", " PAPER_ARXIV));
    }
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "models"));
    for (size_t i = 0; i < in->n_plans; i++) {
        JSON_CHECK(item = plan_json(&in->plans[i]));
        cJSON_AddItemToArray(arr, item);
    }
    return report_json_emit(f, root, err);
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}
