#include "reports/probe/probe_report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "probes/runtime/rt_pos2d.h"
#include "reports/fmt.h"
#include "reports/jsonutil.h"
#include "reports/textwrap.h"
#include "analyzer/core/paths.h"

static const char *const conventions =
    "erank: Roy-Vetterli effective rank exp(-sum p ln p), p = s/sum(s); frac = / min(rows, cols). "
    "cos2: mean squared cosine of the principal angles between row spaces (weights as read "
    "directions in the residual stream); chance = k/d for random subspaces. CKA: linear, on "
    "column-centred activations; K before RoPE. sym: symmetric share |(M+M^T)/2|^2/|M|^2 of "
    "W_Q^T W_K (W) and of the pre-mask scores (S). entropy: row entropy / ln(visible keys).";

/* Print text wrapped at 100 columns. */
/* Prose at the table's width (100 columns when it has none: files). */
static void wrapped(FILE *f, const char *text, size_t width)
{
    report_wrap(f, text, width ? width : 100, 0);
}

/* A table's title line, wrapped only when there is a width to keep. */
static void title_line(FILE *f, const char *text, size_t width)
{
    if (width)
        report_wrap(f, text, width, 4);
    else
        fprintf(f, "%s\n", text);
}

static void num(FILE *f, double v, int prec)
{
    if (isfinite(v))
        fprintf(f, "%.*f", prec, v);
    else
        fputs("n/a", f);
}

/* The weight-probe table, one part of columns: ranks (part 0), overlaps and
 * residual (part 1), or both (-1). */
static void weight_columns(FILE *f, const probe_result *r, int part)
{
    fprintf(f, "%5s %4s %3s |", "layer", "head", "kvh");
    if (part != 1)
        fprintf(f, " %6s %6s %6s %6s %4s %4s%s", "eWQ", "eWK", "eWV", "srWK", "k90", "k99",
                part < 0 ? " |" : "");
    if (part != 0)
        fprintf(f, " %6s %6s %6s %6s | %6s %6s", "cosKV", "cosQK", "chance", "grsKV", "symW",
                "K=V res");
    fputc('\n', f);
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        fprintf(f, "%5d %4d %3d |", h->layer, h->head, h->kv_head);
        if (part != 1)
            fprintf(f, " %6.2f %6.2f %6.2f %6.2f %4d %4d%s", h->wq.erank, h->wk.erank, h->wv.erank,
                    h->wk.stable_rank, h->wk.k90, h->wk.k99, part < 0 ? " |" : "");
        if (part != 0)
            fprintf(f, " %6.3f %6.3f %6.3f %6.3f | %6.3f %6.3f", h->kv.mean_cos2, h->qk.mean_cos2,
                    h->kv.chance, h->kv.grassmann, h->sym_w, h->kv_residual);
        fputc('\n', f);
    }
}

static void write_weights_table(FILE *f, const probe_report_input *in)
{
    const probe_result *r = in->probe;
    const rt_config *c = &r->cfg;
    char title[QKV_PATH_BYTES + 128];
    snprintf(title, sizeof title, "%s: weights of %d layers, d_model %d, %d heads x %d (%d KV)",
             in->model_label, c->n_layers, c->d_model, c->n_heads, c->head_dim, c->n_kv_heads);
    title_line(f, title, in->width);
    fputc('\n', f);
    const size_t full_width = 104; /* both parts on one line */
    if (in->width == 0 || in->width >= full_width) {
        weight_columns(f, r, -1);
    } else {
        weight_columns(f, r, 0);
        fputc('\n', f);
        weight_columns(f, r, 1);
    }
    fprintf(f, "\n");
    wrapped(
        f,
        "eW*: effective ranks of the head's W_Q, W_K and W_V slices; srWK: stable rank of W_K; "
        "k90/k99: energy ranks of W_K. cosKV/cosQK: mean cos^2 of the principal angles between "
        "the read directions of W_K and W_V (W_Q and W_K), chance = k/d; grsKV: Grassmann "
        "distance (radians). symW: symmetric share of W_Q^T W_K. K=V res: |W_V - M W_K| / |W_V| "
        "for the best linear M, the part of V a shared K=V projection cannot express without "
        "retraining (0 = none, 1 = all).",
        in->width);
}

