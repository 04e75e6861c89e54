/* The planner command's options (plan_options.h). */
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
#include "cli/plan_options.h"

const cli_option cli_plan_options[] = {
    {0, NULL, 0, NULL, NULL, "Model:"},
    {O_MODEL, "model", 'm', "NAME|PATH|all|-", CATALOG_DEFAULT,
     "a catalog model (see 'qkvplan models'), a Hugging Face config.json or a directory holding "
     "one, a GGUF file, safetensors (config.json beside them; weight bytes are then exact), "
     "'all' for the whole catalog, or - for a config.json on standard input; a comma list "
     "compares models in one run"},
    {O_LAYERS, "layers", 0, "N", NULL, "override the number of layers"},
    {O_DMODEL, "d-model", 0, "N", NULL, "override the hidden size"},
    {O_HEADS, "heads", 0, "N", NULL, "override the number of query heads"},
    {O_MKVHEADS, "model-kv-heads", 0, "N", NULL,
     "override the model's own KV heads (the as-built row)"},
    {O_HEADDIM, "head-dim", 0, "N", NULL,
     "override the head width (else d-model / heads when either of those is overridden)"},
    {O_FFN, "ffn", 0, "N", NULL, "override the FFN width"},
    {O_VOCAB, "vocab", 0, "N", NULL, "override the vocabulary size"},
    {0, NULL, 0, NULL, NULL,
     "Variants (default grid: MHA x every sharing; GQA-8, GQA-4, MQA x "
     "{QKV, Q-K=V}; and the model as built):"},
    {O_SHARE, "share", 0, "LIST", NULL,
     "projection sharings: QKV, Q-K=V, Q=K-V, Q=K=V (aliases none, kv, qk, all), comma-separated"},
    {O_KVHEADS, "kv-heads", 0, "LIST", NULL,
     "head sharings: mha, mqa, gqa-N or a number of KV heads, comma-separated"},
    {O_ASBUILT, "as-built", 0, NULL, NULL, "plan only the model as published"},
    {0, NULL, 0, NULL, NULL, "Types:"},
    {O_KVTYPE, "kv-type", 0, "TYPE", "f16",
     "cache type of K and V: f32, f16, bf16, fp8, fp8_e5m2, q8_0, q5_1, q5_0, q4_1, q4_0, "
     "iq4_nl; a comma list plans each"},
    {O_KTYPE, "k-type", 0, "TYPE", NULL, "cache type of K (and of a shared K=V tensor)"},
    {O_VTYPE, "v-type", 0, "TYPE", NULL, "cache type of V"},
    {O_WTYPE, "weight-type", 0, "TYPE", "f16",
     "weight type: f32, f16, bf16, q8_0, q6_K, q5_1, q5_0, q4_1, q4_0 (exact) or the mixes "
     "q5_K_M 5.68, q5_K_S 5.52, q4_K_M 4.84, q4_K_S 4.58, q3_K_L 4.27, q3_K_M 3.91, q3_K_S 3.50, "
     "q2_K 3.35 bits per weight (llama.cpp, Llama 2 7B); a comma list plans each"},
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
     "shared by the sequences as in llama-server -c; a comma list (4k,32k) plans each"},
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
    {0, NULL, 0, NULL, NULL,
     "GPUs and offload (llama.cpp v0.4.0 placement, vLLM tensor parallel):"},
    {O_GPU, "gpu", 0, "SIZE|NAME[,...]", NULL,
     "GPU memory beside --device (host RAM): one or more sizes or GPU profiles from 'qkvplan "
     "devices'; a unified-memory profile (Apple silicon, Jetson, phones) makes host and GPU one "
     "pool of that size with the profile's GPU share. Reports weights, KV, compute, total and "
     "headroom per device"},
    {O_GPURESERVE, "gpu-reserve", 0, "SIZE", NULL,
     "kept free on every GPU for the runtime's context (default: the profile's, 512MiB for a "
     "size)"},
    {O_NGL, "ngl", 0, "N|auto|all", NULL,
     "llama.cpp -ngl: layers on the GPU(s), the output layer counted first (v0.4.0); auto "
     "(default with --gpu) finds the most that fit every GPU at --ctx and --seqs"},
    {O_NKVO, "no-kv-offload", 0, NULL, NULL, "llama.cpp: keep every layer's KV cache in host RAM"},
    {O_TSPLIT, "tensor-split", 0, "A,B,...", NULL,
     "llama.cpp: share of the offloaded layers per GPU (default: by each GPU's usable memory)"},
    {O_CPUMOE, "cpu-moe", 0, NULL, NULL,
     "llama.cpp: keep every layer's MoE expert weights in host RAM"},
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
     "also write an XLSX workbook: summary, variants, memory vs context with a chart, paper "
     "evidence"},
    {O_PLOT, "plot", 0, "DIR", NULL,
     "also draw plots with gnuplot into DIR (PNG and SVG, with the .gp scripts and .dat data)"},
    {O_REPORT, "report", 0, "DIR", NULL,
     "also write the design-review folder DIR: plan.md (plots embedded), plan.json, plan.csv, "
     "plan.xlsx, plots/"},
    {O_HELP, "help", 'h', NULL, NULL, "show this help"},
    {O_VERSION, "version", 'V', NULL, NULL, "show the version"},
    {0, NULL, 0, NULL, NULL, NULL},
};

