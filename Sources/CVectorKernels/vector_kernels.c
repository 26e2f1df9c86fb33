#include "vector_kernels.h"
#include "parallel.h"
#include <math.h>
#include <stdlib.h>

/* Vector data aligned to 64 bytes: OpenBLAS and vectorised loops then see the same alignment on every
   run, so results do not depend on where the allocator placed a vector. Freed by N_VDestroy_Serial
   (free() accepts posix_memalign memory). */
static realtype *aligned_data(sunindextype n) {
    void *data = NULL;
    if (n < 1) n = 1;
    if (posix_memalign(&data, 64, (size_t)n * sizeof(realtype)) != 0) return NULL;
    return (realtype *)data;
}

static N_Vector clone_aligned(N_Vector w) {
    N_Vector v = N_VCloneEmpty_Serial(w);
    if (v == NULL) return NULL;
    realtype *data = aligned_data(NV_LENGTH_S(w));
    if (data == NULL) { N_VDestroy_Serial(v); return NULL; }
    NV_OWN_DATA_S(v) = SUNTRUE;
    NV_DATA_S(v) = data;
    return v;
}

N_Vector gf_vector_new_aligned(sunindextype length, SUNContext context) {
    N_Vector v = N_VNewEmpty_Serial(length, context);
    if (v == NULL) return NULL;
    realtype *data = aligned_data(length);
    if (data == NULL) { N_VDestroy_Serial(v); return NULL; }
    NV_OWN_DATA_S(v) = SUNTRUE;
    NV_DATA_S(v) = data;
    gf_vector_install_kernels(v);
    return v;
}

#define DATA(v) NV_DATA_S(v)
#define LEN(v) NV_LENGTH_S(v)

// Each element-wise operation has a variant for distinct arrays and one for an output that is one of
// the inputs (CVODE often passes z = x): with `restrict` on each, the compiler vectorises both
// without a runtime overlap check, which otherwise falls back to scalar code on exact aliasing.

static void axpby_distinct(sunindextype n, realtype a, const realtype *restrict x, realtype b,
                           const realtype *restrict y, realtype *restrict z) {
    for (sunindextype i = 0; i < n; i++) z[i] = a * x[i] + b * y[i];
}

// z = a z + b y
static void axpby_inplace(sunindextype n, realtype a, realtype *restrict z, realtype b, const realtype *restrict y) {
    for (sunindextype i = 0; i < n; i++) z[i] = a * z[i] + b * y[i];
}

static void linear_sum_raw(sunindextype n, realtype a, realtype *xd, realtype b, realtype *yd, realtype *zd) {
    if (xd == yd) {
        const realtype c = a + b;
        if (zd == xd) { for (sunindextype i = 0; i < n; i++) zd[i] = c * zd[i]; }
        else { const realtype *restrict xr = xd; realtype *restrict zr = zd; for (sunindextype i = 0; i < n; i++) zr[i] = c * xr[i]; }
    } else if (zd == xd) {
        axpby_inplace(n, a, zd, b, yd);
    } else if (zd == yd) {
        axpby_inplace(n, b, zd, a, xd);
    } else {
        axpby_distinct(n, a, xd, b, yd, zd);
    }
}

// The N_Vector operations below split large vectors over two threads (parallel.h): each runs its loop on
// a range [lo, hi) through a context struct; below the threshold the range is the whole vector.
struct linear_sum_job { realtype a, b; realtype *x, *y, *z; };
static void linear_sum_range(void *context, long lo, long hi, int part) {
    (void)part;
    struct linear_sum_job *j = context;
    linear_sum_raw(hi - lo, j->a, j->x + lo, j->b, j->y + lo, j->z + lo);
}
static void linear_sum(realtype a, N_Vector x, realtype b, N_Vector y, N_Vector z) {
    struct linear_sum_job job = { a, b, DATA(x), DATA(y), DATA(z) };
    gf_parallel_run(linear_sum_range, &job, LEN(x));
}

