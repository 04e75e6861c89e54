/* Fuzz variant names: sharing, head-sharing specs and study variants. */
#include "analyzer/variant.h"
#include "probes/train/study.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    if (!s)
        return 0;
    variant_share sh;
    variant_share_parse(s, &sh);
    uint64_t kv;
    qkv_error err;
    const uint64_t heads[] = {1, 4, 14, 32, 4294967296ull};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        if (variant_parse_kv_heads(s, heads[i], &kv, &err) == QKV_OK && (kv == 0 || heads[i] % kv))
            abort(); /* an accepted count divides the heads */
    study_variant v;
    if (study_variant_parse(s, 4, &v, &err) == QKV_OK && (v.kv_heads < 1 || 4 % v.kv_heads))
        abort();
    free(s);
    return 0;
}
