/* variant.h — attention variants: projection sharing x head sharing.
 *
 * Projection sharing, in the notation of "Do Transformers Need Three
 * Projections?" (Kayyam, Madan Gopal, Lewis, 2026, arXiv 2606.04032):
 *
 *   QKV    three projections; the cache holds K and V.
 *   Q-K=V  keys and values share one projection (v = k); the cache holds one
 *          tensor, half of QKV's.
 *   Q=K-V  queries and keys share (q = k); the cache still holds K and V, and
 *          scores are symmetric before the mask.
 *   Q=K=V  one projection for all three; one cached tensor.
 *
 * Head sharing: MHA (KV heads = query heads), GQA-g (g KV heads; the paper's
 * GQA-4 has 4), MQA (one KV head). Q-K=V combines with GQA/MQA (fewer K heads,
 * V = K, broadcast to the query heads); the Q=K variants need one key head per
 * query head, and K=V needs equal key and value head widths.
 *
 * A variant's label reads like the paper's: "Q-K=V+GQA-4", "QKV+MHA".
 */
#ifndef QKV_VARIANT_H
#define QKV_VARIANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/model.h"
#include "analyzer/core/qkv_error.h"

typedef enum {
    SHARE_QKV, /* QKV   */
    SHARE_KV,  /* Q-K=V */
    SHARE_QK,  /* Q=K-V */
    SHARE_ALL, /* Q=K=V */
    SHARE_COUNT
} variant_share;

typedef struct {
    variant_share share;
    uint64_t kv_heads; /* KVH of this variant */
    bool mla;          /* the model's own MLA latent cache (only as built) */
    bool as_built;     /* this is the model as published */
} variant;

#define VARIANT_LABEL_BYTES 48
/* Most rows one model's plan can hold: 4 sharings x every divisor of NH is
 * bounded by the option parser; the default grid has at most 11. */
#define VARIANT_MAX 64

/* "QKV", "Q-K=V", "Q=K-V", "Q=K=V". */
const char *variant_share_name(variant_share s);

/* Parse a sharing name, case-insensitive, or an alias: none = QKV, kv = Q-K=V,
 * qk = Q=K-V, all = Q=K=V. QKV_ERR_INVALID if unknown. */
qkv_status variant_share_parse(const char *s, variant_share *out);

/* Tensors cached per KV head and token: 2 (QKV, Q=K-V) or 1 (Q-K=V, Q=K=V). */
int variant_cached_tensors(variant_share s);

/* Parse a head-sharing spec against a model with n_heads query heads:
 * "mha" (= n_heads), "mqa" (= 1), "gqa-N" or "N" (N KV heads). N must divide
 * n_heads. A spec that is not of this form gives QKV_ERR_PARSE; a count that
 * does not divide n_heads QKV_ERR_INVALID with a message naming the valid counts. */
qkv_status variant_parse_kv_heads(const char *s, uint64_t n_heads, uint64_t *kv_heads,
                                  qkv_error *err);

/* "MHA", "MQA" or "GQA-N" for kv_heads of n_heads. */
void variant_heads_label(uint64_t kv_heads, uint64_t n_heads, char *buf, size_t buf_bytes);

/* The variant's label, e.g. "Q-K=V+MQA" or "MLA". */
void variant_label(const variant *v, uint64_t n_heads, char *buf, size_t buf_bytes);

/* Whether v can be built on model m; QKV_ERR_INVALID with the reason if not. */
qkv_status variant_check(const variant *v, const model_shape *m, qkv_error *err);

/* The default grid for m: MHA x all four sharings; GQA-8, GQA-4, MQA (where
 * they divide NH and differ from MHA) x {QKV, Q-K=V}; and the model as built,
 * marking the grid row that equals it or adding it. Invalid combinations are
 * left out. Writes at most max rows; returns the count. */
size_t variant_default_grid(const model_shape *m, variant *out, size_t max);

/* The model as built: QKV with the model's own KV heads, or MLA. */
variant variant_as_built(const model_shape *m);

/* The variants a request asks for on model m: every listed sharing (all four
 * when none is listed) with every listed KV-head count (the model's heads
 * when none is), duplicates dropped, the model's own configuration marked
 * as built. Items are the list entries as given ("Q-K=V", "kv", "mqa",
 * "gqa-4", "8"). A KV-head count the model cannot take is an error, or, when
 * lenient, skipped with a note in notes[0..*n_notes) (each note_bytes, at most
 * max_notes). QKV_ERR_INVALID or QKV_ERR_PARSE with the item named. */
qkv_status variant_list(const model_shape *m, char *const *shares, size_t n_shares,
                        char *const *kv_heads, size_t n_kv_heads, bool lenient, variant *out,
                        size_t max, size_t *n_out, char *notes, size_t note_bytes, size_t max_notes,
                        size_t *n_notes, qkv_error *err);

#endif
