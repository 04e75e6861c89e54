#include "analyzer/formats/safetensors.h"
#include "analyzer/core/infile.h"
#include "analyzer/core/paths.h"
#include "analyzer/formats/json_strict.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *name;
    uint32_t bytes;
    tf_type type;
} dtypes[] = {
    {"F32", 4, TF_F32},
    {"F16", 2, TF_F16},
    {"BF16", 2, TF_BF16},
    {"F64", 8, TF_UNSUPPORTED},
    {"I64", 8, TF_UNSUPPORTED},
    {"I32", 4, TF_UNSUPPORTED},
    {"I16", 2, TF_UNSUPPORTED},
    {"I8", 1, TF_UNSUPPORTED},
    {"U8", 1, TF_UNSUPPORTED},
    {"BOOL", 1, TF_UNSUPPORTED},
    {"F8_E4M3", 1, TF_UNSUPPORTED},
    {"F8_E5M2", 1, TF_UNSUPPORTED},
    {"U16", 2, TF_UNSUPPORTED},
    {"U32", 4, TF_UNSUPPORTED},
    {"U64", 8, TF_UNSUPPORTED},
};

void st_close(st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->tensors && i < f->n_tensors; i++)
        free(f->tensors[i].name);
    free(f->tensors);
    free(f->by_name);
    for (int s = 0; s < f->n_shards; s++) {
        tf_map_close(&f->maps[s]);
        free(f->paths[s]);
    }
    memset(f, 0, sizeof *f);
}

/* Spans of every tensor (byte ranges in their shard's data section) for
 * the shared checks; caller frees. */
static tf_span *spans_of(const st_file *f)
{
    tf_span *sp = malloc((f->n_tensors ? f->n_tensors : 1) * sizeof *sp);
    for (size_t i = 0; sp && i < f->n_tensors; i++)
        sp[i] = (tf_span){f->tensors[i].name, f->tensors[i].shard, f->tensors[i].begin,
                          f->tensors[i].end, i};
    return sp;
}

/* One header entry e of shard `shard` (data_size bytes of data): its dtype,
 * shape and data_offsets, checked against each other and the data section,
 * into t. The caller counts t once this returns QKV_OK (t->name is owned). */
static qkv_status parse_entry(const cJSON *e, int shard, uint64_t data_size, const char *path,
                              st_tensor *t, qkv_error *err)
{
    memset(t, 0, sizeof *t);
    t->shard = shard;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsObject(e) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) ||
        cJSON_GetArraySize(off) != 2) {
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': tensor '%.100s' lacks dtype, shape or data_offsets", path,
                             e->string);
    }
    uint32_t esize = 0;
    t->type = TF_UNSUPPORTED;
    for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++)
        if (strcmp(dt->valuestring, dtypes[k].name) == 0) {
            esize = dtypes[k].bytes;
            t->type = dtypes[k].type;
        }
    if (esize == 0) {
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': tensor '%.100s' has unknown dtype '%.20s'", path, e->string,
                             dt->valuestring);
    }
    snprintf(t->dtype, sizeof t->dtype, "%s", dt->valuestring);
    t->n_dims = cJSON_GetArraySize(sh);
    if (t->n_dims > ST_DIMS_MAX) {
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': tensor '%.100s' has %d dimensions (at most "
                             "%d)",
                             path, e->string, t->n_dims, ST_DIMS_MAX);
    }
    uint64_t elems = 1;
    int bad = 0;
    for (int d = 0; d < t->n_dims; d++) {
        const cJSON *v = cJSON_GetArrayItem(sh, d);
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
            v->valuedouble != (double)(uint64_t)v->valuedouble) {
            bad = 1;
            break;
        }
        t->shape[d] = (uint64_t)v->valuedouble;
        if (__builtin_mul_overflow(elems, t->shape[d], &elems))
            bad = 2;
    }
    uint64_t bytes;
    if (bad || __builtin_mul_overflow(elems, esize, &bytes)) {
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%.100s': %s", path, e->string,
                             bad == 1 ? "shape is not a list of whole numbers"
                                      : "the size of its shape overflows 64 bits");
    }
    const cJSON *b = cJSON_GetArrayItem(off, 0), *en = cJSON_GetArrayItem(off, 1);
    if (!cJSON_IsNumber(b) || !cJSON_IsNumber(en) || b->valuedouble < 0 ||
        en->valuedouble < b->valuedouble || en->valuedouble > (double)data_size) {
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': tensor '%.100s' has data_offsets outside the data section "
                             "(%llu bytes)",
                             path, e->string, (unsigned long long)data_size);
    }
    if (b->valuedouble != floor(b->valuedouble) || en->valuedouble != floor(en->valuedouble)) {
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': tensor '%.100s' has data_offsets [%.17g, %.17g]: not whole "
                             "byte offsets",
                             path, e->string, b->valuedouble, en->valuedouble);
    }
    t->begin = (uint64_t)b->valuedouble;
    t->end = (uint64_t)en->valuedouble;
    if (t->end - t->begin != bytes) {
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': tensor '%.100s' spans %llu bytes but its shape and dtype need "
                             "%llu",
                             path, e->string, (unsigned long long)(t->end - t->begin),
                             (unsigned long long)bytes);
    }
    if (!(t->name = strdup(e->string))) {
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    return QKV_OK;
}

