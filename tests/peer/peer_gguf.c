/* peer_gguf — writes small GGUF test models that llama.cpp (release v0.4.0)
 * loads, for the peer check in tests/peer/. Standalone on purpose: the files
 * are an independent input for both qkvplan's GGUF reader and llama.cpp, so
 * they must not come from qkvplan's own writer.
 *
 * usage: peer_gguf OUT.gguf --arch ARCH --layers L --embd E --heads H
 *                  --kv-heads K --head-dim D [--ff F] [--vocab V]
 *                  [--ctx-train N] [--swa W] [--swa-pattern P] [--seed S]
 *                  [--sparse 1]
 *
 * ARCH is one of llama, gemma2, gemma3, phi3, qwen2, cohere2. Shapes follow
 * each architecture's load_arch_tensors() in src/models/ARCH.cpp of v0.4.0:
 * llama, gemma2 and gemma3 size Q and the attention output by
 * head_dim x heads (so key_length may differ from embd/heads); phi3, qwen2 and
 * cohere2 size them by embd, so there embd must equal heads x head_dim.
 * --swa writes ARCH.attention.sliding_window (0 is written as 0); without it
 * the key is absent. --swa-pattern writes ARCH.attention.sliding_window_pattern
 * as a u32. All tensors are F32 (the file type ALL_F32); weights are small
 * deterministic pseudo-random values, norm weights are 1. With --sparse 1 the
 * data section is a hole of the right size: real-size shapes (a 7B model) for
 * llama.cpp's no_alloc mode, which reads metadata and sizes but no weights.
 *
 * The vocabulary is the minimal one llama.cpp's SPM loader accepts
 * (src/llama-vocab.cpp, llama_vocab::impl::load): tokenizer.ggml.model
 * "llama", V unique token strings (<unk>, <s>, </s>, the 256 byte tokens
 * <0x00>..<0xFF> when V >= 259, then tokN), scores and token types. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

enum { GGUF_U32 = 4, GGUF_I32 = 5, GGUF_F32 = 6, GGUF_STRING = 8, GGUF_ARRAY = 9 };
enum { GGML_F32 = 0 };
#define GGUF_ALIGN 32
#define MAX_TENSORS 512

typedef struct {
    const char *arch;
    int layers, embd, heads, kv_heads, head_dim, ff, vocab, ctx_train;
    long swa;          /* -1: no sliding_window key */
    long swa_pattern;  /* -1: no sliding_window_pattern key */
    uint64_t seed;
    int sparse;        /* 1: leave the tensor data a hole (for llama.cpp's no_alloc mode) */
} spec_t;

typedef struct {
    char name[96];
    int n_dims;
    uint64_t dims[2];
    int is_norm;
} tensor_t;

typedef struct {
    FILE *f;
    int err;
} out_t;

static void put(out_t *o, const void *p, size_t n) {
    if (!o->err && fwrite(p, 1, n, o->f) != n) o->err = errno ? errno : EIO;
}
static void put_u32(out_t *o, uint32_t v) { put(o, &v, 4); }
static void put_u64(out_t *o, uint64_t v) { put(o, &v, 8); }
static void put_str(out_t *o, const char *s) {
    put_u64(o, strlen(s));
    put(o, s, strlen(s));
}
static void kv_u32(out_t *o, const char *key, uint32_t v) {
    put_str(o, key);
    put_u32(o, GGUF_U32);
    put_u32(o, v);
}
static void kv_f32(out_t *o, const char *key, float v) {
    put_str(o, key);
    put_u32(o, GGUF_F32);
    put(o, &v, 4);
}
static void kv_str(out_t *o, const char *key, const char *v) {
    put_str(o, key);
    put_u32(o, GGUF_STRING);
    put_str(o, v);
}

static void token_text(int i, int vocab, char *buf, size_t n) {
    if (i == 0) snprintf(buf, n, "<unk>");
    else if (i == 1) snprintf(buf, n, "<s>");
    else if (i == 2) snprintf(buf, n, "</s>");
    else if (vocab >= 259 && i < 259) snprintf(buf, n, "<0x%02X>", i - 3);
    else snprintf(buf, n, "tok%d", i);
}

static int token_type(int i, int vocab) {
    if (i == 0) return 2;                       /* LLAMA_TOKEN_TYPE_UNKNOWN */
    if (i <= 2) return 3;                       /* CONTROL */
    if (vocab >= 259 && i < 259) return 6;      /* BYTE */
    return 1;                                   /* NORMAL */
}

