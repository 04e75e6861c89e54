/* analyzer/offload: llama.cpp v0.4.0's placement, the auto solver and
 * conservation of bytes across devices. */
#include <stdint.h>
#include <string.h>

#include "analyzer/catalog.h"
#include "analyzer/offload.h"
#include "tests/tests.h"

#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

static offload_params gpus(size_t n, const uint64_t *bytes)
{
    offload_params op;
    memset(&op, 0, sizeof op);
    op.n_gpus = n;
    for (size_t i = 0; i < n; i++) {
        op.gpu_bytes[i] = bytes[i];
        op.gpu_reserve[i] = OFFLOAD_GPU_RESERVE_DEFAULT;
    }
    op.ngl_auto = true;
    return op;
}

static bool plan_model(const model_shape *m, kvplan_params p, kvplan_result *r)
{
    variant vs[VARIANT_MAX];
    size_t n = variant_default_grid(m, vs, VARIANT_MAX);
    qkv_error err;
    return kvplan_plan(m, vs, n, &p, true, r, &err) == QKV_OK;
}

/* Sum of every device's figure against the single-budget row. */
static void check_conservation(const kvplan_result *r, const kvplan_row *row, const offload_row *o)
{
    uint64_t w = o->host.weight_bytes, kv = o->host.kv_bytes, c = o->host.compute_bytes,
             t = o->host.total_bytes, layers = o->host.layers;
    for (size_t g = 0; g < o->n_gpus; g++) {
        w += o->gpu[g].weight_bytes;
        kv += o->gpu[g].kv_bytes;
        c += o->gpu[g].compute_bytes;
        t += o->gpu[g].total_bytes;
        layers += o->gpu[g].layers;
    }
    ck_assert_msg(w == row->weight_bytes + o->dup_bytes,
                  "%s %s ngl %llu: weights %llu vs %llu + %llu", r->model.name, row->label,
                  (unsigned long long)o->ngl, (unsigned long long)w,
                  (unsigned long long)row->weight_bytes, (unsigned long long)o->dup_bytes);
    ck_assert_msg(kv == row->kv_bytes, "%s %s: KV %llu vs %llu", r->model.name, row->label,
                  (unsigned long long)kv, (unsigned long long)row->kv_bytes);
    ck_assert_uint_eq(c, row->scratch_bytes + o->extra_compute_bytes);
    ck_assert_uint_eq(t, row->total_bytes + o->dup_bytes + o->extra_compute_bytes);
    ck_assert_uint_eq(t, o->host_bytes + o->gpu_bytes);
    if (r->params.engine != ENGINE_VLLM)
        ck_assert_uint_eq(layers, r->model.n_layers);
}

/* -ngl auto over the catalog, one to three GPUs, short and long contexts:
 * the count fits every GPU and one more layer does not. */
START_TEST(test_auto_is_the_most_that_fits)
{
    static const uint64_t sets[][3] = {
        {8 * GiB, 0, 0}, {8 * GiB, 12 * GiB, 0}, {24 * GiB, 24 * GiB, 16 * GiB}};
    static const size_t n_set[] = {1, 2, 3};
    static const uint64_t ctxs[] = {4096, 32768};
    size_t checked = 0, partial = 0;
    for (size_t mi = 0; mi < catalog_count(); mi++) {
        const model_shape *m = catalog_get(mi);
        for (size_t si = 0; si < 3; si++) {
            for (size_t ci = 0; ci < 2; ci++) {
                kvplan_params p = kvplan_params_default();
                p.engine = ENGINE_LLAMACPP;
                p.ctx = ctxs[ci];
                p.device_bytes = 64 * GiB;
                kvplan_result r;
                if (!plan_model(m, p, &r))
                    continue;
                offload_params op = gpus(n_set[si], sets[si]);
                qkv_error err;
                ck_assert_msg(offload_plan(&r, &op, NULL, &err) == QKV_OK, "%s", err.msg);
                for (size_t i = 0; i < r.n_rows; i++) {
                    const offload_row *o = &r.offload->rows[i];
                    offload_row again, more;
                    ck_assert(offload_place(&r, &r.rows[i], &op, NULL, o->ngl, &again, &err) ==
                              QKV_OK);
                    ck_assert_msg(again.gpu_fits || o->ngl == 0,
                                  "%s %s: auto ngl %llu does not fit", m->name, r.rows[i].label,
                                  (unsigned long long)o->ngl);
                    if (o->ngl <= m->n_layers) {
                        ck_assert(offload_place(&r, &r.rows[i], &op, NULL, o->ngl + 1, &more,
                                                &err) == QKV_OK);
                        ck_assert_msg(!more.gpu_fits, "%s %s: ngl %llu + 1 also fits", m->name,
                                      r.rows[i].label, (unsigned long long)o->ngl);
                        partial++;
                    }
                    check_conservation(&r, &r.rows[i], o);
                    checked++;
                }
                kvplan_result_free(&r);
            }
        }
    }
    ck_assert_uint_gt(checked, 100);
    ck_assert_uint_gt(partial, 10); /* the check saw real partial offloads */
}
END_TEST

