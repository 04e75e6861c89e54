/* qkvplan [plan] — the planner command. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/catalog.h"
#include "analyzer/devices.h"
#include "analyzer/formats/hfconfig.h"
#include "analyzer/formats/modelfile.h"
#include "analyzer/kvplan.h"
#include "analyzer/offload.h"
#include "analyzer/core/paths.h"
#include "reports/plan/plan_bundle.h"
#include "reports/plan/plan_plots.h"
#include "reports/plan/plan_xlsx.h"
#include "reports/plan/report.h"
#include "cli/cli.h"
#include "cli/doc.h"
#include "cli/options.h"
#include "cli/units.h"
#include "cli/pathguard.h"
#include "cli/stderr_capture.h"
#include "cli/lists.h"
#include "cli/term.h"

enum {
    O_MODEL = 1, O_DEVICE, O_RESERVE, O_CTX, O_SEQS, O_UBATCH, O_ENGINE, O_UNIFIED, O_FLASH, O_SWAFULL, O_BLOCK, O_GPUUTIL, O_BEYOND, O_INMIB,
    O_SHARE, O_KVHEADS, O_ASBUILT, O_KVTYPE, O_KTYPE, O_VTYPE, O_WTYPE,
    O_LAYERS, O_DMODEL, O_HEADS, O_MKVHEADS, O_HEADDIM, O_FFN, O_VOCAB,
    O_FORMAT, O_OUTPUT, O_XLSX, O_PLOT, O_REPORT, O_HELP, O_VERSION, O_WIDE,
    O_GPU, O_GPURESERVE, O_NGL, O_NKVO, O_TSPLIT, O_CPUMOE, O_NCPUMOE, O_TP,
};

const cli_option cli_plan_options[] = {
    {0, NULL, 0, NULL, NULL, "Model:"},
    {O_MODEL, "model", 'm', "NAME|PATH|all|-", CATALOG_DEFAULT,
     "a catalog model (see 'qkvplan models'), a Hugging Face config.json or a directory holding "
     "one, a GGUF file, safetensors (config.json beside them; weight bytes are then exact), "
     "'all' for the whole catalog, or - for a config.json on standard input"},
    {O_LAYERS, "layers", 0, "N", NULL, "override the number of layers"},
    {O_DMODEL, "d-model", 0, "N", NULL, "override the hidden size"},
    {O_HEADS, "heads", 0, "N", NULL, "override the number of query heads"},
    {O_MKVHEADS, "model-kv-heads", 0, "N", NULL,
     "override the model's own KV heads (the as-built row)"},
    {O_HEADDIM, "head-dim", 0, "N", NULL,
     "override the head width (else d-model / heads when either of those is overridden)"},
    {O_FFN, "ffn", 0, "N", NULL, "override the FFN width"},
    {O_VOCAB, "vocab", 0, "N", NULL, "override the vocabulary size"},
    {0, NULL, 0, NULL, NULL, "Variants (default grid: MHA x every sharing; GQA-8, GQA-4, MQA x "
                             "{QKV, Q-K=V}; and the model as built):"},
    {O_SHARE, "share", 0, "LIST", NULL,
     "projection sharings: QKV, Q-K=V, Q=K-V, Q=K=V (aliases none, kv, qk, all), comma-separated"},
    {O_KVHEADS, "kv-heads", 0, "LIST", NULL,
     "head sharings: mha, mqa, gqa-N or a number of KV heads, comma-separated"},
    {O_ASBUILT, "as-built", 0, NULL, NULL, "plan only the model as published"},
    {0, NULL, 0, NULL, NULL, "Types:"},
    {O_KVTYPE, "kv-type", 0, "TYPE", "f16",
     "cache type of K and V: f32, f16, bf16, fp8, fp8_e5m2, q8_0, q5_1, q5_0, q4_1, q4_0, iq4_nl"},
    {O_KTYPE, "k-type", 0, "TYPE", NULL, "cache type of K (and of a shared K=V tensor)"},
    {O_VTYPE, "v-type", 0, "TYPE", NULL, "cache type of V"},
    {O_WTYPE, "weight-type", 0, "TYPE", "f16",
     "weight type: f32, f16, bf16, q8_0, q6_K, q5_1, q5_0, q4_1, q4_0 (exact) or the mixes "
     "q5_K_M 5.68, q5_K_S 5.52, q4_K_M 4.84, q4_K_S 4.58, q3_K_L 4.27, q3_K_M 3.91, q3_K_S 3.50, "
     "q2_K 3.35 bits per weight (llama.cpp, Llama 2 7B)"},
    {0, NULL, 0, NULL, NULL, "Device and workload:"},
    {O_DEVICE, "device", 'd', "SIZE|NAME", "8GB",
     "memory budget: a size (8GB = 8GiB = 8 x 2^30 bytes, 512MiB, 8589934592) or a profile from "
     "'qkvplan devices'"},
    {O_RESERVE, "reserve", 0, "SIZE|N%", "1GiB",
     "memory kept free for the OS and runtime, a size or a share of the device (10%)"},
    {O_GPUUTIL, "gpu-memory-utilization", 0, "FRACTION", NULL,
     "vLLM's spelling of the budget: use this fraction of the device (0.9 = reserve 10%)"},
    {O_CTX, "ctx", 'c', "TOKENS", "4096",
     "context length (32k = 32768, 1M); per sequence, except with llama.cpp where it is n_ctx "
     "shared by the sequences as in llama-server -c"},
    {O_SEQS, "seqs", 's', "N", "1", "concurrent sequences"},
    {O_UBATCH, "ubatch", 0, "N", "512", "tokens per micro-batch (scratch; llama.cpp SWA cells)"},
    {O_ENGINE, "engine", 'e', "NAME", "exact",
     "cell rules: exact (ctx cells), llama.cpp (release v0.4.0: 256-cell padding, per-sequence "
     "streams, sliding windows per architecture, its refusals), vllm (whole blocks), ollama "
     "(llama.cpp started as ollama does: -c num_ctx x OLLAMA_NUM_PARALLEL -np N, num_ctx capped "
     "at the trained context; github.com/ollama/ollama llm/llama_server.go, docs/faq.mdx)"},
    {O_UNIFIED, "kv-unified", 0, NULL, NULL, "llama.cpp: one cache shared by all sequences"},
    {O_BLOCK, "block-size", 0, "TOKENS", "16", "vllm: tokens per cache block"},
    {O_BEYOND, "beyond-trained", 0, NULL, NULL,
     "let max ctx go past the model's trained context (else it stops there)"},
    {O_FLASH, "flash-attn", 0, "on|off|auto", "on",
     "off adds the heads x ubatch x cells f32 score matrix to the scratch; llama.cpp refuses a "
     "quantized V cache with off, and a quantized type whose block does not divide the head "
     "width with on or auto (auto is planned as on: llama.cpp enables it on CPU)"},
    {O_SWAFULL, "swa-full", 0, NULL, NULL,
     "llama.cpp: sliding-window layers keep the full context (llama-server --swa-full)"},
    {0, NULL, 0, NULL, NULL, "GPUs and offload (llama.cpp v0.4.0 placement, vLLM tensor parallel):"},
    {O_GPU, "gpu", 0, "SIZE|NAME[,...]", NULL,
     "GPU memory beside --device (host RAM): one or more sizes or GPU profiles from 'qkvplan "
     "devices'; a unified-memory profile (Apple silicon, Jetson, phones) makes host and GPU one "
     "pool of that size with the profile's GPU share. Reports weights, KV, compute, total and "
     "headroom per device"},
    {O_GPURESERVE, "gpu-reserve", 0, "SIZE", NULL,
     "kept free on every GPU for the runtime's context (default: the profile's, 512MiB for a size)"},
    {O_NGL, "ngl", 0, "N|auto|all", NULL,
     "llama.cpp -ngl: layers on the GPU(s), the output layer counted first (v0.4.0); auto "
     "(default with --gpu) finds the most that fit every GPU at --ctx and --seqs"},
    {O_NKVO, "no-kv-offload", 0, NULL, NULL, "llama.cpp: keep every layer's KV cache in host RAM"},
    {O_TSPLIT, "tensor-split", 0, "A,B,...", NULL,
     "llama.cpp: share of the offloaded layers per GPU (default: by each GPU's usable memory)"},
    {O_CPUMOE, "cpu-moe", 0, NULL, NULL, "llama.cpp: keep every layer's MoE expert weights in host RAM"},
    {O_NCPUMOE, "n-cpu-moe", 0, "N", NULL,
     "llama.cpp: keep the MoE expert weights of the first N layers in host RAM"},
    {O_TP, "tp", 0, "N", NULL,
     "vllm: tensor-parallel size; weights, KV and activations divided over N GPUs (default: the "
     "number of --gpu entries)"},
    {0, NULL, 0, NULL, NULL, "Output:"},
    {O_FORMAT, "format", 'f', "FMT", "table", "table, json, csv or md"},
    {O_INMIB, "in-mib", 0, NULL, NULL,
     "table: sizes in MiB with two decimals, as llama.cpp logs them"},
    {O_WIDE, "wide", 'w', NULL, NULL,
     "table: every column (KV/token, K and V cache, weights, scratch, max seqs); by default "
     "the table keeps the columns that fit COLUMNS or the terminal (80 in a pipe or file)"},
    {O_OUTPUT, "output", 'o', "FILE", NULL,
     "write to FILE (atomically: complete or not at all) instead of standard output"},
    {O_XLSX, "xlsx", 0, "FILE", NULL,
     "also write an XLSX workbook: summary, variants, memory vs context with a chart, paper evidence"},
    {O_PLOT, "plot", 0, "DIR", NULL,
     "also draw plots with gnuplot into DIR (PNG and SVG, with the .gp scripts and .dat data)"},
    {O_REPORT, "report", 0, "DIR", NULL,
     "also write the design-review folder DIR: plan.md (plots embedded), plan.json, plan.csv, plan.xlsx, plots/"},
    {O_HELP, "help", 'h', NULL, NULL, "show this help"},
    {O_VERSION, "version", 'V', NULL, NULL, "show the version"},
    {0, NULL, 0, NULL, NULL, NULL},
};

/* The engines' own spellings: llama-server's and vllm serve's. */
const cli_alias cli_plan_aliases[] = {
    {"--ctx-size", O_CTX},     {"--max-model-len", O_CTX}, {"-np", O_SEQS},
    {"--parallel", O_SEQS},    {"--max-num-seqs", O_SEQS}, {"-ctk", O_KTYPE},
    {"--cache-type-k", O_KTYPE}, {"-ctv", O_VTYPE},        {"--cache-type-v", O_VTYPE},
    {"-fa", O_FLASH},          {"-ub", O_UBATCH},          {"--ubatch-size", O_UBATCH},
    {"-ngl", O_NGL},           {"--n-gpu-layers", O_NGL},  {"--gpu-layers", O_NGL},
    {"-nkvo", O_NKVO},         {"-ts", O_TSPLIT},          {"-cmoe", O_CPUMOE},
    {"-ncmoe", O_NCPUMOE},     {"-tp", O_TP},              {"--tensor-parallel-size", O_TP},
    {NULL, 0},
};

