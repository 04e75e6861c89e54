/* gen — writes the hostile model files the tests/hostile suite needs, so no
 * test depends on a file it did not make itself.
 *
 *   gen llama2c OUT              a tiny llama2.c checkpoint (dim 8, 2 layers,
 *                                2 heads, vocab 32, seq_len 16), weights from
 *                                a fixed LCG
 *   gen gguf OUT NAME PAD [L]    the same model (L layers, default 2) as GGUF v3 (F32) with
 *                                general.name NAME and PAD extra empty
 *                                tensors listed before the real ones
 *   gen gguf-overlap OUT         a GGUF whose tensors A and B overlap with a
 *                                zero-size tensor between them
 *   gen gguf-dup OUT             a GGUF naming one tensor twice
 *
 * Little-endian output regardless of the host. Exit 0 on success, 1 on an
 * I/O error (message on stderr). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DIM = 8, HIDDEN = 16, HEADS = 2, KV_HEADS = 2, VOCAB = 32, SEQ = 16, LAYERS_MAX = 256 };
static int LAYERS = 2;

static FILE *out;
static uint32_t lcg = 12345u;

static void put(uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        fputc((int)((v >> (8 * i)) & 0xff), out);
}

static void put_f32(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    put(u, 4);
}

static float next_weight(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return ((float)(lcg >> 8) / 16777216.0f - 0.5f) * 0.4f;
}

static void put_weights(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        put_f32(next_weight());
}

static void put_ones(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        put_f32(1.0f);
}

static void put_str(const char *s)
{
    put(strlen(s), 8);
    fputs(s, out);
}

static void gen_llama2c(void)
{
    const int32_t h[7] = {DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ};
    for (int i = 0; i < 7; i++)
        put((uint32_t)h[i], 4);
    const uint64_t C = DIM, L = LAYERS, FF = HIDDEN, KW = (uint64_t)KV_HEADS * (DIM / HEADS);
    put_weights((uint64_t)VOCAB * C);
    put_ones(L * C);
    put_weights(L * C * C);      /* wq */
    put_weights(2 * L * KW * C); /* wk, wv */
    put_weights(L * C * C);      /* wo */
    put_ones(L * C);
    put_weights(3 * L * FF * C); /* w1, w2, w3 */
    put_ones(C);
    put_weights((uint64_t)SEQ * (DIM / HEADS)); /* RoPE tables, unused by readers */
}

typedef struct {
    char name[48];
    uint32_t n_dims;
    uint64_t ne[2];
    uint64_t offset;
    int ones;
} tensor;

static void gguf_kv_u32(const char *key, uint32_t v)
{
    put_str(key);
    put(4, 4); /* GGUF_U32 */
    put(v, 4);
}

static void gguf_header(uint64_t n_tensors, uint64_t n_kv)
{
    fputs("GGUF", out);
    put(3, 4);
    put(n_tensors, 8);
    put(n_kv, 8);
}

static void gguf_info(const tensor *t)
{
    put_str(t->name);
    put(t->n_dims, 4);
    for (uint32_t d = 0; d < t->n_dims; d++)
        put(t->ne[d], 8);
    put(0, 4); /* F32 */
    put(t->offset, 8);
}

static void pad_to(long align)
{
    while (ftell(out) % align)
        fputc(0, out);
}

