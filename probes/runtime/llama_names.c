#include "probes/runtime/llama_names.h"

#include <stdio.h>

static const char *const names[2][LLAMA_TENSOR_COUNT] = {
    {"token_embd.weight", "output_norm.weight", "output.weight", "blk.%d.attn_norm.weight",
     "blk.%d.attn_q.weight", "blk.%d.attn_k.weight", "blk.%d.attn_v.weight",
     "blk.%d.attn_output.weight", "blk.%d.ffn_norm.weight", "blk.%d.ffn_gate.weight",
     "blk.%d.ffn_up.weight", "blk.%d.ffn_down.weight"},
    {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
     "model.layers.%d.input_layernorm.weight", "model.layers.%d.self_attn.q_proj.weight",
     "model.layers.%d.self_attn.k_proj.weight", "model.layers.%d.self_attn.v_proj.weight",
     "model.layers.%d.self_attn.o_proj.weight", "model.layers.%d.post_attention_layernorm.weight",
     "model.layers.%d.mlp.gate_proj.weight", "model.layers.%d.mlp.up_proj.weight",
     "model.layers.%d.mlp.down_proj.weight"},
};

void llama_tensor_name(llama_names scheme, llama_tensor k, int layer, char *buf, size_t buf_bytes)
{
    if (k < LLAMA_FIRST_LAYER_TENSOR)
        snprintf(buf, buf_bytes, "%s", names[scheme][k]);
    else
        snprintf(buf, buf_bytes, names[scheme][k], layer);
}
