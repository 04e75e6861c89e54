/* The context sweep behind the figures and the workbook (kvplan_sweep in
 * kvplan.h). */
#include "analyzer/kvplan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/core/checked.h"
#include "analyzer/paper.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Whether some row of r fits at context ctx (false when one cannot be built there). */
static bool sweep_some_row_fits(const kvplan_result *r, uint64_t ctx)
{
    kvplan_params p = r->params;
    p.ctx = ctx;
    bool any = false;
    for (size_t i = 0; i < r->n_rows; i++) {
        kvplan_row row;
        if (kvplan_row_eval(&r->model, &r->rows[i].v, &p, false, &row, NULL) != QKV_OK)
            return false;
        any |= row.fits;
    }
    return any;
}

qkv_status kvplan_sweep(kvplan_result *r, qkv_error *err)
{
    free(r->sweep_ctx);
    free(r->sweep_kv);
    free(r->sweep_total);
    r->sweep_ctx = r->sweep_kv = r->sweep_total = NULL;
    r->n_sweep = 0;
    const uint64_t req = r->params.ctx;
    uint64_t top = r->model.max_ctx ? r->model.max_ctx : KVPLAN_SWEEP_DEFAULT_TOP;
    top = u64_min(u64_max(top, req), KVPLAN_CTX_MAX);
    /* On past that to where every row has stopped fitting, so that a figure
     * shows where each variant ends (a refused row never fits). */
    while (top < KVPLAN_CTX_MAX && sweep_some_row_fits(r, top))
        top = u64_min(top * 2, KVPLAN_CTX_MAX);
    uint64_t pts[48];
    size_t n = 0;
    for (uint64_t c = KVPLAN_SWEEP_MIN; c <= top && n < 40; c *= 2)
        pts[n++] = c;
    pts[n++] = top;
    pts[n++] = req;
    if (r->model.max_ctx > 0 && r->model.max_ctx <= top)
        pts[n++] = r->model.max_ctx;
    qsort(pts, n, sizeof pts[0], cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || pts[i] != pts[u - 1])
            pts[u++] = pts[i];
    n = u;
    r->sweep_ctx = malloc(n * sizeof *r->sweep_ctx);
    r->sweep_kv = malloc((r->n_rows ? r->n_rows : 1) * n * sizeof *r->sweep_kv);
    r->sweep_total = malloc((r->n_rows ? r->n_rows : 1) * n * sizeof *r->sweep_total);
    if (!r->sweep_ctx || !r->sweep_kv || !r->sweep_total)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for a context sweep");
    size_t kept = 0;
    for (size_t j = 0; j < n; j++) {
        kvplan_params p = r->params;
        p.ctx = pts[j];
        bool ok = true;
        for (size_t i = 0; i < r->n_rows && ok; i++) {
            kvplan_row row;
            if (kvplan_row_eval(&r->model, &r->rows[i].v, &p, false, &row, NULL) != QKV_OK) {
                ok = false;
                break;
            }
            r->sweep_kv[i * n + kept] = row.kv_bytes;
            r->sweep_total[i * n + kept] = row.total_bytes;
        }
        if (ok)
            r->sweep_ctx[kept++] = pts[j];
    }
    /* compact rows when points were skipped */
    if (kept < n)
        for (size_t i = 0; i < r->n_rows; i++) {
            memmove(r->sweep_kv + i * kept, r->sweep_kv + i * n, kept * sizeof *r->sweep_kv);
            memmove(r->sweep_total + i * kept, r->sweep_total + i * n,
                    kept * sizeof *r->sweep_total);
        }
    r->n_sweep = kept;
    return QKV_OK;
}
