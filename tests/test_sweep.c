/* The Table 1 sweep: its grid and run order, the texts that name it, a run's
 * determinism, the result line's round trip and the merged means. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/paper.h"
#include "probes/train/sweep.h"
#include "reports/study/sweep_report.h"
#include "tests/tests.h"

START_TEST(paper_grid_has_every_run_once)
{
    const sweep_grid g = sweep_grid_paper();
    qkv_error err;
    ck_assert_msg(sweep_grid_check(&g, &err) == QKV_OK, "%s", err.msg);
    /* 5 tasks x 6 variants x 3 d x 2 layers x 2 heads x 3 lengths x 3 seeds */
    ck_assert_int_eq(sweep_count(&g), 3240);
    /* every (task, var, d, layers, heads, len, seed) exactly once */
    char *seen = calloc(5 * 6 * 3 * 2 * 2 * 3 * 3, 1);
    ck_assert_ptr_nonnull(seen);
    int last_len = 0;
    for (long j = 0; j < 3240; j++) {
        sweep_run r;
        sweep_run_at(&g, j, &r);
        const int di = r.d == 32   ? 0
                       : r.d == 64 ? 1
                                   : 2,
                  li = r.layers == 2 ? 0 : 1, hi = r.heads == 2 ? 0 : 1,
                  ni = r.len == 16   ? 0
                       : r.len == 64 ? 1
                                     : 2;
        const int k = (((((r.task * 6 + r.var) * 3 + di) * 2 + li) * 2 + hi) * 3 + ni) * 3 + r.seed;
        ck_assert_int_eq(seen[k], 0);
        seen[k] = 1;
        /* the length is the slowest axis: the short runs come first */
        ck_assert_int_ge(r.len, last_len);
        last_len = r.len;
    }
    free(seen);
    sweep_run first;
    sweep_run_at(&g, 0, &first);
    ck_assert_int_eq(first.len, 16);
    ck_assert_int_eq(first.d, 32);
    ck_assert_int_eq(first.seed, 0);
}
END_TEST

START_TEST(naming_texts_round_trip)
{
    sweep_grid g = sweep_grid_paper(), back;
    qkv_error err;
    char gt[SWEEP_TEXT_BYTES], rt[SWEEP_TEXT_BYTES];
    sweep_grid_text(&g, gt, sizeof gt);
    sweep_regime_text(&g, rt, sizeof rt);
    ck_assert_str_eq(gt, "tasks=reverse,sort,sub,swap,copy;variants=QKV,Q=K-V,(Q=K-V)+,Q-K=V,"
                         "Q=K=V,(Q=K=V)+;d=32,64,256;layers=2,4;heads=2,4;len=16,64,128;seeds=3");
    ck_assert_str_eq(rt, "train=10000;test=2000;epochs=2;batch=32;lr=0.001;clip=5;pos2d=paper");
    ck_assert_msg(sweep_grid_from_text(gt, rt, &back, &err) == QKV_OK, "%s", err.msg);
    ck_assert_int_eq(sweep_count(&back), 3240);
    ck_assert_int_eq(back.n_vars, 6);
    ck_assert_str_eq(back.vars[5], "(Q=K=V)+");
    /* incomplete, unknown or non-canonical texts are refused */
    ck_assert_int_ne(sweep_grid_from_text("tasks=reverse", rt, &back, &err), QKV_OK);
    ck_assert_int_ne(sweep_grid_from_text(gt, "train=10000;test=2000", &back, &err), QKV_OK);
    ck_assert_int_ne(sweep_grid_from_text(gt,
                                          "train=10000;test=2000;epochs=2;batch=32;lr=0.001;"
                                          "clip=5;pos2d=paper;colour=red",
                                          &back, &err),
                     QKV_OK);
    ck_assert_int_ne(sweep_grid_set(&g, "d", "64,64", &err), QKV_OK);
    ck_assert_int_ne(sweep_grid_set(&g, "len", "1", &err), QKV_OK);
    ck_assert_int_ne(sweep_grid_set(&g, "tasks", "text:x", &err), QKV_OK);
    /* a variant that cannot exist with one of the head counts */
    ck_assert_int_eq(sweep_grid_set(&g, "variants", "QKV+GQA-2", &err), QKV_OK);
    ck_assert_int_eq(sweep_grid_set(&g, "heads", "2,3", &err), QKV_OK);
    ck_assert_int_ne(sweep_grid_check(&g, &err), QKV_OK);
    /* bounds: the texts read back cannot describe an enormous sweep */
    g = sweep_grid_paper();
    sweep_grid_text(&g, gt, sizeof gt);
    char *at = strstr(gt, "seeds=3");
    ck_assert_ptr_nonnull(at);
    snprintf(at, sizeof gt - (size_t)(at - gt), "seeds=65");
    ck_assert_int_ne(sweep_grid_from_text(gt, rt, &back, &err), QKV_OK);
    g.batch = 4096;
    ck_assert_int_eq(sweep_grid_set(&g, "len", "16,4096", &err), QKV_OK);
    ck_assert_int_ne(sweep_grid_check(&g, &err), QKV_OK); /* 4096 x 4096 tokens a batch */
}
END_TEST

