/* peer_driver — asks the real llama.cpp (the pinned release, linked as shared
 * libraries) what it allocates for one cache configuration, so that
 * tests/peer/peer_check.sh can compare it with qkvplan's planner.
 *
 * Written against include/llama.h of llama.cpp release v0.4.0 (commit 5b4ebc5,
 * as bundled by npm node-llama-cpp@3.21.1). Not part of qkvplan's library.
 *
 * Output, one "key value" pair per line on standard output:
 *   status      accepted | refused | load_failed
 *   reason      llama.cpp's own error text (refused / load_failed only)
 *   n_ctx, n_ctx_seq, n_seq_max, n_ubatch   what the context settled on
 *   cache       cells layers n_seq_max/n_stream type_k type_v  (one per
 *               "llama_kv_cache: size = ..." line; iSWA models print two)
 *   kv_buffer_bytes   exact bytes of every KV buffer llama.cpp allocated
 *   kv_log_mib        the same caches as llama.cpp's "size = X MiB" lines add up
 *   model_buffer NAME BYTES, kv_buffer NAME BYTES, compute_buffer NAME BYTES
 *               one line per buffer llama.cpp logs ("CPU_Mapped model buffer
 *               size", "Vulkan0 KV buffer size", "Vulkan_Host compute buffer
 *               size"), with the exact bytes behind the MiB figure
 *   tokens      greedy continuation (with --predict N)
 *   logits      the first --logits N logits after the prompt
 *   prefill_tok_s, decode_tok_s   with --bench 1: prompt tokens per second of
 *               the prompt's llama_decode (logits requested at every
 *               position), and tokens per second of the one-token
 *               llama_decode calls with their greedy argmax (--predict N
 *               makes N of them); --threads sets both
 *               n_threads and n_threads_batch (default 1)
 * With --no-alloc 1 llama.cpp only plans (llama_model_params.no_alloc): it reads
 * the GGUF's metadata and tensor sizes, allocates nothing, and KV buffers are
 * dummies (kv_buffer_bytes 0); kv_log_mib then is the figure to compare.
 * Exit status: 0 whenever a verdict was printed (accepted or refused),
 * 1 on a usage error, 2 when the model did not load.
 *
 * Exact bytes: llama.cpp logs KV sizes only in MiB with two decimals, so this
 * program interposes ggml_backend_alloc_ctx_tensors_from_buft (called by
 * libllama through the dynamic linker; the executable is linked with
 * -rdynamic so its definition wins), remembers the size of the buffer it
 * returned, and books it as KV when the next log line is llama.cpp's
 * "KV buffer size" line, which llama_kv_cache's constructor prints right after
 * allocating (src/llama-kv-cache.cpp:283-291 in v0.4.0).
 *
 * Per-device buffers (--ngl N with a GPU build, e.g. the Vulkan one): every
 * "model buffer size" and "KV buffer size" line is printed with
 * ggml_backend_buffer_get_size(buf) as its argument (src/llama-model.cpp:1806,
 * src/llama-kv-cache.cpp:291), and every "compute buffer size" line with
 * ggml_backend_sched_get_buffer_size(sched, backend) computed just before it
 * (src/llama-context.cpp:687-692); both are interposed the same way, and the
 * last value each returned is booked under the buffer name the line gives. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

#define MAX_PROMPT_TOKENS 8192
#define MAX_CACHE_LINES 8
#define REASON_BYTES 4096

typedef ggml_backend_buffer_t (*alloc_fn)(struct ggml_context *, ggml_backend_buffer_type_t);

static size_t g_last_alloc_bytes;     /* size of the most recent tensor buffer */
static size_t g_kv_buffer_bytes;      /* sum over "KV buffer size" lines */
static double g_kv_log_mib;           /* sum over "llama_kv_cache: size = " lines */
static char g_cache_lines[MAX_CACHE_LINES][256];
static int g_cache_line_count;
static char g_last_error[REASON_BYTES]; /* error lines since the last reset, joined */
static int g_verbose;
static char g_partial[4096];          /* llama.cpp may log one line in pieces */
static size_t g_last_buffer_size;     /* last ggml_backend_buffer_get_size result */
static size_t g_last_sched_size;      /* last ggml_backend_sched_get_buffer_size result */
#define MAX_BUFFER_LINES 32
static char g_buffer_lines[MAX_BUFFER_LINES][160];
static int g_buffer_line_count;