/* The per-head table, value columns [from, to) of the 15. */
static void head_columns(FILE *f, const probe_result *r, int from, int to)
{
    static const char *const names[15] = {"eQ",    "eKpre", "eK",     "eV",    "eMap",
                                          "cosKV", "cosQK", "chance", "ckaKV", "ckaQK",
                                          "symW",  "symS",  "entr",   "first", "dist"};
    static const int prec[15] = {2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2};
    /* a bar after the last column of each group: ranks, overlaps, CKA, symmetry */
    const bool bar_after[15] = {[4] = true, [7] = true, [9] = true, [11] = true};
    fprintf(f, "\n%5s %4s %3s |", "layer", "head", "kvh");
    for (int j = from; j < to; j++)
        fprintf(f, " %6s%s", names[j], bar_after[j] && j + 1 < to ? " |" : "");
    fputc('\n', f);
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        const double vals[15] = {h->q.erank,
                                 h->k_pre.erank,
                                 h->k.erank,
                                 h->v.erank,
                                 h->map.erank,
                                 h->kv.mean_cos2,
                                 h->qk.mean_cos2,
                                 h->kv.chance,
                                 h->cka_kv,
                                 h->cka_qk,
                                 h->sym_w,
                                 h->sym_scores,
                                 h->map_stats.entropy,
                                 h->map_stats.first_mass,
                                 h->map_stats.mean_dist};
        fprintf(f, "%5d %4d %3d |", h->layer, h->head, h->kv_head);
        for (int j = from; j < to; j++) {
            char buf[32];
            if (isfinite(vals[j]))
                snprintf(buf, sizeof buf, "%.*f", prec[j], vals[j]);
            else
                snprintf(buf, sizeof buf, "n/a");
            fprintf(f, " %6s%s", buf, bar_after[j] && j + 1 < to ? " |" : "");
        }
        fputc('\n', f);
    }
}

static void write_table(FILE *f, const probe_report_input *in)
{
    const probe_result *r = in->probe;
    const rt_config *c = &r->cfg;
    if (r->weights_only) {
        write_weights_table(f, in);
        return;
    }
    char title[QKV_PATH_BYTES + 160];
    snprintf(title, sizeof title,
             "%s: %s, %d layers, d_model %d, %d heads x %d (%d KV), %s, %s%s, %d tokens",
             in->model_label, c->family == RT_LLAMA ? "Llama-style" : "GPT-2-style", c->n_layers,
             c->d_model, c->n_heads, c->head_dim, c->n_kv_heads, variant_share_name(c->share),
             c->causal ? "causal" : "bidirectional", c->pos2d ? " + 2D term" : "", r->n_tokens);
    title_line(f, title, in->width);
    /* 15 value columns in groups (ranks | overlaps | CKA | symmetry | map
     * statistics): 129 characters in one table, or two parts of at most 79 */
    const size_t full_width = 129;
    if (in->width == 0 || in->width >= full_width) {
        head_columns(f, r, 0, 15);
    } else {
        head_columns(f, r, 0, 8);
        head_columns(f, r, 8, 15);
    }
    char text[1536];
    snprintf(text, sizeof text,
             "eQ..eMap: effective ranks (of %d-wide heads; map over %d tokens). %s", c->head_dim,
             r->n_tokens, conventions);
    fputc('\n', f);
    wrapped(f, text, in->width);
    if (c->pos2d == RT_POS2D_RAMP)
        fprintf(f,
                "2D term: P[i][j] = %g (j - i) / %d added to scores before the mask (not the "
                "paper's).\n",
                (double)c->pos2d_scale, c->max_seq);
    else if (c->pos2d)
        fprintf(f, "2D term: %s.\n", rt_pos2d_form_name(c->pos2d));
}

