/* lm_lines.c — reading back the result lines of a sharded LM study. */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "analyzer/formats/json_strict.h"
#include "reports/jsonutil.h"
#include "reports/study/lm_report.h"

/* A finite number field (null reads as NaN when nullable). */
static qkv_status number(const cJSON *o, const char *key, bool nullable, double *out,
                         qkv_error *err)
{
    return report_json_read_number(o, key, -DBL_MAX, DBL_MAX, false, nullable, out, err);
}

/* The fields of a line, checked against r. */
static qkv_status read_fields(const lm_result *r, const cJSON *o, lm_run *got, int *j,
                              qkv_error *err)
{
    const cJSON *study = cJSON_GetObjectItemCaseSensitive(o, "study"),
                *var_item = cJSON_GetObjectItemCaseSensitive(o, "variant"),
                *curve = cJSON_GetObjectItemCaseSensitive(o, "loss_curve");
    if (!cJSON_IsString(study) || strcmp(study->valuestring, "lm") != 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "field 'study': not an LM study line (\"lm\")");
    double run, ctx, seed, steps, teacher, params, d_ff;
    qkv_status st;
    if ((st = number(o, "run", false, &run, err)) || (st = number(o, "ctx", false, &ctx, err)) ||
        (st = number(o, "seed", false, &seed, err)) ||
        (st = number(o, "steps", false, &steps, err)) ||
        (st = number(o, "teacher_val_nll", false, &teacher, err)) ||
        (st = number(o, "val_nll", false, &got->val_nll, err)) ||
        (st = number(o, "train_nll_final", true, &got->train_nll_final, err)) ||
        (st = number(o, "params", false, &params, err)) ||
        (st = number(o, "d_ff", false, &d_ff, err)) ||
        (st = number(o, "seconds", false, &got->seconds, err)))
        return st;
    if (run != floor(run) || run < 0 || run >= r->n_runs)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "field 'run': %g is not a run of this study "
                             "(0 to %d)",
                             run, r->n_runs - 1);
    *j = (int)run;
    const lm_run *want = &r->runs[*j];
    const char *label = r->vars[want->var].label;
    if (!cJSON_IsString(var_item) || strcmp(var_item->valuestring, label) != 0 ||
        ctx != want->ctx || seed != want->seed)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "run %d is %s at context %d, seed %d in this study: the line was "
                             "written with other options",
                             *j, label, want->ctx, want->seed);
    if (steps != r->settings.steps)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "field 'steps': %g, the study trains %d: the line was written with "
                             "other options",
                             steps, r->settings.steps);
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(o, "settings");
    char mine[LM_SETTINGS_TEXT_BYTES];
    report_lm_settings_text(r, mine, sizeof mine);
    if (!cJSON_IsString(settings))
        return qkv_error_set(err, QKV_ERR_INVALID, "field 'settings': missing or not a string");
    if (strcmp(settings->valuestring, mine) != 0)
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "field 'settings': '%.300s', this study '%.300s': the line was "
                             "written with other options",
                             settings->valuestring, mine);
    if (fabs(teacher - r->corpus->teacher_val_nll) > 1e-9 * fabs(r->corpus->teacher_val_nll))
        return qkv_error_set(err, QKV_ERR_INVALID,
                             "field 'teacher_val_nll': %.17g, this corpus %.17g: another corpus "
                             "or teacher",
                             teacher, r->corpus->teacher_val_nll);
    if (!(got->val_nll > 0.0 && got->val_nll < 700.0) /* exp() finite */ || params < 1 ||
        params > 1e15 || d_ff < 1 || d_ff > 1e9 || got->seconds < 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "val_nll, params, d_ff or seconds out of range");
    got->params = (uint64_t)params;
    got->d_ff = (int)d_ff;
    if (!cJSON_IsArray(curve) || cJSON_GetArraySize(curve) != r->n_curve)
        return qkv_error_set(err, QKV_ERR_INVALID, "field 'loss_curve': not %d numbers",
                             r->n_curve);
    return QKV_OK;
}

qkv_status report_lm_run_line_read(lm_result *r, const char *text, size_t n, bool *duplicate,
                                   qkv_error *err)
{
    *duplicate = false;
    cJSON *o = NULL;
    qkv_status ps = json_strict_parse_status(text, n, &o, err);
    if (ps != QKV_OK)
        return ps;
    lm_run got;
    memset(&got, 0, sizeof got);
    int j = -1;
    qkv_status st = cJSON_IsObject(o) ? read_fields(r, o, &got, &j, err)
                                      : qkv_error_set(err, QKV_ERR_INVALID, "not a JSON object");
    if (st == QKV_OK && r->runs[j].done)
        *duplicate = true;
    else if (st == QKV_OK) {
        lm_run *run = &r->runs[j];
        const cJSON *curve = cJSON_GetObjectItemCaseSensitive(o, "loss_curve"), *x;
        int k = 0;
        cJSON_ArrayForEach(x, curve)
        {
            if (!cJSON_IsNumber(x) && !cJSON_IsNull(x)) {
                st = qkv_error_set(err, QKV_ERR_INVALID, "field 'loss_curve': item %d", k);
                break;
            }
            run->curve[k++] = cJSON_IsNull(x) ? NAN : x->valuedouble;
        }
        if (st == QKV_OK) {
            run->val_nll = got.val_nll;
            run->train_nll_final = got.train_nll_final;
            run->seconds = got.seconds;
            run->params = got.params;
            run->d_ff = got.d_ff;
            run->done = true;
        }
    }
    cJSON_Delete(o);
    return st;
}