ggml_backend_buffer_t ggml_backend_alloc_ctx_tensors_from_buft(struct ggml_context *ctx,
                                                             ggml_backend_buffer_type_t buft);

ggml_backend_buffer_t ggml_backend_alloc_ctx_tensors_from_buft(struct ggml_context *ctx,
                                                             ggml_backend_buffer_type_t buft) {
    static alloc_fn real;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "ggml_backend_alloc_ctx_tensors_from_buft");
        if (!sym) {
            fprintf(stderr, "peer_driver: cannot find the real ggml_backend_alloc_ctx_tensors_from_buft\n");
            abort();
        }
        memcpy(&real, &sym, sizeof real);
    }
    ggml_backend_buffer_t buf = real(ctx, buft);
    g_last_alloc_bytes = buf ? ggml_backend_buffer_get_size(buf) : 0;
    return buf;
}

typedef size_t (*size_fn)(ggml_backend_buffer_t);
typedef size_t (*sched_size_fn)(ggml_backend_sched_t, ggml_backend_t);

size_t ggml_backend_buffer_get_size(ggml_backend_buffer_t buffer);
size_t ggml_backend_buffer_get_size(ggml_backend_buffer_t buffer) {
    static size_fn real;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "ggml_backend_buffer_get_size");
        if (!sym) {
            fprintf(stderr, "peer_driver: cannot find the real ggml_backend_buffer_get_size\n");
            abort();
        }
        memcpy(&real, &sym, sizeof real);
    }
    g_last_buffer_size = real(buffer);
    return g_last_buffer_size;
}

size_t ggml_backend_sched_get_buffer_size(ggml_backend_sched_t sched, ggml_backend_t backend);
size_t ggml_backend_sched_get_buffer_size(ggml_backend_sched_t sched, ggml_backend_t backend) {
    static sched_size_fn real;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "ggml_backend_sched_get_buffer_size");
        if (!sym) {
            fprintf(stderr, "peer_driver: cannot find the real ggml_backend_sched_get_buffer_size\n");
            abort();
        }
        memcpy(&real, &sym, sizeof real);
    }
    g_last_sched_size = real(sched, backend);
    return g_last_sched_size;
}

/* "...: NAME model buffer size = ..." -> "model_buffer NAME BYTES" */
static void book_buffer(const char *line, const char *what, const char *key, size_t bytes) {
    const char *at = strstr(line, what);
    if (!at || g_buffer_line_count >= MAX_BUFFER_LINES) return;
    const char *end = at;
    while (end > line && end[-1] == ' ') end--;
    const char *start = end;
    while (start > line && start[-1] != ' ') start--;
    snprintf(g_buffer_lines[g_buffer_line_count++], sizeof g_buffer_lines[0], "%s %.*s %zu", key,
             (int)(end - start), start, bytes);
}

