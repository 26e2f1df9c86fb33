// Matrix–vector products of the gradient's and the Hessian-vector product's sweeps (MATH.md §1.3, §2.1),
// split over the two kernel threads (`gf_vector_set_threads(2)`) for blocks of at least GF_GEMV_SPLIT_MIN
// entries (issue 17, item 4: OpenBLAS leaves 200×200 products on one thread, and case C's gradient is 2L of
// them in sequence).
//
// Every entry of y is computed by the same operations in the same order whatever the thread count and the
// split: the products give the same bits on one and two threads (tested). The vector loops use AVX2 with
// fused multiply-adds where the processor has them; the portable loop performs the same fused operations in
// the same order (C's `fma`), so it gives the same bits, slower.
#ifndef GRADFLOW_MATRIX_VECTOR_H
#define GRADFLOW_MATRIX_VECTOR_H

/// The smallest block (rows × columns) whose product is split over two threads: 2^14 entries (128 KiB), a
/// product of ≈ 5 µs on one core, where the hand-off to a waiting worker (≈ 1 µs) is a small part.
#define GF_GEMV_SPLIT_MIN 16384L

/// y = alpha·A x + beta·y, beta 0 (y is only written) or 1, for the row-major m×n block A (leading dimension n):
/// y_i = fma-chain over 4 lanes (j mod 4) of a_ij·x_j, the lanes added as (l0 + l1) + (l2 + l3), then the
/// last n mod 4 terms; then alpha·that (+ y_i). 2mn flops, one pass over A. Rows split between the threads.
void gf_gemv_n(int m, int n, double alpha, const double *A, const double *x, int beta, double *y);

/// y = alpha·Aᵀx + beta·y, beta 0 or 1, for the row-major m×n block A (y has n entries): y_j starts at beta·y_j
/// and takes fma(alpha·x_i, a_ij, y_j) for i = 0…m−1 in order. 2mn flops, one pass over A. Columns split between
/// the threads at a multiple of 8.
void gf_gemv_t(int m, int n, double alpha, const double *A, const double *x, int beta, double *y);
#endif