/* A small grid whose runs take milliseconds. */
static sweep_grid tiny_grid(void)
{
    sweep_grid g = sweep_grid_paper();
    qkv_error err;
    ck_assert_int_eq(sweep_grid_set(&g, "tasks", "sub,reverse", &err), QKV_OK);
    ck_assert_int_eq(sweep_grid_set(&g, "variants", "QKV,Q=K=V,(Q=K=V)+", &err), QKV_OK);
    ck_assert_int_eq(sweep_grid_set(&g, "d", "16", &err), QKV_OK);
    ck_assert_int_eq(sweep_grid_set(&g, "layers", "1", &err), QKV_OK);
    ck_assert_int_eq(sweep_grid_set(&g, "heads", "2", &err), QKV_OK);
    ck_assert_int_eq(sweep_grid_set(&g, "len", "6,8", &err), QKV_OK);
    g.seeds = 2;
    g.train_seqs = 64;
    g.test_seqs = 12; /* not a multiple of the batch: the last one is padded */
    g.batch = 8;
    g.epochs = 3;
    return g;
}

START_TEST(a_run_is_deterministic_and_its_line_reads_back)
{
    const sweep_grid g = tiny_grid();
    qkv_error err;
    ck_assert_msg(sweep_grid_check(&g, &err) == QKV_OK, "%s", err.msg);
    const long j = 5; /* sub, (Q=K=V)+, seed 1, length 6 */
    sweep_run r;
    sweep_run_at(&g, j, &r);
    ck_assert_int_eq(r.var, 2);
    ck_assert_int_eq(r.seed, 1);
    sweep_outcome a, b;
    ck_assert_msg(sweep_train(&g, &r, &a, &err) == QKV_OK, "%s", err.msg);
    ck_assert_msg(sweep_train(&g, &r, &b, &err) == QKV_OK, "%s", err.msg);
    ck_assert(memcmp(&a.accuracy, &b.accuracy, sizeof(double)) == 0);
    ck_assert(memcmp(&a.eval_loss, &b.eval_loss, sizeof(double)) == 0);
    ck_assert(memcmp(a.gain, b.gain, sizeof a.gain) == 0);
    /* 3 epochs of 64 / 8 steps; the test set's 12 x 6 tokens all counted:
     * an accuracy on a 72-token grid */
    ck_assert_int_eq(a.steps, 24);
    const double tokens = a.accuracy * 72.0 / 100.0;
    ck_assert_double_eq_tol(tokens, round(tokens), 1e-9);
    ck_assert_int_eq(a.n_gain, 1);
    ck_assert(a.params > 0 && a.kv_bytes_per_token > 0);

    char *text = NULL;
    ck_assert_int_eq(report_sweep_line(&g, j, &a, &text, &err), QKV_OK);
    sweep_line l;
    ck_assert_msg(report_sweep_line_parse(text, strlen(text), &l, &err) == QKV_OK, "%s", err.msg);
    ck_assert_int_eq(report_sweep_line_check(&g, &l, &err), QKV_OK);
    ck_assert_int_eq(l.run, j);
    ck_assert_str_eq(l.variant, "(Q=K=V)+");
    ck_assert(memcmp(&l.accuracy, &a.accuracy, sizeof(double)) == 0); /* exact text */
    /* the same line claimed by another run is refused */
    l.run = 4;
    ck_assert_int_ne(report_sweep_line_check(&g, &l, &err), QKV_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "run 4 is sub@6"));
    free(text);
    ck_assert_int_ne(report_sweep_line_parse("{\"study\":\"lm\"}", 14, &l, &err), QKV_OK);
    ck_assert_int_ne(report_sweep_line_parse("{\"study\":\"table1\"", 17, &l, &err), QKV_OK);
}
END_TEST

