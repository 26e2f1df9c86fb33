// OpenBLAS starts its thread pool in a constructor: one thread per core, which spin (sched_yield) for a
// while after any call, and a 128 MiB buffer. gradflow runs with one BLAS thread unless `--threads` asks for
// more (`BLASThreads.set`, which grows the pool then), so the pool is started with one thread: the
// constructor below runs first (priority 101; OpenBLAS's has none) and sets OPENBLAS_NUM_THREADS=1 when the
// user has not set it. A count the user set is left as it is.
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "startup.h"

static int gf_startup_set_blas_threads = 0;

__attribute__((constructor(101))) static void gf_startup_one_blas_thread(void) {
    if (getenv("OPENBLAS_NUM_THREADS") == NULL && setenv("OPENBLAS_NUM_THREADS", "1", 0) == 0) {
        gf_startup_set_blas_threads = 1;
    }
}

void gf_startup_restore_environment(void) {
    if (gf_startup_set_blas_threads) {
        unsetenv("OPENBLAS_NUM_THREADS");
        gf_startup_set_blas_threads = 0;
    }
}

static int gf_startup_sweep_point = 0;

int gf_startup_is_sweep_point(void) { return gf_startup_sweep_point; }

void gf_startup_follow_sweep_parent(void) {
    const char *value = getenv("GRADFLOW_SWEEP_PARENT");
    if (value == NULL) return;
    gf_startup_sweep_point = 1;
    const long parent = strtol(value, NULL, 10);
    unsetenv("GRADFLOW_SWEEP_PARENT");  // not passed on to this process's own children
    if (parent <= 0) return;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != (pid_t)parent) raise(SIGTERM);  // the sweep ended before the request was made
}