/* Parse one shard's header; append its tensors (only those in `only`, a
 * weight_map, when given). */
static qkv_status parse_shard(st_file *f, int shard, const cJSON *only, const char *index_name,
                              qkv_error *err)
{
    const char *path = f->paths[shard];
    qkv_status s = tf_map_open(path, &f->maps[shard], err);
    if (s != QKV_OK)
        return s;
    const tf_map *m = &f->maps[shard];
    if (m->size < 8)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s' is %zu bytes: too short for a safetensors "
                             "header length",
                             path, m->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | m->data[i];
    if (n > m->size - 8 || n > ST_HEADER_MAX)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': header length %llu runs past the end of the file (%zu bytes)%s",
                             path, (unsigned long long)n, m->size,
                             n > ST_HEADER_MAX ? " or exceeds 100 MiB" : "");
    const uint64_t data_size = m->size - 8 - n;
    f->data_off[shard] = 8 + n;
    cJSON *root;
    json_strict_error why;
    switch (json_strict_parse((const char *)m->data + 8, (size_t)n, &root, &why)) {
    case JSON_OK:
        break;
    case JSON_NOMEM:
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory parsing '%s'", path);
    case JSON_SYNTAX:
    case JSON_TRAILING:
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': the header is not a JSON object (error near byte %zu)", path,
                             8 + why.offset);
    case JSON_DUPLICATE:
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': the header names tensor '%.100s' twice",
                             path, why.key);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': the header is not a JSON object", path);
    }
    int count = cJSON_GetArraySize(root);
    st_tensor *grown = realloc(f->tensors, (f->n_tensors + (size_t)count) * sizeof *grown);
    if (!grown) {
        cJSON_Delete(root);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    f->tensors = grown;
    const cJSON *e;
    s = QKV_OK;
    cJSON_ArrayForEach(e, root)
    {
        if (strcmp(e->string, "__metadata__") == 0)
            continue;
        if (only) {
            const cJSON *where = cJSON_GetObjectItemCaseSensitive(only, e->string);
            if (!where || !cJSON_IsString(where) || strcmp(where->valuestring, index_name) != 0)
                continue;
        }
        s = parse_entry(e, shard, data_size, path, &f->tensors[f->n_tensors], err);
        if (s != QKV_OK)
            break;
        f->n_tensors++;
    }
    cJSON_Delete(root);
    return s;
}

static qkv_status add_path(st_file *f, const char *path, qkv_error *err)
{
    if (f->n_shards >= ST_SHARDS_MAX)
        return qkv_error_set(err, QKV_ERR_INVALID, "more than %d shards", ST_SHARDS_MAX);
    if (!(f->paths[f->n_shards] = strdup(path)))
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    f->n_shards++;
    return QKV_OK;
}

