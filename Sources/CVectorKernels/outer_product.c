#include "outer_product.h"
#include "parallel.h"
#include <stdint.h>

// Blocks beyond this many bytes bypass the cache (non-temporal stores); below it the block is likely to
// be read again soon (by CVODE's next vector operation) and stays cached.
static const double streaming_bytes = 16.0 * 1024 * 1024;

static int aligned_rows(const double *out, int cols) {
    return ((uintptr_t)out % 32 == 0) && (cols % 4 == 0);
}

// One outer-product job; a range [lo, hi) of the block's elements is done as whole rows
// [lo / cols, hi / cols) (the last range to the last row), so every row is computed by one thread, in the
// same order whatever the thread count: the bits do not depend on it.
typedef struct {
    int rows, cols, stream;
    double alpha;
    const double *x1, *y1, *x2, *y2;
    double *out;
} outer_job;

static void outer_rows(void *context, long lo, long hi, int part) {
    (void)part;
    const outer_job *job = (const outer_job *)context;
    const int cols = job->cols;
    const long first = lo / cols, last = (hi == (long)job->rows * cols) ? job->rows : hi / cols;
    for (long i = first; i < last; i++) {
        double *restrict row = job->out + i * cols;
        const double a = job->alpha * job->x1[i];
        if (job->x2) {
            const double b = job->alpha * job->x2[i];
            const double *restrict y1 = job->y1, *restrict y2 = job->y2;
            if (job->stream) {
                for (int j = 0; j < cols; j++) __builtin_nontemporal_store(a * y1[j] + b * y2[j], row + j);
            } else {
                for (int j = 0; j < cols; j++) row[j] = a * y1[j] + b * y2[j];
            }
        } else {
            const double *restrict y = job->y1;
            if (job->stream) {
                for (int j = 0; j < cols; j++) __builtin_nontemporal_store(a * y[j], row + j);
            } else {
                for (int j = 0; j < cols; j++) row[j] = a * y[j];
            }
        }
    }
#if defined(__x86_64__)
    // Non-temporal stores are weakly ordered: fence them before another thread reads the block.
    if (job->stream) __builtin_ia32_sfence();
#endif
}

void gf_outer_product(int rows, int cols, double alpha, const double *restrict x, const double *restrict y,
                      double *restrict out) {
    const int stream = (double)rows * cols * 8 > streaming_bytes && aligned_rows(out, cols);
    outer_job job = {rows, cols, stream, alpha, x, y, 0, 0, out};
    gf_parallel_run(outer_rows, &job, (long)rows * cols);
}

void gf_outer_product2(int rows, int cols, double alpha, const double *restrict x1, const double *restrict y1,
                       const double *restrict x2, const double *restrict y2, double *restrict out) {
    const int stream = (double)rows * cols * 8 > streaming_bytes && aligned_rows(out, cols);
    outer_job job = {rows, cols, stream, alpha, x1, y1, x2, y2, out};
    gf_parallel_run(outer_rows, &job, (long)rows * cols);
}

// All layers' outer products as one job over the concatenated rows: element e of [0, N) lies in layer k when
// start[k] ≤ e < start[k + 1] (start[k] = Σ_{j<k} rows[j]·cols[j]); a range is done as the whole rows that begin in it.
typedef struct {
    int layers;
    const int *rows, *cols;
    const long *offsets;
    double alpha;
    const double *const *x1, *const *y1, *const *x2, *const *y2;
    double *out;
    long total;
} layers_job;

static void layer_rows(void *context, long lo, long hi, int part) {
    (void)part;
    const layers_job *job = (const layers_job *)context;
    long start = 0;
    for (int k = 0; k < job->layers; k++) {
        const long size = (long)job->rows[k] * job->cols[k], end = start + size;
        if (end > lo && start < hi && size > 0) {
            // The rows of layer k that begin in [lo, hi): row r begins at start + r·cols.
            const int cols = job->cols[k];
            const long first = lo <= start ? 0 : (lo - start + cols - 1) / cols;
            const long last = hi >= end ? job->rows[k] : (hi - start + cols - 1) / cols;
            if (first < last) {
                outer_job one = {job->rows[k], cols, (double)size * 8 > streaming_bytes && aligned_rows(job->out + job->offsets[k], cols),
                                 job->alpha, job->x1[k], job->y1[k], job->x2 ? job->x2[k] : 0, job->y2 ? job->y2[k] : 0,
                                 job->out + job->offsets[k]};
                outer_rows(&one, first * cols, last == job->rows[k] ? size : last * cols, 0);
            }
        }
        start = end;
    }
}

void gf_outer_product_layers(int layers, const int *rows, const int *cols, const long *offsets, double alpha,
                             const double *const *x1, const double *const *y1, const double *const *x2,
                             const double *const *y2, double *out) {
    long total = 0;
    for (int k = 0; k < layers; k++) total += (long)rows[k] * cols[k];
    layers_job job = {layers, rows, cols, offsets, alpha, x1, y1, x2, y2, out, total};
    gf_parallel_run(layer_rows, &job, total);
}
