/* safetensors.h — read (memory-mapped, lazily) and write safetensors files.
 *
 * Format: u64 LE header length N, N bytes of JSON mapping each tensor name to
 * {dtype, shape, data_offsets: [begin, end)} relative to byte 8 + N, with an
 * optional "__metadata__" object; then the data. Key order is not layer
 * order. A sharded model has model.safetensors.index.json whose weight_map
 * names the shard of each tensor.
 *
 * Before any data is touched the reader checks: the header length against
 * the file (and a 100 MiB cap), that the header is a JSON object, each
 * entry's dtype, shape (at most 8 non-negative dimensions whose product and
 * byte size fit in 64 bits), that data_offsets lie inside the data section
 * and match the shape, and that no two tensors overlap. F32, F16 and BF16
 * convert to float32; other dtypes are validated and reported by name as
 * unsupported when read.
 */
#ifndef QKV_SAFETENSORS_H
#define QKV_SAFETENSORS_H

#include <stdio.h>

#include "analyzer/formats/tensorfile.h"

#define ST_HEADER_MAX ((uint64_t)100 << 20)
#define ST_DIMS_MAX 8
#define ST_SHARDS_MAX 256

typedef struct {
    char *name;
    char dtype[12]; /* as written: "F16", "I64", ... */
    tf_type type;   /* TF_UNSUPPORTED for dtypes that do not convert */
    int n_dims;
    uint64_t shape[ST_DIMS_MAX];
    uint64_t begin, end; /* within the shard's data section */
    int shard;
} st_tensor;

typedef struct {
    int n_shards;
    char *paths[ST_SHARDS_MAX];
    tf_map maps[ST_SHARDS_MAX];
    uint64_t data_off[ST_SHARDS_MAX]; /* 8 + N of each shard */
    st_tensor *tensors;
    size_t n_tensors;
    tf_span *by_name;    /* (n_tensors) sorted by name, for st_find */
    uint64_t bytes_read; /* tensor bytes converted so far (for benchmarks) */
} st_file;

/* Open a .safetensors file, a model.safetensors.index.json, or a directory
 * holding either. Caller closes with st_close. */
qkv_status st_open(const char *path, st_file *f, qkv_error *err);
void st_close(st_file *f);

/* Tensor by name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);

/* Convert rows [row0, row0 + n_rows) of a tensor viewed as (shape[0],
 * product of the rest) into out. QKV_ERR_UNSUPPORTED for a dtype that does
 * not convert, QKV_ERR_RANGE for rows outside the tensor. */
qkv_status st_read_rows(st_file *f, const st_tensor *t, uint64_t row0, uint64_t n_rows, float *out,
                        qkv_error *err);

/* Writing: tensors as F32 (or F16 when half is set), in the order given. */
typedef struct {
    const char *name;
    const float *data;
    int n_dims;
    uint64_t shape[ST_DIMS_MAX];
} st_out_tensor;

qkv_status st_write(FILE *out, const st_out_tensor *ts, size_t n, int half, qkv_error *err);

#endif