/* One complete log line from llama.cpp. */
static void on_line(enum ggml_log_level level, const char *line) {
    if (g_verbose) {
        fprintf(stderr, "%s\n", line);
    }
    if (level == GGML_LOG_LEVEL_ERROR) {
        /* keep every error line: the first says why, the last says where */
        size_t used = strlen(g_last_error);
        snprintf(g_last_error + used, sizeof g_last_error - used, "%s%s", used ? " | " : "", line);
    }
    if (strstr(line, "KV buffer size =")) {
        g_kv_buffer_bytes += g_last_alloc_bytes;
        g_last_alloc_bytes = 0;
        book_buffer(line, " KV buffer size =", "kv_buffer", g_last_buffer_size);
    }
    if (strstr(line, "model buffer size =")) book_buffer(line, " model buffer size =", "model_buffer", g_last_buffer_size);
    if (strstr(line, "compute buffer size =")) book_buffer(line, " compute buffer size =", "compute_buffer", g_last_sched_size);
    const char *p = strstr(line, "llama_kv_cache: size = ");
    if (p) {
        /* llama_kv_cache: size =    4.00 MiB (   256 cells,   2 layers,  1/1 seqs), K (f16): ... */
        double mib = 0;
        unsigned cells = 0, layers = 0, seqs = 0, streams = 0;
        char tk[32] = "", tv[32] = "";
        const char *k = strstr(p, "K (");
        const char *v = strstr(p, "V (");
        if (sscanf(p, "llama_kv_cache: size = %lf MiB ( %u cells, %u layers, %u/%u seqs)",
                   &mib, &cells, &layers, &seqs, &streams) == 5 && k && v &&
            sscanf(k, "K (%31[^)])", tk) == 1 && sscanf(v, "V (%31[^)])", tv) == 1) {
            g_kv_log_mib += mib;
            if (g_cache_line_count < MAX_CACHE_LINES) {
                snprintf(g_cache_lines[g_cache_line_count++], sizeof g_cache_lines[0],
                         "%u %u %u/%u %s %s", cells, layers, seqs, streams, tk, tv);
            }
        }
    }
}

static void log_cb(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    static enum ggml_log_level line_level = GGML_LOG_LEVEL_NONE;
    if (level != GGML_LOG_LEVEL_CONT) {
        line_level = level;
    }
    size_t used = strlen(g_partial);
    snprintf(g_partial + used, sizeof g_partial - used, "%s", text);
    char *nl;
    while ((nl = strchr(g_partial, '\n')) != NULL) {
        *nl = '\0';
        on_line(line_level, g_partial);
        memmove(g_partial, nl + 1, strlen(nl + 1) + 1);
    }
}

static int parse_uint(const char *s, const char *what, unsigned long max, unsigned long *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) {
        fprintf(stderr, "peer_driver: bad %s '%s'\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_type(const char *s, enum ggml_type *out) {
    static const struct { const char *name; enum ggml_type type; } types[] = {
        {"f32", GGML_TYPE_F32},   {"f16", GGML_TYPE_F16},   {"bf16", GGML_TYPE_BF16},
        {"q8_0", GGML_TYPE_Q8_0}, {"q5_1", GGML_TYPE_Q5_1}, {"q5_0", GGML_TYPE_Q5_0},
        {"q4_1", GGML_TYPE_Q4_1}, {"q4_0", GGML_TYPE_Q4_0}, {"iq4_nl", GGML_TYPE_IQ4_NL},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return 0;
        }
    }
    fprintf(stderr, "peer_driver: unknown cache type '%s'\n", s);
    return -1;
}

