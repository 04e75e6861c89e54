#include "analyzer/formats/gguf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ggml types: block elements and bytes (ggml.c type traits), and which convert. */
static const struct {
    uint32_t id, blk, bytes;
    tf_type type;
    const char *name;
} ggml_types[] = {
    {0, 1, 4, TF_F32, "F32"},
    {1, 1, 2, TF_F16, "F16"},
    {2, 32, 18, TF_Q4_0, "Q4_0"},
    {3, 32, 20, TF_UNSUPPORTED, "Q4_1"},
    {6, 32, 22, TF_UNSUPPORTED, "Q5_0"},
    {7, 32, 24, TF_UNSUPPORTED, "Q5_1"},
    {8, 32, 34, TF_Q8_0, "Q8_0"},
    {9, 32, 36, TF_UNSUPPORTED, "Q8_1"},
    {10, 256, 84, TF_UNSUPPORTED, "Q2_K"},
    {11, 256, 110, TF_UNSUPPORTED, "Q3_K"},
    {12, 256, 144, TF_Q4_K, "Q4_K"},
    {13, 256, 176, TF_UNSUPPORTED, "Q5_K"},
    {14, 256, 210, TF_Q6_K, "Q6_K"},
    {15, 256, 292, TF_UNSUPPORTED, "Q8_K"},
    {24, 1, 1, TF_UNSUPPORTED, "I8"},
    {25, 1, 2, TF_UNSUPPORTED, "I16"},
    {26, 1, 4, TF_UNSUPPORTED, "I32"},
    {27, 1, 8, TF_UNSUPPORTED, "I64"},
    {28, 1, 8, TF_UNSUPPORTED, "F64"},
    {30, 1, 2, TF_BF16, "BF16"},
};

const char *gguf_type_name(uint32_t ggml_type)
{
    for (size_t k = 0; k < sizeof ggml_types / sizeof ggml_types[0]; k++)
        if (ggml_types[k].id == ggml_type)
            return ggml_types[k].name;
    return NULL;
}

static const uint32_t scalar_size[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

typedef struct {
    const unsigned char *p, *end;
    const char *path;
    qkv_error *err;
} cursor;

static qkv_status need(cursor *c, uint64_t n, const char *what)
{
    if ((uint64_t)(c->end - c->p) < n)
        return qkv_error_set(c->err, QKV_ERR_INVALID,
                             "'%s': %s needs %llu bytes but the file has %llu left", c->path, what,
                             (unsigned long long)n, (unsigned long long)(c->end - c->p));
    return QKV_OK;
}

static uint64_t rd(cursor *c, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | c->p[i];
    c->p += n;
    return v;
}

static qkv_status rd_str(cursor *c, const char **s, uint64_t *len, const char *what)
{
    qkv_status st = need(c, 8, what);
    if (st)
        return st;
    *len = rd(c, 8);
    if ((st = need(c, *len, what)))
        return st;
    *s = (const char *)c->p;
    c->p += *len;
    return QKV_OK;
}

/* Skip (validating) one value of type t, depth levels of arrays deep. */
static qkv_status skip_value(cursor *c, uint32_t t, int depth, const char *key)
{
    char what[160];
    snprintf(what, sizeof what, "metadata '%.100s'", key);
    if (t >= GGUF_TYPE_COUNT)
        return qkv_error_set(c->err, QKV_ERR_INVALID, "'%s': %s has unknown type %u", c->path, what,
                             t);
    if (t == GGUF_STRING) {
        const char *s;
        uint64_t n;
        return rd_str(c, &s, &n, what);
    }
    if (t == GGUF_ARRAY) {
        if (depth >= GGUF_DEPTH_MAX)
            return qkv_error_set(c->err, QKV_ERR_INVALID, "'%s': %s nests arrays deeper than %d",
                                 c->path, what, GGUF_DEPTH_MAX);
        qkv_status st = need(c, 12, what);
        if (st)
            return st;
        uint32_t et = (uint32_t)rd(c, 4);
        uint64_t n = rd(c, 8);
        if (et < GGUF_TYPE_COUNT && scalar_size[et]) {
            if (n > (uint64_t)(c->end - c->p) / scalar_size[et])
                return qkv_error_set(c->err, QKV_ERR_INVALID,
                                     "'%s': %s claims %llu elements, more than the file holds",
                                     c->path, what, (unsigned long long)n);
            c->p += n * scalar_size[et];
            return QKV_OK;
        }
        /* strings and arrays take at least 8 bytes each */
        if (n > (uint64_t)(c->end - c->p) / 8)
            return qkv_error_set(c->err, QKV_ERR_INVALID,
                                 "'%s': %s claims %llu elements, more than the file holds", c->path,
                                 what, (unsigned long long)n);
        for (uint64_t i = 0; i < n; i++)
            if ((st = skip_value(c, et, depth + 1, key)))
                return st;
        return QKV_OK;
    }
    qkv_status st = need(c, scalar_size[t], what);
    if (!st)
        c->p += scalar_size[t];
    return st;
}

void gguf_close(gguf_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->tensors && i < f->n_tensors; i++)
        free(f->tensors[i].name);
    free(f->tensors);
    free(f->by_name);
    free(f->kv);
    free(f->path);
    tf_map_close(&f->map);
    memset(f, 0, sizeof *f);
}

