#include "analyzer/variant.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const share_names[SHARE_COUNT] = {"QKV", "Q-K=V", "Q=K-V", "Q=K=V"};
static const char *const share_alias[SHARE_COUNT] = {"none", "kv", "qk", "all"};

const char *variant_share_name(variant_share s)
{
    return share_names[s];
}

qkv_status variant_share_parse(const char *s, variant_share *out)
{
    for (int i = 0; i < SHARE_COUNT; i++) {
        if (strcasecmp(s, share_names[i]) == 0 || strcasecmp(s, share_alias[i]) == 0) {
            *out = (variant_share)i;
            return QKV_OK;
        }
    }
    return QKV_ERR_INVALID;
}

int variant_cached_tensors(variant_share s)
{
    return (s == SHARE_KV || s == SHARE_ALL) ? 1 : 2;
}

qkv_status variant_parse_kv_heads(const char *s, uint64_t n_heads, uint64_t *kv_heads,
                                  qkv_error *err)
{
    const char *num = s;
    if (strcasecmp(s, "mha") == 0) {
        *kv_heads = n_heads;
        return QKV_OK;
    }
    if (strcasecmp(s, "mqa") == 0) {
        *kv_heads = 1;
        return QKV_OK;
    }
    if (strncasecmp(s, "gqa-", 4) == 0)
        num = s + 4;
    if (*num < '0' || *num > '9')
        return qkv_error_set(err, QKV_ERR_PARSE,
                             "'%s' is not a head sharing; use mha, mqa, gqa-N or a number", s);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(num, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0)
        return qkv_error_set(err, QKV_ERR_PARSE,
                             "'%s' is not a head sharing; use mha, mqa, gqa-N or a number", s);
    if (v > n_heads || n_heads % v != 0) {
        /* The divisors of n_heads, ascending: pairs (d, n/d) for d <= sqrt(n),
         * so even 2^32 heads take 65536 steps. */
        uint64_t small[64], large[64];
        size_t ns = 0, nl = 0;
        for (uint64_t d = 1; d <= n_heads / d && ns < 64 && nl < 64; d++) {
            if (n_heads % d != 0)
                continue;
            small[ns++] = d;
            if (d != n_heads / d)
                large[nl++] = n_heads / d;
        }
        char valid[256];
        size_t used = 0;
        valid[0] = '\0';
        for (size_t i = 0; i < ns + nl && used + 24 < sizeof valid; i++) {
            uint64_t d = i < ns ? small[i] : large[nl - 1 - (i - ns)];
            int k = snprintf(valid + used, sizeof valid - used, "%s%" PRIu64, used ? ", " : "", d);
            used += k > 0 ? (size_t)k : 0;
        }
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "%llu KV heads do not divide %llu query heads (valid: %s)", v,
                             (unsigned long long)n_heads, valid);
    }
    *kv_heads = v;
    return QKV_OK;
}

void variant_heads_label(uint64_t kv_heads, uint64_t n_heads, char *buf, size_t buf_bytes)
{
    if (kv_heads == n_heads)
        snprintf(buf, buf_bytes, "MHA");
    else if (kv_heads == 1)
        snprintf(buf, buf_bytes, "MQA");
    else
        snprintf(buf, buf_bytes, "GQA-%" PRIu64, kv_heads);
}

void variant_label(const variant *v, uint64_t n_heads, char *buf, size_t buf_bytes)
{
    if (v->mla) {
        snprintf(buf, buf_bytes, "MLA");
        return;
    }
    char heads[24];
    variant_heads_label(v->kv_heads, n_heads, heads, sizeof heads);
    snprintf(buf, buf_bytes, "%s+%s", share_names[v->share], heads);
}

qkv_status variant_check(const variant *v, const model_shape *m, qkv_error *err)
{
    char label[VARIANT_LABEL_BYTES];
    variant_label(v, m->n_heads, label, sizeof label);
    if (v->mla) {
        if (!model_is_mla(m))
            return qkv_error_set(err, QKV_ERR_INVALID, "%s: model '%s' has no MLA latent", label,
                                 m->name);
        return QKV_OK;
    }
    if (v->kv_heads == 0 || v->kv_heads > m->n_heads || m->n_heads % v->kv_heads != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "%s: %llu KV heads do not divide %llu query heads", label,
                             (unsigned long long)v->kv_heads, (unsigned long long)m->n_heads);
    if ((v->share == SHARE_QK || v->share == SHARE_ALL) && v->kv_heads != m->n_heads)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "%s: sharing Q and K needs one key head per query head (MHA)", label);
    if ((v->share == SHARE_KV || v->share == SHARE_ALL) && m->head_dim != m->v_head_dim)
        return qkv_error_set(
            err, QKV_ERR_INVALID,
            "%s: sharing K and V needs equal key and value head widths (%llu and %llu)", label,
            (unsigned long long)m->head_dim, (unsigned long long)m->v_head_dim);
    return QKV_OK;
}

