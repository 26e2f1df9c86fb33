#include "parallel.h"
#include <pthread.h>

// One persistent worker thread, asleep on a condition variable between jobs. A job is a range function
// run on [0, h) by the caller and on [h, n) by the worker, h = the half rounded down to a multiple of 8
// doubles (64 bytes, so both halves start aligned). The split never depends on whether the worker is
// free: a caller that finds it busy (another thread's integration) runs both halves itself, in order,
// so the bits of every result depend only on the thread count and n.

static int gf_threads = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER;  // held by the caller that uses the worker
static int started = 0;
static unsigned long posted = 0, completed = 0;
static gf_range_fn job_fn;
static void *job_context;
static long job_lo, job_hi;

static void *worker_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&lock);
    unsigned long seen = 0;
    for (;;) {
        while (posted == seen) pthread_cond_wait(&wake, &lock);
        seen = posted;
        gf_range_fn fn = job_fn;
        void *context = job_context;
        long lo = job_lo, hi = job_hi;
        pthread_mutex_unlock(&lock);
        fn(context, lo, hi, 1);
        pthread_mutex_lock(&lock);
        completed = seen;
        pthread_cond_signal(&finished);
    }
    return NULL;
}

void gf_vector_set_threads(int threads) {
    gf_threads = threads >= 2 ? 2 : 1;
    if (gf_threads == 2) {
        pthread_mutex_lock(&lock);
        if (!started) {
            pthread_t thread;
            if (pthread_create(&thread, NULL, worker_main, NULL) == 0) { pthread_detach(thread); started = 1; }
            else gf_threads = 1;
        }
        pthread_mutex_unlock(&lock);
    }
}

int gf_vector_threads(void) { return gf_threads; }

int gf_parallel_split(long n) { return gf_threads >= 2 && n >= GF_PARALLEL_MIN; }

long gf_parallel_half(long n) { return (n / 2) & ~7L; }

void gf_parallel_run(gf_range_fn fn, void *context, long n) {
    if (!gf_parallel_split(n)) { fn(context, 0, n, 0); return; }
    const long h = gf_parallel_half(n);
    if (!started || pthread_mutex_trylock(&owner) != 0) {  // the worker is someone else's: same split, in order
        fn(context, 0, h, 0);
        fn(context, h, n, 1);
        return;
    }
    pthread_mutex_lock(&lock);
    job_fn = fn; job_context = context; job_lo = h; job_hi = n;
    const unsigned long ticket = ++posted;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    fn(context, 0, h, 0);
    pthread_mutex_lock(&lock);
    while (completed != ticket) pthread_cond_wait(&finished, &lock);
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&owner);
}
