#define _DEFAULT_SOURCE /* mkstemp, fsync */
#include "probes/train/lm_corpus.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/core/clock.h"
#include "probes/runtime/rt_kernels.h"
#include "analyzer/core/paths.h"
#include "probes/runtime/rt_ops.h"

#define MAGIC "QKVLMC01"
#define HEADER_BYTES (8 + 8 + 4 * 4 + 8 + 8 + 8 + 8)

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV0 0xcbf29ce484222325ULL

uint64_t lm_corpus_teacher_hash(const rt_model *t)
{
    uint64_t h = fnv(FNV0, &t->cfg.share, sizeof t->cfg.share);
    int dims[] = {t->cfg.family,     t->cfg.n_layers, t->cfg.d_model, t->cfg.n_heads,
                  t->cfg.n_kv_heads, t->cfg.d_ff,     t->cfg.vocab};
    h = fnv(h, dims, sizeof dims);
    return fnv(h, t->params, t->n_params * sizeof(float));
}

static size_t n_tokens(const lm_corpus_spec *s)
{
    return ((size_t)s->n_train + (size_t)s->n_val) * ((size_t)s->seq_len + 1);
}

const uint16_t *lm_corpus_seq(const lm_corpus *c, int i)
{
    return c->tokens + (size_t)i * ((size_t)c->spec.seq_len + 1);
}

/* ---- batched sampling -------------------------------------------------- */

/* Work of one chunk: Bc sequences decoded one position at a time. */
typedef struct {
    float *x, *h, *q, *k, *v, *o, *tmp, *f1, *f3, *logits, *att; /* (Bc, ·) rows */
    float *kc, *vc;                                              /* (L, Bc, S + 1, KW) caches */
} chunk_work;

typedef struct {
    const rt_model *m;
    const lm_corpus_spec *s;
    uint16_t *tokens;
    double *nll; /* (n_seq) summed nats per sequence */
    int n_chunks, next;
    pthread_mutex_t lock;
    qkv_status status;
} sampler;

/* The next token of one row of logits drawn from softmax(logits) (temperature
 * 1) with u in [0, 1); *nll receives −log p(token). The row is overwritten. */
static int draw(float *logits, int V, double u, double *nll)
{
    float mx = logits[0];
    for (int i = 1; i < V; i++)
        mx = logits[i] > mx ? logits[i] : mx;
    double z = 0.0;
    for (int i = 0; i < V; i++) { /* logits become exp(logit − max), each computed once */
        logits[i] = expf(logits[i] - mx);
        z += logits[i];
    }
    const double target = u * z;
    double acc = 0.0;
    int tok = V - 1;
    for (int i = 0; i < V; i++) {
        acc += logits[i];
        if (acc > target) {
            tok = i;
            break;
        }
    }
    *nll = log(z) - log((double)logits[tok]);
    return tok;
}

