/* The planner's parameters: engine and flash-attention names, defaults and
 * the checks every plan starts with (kvplan.h). */
#include "analyzer/kvplan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/core/checked.h"
#include "analyzer/paper.h"

static const char *const engine_names[ENGINE_COUNT] = {"exact", "llama.cpp", "vllm", "ollama"};

const char *kvplan_engine_name(kvplan_engine e)
{
    return engine_names[e];
}

bool kvplan_engine_is_llamacpp(kvplan_engine e)
{
    return e == ENGINE_LLAMACPP || e == ENGINE_OLLAMA;
}

static const char *const fa_names[] = {"on", "off", "auto"};

const char *kvplan_fa_name(engine_fa fa)
{
    return fa_names[fa];
}

qkv_status kvplan_fa_parse(const char *s, engine_fa *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, fa_names[i]) == 0) {
            *out = (engine_fa)i;
            return QKV_OK;
        }
    }
    return QKV_ERR_INVALID;
}

const char *kvplan_ctx_cap_name(kvplan_ctx_cap c)
{
    return c == KVPLAN_CAP_TRAINED ? "trained_context" : "ctx_limit";
}

void kvplan_engine_describe(const kvplan_params *p, char *buf, size_t buf_bytes)
{
    snprintf(buf, buf_bytes, "%s%s%s", kvplan_engine_name(p->engine),
             p->engine == ENGINE_LLAMACPP
                 ? (p->kv_unified ? " (unified cache)" : " (cache per sequence)")
             : p->engine == ENGINE_OLLAMA ? " (llama.cpp, cache per sequence)"
                                          : "",
             kvplan_engine_is_llamacpp(p->engine) && p->swa_full ? ", full-size SWA cache" : "");
}

qkv_status kvplan_engine_parse(const char *s, kvplan_engine *out)
{
    for (int i = 0; i < ENGINE_COUNT; i++) {
        if (strcasecmp(s, engine_names[i]) == 0) {
            *out = (kvplan_engine)i;
            return QKV_OK;
        }
    }
    if (strcasecmp(s, "llamacpp") == 0 || strcasecmp(s, "llama") == 0) {
        *out = ENGINE_LLAMACPP;
        return QKV_OK;
    }
    return QKV_ERR_INVALID;
}

kvplan_params kvplan_params_default(void)
{
    kvplan_params p = {
        .engine = ENGINE_EXACT,
        .kv_unified = false,
        .swa_full = false,
        .flash_attn = ENGINE_FA_ON,
        .block_size = KVPLAN_VLLM_BLOCK,
        .beyond_trained = false,
        .ctx = 4096,
        .seqs = 1,
        .ubatch = 512,
        .type_k = DTYPE_F16,
        .type_v = DTYPE_F16,
        .weight_type = WTYPE_F16,
        .device_bytes = (uint64_t)8 << 30,
        .reserve_bytes = (uint64_t)1 << 30,
    };
    return p;
}

qkv_status kvplan_params_check(const kvplan_params *p, qkv_error *err)
{
    if (p->ctx < 1 || p->ctx > KVPLAN_CTX_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "context %llu is outside 1..%llu tokens",
                             (unsigned long long)p->ctx, (unsigned long long)KVPLAN_CTX_MAX);
    if (p->seqs < 1 || p->seqs > KVPLAN_SEQS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "sequences %llu is outside 1..%llu",
                             (unsigned long long)p->seqs, (unsigned long long)KVPLAN_SEQS_MAX);
    if (p->ubatch < 1 || p->ubatch > KVPLAN_UBATCH_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "ubatch %llu is outside 1..%llu",
                             (unsigned long long)p->ubatch, (unsigned long long)KVPLAN_UBATCH_MAX);
    if (p->block_size < 1 || p->block_size > KVPLAN_BLOCK_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "block size %llu is outside 1..%d tokens",
                             (unsigned long long)p->block_size, KVPLAN_BLOCK_MAX);
    if (p->device_bytes < 1 || p->device_bytes > KVPLAN_DEVICE_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "device size %llu bytes is outside 1..%llu",
                             (unsigned long long)p->device_bytes,
                             (unsigned long long)KVPLAN_DEVICE_MAX);
    if (p->reserve_bytes >= p->device_bytes)
        return qkv_error_set(
            err, QKV_ERR_RANGE, "reserve of %llu bytes leaves nothing of a %llu-byte device",
            (unsigned long long)p->reserve_bytes, (unsigned long long)p->device_bytes);
    return QKV_OK;
}
