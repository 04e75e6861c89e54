#include <stdint.h>
#include <string.h>

#include "analyzer/catalog.h"
#include "analyzer/kvplan.h"
#include "tests/tests.h"

#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

static kvplan_row eval(const model_shape *m, variant v, kvplan_params p)
{
    kvplan_row row;
    qkv_error err;
    qkv_status s = kvplan_row_eval(m, &v, &p, false, &row, &err);
    ck_assert_msg(s == QKV_OK, "%s", err.msg);
    return row;
}

static model_shape shape_llama(uint64_t layers, uint64_t d, uint64_t heads, uint64_t kv,
                               uint64_t hd)
{
    model_shape m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "test");
    m.n_layers = layers;
    m.d_model = d;
    m.n_heads = heads;
    m.n_kv_heads = kv;
    m.head_dim = m.v_head_dim = hd;
    m.d_ff = 4 * d;
    m.gated_ffn = true;
    m.vocab = 32000;
    m.norms_per_layer = 2;
    m.pos = POS_ROPE;
    m.max_ctx = 131072;
    return m;
}

/* DESIGN.md / arXiv 2606.04032: the 1.2B model at 32768 tokens in f16. */
START_TEST(paper_1_2b_figures)
{
    const model_shape *m = catalog_find("paper-1.2B");
    kvplan_params p = kvplan_params_default();
    p.ctx = 32768;
    kvplan_row base = eval(m, (variant){SHARE_QKV, 32, false, false}, p);
    ck_assert_uint_eq(base.kv_bytes, 5905580032u);
    ck_assert_uint_eq(base.k_bytes, base.v_bytes);
    kvplan_row kv = eval(m, (variant){SHARE_KV, 32, false, false}, p);
    ck_assert_uint_eq(kv.kv_bytes * 2, base.kv_bytes);
    ck_assert_uint_eq(kv.v_bytes, 0);
    kvplan_row mqa = eval(m, (variant){SHARE_KV, 1, false, false}, p);
    ck_assert_uint_eq(mqa.kv_bytes * 64, base.kv_bytes);
    /* Q=K-V saves nothing in the cache; Q=K=V halves it. */
    ck_assert_uint_eq(eval(m, (variant){SHARE_QK, 32, false, false}, p).kv_bytes, base.kv_bytes);
    ck_assert_uint_eq(eval(m, (variant){SHARE_ALL, 32, false, false}, p).kv_bytes * 2,
                      base.kv_bytes);
}
END_TEST

START_TEST(paper_300m_reductions)
{
    const model_shape *m = catalog_find("paper-300M");
    kvplan_params p = kvplan_params_default();
    p.ctx = 2048;
    variant vs[] = {{SHARE_KV, 4, false, false}, {SHARE_KV, 1, false, false}};
    kvplan_result r;
    qkv_error err;
    ck_assert_int_eq(kvplan_plan(m, vs, 2, &p, false, &r, &err), QKV_OK);
    ck_assert_uint_eq(r.n_rows, 2);
    ck_assert_double_eq_tol(r.rows[0].kv_reduction, 0.875, 1e-15);   /* -87.5% */
    ck_assert_double_eq_tol(r.rows[1].kv_reduction, 0.96875, 1e-15); /* -96.9% */
    kvplan_result_free(&r);
}
END_TEST

