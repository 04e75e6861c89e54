#include "analyzer/dtype.h"

#include <string.h>
#include <strings.h>

#include "analyzer/core/checked.h"

static const dtype_cache_info cache_types[DTYPE_CACHE_COUNT] = {
    [DTYPE_F32] = {"f32", 1, 4, false},           [DTYPE_F16] = {"f16", 1, 2, false},
    [DTYPE_BF16] = {"bf16", 1, 2, false},         [DTYPE_FP8_E4M3] = {"fp8_e4m3", 1, 1, false},
    [DTYPE_FP8_E5M2] = {"fp8_e5m2", 1, 1, false}, [DTYPE_Q8_0] = {"q8_0", 32, 34, true},
    [DTYPE_Q5_1] = {"q5_1", 32, 24, true},        [DTYPE_Q5_0] = {"q5_0", 32, 22, true},
    [DTYPE_Q4_1] = {"q4_1", 32, 20, true},        [DTYPE_Q4_0] = {"q4_0", 32, 18, true},
    [DTYPE_IQ4_NL] = {"iq4_nl", 32, 18, true},
};

const dtype_cache_info *dtype_cache_get(dtype_cache t)
{
    return &cache_types[t];
}

qkv_status dtype_cache_parse(const char *s, dtype_cache *out)
{
    if (strcasecmp(s, "fp8") == 0) {
        *out = DTYPE_FP8_E4M3;
        return QKV_OK;
    }
    for (int i = 0; i < DTYPE_CACHE_COUNT; i++) {
        if (strcasecmp(s, cache_types[i].name) == 0) {
            *out = (dtype_cache)i;
            return QKV_OK;
        }
    }
    return QKV_ERR_INVALID;
}

qkv_status dtype_row_bytes(dtype_cache t, uint64_t n_elems, uint64_t *bytes, qkv_error *err)
{
    const dtype_cache_info *ti = &cache_types[t];
    if (n_elems % ti->block_elems != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "cache type %s stores blocks of %u elements; a row of %llu elements "
                             "is not a whole number of blocks",
                             ti->name, ti->block_elems, (unsigned long long)n_elems);
    if (!ck_mul(n_elems / ti->block_elems, ti->block_bytes, bytes))
        return qkv_error_set(err, QKV_ERR_OVERFLOW, "a %s row of %llu elements overflows 64 bits",
                             ti->name, (unsigned long long)n_elems);
    return QKV_OK;
}

const char *dtype_cache_names(void)
{
    return "f32, f16, bf16, fp8 (= fp8_e4m3), fp8_e5m2, q8_0, q5_1, q5_0, q4_1, q4_0, iq4_nl";
}

/* Pure block types: bits = 8 * block_bytes / block_elems, exact.
 * Mixes: llama.cpp examples/quantize README, "Llama 2 7B" table. */
static const dtype_weight_info weight_types[DTYPE_WEIGHT_COUNT] = {
    [WTYPE_F32] = {"f32", 32, 1, false},
    [WTYPE_F16] = {"f16", 16, 1, false},
    [WTYPE_BF16] = {"bf16", 16, 1, false},
    [WTYPE_Q8_0] = {"q8_0", 17, 2, false},   /* 34 B / 32 */
    [WTYPE_Q6_K] = {"q6_K", 105, 16, false}, /* 210 B / 256 = 6.5625 */
    [WTYPE_Q5_1] = {"q5_1", 6, 1, false},    /* 24 B / 32 */
    [WTYPE_Q5_K_M] = {"q5_K_M", 568, 100, true},
    [WTYPE_Q5_K_S] = {"q5_K_S", 552, 100, true},
    [WTYPE_Q5_0] = {"q5_0", 11, 2, false}, /* 22 B / 32 */
    [WTYPE_Q4_1] = {"q4_1", 5, 1, false},  /* 20 B / 32 */
    [WTYPE_Q4_K_M] = {"q4_K_M", 484, 100, true},
    [WTYPE_Q4_K_S] = {"q4_K_S", 458, 100, true},
    [WTYPE_Q4_0] = {"q4_0", 9, 2, false}, /* 18 B / 32 */
    [WTYPE_Q3_K_L] = {"q3_K_L", 427, 100, true},
    [WTYPE_Q3_K_M] = {"q3_K_M", 391, 100, true},
    [WTYPE_Q3_K_S] = {"q3_K_S", 350, 100, true},
    [WTYPE_Q2_K] = {"q2_K", 335, 100, true},
};

const dtype_weight_info *dtype_weight_get(dtype_weight t)
{
    return &weight_types[t];
}

qkv_status dtype_weight_parse(const char *s, dtype_weight *out)
{
    for (int i = 0; i < DTYPE_WEIGHT_COUNT; i++) {
        if (strcasecmp(s, weight_types[i].name) == 0) {
            *out = (dtype_weight)i;
            return QKV_OK;
        }
    }
    return QKV_ERR_INVALID;
}

qkv_status dtype_weight_bytes(dtype_weight t, uint64_t n_params, uint64_t *bytes)
{
    const dtype_weight_info *w = &weight_types[t];
    uint64_t den = (uint64_t)w->bits_den * 8, bits;
    /* ceil(n * num / (den * 8)) without overflowing the intermediate product
     * where avoidable: split n into quotient and remainder of den. */
    uint64_t q = n_params / den, r = n_params % den;
    uint64_t whole;
    if (!ck_mul(q, w->bits_num, &whole))
        return QKV_ERR_OVERFLOW;
    bits = r * w->bits_num; /* r < den <= 800, num <= 568: no overflow */
    if (!ck_add(whole, (bits + den - 1) / den, bytes))
        return QKV_ERR_OVERFLOW;
    return QKV_OK;
}

const char *dtype_weight_names(void)
{
    return "f32, f16, bf16, q8_0, q6_K, q5_1, q5_K_M, q5_K_S, q5_0, q4_1, q4_K_M, q4_K_S, q4_0, "
           "q3_K_L, q3_K_M, q3_K_S, q2_K";
}