struct constant_job { realtype c; realtype *z; };
static void constant_range(void *context, long lo, long hi, int part) {
    (void)part;
    struct constant_job *j = context;
    for (long i = lo; i < hi; i++) j->z[i] = j->c;
}
static void constant(realtype c, N_Vector z) {
    struct constant_job job = { c, DATA(z) };
    gf_parallel_run(constant_range, &job, LEN(z));
}

// Binary element-wise operations z = x OP y, z possibly x or y.
#define BINARY_OP(name, expr)                                                                        \
    static void name##_distinct(sunindextype n, const realtype *restrict x, const realtype *restrict y, \
                                realtype *restrict z) {                                              \
        for (sunindextype i = 0; i < n; i++) { const realtype xi = x[i], yi = y[i]; z[i] = (expr); }  \
    }                                                                                                \
    static void name##_into_x(sunindextype n, realtype *restrict x, const realtype *restrict y) {    \
        for (sunindextype i = 0; i < n; i++) { const realtype xi = x[i], yi = y[i]; x[i] = (expr); }  \
    }                                                                                                \
    static void name##_into_y(sunindextype n, const realtype *restrict x, realtype *restrict y) {    \
        for (sunindextype i = 0; i < n; i++) { const realtype xi = x[i], yi = y[i]; y[i] = (expr); }  \
    }                                                                                                \
    static void name(N_Vector x, N_Vector y, N_Vector z) {                                           \
        const sunindextype n = LEN(x);                                                               \
        realtype *xd = DATA(x), *yd = DATA(y), *zd = DATA(z);                                        \
        if (xd == yd) { for (sunindextype i = 0; i < n; i++) { const realtype xi = xd[i], yi = xi; zd[i] = (expr); } } \
        else if (zd == xd) name##_into_x(n, xd, yd);                                                 \
        else if (zd == yd) name##_into_y(n, xd, yd);                                                 \
        else name##_distinct(n, xd, yd, zd);                                                         \
    }

BINARY_OP(product, xi * yi)
BINARY_OP(divide, xi / yi)

// Unary element-wise operations z = f(x), z possibly x; `c` is the operation's scalar, if any.
#define UNARY_OP(name, expr)                                                                         \
    static void name##_kernel(sunindextype n, realtype c, const realtype *restrict x, realtype *restrict z) { \
        (void)c;                                                                                     \
        for (sunindextype i = 0; i < n; i++) { const realtype xi = x[i]; z[i] = (expr); }            \
    }                                                                                                \
    static void name##_inplace(sunindextype n, realtype c, realtype *restrict z) {                   \
        (void)c;                                                                                     \
        for (sunindextype i = 0; i < n; i++) { const realtype xi = z[i]; z[i] = (expr); }            \
    }

UNARY_OP(scale_op, c * xi)
UNARY_OP(absolute_op, fabs(xi))
UNARY_OP(inverse_op, 1.0 / xi)
UNARY_OP(add_constant_op, xi + c)
UNARY_OP(compare_op, (fabs(xi) >= c) ? 1.0 : 0.0)

// The unary operations split over two threads like the others (parallel.h), each half by the same loop.
struct unary_job { realtype c; realtype *x, *z; };
#define UNARY_SPLIT(name, op)                                                                         \
    static void name##_range(void *context, long lo, long hi, int part) {                            \
        (void)part;                                                                                  \
        struct unary_job *j = context;                                                               \
        if (j->x == j->z) op##_inplace(hi - lo, j->c, j->z + lo); else op##_kernel(hi - lo, j->c, j->x + lo, j->z + lo); \
    }                                                                                                \
    static void name##_split(realtype c, N_Vector x, N_Vector z) {                                   \
        struct unary_job job = { c, DATA(x), DATA(z) };                                              \
        gf_parallel_run(name##_range, &job, LEN(x));                                                 \
    }

UNARY_SPLIT(scale, scale_op)
UNARY_SPLIT(absolute, absolute_op)
UNARY_SPLIT(inverse, inverse_op)
UNARY_SPLIT(add_constant, add_constant_op)
UNARY_SPLIT(compare, compare_op)