/* Published llama.cpp allocations ("llama_kv_cache: size = ... MiB"). */
START_TEST(llama_cpp_published_allocations)
{
    kvplan_params p = kvplan_params_default();
    p.engine = ENGINE_LLAMACPP;
    /* Llama-3.1-70B: 80 layers, 64 heads, 8 KV heads x 128, ctx 4096, f16: 1280 MiB. */
    model_shape m70 = shape_llama(80, 8192, 64, 8, 128);
    p.ctx = 4096;
    ck_assert_uint_eq(eval(&m70, (variant){SHARE_QKV, 8, false, true}, p).kv_bytes, 1280 * MiB);
    /* Qwen2.5-Coder-32B: 64 layers, 40 heads, 8 KV x 128, ctx 32768, q8_0: 4352 MiB. */
    model_shape m32 = shape_llama(64, 5120, 40, 8, 128);
    p.ctx = 32768;
    p.type_k = p.type_v = DTYPE_Q8_0;
    ck_assert_uint_eq(eval(&m32, (variant){SHARE_QKV, 8, false, true}, p).kv_bytes, 4352 * MiB);
    /* Gemma-3-270M, ctx 1024, non-unified: 4 sequences 18.0 MiB, 3 sequences 27.0 MiB. */
    const model_shape *g = catalog_find("Gemma-3-270M");
    p.type_k = p.type_v = DTYPE_F16;
    p.ctx = 1024;
    p.seqs = 4;
    kvplan_row r4 = eval(g, variant_as_built(g), p);
    ck_assert_uint_eq(r4.kv_bytes, 18 * MiB);
    ck_assert_uint_eq(r4.cells_full, 1024); /* 4 streams of pad256(1024 / 4) = 256 */
    p.seqs = 3;
    kvplan_row r3 = eval(g, variant_as_built(g), p);
    ck_assert_uint_eq(r3.kv_bytes, 27 * MiB);
    ck_assert_uint_eq(r3.cells_full, 1536); /* 3 streams of pad256(341) = 512 */
}
END_TEST

/* Hand-computed cell rules (DESIGN.md) for the other engine paths. */
START_TEST(engine_cell_rules)
{
    kvplan_params p = kvplan_params_default();
    const model_shape *mistral = catalog_find("Mistral-7B-v0.1");
    variant built = variant_as_built(mistral);
    /* exact: a sliding layer holds min(ctx, window) cells. */
    p.ctx = 32768;
    kvplan_row r = eval(mistral, built, p);
    ck_assert_uint_eq(r.cells_swa, 4096);
    ck_assert_uint_eq(r.kv_bytes, 32ull * 4096 * 2 * 8 * 128 * 2);
    /* llama.cpp loads Mistral v0.1 as `llama`, which has no windowed cache:
     * unified, 2 sequences, every layer holds n_ctx = 32768 cells. */
    p.engine = ENGINE_LLAMACPP;
    p.kv_unified = true;
    p.seqs = 2;
    r = eval(mistral, built, p);
    ck_assert_uint_eq(r.cells_swa, 0);
    ck_assert_uint_eq(r.cells_full, 32768);
    ck_assert_uint_eq(r.swa_layers, 0);
    /* Gemma 2 (period 2, 13 of 26 layers windowed): SWA holds
     * pad256(min(32768, 4096 x 2 + 512)) = 8704. */
    const model_shape *g2 = catalog_find("Gemma-2-2B");
    r = eval(g2, variant_as_built(g2), p);
    ck_assert_uint_eq(r.swa_layers, 13);
    ck_assert_uint_eq(r.cells_swa, 8704);
    ck_assert_uint_eq(r.kv_bytes, (13ull * 32768 + 13ull * 8704) * 2 * 4 * 256 * 2);
    /* vllm: 1000 tokens round up to 63 blocks of 16 = 1008 cells per sequence. */
    const model_shape *llama = catalog_find("Llama-3.1-8B");
    p.engine = ENGINE_VLLM;
    p.kv_unified = false;
    p.ctx = 1000;
    p.seqs = 3;
    r = eval(llama, variant_as_built(llama), p);
    ck_assert_uint_eq(r.cells_full, 3 * 1008);
    ck_assert_uint_eq(r.kv_bytes, 32ull * 3 * 1008 * 2 * 8 * 128 * 2);
    /* llama.cpp, non-unified: ctx 1000 pads to 1024, one sequence. */
    p.engine = ENGINE_LLAMACPP;
    p.seqs = 1;
    r = eval(llama, variant_as_built(llama), p);
    ck_assert_uint_eq(r.cells_full, 1024);
    /* llama.cpp, unified, 2 sequences: one stream of n_ctx = pad256(1000) = 1024 cells. */
    p.kv_unified = true;
    p.seqs = 2;
    r = eval(llama, variant_as_built(llama), p);
    ck_assert_uint_eq(r.cells_full, 1024);
    p.kv_unified = false;
    p.seqs = 1;
    /* MLA, llama.cpp: one K latent of 512 + 64 per token and layer, no V:
     * DeepSeek-V2-Lite, 27 layers, ctx 4096, f16 = 121.5 MiB. */
    const model_shape *ds = catalog_find("DeepSeek-V2-Lite");
    p.ctx = 4096;
    r = eval(ds, variant_as_built(ds), p);
    ck_assert_uint_eq(r.kv_bytes, 27ull * 576 * 2 * 4096);
    ck_assert_uint_eq(r.v_bytes, 0);
    ck_assert_str_eq(r.label, "MLA");
}
END_TEST

