#include "matrix_vector.h"
// No contraction of a·b + c into fused operations beyond the explicit ones: the bits must not depend on it.
#pragma STDC FP_CONTRACT OFF
#include "parallel.h"
#include <math.h>
#include <stddef.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The same arithmetic on every path: y_i of gf_gemv_n is four lane sums s_l = fma(a_ij, x_j, s_l) over
// j ≡ l (mod 4), j < n − n mod 4, then (s_0 + s_1) + (s_2 + s_3), then fma(a_ij, x_j, s) for the last n mod 4
// terms; y_j of gf_gemv_t is the chain y_j = fma(x'_i, a_ij, y_j) over the rows in order, x'_i = alpha·x_i.

static double row_dot_portable(const double *restrict a, const double *restrict x, int n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const int n4 = n & ~3;
    for (int j = 0; j < n4; j += 4) {
        s0 = fma(a[j], x[j], s0); s1 = fma(a[j + 1], x[j + 1], s1);
        s2 = fma(a[j + 2], x[j + 2], s2); s3 = fma(a[j + 3], x[j + 3], s3);
    }
    double s = (s0 + s1) + (s2 + s3);
    for (int j = n4; j < n; j++) s = fma(a[j], x[j], s);
    return s;
}

static void rows_portable(int lo, int hi, int n, double alpha, const double *A, const double *x, int beta, double *y) {
    for (int i = lo; i < hi; i++) {
        const double s = alpha * row_dot_portable(A + (size_t)i * n, x, n);
        y[i] = beta ? y[i] + s : s;
    }
}

static void columns_portable(int m, int n, int lo, int hi, double alpha, const double *A, const double *x, int beta, double *y) {
    if (!beta) for (int j = lo; j < hi; j++) y[j] = 0;
    for (int i = 0; i < m; i++) {
        const double xi = alpha * x[i];
        const double *restrict a = A + (size_t)i * n;
        for (int j = lo; j < hi; j++) y[j] = fma(xi, a[j], y[j]);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static inline double lanes_sum(__m256d v) {
    double l[4];
    _mm256_storeu_pd(l, v);
    return (l[0] + l[1]) + (l[2] + l[3]);
}

// Four rows at a time share each load of x; a remaining row alone, by the same per-row operations.
__attribute__((target("avx2,fma")))
static void rows_avx2(int lo, int hi, int n, double alpha, const double *A, const double *x, int beta, double *y) {
    const int n4 = n & ~3;
    int i = lo;
    for (; i + 4 <= hi; i += 4) {
        const double *a0 = A + (size_t)i * n, *a1 = a0 + n, *a2 = a1 + n, *a3 = a2 + n;
        __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), s2 = _mm256_setzero_pd(), s3 = _mm256_setzero_pd();
        for (int j = 0; j < n4; j += 4) {
            const __m256d xv = _mm256_loadu_pd(x + j);
            s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a0 + j), xv, s0);
            s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a1 + j), xv, s1);
            s2 = _mm256_fmadd_pd(_mm256_loadu_pd(a2 + j), xv, s2);
            s3 = _mm256_fmadd_pd(_mm256_loadu_pd(a3 + j), xv, s3);
        }
        double r0 = lanes_sum(s0), r1 = lanes_sum(s1), r2 = lanes_sum(s2), r3 = lanes_sum(s3);
        for (int j = n4; j < n; j++) {
            r0 = fma(a0[j], x[j], r0); r1 = fma(a1[j], x[j], r1); r2 = fma(a2[j], x[j], r2); r3 = fma(a3[j], x[j], r3);
        }
        r0 *= alpha; r1 *= alpha; r2 *= alpha; r3 *= alpha;
        if (beta) { y[i] += r0; y[i + 1] += r1; y[i + 2] += r2; y[i + 3] += r3; }
        else { y[i] = r0; y[i + 1] = r1; y[i + 2] = r2; y[i + 3] = r3; }
    }
    for (; i < hi; i++) {
        const double *a = A + (size_t)i * n;
        __m256d s = _mm256_setzero_pd();
        for (int j = 0; j < n4; j += 4) s = _mm256_fmadd_pd(_mm256_loadu_pd(a + j), _mm256_loadu_pd(x + j), s);
        double r = lanes_sum(s);
        for (int j = n4; j < n; j++) r = fma(a[j], x[j], r);
        r *= alpha;
        y[i] = beta ? y[i] + r : r;
    }
}