static qkv_status open_index(st_file *f, const char *index, qkv_error *err)
{
    FILE *fp;
    qkv_status os = infile_fopen(index, &fp, err);
    if (os != QKV_OK)
        return os;
    char *buf = malloc(ST_HEADER_MAX + 1);
    size_t n = buf ? fread(buf, 1, ST_HEADER_MAX + 1, fp) : 0;
    fclose(fp);
    if (!buf)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    cJSON *root = NULL;
    json_strict_error why = {JSON_OK, 0, ""};
    if (n <= ST_HEADER_MAX && json_strict_parse(buf, n, &root, &why) == JSON_NOMEM) {
        free(buf);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory parsing '%s'", index);
    }
    free(buf);
    if (why.problem == JSON_DUPLICATE)
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': key '%.100s' appears twice in one object",
                             index, why.key);
    if (why.problem == JSON_SYNTAX || why.problem == JSON_TRAILING)
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': not valid JSON (error near byte %zu)",
                             index, why.offset);
    const cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(root);
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s': no weight_map object", index);
    }
    char dir[QKV_PATH_BYTES];
    snprintf(dir, sizeof dir, "%s", index);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        dir[0] = '\0';
    qkv_status s = QKV_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, map)
    {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/') ||
            strcmp(e->valuestring, "..") == 0) {
            s = qkv_error_set(err, QKV_ERR_INVALID,
                              "'%s': tensor '%.100s' names a shard outside the model's directory",
                              index, e->string);
            break;
        }
        int known = 0;
        for (int k = 0; k < f->n_shards; k++)
            known |= strcmp(strrchr(f->paths[k], '/') ? strrchr(f->paths[k], '/') + 1 : f->paths[k],
                            e->valuestring) == 0;
        if (known)
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s%s", dir, e->valuestring);
        if ((s = add_path(f, path, err)) != QKV_OK)
            break;
        const char *name = e->valuestring;
        if ((s = parse_shard(f, f->n_shards - 1, map, name, err)) != QKV_OK)
            break;
    }
    cJSON_Delete(root);
    return s;
}

qkv_status st_open(const char *path, st_file *f, qkv_error *err)
{
    memset(f, 0, sizeof *f);
    struct stat st;
    if (stat(path, &st) != 0)
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    qkv_status s;
    char p[QKV_PATH_BYTES + QKV_NAME_BYTES];
    if (S_ISDIR(st.st_mode)) {
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
        if (stat(p, &st) == 0) {
            s = open_index(f, p, err);
        } else {
            snprintf(p, sizeof p, "%s/model.safetensors", path);
            s = add_path(f, p, err);
            if (s == QKV_OK)
                s = parse_shard(f, 0, NULL, NULL, err);
        }
    } else if (strlen(path) > 5 && strcmp(path + strlen(path) - 5, ".json") == 0) {
        s = open_index(f, path, err);
    } else {
        s = add_path(f, path, err);
        if (s == QKV_OK)
            s = parse_shard(f, 0, NULL, NULL, err);
    }
    if (s == QKV_OK) {
        /* No two tensors of a shard may overlap; lookups by name go through
         * an index (O(log n)), and a name given twice (in two shards) is
         * refused. */
        tf_span *sp = spans_of(f);
        const tf_span *x, *y;
        if (!sp || !(f->by_name = spans_of(f)))
            s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        else if (tf_spans_overlap(sp, f->n_tensors, &x, &y))
            s = qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensors '%.80s' and '%.80s' overlap",
                              f->paths[y->shard], x->name, y->name);
        else if ((x = tf_spans_by_name(f->by_name, f->n_tensors)))
            s = qkv_error_set(err, QKV_ERR_INVALID, "'%s': tensor '%.200s' is listed twice", path,
                              x->name);
        free(sp);
    }
    if (s != QKV_OK)
        st_close(f);
    return s;
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    const tf_span *t = tf_spans_find(f->by_name, f->n_tensors, name);
    return t ? &f->tensors[t->index] : NULL;
}