START_TEST(llama_cpp_too_many_sequences)
{
    kvplan_params p = kvplan_params_default();
    p.engine = ENGINE_LLAMACPP;
    p.ctx = 256;
    p.seqs = 512; /* LLAMA_MAX_SEQ is 256: the context constructor throws */
    const model_shape *m = catalog_find("Llama-3.2-1B");
    variant v = variant_as_built(m);
    kvplan_row row;
    qkv_error err;
    ck_assert_int_eq(kvplan_row_eval(m, &v, &p, true, &row, &err), QKV_OK);
    ck_assert_str_eq(row.engine_refusal, "n_seq_max must be <= 256");
    ck_assert(!row.fits);
    ck_assert_uint_eq(row.max_ctx, 0);
    /* 256 sequences are accepted, and the sequence search stops there. */
    p.seqs = 256;
    p.ctx = 65536;
    p.device_bytes = (uint64_t)1 << 50;
    ck_assert_int_eq(kvplan_row_eval(m, &v, &p, true, &row, &err), QKV_OK);
    ck_assert_str_eq(row.engine_refusal, "");
    ck_assert_uint_eq(row.max_seqs, 256);
    ck_assert(row.max_seqs_capped);
}
END_TEST

/* llama_init_from_model's acceptance rules (src/llama-context.cpp:3693-3728),
 * in its order and words, on stories260K's shape (head width 8). */
