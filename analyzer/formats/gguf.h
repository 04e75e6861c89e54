/* gguf.h — read (memory-mapped, lazily) and write GGUF v2/v3 files.
 *
 * Layout: "GGUF", u32 version, u64 tensor count, u64 metadata count; typed
 * key/values (u8 … f64, bool, string = u64 length + bytes, array = u32 type,
 * u64 count, elements, arrays nesting); tensor infos (name, u32 n_dims,
 * u64 dims innermost first, u32 ggml type, u64 offset); data aligned to
 * general.alignment (default 32).
 *
 * Before touching data the reader checks every count, string and array
 * length against the bytes left in the file (so no claim of billions of
 * entries allocates anything), nesting depth, dimension products, known
 * ggml types and their block sizes, offsets and alignment, and overlaps.
 * F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K convert to float32.
 */
#ifndef QKV_GGUF_H
#define QKV_GGUF_H

#include <stdbool.h>
#include <stdio.h>

#include "analyzer/formats/tensorfile.h"

enum {
    GGUF_U8,
    GGUF_I8,
    GGUF_U16,
    GGUF_I16,
    GGUF_U32,
    GGUF_I32,
    GGUF_F32,
    GGUF_BOOL,
    GGUF_STRING,
    GGUF_ARRAY,
    GGUF_U64,
    GGUF_I64,
    GGUF_F64,
    GGUF_TYPE_COUNT
};

#define GGUF_DEPTH_MAX 4
#define GGUF_DIMS_MAX 4

typedef struct {
    const char *key; /* not NUL-terminated: key_len bytes in the map */
    uint64_t key_len;
    uint32_t type;
    uint64_t u; /* integers and bool */
    int64_t i;
    double f;
    const char *str; /* strings: str_len bytes in the map */
    uint64_t str_len;
    uint32_t arr_type; /* arrays */
    uint64_t arr_n;
    const unsigned char *arr, *arr_end; /* arrays: their elements in the map (validated) */
} gguf_kv;

typedef struct {
    char *name;
    uint32_t n_dims;
    uint64_t ne[GGUF_DIMS_MAX]; /* innermost (row width) first */
    uint32_t ggml_type;
    tf_type type;           /* TF_UNSUPPORTED when it does not convert */
    uint64_t offset, bytes; /* within the data section */
} gguf_tensor;

typedef struct {
    char *path;
    tf_map map;
    uint32_t version;
    gguf_kv *kv;
    size_t n_kv;
    gguf_tensor *tensors;
    size_t n_tensors;
    tf_span *by_name; /* (n_tensors) sorted by name, for gguf_find */
    uint64_t alignment, data_off;
    uint64_t bytes_read;
} gguf_file;

qkv_status gguf_open(const char *path, gguf_file *f, qkv_error *err);
void gguf_close(gguf_file *f);

const gguf_kv *gguf_get(const gguf_file *f, const char *key);
/* An integer value (any integer type) of key; false when absent or not an integer. */
bool gguf_get_uint(const gguf_file *f, const char *key, uint64_t *v);
/* A string value into buf (truncated, NUL-terminated); false when absent. */
bool gguf_get_str(const gguf_file *f, const char *key, char *buf, size_t n);

const gguf_tensor *gguf_find(const gguf_file *f, const char *name);

/* ggml's upper-case name of a tensor type ("F32", "Q8_0"), NULL if unknown. */
const char *gguf_type_name(uint32_t ggml_type);

/* Rows [row0, row0 + n) of a tensor viewed as (product of ne[1..], ne[0]). */
qkv_status gguf_read_rows(gguf_file *f, const gguf_tensor *t, uint64_t row0, uint64_t n, float *out,
                          qkv_error *err);

/* Writing: metadata of strings, u32, f32 and arrays of strings, f32 or i32;
 * tensors as F32, or with half set, matrices as F16 while 1-D tensors (norm
 * weights, biases) stay F32 as llama.cpp's converter keeps them (ggml's CPU
 * backend cannot multiply an f32 activation by an f16 norm weight). */
typedef struct {
    const char *key;
    uint32_t type; /* GGUF_STRING, GGUF_U32, GGUF_F32 or GGUF_ARRAY */
    const char *str;
    uint32_t u32;
    float f32;
    uint32_t arr_type;           /* GGUF_ARRAY: GGUF_STRING, GGUF_F32 or GGUF_I32 */
    uint64_t arr_n;              /* its element count */
    const char *const *arr_strs; /* (arr_n) */
    const float *arr_f32;        /* (arr_n) */
    const int32_t *arr_i32;      /* (arr_n) */
} gguf_out_kv;

typedef struct {
    const char *name;
    const float *data;
    uint32_t n_dims;
    uint64_t ne[GGUF_DIMS_MAX];
} gguf_out_tensor;

qkv_status gguf_write(FILE *out, const gguf_out_kv *kv, size_t n_kv, const gguf_out_tensor *ts,
                      size_t n_ts, int half, qkv_error *err);

#endif
