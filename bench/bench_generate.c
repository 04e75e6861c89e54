/* Generation benchmark (`make bench`): qkvplan's runtime against the real
 * llama.cpp on the same file, interleaved in one run.
 *
 * The model: a Llama-shaped f32 GGUF of 12 layers, d_model 768, 12 heads x
 * 64, FFN 2048, vocab 32000, classifier tied to the embedding (about 440 MB
 * of pseudo-random weights and a minimal vocabulary), written by the peer
 * check's independent writer tests/peer/peer_gguf into a temporary folder. qkvplan runs as `qkvplan generate MODEL --prompt-tokens P -n N
 * --threads T -f json`; llama.cpp as tests/peer/peer_driver (llama.cpp
 * v0.4.0 from npm node-llama-cpp@3.21.1) with the same prompt token ids,
 * logits at every prompt position, an f32 KV cache and T threads. Each
 * program times itself after loading: prefill = prompt tokens / seconds of
 * the prompt's forward pass (all-position logits); decode = one-token steps
 * per second, greedy argmax included. Rounds alternate the two programs;
 * the medians and their ratios are printed, with each child's peak
 * resident memory and, for exactness, the largest difference of the first
 * 64 logits after the prompt (qkvplan in-process against llama.cpp), from
 * qkvplan's prefill and from its decode step, both with the weights as
 * `generate` holds them (rt_lazy's decode layout).
 *
 * Usage: bench_generate QKVPLAN PEER_DRIVER LIBDIR PEER_GGUF */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probes/runtime/checkpoint.h"
#include "probes/runtime/rt_forward.h"
#include "probes/runtime/rt_lazy.h"

#define ROUNDS 5
#define PROMPT 512
#define PREDICT 128
#define N_LOGITS 64

/* Run argv, capture up to cap − 1 bytes of stdout; returns the exit status
 * (−1 when it could not run) and the child's peak resident set in KiB. */