static int add_tensor(tensor_t *t, int *n, const char *name, uint64_t d0, uint64_t d1, int is_norm) {
    if (*n >= MAX_TENSORS) return -1;
    tensor_t *x = &t[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->n_dims = d1 ? 2 : 1;
    x->dims[0] = d0;
    x->dims[1] = d1;
    x->is_norm = is_norm;
    return 0;
}

/* The tensor list of one architecture (names as llama.cpp's tn() spells them). */
static int list_tensors(const spec_t *s, tensor_t *t, int *n) {
    const char *a = s->arch;
    int gemma = !strcmp(a, "gemma2") || !strcmp(a, "gemma3");
    int q_by_heads = !strcmp(a, "llama") || gemma;
    uint64_t q = q_by_heads ? (uint64_t)s->head_dim * s->heads : (uint64_t)s->embd;
    uint64_t kv = (uint64_t)s->head_dim * s->kv_heads;
    char nm[96];
    int rc = 0;

    rc |= add_tensor(t, n, "token_embd.weight", s->embd, s->vocab, 0);
    rc |= add_tensor(t, n, "output_norm.weight", s->embd, 0, 1);
    for (int i = 0; i < s->layers; i++) {
#define T(fmt, d0, d1, norm) (snprintf(nm, sizeof nm, fmt, i), rc |= add_tensor(t, n, nm, d0, d1, norm))
        T("blk.%d.attn_norm.weight", s->embd, 0, 1);
        T("blk.%d.attn_q.weight", s->embd, q, 0);
        T("blk.%d.attn_k.weight", s->embd, kv, 0);
        T("blk.%d.attn_v.weight", s->embd, kv, 0);
        T("blk.%d.attn_output.weight", q, s->embd, 0);
        if (gemma) T("blk.%d.post_attention_norm.weight", s->embd, 0, 1);
        if (!strcmp(a, "gemma3")) {
            T("blk.%d.attn_k_norm.weight", s->head_dim, 0, 1);
            T("blk.%d.attn_q_norm.weight", s->head_dim, 0, 1);
        }
        if (strcmp(a, "cohere2")) T("blk.%d.ffn_norm.weight", s->embd, 0, 1);
        if (!strcmp(a, "phi3")) {
            T("blk.%d.ffn_up.weight", s->embd, 2 * (uint64_t)s->ff, 0);
        } else {
            T("blk.%d.ffn_gate.weight", s->embd, s->ff, 0);
            T("blk.%d.ffn_up.weight", s->embd, s->ff, 0);
        }
        T("blk.%d.ffn_down.weight", s->ff, s->embd, 0);
        if (gemma) T("blk.%d.post_ffw_norm.weight", s->embd, 0, 1);
#undef T
    }
    return rc;
}

static int write_model(const char *path, const spec_t *s) {
    static tensor_t tensors[MAX_TENSORS];
    int n_tensors = 0;
    if (list_tensors(s, tensors, &n_tensors)) {
        fprintf(stderr, "peer_gguf: too many tensors (limit %d)\n", MAX_TENSORS);
        return -1;
    }
    const char *a = s->arch;
    char key[128];
#define K(suffix) (snprintf(key, sizeof key, "%s." suffix, a), key)

    int n_kv = 0;
    /* count first: header needs it */
    n_kv += 3;                                  /* general.architecture, name, file_type */
    n_kv += 8;                                  /* context, embd, blocks, ff, heads, kv heads, key/value length */
    n_kv += 2;                                  /* rope dimension count, norm eps */
    if (!strcmp(a, "cohere2")) n_kv += 1;       /* logit_scale */
    if (!strcmp(a, "gemma2")) n_kv += 1;        /* attn_logit_softcapping */
    if (s->swa >= 0) n_kv += 1;
    if (s->swa_pattern >= 0) n_kv += 1;
    n_kv += 6;                                  /* tokenizer: model, tokens, scores, types, bos, eos */

    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "peer_gguf: cannot create '%s': %s\n", path, strerror(errno));
        return -1;
    }
    out_t o = {f, 0};
    put(&o, "GGUF", 4);
    put_u32(&o, 3);
    put_u64(&o, (uint64_t)n_tensors);
    put_u64(&o, (uint64_t)n_kv);

    kv_str(&o, "general.architecture", a);
    kv_str(&o, "general.name", "qkvplan peer-check model");
    kv_u32(&o, "general.file_type", 0);
    kv_u32(&o, K("context_length"), (uint32_t)s->ctx_train);
    kv_u32(&o, K("embedding_length"), (uint32_t)s->embd);
    kv_u32(&o, K("block_count"), (uint32_t)s->layers);
    kv_u32(&o, K("feed_forward_length"), (uint32_t)s->ff);
    kv_u32(&o, K("attention.head_count"), (uint32_t)s->heads);
    kv_u32(&o, K("attention.head_count_kv"), (uint32_t)s->kv_heads);
    kv_u32(&o, K("attention.key_length"), (uint32_t)s->head_dim);
    kv_u32(&o, K("attention.value_length"), (uint32_t)s->head_dim);
    kv_u32(&o, K("rope.dimension_count"), (uint32_t)s->head_dim);
    if (!strcmp(a, "cohere2")) {
        kv_f32(&o, K("attention.layer_norm_epsilon"), 1e-5f);
        kv_f32(&o, K("logit_scale"), 1.0f);
    } else {
        kv_f32(&o, K("attention.layer_norm_rms_epsilon"), 1e-5f);
    }
    if (!strcmp(a, "gemma2")) kv_f32(&o, K("attn_logit_softcapping"), 50.0f);
    if (s->swa >= 0) kv_u32(&o, K("attention.sliding_window"), (uint32_t)s->swa);
    if (s->swa_pattern >= 0) kv_u32(&o, K("attention.sliding_window_pattern"), (uint32_t)s->swa_pattern);