START_TEST(llama_cpp_refusals)
{
    model_shape m = shape_llama(5, 64, 8, 4, 8);
    variant v = variant_as_built(&m);
    kvplan_params p = kvplan_params_default();
    p.engine = ENGINE_LLAMACPP;
    p.ctx = 512;
    kvplan_row row;
    qkv_error err;
    struct {
        dtype_cache k, v;
        engine_fa fa;
        const char *refusal; /* "" accepted */
    } cases[] = {
        {DTYPE_F16, DTYPE_F16, ENGINE_FA_OFF, ""},
        {DTYPE_Q8_0, DTYPE_F16, ENGINE_FA_ON,
         "K cache type q8_0 with block size 32 does not divide n_embd_head_k=8"},
        {DTYPE_Q8_0, DTYPE_F16, ENGINE_FA_AUTO,
         "K cache type q8_0 with block size 32 does not divide n_embd_head_k=8"},
        /* FA off skips the head-width check: 4 KV heads x 8 = 32, whole blocks */
        {DTYPE_Q8_0, DTYPE_F16, ENGINE_FA_OFF, ""},
        {DTYPE_F16, DTYPE_Q4_0, ENGINE_FA_OFF,
         "quantized V cache requires flash_attn to be enabled"},
        {DTYPE_F16, DTYPE_Q4_0, ENGINE_FA_AUTO,
         "V cache type q4_0 with block size 32 does not divide n_embd_head_v=8"},
        {DTYPE_Q4_0, DTYPE_Q4_0, ENGINE_FA_OFF,
         "quantized V cache requires flash_attn to be enabled"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        p.type_k = cases[i].k;
        p.type_v = cases[i].v;
        p.flash_attn = cases[i].fa;
        ck_assert_int_eq(kvplan_row_eval(&m, &v, &p, true, &row, &err), QKV_OK);
        ck_assert_str_eq(row.engine_refusal, cases[i].refusal);
        ck_assert(row.fits == (cases[i].refusal[0] == 0));
    }
    /* Accepted q8_0 K without FA: 5 layers x 512 cells x (34 + 4 x 8 x 2) bytes. */
    p.type_k = DTYPE_Q8_0;
    p.type_v = DTYPE_F16;
    p.flash_attn = ENGINE_FA_OFF;
    ck_assert_int_eq(kvplan_row_eval(&m, &v, &p, false, &row, &err), QKV_OK);
    ck_assert_uint_eq(row.kv_bytes, 5ull * 512 * (34 + 64));
    /* The exact engine applies no engine rules. */
    p.engine = ENGINE_EXACT;
    p.flash_attn = ENGINE_FA_ON;
    ck_assert_int_eq(kvplan_row_eval(&m, &v, &p, false, &row, &err), QKV_OK);
    ck_assert_str_eq(row.engine_refusal, "");
    /* MLA: K and V types must match. */
    const model_shape *ds = catalog_find("DeepSeek-V2-Lite");
    variant vd = variant_as_built(ds);
    p.engine = ENGINE_LLAMACPP;
    p.type_k = DTYPE_Q8_0;
    ck_assert_int_eq(kvplan_row_eval(ds, &vd, &p, false, &row, &err), QKV_OK);
    ck_assert_str_eq(row.engine_refusal,
                     "model does not support different K (q8_0) and V (f16) cache types");
}
END_TEST

/* llama.cpp's windows per architecture (src/models/ARCH.cpp), hand-counted:
 * the figures and set_swa_pattern's two orders. */
START_TEST(llama_cpp_sliding_windows)
{
    kvplan_params p = kvplan_params_default();
    p.engine = ENGINE_LLAMACPP;
    kvplan_row r;
    /* Mistral-7B-v0.1 at 32k: 32 x 32768 x 2 x 8 x 128 x 2 = 4,294,967,296 bytes. */
    const model_shape *mistral = catalog_find("Mistral-7B-v0.1");
    p.ctx = 32768;
    r = eval(mistral, variant_as_built(mistral), p);
    ck_assert_uint_eq(r.kv_bytes, 4294967296ull);
    /* Phi-3-mini-4k at 4096: phi3 switches the window off; 32 x 4096 x 2 x 3072 x 2. */
    const model_shape *phi = catalog_find("Phi-3-mini-4k");
    p.ctx = 4096;
    r = eval(phi, variant_as_built(phi), p);
    ck_assert_uint_eq(r.kv_bytes, 1610612736ull);
    /* The exact engine keeps the model's own windows. */
    p.engine = ENGINE_EXACT;
    r = eval(phi, variant_as_built(phi), p);
    ck_assert_uint_eq(r.kv_bytes, 32ull * 2047 * 2 * 3072 * 2);
    /* gemma3 GGUF-like shape: window 512 from the file, no pattern: period 6
     * (global at il % 6 == 5): 18 layers -> 15 windowed; 8 layers -> 7. */
    p.engine = ENGINE_LLAMACPP;
    model_shape g = shape_llama(18, 640, 4, 1, 256);
    snprintf(g.arch, sizeof g.arch, "gemma3");
    g.window = 512;
    g.n_swa_layers = 18; /* a reader that did not know the pattern */
    engine_layout lay;
    engine_llamacpp_layout(&g, &lay);
    ck_assert_uint_eq(lay.n_swa_layers, 15);
    ck_assert(lay.default_pattern);
    g.n_layers = 8;
    g.n_swa_layers = 8;
    engine_llamacpp_layout(&g, &lay);
    ck_assert_uint_eq(lay.n_swa_layers, 7);
    g.swa_period = 3; /* 0 1 [2] 3 4 [5] 6 7: 6 windowed */
    engine_llamacpp_layout(&g, &lay);
    ck_assert_uint_eq(lay.n_swa_layers, 6);
    ck_assert(!lay.default_pattern);
    /* gemma3 without a window key: no windowed cache. */
    g.window = 0;
    g.n_swa_layers = 0;
    engine_llamacpp_layout(&g, &lay);
    ck_assert_uint_eq(lay.n_swa_layers, 0);
    /* dense_first (laguna): global at il % 4 == 0: 0 [1 2 3] 4 [5 6 7] 8 -> 6 of 9 */
    ck_assert_uint_eq(engine_swa_layer_count(9, 4, true), 6);
    ck_assert_uint_eq(engine_swa_layer_count(9, 4, false), 7);
    ck_assert_uint_eq(engine_swa_layer_count(9, 0, false), 9);
    ck_assert_uint_eq(engine_swa_layer_count(9, 1, false), 0);
    /* gemma2 without a window key: 4096 by default. */
    snprintf(g.arch, sizeof g.arch, "gemma2");
    g.swa_period = 0;
    engine_llamacpp_layout(&g, &lay);
    ck_assert_uint_eq(lay.window, 4096);
    ck_assert_uint_eq(lay.n_swa_layers, 4);
    /* swa_full: sliding layers hold the full stream. */
    const model_shape *g2 = catalog_find("Gemma-2-2B");
    p.ctx = 32768;
    p.swa_full = true;
    r = eval(g2, variant_as_built(g2), p);
    ck_assert_uint_eq(r.cells_swa, 32768);
    /* n_ubatch clamp: a 300-token context shrinks n_batch and so n_ubatch to 300. */
    p.swa_full = false;
    p.ctx = 300;
    r = eval(g2, variant_as_built(g2), p);
    ck_assert_uint_eq(r.n_ubatch, 300);
    ck_assert_uint_eq(r.cells_swa, 512); /* pad256(min(512, 4096 + 300)) */
}
END_TEST

START_TEST(split_cache_types)
{
    const model_shape *m = catalog_find("Llama-3.1-8B");
    kvplan_params p = kvplan_params_default();
    p.ctx = 8192;
    p.type_k = DTYPE_Q8_0;
    p.type_v = DTYPE_Q4_0;
    kvplan_row r = eval(m, variant_as_built(m), p);
    ck_assert_uint_eq(r.k_bytes, 32ull * 8192 * (1024 / 32 * 34));
    ck_assert_uint_eq(r.v_bytes, 32ull * 8192 * (1024 / 32 * 18));
    /* A shared K=V tensor is stored at the K type. */
    r = eval(m, (variant){SHARE_KV, 8, false, false}, p);
    ck_assert_uint_eq(r.k_bytes, 32ull * 8192 * (1024 / 32 * 34));
    ck_assert_uint_eq(r.v_bytes, 0);
}
END_TEST

START_TEST(block_type_on_odd_row_is_an_error)
{
    /* MQA with head_dim 40: a 40-element row is not a whole number of q4_0 blocks. */
    model_shape m = shape_llama(4, 320, 8, 8, 40);
    kvplan_params p = kvplan_params_default();
    p.type_k = p.type_v = DTYPE_Q4_0;
    variant v = {SHARE_QKV, 1, false, false};
    kvplan_row row;
    qkv_error err;
    ck_assert_int_eq(kvplan_row_eval(&m, &v, &p, false, &row, &err), QKV_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "q4_0"));
}
END_TEST

