/* qkvplan generate MODEL — continue a prompt with the reference runtime and
 * time prefill and decode. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/core/clock.h"
#include "analyzer/formats/gguf_vocab.h"
#include "probes/runtime/checkpoint.h"
#include "probes/runtime/rt_generate.h"
#include "probes/runtime/rt_kernels.h"
#include "probes/runtime/rt_lazy.h"
#include "reports/generate/generate_report.h"
#include "cli/cli.h"
#include "cli/lists.h"
#include "cli/doc.h"
#include "cli/pathguard.h"
#include "cli/options.h"
#include "cli/units.h"

enum {
    G_TOKENS = 1,
    G_PROMPT_TOKENS,
    G_PREDICT,
    G_TEMP,
    G_SEED,
    G_THREADS,
    G_FORMAT,
    G_OUTPUT,
    G_HELP
};

#define GENERATE_TOKENS_MAX 65536
#define BOS 1 /* llama2.c and Llama vocabularies */

const cli_option cli_generate_options[] = {
    {0, NULL, 0, NULL, NULL, "Prompt:"},
    {G_TOKENS, "tokens", 't', "LIST", NULL,
     "prompt token ids, separated by spaces or commas (e.g. \"1 461\"); default: BOS (token 1)"},
    {G_PROMPT_TOKENS, "prompt-tokens", 'p', "N", NULL,
     "instead of --tokens, a synthetic prompt of N tokens for timing: BOS, then token "
     "(i x 7919 + 13) mod vocab at position i"},
    {0, NULL, 0, NULL, NULL, "Generation:"},
    {G_PREDICT, "predict", 'n', "N", "16", "tokens to generate"},
    {G_TEMP, "temperature", 0, "T", "0",
     "0 takes the most likely token (greedy, as llama2.c); T > 0 samples from softmax(logits / T)"},
    {G_SEED, "seed", 0, "S", "1", "seed of the sampler"},
    {G_THREADS, "threads", 0, "N", "1",
     "threads for the matrix products and attention heads (idle threads sleep; after a job they "
     "watch for the next one for at most 0.1 ms)"},
    {0, NULL, 0, NULL, NULL, "Output:"},
    {G_FORMAT, "format", 'f', "FMT", "table", "table or json"},
    {G_OUTPUT, "output", 'o', "FILE", NULL,
     "write to FILE (atomically) instead of standard output"},
    {G_HELP, "help", 'h', NULL, NULL, "show this help"},
    {0, NULL, 0, NULL, NULL, NULL},
};

typedef struct {
    const char *tokens, *output;
    uint64_t prompt_tokens, predict, seed, threads;
    double temperature;
    report_format format;
    bool help;
} generate_state;

static int on_option(void *vs, int id, const char *name, const char *value)
{
    generate_state *st = vs;
    char why[160];
    uint64_t *count = NULL, lo = 1, hi = GENERATE_TOKENS_MAX;
    switch (id) {
    case G_TOKENS:
        st->tokens = value;
        return 0;
    case G_PROMPT_TOKENS:
        count = &st->prompt_tokens;
        break;
    case G_PREDICT:
        count = &st->predict;
        break;
    case G_SEED:
        count = &st->seed;
        lo = 0;
        hi = UINT64_MAX;
        break;
    case G_THREADS:
        count = &st->threads;
        hi = RT_THREADS_MAX;
        break;
    case G_TEMP: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || errno || !isfinite(v) || v < 0.0) {
            cli_error("--%s '%s': must be 0 (greedy) or a positive number", name, value);
            return -1;
        }
        st->temperature = v;
        return 0;
    }
    case G_FORMAT:
        if (report_format_parse(value, &st->format) != QKV_OK ||
            (st->format != REPORT_TABLE && st->format != REPORT_JSON)) {
            cli_error("--%s '%s': generate writes table or json", name, value);
            return -1;
        }
        return 0;
    case G_OUTPUT:
        st->output = value;
        return 0;
    case G_HELP:
        st->help = true;
        return 0;
    }
    if (count && units_parse_count(value, lo, hi, count, why, sizeof why) != 0) {
        cli_error("--%s '%s': %s", name, value, why);
        return -1;
    }
    return 0;
}

