// Two-thread execution of GradFlow's N_Vector kernels for large vectors (issue 17, item 4).
//
// With `gf_vector_set_threads(2)`, an operation on n ≥ GF_PARALLEL_MIN doubles runs its first half on the
// calling thread and its second half on one persistent worker thread; reductions add the two halves' sums
// in that fixed order. Below the threshold, or with one thread, every operation is the single-threaded
// loop, bit for bit. The split depends only on n, so the same thread count gives the same bits.
#ifndef GRADFLOW_PARALLEL_H
#define GRADFLOW_PARALLEL_H

/// The smallest vector length split over two threads: 2^18 doubles (2 MiB), where one operation takes
/// ≈ 0.1 ms and the hand-off (≈ 1 µs to a worker still polling after its last job, 10–30 µs to a sleeping
/// one) is a small fraction. Benchmark case C (P = 760,200) and E are
/// above it; A, B and D are below.
#define GF_PARALLEL_MIN 262144L

/// Sets the kernels' thread count (1 or 2; larger counts mean 2). Starts the worker on first use.
void gf_vector_set_threads(int threads);
/// The kernels' thread count.
int gf_vector_threads(void);

/// A range function: processes [lo, hi); `part` is 0 for the first half (or the whole), 1 for the second.
typedef void (*gf_range_fn)(void *context, long lo, long hi, int part);
/// Whether an operation on n doubles is split.
int gf_parallel_split(long n);
/// The split point of n: half, rounded down to a multiple of 8.
long gf_parallel_half(long n);
/// Runs fn on [0, n): on two threads (halves [0, h) and [h, n)) when `gf_parallel_split(n)`, else fn(context, 0, n, 0).
void gf_parallel_run(gf_range_fn fn, void *context, long n);
/// Runs fn on [0, h) (the calling thread, part 0) and [h, n) (the worker, part 1), whatever n; on one thread in that
/// order when the worker is busy with another caller's job. For splits other than the half (matrix–vector products).
void gf_parallel_run_at(gf_range_fn fn, void *context, long n, long h);
/// The CPUs the calling thread may run on (its affinity mask, `taskset`); 1 when it cannot be read.
int gf_allowed_cpus(void);
#endif