static void scale(realtype c, N_Vector x, N_Vector z) { scale_split(c, x, z); }
static void absolute(N_Vector x, N_Vector z) { absolute_split(0, x, z); }
static void inverse(N_Vector x, N_Vector z) { inverse_split(0, x, z); }
static void add_constant(N_Vector x, realtype b, N_Vector z) { add_constant_split(b, x, z); }
static void compare(realtype c, N_Vector x, N_Vector z) { compare_split(c, x, z); }

// The error weights of SUNDIALS' scalar tolerances, w_i = 1/(rtol·|y_i| + atol), in one pass: the same
// operations in the same order as ARKODE's and CVODE's own (N_VAbs, N_VScale, N_VAddConst, N_VInv: four
// passes), so the same bits. No contraction into a fused multiply-add, which would change them.
struct weights_job { realtype rtol, atol; const realtype *y; realtype *w; };
static void error_weights_range(void *context, long lo, long hi, int part) {
#pragma clang fp contract(off)
    (void)part;
    const struct weights_job *j = context;
    const realtype rtol = j->rtol, atol = j->atol;
    const realtype *restrict y = j->y;
    realtype *restrict w = j->w;
    for (long i = lo; i < hi; i++) {
        const realtype scaled = rtol * fabs(y[i]);
        w[i] = 1.0 / (scaled + atol);
    }
}
int gf_vector_error_weights(N_Vector y, N_Vector w, realtype rtol, realtype atol) {
    struct weights_job job = { rtol, atol, DATA(y), DATA(w) };
    gf_parallel_run(error_weights_range, &job, LEN(y));
    return 0;
}

// Reductions use four partial sums (a fixed order: the result is deterministic, and the loop
// vectorises without reassociation flags).
static realtype dot_product_raw(sunindextype n, const realtype *xd, const realtype *yd) {
    realtype s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    sunindextype i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += xd[i] * yd[i]; s1 += xd[i + 1] * yd[i + 1]; s2 += xd[i + 2] * yd[i + 2]; s3 += xd[i + 3] * yd[i + 3];
    }
    for (; i < n; i++) s0 += xd[i] * yd[i];
    return (s0 + s1) + (s2 + s3);
}

// Reductions split over two threads add the halves' sums in a fixed order: sum[0] + sum[1].
struct reduce_job { const realtype *x, *y; realtype sum[2]; };
/// Runs the range reduction `fn` over x and y (n doubles each) and adds the halves' sums in a fixed order.
static realtype split_sum(gf_range_fn fn, const realtype *x, const realtype *y, long n) {
    struct reduce_job job = { x, y, { 0, 0 } };
    gf_parallel_run(fn, &job, n);
    return gf_parallel_split(n) ? job.sum[0] + job.sum[1] : job.sum[0];
}
static void dot_product_range(void *context, long lo, long hi, int part) {
    struct reduce_job *j = context;
    j->sum[part] = dot_product_raw(hi - lo, j->x + lo, j->y + lo);
}
static realtype dot_product(N_Vector x, N_Vector y) { return split_sum(dot_product_range, DATA(x), DATA(y), LEN(x)); }

static realtype max_norm(N_Vector x) {
    const sunindextype n = LEN(x);
    const realtype *xd = DATA(x);
    realtype m = 0;
    for (sunindextype i = 0; i < n; i++) { realtype a = fabs(xd[i]); if (a > m) m = a; }
    return m;
}

static realtype weighted_square_sum_raw(sunindextype n, const realtype *xd, const realtype *wd) {
    realtype s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    sunindextype i = 0;
    for (; i + 4 <= n; i += 4) {
        const realtype p0 = xd[i] * wd[i], p1 = xd[i + 1] * wd[i + 1], p2 = xd[i + 2] * wd[i + 2], p3 = xd[i + 3] * wd[i + 3];
        s0 += p0 * p0; s1 += p1 * p1; s2 += p2 * p2; s3 += p3 * p3;
    }
    for (; i < n; i++) { const realtype p = xd[i] * wd[i]; s0 += p * p; }
    return (s0 + s1) + (s2 + s3);
}

