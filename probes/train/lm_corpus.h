/* lm_corpus.h — a language-model corpus with a known floor: token sequences
 * sampled from a teacher model (the bundled stories260K, a 512-token
 * Llama), so that the teacher's own cross-entropy on the held-out tokens is
 * the best any student can reach.
 *
 * Sampling: every sequence starts with BOS (token 1, clamped to the
 * vocabulary) and continues with seq_len tokens drawn at temperature 1 from
 * softmax(logits) — the teacher's distribution, unmodified. Sequence i draws
 * from its own generator, seeded from (seed, i), and sequences are decoded
 * in fixed chunks of LM_CORPUS_CHUNK (one matrix product per layer and
 * chunk, a KV cache per sequence), spread over worker threads; the chunk
 * layout and the per-sequence generators do not depend on the thread
 * count, so the same seed and sizes give the same bytes.
 *
 * The last n_val sequences are the validation split; the teacher's mean
 * negative log-likelihood of every sampled token (nats, full context from
 * BOS) is recorded for both splits at sampling time.
 *
 * Cache file (little-endian): "QKVLMC01", u64 seed, u32 seq_len, u32
 * n_train, u32 n_val, u32 vocab, u64 teacher hash (FNV-1a of its weights),
 * f64 teacher train nll, f64 teacher val nll, u64 FNV-1a of the tokens, then
 * (n_train + n_val) x (seq_len + 1) u16 tokens. Written to a temporary file
 * in the cache folder and renamed into place; a file whose header or token
 * hash disagrees is regenerated.
 */
#ifndef QKV_LM_CORPUS_H
#define QKV_LM_CORPUS_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/core/qkv_error.h"
#include "probes/runtime/rt_model.h"

#define LM_CORPUS_CHUNK 32 /* sequences decoded together */
#define LM_CORPUS_BOS 1

typedef struct {
    uint64_t seed;
    int seq_len;        /* S: tokens sampled after BOS; a sequence holds S + 1 */
    int n_train, n_val; /* sequences */
    int threads;        /* sampling threads (does not change the result) */
} lm_corpus_spec;

typedef struct {
    lm_corpus_spec spec;
    int vocab;
    uint16_t *tokens; /* (n_train + n_val, S + 1), BOS first; validation last */
    uint64_t teacher_hash;
    double teacher_train_nll; /* nats per sampled token */
    double teacher_val_nll;
    bool from_cache;     /* read from the cache file, not sampled now */
    double seconds;      /* sampling time (0 when read) */
    double tokens_per_s; /* sampled tokens per second (0 when read) */
} lm_corpus;

/* Sample a corpus from teacher (causal, vocabulary <= 65536, S + 1 within
 * its positions). Caller frees with lm_corpus_free. */
qkv_status lm_corpus_sample(const rt_model *teacher, const lm_corpus_spec *s, lm_corpus *out,
                            qkv_error *err);

/* FNV-1a of the teacher's weights: the cache key's teacher part. */
uint64_t lm_corpus_teacher_hash(const rt_model *teacher);

/* The cache file's name for spec and teacher hash:
 * "lm-corpus-s<seed>-<n_train>+<n_val>x<S>-<hash>.bin". */
void lm_corpus_file_name(const lm_corpus_spec *s, uint64_t teacher_hash, char *buf, size_t bytes);

/* Write c to path atomically (temporary file beside it, then rename). */
qkv_status lm_corpus_write(const char *path, const lm_corpus *c, qkv_error *err);

/* Read path; QKV_ERR_INVALID when it is not a corpus for spec and hash (or
 * its tokens do not match their hash), QKV_ERR_IO when unreadable. */
qkv_status lm_corpus_read(const char *path, const lm_corpus_spec *s, uint64_t teacher_hash,
                          lm_corpus *out, qkv_error *err);

/* The cache in one call: read dir/<file name> when it is a valid corpus for
 * spec, else sample and write it there (dir is created, one level). */
qkv_status lm_corpus_get(const rt_model *teacher, const char *dir, const lm_corpus_spec *s,
                         lm_corpus *out, qkv_error *err);

void lm_corpus_free(lm_corpus *c); /* NULL allowed */

/* Sequence i (0-based; validation sequences follow the training ones). */
const uint16_t *lm_corpus_seq(const lm_corpus *c, int i);

/* B training windows of T tokens (T <= S) at random sequences and offsets
 * from rng: inputs (B, T) and the next tokens as targets (B, T). */
void lm_corpus_batch(const lm_corpus *c, rt_rng *rng, int B, int T, int *inputs, int *targets);

#endif