// Four rows per pass over y[lo, hi): y_j = fma(x'_3, a_3j, fma(x'_2, a_2j, fma(x'_1, a_1j, fma(x'_0, a_0j, y_j)))),
// the chain of the portable loop; columns in vectors of 4 from lo, the last (hi − lo) mod 4 one by one.
__attribute__((target("avx2,fma")))
static void columns_avx2(int m, int n, int lo, int hi, double alpha, const double *A, const double *x, int beta, double *y) {
    if (!beta) for (int j = lo; j < hi; j++) y[j] = 0;
    const int end4 = lo + ((hi - lo) & ~3);
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        const double *a0 = A + (size_t)i * n, *a1 = a0 + n, *a2 = a1 + n, *a3 = a2 + n;
        const double x0 = alpha * x[i], x1 = alpha * x[i + 1], x2 = alpha * x[i + 2], x3 = alpha * x[i + 3];
        const __m256d v0 = _mm256_set1_pd(x0), v1 = _mm256_set1_pd(x1), v2 = _mm256_set1_pd(x2), v3 = _mm256_set1_pd(x3);
        for (int j = lo; j < end4; j += 4) {
            __m256d t = _mm256_loadu_pd(y + j);
            t = _mm256_fmadd_pd(v0, _mm256_loadu_pd(a0 + j), t);
            t = _mm256_fmadd_pd(v1, _mm256_loadu_pd(a1 + j), t);
            t = _mm256_fmadd_pd(v2, _mm256_loadu_pd(a2 + j), t);
            t = _mm256_fmadd_pd(v3, _mm256_loadu_pd(a3 + j), t);
            _mm256_storeu_pd(y + j, t);
        }
        for (int j = end4; j < hi; j++) {
            double t = y[j];
            t = fma(x0, a0[j], t); t = fma(x1, a1[j], t); t = fma(x2, a2[j], t); t = fma(x3, a3[j], t);
            y[j] = t;
        }
    }
    for (; i < m; i++) {
        const double *a = A + (size_t)i * n;
        const double xi = alpha * x[i];
        const __m256d v = _mm256_set1_pd(xi);
        for (int j = lo; j < end4; j += 4) _mm256_storeu_pd(y + j, _mm256_fmadd_pd(v, _mm256_loadu_pd(a + j), _mm256_loadu_pd(y + j)));
        for (int j = end4; j < hi; j++) y[j] = fma(xi, a[j], y[j]);
    }
}

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cached;
}
#else
static int has_avx2(void) { return 0; }
#endif

// The portable column loop groups rows differently (one at a time) from the AVX2 one (four at a time): the
// chain of fma's per y_j is the same sequence either way, so the bits agree.

typedef struct { int m, n; double alpha; const double *A, *x; int beta; double *y; } gemv_job;

static void rows_range(void *context, long lo, long hi, int part) {
    (void)part;
    const gemv_job *j = context;
#if defined(__x86_64__)
    if (has_avx2()) { rows_avx2((int)lo, (int)hi, j->n, j->alpha, j->A, j->x, j->beta, j->y); return; }
#endif
    rows_portable((int)lo, (int)hi, j->n, j->alpha, j->A, j->x, j->beta, j->y);
}

static void columns_range(void *context, long lo, long hi, int part) {
    (void)part;
    const gemv_job *j = context;
#if defined(__x86_64__)
    if (has_avx2()) { columns_avx2(j->m, j->n, (int)lo, (int)hi, j->alpha, j->A, j->x, j->beta, j->y); return; }
#endif
    columns_portable(j->m, j->n, (int)lo, (int)hi, j->alpha, j->A, j->x, j->beta, j->y);
}

void gf_gemv_n(int m, int n, double alpha, const double *A, const double *x, int beta, double *y) {
    gemv_job job = {m, n, alpha, A, x, beta, y};
    if (gf_vector_threads() >= 2 && (long)m * n >= GF_GEMV_SPLIT_MIN && m >= 2) gf_parallel_run_at(rows_range, &job, m, m / 2);
    else rows_range(&job, 0, m, 0);
}

void gf_gemv_t(int m, int n, double alpha, const double *A, const double *x, int beta, double *y) {
    gemv_job job = {m, n, alpha, A, x, beta, y};
    const long half = (n / 2) & ~7L;
    if (gf_vector_threads() >= 2 && (long)m * n >= GF_GEMV_SPLIT_MIN && half > 0) gf_parallel_run_at(columns_range, &job, n, half);
    else columns_range(&job, 0, n, 0);
}