static void weighted_square_sum_range(void *context, long lo, long hi, int part) {
    struct reduce_job *j = context;
    j->sum[part] = weighted_square_sum_raw(hi - lo, j->x + lo, j->y + lo);
}
static realtype weighted_square_sum(N_Vector x, N_Vector w) { return split_sum(weighted_square_sum_range, DATA(x), DATA(w), LEN(x)); }

static realtype weighted_square_sum_mask(N_Vector x, N_Vector w, N_Vector id) {
    const sunindextype n = LEN(x);
    const realtype *xd = DATA(x), *wd = DATA(w), *idd = DATA(id);
    realtype s = 0;
    for (sunindextype i = 0; i < n; i++) {
        if (idd[i] > 0) { realtype p = xd[i] * wd[i]; s += p * p; }
    }
    return s;
}

static realtype wrms_norm(N_Vector x, N_Vector w) { return sqrt(weighted_square_sum(x, w) / (realtype)LEN(x)); }

static realtype wrms_norm_mask(N_Vector x, N_Vector w, N_Vector id) {
    return sqrt(weighted_square_sum_mask(x, w, id) / (realtype)LEN(x));
}

static realtype minimum(N_Vector x) {
    const sunindextype n = LEN(x);
    const realtype *xd = DATA(x);
    realtype m = xd[0];
    for (sunindextype i = 1; i < n; i++) if (xd[i] < m) m = xd[i];
    return m;
}

static realtype wl2_norm(N_Vector x, N_Vector w) { return sqrt(weighted_square_sum(x, w)); }

static realtype l1_norm(N_Vector x) {
    const sunindextype n = LEN(x);
    const realtype *xd = DATA(x);
    realtype s = 0;
    for (sunindextype i = 0; i < n; i++) s += fabs(xd[i]);
    return s;
}

static booleantype inverse_test(N_Vector x, N_Vector z) {
    const sunindextype n = LEN(x);
    const realtype *xd = DATA(x);
    realtype *zd = DATA(z);
    booleantype no_zero = SUNTRUE;
    for (sunindextype i = 0; i < n; i++) {
        if (xd[i] == 0) no_zero = SUNFALSE; else zd[i] = 1.0 / xd[i];
    }
    return no_zero;
}

// z = a z + Σ_{j<m} c_j x_j for m ≤ 4 distinct inputs (a = 0: z is only written). One streaming pass
// that reads the m inputs side by side: the hardware prefetcher follows a few concurrent streams at
// full speed, where a blocked accumulator (an earlier version) ran at a fifth of the bandwidth.
static void combine_group(sunindextype n, int keep, realtype a, realtype *restrict z, int m, const realtype *c,
                          N_Vector *X, sunindextype lo) {
    const realtype *restrict x0 = DATA(X[0]) + lo;
    const realtype c0 = c[0];
    if (m == 1) {
        if (keep) for (sunindextype i = 0; i < n; i++) z[i] = a * z[i] + c0 * x0[i];
        else for (sunindextype i = 0; i < n; i++) z[i] = c0 * x0[i];
        return;
    }
    const realtype *restrict x1 = DATA(X[1]) + lo;
    const realtype c1 = c[1];
    if (m == 2) {
        if (keep) for (sunindextype i = 0; i < n; i++) z[i] = a * z[i] + c0 * x0[i] + c1 * x1[i];
        else for (sunindextype i = 0; i < n; i++) z[i] = c0 * x0[i] + c1 * x1[i];
        return;
    }
    const realtype *restrict x2 = DATA(X[2]) + lo;
    const realtype c2 = c[2];
    if (m == 3) {
        if (keep) for (sunindextype i = 0; i < n; i++) z[i] = a * z[i] + c0 * x0[i] + c1 * x1[i] + c2 * x2[i];
        else for (sunindextype i = 0; i < n; i++) z[i] = c0 * x0[i] + c1 * x1[i] + c2 * x2[i];
        return;
    }
    const realtype *restrict x3 = DATA(X[3]) + lo;
    const realtype c3 = c[3];
    if (keep) for (sunindextype i = 0; i < n; i++) z[i] = a * z[i] + c0 * x0[i] + c1 * x1[i] + c2 * x2[i] + c3 * x3[i];
    else for (sunindextype i = 0; i < n; i++) z[i] = c0 * x0[i] + c1 * x1[i] + c2 * x2[i] + c3 * x3[i];
}

