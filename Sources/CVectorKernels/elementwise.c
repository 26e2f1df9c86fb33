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