/* One decode step of Bc sequences at position pos: tokens in, logits out. */
static void step_chunk(const rt_model *m, chunk_work *w, const int *tok, int Bc, int pos, int cap)
{
    const rt_config *c = &m->cfg;
    const int C = c->d_model, HD = c->head_dim, NH = c->n_heads, KVH = c->n_kv_heads;
    const int QW = NH * HD, KW = KVH * HD, FF = c->d_ff, group = NH / KVH;
    const float scale = 1.0f / sqrtf((float)HD);
    for (int b = 0; b < Bc; b++) {
        memcpy(w->x + (size_t)b * C, m->tok_emb + (size_t)tok[b] * C, (size_t)C * sizeof(float));
        if (m->pos_emb)
            for (int i = 0; i < C; i++)
                w->x[(size_t)b * C + i] += m->pos_emb[(size_t)pos * C + i];
    }
    for (int l = 0; l < c->n_layers; l++) {
        const rt_layer *y = &m->layers[l];
        rt_norm_rows(w->h, NULL, NULL, w->x, y->ln1_w, y->ln1_b, Bc, C, c->norm_eps);
        rt_qkv_rows(NULL, c, y, w->h, Bc, 1, pos, w->q, w->k, w->v, NULL, NULL);
        for (int b = 0; b < Bc; b++) {
            float *kc = w->kc + (((size_t)l * Bc + b) * cap) * KW;
            float *vc = w->vc + (((size_t)l * Bc + b) * cap) * KW;
            memcpy(kc + (size_t)pos * KW, w->k + (size_t)b * KW, (size_t)KW * sizeof(float));
            memcpy(vc + (size_t)pos * KW, w->v + (size_t)b * KW, (size_t)KW * sizeof(float));
            for (int hh = 0; hh < NH; hh++) {
                const int g = hh / group;
                const float *q = w->q + (size_t)b * QW + (size_t)hh * HD;
                /* plain loops: a BLAS call per key costs more than its HD products */
                for (int j = 0; j <= pos; j++) {
                    const float *kr = kc + (size_t)j * KW + (size_t)g * HD;
                    float dot = 0.0f;
                    for (int i = 0; i < HD; i++)
                        dot += q[i] * kr[i];
                    w->att[j] = scale * dot;
                }
                rt_softmax(w->att, pos + 1);
                float *o = w->o + (size_t)b * QW + (size_t)hh * HD;
                memset(o, 0, (size_t)HD * sizeof(float));
                for (int j = 0; j <= pos; j++) {
                    const float *vr = vc + (size_t)j * KW + (size_t)g * HD, a = w->att[j];
                    for (int i = 0; i < HD; i++)
                        o[i] += a * vr[i];
                }
            }
        }
        rt_matmul(w->tmp, w->o, y->wo, y->bo, Bc, QW, C);
        for (size_t i = 0; i < (size_t)Bc * C; i++)
            w->x[i] += w->tmp[i];
        rt_norm_rows(w->h, NULL, NULL, w->x, y->ln2_w, y->ln2_b, Bc, C, c->norm_eps);
        rt_matmul(w->f1, w->h, y->w1, y->b1, Bc, C, FF);
        if (c->family == RT_GPT2) {
            for (size_t i = 0; i < (size_t)Bc * FF; i++)
                w->f1[i] = rt_gelu(w->f1[i]);
        } else {
            rt_matmul(w->f3, w->h, y->w3, NULL, Bc, C, FF);
            for (size_t i = 0; i < (size_t)Bc * FF; i++) {
                const float g = w->f1[i];
                w->f1[i] = g / (1.0f + expf(-g)) * w->f3[i];
            }
        }
        rt_matmul(w->tmp, w->f1, y->w2, y->b2, Bc, FF, C);
        for (size_t i = 0; i < (size_t)Bc * C; i++)
            w->x[i] += w->tmp[i];
    }
    rt_norm_rows(w->h, NULL, NULL, w->x, m->lnf_w, m->lnf_b, Bc, C, c->norm_eps);
    rt_matmul(w->logits, w->h, m->wcls, NULL, Bc, C, c->vocab);
}