// z = Σ_j c_j X_j in groups of four inputs. As in SUNDIALS, z may be X[0] and no other X[j].
struct combination_job { int nv; realtype *c; N_Vector *X; realtype *z; };
static void linear_combination_range(void *context, long lo, long hi, int part) {
    (void)part;
    struct combination_job *job = context;
    const int nv = job->nv;
    realtype *c = job->c;
    N_Vector *X = job->X;
    realtype *zd = job->z + lo;
    const sunindextype n = hi - lo;
    int j;
    if (DATA(X[0]) == job->z) {  // z = c_0 z + …
        const int m = nv - 1 < 4 ? nv - 1 : 4;
        combine_group(n, 1, c[0], zd, m, c + 1, X + 1, lo);
        j = 1 + m;
    } else {
        const int m = nv < 4 ? nv : 4;
        combine_group(n, 0, 0, zd, m, c, X, lo);
        j = m;
    }
    while (j < nv) {
        const int m = nv - j < 4 ? nv - j : 4;
        combine_group(n, 1, 1, zd, m, c + j, X + j, lo);
        j += m;
    }
}
// Terms whose coefficient is exactly 0 are left out (up to 32 terms): explicit Runge–Kutta tables have such
// zeros (Dormand–Prince's solution weights b_2 = b_7 = 0, its error weights' second one, a_72 = 0), and each
// saves a pass over an input. X[0] stays when it is z (z = c_0 z + …). The sum is then grouped over the kept
// terms only: the same bits for the same inputs, every time.
static int linear_combination(int nv, realtype *c, N_Vector *X, N_Vector z) {
    realtype kept_c[32];
    N_Vector kept_X[32];
    if (nv <= 32) {
        int m = 0;
        for (int j = 0; j < nv; j++) {
            if (c[j] != 0 || (j == 0 && DATA(X[0]) == DATA(z))) { kept_c[m] = c[j]; kept_X[m] = X[j]; m++; }
        }
        if (m == 0) { constant(0, z); return 0; }
        nv = m; c = kept_c; X = kept_X;
    }
    if (nv == 1) { scale(c[0], X[0], z); return 0; }
    if (nv == 2) { linear_sum(c[0], X[0], c[1], X[1], z); return 0; }
    struct combination_job job = { nv, c, X, DATA(z) };
    gf_parallel_run(linear_combination_range, &job, LEN(z));
    return 0;
}

// Z_j = a_j x + Y_j (Z_j may be Y_j).
struct scale_add_job { int nv; realtype *a; N_Vector x; N_Vector *Y, *Z; };
static void scale_add_multi_range(void *context, long lo, long hi, int part) {
    (void)part;
    struct scale_add_job *job = context;
    const sunindextype n = hi - lo;
    realtype *xd = DATA(job->x) + lo;
    for (int j = 0; j < job->nv; j++) {
        realtype *yd = DATA(job->Y[j]) + lo, *zd = DATA(job->Z[j]) + lo;
        if (zd == yd) axpby_inplace(n, 1.0, zd, job->a[j], xd);
        else if (zd == xd) axpby_inplace(n, job->a[j], zd, 1.0, yd);
        else axpby_distinct(n, job->a[j], xd, 1.0, yd, zd);
    }
}
static int scale_add_multi(int nv, realtype *a, N_Vector x, N_Vector *Y, N_Vector *Z) {
    struct scale_add_job job = { nv, a, x, Y, Z };
    gf_parallel_run(scale_add_multi_range, &job, LEN(x));
    return 0;
}

