/* A GGUF file's bytes per layer as llama.cpp's offload sees them
 * (offload_layout_read in offload.h). */
#include "analyzer/offload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/core/checked.h"
#include "analyzer/formats/gguf.h"

/* An offload plan walks every layer; a model with more is refused. */
#define OFFLOAD_LAYERS_MAX ((uint64_t)1 << 16)
#define CPU_DEV (-1)

__extension__ typedef unsigned __int128 u128;

/* ---- a GGUF file's layout ------------------------------------------------ */

static void piece_add(offload_piece *p, uint64_t off, uint64_t bytes)
{
    if (p->bytes == 0 && p->lo >= p->hi) {
        p->lo = off;
        p->hi = off + bytes;
    } else {
        p->lo = u64_min(p->lo, off);
        p->hi = u64_max(p->hi, off + bytes);
    }
    p->bytes += bytes;
}

/* The routed-expert tensors llama-server's --cpu-moe moves
 * (LLM_FFN_EXPS_REGEX "\\.ffn_(up|down|gate|gate_up)_(ch|)exps", common/common.h:1131). */
static bool is_expert_tensor(const char *name)
{
    static const char *const kinds[] = {".ffn_up_", ".ffn_down_", ".ffn_gate_", ".ffn_gate_up_"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const char *at = strstr(name, kinds[k]);
        if (!at)
            continue;
        const char *rest = at + strlen(kinds[k]);
        if (strncmp(rest, "exps", 4) == 0 || strncmp(rest, "chexps", 6) == 0)
            return true;
    }
    return false;
}

qkv_status offload_layout_read(const char *path, uint64_t n_layers, offload_layout *out,
                               qkv_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_layers == 0 || n_layers > OFFLOAD_LAYERS_MAX)
        return qkv_error_set(err, QKV_ERR_RANGE, "an offload plan handles 1..%llu layers, not %llu",
                             (unsigned long long)OFFLOAD_LAYERS_MAX, (unsigned long long)n_layers);
    gguf_file g;
    qkv_status s = gguf_open(path, &g, err);
    if (s != QKV_OK)
        return s;
    out->n_layers = n_layers;
    out->layer = calloc(n_layers, sizeof *out->layer);
    out->experts = calloc(n_layers, sizeof *out->experts);
    if (!out->layer || !out->experts) {
        gguf_close(&g);
        offload_layout_free(out);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory reading the layout of '%s'", path);
    }
    for (size_t i = 0; i < g.n_tensors; i++) {
        const gguf_tensor *t = &g.tensors[i];
        const char *name = t->name;
        offload_piece *p = &out->input;
        if (strncmp(name, "blk.", 4) == 0) {
            char *end;
            unsigned long long il = strtoull(name + 4, &end, 10);
            if (end != name + 4 && *end == '.' && il < n_layers)
                p = is_expert_tensor(name) ? &out->experts[il] : &out->layer[il];
        } else if (strncmp(name, "output_norm.", 12) == 0) {
            p = &out->output_norm;
        } else if (strncmp(name, "output.", 7) == 0) {
            p = &out->output;
        }
        piece_add(p, t->offset, t->bytes);
    }
    gguf_close(&g);
    return QKV_OK;
}

void offload_layout_free(offload_layout *l)
{
    if (!l)
        return;
    free(l->layer);
    free(l->experts);
    l->layer = l->experts = NULL;
    l->n_layers = 0;
}

/* ---- one row's weights, by llama.cpp's layers ---------------------------- */