static cJSON *ranks_json(const spectral_ranks *r)
{
    cJSON *o = cJSON_CreateObject();
    JSON_CHECK(o);
    JSON_CHECK(cJSON_AddNumberToObject(o, "n", r->n));
    JSON_CHECK(report_json_double(o, "erank", r->erank));
    JSON_CHECK(report_json_double(o, "erank_frac", r->n ? r->erank / r->n : 0.0));
    JSON_CHECK(report_json_double(o, "stable_rank", r->stable_rank));
    JSON_CHECK(report_json_double(o, "stable_rank_frac", r->n ? r->stable_rank / r->n : 0.0));
    JSON_CHECK(cJSON_AddNumberToObject(o, "k90", r->k90));
    JSON_CHECK(cJSON_AddNumberToObject(o, "k99", r->k99));
    JSON_CHECK(report_json_double(o, "sigma_max", r->sigma_max));
    return o;
nomem:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *overlap_json(const spectral_overlap *ov, const double *cos)
{
    cJSON *o = cJSON_CreateObject(), *arr;
    JSON_CHECK(o);
    JSON_CHECK(report_json_double(o, "mean_cos2", ov->mean_cos2));
    JSON_CHECK(report_json_double(o, "chance", ov->chance));
    JSON_CHECK(report_json_double(o, "grassmann", ov->grassmann));
    JSON_CHECK(arr = cJSON_AddArrayToObject(o, "cosines"));
    for (int i = 0; i < ov->k; i++) {
        cJSON *item = report_json_double_item(cos[i]);
        JSON_CHECK(item);
        cJSON_AddItemToArray(arr, item);
    }
    return o;
nomem:
    cJSON_Delete(o);
    return NULL;
}

static qkv_status write_json(FILE *f, const probe_report_input *in, qkv_error *err)
{
    const probe_result *r = in->probe;
    const rt_config *c = &r->cfg;
    cJSON *root = report_json_document(), *arr, *item, *o;
    JSON_CHECK(root);
    JSON_CHECK(cJSON_AddStringToObject(root, "model", in->model_label));
    JSON_CHECK(o = cJSON_AddObjectToObject(root, "config"));
    JSON_CHECK(cJSON_AddStringToObject(o, "family", c->family == RT_LLAMA ? "llama" : "gpt2"));
    JSON_CHECK(cJSON_AddNumberToObject(o, "layers", c->n_layers));
    JSON_CHECK(cJSON_AddNumberToObject(o, "d_model", c->d_model));
    JSON_CHECK(cJSON_AddNumberToObject(o, "heads", c->n_heads));
    JSON_CHECK(cJSON_AddNumberToObject(o, "kv_heads", c->n_kv_heads));
    JSON_CHECK(cJSON_AddNumberToObject(o, "head_dim", c->head_dim));
    JSON_CHECK(cJSON_AddStringToObject(o, "share", variant_share_name(c->share)));
    JSON_CHECK(cJSON_AddBoolToObject(o, "causal", c->causal));
    JSON_CHECK(cJSON_AddBoolToObject(o, "pos2d", c->pos2d));
    JSON_CHECK(cJSON_AddBoolToObject(root, "weights_only", r->weights_only));
    JSON_CHECK(cJSON_AddStringToObject(root, "conventions", conventions));
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "tokens"));
    for (int i = 0; i < r->n_tokens; i++) {
        JSON_CHECK(item = cJSON_CreateNumber(r->tokens[i]));
        cJSON_AddItemToArray(arr, item);
    }
    JSON_CHECK(arr = cJSON_AddArrayToObject(root, "heads"));
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        JSON_CHECK(item = cJSON_CreateObject());
        cJSON_AddItemToArray(arr, item);
        JSON_CHECK(cJSON_AddNumberToObject(item, "layer", h->layer));
        JSON_CHECK(cJSON_AddNumberToObject(item, "head", h->head));
        JSON_CHECK(cJSON_AddNumberToObject(item, "kv_head", h->kv_head));
        const struct {
            const char *k;
            const spectral_ranks *r;
        } rk[] = {{"w_q", &h->wq}, {"w_k", &h->wk}, {"w_v", &h->wv},           {"q", &h->q},
                  {"k", &h->k},    {"v", &h->v},    {"k_pre_rope", &h->k_pre}, {"map", &h->map}};
        const size_t n_rk = r->weights_only ? 3 : sizeof rk / sizeof rk[0];
        for (size_t j = 0; j < n_rk; j++) {
            JSON_CHECK(o = ranks_json(rk[j].r));
            cJSON_AddItemToObject(item, rk[j].k, o);
        }
        JSON_CHECK(o = overlap_json(&h->kv, h->cos_kv));
        cJSON_AddItemToObject(item, "overlap_kv", o);
        JSON_CHECK(o = overlap_json(&h->qk, h->cos_qk));
        cJSON_AddItemToObject(item, "overlap_qk", o);
        JSON_CHECK(report_json_double(item, "sym_share_w", h->sym_w));
        if (r->weights_only) {
            JSON_CHECK(report_json_double(item, "kv_residual", h->kv_residual));
            continue;
        }
        JSON_CHECK(report_json_double(item, "cka_kv", h->cka_kv));
        JSON_CHECK(report_json_double(item, "cka_kv_random_wv", h->cka_kv_rand));
        JSON_CHECK(
            report_json_double(item, "overlap_kv_gain_folded_mean_cos2", h->kv_folded.mean_cos2));
        JSON_CHECK(
            report_json_double(item, "overlap_qk_gain_folded_mean_cos2", h->qk_folded.mean_cos2));
        JSON_CHECK(report_json_double(item, "wk_wv_flat_cos_gain_folded", h->kv_flat_cos));
        JSON_CHECK(report_json_double(item, "cka_qk", h->cka_qk));
        JSON_CHECK(report_json_double(item, "sym_share_scores", h->sym_scores));
        JSON_CHECK(report_json_double(item, "map_entropy", h->map_stats.entropy));
        JSON_CHECK(report_json_double(item, "map_first_mass", h->map_stats.first_mass));
        JSON_CHECK(report_json_double(item, "map_mean_distance", h->map_stats.mean_dist));
    }
    return report_json_emit(f, root, err);