/* Progress on a terminal for runs longer than a second: one line on
 * stderr, rewritten at most four times a second and erased at the end. */
typedef struct {
    bool tty, shown;
    double start, last;
} progress;

static void on_token(void *user, int i, int n, int token)
{
    (void)token;
    progress *p = user;
    const double t = qkv_now_s();
    if (!p->tty || t - p->start < 1.0 || (t - p->last < 0.25 && i + 1 < n))
        return;
    p->last = t;
    p->shown = true;
    fprintf(stderr, "\rgenerate: %d of %d tokens", i + 1, n);
    fflush(stderr);
}

static qkv_status write_generate(FILE *f, report_format fmt, const void *in, qkv_error *err)
{
    return report_generate_write(f, fmt, in, err);
}

static void print_help(void)
{
    printf("Usage: qkvplan generate MODEL [OPTIONS]\n\n"
           "Continues a prompt with the reference runtime (float32, exact) and times it: the\n"
           "prompt in one prefill (logits at every position), then one decode step per new\n"
           "token over the KV cache. MODEL is a llama2.c checkpoint (.bin), a model saved\n"
           "by qkvplan study (.qkvm), a GGUF file, or safetensors (a file with config.json\n"
           "beside it, a directory, or a sharded index). Prompts are token ids: qkvplan has\n"
           "no tokenizer. When the file carries a vocabulary (GGUF tokenizer.ggml.tokens)\n"
           "the generated tokens are also shown as text.\n");
    cli_print_options(stdout, cli_generate_options);
    printf("\nExample: qkvplan generate examples/models/stories260K.bin -n 8\n"
           "\nExit codes: 0 generated; 1 output could not be written or out of memory;\n"
           "2 bad command line; 3 unreadable or invalid model file.\n");
}

/* The prompt: --tokens as given, or a synthetic prompt of --prompt-tokens
 * tokens (BOS, then a fixed pseudo-random walk over the vocabulary of V). */
static int prompt_tokens(const generate_state *st, int V, int *prompt, int *n)
{
    if (st->tokens)
        return cli_parse_tokens(st->tokens, V, 1, GENERATE_TOKENS_MAX, prompt, n) != 0 ? EXIT_USAGE
                                                                                       : EXIT_OK;
    *n = st->prompt_tokens ? (int)st->prompt_tokens : 1;
    for (int i = 0; i < *n; i++)
        prompt[i] = i == 0 ? (V > BOS ? BOS : 0) : (int)(((uint64_t)i * 7919u + 13u) % (uint64_t)V);
    return EXIT_OK;
}

/* The text of n generated tokens when the GGUF carries a vocabulary
 * (tokenizer.ggml.tokens); *text stays NULL when it does not. */
static int token_text(const gguf_file *g, const int *out, int n, gguf_vocab *vocab, char **text)
{
    qkv_error err;
    qkv_status s = gguf_vocab_read(g, vocab, &err);
    if (s == QKV_ERR_NOTFOUND)
        return EXIT_OK;
    if (s != QKV_OK)
        return cli_fail(&err, EXIT_INPUT);
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += out[i] >= 0 && (size_t)out[i] < vocab->n ? vocab->len[out[i]] : 0;
    if (!(*text = calloc(cap, 1))) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    for (int i = 0; i < n; i++)
        gguf_vocab_text(vocab, out[i], *text, cap);
    return EXIT_OK;
}

