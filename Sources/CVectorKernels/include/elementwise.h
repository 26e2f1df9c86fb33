// Element-wise kernels of the GELU network (MATH.md §6.3): the activation with its first two
// derivatives in one pass, and the Hadamard products of its backward and tangent sweeps. BLAS has no
// element-wise products; these loops are compiled with -O3 like the vector kernels.
#ifndef GRADFLOW_ELEMENTWISE_H
#define GRADFLOW_ELEMENTWISE_H

/// The tanh-form GELU (jax.nn.gelu with approximate=True) of z[0..<n]: with c = √(2/π), κ = 0.044715,
/// u = c(x + κx³), t = tanh u, u' = c(1 + 3κx²), u'' = 6cκx,
///   h  = σ(x)   = ½x(1 + t),
///   d1 = σ'(x)  = ½(1 + t) + ½x(1 − t²)u',
///   d2 = σ''(x) = (1 − t²)u' + ½x(1 − t²)(u'' − 2tu'²).
/// Any of h, d1, d2 may be NULL (not computed).
void gf_gelu(int n, const double *z, double *h, double *d1, double *d2);

/// out[i] = a[i] · b[i]. `out` may alias `a`.
void gf_hadamard(int n, const double *a, const double *b, double *out);

/// out[i] += a[i] · b[i]. `out` overlaps neither a nor b.
void gf_hadamard_accumulate(int n, const double *a, const double *b, double *out);

/// out[i] = a[i] · b[i] + c[i] · d[i] · e[i]. `out` may alias `a`.
void gf_hadamard_sum(int n, const double *a, const double *b, const double *c, const double *d, const double *e,
                     double *out);
#endif