/* Spans of every tensor (byte ranges in the data section) for the shared
 * checks; caller frees. */
static tf_span *spans_of(const gguf_file *f)
{
    tf_span *sp = malloc((f->n_tensors ? f->n_tensors : 1) * sizeof *sp);
    for (size_t i = 0; sp && i < f->n_tensors; i++)
        sp[i] = (tf_span){f->tensors[i].name, 0, f->tensors[i].offset,
                          f->tensors[i].offset + f->tensors[i].bytes, i};
    return sp;
}

/* One metadata entry at the cursor: its key, type and value (strings and
 * arrays point into the map); general.alignment is checked and taken. */
static qkv_status read_kv(cursor *c, gguf_file *f, gguf_kv *kv)
{
    const char *path = c->path;
    qkv_error *err = c->err;
    qkv_status s;
    if ((s = rd_str(c, &kv->key, &kv->key_len, "a metadata key")) ||
        (s = need(c, 4, "a metadata type")))
        return s;
    kv->type = (uint32_t)rd(c, 4);
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(kv->key_len < 120 ? kv->key_len : 120), kv->key);
    const unsigned char *at = c->p;
    if ((s = skip_value(c, kv->type, 0, key)))
        return s;
    cursor v = {at, c->p, path, err};
    switch (kv->type) {
    case GGUF_U8:
    case GGUF_U16:
    case GGUF_U32:
    case GGUF_U64:
    case GGUF_BOOL:
        kv->u = rd(&v, (int)scalar_size[kv->type]);
        break;
    case GGUF_I8:
    case GGUF_I16:
    case GGUF_I32:
    case GGUF_I64: {
        int n = (int)scalar_size[kv->type];
        uint64_t raw = rd(&v, n);
        if (n < 8 && (raw >> (8 * n - 1)) & 1)
            raw |= ~(uint64_t)0 << (8 * n);
        kv->i = (int64_t)raw;
        kv->u = raw;
        break;
    }
    case GGUF_F32: {
        uint32_t x = (uint32_t)rd(&v, 4);
        float fl;
        memcpy(&fl, &x, 4);
        kv->f = fl;
        break;
    }
    case GGUF_F64: {
        uint64_t x = rd(&v, 8);
        memcpy(&kv->f, &x, 8);
        break;
    }
    case GGUF_STRING:
        kv->str_len = rd(&v, 8);
        kv->str = (const char *)v.p;
        break;
    case GGUF_ARRAY:
        kv->arr_type = (uint32_t)rd(&v, 4);
        kv->arr_n = rd(&v, 8);
        kv->arr = v.p;
        kv->arr_end = v.end;
        break;
    }
    if (kv->key_len == 17 && memcmp(kv->key, "general.alignment", 17) == 0) {
        if (kv->type != GGUF_U32 || kv->u == 0 || (kv->u & (kv->u - 1)) || kv->u > 65536) {
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "'%s': general.alignment must be a power of two (u32) up to 65536",
                                 path);
        }
        f->alignment = kv->u;
    }
    return QKV_OK;
}

/* One tensor info at the cursor: name, dimensions (innermost first), ggml
 * type and offset; its byte size from the type's block layout, refusing
 * overflow and rows that are not whole blocks. f->n_tensors counts it once
 * its name is owned (gguf_close frees it). */