static qkv_status sample_chunk(sampler *S, int chunk)
{
    const rt_model *m = S->m;
    const rt_config *c = &m->cfg;
    const int n_seq = S->s->n_train + S->s->n_val, cap = S->s->seq_len + 1;
    const int first = chunk * LM_CORPUS_CHUNK;
    const int Bc = n_seq - first < LM_CORPUS_CHUNK ? n_seq - first : LM_CORPUS_CHUNK;
    const size_t C = (size_t)c->d_model, QW = (size_t)c->n_heads * c->head_dim,
                 KW = (size_t)c->n_kv_heads * c->head_dim, FF = (size_t)c->d_ff,
                 V = (size_t)c->vocab, B = (size_t)Bc;
    const size_t cache = (size_t)c->n_layers * B * (size_t)cap * KW;
    /* x, h, tmp (B, C); q, o (B, QW); k, v (B, KW); f1, f3 (B, FF); logits (B, V);
     * att (cap); kc, vc (L, B, cap, KW) */
    const size_t total =
        3 * B * C + 2 * B * QW + 2 * B * KW + 2 * B * FF + B * V + (size_t)cap + 2 * cache;
    float *buf = malloc(total * sizeof(float));
    rt_rng *rng = malloc(B * sizeof *rng);
    int *tok = malloc(B * sizeof(int));
    if (!buf || !rng || !tok) {
        free(buf);
        free(rng);
        free(tok);
        return QKV_ERR_NOMEM;
    }
    chunk_work w;
    float *p = buf;
    w.x = p, p += B * C;
    w.h = p, p += B * C;
    w.tmp = p, p += B * C;
    w.q = p, p += B * QW;
    w.o = p, p += B * QW;
    w.k = p, p += B * KW;
    w.v = p, p += B * KW;
    w.f1 = p, p += B * FF;
    w.f3 = p, p += B * FF;
    w.logits = p, p += B * V;
    w.att = p, p += cap;
    w.kc = p, p += cache;
    w.vc = p;
    const int bos = LM_CORPUS_BOS < c->vocab ? LM_CORPUS_BOS : c->vocab - 1;
    for (int b = 0; b < Bc; b++) {
        /* splitmix64 seeds: sequence i's stream does not depend on the chunking */
        rng[b].state =
            S->s->seed * 0x9E3779B97F4A7C15ULL + (uint64_t)(first + b + 1) * 0xD1B54A32D192ED03ULL;
        tok[b] = bos;
        S->tokens[(size_t)(first + b) * cap] = (uint16_t)bos;
        S->nll[first + b] = 0.0;
    }
    for (int pos = 0; pos + 1 < cap; pos++) {
        step_chunk(m, &w, tok, Bc, pos, cap);
        for (int b = 0; b < Bc; b++) {
            double nll;
            tok[b] = draw(w.logits + (size_t)b * V, (int)V, rt_rng_uniform(&rng[b]), &nll);
            S->nll[first + b] += nll;
            S->tokens[(size_t)(first + b) * cap + pos + 1] = (uint16_t)tok[b];
        }
    }
    free(buf);
    free(rng);
    free(tok);
    return QKV_OK;
}

static void *sample_worker(void *arg)
{
    sampler *S = arg;
    for (;;) {
        pthread_mutex_lock(&S->lock);
        const int chunk = S->status == QKV_OK && S->next < S->n_chunks ? S->next++ : -1;
        pthread_mutex_unlock(&S->lock);
        if (chunk < 0)
            return NULL;
        qkv_status st = sample_chunk(S, chunk);
        if (st != QKV_OK) {
            pthread_mutex_lock(&S->lock);
            S->status = st;
            pthread_mutex_unlock(&S->lock);
        }
    }
}

