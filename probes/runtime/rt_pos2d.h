/* rt_pos2d.h — the 2D positional term of the `+` variants (rt_model.h has
 * the forms), shared by training, prefill, decode and the probes.
 *
 * On a head's scaled scores S (T, T) the term gives
 *     S'_ij = gain · S_ij + add_ij
 * with, for the learned forms (conv, rel), gain = Σ_c w_c and
 * add_ij = Σ_c w_c P_ijc + b; for the ramp gain = 1 and
 * add_ij = pos2d_scale (j − i) / max_seq.
 *
 * Features (sinusoids as in Vaswani et al. 2017, of width 5 or 10):
 *   conv  P_ij = [f(i) ‖ f(j)], f(p) = (sin p, cos p, sin pω, cos pω, sin pω²),
 *         ω = 10000^(−2/5): the standard sinusoidal embedding of width 5;
 *   rel   P_ij = (sin δ, cos δ, sin δω, cos δω, …, sin δω⁴, cos δω⁴),
 *         δ = j − i, ω = 10000^(−2/10): 5 frequencies of the offset.
 * Only Σ_c w_c f_c(j) of the conv form survives the row softmax (the i part
 * and b shift a whole row), so the paper's term amounts to a learned scale of
 * S plus a learned bias per key position.
 */
#ifndef QKV_RT_POS2D_H
#define QKV_RT_POS2D_H

#include "probes/runtime/rt_model.h"

/* The RT_POS2D_CH features P_ij of the learned forms (zeros otherwise). */
void rt_pos2d_features(rt_pos2d_form form, int i, int j, float f[RT_POS2D_CH]);

/* gain of layer y's term: Σ_c w_c for the learned forms, else 1. */
float rt_pos2d_gain(const rt_config *c, const rt_layer *y);

/* add_ij of layer y's term (0 without a term). */
float rt_pos2d_add(const rt_config *c, const rt_layer *y, int i, int j);

/* add (T, T) of layer y for queries and keys at positions 0..T−1. */
void rt_pos2d_table(const rt_config *c, const rt_layer *y, int T, float *add);

/* The learned parameters' gradients from one layer: dsum (T, T) holds Σ over
 * sequences and heads of dL/dS'_ij, sdot the Σ of dL/dS'_ij · S_ij over the
 * same; adds Σ_ij dsum_ij P_ijc + sdot into dw[c] and Σ dsum into *db.
 * (dL/dS_ij itself is gain · dL/dS'_ij.) */
void rt_pos2d_grad(rt_pos2d_form form, int T, const float *dsum, double sdot, float *dw, float *db);

/* "paper (1x1 conv over i ‖ j features)", "relative …", "ramp (not the paper's)". */
const char *rt_pos2d_form_name(rt_pos2d_form form);

/* The word rt_pos2d_form_parse reads back: "paper", "relative", "ramp"
 * ("none" without a term). */
const char *rt_pos2d_form_word(rt_pos2d_form form);

/* Parse "paper", "relative" or "ramp". */
qkv_status rt_pos2d_form_parse(const char *s, rt_pos2d_form *form);

#endif