static qkv_status read_tensor_info(cursor *c, gguf_file *f, gguf_tensor *t)
{
    const char *path = c->path;
    qkv_error *err = c->err;
    qkv_status s;
    const char *name;
    uint64_t len;
    if ((s = rd_str(c, &name, &len, "a tensor name")) || (s = need(c, 4, "a tensor info")))
        return s;
    if (len > 1024) {
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': a tensor name of %llu bytes", path,
                             (unsigned long long)len);
    }
    if (!(t->name = strndup(name, len))) {
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    f->n_tensors++;
    t->n_dims = (uint32_t)rd(c, 4);
    if (t->n_dims == 0 || t->n_dims > GGUF_DIMS_MAX) {
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%s' has %u dimensions (1 to %d)",
                             path, t->name, t->n_dims, GGUF_DIMS_MAX);
    }
    if ((s = need(c, 8 * t->n_dims + 12, "a tensor info")))
        return s;
    uint64_t elems = 1;
    int over = 0;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        t->ne[d] = rd(c, 8);
        over |= __builtin_mul_overflow(elems, t->ne[d], &elems);
    }
    t->ggml_type = (uint32_t)rd(c, 4);
    t->offset = rd(c, 8);
    size_t k;
    for (k = 0; k < sizeof ggml_types / sizeof ggml_types[0]; k++)
        if (ggml_types[k].id == t->ggml_type)
            break;
    if (k == sizeof ggml_types / sizeof ggml_types[0]) {
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%s' has unknown ggml type %u",
                             path, t->name, t->ggml_type);
    }
    t->type = ggml_types[k].type;
    if (over || t->ne[0] % ggml_types[k].blk != 0 ||
        __builtin_mul_overflow(elems / ggml_types[k].blk, (uint64_t)ggml_types[k].bytes,
                               &t->bytes)) {
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%s': %s", path, t->name,
                             over ? "the product of its dimensions overflows 64 bits"
                                  : "its row width is not a whole number of blocks, or its size "
                                    "overflows");
    }
    return QKV_OK;
}

/* The data section starts at the next multiple of the alignment; every
 * tensor must lie inside it, aligned. */
static qkv_status check_data_section(gguf_file *f, const cursor *c)
{
    f->data_off = (uint64_t)(c->p - f->map.data);
    f->data_off = (f->data_off + f->alignment - 1) / f->alignment * f->alignment;
    for (size_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        if (t->offset % f->alignment != 0 || f->data_off > f->map.size ||
            t->offset > f->map.size - f->data_off ||
            t->bytes > f->map.size - f->data_off - t->offset)
            return qkv_error_set(c->err, QKV_ERR_INVALID,
                                 "'%s': tensor '%s' (%llu bytes at offset %llu) lies outside the "
                                 "data section or is misaligned (file %zu bytes)",
                                 c->path, t->name, (unsigned long long)t->bytes,
                                 (unsigned long long)t->offset, f->map.size);
    }
    return QKV_OK;
}