nomem:
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory building JSON");
}

static void write_csv(FILE *f, const probe_report_input *in)
{
    const probe_result *r = in->probe;
    if (r->weights_only) {
        fputs("layer,head,kv_head,erank_w_q,erank_w_k,erank_w_v,stable_rank_w_k,k90_w_k,k99_w_k,"
              "overlap_kv_mean_cos2,overlap_qk_mean_cos2,overlap_chance,grassmann_kv,grassmann_qk,"
              "sym_share_w,kv_residual\n",
              f);
        for (int i = 0; i < r->n_heads; i++) {
            const probe_head *h = &r->heads[i];
            fprintf(f, "%d,%d,%d", h->layer, h->head, h->kv_head);
            const double vals[] = {h->wq.erank,       h->wk.erank,     h->wv.erank,
                                   h->wk.stable_rank, h->wk.k90,       h->wk.k99,
                                   h->kv.mean_cos2,   h->qk.mean_cos2, h->kv.chance,
                                   h->kv.grassmann,   h->qk.grassmann, h->sym_w,
                                   h->kv_residual};
            for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
                char buf[40];
                fmt_double(vals[j], buf, sizeof buf);
                fprintf(f, ",%s", buf);
            }
            fputc('\n', f);
        }
        return;
    }
    fputs("layer,head,kv_head,erank_q,erank_k_pre_rope,erank_k,erank_v,erank_map,erank_w_q,"
          "erank_w_k,erank_w_v,stable_rank_w_k,k90_w_k,k99_w_k,overlap_kv_mean_cos2,"
          "overlap_qk_mean_cos2,overlap_chance,grassmann_kv,grassmann_qk,cka_kv,cka_qk,"
          "sym_share_w,sym_share_scores,map_entropy,map_first_mass,map_mean_distance\n",
          f);
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        fprintf(f, "%d,%d,%d", h->layer, h->head, h->kv_head);
        const double vals[] = {h->q.erank,
                               h->k_pre.erank,
                               h->k.erank,
                               h->v.erank,
                               h->map.erank,
                               h->wq.erank,
                               h->wk.erank,
                               h->wv.erank,
                               h->wk.stable_rank,
                               h->wk.k90,
                               h->wk.k99,
                               h->kv.mean_cos2,
                               h->qk.mean_cos2,
                               h->kv.chance,
                               h->kv.grassmann,
                               h->qk.grassmann,
                               h->cka_kv,
                               h->cka_qk,
                               h->sym_w,
                               h->sym_scores,
                               h->map_stats.entropy,
                               h->map_stats.first_mass,
                               h->map_stats.mean_dist};
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
            char buf[40];
            fmt_double(vals[j], buf, sizeof buf);
            fprintf(f, ",%s", buf);
        }
        fputc('\n', f);
    }
}

