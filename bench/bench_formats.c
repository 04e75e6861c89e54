/* Weight-probe benchmark (`make bench`): a Llama-3.2-1B-shaped F16
 * safetensors model (16 layers, d_model 2048, 32 heads, 8 KV heads x 64,
 * FFN 8192, vocab 128256; about 2.5 GB of random weights) is generated in a
 * temporary directory, then probed with the weights-only probe. Reports
 * seconds, the bytes of the file actually read, and the peak resident set
 * beside the file size. Target: under 10 s, resident memory far below the
 * file. Then the activation probe (a forward pass with hooks over 256
 * tokens) of the same file, in a child process so that its peak resident
 * set is its own: the weights stay in the file as f16 and are widened one
 * layer at a time (rt_lazy.h). Target: peak resident below 1.5x the file.
 * The files are removed afterwards. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probes/runtime/checkpoint.h"
#include "probes/probe.h"
#include "probes/runtime/rt_lazy.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    const int L = 16, C = 2048, NH = 32, KVH = 8, HD = 64, FF = 8192, V = 128256;
    char dir[] = "/tmp/qkvplan-bench-st-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        return 1;
    }
    char path[256], cfg[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    FILE *c = fopen(cfg, "w");
    fprintf(c,
            "{\"model_type\":\"llama\",\"num_hidden_layers\":%d,\"hidden_size\":%d,"
            "\"num_attention_heads\":%d,\"num_key_value_heads\":%d,\"head_dim\":%d,"
            "\"intermediate_size\":%d,\"vocab_size\":%d,\"tie_word_embeddings\":true,"
            "\"max_position_embeddings\":131072}\n",
            L, C, NH, KVH, HD, FF, V);
    fclose(c);
    /* header: every tensor, in file order */
    typedef struct {
        char name[96];
        unsigned long long rows, cols;
    } entry;
    entry *ts = calloc(2 + 9 * (size_t)L, sizeof *ts);
    size_t n = 0;
#define ADD(r, k, ...)                                                                             \
    do {                                                                                           \
        snprintf(ts[n].name, sizeof ts[n].name, __VA_ARGS__);                                      \
        ts[n].rows = (r);                                                                          \
        ts[n].cols = (k);                                                                          \
        n++;                                                                                       \
    } while (0)
    ADD(V, C, "model.embed_tokens.weight");
    ADD(1, C, "model.norm.weight");
    for (int l = 0; l < L; l++) {
        ADD(1, C, "model.layers.%d.input_layernorm.weight", l);
        ADD((unsigned long long)NH * HD, C, "model.layers.%d.self_attn.q_proj.weight", l);
        ADD((unsigned long long)KVH * HD, C, "model.layers.%d.self_attn.k_proj.weight", l);
        ADD((unsigned long long)KVH * HD, C, "model.layers.%d.self_attn.v_proj.weight", l);
        ADD(C, (unsigned long long)NH * HD, "model.layers.%d.self_attn.o_proj.weight", l);
        ADD(1, C, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(FF, C, "model.layers.%d.mlp.gate_proj.weight", l);
        ADD(FF, C, "model.layers.%d.mlp.up_proj.weight", l);
        ADD(C, FF, "model.layers.%d.mlp.down_proj.weight", l);
    }
#undef ADD
    size_t cap = 1 << 20, len = 0;
    char *h = malloc(cap);
    unsigned long long off = 0;
    len += (size_t)snprintf(h + len, cap - len, "{");
    for (size_t i = 0; i < n; i++) {
        unsigned long long bytes = ts[i].rows * ts[i].cols * 2;
        if (ts[i].rows == 1)
            len += (size_t)snprintf(
                h + len, cap - len,
                "%s\"%s\":{\"dtype\":\"F16\",\"shape\":[%llu],\"data_offsets\":[%llu,%llu]}",
                i ? "," : "", ts[i].name, ts[i].cols, off, off + bytes);
        else
            len += (size_t)snprintf(
                h + len, cap - len,
                "%s\"%s\":{\"dtype\":\"F16\",\"shape\":[%llu,%llu],\"data_offsets\":[%llu,%llu]}",
                i ? "," : "", ts[i].name, ts[i].rows, ts[i].cols, off, off + bytes);
        off += bytes;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    FILE *f = fopen(path, "wb");
    unsigned char hl[8];
    for (int i = 0; i < 8; i++)
        hl[i] = (unsigned char)((unsigned long long)len >> (8 * i));
    fwrite(hl, 1, 8, f);
    fwrite(h, 1, len, f);
    /* random halves of magnitude ~0.02: exponent 0x20..0x23 (bits 14..10), random mantissa */
    const size_t chunk = 1 << 24;
    uint16_t *buf = malloc(chunk * 2);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (unsigned long long done = 0; done < off; done += chunk * 2) {
        size_t k = (off - done) / 2 < chunk ? (size_t)((off - done) / 2) : chunk;
        for (size_t i = 0; i < k; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (uint16_t)(((s >> 20) & 0x8000) | (0x20 + ((s >> 8) & 3)) << 10 | (s & 0x3FF));
        }
        if (fwrite(buf, 2, k, f) != k) {
            fprintf(stderr, "bench: cannot write %s\n", path);
            return 1;
        }
    }
    fclose(f);
    free(buf);
    free(h);
    free(ts);
    const double file_gb = (double)(off + len + 8) / 1e9;

    double t0 = now();
    ckpt ck;
    probe_result r;
    qkv_error err;
    if (ckpt_open(dir, &ck, &err) != QKV_OK || probe_weights(&ck, NULL, &r, &err) != QKV_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    const double t = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("weight probe, Llama-3.2-1B-shaped F16 safetensors (%.2f GB, %d heads x %d layers): "
           "%.2f s, %.2f GB of tensors read, peak resident %.0f MB\n",
           file_gb, NH, L, t, (double)ckpt_bytes_read(&ck) / 1e9, (double)ru.ru_maxrss / 1024.0);
    probe_result_free(&r);
    ckpt_close(&ck);

    fflush(stdout); /* the child must not print the parent's buffer again */
    const double t1 = now();
    pid_t pid = fork();
    if (pid == 0) {
        int toks[256];
        for (int i = 0; i < 256; i++)
            toks[i] = i == 0 ? 1 : (int)(((uint64_t)i * 7919u + 13u) % (uint64_t)V);
        rt_model m;
        rt_lazy *z;
        if (ckpt_open(dir, &ck, &err) != QKV_OK || rt_lazy_open(&ck, &m, &z, &err) != QKV_OK ||
            probe_run(&m, toks, 256, NULL, false, &r, &err) != QKV_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            _exit(1);
        }
        printf("  (scratch for one widened layer: %.0f MB)\n",
               (double)rt_lazy_scratch_bytes(z) / 1e6);
        fflush(stdout);
        _exit(0);
    }
    int status = 1;
    struct rusage child;
    if (pid < 0 || wait4(pid, &status, 0, &child) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: the activation probe failed\n");
        return 1;
    }
    const double peak_gb = (double)child.ru_maxrss * 1024.0 / 1e9;
    printf("activation probe, same file, 256 tokens, weights kept as f16 in the file: %.2f s, peak "
           "resident %.2f GB = %.2fx the file (target < 1.5x)\n",
           now() - t1, peak_gb, peak_gb / file_gb);
    remove(path);
    remove(cfg);
    remove(dir);
    return 0;
}
