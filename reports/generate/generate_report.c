#include "reports/generate/generate_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/jsonutil.h"

/* Text from a model file is data: on a terminal, control bytes, DEL and
 * bytes that do not form UTF-8 are shown as \xNN, a backslash as \\ and a
 * newline as \n. */
static void put_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int len = *p < 0x80             ? 1
                  : (*p & 0xE0) == 0xC0 ? 2
                  : (*p & 0xF0) == 0xE0 ? 3
                  : (*p & 0xF8) == 0xF0 ? 4
                                        : 0;
        for (int i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                len = 0;
        if (len > 1) {
            fwrite(p, 1, (size_t)len, f);
            p += len;
        } else if (*p == '\n') {
            fputs("\\n", f);
            p++;
        } else if (*p == '\\') {
            fputs("\\\\", f);
            p++;
        } else if (*p < 0x20 || *p >= 0x7F) {
            fprintf(f, "\\x%02X", *p);
            p++;
        } else {
            fputc(*p++, f);
        }
    }
}

/* The same rule for JSON, minus what cJSON escapes itself: bytes that do
 * not form UTF-8 become U+FFFD so that the document stays valid. Caller
 * frees. */
static char *valid_utf8(const char *s)
{
    const size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int len = *p < 0x80             ? 1
                  : (*p & 0xE0) == 0xC0 ? 2
                  : (*p & 0xF0) == 0xE0 ? 3
                  : (*p & 0xF8) == 0xF0 ? 4
                                        : 0;
        for (int i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                len = 0;
        if (len == 0) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        } else {
            memcpy(o, p, (size_t)len);
            o += len;
            p += len;
        }
    }
    *o = '\0';
    return out;
}

static double rate(int n, double s)
{
    return n > 0 && s > 0.0 ? n / s : NAN;
}

static void put_tokens(FILE *f, const int *t, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%d", i ? " " : "", t[i]);
    fputc('\n', f);
}

static void write_table(FILE *f, const generate_report_input *in)
{
    const rt_config *c = in->cfg;
    const rt_gen_stats *st = &in->stats;
    put_escaped(f, in->model_label);
    fprintf(f, ": %s, %d layers, d_model %d, %d heads x %d (%d KV), vocab %d; %d thread%s\n",
            c->family == RT_LLAMA ? "Llama-style" : "GPT-2-style", c->n_layers, c->d_model,
            c->n_heads, c->head_dim, c->n_kv_heads, c->vocab, in->threads,
            in->threads == 1 ? "" : "s");
    fprintf(f, "prompt (%d token%s): ", in->n_prompt, in->n_prompt == 1 ? "" : "s");
    put_tokens(f, in->prompt, in->n_prompt);
    if (in->temperature > 0.0)
        fprintf(f, "generated (%d, temperature %g, seed %llu): ", in->n_tokens, in->temperature,
                (unsigned long long)in->seed);
    else
        fprintf(f, "generated (%d, greedy): ", in->n_tokens);
    put_tokens(f, in->tokens, in->n_tokens);
    if (in->text) {
        fputs("text: ", f);
        put_escaped(f, in->text);
        fputc('\n', f);
    }
    fprintf(f, "prefill: %d token%s in %.3f ms (%.1f tokens/s, logits at every position)\n",
            in->n_prompt, in->n_prompt == 1 ? "" : "s", 1e3 * st->prefill_s,
            rate(in->n_prompt, st->prefill_s));
    if (st->n_decode > 0)
        fprintf(f, "decode: %d token%s in %.3f ms (%.1f tokens/s)\n", st->n_decode,
                st->n_decode == 1 ? "" : "s", 1e3 * st->decode_s, rate(st->n_decode, st->decode_s));
}

static cJSON *int_array(const int *t, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateNumber(t[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static qkv_status write_json(FILE *f, const generate_report_input *in, qkv_error *err)
{
    const rt_gen_stats *st = &in->stats;
    char *text = NULL, *label = valid_utf8(in->model_label);
    cJSON *root = report_json_document(), *a;
    JSON_CHECK(root && label);
    JSON_CHECK(cJSON_AddStringToObject(root, "model", label));
    JSON_CHECK(report_json_i64(root, "threads", in->threads));
    JSON_CHECK(report_json_double(root, "temperature", in->temperature));
    JSON_CHECK(report_json_u64(root, "seed", in->seed));
    JSON_CHECK(a = int_array(in->prompt, in->n_prompt));
    cJSON_AddItemToObject(root, "prompt", a);
    JSON_CHECK(a = int_array(in->tokens, in->n_tokens));
    cJSON_AddItemToObject(root, "tokens", a);
    if (in->text) {
        JSON_CHECK(text = valid_utf8(in->text));
        JSON_CHECK(cJSON_AddStringToObject(root, "text", text));
    } else {
        JSON_CHECK(cJSON_AddNullToObject(root, "text"));
    }
    JSON_CHECK(report_json_i64(root, "prefill_tokens", in->n_prompt));
    JSON_CHECK(report_json_double(root, "prefill_s", st->prefill_s));
    JSON_CHECK(report_json_double(root, "prefill_tok_s", rate(in->n_prompt, st->prefill_s)));
    JSON_CHECK(report_json_i64(root, "decode_tokens", st->n_decode));
    JSON_CHECK(report_json_double(root, "decode_s", st->decode_s));
    JSON_CHECK(report_json_double(root, "decode_tok_s", rate(st->n_decode, st->decode_s)));
    free(text);
    free(label);
    return report_json_emit(f, root, err);
nomem:
    free(text);
    free(label);
    cJSON_Delete(root);
    return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory writing JSON");
}

qkv_status report_generate_write(FILE *f, report_format fmt, const generate_report_input *in,
                                 qkv_error *err)
{
    if (fmt == REPORT_JSON)
        return write_json(f, in, err);
    if (fmt != REPORT_TABLE)
        return qkv_error_set(err, QKV_ERR_UNSUPPORTED, "generate writes table or json, not %s",
                             report_format_name(fmt));
    write_table(f, in);
    return report_flushed(f, QKV_OK, err);
}
