#include "probes/runtime/llama2c.h"
#include "analyzer/core/infile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int32_t le32(const unsigned char *b)
{
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24);
}

/* Read n floats (little-endian on disk; the host is checked to be too). */
static qkv_status read_floats(FILE *f, float *dst, size_t n, const char *path, const char *tensor,
                              qkv_error *err)
{
    if (fread(dst, sizeof(float), n, f) != n)
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': tensor '%s' is cut short", path,
                             tensor);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i]))
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "'%s': tensor '%s' holds a non-finite value at element %zu", path,
                                 tensor, i);
    return QKV_OK;
}

/* The seven header fields as a configuration: each within the runtime's
 * limits, whole and even heads; a negative vocab_size means an unshared
 * classifier. */
static qkv_status header_config(const unsigned char *hdr, const char *path, rt_config *out,
                                qkv_error *err)
{
    static const char *const names[7] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                         "n_kv_heads", "vocab_size", "seq_len"};
    int32_t h[7];
    for (int i = 0; i < 7; i++)
        h[i] = le32(hdr + 4 * i);
    const bool shared = h[5] > 0;
    if (h[5] < 0 && h[5] != INT32_MIN)
        h[5] = -h[5];
    static const int32_t lo[7] = {1, 1, 1, 1, 1, 1, 1};
    static const int32_t hi[7] = {RT_DIM_MAX, 4 * RT_DIM_MAX, RT_LAYERS_MAX, RT_DIM_MAX,
                                  RT_DIM_MAX, RT_VOCAB_MAX,   RT_SEQ_MAX};
    for (int i = 0; i < 7; i++) {
        if (h[i] < lo[i] || h[i] > hi[i]) {
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "'%s': header field %s is %d; it must be %d to %d", path, names[i],
                                 h[i], lo[i], hi[i]);
        }
    }
    if (h[0] % h[3] != 0 || h[3] % h[4] != 0 || (h[0] / h[3]) % 2 != 0) {
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "'%s': dim %d, n_heads %d and n_kv_heads %d do not give whole, even "
                             "heads",
                             path, h[0], h[3], h[4]);
    }
    rt_config c = rt_config_default(RT_LLAMA);
    c.d_model = h[0];
    c.d_ff = h[1];
    c.n_layers = h[2];
    c.n_heads = h[3];
    c.n_kv_heads = h[4];
    c.vocab = h[5];
    c.max_seq = h[6];
    c.head_dim = h[0] / h[3];
    c.tied = shared;
    c.share = SHARE_QKV;
    c.causal = true;

    *out = c;
    return QKV_OK;
}

/* The weights after the header, in the file's order. Layer tensors are
 * stored tensor-major (all layers of wq, then of wk...); the legacy RoPE
 * tables are skipped. */
static qkv_status read_weights(FILE *f, const char *path, rt_model *m, qkv_error *err)
{
    const rt_config c = m->cfg;
    const bool shared = c.tied;
    const uint64_t C = (uint64_t)c.d_model, L = (uint64_t)c.n_layers, FF = (uint64_t)c.d_ff,
                   V = (uint64_t)c.vocab, QW = (uint64_t)c.n_heads * c.head_dim,
                   KW = (uint64_t)c.n_kv_heads * c.head_dim;
    qkv_status s;
#define READ(dst, n, name)                                                                         \
    do {                                                                                           \
        if ((s = read_floats(f, (dst), (n), path, (name), err)) != QKV_OK)                         \
            return s;                                                                              \
    } while (0)
    READ(m->tok_emb, V * C, "token_embedding");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].ln1_w, C, "rms_att_weight");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].wq, QW * C, "wq");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].wk, KW * C, "wk");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].wv, KW * C, "wv");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].wo, C * QW, "wo");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].ln2_w, C, "rms_ffn_weight");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].w1, FF * C, "w1");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].w2, C * FF, "w2");
    for (uint64_t l = 0; l < L; l++)
        READ(m->layers[l].w3, FF * C, "w3");
    READ(m->lnf_w, C, "rms_final_weight");
    if (fseek(f, (long)(4 * (uint64_t)c.max_seq * c.head_dim), SEEK_CUR) != 0) {
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': seek failed", path);
    }
    if (!shared)
        READ(m->wcls, V * C, "wcls");
#undef READ
    return QKV_OK;
}

qkv_status llama2c_load(const char *path, rt_model *m, qkv_error *err)
{
    memset(m, 0, sizeof *m);
    const uint32_t probe = 1;
    if (*(const unsigned char *)&probe != 1)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED, "llama2.c files need a little-endian host");
    FILE *f;
    qkv_status s = infile_fopen(path, &f, err);
    if (s != QKV_OK)
        return s;
    struct stat st;
    unsigned char hdr[28];
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': not a regular file", path);
        goto out;
    }
    if (fread(hdr, 1, sizeof hdr, f) != sizeof hdr) {
        s = qkv_error_set(err, QKV_ERR_INVALID,
                          "'%s': %lld bytes is too short for a llama2.c header (28 bytes)", path,
                          (long long)st.st_size);
        goto out;
    }
    rt_config c;
    if ((s = header_config(hdr, path, &c, err)) != QKV_OK)
        goto out;
    const bool shared = c.tied;
    /* Expected size: header + weights + RoPE tables; all terms < 2^50. */
    const uint64_t C = (uint64_t)c.d_model, L = (uint64_t)c.n_layers, FF = (uint64_t)c.d_ff,
                   V = (uint64_t)c.vocab, QW = (uint64_t)c.n_heads * c.head_dim,
                   KW = (uint64_t)c.n_kv_heads * c.head_dim;
    const uint64_t floats = V * C + L * C + L * QW * C + 2 * L * KW * C + L * C * QW + L * C +
                            3 * L * FF * C + C + (uint64_t)c.max_seq * c.head_dim +
                            (shared ? 0 : V * C);
    const uint64_t want = 28 + 4 * floats;
    if ((uint64_t)st.st_size != want) {
        s = qkv_error_set(err, QKV_ERR_INVALID,
                          "'%s' is %lld bytes; its header (dim %d, hidden %d, %d layers, %d heads, "
                          "%d KV heads, vocab %d, seq_len %d) needs %llu",
                          path, (long long)st.st_size, c.d_model, c.d_ff, c.n_layers, c.n_heads,
                          c.n_kv_heads, c.vocab, c.max_seq, (unsigned long long)want);
        goto out;
    }
    if ((s = rt_model_init(m, &c, err)) != QKV_OK)
        goto out;
    if ((s = read_weights(f, path, m, err)) != QKV_OK)
        rt_model_free(m);
out:
    fclose(f);
    return s;
}