/* Every device's bytes add up to the single-budget plan, at fixed -ngl,
 * with and without KV offload, experts on the CPU. */
START_TEST(test_devices_add_up)
{
    static const uint64_t two[] = {8 * GiB, 6 * GiB};
    for (size_t mi = 0; mi < catalog_count(); mi++) {
        const model_shape *m = catalog_get(mi);
        kvplan_params p = kvplan_params_default();
        p.engine = ENGINE_LLAMACPP;
        p.ctx = 8192;
        p.seqs = 2;
        kvplan_result r;
        if (!plan_model(m, p, &r))
            continue;
        const uint64_t ngls[] = {0, 1, m->n_layers / 2, m->n_layers, m->n_layers + 1, 1000};
        for (int nkvo = 0; nkvo < 2; nkvo++) {
            for (size_t k = 0; k < sizeof ngls / sizeof ngls[0]; k++) {
                offload_params op = gpus(2, two);
                op.ngl_auto = false;
                op.no_kv_offload = nkvo;
                op.cpu_moe = m->n_experts > 0 && k % 2;
                op.n_cpu_moe = m->n_experts > 0 ? k : 0;
                for (size_t i = 0; i < r.n_rows; i++) {
                    offload_row o;
                    qkv_error err;
                    ck_assert_msg(offload_place(&r, &r.rows[i], &op, NULL, ngls[k], &o, &err) ==
                                      QKV_OK,
                                  "%s", err.msg);
                    check_conservation(&r, &r.rows[i], &o);
                    if (nkvo)
                        ck_assert_uint_eq(o.gpu[0].kv_bytes + o.gpu[1].kv_bytes, 0);
                    if (ngls[k] == 0) /* only the GPU's compute buffer */
                        ck_assert_uint_eq(o.gpu[0].weight_bytes + o.gpu[0].kv_bytes +
                                              o.gpu[1].weight_bytes + o.gpu[1].kv_bytes,
                                          0);
                }
            }
        }
        kvplan_result_free(&r);
    }
}
END_TEST

