#include "analyzer/paper.h"

#include <string.h>

const paper_lm_result paper_lm_results[] = {
    {"QKV+MHA", SHARE_QKV, 0, 0.0, "300M (perplexity 5.11)"},
    {"Q-K=V+MHA", SHARE_KV, 0, 3.1, "300M"},
    {"Q-K=V+MHA", SHARE_KV, 0, 2.48, "1.2B"},
    {"Q=K-V+MHA", SHARE_QK, 0, 4.9, "300M"},
    {"Q=K=V+MHA", SHARE_ALL, 0, 25.4, "300M"},
    {"QKV+GQA-4", SHARE_QKV, 4, 0.7, "300M"},
    {"QKV+MQA", SHARE_QKV, 1, 1.5, "300M"},
    {"Q-K=V+GQA-4", SHARE_KV, 4, 3.9, "300M"},
    {"Q-K=V+MQA", SHARE_KV, 1, 4.8, "300M"},
};
const size_t paper_lm_results_count = sizeof paper_lm_results / sizeof paper_lm_results[0];

const paper_ctx_result paper_kv_ctx_results[] = {{512, 5.4}, {2048, 2.2}};
const size_t paper_kv_ctx_results_count =
    sizeof paper_kv_ctx_results / sizeof paper_kv_ctx_results[0];

bool paper_ppl_delta_300m(const variant *v, uint64_t n_heads, double *pct)
{
    if (v->mla)
        return false;
    const int kv = v->kv_heads == n_heads ? 0 : v->kv_heads > 4 ? -1 : (int)v->kv_heads;
    for (size_t i = 0; i < paper_lm_results_count; i++) {
        const paper_lm_result *r = &paper_lm_results[i];
        if (r->share == v->share && r->kv_heads == kv && strncmp(r->model, "300M", 4) == 0) {
            *pct = r->ppl_delta_pct;
            return true;
        }
    }
    return false;
}

const char *const paper_table1_tasks[PAPER_T1_TASKS] = {"reverse", "sort", "sub", "swap", "copy"};

const paper_synthetic_row paper_table1[] = {
    {"QKV", SHARE_QKV, false, {0.698, 0.971, 1.0, 0.588, 1.0}},
    {"Q=K-V", SHARE_QK, false, {0.705, 0.967, 1.0, 0.597, 1.0}},
    {"(Q=K-V)+", SHARE_QK, true, {0.718, 0.963, 1.0, 0.671, 1.0}},
    {"Q-K=V", SHARE_KV, false, {0.701, 0.958, 1.0, 0.590, 1.0}},
    {"Q=K=V", SHARE_ALL, false, {0.514, 0.939, 1.0, 0.446, 1.0}},
    {"(Q=K=V)+", SHARE_ALL, true, {0.581, 0.957, 1.0, 0.576, 1.0}},
};
const size_t paper_table1_count = sizeof paper_table1 / sizeof paper_table1[0];

bool paper_table1_accuracy(variant_share share, bool pos2d, const char *task, double *acc)
{
    for (int t = 0; t < PAPER_T1_TASKS; t++) {
        if (strcmp(task, paper_table1_tasks[t]) != 0)
            continue;
        for (size_t i = 0; i < paper_table1_count; i++)
            if (paper_table1[i].share == share && paper_table1[i].pos2d == pos2d) {
                *acc = paper_table1[i].acc[t];
                return true;
            }
    }
    return false;
}