/* The reason text without a trailing newline, with newlines flattened. */
static void print_reason(const char *text) {
    fputs("reason ", stdout);
    for (const char *c = text; *c; c++) {
        putchar(*c == '\n' || *c == '\r' ? ' ' : *c);
    }
    putchar('\n');
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(void) {
    fputs("usage: peer_driver --libdir DIR -m MODEL.gguf [--ctx N] [--seqs N] [--ctk T] [--ctv T]\n"
          "                   [--fa on|off|auto] [--unified 0|1] [--swa-full 0|1] [--ubatch N]\n"
          "                   [--prompt ID,ID,...] [--predict N] [--logits N] [--no-alloc 1]\n"
          "                   [--threads N] [--bench 1] [--ngl N] [--no-kv-offload 1] [-v]\n", stderr);
}

int main(int argc, char **argv) {
    const char *libdir = NULL, *model_path = NULL, *prompt = NULL;
    unsigned long n_ctx = 4096, n_seq = 1, n_ubatch = 512, n_predict = 0, n_logits = 0;
    unsigned long unified = 0, swa_full = 0, no_alloc = 0, n_threads = 1, bench = 0;
    unsigned long n_gpu_layers = 0, no_kv_offload = 0;
    enum ggml_type type_k = GGML_TYPE_F16, type_v = GGML_TYPE_F16;
    enum llama_flash_attn_type fa = LLAMA_FLASH_ATTN_TYPE_AUTO;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-v") == 0) {
            g_verbose = 1;
            continue;
        }
        if (i + 1 >= argc) {
            usage();
            return 1;
        }
        const char *val = argv[++i];
        int bad = 0;
        if (strcmp(a, "--libdir") == 0) libdir = val;
        else if (strcmp(a, "-m") == 0) model_path = val;
        else if (strcmp(a, "--ctx") == 0) bad = parse_uint(val, "--ctx", UINT32_MAX, &n_ctx);
        else if (strcmp(a, "--seqs") == 0) bad = parse_uint(val, "--seqs", 256, &n_seq);
        else if (strcmp(a, "--ubatch") == 0) bad = parse_uint(val, "--ubatch", UINT32_MAX, &n_ubatch);
        else if (strcmp(a, "--unified") == 0) bad = parse_uint(val, "--unified", 1, &unified);
        else if (strcmp(a, "--no-alloc") == 0) bad = parse_uint(val, "--no-alloc", 1, &no_alloc);
        else if (strcmp(a, "--swa-full") == 0) bad = parse_uint(val, "--swa-full", 1, &swa_full);
        else if (strcmp(a, "--predict") == 0) bad = parse_uint(val, "--predict", 1024, &n_predict);
        else if (strcmp(a, "--threads") == 0) bad = parse_uint(val, "--threads", 64, &n_threads);
        else if (strcmp(a, "--bench") == 0) bad = parse_uint(val, "--bench", 1, &bench);
        else if (strcmp(a, "--ngl") == 0) bad = parse_uint(val, "--ngl", 4096, &n_gpu_layers);
        else if (strcmp(a, "--no-kv-offload") == 0) bad = parse_uint(val, "--no-kv-offload", 1, &no_kv_offload);
        else if (strcmp(a, "--logits") == 0) bad = parse_uint(val, "--logits", 1u << 20, &n_logits);
        else if (strcmp(a, "--ctk") == 0) bad = parse_type(val, &type_k);
        else if (strcmp(a, "--ctv") == 0) bad = parse_type(val, &type_v);
        else if (strcmp(a, "--prompt") == 0) prompt = val;
        else if (strcmp(a, "--fa") == 0) {
            if (strcmp(val, "on") == 0) fa = LLAMA_FLASH_ATTN_TYPE_ENABLED;
            else if (strcmp(val, "off") == 0) fa = LLAMA_FLASH_ATTN_TYPE_DISABLED;
            else if (strcmp(val, "auto") == 0) fa = LLAMA_FLASH_ATTN_TYPE_AUTO;
            else bad = -1;
        } else bad = -1;
        if (bad) {
            usage();
            return 1;
        }
    }
    if (!libdir || !model_path) {
        usage();
        return 1;
    }

    static llama_token tokens[MAX_PROMPT_TOKENS];
    int n_tokens = 0;
    if (prompt) {
        char *buf = strdup(prompt);
        if (!buf) {
            return 1;
        }
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            unsigned long id;
            if (n_tokens == MAX_PROMPT_TOKENS || parse_uint(tok, "--prompt token", INT32_MAX, &id)) {
                free(buf);
                usage();
                return 1;
            }
            tokens[n_tokens++] = (llama_token)id;
        }
        free(buf);
    }

    llama_log_set(log_cb, NULL);
    ggml_backend_load_all_from_path(libdir);
    llama_backend_init();

    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = (int32_t)n_gpu_layers;
    mp.no_alloc = no_alloc != 0;
    if (mp.no_alloc) {
        mp.load_mode = LLAMA_LOAD_MODE_NONE; /* no_alloc cannot map the file (llama-model.cpp:1731) */
    }
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (!model) {
        puts("status load_failed");
        print_reason(g_last_error);
        llama_backend_free();
        return 2;
    }

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_seq_max = (uint32_t)n_seq;
    cp.n_ubatch = (uint32_t)n_ubatch;
    cp.type_k = type_k;
    cp.type_v = type_v;
    cp.flash_attn_type = fa;
    cp.kv_unified = unified != 0;
    cp.swa_full = swa_full != 0;
    cp.offload_kqv = no_kv_offload == 0;
    cp.n_threads = (int32_t)n_threads;
    cp.n_threads_batch = (int32_t)n_threads;
    if (bench) {
        cp.n_batch = (uint32_t)(n_tokens > 0 ? n_tokens : 1); /* the whole prompt in one call */
        if (cp.n_ubatch < cp.n_batch) {
            cp.n_ubatch = cp.n_batch;
        }
    }
    cp.no_perf = true;

    g_last_error[0] = '\0';
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        puts("status refused");
        print_reason(g_last_error);
        llama_model_free(model);
        llama_backend_free();
        return 0;
    }

    puts("status accepted");
    printf("n_ctx %u\nn_ctx_seq %u\nn_seq_max %u\nn_ubatch %u\n", llama_n_ctx(ctx),
           llama_n_ctx_seq(ctx), llama_n_seq_max(ctx), llama_n_ubatch(ctx));
    for (int i = 0; i < g_cache_line_count; i++) {
        printf("cache %s\n", g_cache_lines[i]);
    }
    printf("kv_buffer_bytes %zu\nkv_log_mib %.2f\n", g_kv_buffer_bytes, g_kv_log_mib);
    for (int i = 0; i < g_buffer_line_count; i++) {
        printf("%s\n", g_buffer_lines[i]);
    }

    int rc = 0;
    if (n_tokens > 0) {
        const struct llama_vocab *vocab = llama_model_get_vocab(model);
        const int n_vocab = llama_vocab_n_tokens(vocab);
        llama_token generated[1024];
        struct llama_batch batch = llama_batch_get_one(tokens, n_tokens);
        struct llama_batch all = {0};
        if (bench) {
            /* logits at every prompt position, as qkvplan's prefill computes them */
            all = llama_batch_init(n_tokens, 0, 1);
            for (int i = 0; i < n_tokens; i++) {
                all.token[i] = tokens[i];
                all.pos[i] = i;
                all.n_seq_id[i] = 1;
                all.seq_id[i][0] = 0;
                all.logits[i] = 1;
            }
            all.n_tokens = n_tokens;
            batch = all;
        }
        double t_prefill = 0, t_decode = 0, t0 = now_s();
        for (unsigned long step = 0; step <= n_predict; step++) {
            if (step == 1) {
                t0 = now_s();
            }
            int dec = llama_decode(ctx, batch);
            if (step == 0) {
                t_prefill = now_s() - t0;
            }
            if (dec != 0) {
                printf("decode_failed %s\n", g_last_error);
                rc = 3;
                break;
            }
            const float *logits = llama_get_logits_ith(ctx, -1);
            if (step == 0 && n_logits > 0) {
                fputs("logits", stdout);
                for (unsigned long j = 0; j < n_logits && j < (unsigned long)n_vocab; j++) {
                    printf(" %.9g", logits[j]);
                }
                putchar('\n');
            }
            if (step == n_predict) {
                break;
            }
            int best = 0;
            for (int j = 1; j < n_vocab; j++) {
                if (logits[j] > logits[best]) best = j;
            }
            generated[step] = best;
            batch = llama_batch_get_one(&generated[step], 1);
        }
        if (n_predict > 0) {
            t_decode = now_s() - t0;
        }
        if (bench) {
            llama_batch_free(all);
            printf("threads %lu\nprefill_tok_s %.6g\n", n_threads, n_tokens / t_prefill);
            if (n_predict > 0) {
                printf("decode_tok_s %.6g\n", (double)n_predict / t_decode);
            }
        }
        if (rc == 0 && n_predict > 0) {
            fputs("tokens", stdout);
            for (unsigned long j = 0; j < n_predict; j++) printf(" %d", generated[j]);
            putchar('\n');
        }
    }

    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return 1;
    }
    return rc;
}
