/* llama_names.h — what Llama-family checkpoint files call the runtime's
 * tensors, written once for every reader and writer (checkpoint.c loads and
 * converts, rt_lazy.c maps): llama.cpp's GGUF names and Hugging Face's
 * safetensors names. Row orders differ (checkpoint.h); names do not. */
#ifndef QKV_LLAMA_NAMES_H
#define QKV_LLAMA_NAMES_H

#include <stddef.h>

typedef enum {
    LLAMA_TOK_EMB,  /* (V, C) */
    LLAMA_OUT_NORM, /* (C) final norm */
    LLAMA_OUTPUT,   /* (V, C) classifier, absent when tied */
    /* per layer, in the order files list them */
    LLAMA_ATTN_NORM,
    LLAMA_Q,
    LLAMA_K,
    LLAMA_V,
    LLAMA_O,
    LLAMA_FFN_NORM,
    LLAMA_GATE,
    LLAMA_UP,
    LLAMA_DOWN,
    LLAMA_TENSOR_COUNT
} llama_tensor;

#define LLAMA_FIRST_LAYER_TENSOR LLAMA_ATTN_NORM

typedef enum { LLAMA_NAMES_GGUF, LLAMA_NAMES_HF } llama_names;

/* The name of tensor k (of layer `layer` for per-layer tensors) in buf. */
void llama_tensor_name(llama_names scheme, llama_tensor k, int layer, char *buf, size_t buf_bytes);

#endif
