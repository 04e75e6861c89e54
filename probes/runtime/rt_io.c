#include "probes/runtime/rt_io.h"
#include "analyzer/core/infile.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#define HEADER_I32 13
#define HEADER_BYTES (8 + 4 + 4 * HEADER_I32 + 4 * 3 + 8)

static void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

qkv_status rt_model_write(FILE *f, const rt_model *m, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    unsigned char h[HEADER_BYTES], *p = h + 12;
    memcpy(h, RT_IO_MAGIC, 8);
    /* version 1 knows no learned 2D term; its pos2d flag 1 is the ramp */
    const bool v2 = c->pos2d == RT_POS2D_CONV || c->pos2d == RT_POS2D_REL;
    put32(h + 8, v2 ? 2 : 1);
    const int32_t ints[HEADER_I32] = {(int32_t)c->family,
                                      c->n_layers,
                                      c->d_model,
                                      c->n_heads,
                                      c->n_kv_heads,
                                      c->head_dim,
                                      c->d_ff,
                                      c->vocab,
                                      c->max_seq,
                                      (int32_t)c->share,
                                      c->causal,
                                      v2 ? (int32_t)c->pos2d : c->pos2d != RT_POS2D_NONE,
                                      c->tied};
    for (int i = 0; i < HEADER_I32; i++, p += 4)
        put32(p, (uint32_t)ints[i]);
    const float fl[3] = {c->pos2d_scale, c->norm_eps, c->rope_theta};
    for (int i = 0; i < 3; i++, p += 4) {
        uint32_t u;
        memcpy(&u, &fl[i], 4);
        put32(p, u);
    }
    uint64_t n = m->n_params;
    put32(p, (uint32_t)n);
    put32(p + 4, (uint32_t)(n >> 32));
    if (fwrite(h, 1, sizeof h, f) != sizeof h ||
        fwrite(m->params, sizeof(float), m->n_params, f) != m->n_params)
        return qkv_error_set(err, QKV_ERR_IO, "write failed: %s", strerror(errno));
    return QKV_OK;
}

bool rt_model_is_qkvplan(const char *path)
{
    FILE *f = NULL;
    char magic[8];
    bool yes = infile_fopen(path, &f, NULL) == QKV_OK && fread(magic, 1, 8, f) == 8 &&
               memcmp(magic, RT_IO_MAGIC, 8) == 0;
    if (f)
        fclose(f);
    return yes;
}

qkv_status rt_model_load(const char *path, rt_model *m, qkv_error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f;
    qkv_status s = infile_fopen(path, &f, err);
    if (s != QKV_OK)
        return s;
    unsigned char h[HEADER_BYTES];
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || fread(h, 1, sizeof h, f) != sizeof h ||
        memcmp(h, RT_IO_MAGIC, 8) != 0) {
        s = qkv_error_set(err, QKV_ERR_INVALID, "'%s' is not a qkvplan model file", path);
        goto out;
    }
    const uint32_t version = get32(h + 8);
    if (version != 1 && version != 2) {
        s = qkv_error_set(err, QKV_ERR_UNSUPPORTED, "'%s': model format version %u is not 1 or 2",
                          path, version);
        goto out;
    }
    const unsigned char *p = h + 12;
    int32_t v[HEADER_I32];
    for (int i = 0; i < HEADER_I32; i++, p += 4)
        v[i] = (int32_t)get32(p);
    float fl[3];
    for (int i = 0; i < 3; i++, p += 4) {
        uint32_t u = get32(p);
        memcpy(&fl[i], &u, 4);
    }
    const uint64_t n = (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
    if (v[0] < 0 || v[0] > 1 || v[9] < 0 || v[9] >= SHARE_COUNT || v[10] < 0 || v[10] > 1 ||
        v[11] < 0 || v[11] > (version == 1 ? 1 : RT_POS2D_FORM_COUNT - 1) || v[12] < 0 ||
        v[12] > 1) {
        s = qkv_error_set(err, QKV_ERR_INVALID, "'%s': configuration flags out of range", path);
        goto out;
    }
    rt_config c = {.family = (rt_family)v[0],
                   .n_layers = v[1],
                   .d_model = v[2],
                   .n_heads = v[3],
                   .n_kv_heads = v[4],
                   .head_dim = v[5],
                   .d_ff = v[6],
                   .vocab = v[7],
                   .max_seq = v[8],
                   .share = (variant_share)v[9],
                   .causal = v[10],
                   .pos2d = version == 1 && v[11] ? RT_POS2D_RAMP : (rt_pos2d_form)v[11],
                   .tied = v[12],
                   .pos2d_scale = fl[0],
                   .norm_eps = fl[1],
                   .rope_theta = fl[2]};
    size_t want;
    qkv_error e2;
    if ((s = rt_param_count(&c, &want, &e2)) != QKV_OK) {
        s = qkv_error_set(err, QKV_ERR_INVALID, "'%s': %s", path, e2.msg);
        goto out;
    }
    if (n != want || (uint64_t)st.st_size != HEADER_BYTES + 4 * (uint64_t)want) {
        s = qkv_error_set(err, QKV_ERR_INVALID,
                          "'%s': %lld bytes and %llu parameters; the configuration needs %zu "
                          "parameters (%llu bytes)",
                          path, (long long)st.st_size, (unsigned long long)n, want,
                          (unsigned long long)(HEADER_BYTES + 4 * (uint64_t)want));
        goto out;
    }
    if ((s = rt_model_init(m, &c, err)) != QKV_OK)
        goto out;
    if (fread(m->params, sizeof(float), want, f) != want) {
        s = qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': short read", path);
        rt_model_free(m);
        goto out;
    }
    for (size_t i = 0; i < want; i++)
        if (!isfinite(m->params[i])) {
            s = qkv_error_set(err, QKV_ERR_INVALID, "'%s': parameter %zu is not finite", path, i);
            rt_model_free(m);
            goto out;
        }
out:
    fclose(f);
    return s;
}