START_TEST(overflow_is_reported)
{
    model_shape m = shape_llama(1u << 30, 1u << 30, 1, 1, 1u << 30);
    m.vocab = (uint64_t)1 << 32;
    m.d_ff = (uint64_t)1 << 32;
    kvplan_params p = kvplan_params_default();
    variant v = {SHARE_QKV, 1, false, false};
    kvplan_row row;
    qkv_error err;
    ck_assert_int_eq(kvplan_row_eval(&m, &v, &p, false, &row, &err), QKV_ERR_OVERFLOW);
    ck_assert_ptr_nonnull(strstr(err.msg, "overflow"));
}
END_TEST

/* The solver's answers must be consistent: the reported maximum fits and one
 * more token (or sequence) does not — across the catalog, every grid variant,
 * every engine, and two budgets. */
START_TEST(solving_is_consistent)
{
    const kvplan_engine engines[] = {ENGINE_EXACT, ENGINE_LLAMACPP, ENGINE_VLLM};
    const uint64_t budgets[] = {3 * GiB, 24 * GiB};
    size_t checked = 0;
    for (size_t mi = 0; mi < catalog_count(); mi++) {
        const model_shape *m = catalog_get(mi);
        variant vs[VARIANT_MAX];
        size_t n = variant_default_grid(m, vs, VARIANT_MAX);
        for (size_t e = 0; e < 3; e++) {
            for (size_t b = 0; b < 2; b++) {
                kvplan_params p = kvplan_params_default();
                p.engine = engines[e];
                p.device_bytes = budgets[b];
                p.ctx = 8192;
                p.seqs = 2;
                for (size_t i = 0; i < n; i++) {
                    kvplan_row row;
                    qkv_error err;
                    ck_assert_int_eq(kvplan_row_eval(m, &vs[i], &p, true, &row, &err), QKV_OK);
                    if (row.max_ctx > 0 && !row.max_ctx_capped) {
                        kvplan_params q = p;
                        q.ctx = row.max_ctx;
                        ck_assert_msg(eval(m, vs[i], q).fits, "%s %s: max ctx %llu does not fit",
                                      m->name, row.label, (unsigned long long)row.max_ctx);
                        q.ctx = row.max_ctx + 1;
                        kvplan_row over;
                        qkv_status s = kvplan_row_eval(m, &vs[i], &q, false, &over, &err);
                        ck_assert_msg(s != QKV_OK || !over.fits, "%s %s: max ctx + 1 fits", m->name,
                                      row.label);
                        /* llama.cpp allocates in 256-cell steps per stream, so the
                         * longest context ends a step — once the micro-batch, which
                         * follows the unpadded n_ctx below ubatch, no longer grows. */
                        if (p.engine == ENGINE_LLAMACPP && row.max_ctx >= p.ubatch)
                            ck_assert_uint_eq(row.max_ctx % (KVPLAN_LLAMA_PAD * p.seqs), 0);
                        checked++;
                    }
                    if (row.max_seqs > 0 && !row.max_seqs_capped) {
                        kvplan_params q = p;
                        q.seqs = row.max_seqs;
                        if (p.engine == ENGINE_LLAMACPP)
                            q.ctx = row.ctx_per_seq * q.seqs;
                        ck_assert(eval(m, vs[i], q).fits);
                        q.seqs = row.max_seqs + 1;
                        if (p.engine == ENGINE_LLAMACPP)
                            q.ctx = row.ctx_per_seq * q.seqs;
                        kvplan_row over;
                        qkv_status s = kvplan_row_eval(m, &vs[i], &q, false, &over, &err);
                        ck_assert(s != QKV_OK || !over.fits);
                        checked++;
                    }
                    /* fits and headroom agree with the totals */
                    ck_assert(row.fits == (row.total_bytes <= p.device_bytes - p.reserve_bytes));
                    ck_assert_int_eq(row.headroom_bytes,
                                     (int64_t)(p.device_bytes - p.reserve_bytes) -
                                         (int64_t)row.total_bytes);
                }
            }
        }
    }
    ck_assert_uint_gt(checked, 300);
}
END_TEST