#undef K

    kv_str(&o, "tokenizer.ggml.model", "llama");
    char tok[32];
    put_str(&o, "tokenizer.ggml.tokens");
    put_u32(&o, GGUF_ARRAY);
    put_u32(&o, GGUF_STRING);
    put_u64(&o, (uint64_t)s->vocab);
    for (int i = 0; i < s->vocab; i++) {
        token_text(i, s->vocab, tok, sizeof tok);
        put_str(&o, tok);
    }
    put_str(&o, "tokenizer.ggml.scores");
    put_u32(&o, GGUF_ARRAY);
    put_u32(&o, GGUF_F32);
    put_u64(&o, (uint64_t)s->vocab);
    for (int i = 0; i < s->vocab; i++) {
        float score = -(float)i;
        put(&o, &score, 4);
    }
    put_str(&o, "tokenizer.ggml.token_type");
    put_u32(&o, GGUF_ARRAY);
    put_u32(&o, GGUF_I32);
    put_u64(&o, (uint64_t)s->vocab);
    for (int i = 0; i < s->vocab; i++) {
        int32_t type = token_type(i, s->vocab);
        put(&o, &type, 4);
    }
    kv_u32(&o, "tokenizer.ggml.bos_token_id", 1);
    kv_u32(&o, "tokenizer.ggml.eos_token_id", 2);

    uint64_t offset = 0;
    for (int i = 0; i < n_tensors; i++) {
        const tensor_t *t = &tensors[i];
        put_str(&o, t->name);
        put_u32(&o, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) put_u64(&o, t->dims[d]);
        put_u32(&o, GGML_F32);
        put_u64(&o, offset);
        uint64_t bytes = t->dims[0] * (t->n_dims == 2 ? t->dims[1] : 1) * 4;
        offset += (bytes + GGUF_ALIGN - 1) / GGUF_ALIGN * GGUF_ALIGN;
    }
    static const char zeros[GGUF_ALIGN];
    long pos = ftell(f);
    if (pos < 0) o.err = errno;
    else put(&o, zeros, (size_t)((GGUF_ALIGN - pos % GGUF_ALIGN) % GGUF_ALIGN));

    uint64_t state = s->seed * 2654435761u + 88172645463325252ull;
    if (s->sparse && !o.err) {
        /* Full-size shapes without the bytes: seek to the last byte of the data
         * section and write it, so the file has its real size but holds a hole. */
        if (offset > 0 && (fseeko(f, (off_t)(offset - 1), SEEK_CUR) != 0 || fputc(0, f) == EOF)) o.err = errno;
        n_tensors = 0;
    }
    for (int i = 0; i < n_tensors && !o.err; i++) {
        const tensor_t *t = &tensors[i];
        uint64_t elems = t->dims[0] * (t->n_dims == 2 ? t->dims[1] : 1);
        for (uint64_t e = 0; e < elems; e++) {
            float v = 1.0f;
            if (!t->is_norm) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                v = ((float)(state >> 40) / (float)(1u << 24) - 0.5f) * 0.2f;
            }
            put(&o, &v, 4);
        }
        uint64_t bytes = elems * 4;
        put(&o, zeros, (size_t)((GGUF_ALIGN - bytes % GGUF_ALIGN) % GGUF_ALIGN));
    }
    if (fclose(f) != 0 && !o.err) o.err = errno;
    if (o.err) {
        fprintf(stderr, "peer_gguf: cannot write '%s': %s\n", path, strerror(o.err));
        remove(path);
        return -1;
    }
    return 0;
}