qkv_status gguf_open(const char *path, gguf_file *f, qkv_error *err)
{
    memset(f, 0, sizeof *f);
    qkv_status s = tf_map_open(path, &f->map, err);
    if (s != QKV_OK)
        return s;
    if (!(f->path = strdup(path))) {
        gguf_close(f);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    cursor c = {f->map.data, f->map.data + f->map.size, path, err};
    if ((s = need(&c, 24, "the GGUF header")))
        goto fail;
    if (memcmp(c.p, "GGUF", 4) != 0) {
        s = qkv_error_set(err, QKV_ERR_INVALID, "'%s' is not a GGUF file (bad magic)", path);
        goto fail;
    }
    c.p += 4;
    f->version = (uint32_t)rd(&c, 4);
    if (f->version != 2 && f->version != 3) {
        s = qkv_error_set(err, QKV_ERR_UNSUPPORTED, "'%s': GGUF version %u (qkvplan reads 2 and 3)",
                          path, f->version);
        goto fail;
    }
    const uint64_t n_t = rd(&c, 8), n_kv = rd(&c, 8);
    /* each metadata entry takes at least 13 bytes, each tensor info 24 */
    if (n_kv > (uint64_t)(c.end - c.p) / 13 || n_t > (uint64_t)(c.end - c.p) / 24) {
        s = qkv_error_set(err, QKV_ERR_INVALID,
                          "'%s' claims %llu metadata entries and %llu tensors, more than its %zu "
                          "bytes can hold",
                          path, (unsigned long long)n_kv, (unsigned long long)n_t, f->map.size);
        goto fail;
    }
    f->kv = calloc(n_kv ? n_kv : 1, sizeof *f->kv);
    f->tensors = calloc(n_t ? n_t : 1, sizeof *f->tensors);
    if (!f->kv || !f->tensors) {
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto fail;
    }
    f->alignment = 32;
    for (uint64_t i = 0; i < n_kv; i++, f->n_kv++)
        if ((s = read_kv(&c, f, &f->kv[i])) != QKV_OK)
            goto fail;
    for (uint64_t i = 0; i < n_t; i++)
        if ((s = read_tensor_info(&c, f, &f->tensors[i])) != QKV_OK)
            goto fail;
    if ((s = check_data_section(f, &c)) != QKV_OK)
        goto fail;
    /* No two tensors may overlap; lookups by name go through an index, so
     * they are O(log n) however many tensor infos a file lists, and a name
     * listed twice is refused. */
    tf_span *sp = spans_of(f);
    const tf_span *x, *y;
    if (!sp || !(f->by_name = spans_of(f))) {
        free(sp);
        s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        goto fail;
    }
    const bool overlap = tf_spans_overlap(sp, f->n_tensors, &x, &y);
    if (overlap)
        s = qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensors '%s' and '%s' overlap", path,
                          x->name, y->name);
    free(sp);
    if (overlap)
        goto fail;
    if ((x = tf_spans_by_name(f->by_name, f->n_tensors))) {
        s = qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%.200s' is listed twice", path,
                          x->name);
        goto fail;
    }
    return QKV_OK;
fail:
    gguf_close(f);
    return s;
}

const gguf_kv *gguf_get(const gguf_file *f, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < f->n_kv; i++)
        if (f->kv[i].key_len == n && memcmp(f->kv[i].key, key, n) == 0)
            return &f->kv[i];
    return NULL;
}

bool gguf_get_uint(const gguf_file *f, const char *key, uint64_t *v)
{
    const gguf_kv *kv = gguf_get(f, key);
    if (!kv || kv->type == GGUF_F32 || kv->type == GGUF_F64 || kv->type == GGUF_STRING ||
        kv->type == GGUF_ARRAY || kv->type == GGUF_BOOL)
        return false;
    if ((kv->type == GGUF_I8 || kv->type == GGUF_I16 || kv->type == GGUF_I32 ||
         kv->type == GGUF_I64) &&
        kv->i < 0)
        return false;
    *v = kv->u;
    return true;
}

bool gguf_get_str(const gguf_file *f, const char *key, char *buf, size_t n)
{
    const gguf_kv *kv = gguf_get(f, key);
    if (!kv || kv->type != GGUF_STRING || n == 0)
        return false;
    size_t len = kv->str_len < n - 1 ? (size_t)kv->str_len : n - 1;
    memcpy(buf, kv->str, len);
    buf[len] = '\0';
    return true;
}

const gguf_tensor *gguf_find(const gguf_file *f, const char *name)
{
    const tf_span *t = tf_spans_find(f->by_name, f->n_tensors, name);
    return t ? &f->tensors[t->index] : NULL;
}

qkv_status gguf_read_rows(gguf_file *f, const gguf_tensor *t, uint64_t row0, uint64_t n, float *out,
                          qkv_error *err)
{
    if (t->type == TF_UNSUPPORTED)
        return qkv_error_set(
            err, QKV_ERR_UNSUPPORTED,
            "'%s': tensor '%s' has ggml type %u, which qkvplan does not dequantise "
            "(F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)",
            f->path, t->name, t->ggml_type);
    uint64_t rows = 1;
    for (uint32_t d = 1; d < t->n_dims; d++)
        rows *= t->ne[d];
    if (row0 > rows || n > rows - row0)
        return qkv_error_set(err, QKV_ERR_RANGE, "tensor '%s': rows outside its %llu", t->name,
                             (unsigned long long)rows);
    const uint64_t rb = tf_row_bytes(t->type, t->ne[0]);
    tf_to_f32(t->type, f->map.data + f->data_off + t->offset + row0 * rb, out, n * t->ne[0]);
    f->bytes_read += n * rb;
    return QKV_OK;
}

