#include "reports/plan/lists.h"

#include "reports/jsonutil.h"

static cJSON *document(const char *key, cJSON **arr)
{
    cJSON *root = report_json_document();
    if (!root || !(*arr = cJSON_AddArrayToObject(root, key))) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

qkv_status report_models_json(FILE *f, const report_model_entry *e, size_t n, qkv_error *err)
{
    cJSON *arr, *root = document("models", &arr);
    if (!root)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
    for (size_t i = 0; i < n; i++) {
        const model_shape *m = e[i].model;
        cJSON *o = cJSON_CreateObject();
        if (!o)
            goto nomem;
        cJSON_AddItemToArray(arr, o);
        JSON_CHECK(cJSON_AddStringToObject(o, "name", m->name));
        JSON_CHECK(cJSON_AddStringToObject(o, "arch", m->arch));
        JSON_CHECK(report_json_u64(o, "layers", m->n_layers));
        JSON_CHECK(report_json_u64(o, "d_model", m->d_model));
        JSON_CHECK(report_json_u64(o, "heads", m->n_heads));
        JSON_CHECK(report_json_u64(o, "kv_heads", m->n_kv_heads));
        JSON_CHECK(report_json_u64(o, "head_dim", m->head_dim));
        JSON_CHECK(cJSON_AddBoolToObject(o, "mla", model_is_mla(m)));
        JSON_CHECK(report_json_u64(o, "window", m->window));
        JSON_CHECK(report_json_u64(o, "sliding_window_layers", m->n_swa_layers));
        JSON_CHECK(report_json_u64(o, "trained_ctx", m->max_ctx));
        if (e[i].has_plan) {
            JSON_CHECK(report_json_u64(o, "params", e[i].params));
            JSON_CHECK(report_json_u64(o, "kv_bytes_per_token_f16", e[i].kv_bytes_per_token));
        } else {
            JSON_CHECK(cJSON_AddNullToObject(o, "params"));
            JSON_CHECK(cJSON_AddNullToObject(o, "kv_bytes_per_token_f16"));
        }
        JSON_CHECK(cJSON_AddStringToObject(o, "source", m->source));
    }
    return report_json_emit(f, root, err);
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}

qkv_status report_devices_json(FILE *f, qkv_error *err)
{
    cJSON *arr, *root = document("devices", &arr);
    if (!root)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
    for (size_t i = 0; i < devices_count(); i++) {
        const device_profile *d = devices_get(i);
        cJSON *o = cJSON_CreateObject();
        if (!o)
            goto nomem;
        cJSON_AddItemToArray(arr, o);
        JSON_CHECK(cJSON_AddStringToObject(o, "name", d->name));
        JSON_CHECK(cJSON_AddStringToObject(o, "kind", d->kind));
        JSON_CHECK(report_json_u64(o, "bytes", d->bytes));
        JSON_CHECK(cJSON_AddStringToObject(o, "device", d->desc));
    }
    return report_json_emit(f, root, err);
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}
