/* lists.h — the catalog and the device profiles as JSON (`qkvplan models -f
 * json`, `qkvplan devices -f json`), with the schema and tool versions every
 * qkvplan JSON document carries. Byte counts are exact integers. */
#ifndef QKV_REPORT_PLAN_LISTS_H
#define QKV_REPORT_PLAN_LISTS_H

#include <stdbool.h>
#include <stdio.h>

#include "analyzer/core/qkv_error.h"
#include "analyzer/devices.h"
#include "analyzer/model.h"

/* One catalog entry with what the planner computed for it as built (f16
 * cache, one sequence); has_plan false when it could not be planned. */
typedef struct {
    const model_shape *model;
    bool has_plan;
    uint64_t params, kv_bytes_per_token;
} report_model_entry;

qkv_status report_models_json(FILE *f, const report_model_entry *e, size_t n, qkv_error *err);
qkv_status report_devices_json(FILE *f, qkv_error *err);

#endif