static void write_md(FILE *f, const probe_report_input *in)
{
    const probe_result *r = in->probe;
    const rt_config *c = &r->cfg;
    if (r->weights_only) {
        fprintf(f,
                "# qkvplan weight probe: %s\n\n| layer | head | KV head | erank W_Q | erank W_K | "
                "erank W_V | K–V cos² | Q–K cos² | chance | sym W | K=V residual |\n"
                "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
                in->model_label);
        for (int i = 0; i < r->n_heads; i++) {
            const probe_head *h = &r->heads[i];
            fprintf(f, "| %d | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n",
                    h->layer, h->head, h->kv_head, h->wq.erank, h->wk.erank, h->wv.erank,
                    h->kv.mean_cos2, h->qk.mean_cos2, h->kv.chance, h->sym_w, h->kv_residual);
        }
        fprintf(f, "\nConventions: %s K=V residual: |W_V - M W_K| / |W_V| for the best linear M.\n",
                conventions);
        return;
    }
    fprintf(f, "# qkvplan probe: %s\n\n", in->model_label);
    fprintf(f,
            "%s-style, %d layers, d_model %d, %d heads x %d (%d KV heads), %s, %s; %d tokens.\n\n",
            c->family == RT_LLAMA ? "Llama" : "GPT-2", c->n_layers, c->d_model, c->n_heads,
            c->head_dim, c->n_kv_heads, variant_share_name(c->share),
            c->causal ? "causal" : "bidirectional", r->n_tokens);
    fprintf(f,
            "| layer | head | KV head | erank Q | erank K | erank V | erank map | K–V cos² | "
            "Q–K cos² | chance | CKA K–V | CKA Q–K | sym W | sym S | entropy | first | "
            "distance |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < r->n_heads; i++) {
        const probe_head *h = &r->heads[i];
        fprintf(f, "| %d | %d | %d |", h->layer, h->head, h->kv_head);
        const double vals[] = {h->q.erank,
                               h->k.erank,
                               h->v.erank,
                               h->map.erank,
                               h->kv.mean_cos2,
                               h->qk.mean_cos2,
                               h->kv.chance,
                               h->cka_kv,
                               h->cka_qk,
                               h->sym_w,
                               h->sym_scores,
                               h->map_stats.entropy,
                               h->map_stats.first_mass,
                               h->map_stats.mean_dist};
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
            fputc(' ', f);
            num(f, vals[j], 3);
            fputs(" |", f);
        }
        fputc('\n', f);
    }
    fprintf(f, "\nConventions: %s\n", conventions);
}

qkv_status report_probe_write(FILE *f, report_format fmt, const probe_report_input *in,
                              qkv_error *err)
{
    qkv_status s = QKV_OK;
    switch (fmt) {
    case REPORT_TABLE:
        write_table(f, in);
        break;
    case REPORT_JSON:
        s = write_json(f, in, err);
        break;
    case REPORT_CSV:
        write_csv(f, in);
        break;
    case REPORT_MD:
        write_md(f, in);
        break;
    default:
        return qkv_error_set(err, QKV_ERR_INVALID, "unknown report format");
    }
    return report_flushed(f, s, err);
}
