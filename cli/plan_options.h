/* plan_options.h — the planner command's options: its state, the option
 * table behind parsing, --help, the man page and the completions, and the
 * checks that need several options together (budgets, GPU offload). */
#ifndef QKV_CLI_PLAN_OPTIONS_H
#define QKV_CLI_PLAN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analyzer/dtype.h"
#include "analyzer/kvplan.h"
#include "analyzer/offload.h"
#include "reports/format.h"

enum {
    O_MODEL = 1,
    O_DEVICE,
    O_RESERVE,
    O_CTX,
    O_SEQS,
    O_UBATCH,
    O_ENGINE,
    O_UNIFIED,
    O_FLASH,
    O_SWAFULL,
    O_BLOCK,
    O_GPUUTIL,
    O_BEYOND,
    O_INMIB,
    O_SHARE,
    O_KVHEADS,
    O_ASBUILT,
    O_KVTYPE,
    O_KTYPE,
    O_VTYPE,
    O_WTYPE,
    O_LAYERS,
    O_DMODEL,
    O_HEADS,
    O_MKVHEADS,
    O_HEADDIM,
    O_FFN,
    O_VOCAB,
    O_FORMAT,
    O_OUTPUT,
    O_XLSX,
    O_PLOT,
    O_REPORT,
    O_HELP,
    O_VERSION,
    O_WIDE,
    O_GPU,
    O_GPURESERVE,
    O_NGL,
    O_NKVO,
    O_TSPLIT,
    O_CPUMOE,
    O_NCPUMOE,
    O_TP,
};

typedef struct {
    const char *model_arg;                            /* one model, "all", or a comma list */
    const char *ctx_list, *kv_type_list, *wtype_list; /* comma lists, or NULL: one value */
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
    uint64_t gpu_reserve;                       /* --gpu-reserve, when gpu_reserve_set */
    bool gpu_reserve_set, ngl_set, offload_opt; /* offload_opt: an option that needs --gpu */
    size_t n_split;                             /* proportions in --tensor-split */
    const char *offload_opt_name;
} plan_state;

/* Entries a comma list may hold (-m, --ctx, --kv-type, --weight-type). */
#define PLAN_LIST_MAX 16

/* The option handler for cli_parse (state: a plan_state). */
int plan_on_option(void *state, int id, const char *name, const char *value);

/* The command's --help. */
void plan_print_help(FILE *f);

/* The GPU budgets and offload options, checked together. Returns 0, or -1
 * after printing the error. */
int plan_offload_setup(plan_state *st);

#endif
