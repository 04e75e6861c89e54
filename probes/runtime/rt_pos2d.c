#include "probes/runtime/rt_pos2d.h"

#include <math.h>
#include <string.h>
#include <strings.h>

/* Sinusoidal features of width n (5 or 10) of position p:
 * (sin pω⁰, cos pω⁰, sin pω¹, cos pω¹, …), ω = 10000^(−2/n); the
 * frequencies 10000^(−2k/n) are written out (tests recompute them). */
static void sinusoid(double p, int n, float *out)
{
    static const double freq5[3] = {1.0, 0.025118864315095794, 6.309573444801929e-4};
    static const double freq10[5] = {1.0, 0.15848931924611134, 0.025118864315095794,
                                     0.003981071705534973, 6.309573444801929e-4};
    const double *freq = n == 5 ? freq5 : freq10;
    for (int c = 0; c < n; c++)
        out[c] = (float)(c % 2 ? cos(p * freq[c / 2]) : sin(p * freq[c / 2]));
}

void rt_pos2d_features(rt_pos2d_form form, int i, int j, float f[RT_POS2D_CH])
{
    memset(f, 0, RT_POS2D_CH * sizeof(float));
    if (form == RT_POS2D_CONV) {
        sinusoid(i, RT_POS2D_CH / 2, f);
        sinusoid(j, RT_POS2D_CH / 2, f + RT_POS2D_CH / 2);
    } else if (form == RT_POS2D_REL) {
        sinusoid((double)j - (double)i, RT_POS2D_CH, f);
    }
}

static bool learned(const rt_config *c, const rt_layer *y)
{
    return (c->pos2d == RT_POS2D_CONV || c->pos2d == RT_POS2D_REL) && y && y->pos2d_w;
}

float rt_pos2d_gain(const rt_config *c, const rt_layer *y)
{
    if (!learned(c, y))
        return 1.0f;
    float g = 0.0f;
    for (int k = 0; k < RT_POS2D_CH; k++)
        g += y->pos2d_w[k];
    return g;
}

float rt_pos2d_add(const rt_config *c, const rt_layer *y, int i, int j)
{
    if (c->pos2d == RT_POS2D_RAMP)
        return c->pos2d_scale * (float)(j - i) / (float)c->max_seq;
    if (!learned(c, y))
        return 0.0f;
    float f[RT_POS2D_CH], s = y->pos2d_b[0];
    rt_pos2d_features(c->pos2d, i, j, f);
    for (int k = 0; k < RT_POS2D_CH; k++)
        s += y->pos2d_w[k] * f[k];
    return s;
}

void rt_pos2d_table(const rt_config *c, const rt_layer *y, int T, float *add)
{
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++)
            add[(size_t)i * T + j] = rt_pos2d_add(c, y, i, j);
}

void rt_pos2d_grad(rt_pos2d_form form, int T, const float *dsum, double sdot, float *dw, float *db)
{
    double acc[RT_POS2D_CH] = {0}, bsum = 0.0;
    float f[RT_POS2D_CH];
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) {
            const double d = dsum[(size_t)i * T + j];
            if (d == 0.0)
                continue;
            rt_pos2d_features(form, i, j, f);
            for (int k = 0; k < RT_POS2D_CH; k++)
                acc[k] += d * f[k];
            bsum += d;
        }
    for (int k = 0; k < RT_POS2D_CH; k++)
        dw[k] += (float)(acc[k] + sdot);
    *db += (float)bsum;
}

/* The forms: the word rt_pos2d_form_parse reads and the description reports print. */
static const struct {
    rt_pos2d_form form;
    const char *word, *name;
} forms[] = {
    {RT_POS2D_CONV, "paper",
     "paper: fixed P of 5 sin/cos features of i and 5 of j, learned 1x1 conv "
     "(S' = (sum w) S + sum w P + b, w and b per layer)"},
    {RT_POS2D_REL, "relative",
     "relative: 10 sin/cos features of j - i, learned 1x1 conv per layer (the later "
     "draft's form)"},
    {RT_POS2D_RAMP, "ramp", "ramp: fixed scale x (j - i) / n, nothing learned (not the paper's)"},
};
#define N_FORMS (sizeof forms / sizeof forms[0])

const char *rt_pos2d_form_name(rt_pos2d_form form)
{
    for (size_t k = 0; k < N_FORMS; k++)
        if (forms[k].form == form)
            return forms[k].name;
    return "none";
}

const char *rt_pos2d_form_word(rt_pos2d_form form)
{
    for (size_t k = 0; k < N_FORMS; k++)
        if (forms[k].form == form)
            return forms[k].word;
    return "none";
}

qkv_status rt_pos2d_form_parse(const char *s, rt_pos2d_form *form)
{
    static const struct {
        const char *alias;
        rt_pos2d_form form;
    } aliases[] = {{"conv", RT_POS2D_CONV}, {"rel", RT_POS2D_REL}};
    for (size_t k = 0; k < N_FORMS; k++)
        if (strcasecmp(s, forms[k].word) == 0) {
            *form = forms[k].form;
            return QKV_OK;
        }
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (strcasecmp(s, aliases[k].alias) == 0) {
            *form = aliases[k].form;
            return QKV_OK;
        }
    return QKV_ERR_INVALID;
}
