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

/// σ'''(x) of the tanh-form GELU, for the third derivative of the risk (MATH.md §11): with t' = (1 − t²)u',
/// t'' = (1 − t²)(u'' − 2tu'²), t''' = −2tt'(u'' − 2tu'²) + (1 − t²)(u''' − 2t'u'² − 4tu'u''), u''' = 6cκ,
///   d3 = σ'''(x) = (3/2)t'' + ½x t'''.
void gf_gelu_third(int n, const double *z, double *d3);

/// The second tangent of H = σ(Z) along one direction: out[i] = σ''·Ż² + σ'·Z̈ (d2, zdot, d1, zddot).
void gf_gelu_second_tangent(int n, const double *d1, const double *d2, const double *zdot, const double *zddot, double *out);

/// The second tangent of Δ = Γ ⊙ σ'(Z) along one direction:
/// out[i] = Γ̈σ' + 2Γ̇σ''Ż + Γ(σ'''Ż² + σ''Z̈).
void gf_gelu_second_adjoint(int n, const double *gddot, const double *d1, const double *gdot, const double *d2, const double *zdot,
                            const double *g, const double *d3, const double *zddot, double *out);
#endif
