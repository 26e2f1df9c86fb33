// Rank-one and rank-two outer products written into a row-major block: the per-layer blocks of the
// gradient (G_k = b_k c_kᵀ) and of the Hessian-vector product (β_k c_kᵀ + b_k γ_kᵀ), MATH.md §1.2, §2.1.
//
// OpenBLAS' dgemm with an inner dimension of 1 or 2 packs its operands and, measured on 1000×1000
// blocks (benchmarks/bandwidth/outer_product.c), writes at half the speed of a plain loop: 20 ms for 10
// blocks against 10 ms. These loops write each entry once; blocks larger than the last-level cache use non-temporal
// stores, which skip reading the destination into the cache first.
#ifndef GRADFLOW_OUTER_PRODUCT_H
#define GRADFLOW_OUTER_PRODUCT_H

/// out[i·cols + j] = alpha · x[i] · y[j]   (i < rows, j < cols). `out` overlaps neither x nor y.
void gf_outer_product(int rows, int cols, double alpha, const double *x, const double *y, double *out);

/// out[i·cols + j] = alpha · (x1[i] · y1[j] + x2[i] · y2[j]).
void gf_outer_product2(int rows, int cols, double alpha, const double *x1, const double *y1,
                       const double *x2, const double *y2, double *out);

/// The outer products of all `layers` blocks at once: block k (rows[k] × cols[k], at out + offsets[k]) is
/// alpha · x1[k] y1[k]ᵀ, plus alpha · x2[k] y2[k]ᵀ when x2 is not NULL. With two kernel threads
/// (`gf_vector_set_threads`) and at least GF_PARALLEL_MIN elements in all, the blocks' rows are split between
/// the threads at the middle element, by whole rows: every entry is the same expression as in the one-block
/// functions, so the bits do not depend on the thread count. A network of many small layers (benchmark case C:
/// 20 blocks of 200×200) is split too, which the per-block functions cannot do.
void gf_outer_product_layers(int layers, const int *rows, const int *cols, const long *offsets, double alpha,
                             const double *const *x1, const double *const *y1, const double *const *x2,
                             const double *const *y2, double *out);
#endif