int cmd_generate(int argc, char **argv)
{
    generate_state st;
    memset(&st, 0, sizeof st);
    if (cli_apply_defaults(cli_generate_options, on_option, &st) != 0)
        return EXIT_FAIL;
    cli_positional pos = {.max = 1};
    if (cli_parse_positional(cli_generate_options, argc, argv, on_option, &st, &pos) != 0)
        return EXIT_USAGE;
    const char *model_path = pos.n ? pos.arg[0] : NULL;
    if (st.help) {
        print_help();
        return cli_finish_stdout(EXIT_OK);
    }
    if (!model_path) {
        cli_error("generate: give a model file (see 'qkvplan generate --help')");
        return EXIT_USAGE;
    }
    if (st.tokens && st.prompt_tokens) {
        cli_error("--tokens and --prompt-tokens both give the prompt; use one");
        return EXIT_USAGE;
    }
    qkv_error err;
    ckpt ck;
    rt_model m;
    memset(&m, 0, sizeof m);
    if (ckpt_open(model_path, &ck, &err) != QKV_OK) {
        return cli_fail(&err, EXIT_INPUT);
    }
    /* The output file, against every file the model was read from. */
    cli_outputs outs = {0};
    cli_outputs_add(&outs, "--output", "%s", st.output);
    const int guard = cli_outputs_check(&outs);
    if (guard != EXIT_OK) {
        ckpt_close(&ck);
        return guard;
    }
    int code = EXIT_OK, n_prompt = 0;
    int *prompt = malloc(GENERATE_TOKENS_MAX * sizeof *prompt);
    int *out = malloc(st.predict * sizeof *out);
    char *text = NULL;
    gguf_vocab vocab;
    memset(&vocab, 0, sizeof vocab);
    rt_pool *pool = NULL;
    rt_lazy *lazy = NULL;
    if (!prompt || !out) {
        cli_error("out of memory");
        code = EXIT_FAIL;
        goto done;
    }
    if ((code = prompt_tokens(&st, ck.cfg.vocab, prompt, &n_prompt)) != EXIT_OK)
        goto done;
    if (ck.cfg.family == RT_GPT2 &&
        (uint64_t)n_prompt + st.predict - 1 > (uint64_t)ck.cfg.max_seq) {
        cli_error("a %d-token prompt and %llu new tokens exceed the model's %d positions", n_prompt,
                  (unsigned long long)st.predict, ck.cfg.max_seq);
        code = EXIT_USAGE;
        goto done;
    }
    if (!ck.cfg.causal) {
        cli_error("'%s' is a bidirectional model; generation needs a causal one", model_path);
        code = EXIT_INPUT;
        goto done;
    }
    if (rt_lazy_open(&ck, &m, &lazy, &err) != QKV_OK) { /* weights stay in the file */
        code = cli_fail(&err, EXIT_INPUT);
        goto done;
    }
    if (rt_lazy_decode_layout(lazy, &m, &err) != QKV_OK) /* float32 matrices transposed */
        cli_error("note: %s; decoding from the file's layout instead", err.msg);
    if (rt_pool_init(&pool, (int)st.threads, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        code = EXIT_FAIL;
        goto done;
    }
    m.pool = pool;
    progress pr = {isatty(fileno(stderr)) == 1, false, qkv_now_s(), 0.0};
    rt_gen_opts o = {(int)st.predict, st.temperature, st.seed, on_token, &pr};
    rt_gen_stats stats;
    qkv_status s = rt_generate(&m, prompt, n_prompt, &o, out, &stats, &err);
    if (pr.shown)
        fputs("\r\033[K", stderr);
    if (s != QKV_OK) {
        cli_error("generate: %s", err.msg);
        code = s == QKV_ERR_NOMEM ? EXIT_FAIL : s == QKV_ERR_RANGE ? EXIT_USAGE : EXIT_INPUT;
        goto done;
    }
    if (ck.kind == CKPT_GGUF &&
        (code = token_text(&ck.gg, out, (int)st.predict, &vocab, &text)) != EXIT_OK)
        goto done;
    generate_report_input in = {
        model_path, &m.cfg, (int)st.threads, st.temperature, st.seed, prompt,
        n_prompt,   out,    (int)st.predict, text,           stats};
    code = cli_write_report(st.output, st.format, write_generate, &in);
done:
    rt_pool_free(pool);
    gguf_vocab_free(&vocab);
    free(text);
    free(prompt);
    free(out);
    rt_lazy_free(lazy, &m);
    ckpt_close(&ck);
    return code;
}