variant variant_as_built(const model_shape *m)
{
    variant v = {SHARE_QKV, m->n_kv_heads, model_is_mla(m), true};
    if (v.mla)
        v.kv_heads = 1;
    return v;
}

static size_t push(const model_shape *m, variant *out, size_t n, size_t max, variant v)
{
    if (n >= max || variant_check(&v, m, NULL) != QKV_OK)
        return n;
    for (size_t i = 0; i < n; i++)
        if (out[i].share == v.share && out[i].kv_heads == v.kv_heads && out[i].mla == v.mla)
            return n;
    out[n] = v;
    return n + 1;
}

size_t variant_default_grid(const model_shape *m, variant *out, size_t max)
{
    size_t n = 0;
    variant built = variant_as_built(m);
    if (built.mla)
        n = push(m, out, n, max, built);
    for (int s = 0; s < SHARE_COUNT; s++)
        n = push(m, out, n, max, (variant){(variant_share)s, m->n_heads, false, false});
    const uint64_t grouped[] = {8, 4, 1};
    for (size_t g = 0; g < sizeof grouped / sizeof grouped[0]; g++) {
        uint64_t kv = grouped[g];
        if (kv >= m->n_heads || m->n_heads % kv != 0)
            continue;
        n = push(m, out, n, max, (variant){SHARE_QKV, kv, false, false});
        n = push(m, out, n, max, (variant){SHARE_KV, kv, false, false});
    }
    if (!built.mla) {
        size_t i;
        for (i = 0; i < n; i++)
            if (out[i].share == SHARE_QKV && out[i].kv_heads == built.kv_heads)
                break;
        if (i < n)
            out[i].as_built = true;
        else
            n = push(m, out, n, max, built);
    }
    return n;
}

qkv_status variant_list(const model_shape *m, char *const *shares, size_t n_shares,
                        char *const *kv_heads, size_t n_kv_heads, bool lenient, variant *out,
                        size_t max, size_t *n_out, char *notes, size_t note_bytes, size_t max_notes,
                        size_t *n_notes, qkv_error *err)
{
    *n_out = 0;
    *n_notes = 0;
    variant_share share[SHARE_COUNT];
    size_t n_share = 0;
    for (size_t i = 0; i < n_shares; i++) {
        variant_share sh;
        if (variant_share_parse(shares[i], &sh) != QKV_OK)
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "--share '%s': unknown sharing (QKV, Q-K=V, Q=K-V, Q=K=V or none, "
                                 "kv, qk, all)",
                                 shares[i]);
        bool dup = false;
        for (size_t j = 0; j < n_share; j++)
            dup |= share[j] == sh;
        if (!dup)
            share[n_share++] = sh;
    }
    if (n_shares == 0)
        for (int sh = 0; sh < SHARE_COUNT; sh++)
            share[n_share++] = (variant_share)sh;
    uint64_t heads[VARIANT_MAX];
    size_t n_heads = 0;
    for (size_t i = 0; i < n_kv_heads; i++) {
        qkv_error e;
        uint64_t kv;
        qkv_status ps = variant_parse_kv_heads(kv_heads[i], m->n_heads, &kv, &e);
        if (ps != QKV_OK) {
            if (!lenient || ps == QKV_ERR_PARSE)
                return qkv_error_set(err, ps, "--kv-heads '%s': %s", kv_heads[i], e.msg);
            if (*n_notes < max_notes)
                snprintf(notes + note_bytes * (*n_notes)++, note_bytes,
                         "skipped --kv-heads %.32s: %.200s", kv_heads[i], e.msg);
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < n_heads; j++)
            dup |= heads[j] == kv;
        if (!dup && n_heads < VARIANT_MAX)
            heads[n_heads++] = kv;
    }
    if (n_kv_heads == 0)
        heads[n_heads++] = m->n_heads;
    for (size_t h = 0; h < n_heads; h++)
        for (size_t s = 0; s < n_share && *n_out < max; s++)
            out[(*n_out)++] =
                (variant){share[s], heads[h], false,
                          !model_is_mla(m) && share[s] == SHARE_QKV && heads[h] == m->n_kv_heads};
    return QKV_OK;
}
