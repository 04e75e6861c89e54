#include "probes/runtime/rt_ops.h"

#include <cblas.h>
#include <math.h>

void rt_matmul(float *out, const float *in, const float *w, const float *b, int N, int IN, int OUT)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OUT, IN, 1.0f, in, IN, w, IN, 0.0f, out,
                OUT);
    if (b)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OUT; o++)
                out[(size_t)n * OUT + o] += b[o];
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
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
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

float rt_pos2d(const rt_config *c, int i, int j)
{
    return c->pos2d_scale * (float)(j - i) / (float)c->max_seq;
}