START_TEST(merged_means_by_hand)
{
    const sweep_grid g = tiny_grid();
    sweep_merged m;
    qkv_error err;
    ck_assert_int_eq(sweep_merged_init(&m, &g, &err), QKV_OK);
    ck_assert_int_eq(m.total, 24);
    /* accuracy of run j: 10 x (its seed + 1) + its length, so a cell's mean
     * over lengths 6 and 8 and seeds 1, 2 is 15 + 7 = 22 and its seeds'
     * means 17 and 27 (sd 7.0711) */
    for (long j = 0; j < m.total; j++) {
        sweep_run r;
        sweep_run_at(&g, j, &r);
        if (r.task == 1 && r.var == 1 && r.len == 8)
            continue; /* reverse Q=K=V at length 8 missing */
        ck_assert(sweep_merged_add(&m, j, 10.0 * (r.seed + 1) + r.len, 0.5));
    }
    ck_assert(!sweep_merged_add(&m, 0, 99.0, 0.5)); /* repeated: the first stays */
    ck_assert_int_eq(m.duplicates, 1);
    ck_assert_int_eq(m.present, 22);
    ck_assert_int_eq(sweep_merged_finish(&m, &err), QKV_OK);
    const study_cell *c = &m.all.cells[0]; /* sub, QKV */
    ck_assert_double_eq_tol(c->metric_mean, 22.0, 1e-12);
    ck_assert_double_eq_tol(c->metric_sd, sqrt(50.0), 1e-12);
    ck_assert_int_eq(m.runs_all[0], 4);
    /* the paper's sub column beside it (Table 1: 1.0 for QKV) */
    ck_assert(c->has_paper);
    ck_assert_double_eq_tol(c->paper_value, 100.0, 1e-12);
    /* reverse, Q=K=V: only length 6 present, mean 15 + 6 = 21 */
    const study_cell *q = &m.all.cells[1 * 3 + 1];
    ck_assert_int_eq(m.runs_all[1 * 3 + 1], 2);
    ck_assert_double_eq_tol(q->metric_mean, 21.0, 1e-12);
    ck_assert_double_eq_tol(q->delta_vs_qkv, -1.0, 1e-12);
    ck_assert_double_eq_tol(q->paper_value, 51.4, 1e-9);
    /* by length: reverse@8 Q=K=V has no runs and no mean */
    ck_assert(isnan(m.by_len.cells[(1 * 2 + 1) * 3 + 1].metric_mean));
    ck_assert_double_eq_tol(m.by_len.cells[(1 * 2 + 0) * 3 + 1].metric_mean, 21.0, 1e-12);
    sweep_merged_free(&m);
}
END_TEST

Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, paper_grid_has_every_run_once);
    tcase_add_test(tc, naming_texts_round_trip);
    tcase_add_test(tc, a_run_is_deterministic_and_its_line_reads_back);
    tcase_add_test(tc, merged_means_by_hand);
    suite_add_tcase(s, tc);
    return s;
}