// d_j = x·Y_j, two Y at a time in one pass over x (each with its own four partial sums, so every d_j is
// the value `dot_product` gives).
static void dot_product_pair(sunindextype n, const realtype *restrict x, const realtype *restrict y, const realtype *restrict w,
                             realtype *dy, realtype *dw) {
    realtype s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    sunindextype i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i]; s1 += x[i + 1] * y[i + 1]; s2 += x[i + 2] * y[i + 2]; s3 += x[i + 3] * y[i + 3];
        t0 += x[i] * w[i]; t1 += x[i + 1] * w[i + 1]; t2 += x[i + 2] * w[i + 2]; t3 += x[i + 3] * w[i + 3];
    }
    for (; i < n; i++) { s0 += x[i] * y[i]; t0 += x[i] * w[i]; }
    *dy = (s0 + s1) + (s2 + s3);
    *dw = (t0 + t1) + (t2 + t3);
}

static int dot_product_multi(int nv, N_Vector x, N_Vector *Y, realtype *d) {
    int j = 0;
    for (; j + 2 <= nv; j += 2) dot_product_pair(LEN(x), DATA(x), DATA(Y[j]), DATA(Y[j + 1]), d + j, d + j + 1);
    if (j < nv) d[j] = dot_product_raw(LEN(x), DATA(x), DATA(Y[j]));  // single-threaded, as the pairs
    return 0;
}

static int linear_sum_vector_array(int nv, realtype a, N_Vector *X, realtype b, N_Vector *Y, N_Vector *Z) {
    for (int j = 0; j < nv; j++) linear_sum(a, X[j], b, Y[j], Z[j]);
    return 0;
}

static int scale_vector_array(int nv, realtype *c, N_Vector *X, N_Vector *Z) {
    for (int j = 0; j < nv; j++) scale(c[j], X[j], Z[j]);
    return 0;
}

static int const_vector_array(int nv, realtype c, N_Vector *Z) {
    for (int j = 0; j < nv; j++) constant(c, Z[j]);
    return 0;
}

static int wrms_norm_vector_array(int nv, N_Vector *X, N_Vector *W, realtype *norms) {
    for (int j = 0; j < nv; j++) norms[j] = wrms_norm(X[j], W[j]);
    return 0;
}

static int wrms_norm_mask_vector_array(int nv, N_Vector *X, N_Vector *W, N_Vector id, realtype *norms) {
    for (int j = 0; j < nv; j++) norms[j] = wrms_norm_mask(X[j], W[j], id);
    return 0;
}

void gf_vector_install_kernels(N_Vector v) {
    N_Vector_Ops ops = v->ops;
    ops->nvclone = clone_aligned;
    ops->nvlinearsum = linear_sum;
    ops->nvconst = constant;
    ops->nvprod = product;
    ops->nvdiv = divide;
    ops->nvscale = scale;
    ops->nvabs = absolute;
    ops->nvinv = inverse;
    ops->nvaddconst = add_constant;
    ops->nvdotprod = dot_product;
    ops->nvmaxnorm = max_norm;
    ops->nvwrmsnorm = wrms_norm;
    ops->nvwrmsnormmask = wrms_norm_mask;
    ops->nvmin = minimum;
    ops->nvwl2norm = wl2_norm;
    ops->nvl1norm = l1_norm;
    ops->nvcompare = compare;
    ops->nvinvtest = inverse_test;
    ops->nvdotprodlocal = dot_product;
    ops->nvmaxnormlocal = max_norm;
    ops->nvminlocal = minimum;
    ops->nvl1normlocal = l1_norm;
    ops->nvinvtestlocal = inverse_test;
    ops->nvwsqrsumlocal = weighted_square_sum;
    ops->nvwsqrsummasklocal = weighted_square_sum_mask;
    ops->nvlinearcombination = linear_combination;
    ops->nvscaleaddmulti = scale_add_multi;
    ops->nvdotprodmulti = dot_product_multi;
    ops->nvdotprodmultilocal = dot_product_multi;
    ops->nvlinearsumvectorarray = linear_sum_vector_array;
    ops->nvscalevectorarray = scale_vector_array;
    ops->nvconstvectorarray = const_vector_array;
    ops->nvwrmsnormvectorarray = wrms_norm_vector_array;
    ops->nvwrmsnormmaskvectorarray = wrms_norm_mask_vector_array;
}
