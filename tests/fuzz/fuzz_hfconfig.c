/* Fuzz the Hugging Face config.json reader and plan whatever it accepts. */
#include "analyzer/formats/hfconfig.h"
#include "analyzer/kvplan.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    model_shape m;
    qkv_error err;
    if (hfconfig_parse((const char *)data, size, "fuzz", &m, &err) != QKV_OK)
        return 0;
    variant vs[VARIANT_MAX];
    size_t n = variant_default_grid(&m, vs, VARIANT_MAX);
    kvplan_params p = kvplan_params_default();
    kvplan_result r;
    if (kvplan_plan(&m, vs, n, &p, true, &r, &err) == QKV_OK)
        kvplan_result_free(&r);
    return 0;
}