qkv_status st_read_rows(st_file *f, const st_tensor *t, uint64_t row0, uint64_t n_rows, float *out,
                        qkv_error *err)
{
    if (t->type == TF_UNSUPPORTED)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED,
                             "'%s': tensor '%s' has dtype %s, which qkvplan "
                             "does not convert (F32, F16, BF16)",
                             f->paths[t->shard], t->name, t->dtype);
    uint64_t rows = t->n_dims ? t->shape[0] : 1, cols = 1;
    for (int d = 1; d < t->n_dims; d++)
        cols *= t->shape[d];
    if (row0 > rows || n_rows > rows - row0)
        return qkv_error_set(err, QKV_ERR_RANGE, "tensor '%s': rows %llu..%llu outside its %llu",
                             t->name, (unsigned long long)row0, (unsigned long long)(row0 + n_rows),
                             (unsigned long long)rows);
    const uint64_t rb = tf_row_bytes(t->type, cols);
    const unsigned char *src =
        f->maps[t->shard].data + f->data_off[t->shard] + t->begin + row0 * rb;
    tf_to_f32(t->type, src, out, n_rows * cols);
    f->bytes_read += n_rows * rb;
    return QKV_OK;
}

qkv_status st_write(FILE *out, const st_out_tensor *ts, size_t n, int half, qkv_error *err)
{
    cJSON *root = cJSON_CreateObject();
    uint64_t off = 0;
    if (!root)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        uint64_t elems = 1;
        for (int d = 0; d < ts[i].n_dims; d++)
            elems *= ts[i].shape[d];
        cJSON *e = cJSON_AddObjectToObject(root, ts[i].name), *sh, *of;
        char num[32];
        if (!e || !cJSON_AddStringToObject(e, "dtype", half ? "F16" : "F32") ||
            !(sh = cJSON_AddArrayToObject(e, "shape")) ||
            !(of = cJSON_AddArrayToObject(e, "data_offsets"))) {
            cJSON_Delete(root);
            return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        }
        for (int d = 0; d < ts[i].n_dims; d++) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)ts[i].shape[d]);
            cJSON_AddItemToArray(sh, cJSON_CreateRaw(num));
        }
        snprintf(num, sizeof num, "%llu", (unsigned long long)off);
        cJSON_AddItemToArray(of, cJSON_CreateRaw(num));
        off += elems * (half ? 2 : 4);
        snprintf(num, sizeof num, "%llu", (unsigned long long)off);
        cJSON_AddItemToArray(of, cJSON_CreateRaw(num));
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    size_t len = strlen(text), padded = (len + 7) / 8 * 8; /* align the data to 8 bytes */
    unsigned char hdr[8];
    for (int i = 0; i < 8; i++)
        hdr[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(hdr, 1, 8, out) == 8 && fwrite(text, 1, len, out) == len;
    for (size_t i = len; ok && i < padded; i++)
        ok = fputc(' ', out) != EOF;
    cJSON_free(text);
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t elems = 1;
        for (int d = 0; d < ts[i].n_dims; d++)
            elems *= ts[i].shape[d];
        for (uint64_t k = 0; ok && k < elems; k++) {
            unsigned char b[4];
            if (half) {
                uint16_t h = tf_f32_to_f16(ts[i].data[k]);
                b[0] = (unsigned char)h;
                b[1] = (unsigned char)(h >> 8);
                ok = fwrite(b, 1, 2, out) == 2;
            } else {
                uint32_t x;
                memcpy(&x, &ts[i].data[k], 4);
                for (int j = 0; j < 4; j++)
                    b[j] = (unsigned char)(x >> (8 * j));
                ok = fwrite(b, 1, 4, out) == 4;
            }
        }
    }
    if (!ok)
        return qkv_error_set(err, QKV_ERR_IO, "write failed: %s", strerror(errno));
    return QKV_OK;
}