START_TEST(nothing_fits)
{
    const model_shape *m = catalog_find("Llama-3.1-8B");
    kvplan_params p = kvplan_params_default();
    p.device_bytes = 4 * GiB; /* 16 GB of f16 weights */
    variant v = variant_as_built(m);
    kvplan_row row;
    qkv_error err;
    ck_assert_int_eq(kvplan_row_eval(m, &v, &p, true, &row, &err), QKV_OK);
    ck_assert(!row.fits);
    ck_assert_uint_eq(row.max_ctx, 0);
    ck_assert_uint_eq(row.max_seqs, 0);
    ck_assert_int_lt(row.headroom_bytes, 0);
}
END_TEST

START_TEST(plan_result_and_notes)
{
    const model_shape *m = catalog_find("Llama-3.2-1B");
    kvplan_params p = kvplan_params_default();
    p.ctx = 32768;
    variant vs[VARIANT_MAX];
    size_t n = variant_default_grid(m, vs, VARIANT_MAX);
    kvplan_result r;
    qkv_error err;
    ck_assert_int_eq(kvplan_plan(m, vs, n, &p, true, &r, &err), QKV_OK);
    ck_assert_uint_eq(r.n_rows, n);
    ck_assert_int_ge(r.built_row, 0);
    ck_assert_str_eq(r.rows[r.built_row].label, "QKV+GQA-8");
    ck_assert_int_ge(r.best_row, 0);
    ck_assert(r.rows[r.best_row].fits);
    /* RoPE model with K=V rows: the caveat is noted. */
    int caveat = 0;
    for (size_t i = 0; i < r.n_notes; i++)
        caveat |= strstr(r.notes[i], "before rotation") != NULL;
    ck_assert(caveat);
    kvplan_result_free(&r);
    /* Invalid explicit variant: error, or a note when skipping. */
    variant bad = {SHARE_QK, 8, false, false};
    ck_assert_int_eq(kvplan_plan(m, &bad, 1, &p, false, &r, &err), QKV_ERR_INVALID);
    variant two[] = {{SHARE_QK, 8, false, false}, {SHARE_QKV, 8, false, false}};
    ck_assert_int_eq(kvplan_plan(m, two, 2, &p, true, &r, &err), QKV_OK);
    ck_assert_uint_eq(r.n_rows, 1);
    ck_assert_ptr_nonnull(strstr(r.notes[0], "skipped"));
    kvplan_result_free(&r);
    kvplan_result_free(NULL);
}
END_TEST