/* llama.cpp v0.4.0's layer assignment, by hand: 8 layers, tied embeddings. */
START_TEST(test_llamacpp_placement)
{
    model_shape m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "t8");
    strcpy(m.arch, "llama");
    m.n_layers = 8;
    m.d_model = 64;
    m.n_heads = 4;
    m.n_kv_heads = 2;
    m.head_dim = m.v_head_dim = 16;
    m.d_ff = 128;
    m.gated_ffn = true;
    m.vocab = 260;
    m.tied_embeddings = true;
    m.norms_per_layer = 2;
    m.pos = POS_ROPE;
    m.max_ctx = 4096;
    kvplan_params p = kvplan_params_default();
    p.engine = ENGINE_LLAMACPP;
    p.ctx = 1000;
    p.weight_type = WTYPE_F32;
    variant v = variant_as_built(&m);
    kvplan_result r;
    qkv_error err;
    ck_assert(kvplan_plan(&m, &v, 1, &p, false, &r, &err) == QKV_OK);
    const uint64_t one[] = {8 * GiB}, two[] = {8 * GiB, 8 * GiB};
    offload_params op = gpus(1, one);
    offload_row o;
    /* -ngl 4: the output layer and 3 repeating layers ("offloading 3 repeating layers") */
    ck_assert(offload_place(&r, &r.rows[0], &op, NULL, 4, &o, &err) == QKV_OK);
    ck_assert_uint_eq(o.gpu[0].layers, 3);
    ck_assert_uint_eq(o.host.layers, 5);
    ck_assert(o.output_on_gpu);
    /* the tied output matrix is copied: 260 x 64 f32 */
    ck_assert_uint_eq(o.dup_bytes, 260 * 64 * 4);
    /* llama.cpp logs for this model: Vulkan0 model buffer 510720 bytes, KV
     * CPU 655360 / Vulkan0 393216 (1024 cells x 2 x 32 f16 per layer) */
    ck_assert_uint_eq(o.gpu[0].weight_bytes, 510720);
    ck_assert_uint_eq(o.gpu[0].kv_bytes, 393216);
    ck_assert_uint_eq(o.host.kv_bytes, 655360);
    /* -ngl 0: no weights or KV on the GPU (its compute buffer stays), no copy */
    ck_assert(offload_place(&r, &r.rows[0], &op, NULL, 0, &o, &err) == QKV_OK);
    ck_assert_uint_eq(o.gpu[0].weight_bytes + o.gpu[0].kv_bytes, 0);
    ck_assert_uint_eq(o.gpu[0].compute_bytes, r.rows[0].scratch_bytes);
    ck_assert_uint_eq(o.dup_bytes, 0);
    /* two equal GPUs, everything offloaded: x = il / 9 below 0.5 -> GPU0 */
    op = gpus(2, two);
    ck_assert(offload_place(&r, &r.rows[0], &op, NULL, 9, &o, &err) == QKV_OK);
    ck_assert_uint_eq(o.gpu[0].layers, 5);
    ck_assert_uint_eq(o.gpu[1].layers, 3);
    ck_assert_uint_eq(o.host.layers, 0);
    /* --tensor-split 3,1: x < 0.75 -> GPU0 (il 0..6), the output layer on GPU1 */
    op.split_set = true;
    op.split[0] = 3;
    op.split[1] = 1;
    ck_assert(offload_place(&r, &r.rows[0], &op, NULL, 9, &o, &err) == QKV_OK);
    ck_assert_uint_eq(o.gpu[0].layers, 7);
    ck_assert_uint_eq(o.gpu[1].layers, 1);
    ck_assert_uint_eq(o.gpu[0].weight_bytes + o.gpu[1].weight_bytes + o.host.weight_bytes,
                      r.rows[0].weight_bytes + o.dup_bytes);
    kvplan_result_free(&r);
}
END_TEST

/* vLLM: tensor parallelism divides weights, KV and activations exactly. */
START_TEST(test_vllm_tensor_parallel)
{
    const model_shape *m = catalog_find("llama-3.1-8b");
    ck_assert_ptr_nonnull(m);
    kvplan_params p = kvplan_params_default();
    p.engine = ENGINE_VLLM;
    p.ctx = 32768;
    variant v = variant_as_built(m);
    kvplan_result r;
    qkv_error err;
    ck_assert(kvplan_plan(m, &v, 1, &p, false, &r, &err) == QKV_OK);
    const uint64_t four[] = {24 * GiB, 24 * GiB, 24 * GiB, 24 * GiB};
    offload_params op = gpus(4, four);
    op.tp = 4;
    ck_assert(offload_plan(&r, &op, NULL, &err) == QKV_OK);
    const offload_row *o = &r.offload->rows[0];
    ck_assert_uint_eq(o->host_bytes, 0);
    for (size_t g = 1; g < 4; g++) {
        ck_assert_uint_eq(o->gpu[g].weight_bytes, r.rows[0].weight_bytes / 4);
        ck_assert_uint_eq(o->gpu[g].kv_bytes, r.rows[0].kv_bytes / 4);
    }
    check_conservation(&r, &r.rows[0], o);
    kvplan_result_free(&r);
}
END_TEST

Suite *offload_suite(void)
{
    Suite *s = suite_create("offload");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_llamacpp_placement);
    tcase_add_test(tc, test_devices_add_up);
    tcase_add_test(tc, test_auto_is_the_most_that_fits);
    tcase_add_test(tc, test_vllm_tensor_parallel);
    suite_add_tcase(s, tc);
    return s;
}