typedef struct {
    const char *model_arg;
    char device_label[96];
    kvplan_params p;
    dtype_cache kv_type;
    bool k_set, v_set;
    const char *share_list, *kv_heads_list;
    bool as_built;
    uint64_t ov[O_VOCAB + 1]; /* overrides by option id, 0 = not given */
    report_format format;
    const char *output, *xlsx, *plot, *report;
    bool help, version;
    bool in_mib, wide;
    unsigned reserve_permille; /* --reserve N%: share of the device, 0 when a size */
    double gpu_util;           /* --gpu-memory-utilization, 0 when not given */
    bool parsing, reserve_set; /* --reserve given on the command line (not its default) */
    bool device_set;           /* --device given on the command line */
    offload_params op;         /* --gpu and the offload options */
    const char *gpu_arg;
    uint64_t gpu_reserve;      /* --gpu-reserve, when gpu_reserve_set */
    bool gpu_reserve_set, ngl_set, offload_opt; /* offload_opt: an option that needs --gpu */
    size_t n_split;            /* proportions in --tensor-split */
    const char *offload_opt_name;
} plan_state;

static int bad(const char *name, const char *value, const char *why)
{
    cli_error("--%s '%s': %s", name, value, why);
    return -1;
}

static int on_option(void *vs, int id, const char *name, const char *value)
{
    plan_state *st = vs;
    char why[160];
    uint64_t v;
    switch (id) {
    case O_MODEL: st->model_arg = value; return 0;
    case O_DEVICE: {
        const device_profile *d = devices_find(value);
        if (d) {
            st->p.device_bytes = d->bytes;
        } else {
            if (units_parse_size(value, &v, why, sizeof why) != 0)
                return bad(name, value, strcmp(why, "is not a number") == 0
                                            ? "is neither a size nor a device profile (see "
                                              "'qkvplan devices')"
                                            : why);
            if (v == 0)
                return bad(name, value, "must be greater than 0");
            if (v > KVPLAN_DEVICE_MAX)
                return bad(name, value, "is larger than 1 EiB");
            st->p.device_bytes = v;
        }
        snprintf(st->device_label, sizeof st->device_label, "%s", value);
        st->device_set = st->parsing;
        return 0;
    }
    case O_GPU: {
        char buf[512], *items[OFFLOAD_GPUS_MAX + 1];
        long n = cli_split_list("gpu", value, buf, sizeof buf, items, OFFLOAD_GPUS_MAX + 1);
        if (n < 0)
            return -1;
        if (n == 0)
            return bad(name, value, "names no GPU");
        if (n > OFFLOAD_GPUS_MAX)
            return bad(name, value, "lists more than 8 GPUs");
        st->gpu_arg = value;
        st->op.n_gpus = (size_t)n;
        st->op.unified = false;
        for (long i = 0; i < n; i++) {
            const device_profile *d = devices_find(items[i]);
            snprintf(st->op.gpu_name[i], OFFLOAD_NAME_BYTES, "%s", items[i]);
            if (d && d->gpu_share_permille) {
                if (n > 1)
                    return bad(name, value, "a unified-memory device is one pool; give it alone");
                st->op.unified = true;
                st->op.gpu_share_permille = d->gpu_share_permille;
                st->op.gpu_bytes[i] = d->bytes;
                continue;
            }
            if (d) {
                st->op.gpu_bytes[i] = d->bytes;
                st->op.gpu_reserve[i] =
                    d->gpu_reserve_bytes ? d->gpu_reserve_bytes : OFFLOAD_GPU_RESERVE_DEFAULT;
                continue;
            }
            if (units_parse_size(items[i], &v, why, sizeof why) != 0)
                return bad(name, items[i], strcmp(why, "is not a number") == 0
                                               ? "is neither a size nor a device profile (see "
                                                 "'qkvplan devices')"
                                               : why);
            if (v == 0 || v > KVPLAN_DEVICE_MAX)
                return bad(name, items[i], "must be a size from 1 byte to 1 EiB");
            st->op.gpu_bytes[i] = v;
            st->op.gpu_reserve[i] = OFFLOAD_GPU_RESERVE_DEFAULT;
        }
        return 0;
    }
    case O_GPURESERVE:
        if (units_parse_size(value, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        if (v > KVPLAN_DEVICE_MAX)
            return bad(name, value, "is larger than 1 EiB");
        st->gpu_reserve = v;
        st->gpu_reserve_set = true;
        return 0;
    case O_NGL:
        st->ngl_set = true;
        if (strcasecmp(value, "auto") == 0) {
            st->op.ngl_auto = true;
            return 0;
        }
        st->op.ngl_auto = false;
        if (strcasecmp(value, "all") == 0) {
            st->op.ngl = MODEL_DIM_MAX;
            return 0;
        }
        if (units_parse_count(value, 0, MODEL_DIM_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->op.ngl = v;
        return 0;
    case O_NKVO:
        st->op.no_kv_offload = true;
        st->offload_opt_name = "--no-kv-offload";
        return 0;
    case O_TSPLIT: {
        char buf[512], *items[OFFLOAD_GPUS_MAX + 1], list[512];
        /* llama.cpp splits on ',' and '/' */
        snprintf(list, sizeof list, "%s", value);
        for (char *c = list; *c; c++)
            if (*c == '/')
                *c = ',';
        long n = cli_split_list("tensor-split", list, buf, sizeof buf, items, OFFLOAD_GPUS_MAX + 1);
        if (n < 0)
            return -1;
        if (n == 0 || n > OFFLOAD_GPUS_MAX)
            return bad(name, value, "must list 1 to 8 proportions");
        for (long i = 0; i < n; i++) {
            char *end;
            double x = strtod(items[i], &end);
            if (end == items[i] || *end || !isfinite(x) || x < 0 || x > 1e30)
                return bad(name, items[i], "a proportion must be a finite number >= 0");
            st->op.split[i] = (float)x;
        }
        st->op.split_set = true;
        st->n_split = (size_t)n;
        st->offload_opt_name = "--tensor-split";
        return 0;
    }
    case O_CPUMOE:
        st->op.cpu_moe = true;
        st->offload_opt_name = "--cpu-moe";
        return 0;
    case O_NCPUMOE:
        if (units_parse_count(value, 0, MODEL_DIM_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->op.n_cpu_moe = v;
        st->offload_opt_name = "--n-cpu-moe";
        return 0;
    case O_TP:
        if (units_parse_count(value, 1, OFFLOAD_GPUS_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->op.tp = v;
        return 0;
    case O_RESERVE: {
        const size_t n = strlen(value);
        st->reserve_set = st->parsing;
        st->reserve_permille = 0;
        if (n > 1 && value[n - 1] == '%') {
            char num[32], *end;
            snprintf(num, sizeof num, "%.*s", (int)(n - 1), value);
            double pct = strtod(num, &end);
            if (n - 1 >= sizeof num || *end || !isfinite(pct) || pct < 0 || pct >= 100)
                return bad(name, value, "a share must be a number from 0 to below 100%");
            st->reserve_permille = (unsigned)(pct * 10.0 + 0.5);
            return 0;
        }
        if (units_parse_size(value, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        if (v > KVPLAN_DEVICE_MAX)
            return bad(name, value, "is larger than 1 EiB");
        st->p.reserve_bytes = v;
        return 0;
    }
    case O_GPUUTIL: {
        char *end;
        double u = strtod(value, &end);
        if (end == value || *end || !isfinite(u) || u <= 0 || u > 1)
            return bad(name, value, "must be a fraction in (0, 1]");
        st->gpu_util = u;
        return 0;
    }
    case O_BLOCK:
        if (units_parse_count(value, 1, KVPLAN_BLOCK_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->p.block_size = v;
        return 0;
    case O_BEYOND: st->p.beyond_trained = true; return 0;
    case O_INMIB: st->in_mib = true; return 0;
    case O_WIDE: st->wide = true; return 0;
    case O_CTX:
        if (units_parse_tokens(value, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        if (v == 0)
            return bad(name, value, "must be at least 1 token");
        if (v > KVPLAN_CTX_MAX)
            return bad(name, value, "is more than 4G tokens (4294967296)");
        st->p.ctx = v;
        return 0;
    case O_SEQS:
        if (units_parse_count(value, 1, KVPLAN_SEQS_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->p.seqs = v;
        return 0;
    case O_UBATCH:
        if (units_parse_count(value, 1, KVPLAN_UBATCH_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->p.ubatch = v;
        return 0;
    case O_ENGINE:
        if (kvplan_engine_parse(value, &st->p.engine) != QKV_OK)
            return bad(name, value, "unknown engine (exact, llama.cpp, vllm, ollama)");
        return 0;
    case O_UNIFIED: st->p.kv_unified = true; return 0;
    case O_FLASH:
        if (kvplan_fa_parse(value, &st->p.flash_attn) != QKV_OK)
            return bad(name, value, "must be on, off or auto");
        return 0;
    case O_SWAFULL: st->p.swa_full = true; return 0;
    case O_SHARE: st->share_list = value; return 0;
    case O_KVHEADS: st->kv_heads_list = value; return 0;
    case O_ASBUILT: st->as_built = true; return 0;
    case O_KVTYPE:
    case O_KTYPE:
    case O_VTYPE: {
        dtype_cache t;
        if (dtype_cache_parse(value, &t) != QKV_OK)
            return bad(name, value, "unknown cache type (f32, f16, bf16, fp8, fp8_e5m2, q8_0, "
                                    "q5_1, q5_0, q4_1, q4_0, iq4_nl)");
        if (id == O_KVTYPE)
            st->kv_type = t;
        else if (id == O_KTYPE)
            st->p.type_k = t, st->k_set = true;
        else
            st->p.type_v = t, st->v_set = true;
        return 0;
    }
    case O_WTYPE:
        if (dtype_weight_parse(value, &st->p.weight_type) != QKV_OK)
            return bad(name, value, "unknown weight type (see --help)");
        return 0;
    case O_LAYERS: case O_DMODEL: case O_HEADS: case O_MKVHEADS: case O_HEADDIM: case O_FFN:
    case O_VOCAB:
        if (units_parse_count(value, 1, MODEL_DIM_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->ov[id] = v;
        return 0;
    case O_FORMAT:
        if (report_format_parse(value, &st->format) != QKV_OK)
            return bad(name, value, "unknown format (table, json, csv, md)");
        return 0;
    case O_OUTPUT: st->output = value; return 0;
    case O_XLSX: st->xlsx = value; return 0;
    case O_PLOT: st->plot = value; return 0;
    case O_REPORT: st->report = value; return 0;
    case O_HELP: st->help = true; return 0;
    case O_VERSION: st->version = true; return 0;
    }
    return 0;
}

static void print_help(FILE *f)
{
    fprintf(f,
            "Usage: qkvplan [plan] [OPTIONS]\n"
            "       qkvplan probe MODEL [OPTIONS]   (see qkvplan probe --help)\n"
            "       qkvplan study [OPTIONS]         (see qkvplan study --help)\n"
            "       qkvplan convert IN --to safetensors|gguf OUT\n"
            "       qkvplan models | devices | help | --version\n\n"
            "Plans the KV cache and total memory of a model under every attention variant —\n"
            "head sharing (MHA, GQA, MQA) x projection sharing (QKV, Q-K=V, Q=K-V, Q=K=V) —\n"
            "on a device budget, and solves for the longest context and the most sequences\n"
            "that fit. Example: qkvplan --device 8GB --ctx 32k\n");
    cli_print_options_aliases(f, cli_plan_options, cli_plan_aliases);
    fprintf(f, "\nSizes: 8GB and 8GiB both mean 8 x 2^30 bytes; output states exact bytes.\n"
               "Exit codes: 0 plan written (also when nothing fits); 1 output could not be\n"
               "written; 2 bad command line (also an output that would replace an input);\n"
               "3 unreadable or invalid input file (also a FIFO or device); 4 plots not\n"
               "drawn (gnuplot missing or failing) though everything else was written.\n");
}

/* Variants to plan for model m. Returns the count, or -1 after an error.
 * For a single model a head sharing that does not fit the model is an error;
 * for the whole catalog it is skipped with a note. */
static long build_variants(const plan_state *st, const model_shape *m, variant *out, bool lenient,
                           char skipped[][KVPLAN_NOTE_BYTES], size_t *n_skipped)
{
    *n_skipped = 0;
    if (st->as_built) {
        out[0] = variant_as_built(m);
        return 1;
    }
    if (!st->share_list && !st->kv_heads_list)
        return (long)variant_default_grid(m, out, VARIANT_MAX);

    variant_share shares[SHARE_COUNT];
    size_t n_share = 0;
    uint64_t heads[VARIANT_MAX];
    size_t n_heads = 0;
    char buf[512], *items[VARIANT_MAX];

    if (st->share_list) {
        long listed =
            cli_split_list("share", st->share_list, buf, sizeof buf, items, VARIANT_MAX);
        if (listed < 0)
            return -1;
        size_t n = (size_t)listed;
        for (size_t i = 0; i < n; i++) {
            variant_share s;
            if (variant_share_parse(items[i], &s) != QKV_OK) {
                cli_error("--share '%s': unknown sharing (QKV, Q-K=V, Q=K-V, Q=K=V or none, kv, "
                          "qk, all)",
                          items[i]);
                return -1;
            }
            bool dup = false;
            for (size_t j = 0; j < n_share; j++)
                dup |= shares[j] == s;
            if (!dup)
                shares[n_share++] = s;
        }
        if (n_share == 0) {
            cli_error("--share '%s': empty list", st->share_list);
            return -1;
        }
    } else {
        for (int s = 0; s < SHARE_COUNT; s++)
            shares[n_share++] = (variant_share)s;
    }
    if (st->kv_heads_list) {
        long listed =
            cli_split_list("kv-heads", st->kv_heads_list, buf, sizeof buf, items, VARIANT_MAX);
        if (listed < 0)
            return -1;
        size_t n = (size_t)listed;
        for (size_t i = 0; i < n; i++) {
            qkv_error e;
            uint64_t kv;
            qkv_status ps = variant_parse_kv_heads(items[i], m->n_heads, &kv, &e);
            if (ps != QKV_OK) {
                if (!lenient || ps == QKV_ERR_PARSE) {
                    cli_error("--kv-heads '%s': %s", items[i], e.msg);
                    return -1;
                }
                if (*n_skipped < KVPLAN_NOTES_MAX)
                    snprintf(skipped[(*n_skipped)++], KVPLAN_NOTE_BYTES, "skipped --kv-heads %.32s: %.200s",
                             items[i], e.msg);
                continue;
            }
            bool dup = false;
            for (size_t j = 0; j < n_heads; j++)
                dup |= heads[j] == kv;
            if (!dup && n_heads < VARIANT_MAX)
                heads[n_heads++] = kv;
        }
        if (n == 0) {
            cli_error("--kv-heads '%s': empty list", st->kv_heads_list);
            return -1;
        }
    } else {
        heads[n_heads++] = m->n_heads;
    }
    size_t n = 0;
    for (size_t h = 0; h < n_heads; h++)
        for (size_t s = 0; s < n_share && n < VARIANT_MAX; s++)
            out[n++] = (variant){shares[s], heads[h], false,
                                 !model_is_mla(m) && shares[s] == SHARE_QKV && heads[h] == m->n_kv_heads};
    return (long)n;
}

static int apply_overrides(const plan_state *st, model_shape *m)
{
    static const struct {
        int id;
        const char *flag;
    } names[] = {{O_LAYERS, "layers"},   {O_DMODEL, "d-model"}, {O_HEADS, "heads"},
                 {O_MKVHEADS, "model-kv-heads"}, {O_HEADDIM, "head-dim"}, {O_FFN, "ffn"},
                 {O_VOCAB, "vocab"}};
    char note[MODEL_SOURCE_BYTES] = "";
    size_t used = 0;
    bool any = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!st->ov[names[i].id])
            continue;
        any = true;
        int k = snprintf(note + used, sizeof note - used, " --%s %" PRIu64, names[i].flag,
                         st->ov[names[i].id]);
        if (k > 0 && (size_t)k < sizeof note - used)
            used += (size_t)k;
    }
    if (!any)
        return 0;
    const uint64_t old_heads = m->n_heads, old_kv = m->n_kv_heads;
    if (st->ov[O_LAYERS]) {
        /* keep the share of sliding-window and no-KV layers where it scales exactly */
        uint64_t L = st->ov[O_LAYERS];
        m->n_swa_layers = m->n_swa_layers == m->n_layers ? L : m->n_swa_layers * L / m->n_layers;
        m->n_nokv_layers = m->n_nokv_layers * L / m->n_layers;
        if (m->n_experts > 0 && m->n_dense_layers > L)
            m->n_dense_layers = L;
        m->n_layers = L;
    }
    if (st->ov[O_DMODEL])
        m->d_model = st->ov[O_DMODEL];
    if (st->ov[O_HEADS])
        m->n_heads = st->ov[O_HEADS];
    if (st->ov[O_FFN])
        m->d_ff = st->ov[O_FFN];
    if (st->ov[O_VOCAB])
        m->vocab = st->ov[O_VOCAB];
    if (st->ov[O_HEADDIM]) {
        m->head_dim = m->v_head_dim = st->ov[O_HEADDIM];
    } else if (st->ov[O_DMODEL] || st->ov[O_HEADS]) {
        if (m->d_model % m->n_heads != 0) {
            cli_error("--d-model %" PRIu64 " is not a multiple of %" PRIu64
                      " heads; give --head-dim",
                      m->d_model, m->n_heads);
            return -1;
        }
        m->head_dim = m->v_head_dim = m->d_model / m->n_heads;
    }
    if (st->ov[O_MKVHEADS])
        m->n_kv_heads = st->ov[O_MKVHEADS];
    else if (st->ov[O_HEADS])
        m->n_kv_heads = old_kv == old_heads ? m->n_heads : old_kv;
    if (model_is_mla(m) && (st->ov[O_HEADDIM] || st->ov[O_DMODEL] || st->ov[O_HEADS])) {
        cli_error("overriding the heads of an MLA model is not supported");
        return -1;
    }
    char base[MODEL_NAME_BYTES];
    snprintf(base, sizeof base, "%s", m->name);
    snprintf(m->name, sizeof m->name, "custom");
    snprintf(m->source, sizeof m->source, "%.80s with%.160s", base, note);
    return 0;
}

/* The GPU budgets and offload options, checked together. Returns 0, or -1
 * after printing the error. */
static int offload_setup(plan_state *st)
{
    offload_params *op = &st->op;
    const bool vllm = st->p.engine == ENGINE_VLLM;
    if (op->n_gpus == 0 && vllm && op->tp > 1) {
        /* vllm --tp N without --gpu: N GPUs of --device each */
        op->n_gpus = (size_t)op->tp;
        for (size_t i = 0; i < op->n_gpus; i++) {
            op->gpu_bytes[i] = st->p.device_bytes;
            op->gpu_reserve[i] = st->p.reserve_bytes;
            snprintf(op->gpu_name[i], OFFLOAD_NAME_BYTES, "%.23s", st->device_label);
        }
        return 0;
    }
    if (op->n_gpus == 0) {
        const char *what = st->ngl_set           ? "--ngl"
                           : st->offload_opt_name ? st->offload_opt_name
                           : op->tp             ? "--tp"
                           : st->gpu_reserve_set  ? "--gpu-reserve"
                                                  : NULL;
        if (what) {
            cli_error("%s needs a GPU budget: give --gpu SIZE|NAME", what);
            return -1;
        }
        return 0;
    }
    if (vllm) {
        if (st->ngl_set || st->offload_opt_name) {
            cli_error("%s is llama.cpp's; vLLM divides every layer over --tp GPUs",
                      st->ngl_set ? "--ngl" : st->offload_opt_name);
            return -1;
        }
        if (op->unified) {
            cli_error("--engine vllm plans discrete GPUs, not the unified-memory device '%s'",
                      op->gpu_name[0]);
            return -1;
        }
        if (op->tp == 0)
            op->tp = op->n_gpus;
        if (op->n_gpus == 1 && op->tp > 1) {
            for (size_t i = 1; i < op->tp; i++) {
                op->gpu_bytes[i] = op->gpu_bytes[0];
                op->gpu_reserve[i] = op->gpu_reserve[0];
                memcpy(op->gpu_name[i], op->gpu_name[0], OFFLOAD_NAME_BYTES);
            }
            op->n_gpus = (size_t)op->tp;
        }
        if (op->tp != op->n_gpus) {
            cli_error("--tp %" PRIu64 " with %zu GPUs in --gpu: give one GPU (used %" PRIu64
                      " times) or %" PRIu64,
                      op->tp, op->n_gpus, op->tp, op->tp);
            return -1;
        }
    } else if (op->tp) {
        cli_error("--tp is vLLM's tensor parallelism; with llama.cpp use --tensor-split");
        return -1;
    }
    if (op->split_set && st->n_split != op->n_gpus) {
        cli_error("--tensor-split gives %zu proportions for %zu GPUs", st->n_split, op->n_gpus);
        return -1;
    }
    if (op->unified && !st->device_set) {
        /* the pool is the unified device itself */
        const device_profile *d = devices_find(op->gpu_name[0]);
        st->p.device_bytes = d->bytes;
        snprintf(st->device_label, sizeof st->device_label, "%s", d->name);
    }
    for (size_t i = 0; i < op->n_gpus && !op->unified; i++) {
        if (st->gpu_util > 0)
            op->gpu_reserve[i] =
                op->gpu_bytes[i] - (uint64_t)((double)op->gpu_bytes[i] * st->gpu_util);
        else if (st->gpu_reserve_set)
            op->gpu_reserve[i] = st->gpu_reserve;
        if (op->gpu_reserve[i] >= op->gpu_bytes[i]) {
            cli_error("--gpu '%s': a reserve of %" PRIu64 " bytes leaves nothing of %" PRIu64
                      " bytes",
                      op->gpu_name[i], op->gpu_reserve[i], op->gpu_bytes[i]);
            return -1;
        }
    }
    if (!st->ngl_set)
        op->ngl_auto = true;
    return 0;
}

static qkv_status write_plan(FILE *f, report_format fmt, const void *in, qkv_error *err)
{
    return report_write(f, fmt, in, err);
}

int cmd_plan(int argc, char **argv)
{
    plan_state st;
    memset(&st, 0, sizeof st);
    st.p = kvplan_params_default();
    if (cli_apply_defaults(cli_plan_options, on_option, &st) != 0)
        return EXIT_FAIL; /* a default the table itself gets wrong */
    st.parsing = true;
    if (cli_parse_aliases(cli_plan_options, cli_plan_aliases, argc, argv, on_option, &st) != 0)
        return EXIT_USAGE;
    if (st.help) {
        print_help(stdout);
        return cli_finish_stdout(EXIT_OK);
    }
    if (st.version) {
        printf("qkvplan %s\n", QKVPLAN_VERSION);
        return cli_finish_stdout(EXIT_OK);
    }
    if (st.gpu_util > 0 && st.reserve_set) {
        cli_error("--gpu-memory-utilization and --reserve both set the budget; give one");
        return EXIT_USAGE;
    }
    if (offload_setup(&st) != 0)
        return EXIT_USAGE;
    if (st.gpu_util > 0) /* vLLM may use this fraction of the device */
        st.p.reserve_bytes = st.p.device_bytes - (uint64_t)((double)st.p.device_bytes * st.gpu_util);
    else if (st.reserve_permille > 0)
        st.p.reserve_bytes = (uint64_t)((double)st.p.device_bytes * st.reserve_permille / 1000.0);
    if (!st.k_set)
        st.p.type_k = st.kv_type;
    if (!st.v_set)
        st.p.type_v = st.kv_type;
    if (st.as_built && (st.share_list || st.kv_heads_list)) {
        cli_error("--as-built plans the model as published; it cannot be combined with --share "
                  "or --kv-heads");
        return EXIT_USAGE;
    }
    qkv_error err;
    if (kvplan_params_check(&st.p, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
    }

    /* Models. */
    bool all = strcasecmp(st.model_arg, "all") == 0, from_file = false;
    size_t n_models = all ? catalog_count() : 1;
    model_shape *models = calloc(n_models, sizeof *models);
    kvplan_result *plans = calloc(n_models, sizeof *plans);
    variant *vs = calloc(VARIANT_MAX, sizeof *vs);
    int code = EXIT_OK;
    size_t n_plans = 0;
    if (!models || !plans || !vs) {
        cli_error("out of memory");
        code = EXIT_FAIL;
        goto done;
    }
    if (all) {
        for (size_t i = 0; i < n_models; i++)
            models[i] = *catalog_get(i);
    } else {
        const model_shape *c = catalog_find(st.model_arg);
        if (c) {
            models[0] = *c;
        } else if (strcmp(st.model_arg, "-") == 0) { /* a config.json on standard input */
            if (hfconfig_read(stdin, "standard input", &models[0], &err) != QKV_OK) {
                code = cli_fail(&err, EXIT_INPUT);
                goto done;
            }
            from_file = true;
        } else {
            struct stat sb;
            if (stat(st.model_arg, &sb) != 0 && !strchr(st.model_arg, '/') &&
                !strstr(st.model_arg, ".json")) {
                cli_error("--model '%s': no such catalog model or file (see 'qkvplan models')",
                          st.model_arg);
                code = EXIT_USAGE;
                goto done;
            }
            if (modelfile_shape(st.model_arg, &models[0], &err) != QKV_OK) {
                cli_error("%s", err.msg);
                code = err.code == QKV_ERR_NOMEM ? EXIT_FAIL : EXIT_INPUT;
                goto done;
            }
            from_file = true;
        }
    }
    for (int id = O_LAYERS; id <= O_VOCAB; id++) {
        if (all && st.ov[id]) {
            cli_error("shape overrides apply to one model, not to --model all");
            code = EXIT_USAGE;
            goto done;
        }
    }
    if (!all && apply_overrides(&st, &models[0]) != 0) {
        code = EXIT_USAGE;
        goto done;
    }
    for (size_t i = 0; i < n_models; i++) {
        char skipped[KVPLAN_NOTES_MAX][KVPLAN_NOTE_BYTES];
        size_t n_skipped;
        if (model_validate(&models[i], &err) != QKV_OK) {
            /* A file's own shape was validated as it was read: what fails
             * now is the command line's overrides, so say which. */
            const char *with = strstr(models[i].source, " with --");
            if (with)
                cli_error("%s: %s", with + 6, err.msg);
            else
                cli_error("%s", err.msg);
            code = from_file && !with ? EXIT_INPUT : EXIT_USAGE;
            goto done;
        }
        long n = build_variants(&st, &models[i], vs, all, skipped, &n_skipped);
        if (n < 0) {
            code = EXIT_USAGE;
            goto done;
        }
        /* One explicitly requested variant that cannot be built is an error;
         * in a grid or a list, such combinations are skipped with a note. */
        bool single = st.share_list && st.kv_heads_list && !strchr(st.share_list, ',') &&
                      !strchr(st.kv_heads_list, ',');
        if (kvplan_plan(&models[i], vs, (size_t)n, &st.p, all || !single, &plans[n_plans], &err) !=
            QKV_OK) {
            if (all && (n == 0 || err.code == QKV_ERR_INVALID)) {
                /* the whole catalog: a model none of the variants fit is left out */
                continue;
            }
            /* Sizes that grow with the context and sequences overflow
             * because of the request: say so and name the options. Sizes
             * of the model alone (parameters, weights) are the file's. */
            const bool request = err.code == QKV_ERR_OVERFLOW &&
                                 (strstr(err.msg, "cell count") || strstr(err.msg, "KV cache size") ||
                                  strstr(err.msg, "scratch size") || strstr(err.msg, "total memory"));
            const bool model_size = err.code == QKV_ERR_OVERFLOW && !request;
            if (request)
                cli_error("--ctx %" PRIu64 " with --seqs %" PRIu64 ": %s", st.p.ctx, st.p.seqs,
                          err.msg);
            else
                cli_error("%s", err.msg);
            code = err.code == QKV_ERR_NOMEM   ? EXIT_FAIL
                   : model_size && from_file   ? EXIT_INPUT
                                               : EXIT_USAGE;
            goto done;
        }
        kvplan_result *r = &plans[n_plans++];
        for (size_t k = 0; k < n_skipped && r->n_notes < KVPLAN_NOTES_MAX; k++)
            memcpy(r->notes[r->n_notes++], skipped[k], KVPLAN_NOTE_BYTES);
        if (st.op.n_gpus > 0) {
            /* a GGUF as published gives each layer's exact bytes */
            offload_layout layout = {0};
            const bool use_file = from_file && strcmp(models[i].name, "custom") != 0 &&
                                  modelfile_is_gguf(st.model_arg);
            qkv_status ls = use_file ? offload_layout_read(st.model_arg, models[i].n_layers,
                                                           &layout, &err)
                                     : QKV_OK;
            if (ls == QKV_OK)
                ls = offload_plan(r, &st.op, use_file ? &layout : NULL, &err);
            offload_layout_free(&layout);
            if (ls != QKV_OK) {
                if (all && ls == QKV_ERR_INVALID)
                    continue; /* the catalog: a model the GPUs cannot split is left without */
                cli_error("%s", err.msg);
                code = ls == QKV_ERR_NOMEM ? EXIT_FAIL : use_file && ls != QKV_ERR_RANGE &&
                                                         ls != QKV_ERR_INVALID
                                                     ? EXIT_INPUT
                                                     : EXIT_USAGE;
                goto done;
            }
        }
    }

    /* Every file this run will write, against every file it read. */
    report_input planned = {st.device_label, plans, n_plans, st.in_mib, 0, false};
    cli_outputs outs = {0};
    cli_outputs_add(&outs, "--output", "%s", st.output && strcmp(st.output, "-") ? st.output : NULL);
    cli_outputs_add(&outs, "--xlsx", "%s", st.xlsx);
    char plots[QKV_PATH_BYTES + QKV_NAME_BYTES];
    snprintf(plots, sizeof plots, "%s/%s", st.report ? st.report : "", REPORT_BUNDLE_PLOTS);
    if (st.report)
        cli_outputs_add_bundle(&outs, "--report", st.report, "plan");
    for (size_t i = 0; i < n_plans; i++) {
        for (int k = 0; k < PLOT_KINDS; k++) {
            char base[QKV_NAME_BYTES];
            report_plot_name(&planned, i, k, base, sizeof base);
            if (st.plot)
                cli_outputs_add_figure(&outs, "--plot", st.plot, base);
            if (st.report)
                cli_outputs_add_figure(&outs, "--report", plots, base);
        }
    }
    if ((code = cli_outputs_check(&outs)) != EXIT_OK)
        goto done;

    if (st.xlsx || st.plot || st.report) {
        for (size_t i = 0; i < n_plans; i++) {
            if (kvplan_sweep(&plans[i], &err) != QKV_OK) {
                cli_error("%s", err.msg);
                code = EXIT_FAIL;
                goto done;
            }
        }
    }

    /* Output. */
    report_input in = {st.device_label, plans, n_plans, st.in_mib,
                       cli_term_width(st.output && strcmp(st.output, "-") ? -1 : STDOUT_FILENO),
                       st.wide};
    if ((code = cli_write_report(st.output, st.format, write_plan, &in)) != EXIT_OK)
        goto done;
    if (st.xlsx && cli_xlsx_write(st.xlsx, &in, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        code = EXIT_FAIL;
        goto done;
    }
    bool plots_missing = false;
    if (st.plot) {
        qkv_status ps = report_make_dir(st.plot, &err);
        if (ps == QKV_OK)
            ps = report_plots_write(st.plot, &in, &err);
        if ((code = cli_plot_status(ps, &err, "plots not drawn", &plots_missing)) != EXIT_OK)
            goto done;
    }
    const report_bundle bundle = report_plan_bundle(&in);
    if (st.report &&
        (code = cli_plot_status(cli_bundle_write(st.report, &bundle, &err), &err,
                                "report written without plots", &plots_missing)) != EXIT_OK)
        goto done;
    if (plots_missing)
        code = EXIT_PLOTS;
done:
    if (plans)
        for (size_t i = 0; i < n_plans; i++)
            kvplan_result_free(&plans[i]);
    free(plans);
    free(models);
    free(vs);
    return code;
}