static int put(FILE *o, uint64_t v, int n)
{
    unsigned char b[8];
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return fwrite(b, 1, (size_t)n, o) == (size_t)n;
}

static int put_str(FILE *o, const char *s)
{
    size_t n = strlen(s);
    return put(o, n, 8) && fwrite(s, 1, n, o) == n;
}

qkv_status gguf_write(FILE *out, const gguf_out_kv *kv, size_t n_kv, const gguf_out_tensor *ts,
                      size_t n_ts, int half, qkv_error *err)
{
    const uint64_t align = 32;
    int ok =
        fwrite("GGUF", 1, 4, out) == 4 && put(out, 3, 4) && put(out, n_ts, 8) && put(out, n_kv, 8);
    long pos = 24;
    for (size_t i = 0; ok && i < n_kv; i++) {
        ok = put_str(out, kv[i].key) && put(out, kv[i].type, 4);
        pos += 8 + (long)strlen(kv[i].key) + 4;
        if (kv[i].type == GGUF_STRING) {
            ok = ok && put_str(out, kv[i].str);
            pos += 8 + (long)strlen(kv[i].str);
        } else if (kv[i].type == GGUF_ARRAY) {
            ok = ok && put(out, kv[i].arr_type, 4) && put(out, kv[i].arr_n, 8);
            pos += 12;
            for (uint64_t k = 0; ok && k < kv[i].arr_n; k++) {
                if (kv[i].arr_type == GGUF_STRING) {
                    ok = put_str(out, kv[i].arr_strs[k]);
                    pos += 8 + (long)strlen(kv[i].arr_strs[k]);
                } else {
                    uint32_t x;
                    if (kv[i].arr_type == GGUF_F32)
                        memcpy(&x, &kv[i].arr_f32[k], 4);
                    else
                        memcpy(&x, &kv[i].arr_i32[k], 4);
                    ok = put(out, x, 4);
                    pos += 4;
                }
            }
        } else if (kv[i].type == GGUF_U32) {
            ok = ok && put(out, kv[i].u32, 4);
            pos += 4;
        } else {
            uint32_t x;
            memcpy(&x, &kv[i].f32, 4);
            ok = ok && put(out, x, 4);
            pos += 4;
        }
    }
    uint64_t off = 0;
    for (size_t i = 0; ok && i < n_ts; i++) {
        uint64_t elems = 1;
        ok = put_str(out, ts[i].name) && put(out, ts[i].n_dims, 4);
        pos += 8 + (long)strlen(ts[i].name) + 4;
        for (uint32_t d = 0; ok && d < ts[i].n_dims; d++) {
            ok = put(out, ts[i].ne[d], 8);
            elems *= ts[i].ne[d];
            pos += 8;
        }
        const int f16 = half && ts[i].n_dims >= 2;
        ok = ok && put(out, f16 ? 1 : 0, 4) && put(out, off, 8);
        pos += 12;
        off += (elems * (f16 ? 2 : 4) + align - 1) / align * align;
    }
    while (ok && pos % (long)align) {
        ok = fputc(0, out) != EOF;
        pos++;
    }
    for (size_t i = 0; ok && i < n_ts; i++) {
        uint64_t elems = 1;
        for (uint32_t d = 0; d < ts[i].n_dims; d++)
            elems *= ts[i].ne[d];
        const int f16 = half && ts[i].n_dims >= 2;
        for (uint64_t k = 0; ok && k < elems; k++) {
            if (f16) {
                ok = put(out, tf_f32_to_f16(ts[i].data[k]), 2);
            } else {
                uint32_t x;
                memcpy(&x, &ts[i].data[k], 4);
                ok = put(out, x, 4);
            }
        }
        uint64_t bytes = elems * (f16 ? 2 : 4);
        for (uint64_t k = bytes; ok && k % align; k++)
            ok = fputc(0, out) != EOF;
    }
    if (!ok)
        return qkv_error_set(err, QKV_ERR_IO, "write failed: %s", strerror(errno));
    return QKV_OK;
}