static int parse_long(const char *s, const char *what, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "peer_gguf: bad %s '%s' (want %ld..%ld)\n", what, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: peer_gguf OUT.gguf --arch A --layers L --embd E --heads H --kv-heads K"
              " --head-dim D [--ff F] [--vocab V] [--ctx-train N] [--swa W] [--swa-pattern P]"
              " [--seed S] [--sparse 1]\n", stderr);
        return 1;
    }
    spec_t s = {"llama", 2, 64, 4, 4, 16, 128, 260, 4096, -1, -1, 1, 0};
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "peer_gguf: %s needs a value\n", argv[i]);
            return 1;
        }
        const char *opt = argv[i], *val = argv[i + 1];
        long v = 0;
        int bad = 0;
        if (!strcmp(opt, "--arch")) {
            if (strcmp(val, "llama") && strcmp(val, "gemma2") && strcmp(val, "gemma3") &&
                strcmp(val, "phi3") && strcmp(val, "qwen2") && strcmp(val, "cohere2")) {
                fprintf(stderr, "peer_gguf: unsupported --arch '%s'\n", val);
                return 1;
            }
            s.arch = val;
            continue;
        }
        if (!strcmp(opt, "--layers")) bad = parse_long(val, opt, 1, 64, &v), s.layers = (int)v;
        else if (!strcmp(opt, "--embd")) bad = parse_long(val, opt, 1, 16384, &v), s.embd = (int)v;
        else if (!strcmp(opt, "--heads")) bad = parse_long(val, opt, 1, 64, &v), s.heads = (int)v;
        else if (!strcmp(opt, "--kv-heads")) bad = parse_long(val, opt, 1, 64, &v), s.kv_heads = (int)v;
        else if (!strcmp(opt, "--head-dim")) bad = parse_long(val, opt, 1, 512, &v), s.head_dim = (int)v;
        else if (!strcmp(opt, "--ff")) bad = parse_long(val, opt, 1, 65536, &v), s.ff = (int)v;
        else if (!strcmp(opt, "--vocab")) bad = parse_long(val, opt, 3, 262144, &v), s.vocab = (int)v;
        else if (!strcmp(opt, "--ctx-train")) bad = parse_long(val, opt, 1, 1L << 24, &v), s.ctx_train = (int)v;
        else if (!strcmp(opt, "--swa")) bad = parse_long(val, opt, 0, 1L << 24, &s.swa);
        else if (!strcmp(opt, "--swa-pattern")) bad = parse_long(val, opt, 0, 64, &s.swa_pattern);
        else if (!strcmp(opt, "--sparse")) bad = parse_long(val, opt, 0, 1, &v), s.sparse = (int)v;
        else if (!strcmp(opt, "--seed")) bad = parse_long(val, opt, 0, 1L << 30, &v), s.seed = (uint64_t)v;
        else {
            fprintf(stderr, "peer_gguf: unknown option '%s'\n", opt);
            return 1;
        }
        if (bad) return 1;
    }
    if (s.heads % s.kv_heads) {
        fprintf(stderr, "peer_gguf: --heads %d is not a multiple of --kv-heads %d\n", s.heads, s.kv_heads);
        return 1;
    }
    int q_by_embd = strcmp(s.arch, "llama") && strcmp(s.arch, "gemma2") && strcmp(s.arch, "gemma3");
    if (q_by_embd && s.embd != s.heads * s.head_dim) {
        fprintf(stderr, "peer_gguf: %s needs --embd = heads x head-dim (%d)\n", s.arch, s.heads * s.head_dim);
        return 1;
    }
    return write_model(argv[1], &s) ? 1 : 0;
}
