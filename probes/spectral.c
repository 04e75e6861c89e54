#include "probes/spectral.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* Copy a float matrix into a fresh double one (m × n, row-major, packed). */
static double *to_double(const float *A, int m, int n, int lda, qkv_error *err, qkv_status *s)
{
    double *D = malloc((size_t)m * (size_t)n * sizeof(double));
    if (!D) {
        *s = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory for a %d x %d matrix", m, n);
        return NULL;
    }
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            float v = A[(size_t)i * lda + j];
            if (!isfinite(v)) {
                free(D);
                *s = qkv_error_set(err, QKV_ERR_INVALID, "non-finite value at (%d, %d)", i, j);
                return NULL;
            }
            D[(size_t)i * n + j] = v;
        }
    }
    *s = QKV_OK;
    return D;
}

qkv_status spectral_svals(const float *A, int m, int n, int lda, double *s, qkv_error *err)
{
    qkv_status st;
    double *D = to_double(A, m, n, lda, err, &st);
    if (!D)
        return st;
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', m, n, D, n, s, NULL, 1, NULL, n);
    free(D);
    if (info != 0)
        return qkv_error_set(err, QKV_ERR_INVALID, "SVD did not converge (LAPACK info %d)",
                             (int)info);
    return QKV_OK;
}

void spectral_ranks_from(const double *s, int n, spectral_ranks *r)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    double sum = 0.0, sum2 = 0.0;
    for (int i = 0; i < n; i++) {
        sum += s[i];
        sum2 += s[i] * s[i];
    }
    if (n == 0 || sum <= 0.0)
        return;
    r->sigma_max = s[0];
    double h = 0.0;
    for (int i = 0; i < n; i++) {
        double p = s[i] / sum;
        if (p > 0.0)
            h -= p * log(p);
    }
    r->erank = exp(h);
    r->stable_rank = sum2 / (s[0] * s[0]);
    double acc = 0.0;
    r->k90 = r->k99 = n;
    for (int i = 0; i < n; i++) {
        acc += s[i] * s[i];
        /* compare against the fraction with a little slack for rounding */
        if (r->k90 == n && acc >= 0.90 * sum2 * (1.0 - 1e-12))
            r->k90 = i + 1;
        if (acc >= 0.99 * sum2 * (1.0 - 1e-12)) {
            r->k99 = i + 1;
            break;
        }
    }
    if (r->k90 > r->k99)
        r->k90 = r->k99;
}

qkv_status spectral_ranks_of(const float *A, int m, int n, int lda, spectral_ranks *r,
                             qkv_error *err)
{
    int k = m < n ? m : n;
    double *s = malloc((size_t)k * sizeof(double));
    if (!s)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    qkv_status st = spectral_svals(A, m, n, lda, s, err);
    if (st == QKV_OK)
        spectral_ranks_from(s, k, r);
    free(s);
    return st;
}

/* Orthonormal basis of the row space of A (k × d): rows of Vᵀ from the SVD
 * whose singular values exceed the numerical-rank tolerance. Returns the
 * rank; *basis (rank × d) is malloc'd. */
static int row_basis(const float *A, int k, int lda, int d, double **basis, qkv_error *err,
                     qkv_status *st)
{
    *basis = NULL;
    double *D = to_double(A, k, d, lda, err, st);
    if (!D)
        return -1;
    int r = k < d ? k : d;
    double *s = malloc((size_t)r * sizeof(double));
    double *vt = malloc((size_t)r * (size_t)d * sizeof(double));
    double *u = malloc((size_t)k * (size_t)r * sizeof(double)); /* (k, r), not used */
    if (!s || !vt || !u) {
        free(D);
        free(s);
        free(vt);
        free(u);
        *st = qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        return -1;
    }
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', k, d, D, d, s, u, r, vt, d);
    free(D);
    free(u);
    if (info != 0) {
        free(s);
        free(vt);
        *st =
            qkv_error_set(err, QKV_ERR_INVALID, "SVD did not converge (LAPACK info %d)", (int)info);
        return -1;
    }
    const double tol = (r > 0 ? s[0] : 0.0) * (double)(k > d ? k : d) * 2.220446049250313e-16;
    int rank = 0;
    while (rank < r && s[rank] > tol)
        rank++;
    free(s);
    *basis = vt; /* first `rank` rows are the basis */
    *st = QKV_OK;
    return rank;
}

qkv_status spectral_overlap_rows(const float *A, int ka, int lda, const float *B, int kb, int ldb,
                                 int d, double *cosines, spectral_overlap *out, qkv_error *err)
{
    qkv_status st;
    double *qa = NULL, *qb = NULL;
    memset(out, 0, sizeof *out);
    int ra = row_basis(A, ka, lda, d, &qa, err, &st);
    if (ra < 0)
        return st;
    int rb = row_basis(B, kb, ldb, d, &qb, err, &st);
    if (rb < 0) {
        free(qa);
        return st;
    }
    st = spectral_overlap_bases(qa, ra, ka, qb, rb, kb, d, cosines, out, err);
    free(qa);
    free(qb);
    return st;
}

