#include "outer_product.h"
#include <stdint.h>

// Blocks beyond this many bytes bypass the cache (non-temporal stores); below it the block is likely to
// be read again soon (by CVODE's next vector operation) and stays cached.
static const double streaming_bytes = 16.0 * 1024 * 1024;

static int aligned_rows(const double *out, int cols) {
    return ((uintptr_t)out % 32 == 0) && (cols % 4 == 0);
}

void gf_outer_product(int rows, int cols, double alpha, const double *restrict x, const double *restrict y,
                      double *restrict out) {
    const int stream = (double)rows * cols * 8 > streaming_bytes && aligned_rows(out, cols);
    for (int i = 0; i < rows; i++) {
        const double a = alpha * x[i];
        double *restrict row = out + (long)i * cols;
        if (stream) {
            for (int j = 0; j < cols; j++) __builtin_nontemporal_store(a * y[j], row + j);
        } else {
            for (int j = 0; j < cols; j++) row[j] = a * y[j];
        }
    }
}

void gf_outer_product2(int rows, int cols, double alpha, const double *restrict x1, const double *restrict y1,
                       const double *restrict x2, const double *restrict y2, double *restrict out) {
    const int stream = (double)rows * cols * 8 > streaming_bytes && aligned_rows(out, cols);
    for (int i = 0; i < rows; i++) {
        const double a = alpha * x1[i], b = alpha * x2[i];
        double *restrict row = out + (long)i * cols;
        if (stream) {
            for (int j = 0; j < cols; j++) __builtin_nontemporal_store(a * y1[j] + b * y2[j], row + j);
        } else {
            for (int j = 0; j < cols; j++) row[j] = a * y1[j] + b * y2[j];
        }
    }
}
