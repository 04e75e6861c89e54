/* The engine command line that realises a plan (kvplan_engine_command in
 * kvplan.h): llama-server, ollama's environment, vllm serve. */
#include "analyzer/kvplan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/core/checked.h"
#include "analyzer/paper.h"

/* s as one shell word: single-quoted when it holds anything beyond
 * [A-Za-z0-9._/+:=@-], control bytes shown as '?' (a name from a file must
 * not reach a terminal or a shell unescaped). */
static void shell_word(const char *s, char *out, size_t n)
{
    bool plain = *s != '\0';
    for (const char *c = s; *c; c++)
        plain = plain && (isalnum((unsigned char)*c) || strchr("._/+:=@-", *c));
    size_t k = 0;
    if (!plain && k + 1 < n)
        out[k++] = '\'';
    for (const char *c = s; *c && k + 5 < n; c++) {
        if (*c == '\'') {
            memcpy(out + k, "'\\''", 4);
            k += 4;
        } else {
            out[k++] = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;
        }
    }
    if (!plain && k + 1 < n)
        out[k++] = '\'';
    out[k < n ? k : n - 1] = '\0';
}

/* The model as the engine's command line names it: the file it was read
 * from, a Hugging Face repository for vLLM, else NAME.gguf. */
static void model_ref(const kvplan_result *r, char *out, size_t n)
{
    const char *src = r->model.source, *hf = "https://huggingface.co/";
    char ref[MODEL_SOURCE_BYTES];
    if (strncmp(src, hf, strlen(hf)) == 0) {
        const char *repo = src + strlen(hf), *blob = strstr(repo, "/blob/");
        if (r->params.engine == ENGINE_VLLM && blob)
            snprintf(ref, sizeof ref, "%.*s", (int)(blob - repo), repo);
        else
            snprintf(ref, sizeof ref, "%.*s.gguf", MODEL_NAME_BYTES, r->model.name);
    } else if (strncmp(src, "arXiv", 5) == 0 || strcmp(r->model.name, "custom") == 0) {
        snprintf(ref, sizeof ref, "%.*s.gguf", MODEL_NAME_BYTES, r->model.name);
    } else {
        snprintf(ref, sizeof ref, "%s", src);
    }
    shell_word(ref, out, n);
}

void kvplan_engine_command(const kvplan_result *r, char *buf, size_t n)
{
    const kvplan_params *p = &r->params;
    char model[2 * MODEL_SOURCE_BYTES];
    model_ref(r, model, sizeof model);
    const char *tk = dtype_cache_get(p->type_k)->name, *tv = dtype_cache_get(p->type_v)->name;
    switch (p->engine) {
    case ENGINE_LLAMACPP:
        snprintf(buf, n, "llama-server -m %s -c %llu -np %llu%s -ctk %s -ctv %s -fa %s -ub %llu%s",
                 model, (unsigned long long)p->ctx, (unsigned long long)p->seqs,
                 p->kv_unified ? " --kv-unified" : "", tk, tv, kvplan_fa_name(p->flash_attn),
                 (unsigned long long)p->ubatch, p->swa_full ? " --swa-full" : "");
        return;
    case ENGINE_OLLAMA:
        /* docs/faq.mdx; llm/llama_server.go:394-396, 596-621 */
        snprintf(buf, n,
                 "OLLAMA_CONTEXT_LENGTH=%llu OLLAMA_NUM_PARALLEL=%llu OLLAMA_KV_CACHE_TYPE=%s%s "
                 "ollama serve",
                 (unsigned long long)p->ctx, (unsigned long long)p->seqs, tk,
                 p->flash_attn == ENGINE_FA_ON    ? " OLLAMA_FLASH_ATTENTION=1"
                 : p->flash_attn == ENGINE_FA_OFF ? " OLLAMA_FLASH_ATTENTION=0"
                                                  : "");
        return;
    case ENGINE_VLLM: {
        /* the fraction of the device vLLM may use, rounded down to 0.01 */
        const uint64_t usable = p->device_bytes - p->reserve_bytes;
        const unsigned long long pct =
            (unsigned long long)((double)usable * 100.0 / (double)p->device_bytes + 1e-6);
        const char *kvd = p->type_k == DTYPE_FP8_E4M3   ? " --kv-cache-dtype fp8_e4m3"
                          : p->type_k == DTYPE_FP8_E5M2 ? " --kv-cache-dtype fp8_e5m2"
                                                        : "";
        snprintf(buf, n,
                 "vllm serve %s --max-model-len %llu --max-num-seqs %llu --block-size %llu "
                 "--gpu-memory-utilization %llu.%02llu%s",
                 model, (unsigned long long)p->ctx, (unsigned long long)p->seqs,
                 (unsigned long long)p->block_size, pct / 100, pct % 100, kvd);
        return;
    }
    case ENGINE_EXACT:
    case ENGINE_COUNT:
        break;
    }
    buf[0] = '\0';
}
