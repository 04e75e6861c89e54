/* spectral.h — the probes' metrics, computed in double precision with LAPACK.
 *
 * Conventions (reported beside every result):
 *   effective rank   Roy & Vetterli (2007): p_i = σ_i / Σσ, erank = exp(−Σ p_i ln p_i)
 *   stable rank      Σσ² / σ₁²
 *   k90, k99         fewest singular values holding 90% / 99% of Σσ²
 *   principal angles between the row spaces of A (ka × d) and B (kb × d):
 *                    orthonormal bases from the SVD, the singular values of
 *                    Q_A Q_Bᵀ are the cosines; mean cos² over min(ka, kb)
 *                    angles; chance level max(ka, kb) / d is its expectation
 *                    for independent random subspaces; Grassmann distance
 *                    sqrt(Σθ²)
 *   linear CKA       ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) on column-centred X, Y (T rows)
 *   symmetric share  ‖(M+Mᵀ)/2‖²_F / ‖M‖²_F; for a head's bilinear form
 *                    M = W_Qᵀ W_K it is computed from HD × HD products:
 *                    (1 + tr((W_Q W_Kᵀ)²) / tr(W_Q W_Qᵀ W_K W_Kᵀ)) / 2
 *   attention maps   row entropy / ln(keys visible to the row) (rows with one
 *                    visible key are skipped), mean first-key mass, mean
 *                    Σ_j a_ij |i − j|
 * Matrices are float, row-major with a leading dimension (row stride).
 * Non-finite inputs give QKV_ERR_INVALID; a zero matrix has erank 0.
 */
#ifndef QKV_SPECTRAL_H
#define QKV_SPECTRAL_H

#include "analyzer/core/qkv_error.h"

typedef struct {
    int n; /* singular values considered: min(rows, cols) */
    double sigma_max;
    double erank;
    double stable_rank;
    int k90, k99;
} spectral_ranks;

/* Singular values of A (m × n), descending, into s[min(m, n)]. */
qkv_status spectral_svals(const float *A, int m, int n, int lda, double *s, qkv_error *err);

/* Rank figures from descending singular values. */
void spectral_ranks_from(const double *s, int n, spectral_ranks *r);

/* Rank figures of A (m × n). */
qkv_status spectral_ranks_of(const float *A, int m, int n, int lda, spectral_ranks *r,
                             qkv_error *err);

typedef struct {
    int k; /* number of principal angles */
    double mean_cos2;
    double chance;    /* max(ka, kb) / d */
    double grassmann; /* sqrt(Σ θ²), radians */
} spectral_overlap;

/* Principal angles between the row spaces of A (ka × d) and B (kb × d).
 * cosines, if not NULL, receives min(ka, kb) values, descending. Rows of a
 * rank-deficient matrix beyond its numerical rank do not count. */
qkv_status spectral_overlap_rows(const float *A, int ka, int lda, const float *B, int kb, int ldb,
                                 int d, double *cosines, spectral_overlap *out, qkv_error *err);

/* Linear CKA between X (T × dx) and Y (T × dy). 0 when either is constant. */
qkv_status spectral_cka(const float *X, int T, int dx, int ldx, const float *Y, int dy, int ldy,
                        double *cka, qkv_error *err);

/* Symmetric share of a square n × n matrix. */
double spectral_sym_share(const float *M, int n, int ldm);

/* Symmetric share of W_Qᵀ W_K for one head: Wq, Wk are (hd × d) row blocks. */
qkv_status spectral_sym_share_bilinear(const float *Wq, const float *Wk, int hd, int d, int ld,
                                       double *share, qkv_error *err);

/* Row-space analysis of a wide slice A (k × d, k <= d) through its Gram
 * matrix A Aᵀ (one k × k eigenproblem, fast when k ≪ d, as for a head's
 * weight slice): singular values svals[k] descending, and in basis (k × d)
 * an orthonormal basis of the row space in its first *rank rows. Singular
 * values below max(k, d) · eps · σ₁ count as zero; precision of the basis
 * degrades like the square of the slice's condition number. */
qkv_status spectral_rowspace(const float *A, int k, int d, int lda, double *svals, double *basis,
                             int *rank, qkv_error *err);

/* Principal angles between two row spaces given by orthonormal bases (ra ×
 * d and rb × d); ka, kb are the slices' row counts (for the mean over
 * min(ka, kb) angles and the chance level). */
qkv_status spectral_overlap_bases(const double *qa, int ra, int ka, const double *qb, int rb,
                                  int kb, int d, double *cosines, spectral_overlap *out,
                                  qkv_error *err);

/* The share of A's energy outside the row space spanned by qb (rb × d):
 * ‖A − A Q_bᵀ Q_b‖_F / ‖A‖_F, i.e. the relative residual of the best linear
 * map from B's rows to A's (for A = W_V, B = W_K: how much of V a shared
 * K=V projection could not express without retraining). */
double spectral_residual(const float *A, int ka, int lda, const double *qb, int rb, int d);

typedef struct {
    double entropy;    /* mean normalised row entropy */
    double first_mass; /* mean weight on key 0 */
    double mean_dist;  /* mean Σ_j a_ij |i − j|, in positions */
} spectral_map_stats;

/* Statistics of an attention map (T queries × T keys); causal maps count
 * keys 0..i visible in row i. */
void spectral_map_stats_of(const float *A, int T, int lda, int causal, spectral_map_stats *out);

#endif
