/* Memory bandwidth of a linear sum z = 2a + 3b (24 bytes per element) on one and on two threads, for
   the vector sizes of benchmark cases B, C and E. It measures what multithreaded N_Vector kernels could
   gain (GradFlow's kernels are single-threaded today; see the README's performance section).
   Build and run:  gcc -O3 -fopenmp -o /tmp/threads threads.c && /tmp/threads 22550 760200 10001000 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    for (int arg = 1; arg < argc; arg++) {
        long n = atol(argv[arg]);
        double *x[30];
        for (int j = 0; j < 30; j++) {
            if (posix_memalign((void **)&x[j], 64, n * sizeof(double)) != 0) return 1;
            for (long i = 0; i < n; i++) x[j][i] = 1.0 / (i + j + 1);
        }
        int reps = (int)(2e9 / (n * 24.0));
        if (reps < 5) reps = 5;
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            double start = now();
            for (int r = 0; r < reps; r++) {
                double *a = x[r % 28], *b = x[(r + 1) % 28], *z = x[(r + 2) % 28];
#pragma omp parallel for schedule(static)
                for (long i = 0; i < n; i++) z[i] = 2 * a[i] + 3 * b[i];
            }
            double t = (now() - start) / reps;
            printf("n = %9ld  threads %d  linear sum %10.1f us  %5.1f GB/s\n", n, threads, t * 1e6, 24.0 * n / t / 1e9);
        }
        for (int j = 0; j < 30; j++) free(x[j]);
    }
    return 0;
}
