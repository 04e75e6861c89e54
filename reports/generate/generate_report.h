/* generate_report.h — what `qkvplan generate` prints: the prompt, the
 * generated tokens, their text when the model file carries a vocabulary,
 * and prefill and decode speed. Formats: table (text) and JSON with the
 * keys model, threads, temperature, seed, prompt, tokens, text (null
 * without a vocabulary), prefill_tokens, prefill_s, prefill_tok_s,
 * decode_tokens, decode_s, decode_tok_s (null when nothing was decoded). */
#ifndef QKV_GENERATE_REPORT_H
#define QKV_GENERATE_REPORT_H

#include <stdio.h>

#include "probes/runtime/rt_generate.h"
#include "reports/plan/report.h"

typedef struct {
    const char *model_label; /* the file as the user named it (data, escaped on output) */
    const rt_config *cfg;
    int threads;
    double temperature;
    uint64_t seed;
    const int *prompt;
    int n_prompt;
    const int *tokens;
    int n_tokens;
    const char *text; /* decoded text of tokens (raw bytes), or NULL */
    rt_gen_stats stats;
} generate_report_input;

/* REPORT_TABLE or REPORT_JSON; QKV_ERR_UNSUPPORTED for CSV and Markdown. */
qkv_status report_generate_write(FILE *f, report_format fmt, const generate_report_input *in,
                                 qkv_error *err);

#endif