static int gen_gguf(const char *name, unsigned long pad)
{
    static tensor ts[3 + 9 * LAYERS_MAX];
    size_t n = 0;
    uint64_t off = 0;
#define T(nm, ones_, d0, d1)                                                                       \
    do {                                                                                           \
        tensor *t = &ts[n++];                                                                      \
        snprintf(t->name, sizeof t->name, "%s", nm);                                               \
        t->n_dims = (d1) ? 2 : 1;                                                                  \
        t->ne[0] = (d0);                                                                           \
        t->ne[1] = (d1);                                                                           \
        t->offset = off;                                                                           \
        t->ones = ones_;                                                                           \
        off += ((uint64_t)(d0) * ((d1) ? (d1) : 1) * 4 + 31) / 32 * 32;                            \
    } while (0)
    T("token_embd.weight", 0, DIM, VOCAB);
    T("output_norm.weight", 1, DIM, 0);
    for (int l = 0; l < LAYERS; l++) {
        char b[48];
        static const struct {
            const char *suffix;
            int ones, d0, d1;
        } parts[] = {{"attn_norm", 1, DIM, 0},     {"attn_q", 0, DIM, DIM},
                     {"attn_k", 0, DIM, DIM},      {"attn_v", 0, DIM, DIM},
                     {"attn_output", 0, DIM, DIM}, {"ffn_norm", 1, DIM, 0},
                     {"ffn_gate", 0, DIM, HIDDEN}, {"ffn_up", 0, DIM, HIDDEN},
                     {"ffn_down", 0, HIDDEN, DIM}};
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
            snprintf(b, sizeof b, "blk.%d.%s.weight", l, parts[k].suffix);
            T(b, parts[k].ones, (uint64_t)parts[k].d0, (uint64_t)parts[k].d1);
        }
    }
#undef T
    gguf_header(n + pad, 7);
    put_str("general.architecture");
    put(8, 4); /* GGUF_STRING */
    put_str("llama");
    put_str("general.name");
    put(8, 4);
    put_str(name);
    gguf_kv_u32("llama.block_count", LAYERS);
    gguf_kv_u32("llama.embedding_length", DIM);
    gguf_kv_u32("llama.attention.head_count", HEADS);
    gguf_kv_u32("llama.feed_forward_length", HIDDEN);
    gguf_kv_u32("llama.context_length", SEQ);
    for (unsigned long i = 0; i < pad; i++) {
        tensor t = {"", 1, {0, 0}, 0, 0};
        snprintf(t.name, sizeof t.name, "pad.%07lu", i);
        gguf_info(&t);
    }
    for (size_t i = 0; i < n; i++)
        gguf_info(&ts[i]);
    pad_to(32);
    for (size_t i = 0; i < n; i++) {
        uint64_t e = ts[i].ne[0] * (ts[i].n_dims == 2 ? ts[i].ne[1] : 1);
        if (ts[i].ones)
            put_ones(e);
        else
            put_weights(e);
        pad_to(32);
    }
    return 0;
}

/* Tensors A (0..128) and B (64..128) overlap; Z (empty, at 32) sorts
 * between them, so a check of neighbours alone misses the overlap. */
static void gen_gguf_overlap(void)
{
    const tensor ts[] = {
        {"A", 1, {32, 0}, 0, 0}, {"Z", 1, {0, 0}, 32, 0}, {"B", 1, {16, 0}, 64, 0}};
    gguf_header(3, 1);
    put_str("general.architecture");
    put(8, 4);
    put_str("llama");
    for (size_t i = 0; i < 3; i++)
        gguf_info(&ts[i]);
    pad_to(32);
    put_ones(32);
}

static void gen_gguf_dup(void)
{
    const tensor ts[] = {{"token_embd.weight", 1, {8, 0}, 0, 0},
                         {"token_embd.weight", 1, {8, 0}, 32, 0}};
    gguf_header(2, 1);
    put_str("general.architecture");
    put(8, 4);
    put_str("llama");
    for (size_t i = 0; i < 2; i++)
        gguf_info(&ts[i]);
    pad_to(32);
    put_ones(16);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen llama2c|gguf|gguf-overlap|gguf-dup OUT [NAME PAD]\n");
        return 2;
    }
    out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    if (strcmp(argv[1], "llama2c") == 0)
        gen_llama2c();
    else if (strcmp(argv[1], "gguf") == 0 && (argc == 5 || argc == 6) &&
             (LAYERS = argc == 6 ? atoi(argv[5]) : 2) >= 1 && LAYERS <= LAYERS_MAX)
        gen_gguf(argv[3], strtoul(argv[4], NULL, 10));
    else if (strcmp(argv[1], "gguf-overlap") == 0)
        gen_gguf_overlap();
    else if (strcmp(argv[1], "gguf-dup") == 0)
        gen_gguf_dup();
    else {
        fprintf(stderr, "gen: unknown kind '%s'\n", argv[1]);
        fclose(out);
        return 2;
    }
    if (ferror(out) | fclose(out)) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
