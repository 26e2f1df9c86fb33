#include "elementwise.h"
#include <math.h>

void gf_gelu(int n, const double *z, double *h, double *d1, double *d2) {
    const double c = 0.79788456080286535588;  // √(2/π)
    const double kappa = 0.044715;
    for (int i = 0; i < n; i++) {
        const double x = z[i];
        const double u = c * (x + kappa * x * x * x);
        const double t = tanh(u);
        const double s = 1.0 - t * t;
        const double du = c * (1.0 + 3.0 * kappa * x * x);
        if (h) h[i] = 0.5 * x * (1.0 + t);
        if (d1) d1[i] = 0.5 * (1.0 + t) + 0.5 * x * s * du;
        if (d2) d2[i] = s * du + 0.5 * x * s * (6.0 * c * kappa * x - 2.0 * t * du * du);
    }
}

void gf_hadamard(int n, const double *a, const double *b, double *out) {
    for (int i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void gf_hadamard_sum(int n, const double *a, const double *b, const double *c, const double *d, const double *e,
                     double *out) {
    for (int i = 0; i < n; i++) out[i] = a[i] * b[i] + c[i] * d[i] * e[i];
}

void gf_hadamard_accumulate(int n, const double *a, const double *b, double *out) {
    for (int i = 0; i < n; i++) out[i] += a[i] * b[i];
}

void gf_gelu_third(int n, const double *z, double *d3) {
    const double c = 0.79788456080286535588;  // √(2/π)
    const double kappa = 0.044715;
    for (int i = 0; i < n; i++) {
        const double x = z[i];
        const double t = tanh(c * (x + kappa * x * x * x));
        const double s = 1.0 - t * t;
        const double du = c * (1.0 + 3.0 * kappa * x * x), d2u = 6.0 * c * kappa * x, d3u = 6.0 * c * kappa;
        const double t1 = s * du;
        const double inner = d2u - 2.0 * t * du * du;
        const double t2 = s * inner;
        const double t3 = -2.0 * t * t1 * inner + s * (d3u - 2.0 * t1 * du * du - 4.0 * t * du * d2u);
        d3[i] = 1.5 * t2 + 0.5 * x * t3;
    }
}

void gf_gelu_second_tangent(int n, const double *d1, const double *d2, const double *zdot, const double *zddot, double *out) {
    for (int i = 0; i < n; i++) out[i] = d2[i] * zdot[i] * zdot[i] + d1[i] * zddot[i];
}

void gf_gelu_second_adjoint(int n, const double *gddot, const double *d1, const double *gdot, const double *d2, const double *zdot,
                            const double *g, const double *d3, const double *zddot, double *out) {
    for (int i = 0; i < n; i++) {
        out[i] = gddot[i] * d1[i] + 2.0 * gdot[i] * d2[i] * zdot[i] + g[i] * (d3[i] * zdot[i] * zdot[i] + d2[i] * zddot[i]);
    }
}
