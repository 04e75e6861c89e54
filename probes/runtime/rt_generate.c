#include "probes/runtime/rt_generate.h"

#include <math.h>
#include <stdlib.h>

#include "analyzer/core/clock.h"
#include "probes/runtime/rt_forward.h"

int rt_sample(const float *logits, int V, double temperature, rt_rng *rng)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v] > logits[best])
            best = v;
    if (temperature <= 0.0)
        return best;
    const double mx = logits[best];
    double sum = 0.0;
    for (int v = 0; v < V; v++)
        sum += exp((logits[v] - mx) / temperature);
    const double u = rt_rng_uniform(rng) * sum;
    double acc = 0.0;
    for (int v = 0; v < V; v++) {
        acc += exp((logits[v] - mx) / temperature);
        if (acc > u)
            return v;
    }
    return best; /* u within rounding of the sum */
}

qkv_status rt_generate(const rt_model *m, const int *prompt, int n_prompt, const rt_gen_opts *o,
                       int *out, rt_gen_stats *st, qkv_error *err)
{
    const rt_config *c = &m->cfg;
    const int V = c->vocab;
    st->prefill_s = st->decode_s = 0.0;
    st->n_decode = 0;
    if (n_prompt < 1 || o->n_new < 1 || n_prompt > RT_SEQ_MAX - o->n_new)
        return qkv_error_set(err, QKV_ERR_RANGE,
                             "a %d-token prompt and %d new tokens are outside 1..%d", n_prompt,
                             o->n_new, RT_SEQ_MAX);
    if (!isfinite(o->temperature) || o->temperature < 0.0)
        return qkv_error_set(err, QKV_ERR_RANGE, "temperature %g is not 0 or positive",
                             o->temperature);
    rt_cache cache;
    qkv_status s = rt_cache_init(&cache, c, n_prompt + o->n_new - 1, err);
    if (s != QKV_OK)
        return s;
    float *logits = malloc((size_t)n_prompt * (size_t)V * sizeof(float)); /* (T, V) */
    if (!logits) {
        rt_cache_free(&cache);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for %d x %d logits", n_prompt, V);
    }
    rt_rng rng = {o->seed};
    double t0 = qkv_now_s();
    s = rt_prefill(m, &cache, prompt, n_prompt, logits, err);
    if (s == QKV_OK) {
        out[0] = rt_sample(logits + (size_t)(n_prompt - 1) * V, V, o->temperature, &rng);
        st->prefill_s = qkv_now_s() - t0;
        if (o->on_token)
            o->on_token(o->user, 0, o->n_new, out[0]);
    }
    for (int i = 1; i < o->n_new && s == QKV_OK; i++) {
        t0 = qkv_now_s();
        if ((s = rt_decode(m, &cache, out[i - 1], logits, NULL, err)) != QKV_OK)
            break;
        out[i] = rt_sample(logits, V, o->temperature, &rng);
        st->decode_s += qkv_now_s() - t0; /* the callback's time is not the runtime's */
        st->n_decode = i;
        if (o->on_token)
            o->on_token(o->user, i, o->n_new, out[i]);
    }
    free(logits);
    rt_cache_free(&cache);
    return s;
}
