/* dtype.h — element types of KV caches and weights, and their byte sizes.
 *
 * Cache types follow llama.cpp's (ggml's) block formats: a row of n elements
 * is stored as n / block_elems blocks of block_bytes each, so a row whose
 * width is not a multiple of the block size cannot use that type at all.
 * Nothing is rounded silently: dtype_row_bytes() reports the mismatch.
 *
 *   type       block elems  block bytes  bytes/elem
 *   f32              1           4          4
 *   f16, bf16        1           2          2
 *   fp8 (e4m3/e5m2)  1           1          1
 *   q8_0            32          34          1.0625
 *   q5_1            32          24          0.75
 *   q5_0            32          22          0.6875
 *   q4_1            32          20          0.625
 *   q4_0, iq4_nl    32          18          0.5625
 *
 * Weight types are priced in bits per weight. Pure block types are exact; the
 * K-quant mixes (Q4_K_M, ...) quantise different tensors differently, so their
 * figure is the average llama.cpp's quantize README reports for Llama 2 7B and
 * is marked approximate.
 */
#ifndef QKV_DTYPE_H
#define QKV_DTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/core/qkv_error.h"

typedef enum {
    DTYPE_F32,
    DTYPE_F16,
    DTYPE_BF16,
    DTYPE_FP8_E4M3,
    DTYPE_FP8_E5M2,
    DTYPE_Q8_0,
    DTYPE_Q5_1,
    DTYPE_Q5_0,
    DTYPE_Q4_1,
    DTYPE_Q4_0,
    DTYPE_IQ4_NL,
    DTYPE_CACHE_COUNT
} dtype_cache;

typedef struct {
    const char *name;     /* canonical lower-case name, e.g. "q8_0" */
    uint32_t block_elems; /* elements per block */
    uint32_t block_bytes; /* bytes per block */
    bool quantized;       /* block-quantised (llama.cpp needs flash attention for a quantised V) */
} dtype_cache_info;

/* Info for a cache type; t must be a valid dtype_cache. */
const dtype_cache_info *dtype_cache_get(dtype_cache t);

/* Parse a cache type name, case-insensitive ("f16", "Q8_0", "fp8" = e4m3).
 * Returns QKV_ERR_INVALID for an unknown name. */
qkv_status dtype_cache_parse(const char *s, dtype_cache *out);

/* Bytes of one row of n_elems elements of type t. QKV_ERR_INVALID (with a
 * message naming the width and block size) when n_elems is not a multiple of
 * the block size; QKV_ERR_OVERFLOW when the size does not fit. */
qkv_status dtype_row_bytes(dtype_cache t, uint64_t n_elems, uint64_t *bytes, qkv_error *err);

/* Comma-separated list of all cache type names, for --help. Static storage. */
const char *dtype_cache_names(void);

typedef struct {
    const char *name;  /* e.g. "q4_K_M" */
    uint32_t bits_num; /* bits per weight = bits_num / bits_den */
    uint32_t bits_den;
    bool approximate; /* a mix whose real size depends on the model */
} dtype_weight_info;

typedef enum {
    WTYPE_F32,
    WTYPE_F16,
    WTYPE_BF16,
    WTYPE_Q8_0,
    WTYPE_Q6_K,
    WTYPE_Q5_1,
    WTYPE_Q5_K_M,
    WTYPE_Q5_K_S,
    WTYPE_Q5_0,
    WTYPE_Q4_1,
    WTYPE_Q4_K_M,
    WTYPE_Q4_K_S,
    WTYPE_Q4_0,
    WTYPE_Q3_K_L,
    WTYPE_Q3_K_M,
    WTYPE_Q3_K_S,
    WTYPE_Q2_K,
    DTYPE_WEIGHT_COUNT
} dtype_weight;

const dtype_weight_info *dtype_weight_get(dtype_weight t);

/* Parse a weight type name, case-insensitive. QKV_ERR_INVALID if unknown. */
qkv_status dtype_weight_parse(const char *s, dtype_weight *out);

/* Bytes for n_params weights of type t, rounded up to a whole byte.
 * QKV_ERR_OVERFLOW if it does not fit in 64 bits. */
qkv_status dtype_weight_bytes(dtype_weight t, uint64_t n_params, uint64_t *bytes);

const char *dtype_weight_names(void);

#endif