static int run_capture(char *const argv[], char *buf, size_t cap, long *maxrss_kb)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t used = 0;
    ssize_t n;
    while ((n = read(fd[0], buf + used, cap - 1 - used)) > 0 && used + (size_t)n < cap - 1)
        used += (size_t)n;
    if (n > 0)
        used += (size_t)n;
    buf[used] = '\0';
    close(fd[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static double field(const char *out, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s ", key);
    const char *p = strstr(out, pat);
    if (!p && strncmp(out, pat + 1, strlen(pat + 1)) == 0)
        p = out - 1;
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_generate QKVPLAN PEER_DRIVER LIBDIR PEER_GGUF\n");
        return 2;
    }
    const char *qkvplan = argv[1], *driver = argv[2], *libdir = argv[3], *gguf_writer = argv[4];
    char dir[] = "/tmp/qkvplan-bench-gen-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        return 1;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/llama-12x768-f32.gguf", dir);
    {
        char *a[] = {(char *)gguf_writer,
                     path,
                     "--arch",
                     "llama",
                     "--layers",
                     "12",
                     "--embd",
                     "768",
                     "--heads",
                     "12",
                     "--kv-heads",
                     "12",
                     "--head-dim",
                     "64",
                     "--ff",
                     "2048",
                     "--vocab",
                     "32000",
                     "--ctx-train",
                     "2048",
                     NULL};
        static char msg[4096];
        long rss_w;
        if (run_capture(a, msg, sizeof msg, &rss_w) != 0) {
            fprintf(stderr, "bench: %s could not write %s\n", gguf_writer, path);
            return 1;
        }
    }
    rt_model m;
    qkv_error err;
    const int V = 32000;
    float *logits = NULL; /* (PROMPT, V) */
    const char *env = getenv("BENCH_ROUNDS");
    const int rounds = env && atoi(env) > 0 && atoi(env) <= ROUNDS ? atoi(env) : ROUNDS;

    /* the prompt qkvplan synthesises, read back from its JSON */
    static char out[1 << 20];
    char n_prompt[16], n_predict[16];
    snprintf(n_prompt, sizeof n_prompt, "%d", PROMPT);
    snprintf(n_predict, sizeof n_predict, "%d", PREDICT);
    long rss;
    {
        char *a[] = {(char *)qkvplan, "generate", path, "--prompt-tokens",
                     n_prompt,        "-n",       "1",  "-f",
                     "json",          NULL};
        if (run_capture(a, out, sizeof out, &rss) != 0) {
            fprintf(stderr, "bench: qkvplan generate failed\n");
            return 1;
        }
    }
    cJSON *j = cJSON_Parse(out);
    cJSON *pr = j ? cJSON_GetObjectItem(j, "prompt") : NULL;
    static char prompt_csv[PROMPT * 8];
    int *prompt = malloc(PROMPT * sizeof *prompt);
    size_t used = 0;
    for (int i = 0; i < PROMPT; i++) {
        prompt[i] = (int)cJSON_GetArrayItem(pr, i)->valuedouble;
        used += (size_t)snprintf(prompt_csv + used, sizeof prompt_csv - used, "%s%d", i ? "," : "",
                                 prompt[i]);
    }
    cJSON_Delete(j);

    /* exactness: the first N_LOGITS logits after the prompt */
    char nl[8];
    snprintf(nl, sizeof nl, "%d", N_LOGITS);
    char *la[] = {(char *)driver, "--libdir", (char *)libdir, "-m",       path,  "--ctx",
                  "1024",         "--ctk",    "f32",          "--ctv",    "f32", "--fa",
                  "off",          "--prompt", prompt_csv,     "--logits", nl,    NULL};
    ckpt ck;
    logits = malloc((size_t)PROMPT * V * sizeof(float));
    float *dec_logits = malloc((size_t)V * sizeof(float));
    rt_lazy *z = NULL;
    rt_cache cache;
    memset(&cache, 0, sizeof cache);
    bool opened = false;
    if (run_capture(la, out, sizeof out, &rss) == 0 &&
        (opened = ckpt_open(path, &ck, &err) == QKV_OK) &&
        rt_lazy_open(&ck, &m, &z, &err) == QKV_OK && rt_lazy_decode_layout(z, &m, &err) == QKV_OK &&
        rt_forward(&m, prompt, 1, PROMPT, logits, NULL, &err) == QKV_OK &&
        rt_cache_init(&cache, &m.cfg, PROMPT, &err) == QKV_OK &&
        rt_prefill(&m, &cache, prompt, PROMPT - 1, NULL, &err) == QKV_OK &&
        rt_decode(&m, &cache, prompt[PROMPT - 1], dec_logits, NULL, &err) == QKV_OK) {
        const char *p = strstr(out, "\nlogits ");
        double worst = 0.0, worst_dec = 0.0, scale = 0.0;
        char *e = (char *)(p ? p + 8 : "");
        for (int i = 0; i < N_LOGITS && p; i++) {
            const double l = strtod(e, &e), q = logits[(size_t)(PROMPT - 1) * V + i];
            worst = fmax(worst, fabs(l - q));
            worst_dec = fmax(worst_dec, fabs(l - dec_logits[i]));
            scale = fmax(scale, fabs(l));
        }
        printf("  exactness: logits 0..%d after the prompt, max |qkvplan - llama.cpp (f32 KV, no "
               "flash attention)| = %.2e from the prefill, %.2e from a decode step (largest "
               "|logit| %.3f)\n",
               N_LOGITS - 1, worst, worst_dec, scale);
    } else {
        printf("  exactness: not measured (%s)\n", err.msg);
    }
    rt_cache_free(&cache);
    rt_lazy_free(z, &m);
    if (opened)
        ckpt_close(&ck);
    free(dec_logits);
    printf("generate: Llama-shaped f32 GGUF, 12 layers x d_model 768, vocab 32000 (%s); prompt %d "
           "tokens, %d generated, %d rounds interleaved; medians\n",
           "440 MB", PROMPT, PREDICT, rounds);
    /* llama.cpp in two set-ups: its defaults (f16 KV cache, flash attention
     * auto) and f32 KV without flash attention; each ratio is taken against
     * the faster of the two medians. */
    static const char *const setup_name[2] = {"f16 KV, flash attn auto", "f32 KV, no flash attn"};
    static const int threads[] = {1, 2};
    for (size_t ti = 0; ti < 2; ti++) {
        char t[8];
        snprintf(t, sizeof t, "%d", threads[ti]);
        double qp[ROUNDS], qd[ROUNDS], lp[2][ROUNDS], ld[2][ROUNDS];
        long q_rss = 0, l_rss = 0;
        for (int r = 0; r < rounds; r++) {
            char *qa[] = {(char *)qkvplan,
                          "generate",
                          path,
                          "--prompt-tokens",
                          n_prompt,
                          "-n",
                          n_predict,
                          "--threads",
                          t,
                          "-f",
                          "json",
                          NULL};
            cJSON *q = NULL;
            if (run_capture(qa, out, sizeof out, &rss) != 0 || !(q = cJSON_Parse(out))) {
                fprintf(stderr, "bench: qkvplan generate failed\n");
                return 1;
            }
            q_rss = rss > q_rss ? rss : q_rss;
            qp[r] = cJSON_GetObjectItem(q, "prefill_tok_s")->valuedouble;
            qd[r] = cJSON_GetObjectItem(q, "decode_tok_s")->valuedouble;
            cJSON_Delete(q);
            for (int u = 0; u < 2; u++) {
                char *da[] = {(char *)driver,
                              "--libdir",
                              (char *)libdir,
                              "-m",
                              path,
                              "--ctx",
                              "1024",
                              "--ctk",
                              u ? "f32" : "f16",
                              "--ctv",
                              u ? "f32" : "f16",
                              "--fa",
                              u ? "off" : "auto",
                              "--prompt",
                              prompt_csv,
                              "--predict",
                              n_predict,
                              "--threads",
                              t,
                              "--bench",
                              "1",
                              NULL};
                if (run_capture(da, out, sizeof out, &rss) != 0) {
                    fprintf(stderr, "bench: peer_driver failed: %.200s\n", out);
                    return 1;
                }
                l_rss = rss > l_rss ? rss : l_rss;
                lp[u][r] = field(out, "prefill_tok_s");
                ld[u][r] = field(out, "decode_tok_s");
            }
        }
        const double mqp = median(qp, rounds), mqd = median(qd, rounds);
        double mlp[2], mld[2];
        for (int u = 0; u < 2; u++) {
            mlp[u] = median(lp[u], rounds);
            mld[u] = median(ld[u], rounds);
        }
        const int bp = mlp[1] > mlp[0], bd = mld[1] > mld[0];
        printf("  %d thread%s  prefill qkvplan %7.1f tok/s  llama.cpp %7.1f | %7.1f tok/s  "
               "ratio %.2f\n",
               threads[ti], threads[ti] == 1 ? " " : "s", mqp, mlp[0], mlp[1], mqp / mlp[bp]);
        printf("             decode  qkvplan %7.1f tok/s  llama.cpp %7.1f | %7.1f tok/s  "
               "ratio %.2f\n",
               mqd, mld[0], mld[1], mqd / mld[bd]);
        printf("             peak resident: qkvplan %.0f MB, llama.cpp %.0f MB\n", q_rss / 1024.0,
               l_rss / 1024.0);
    }
    printf("  llama.cpp columns: %s | %s; ratio = qkvplan / the faster\n", setup_name[0],
           setup_name[1]);

    free(logits);
    free(prompt);
    remove(path);
    remove(dir);
    return 0;
}
