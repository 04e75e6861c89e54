#include "probes/runtime/rt_ops.h"

#include "probes/runtime/rt_kernels.h"
#include "probes/runtime/rt_pos2d.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void rt_matmul(float *out, const float *in, const float *w, const float *b, int N, int IN, int OUT)
{
    rt_matmul_pool(NULL, out, in, w, b, N, IN, OUT);
}

void rt_norm_rows(float *out, float *mean, float *rstd, const float *in, const float *w,
                  const float *b, int N, int C, float eps)
{
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float mu = 0.0f, r;
        if (b) {
            float var = 0.0f;
            for (int i = 0; i < C; i++)
                mu += x[i];
            mu /= (float)C;
            for (int i = 0; i < C; i++)
                var += (x[i] - mu) * (x[i] - mu);
            var /= (float)C;
            r = 1.0f / sqrtf(var + eps);
            for (int i = 0; i < C; i++)
                y[i] = (x[i] - mu) * r * w[i] + b[i];
        } else {
            float ss = 0.0f;
            for (int i = 0; i < C; i++)
                ss += x[i] * x[i];
            r = 1.0f / sqrtf(ss / (float)C + eps);
            for (int i = 0; i < C; i++)
                y[i] = x[i] * r * w[i];
        }
        if (mean)
            mean[n] = mu;
        if (rstd)
            rstd[n] = r;
    }
}

void rt_rope_row(float *x, int n_heads, int HD, int pos, float theta, int inverse)
{
    for (int i = 0; i < HD; i += 2) {
        float freq = 1.0f / powf(theta, (float)i / (float)HD);
        float val = (float)pos * freq;
        float c = cosf(val), s = sinf(val);
        if (inverse)
            s = -s;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + (size_t)h * HD + i;
            float v0 = v[0], v1 = v[1];
            v[0] = v0 * c - v1 * s;
            v[1] = v0 * s + v1 * c;
        }
    }
}

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

float rt_gelu(float x)
{
    return 0.5f * x * (1.0f + tanhf(GELU_K * (x + 0.044715f * x * x * x)));
}

float rt_gelu_grad(float x)
{
    float u = GELU_K * (x + 0.044715f * x * x * x);
    float t = tanhf(u);
    return 0.5f * (1.0f + t) +
           0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
}

void rt_softmax(float *row, int n)
{
    float mx = row[0];
    for (int j = 1; j < n; j++)
        if (row[j] > mx)
            mx = row[j];
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
        row[j] = expf(row[j] - mx);
        sum += row[j];
    }
    for (int j = 0; j < n; j++)
        row[j] /= sum;
}

void rt_qkv_rows(rt_pool *pool, const rt_config *c, const rt_layer *y, const float *h, int N, int T,
                 int pos0, float *q, float *k, float *v, float *q_pre, float *k_pre)
{
    const int C = c->d_model, QW = c->n_heads * c->head_dim, KW = c->n_kv_heads * c->head_dim;
    const bool own_q = c->share == SHARE_QKV || c->share == SHARE_KV;
    const bool own_v = c->share == SHARE_QKV || c->share == SHARE_QK;
    rt_mm jobs[3] = {{k, h, y->wk, y->bk, N, C, KW, KW, y->wt}};
    int n_jobs = 1;
    if (own_q)
        jobs[n_jobs++] = (rt_mm){q, h, y->wq, y->bq, N, C, QW, QW, y->wt};
    if (own_v)
        jobs[n_jobs++] = (rt_mm){v, h, y->wv, y->bv, N, C, KW, KW, y->wt};
    rt_matmul_many(pool, jobs, n_jobs); /* one pool job for all three */
    if (!own_q)
        memcpy(q, k, (size_t)N * QW * sizeof(float)); /* Q=K: KW == QW */
    if (!own_v)
        memcpy(v, k, (size_t)N * KW * sizeof(float));
    if (q_pre)
        memcpy(q_pre, q, (size_t)N * QW * sizeof(float));
    if (k_pre)
        memcpy(k_pre, k, (size_t)N * KW * sizeof(float));
    if (c->family == RT_LLAMA) {
        for (int n = 0; n < N; n++) {
            const int pos = pos0 + n % T;
            rt_rope_row(q + (size_t)n * QW, c->n_heads, c->head_dim, pos, c->rope_theta, 0);
            rt_rope_row(k + (size_t)n * KW, c->n_kv_heads, c->head_dim, pos, c->rope_theta, 0);
        }
    }
}

void rt_attention_block(const rt_config *c, const rt_layer *y, const float *add, int T,
                        const float *q, const float *k, const float *v, int ld_q, int ld_kv,
                        float *scores, float *att, float *out)
{
    const int HD = c->head_dim;
    /* the + term's gain folds into the scale: S' = (gain / sqrt(HD)) Q Kᵀ + add */
    const float scale = rt_pos2d_gain(c, y) / sqrtf((float)HD);
    /* the whole block in one GEMM; masked entries are computed too */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, HD, scale, q, ld_q, k, ld_kv, 0.0f,
                scores, T);
    for (int i = 0; i < T; i++) {
        float *srow = scores + (size_t)i * T, *arow = att + (size_t)i * T;
        const int n_vis = c->causal ? i + 1 : T;
        if (c->pos2d && add)
            for (int j = 0; j < T; j++)
                srow[j] += add[(size_t)i * T + j];
        else if (c->pos2d)
            for (int j = 0; j < T; j++)
                srow[j] += rt_pos2d_add(c, y, i, j);
        if (arow != srow)
            memcpy(arow, srow, (size_t)n_vis * sizeof(float));
        rt_softmax(arow, n_vis);
        for (int j = n_vis; j < T; j++)
            arow[j] = 0.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, HD, T, 1.0f, att, T, v, ld_kv, 0.0f,
                out, ld_q);
}
