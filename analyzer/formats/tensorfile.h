/* tensorfile.h — what the safetensors and GGUF readers share: a tensor's
 * element types and their conversion to float32, and memory-mapped files.
 *
 * Every reader validates sizes and offsets against the file before it
 * touches data and reports the file, the tensor or key, and the reason.
 */
#ifndef QKV_TENSORFILE_H
#define QKV_TENSORFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/core/qkv_error.h"

/* Element types the readers can convert to float32. */
typedef enum {
    TF_F32,
    TF_F16,
    TF_BF16,
    TF_Q8_0,
    TF_Q4_0,
    TF_Q4_K,
    TF_Q6_K,
    TF_UNSUPPORTED
} tf_type;

/* Bytes of a row of n elements of type t; 0 when n is not a whole number of
 * blocks or t is unsupported. */
uint64_t tf_row_bytes(tf_type t, uint64_t n);
const char *tf_type_name(tf_type t);
/* Elements per block (1 for plain types). */
uint32_t tf_block_elems(tf_type t);

/* Convert n elements (a whole number of blocks) at src into dst. */
void tf_to_f32(tf_type t, const void *src, float *dst, uint64_t n);

/* IEEE half and bfloat16 conversions (round to nearest even on the way down). */
float tf_f16_to_f32(uint16_t h);
uint16_t tf_f32_to_f16(float f);
float tf_bf16_to_f32(uint16_t h);

/* The checks both readers make on their tensor lists, written once. For them
 * a tensor is a name, a file (shard) and a byte range [begin, end) in it. */
typedef struct {
    const char *name;
    int shard;
    uint64_t begin, end;
    size_t index; /* the tensor's place in its reader's own list */
} tf_span;

/* Sort spans by shard and start, and find the first two whose byte ranges
 * overlap. Each tensor is compared with the furthest end so far in its
 * shard, not only its neighbour, so an empty tensor between two that overlap
 * cannot hide them. Returns whether two overlap, naming them in *a and *b. */
bool tf_spans_overlap(tf_span *spans, size_t n, const tf_span **a, const tf_span **b);

/* Sort spans by name (strcmp) for tf_spans_find; returns a span whose name
 * an earlier one also has (a name listed twice), or NULL. */
const tf_span *tf_spans_by_name(tf_span *spans, size_t n);

/* In spans sorted by tf_spans_by_name: the span named name, or NULL. */
const tf_span *tf_spans_find(const tf_span *spans, size_t n, const char *name);

typedef struct {
    const unsigned char *data;
    size_t size;
} tf_map;

/* Map a file read-only; QKV_ERR_IO naming the file on failure. */
qkv_status tf_map_open(const char *path, tf_map *m, qkv_error *err);
void tf_map_close(tf_map *m);

/* Give back the whole pages inside the mapped bytes [p, p + n) (madvise
 * MADV_DONTNEED): they leave the process's resident memory and are read
 * from the file again if touched. For maps made by tf_map_open only. */
void tf_map_release(const void *p, size_t n);

#endif