START_TEST(params_checked)
{
    kvplan_params p = kvplan_params_default();
    qkv_error err;
    p.reserve_bytes = p.device_bytes;
    ck_assert_int_eq(kvplan_params_check(&p, &err), QKV_ERR_RANGE);
    p = kvplan_params_default();
    p.ctx = 0;
    ck_assert_int_eq(kvplan_params_check(&p, &err), QKV_ERR_RANGE);
    p.ctx = KVPLAN_CTX_MAX + 1;
    ck_assert_int_eq(kvplan_params_check(&p, &err), QKV_ERR_RANGE);
}
END_TEST

Suite *kvplan_suite(void)
{
    Suite *s = suite_create("kvplan");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, paper_1_2b_figures);
    tcase_add_test(tc, paper_300m_reductions);
    tcase_add_test(tc, llama_cpp_published_allocations);
    tcase_add_test(tc, engine_cell_rules);
    tcase_add_test(tc, llama_cpp_too_many_sequences);
    tcase_add_test(tc, llama_cpp_refusals);
    tcase_add_test(tc, llama_cpp_sliding_windows);
    tcase_add_test(tc, split_cache_types);
    tcase_add_test(tc, block_type_on_odd_row_is_an_error);
    tcase_add_test(tc, overflow_is_reported);
    tcase_add_test(tc, solving_is_consistent);
    tcase_add_test(tc, nothing_fits);
    tcase_add_test(tc, plan_result_and_notes);
    tcase_add_test(tc, params_checked);
    suite_add_tcase(s, tc);
    return s;
}