/* Column-centred double copy of X (T × n). */
static double *centred(const float *X, int T, int n, int ld, qkv_error *err, qkv_status *st)
{
    double *D = to_double(X, T, n, ld, err, st);
    if (!D)
        return NULL;
    for (int j = 0; j < n; j++) {
        double mean = 0.0;
        for (int i = 0; i < T; i++)
            mean += D[(size_t)i * n + j];
        mean /= T;
        for (int i = 0; i < T; i++)
            D[(size_t)i * n + j] -= mean;
    }
    return D;
}

static double frob2_cross(const double *X, int T, int dx, const double *Y, int dy, double *work)
{
    /* ‖YᵀX‖²_F with work (dy × dx) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dy, dx, T, 1.0, Y, dy, X, dx, 0.0, work,
                dx);
    double s = 0.0;
    for (size_t i = 0; i < (size_t)dx * dy; i++)
        s += work[i] * work[i];
    return s;
}

qkv_status spectral_cka(const float *X, int T, int dx, int ldx, const float *Y, int dy, int ldy,
                        double *cka, qkv_error *err)
{
    qkv_status st;
    double *x = centred(X, T, dx, ldx, err, &st);
    if (!x)
        return st;
    double *y = centred(Y, T, dy, ldy, err, &st);
    int dm = dx > dy ? dx : dy;
    double *w = malloc((size_t)dm * (size_t)dm * sizeof(double));
    if (!y || !w) {
        free(x);
        free(y);
        free(w);
        return y ? qkv_error_set(err, QKV_ERR_NOMEM, "out of memory") : st;
    }
    double xy = frob2_cross(x, T, dx, y, dy, w);
    double xx = frob2_cross(x, T, dx, x, dx, w);
    double yy = frob2_cross(y, T, dy, y, dy, w);
    *cka = (xx > 0.0 && yy > 0.0) ? xy / (sqrt(xx) * sqrt(yy)) : 0.0;
    free(x);
    free(y);
    free(w);
    return QKV_OK;
}

double spectral_sym_share(const float *M, int n, int ldm)
{
    double sym = 0.0, all = 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double a = M[(size_t)i * ldm + j], b = M[(size_t)j * ldm + i];
            double s = 0.5 * (a + b);
            sym += s * s;
            all += a * a;
        }
    }
    return all > 0.0 ? sym / all : 0.0;
}

qkv_status spectral_sym_share_bilinear(const float *Wq, const float *Wk, int hd, int d, int ld,
                                       double *share, qkv_error *err)
{
    qkv_status st;
    double *q = to_double(Wq, hd, d, ld, err, &st);
    if (!q)
        return st;
    double *k = to_double(Wk, hd, d, ld, err, &st);
    double *X = malloc((size_t)hd * hd * sizeof(double));
    double *Gq = malloc((size_t)hd * hd * sizeof(double));
    double *Gk = malloc((size_t)hd * hd * sizeof(double));
    if (!k || !X || !Gq || !Gk) {
        free(q);
        free(k);
        free(X);
        free(Gq);
        free(Gk);
        return k ? qkv_error_set(err, QKV_ERR_NOMEM, "out of memory") : st;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hd, hd, d, 1.0, q, d, k, d, 0.0, X, hd);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hd, hd, d, 1.0, q, d, q, d, 0.0, Gq, hd);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hd, hd, d, 1.0, k, d, k, d, 0.0, Gk, hd);
    double trxx = 0.0, trgg = 0.0;
    for (int i = 0; i < hd; i++)
        for (int j = 0; j < hd; j++) {
            trxx += X[(size_t)i * hd + j] * X[(size_t)j * hd + i];
            trgg += Gq[(size_t)i * hd + j] * Gk[(size_t)j * hd + i];
        }
    *share = trgg > 0.0 ? 0.5 * (1.0 + trxx / trgg) : 0.0;
    free(q);
    free(k);
    free(X);
    free(Gq);
    free(Gk);
    return QKV_OK;
}

void spectral_map_stats_of(const float *A, int T, int lda, int causal, spectral_map_stats *out)
{
    double ent = 0.0, first = 0.0, dist = 0.0;
    int ent_rows = 0;
    for (int i = 0; i < T; i++) {
        const float *row = A + (size_t)i * lda;
        int n = causal ? i + 1 : T;
        double h = 0.0, dd = 0.0;
        for (int j = 0; j < n; j++) {
            double p = row[j];
            if (p > 0.0)
                h -= p * log(p);
            dd += p * fabs((double)(i - j));
        }
        if (n > 1) {
            ent += h / log((double)n);
            ent_rows++;
        }
        first += row[0];
        dist += dd;
    }
    out->entropy = ent_rows ? ent / ent_rows : 0.0;
    out->first_mass = T ? first / T : 0.0;
    out->mean_dist = T ? dist / T : 0.0;
}

qkv_status spectral_rowspace(const float *A, int k, int d, int lda, double *svals, double *basis,
                             int *rank, qkv_error *err)
{
    qkv_status st;
    double *D = to_double(A, k, d, lda, err, &st);
    if (!D)
        return st;
    double *G = malloc((size_t)k * k * sizeof(double)), *w = malloc((size_t)k * sizeof(double));
    if (!G || !w) {
        free(D);
        free(G);
        free(w);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, k, d, 1.0, D, d, 0.0, G, k);
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', k, G, k, w);
    if (info != 0) {
        free(D);
        free(G);
        free(w);
        return qkv_error_set(err, QKV_ERR_INVALID, "eigensolver did not converge (LAPACK info %d)",
                             (int)info);
    }
    /* ascending eigenvalues: reverse into descending singular values */
    for (int i = 0; i < k; i++)
        svals[i] = sqrt(w[k - 1 - i] > 0 ? w[k - 1 - i] : 0.0);
    const double tol = svals[0] * (double)(k > d ? k : d) * 2.220446049250313e-16 * 1e4;
    int r = 0;
    while (r < k && svals[r] > tol)
        r++;
    /* basis row i = (u_iᵀ A) / σ_i, u_i the eigenvector of the i-th largest:
     * the scaled eigenvectors as rows of U (r × k), then one GEMM */
    double *U = malloc((size_t)(r ? r : 1) * k * sizeof(double));
    if (!U) {
        free(D);
        free(G);
        free(w);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < r; i++)
        for (int j = 0; j < k; j++)
            U[(size_t)i * k + j] = G[(size_t)j * k + (k - 1 - i)] / svals[i];
    if (r > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, d, k, 1.0, U, k, D, d, 0.0, basis,
                    d);
    free(U);
    *rank = r;
    free(D);
    free(G);
    free(w);
    return QKV_OK;
}