qkv_status lm_corpus_sample(const rt_model *m, const lm_corpus_spec *s, lm_corpus *out,
                            qkv_error *err)
{
    memset(out, 0, sizeof *out);
    const rt_config *c = &m->cfg;
    if (!c->causal || m->fetch)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "the teacher must be a causal model held in memory");
    if (c->vocab > 65536)
        return qkv_error_set(err, QKV_ERR_RANGE,
                             "a teacher vocabulary of %d does not fit 16-bit tokens", c->vocab);
    if (s->seq_len < 2 || s->seq_len + 1 > c->max_seq || s->n_train < 1 || s->n_val < 1 ||
        s->n_train > (1 << 24) || s->n_val > (1 << 24) || s->threads < 1)
        return qkv_error_set(
            err, QKV_ERR_RANGE,
            "corpus of %d + %d sequences of %d tokens: needs at least one of each, "
            "and %d + 1 tokens within the teacher's %d positions",
            s->n_train, s->n_val, s->seq_len, s->seq_len, c->max_seq);
    const int n_seq = s->n_train + s->n_val;
    out->spec = *s;
    out->vocab = c->vocab;
    out->teacher_hash = lm_corpus_teacher_hash(m);
    out->tokens = malloc(n_tokens(s) * sizeof *out->tokens);
    double *nll = malloc((size_t)n_seq * sizeof *nll);
    if (!out->tokens || !nll) {
        free(nll);
        lm_corpus_free(out);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for a corpus of %zu tokens",
                             n_tokens(s));
    }
    sampler S = {.m = m,
                 .s = s,
                 .tokens = out->tokens,
                 .nll = nll,
                 .n_chunks = (n_seq + LM_CORPUS_CHUNK - 1) / LM_CORPUS_CHUNK,
                 .status = QKV_OK};
    pthread_mutex_init(&S.lock, NULL);
    const double t0 = qkv_now_s();
    rt_run_workers(sample_worker, &S, s->threads);
    out->seconds = qkv_now_s() - t0;
    pthread_mutex_destroy(&S.lock);
    if (S.status != QKV_OK) {
        free(nll);
        lm_corpus_free(out);
        return qkv_error_set(err, S.status, "out of memory while sampling the corpus");
    }
    double tr = 0.0, va = 0.0;
    for (int i = 0; i < n_seq; i++)
        *(i < s->n_train ? &tr : &va) += nll[i];
    free(nll);
    out->teacher_train_nll = tr / ((double)s->n_train * s->seq_len);
    out->teacher_val_nll = va / ((double)s->n_val * s->seq_len);
    out->tokens_per_s = (double)n_seq * s->seq_len / (out->seconds > 0 ? out->seconds : 1e-9);
    return QKV_OK;
}

/* ---- cache file -------------------------------------------------------- */

void lm_corpus_file_name(const lm_corpus_spec *s, uint64_t h, char *buf, size_t bytes)
{
    snprintf(buf, bytes, "lm-corpus-s%llu-%d+%dx%d-%016llx.bin", (unsigned long long)s->seed,
             s->n_train, s->n_val, s->seq_len, (unsigned long long)h);
}