/* The engines' own spellings: llama-server's and vllm serve's. */
const cli_alias cli_plan_aliases[] = {
    {"--ctx-size", O_CTX},
    {"--max-model-len", O_CTX},
    {"-np", O_SEQS},
    {"--parallel", O_SEQS},
    {"--max-num-seqs", O_SEQS},
    {"-ctk", O_KTYPE},
    {"--cache-type-k", O_KTYPE},
    {"-ctv", O_VTYPE},
    {"--cache-type-v", O_VTYPE},
    {"-fa", O_FLASH},
    {"-ub", O_UBATCH},
    {"--ubatch-size", O_UBATCH},
    {"-ngl", O_NGL},
    {"--n-gpu-layers", O_NGL},
    {"--gpu-layers", O_NGL},
    {"-nkvo", O_NKVO},
    {"-ts", O_TSPLIT},
    {"-cmoe", O_CPUMOE},
    {"-ncmoe", O_NCPUMOE},
    {"-tp", O_TP},
    {"--tensor-parallel-size", O_TP},
    {NULL, 0},
};

static int bad(const char *name, const char *value, const char *why)
{
    cli_error("--%s '%s': %s", name, value, why);
    return -1;
}

/* A comma list for --ctx, --kv-type or --weight-type: every item checked as
 * if given alone; the list is kept for the plans to come. */
static int each_item(plan_state *st, int id, const char *name, const char *value, const char **list)
{
    char buf[512], *items[PLAN_LIST_MAX];
    const long n = cli_split_list(name, value, buf, sizeof buf, items, PLAN_LIST_MAX);
    if (n == 0)
        cli_error("--%s '%s': empty list", name, value);
    if (n <= 0)
        return -1;
    for (long i = 0; i < n; i++)
        if (plan_on_option(st, id, name, items[i]) != 0)
            return -1;
    *list = value;
    return 0;
}

int plan_on_option(void *vs, int id, const char *name, const char *value)
{
    if (value && strchr(value, ',') && (id == O_CTX || id == O_KVTYPE || id == O_WTYPE)) {
        plan_state *ps = vs;
        return each_item(ps, id, name, value,
                         id == O_CTX      ? &ps->ctx_list
                         : id == O_KVTYPE ? &ps->kv_type_list
                                          : &ps->wtype_list);
    }
    plan_state *st = vs;
    char why[160];
    uint64_t v;
    switch (id) {
    case O_MODEL:
        st->model_arg = value;
        return 0;
    case O_DEVICE: {
        const device_profile *d = devices_find(value);
        if (d) {
            st->p.device_bytes = d->bytes;
        } else {
            if (units_parse_size(value, &v, why, sizeof why) != 0)
                return bad(name, value,
                           strcmp(why, "is not a number") == 0
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
                return bad(name, items[i],
                           strcmp(why, "is not a number") == 0
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
    case O_BEYOND:
        st->p.beyond_trained = true;
        return 0;
    case O_INMIB:
        st->in_mib = true;
        return 0;
    case O_WIDE:
        st->wide = true;
        return 0;
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
    case O_UNIFIED:
        st->p.kv_unified = true;
        return 0;
    case O_FLASH:
        if (kvplan_fa_parse(value, &st->p.flash_attn) != QKV_OK)
            return bad(name, value, "must be on, off or auto");
        return 0;
    case O_SWAFULL:
        st->p.swa_full = true;
        return 0;
    case O_SHARE:
        st->share_list = value;
        return 0;
    case O_KVHEADS:
        st->kv_heads_list = value;
        return 0;
    case O_ASBUILT:
        st->as_built = true;
        return 0;
    case O_KVTYPE:
    case O_KTYPE:
    case O_VTYPE: {
        dtype_cache t;
        if (dtype_cache_parse(value, &t) != QKV_OK)
            return bad(name, value,
                       "unknown cache type (f32, f16, bf16, fp8, fp8_e5m2, q8_0, "
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
    case O_LAYERS:
    case O_DMODEL:
    case O_HEADS:
    case O_MKVHEADS:
    case O_HEADDIM:
    case O_FFN:
    case O_VOCAB:
        if (units_parse_count(value, 1, MODEL_DIM_MAX, &v, why, sizeof why) != 0)
            return bad(name, value, why);
        st->ov[id] = v;
        return 0;
    case O_FORMAT:
        if (report_format_parse(value, &st->format) != QKV_OK)
            return bad(name, value, "unknown format (table, json, csv, md)");
        return 0;
    case O_OUTPUT:
        st->output = value;
        return 0;
    case O_XLSX:
        st->xlsx = value;
        return 0;
    case O_PLOT:
        st->plot = value;
        return 0;
    case O_REPORT:
        st->report = value;
        return 0;
    case O_HELP:
        st->help = true;
        return 0;
    case O_VERSION:
        st->version = true;
        return 0;
    }
    return 0;
}

void plan_print_help(FILE *f)
{
    fprintf(f, "Usage: qkvplan [plan] [OPTIONS]\n"
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

int plan_offload_setup(plan_state *st)
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
        const char *what = st->ngl_set            ? "--ngl"
                           : st->offload_opt_name ? st->offload_opt_name
                           : op->tp               ? "--tp"
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