qkv_status spectral_overlap_bases(const double *qa, int ra, int ka, const double *qb, int rb,
                                  int kb, int d, double *cosines, spectral_overlap *out,
                                  qkv_error *err)
{
    memset(out, 0, sizeof *out);
    const int kmin = ka < kb ? ka : kb, k = ra < rb ? ra : rb;
    out->k = kmin;
    out->chance = (double)(ka > kb ? ka : kb) / (double)d;
    if (cosines)
        for (int i = 0; i < kmin; i++)
            cosines[i] = 0.0;
    double theta2 = 0.0, sum2 = 0.0;
    if (k > 0) {
        double *M = malloc((size_t)ra * rb * sizeof(double)),
               *sv = malloc((size_t)k * sizeof(double));
        if (!M || !sv) {
            free(M);
            free(sv);
            return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ra, rb, d, 1.0, qa, d, qb, d, 0.0, M,
                    rb);
        lapack_int info =
            LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', ra, rb, M, rb, sv, NULL, 1, NULL, rb);
        free(M);
        if (info != 0) {
            free(sv);
            return qkv_error_set(err, QKV_ERR_INVALID, "SVD did not converge (LAPACK info %d)",
                                 (int)info);
        }
        for (int i = 0; i < k; i++) {
            const double c = sv[i] > 1.0 ? 1.0 : sv[i];
            sum2 += c * c;
            const double t = acos(c);
            theta2 += t * t;
            if (cosines)
                cosines[i] = c;
        }
        free(sv);
    }
    for (int i = k; i < kmin; i++)
        theta2 += (PI / 2) * (PI / 2);
    out->mean_cos2 = kmin ? sum2 / kmin : 0.0;
    out->grassmann = sqrt(theta2);
    return QKV_OK;
}

double spectral_residual(const float *A, int ka, int lda, const double *qb, int rb, int d)
{
    double total = 0.0, inside = 0.0;
    double *a = malloc((size_t)ka * d * sizeof(double)),
           *proj = malloc((size_t)ka * (rb ? rb : 1) * sizeof(double));
    if (!a || !proj) {
        free(a);
        free(proj);
        return NAN; /* reported as not available, never as a number */
    }
    for (int i = 0; i < ka; i++)
        for (int t = 0; t < d; t++) {
            a[(size_t)i * d + t] = A[(size_t)i * lda + t];
            total += a[(size_t)i * d + t] * a[(size_t)i * d + t];
        }
    if (rb > 0)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ka, rb, d, 1.0, a, d, qb, d, 0.0, proj,
                    rb);
    for (size_t i = 0; i < (size_t)ka * rb; i++)
        inside += proj[i] * proj[i];
    free(a);
    free(proj);
    if (total <= 0.0)
        return 0.0;
    const double out = (total - inside) / total;
    return sqrt(out > 0.0 ? out : 0.0);
}