static void put_u(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* The tokens as little-endian bytes (the file's body and its hash input). */
static unsigned char *token_bytes(const lm_corpus *c, size_t n)
{
    unsigned char *b = malloc(2 * n);
    if (b)
        for (size_t i = 0; i < n; i++)
            put_u(b + 2 * i, c->tokens[i], 2);
    return b;
}

static void header_of(const lm_corpus *c, uint64_t body_hash, unsigned char *h)
{
    memcpy(h, MAGIC, 8);
    put_u(h + 8, c->spec.seed, 8);
    put_u(h + 16, (uint64_t)c->spec.seq_len, 4);
    put_u(h + 20, (uint64_t)c->spec.n_train, 4);
    put_u(h + 24, (uint64_t)c->spec.n_val, 4);
    put_u(h + 28, (uint64_t)c->vocab, 4);
    put_u(h + 32, c->teacher_hash, 8);
    put_u(h + 40, f64_bits(c->teacher_train_nll), 8);
    put_u(h + 48, f64_bits(c->teacher_val_nll), 8);
    put_u(h + 56, body_hash, 8);
}

qkv_status lm_corpus_write(const char *path, const lm_corpus *c, qkv_error *err)
{
    const size_t n = n_tokens(&c->spec);
    unsigned char *body = token_bytes(c, n), h[HEADER_BYTES];
    if (!body)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory writing '%s'", path);
    header_of(c, fnv(FNV0, body, 2 * n), h);
    char tmp[QKV_PATH_BYTES + QKV_NAME_BYTES];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp) {
        free(body);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': path too long", path);
    }
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        const int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(body);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    bool ok = fwrite(h, 1, sizeof h, f) == sizeof h && fwrite(body, 1, 2 * n, f) == 2 * n &&
              fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    free(body);
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return QKV_OK;
}

qkv_status lm_corpus_read(const char *path, const lm_corpus_spec *s, uint64_t teacher_hash,
                          lm_corpus *out, qkv_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    unsigned char h[HEADER_BYTES];
    const size_t n = n_tokens(s);
    unsigned char *body = NULL;
    qkv_status st = QKV_OK;
    if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, MAGIC, 8) != 0 ||
        get_u(h + 8, 8) != s->seed || get_u(h + 16, 4) != (uint64_t)s->seq_len ||
        get_u(h + 20, 4) != (uint64_t)s->n_train || get_u(h + 24, 4) != (uint64_t)s->n_val ||
        get_u(h + 32, 8) != teacher_hash) {
        st = qkv_error_set(err, QKV_ERR_INVALID, "'%s' is not the corpus asked for", path);
        goto done;
    }
    out->spec = *s;
    out->vocab = (int)get_u(h + 28, 4);
    out->teacher_hash = teacher_hash;
    out->teacher_train_nll = bits_f64(get_u(h + 40, 8));
    out->teacher_val_nll = bits_f64(get_u(h + 48, 8));
    body = malloc(2 * n + 1);
    out->tokens = malloc(n * sizeof *out->tokens);
    if (!body || !out->tokens) {
        st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    if (fread(body, 1, 2 * n + 1, f) != 2 * n || fnv(FNV0, body, 2 * n) != get_u(h + 56, 8) ||
        !isfinite(out->teacher_val_nll) || !isfinite(out->teacher_train_nll)) {
        st = qkv_error_set(err, QKV_ERR_INVALID, "'%s': tokens damaged or of the wrong size", path);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        out->tokens[i] = (uint16_t)get_u(body + 2 * i, 2);
        if (out->tokens[i] >= out->vocab) {
            st = qkv_error_set(err, QKV_ERR_INVALID, "'%s': token %u outside the vocabulary", path,
                               out->tokens[i]);
            goto done;
        }
    }
    out->from_cache = true;
done:
    fclose(f);
    free(body);
    if (st != QKV_OK)
        lm_corpus_free(out);
    return st;
}

qkv_status lm_corpus_get(const rt_model *teacher, const char *dir, const lm_corpus_spec *s,
                         lm_corpus *out, qkv_error *err)
{
    char name[160], path[QKV_PATH_BYTES + QKV_NAME_BYTES];
    const uint64_t h = lm_corpus_teacher_hash(teacher);
    lm_corpus_file_name(s, h, name, sizeof name);
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return qkv_error_set(err, QKV_ERR_IO, "corpus cache folder '%.200s...' is too long", dir);
    qkv_error ignored;
    if (lm_corpus_read(path, s, h, out, &ignored) == QKV_OK)
        return QKV_OK;
    qkv_status st = lm_corpus_sample(teacher, s, out, err);
    if (st != QKV_OK)
        return st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        const int e = errno;
        lm_corpus_free(out);
        return qkv_error_set(err, QKV_ERR_IO, "cannot create the corpus cache folder '%s': %s", dir,
                             strerror(e));
    }
    if ((st = lm_corpus_write(path, out, err)) != QKV_OK)
        lm_corpus_free(out);
    return st;
}

void lm_corpus_free(lm_corpus *c)
{
    if (!c)
        return;
    free(c->tokens);
    memset(c, 0, sizeof *c);
}

void lm_corpus_batch(const lm_corpus *c, rt_rng *rng, int B, int T, int *inputs, int *targets)
{
    const int S = c->spec.seq_len;
    for (int b = 0; b < B; b++) {
        const uint16_t *seq = lm_corpus_seq(c, (int)(rt_rng_next(rng) % (uint64_t)c->spec.n_train));
        const int a = (int)(rt_rng_next(rng) % (uint64_t)(S - T + 1));
        for (int i = 0; i < T; i++) {
            inputs[(size_t)b * T + i] = seq[a + i];
            targets[(size_t)b * T + i] = seq[a + i + 1];
        }
    }
}
