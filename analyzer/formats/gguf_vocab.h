/* gguf_vocab.h — the token texts a GGUF file carries (the array of strings
 * tokenizer.ggml.tokens), for showing what generated tokens say. Decoding
 * only: no tokenizer, no merges. SentencePiece vocabularies mark a leading
 * space with U+2581 ("▁") and spell raw bytes as "<0xNN>"; gguf_vocab_text
 * undoes both. */
#ifndef QKV_GGUF_VOCAB_H
#define QKV_GGUF_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/formats/gguf.h"

typedef struct {
    size_t n;          /* tokens */
    const char **text; /* (n) pointers into the file's map, not NUL-terminated */
    uint32_t *len;     /* (n) bytes of each */
} gguf_vocab;

/* Read tokenizer.ggml.tokens of f; QKV_ERR_NOTFOUND when the key is absent,
 * QKV_ERR_INVALID when it is not an array of strings. The texts point into
 * f's map: keep f open while v is used. Caller frees with gguf_vocab_free. */
qkv_status gguf_vocab_read(const gguf_file *f, gguf_vocab *v, qkv_error *err);
void gguf_vocab_free(gguf_vocab *v); /* NULL allowed */

/* Append the text of token to buf (NUL-terminated, truncated to cap − 1
 * bytes; returns the bytes appended). A token outside the vocabulary
 * appends nothing. Bytes are appended as decoded: callers escape them. */
size_t gguf_vocab_text(const gguf_vocab *v, int token, char *buf, size_t cap);

#endif
