#include "analyzer/formats/gguf_vocab.h"

#include <stdlib.h>
#include <string.h>

qkv_status gguf_vocab_read(const gguf_file *f, gguf_vocab *v, qkv_error *err)
{
    memset(v, 0, sizeof *v);
    const gguf_kv *kv = gguf_get(f, "tokenizer.ggml.tokens");
    if (!kv)
        return qkv_error_set(err, QKV_ERR_NOTFOUND, "'%s' carries no vocabulary", f->path);
    if (kv->type != GGUF_ARRAY || kv->arr_type != GGUF_STRING || kv->arr_n > SIZE_MAX / 8)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': metadata tokenizer.ggml.tokens is not an array of strings",
                             f->path);
    v->text = malloc((kv->arr_n ? kv->arr_n : 1) * sizeof *v->text);
    v->len = malloc((kv->arr_n ? kv->arr_n : 1) * sizeof *v->len);
    if (!v->text || !v->len) {
        gguf_vocab_free(v);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for %llu token texts",
                             (unsigned long long)kv->arr_n);
    }
    /* the reader validated every length; check again against the array's end */
    const unsigned char *p = kv->arr;
    for (uint64_t i = 0; i < kv->arr_n; i++) {
        uint64_t n = 0;
        if (kv->arr_end - p < 8)
            goto bad;
        for (int b = 0; b < 8; b++)
            n |= (uint64_t)p[b] << (8 * b);
        p += 8;
        if (n > (uint64_t)(kv->arr_end - p) || n > UINT32_MAX)
            goto bad;
        v->text[i] = (const char *)p;
        v->len[i] = (uint32_t)n;
        p += n;
    }
    v->n = (size_t)kv->arr_n;
    return QKV_OK;
bad:
    gguf_vocab_free(v);
    return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tokenizer.ggml.tokens runs past its end",
                         f->path);
}

void gguf_vocab_free(gguf_vocab *v)
{
    if (!v)
        return;
    free(v->text);
    free(v->len);
    memset(v, 0, sizeof *v);
}

static int hex(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

size_t gguf_vocab_text(const gguf_vocab *v, int token, char *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t used = strlen(buf), start = used;
    if (token < 0 || (size_t)token >= v->n)
        return 0;
    const char *t = v->text[token];
    const size_t n = v->len[token];
    /* <0xNN>: one raw byte */
    if (n == 6 && t[0] == '<' && t[1] == '0' && t[2] == 'x' && t[5] == '>' && hex(t[3]) >= 0 &&
        hex(t[4]) >= 0) {
        if (used + 1 < cap)
            buf[used++] = (char)(hex(t[3]) * 16 + hex(t[4]));
        buf[used] = '\0';
        return used - start;
    }
    for (size_t i = 0; i < n && used + 1 < cap; i++) {
        if (i + 2 < n && (unsigned char)t[i] == 0xE2 && (unsigned char)t[i + 1] == 0x96 &&
            (unsigned char)t[i + 2] == 0x81) { /* U+2581 */
            buf[used++] = ' ';
            i += 2;
        } else {
            buf[used++] = t[i];
        }
    }
    buf[used] = '\0';
    return used - start;
}
