#define _GNU_SOURCE  // sched_getcpu, sched_setaffinity
#include "parallel.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

// One persistent worker thread. A job is a range function run on [0, h) by the caller and on [h, n) by the
// worker. The split never depends on whether the worker is free: a caller that finds it busy (another
// thread's integration) runs both halves itself, in order, so the bits of every result depend only on the
// thread count and n.
//
// Hand-off: after a job the worker polls for the next one for `spin_ns` (a gradient's sweeps post one
// matrix–vector product after another, each a few µs), then sleeps on a condition variable. A caller posts a
// job with an atomic ticket T and signals the condition variable only when the worker sleeps. The `sleeping`
// flag and the ticket are sequentially consistent: either the caller sees the worker asleep and signals it
// under the lock, or the worker sees the ticket before it waits.
//
// The second half is claimed, by the worker or by the caller once its own half is done, with one
// compare-and-swap of `claimed` from T − 1 to T: on a loaded machine the worker may not run for milliseconds,
// and the caller then does the second half itself instead of waiting. The worker reads the job before its
// claim and drops it when the claim fails (the caller has moved on, and may be writing the next job). A caller
// whose second half the worker claimed waits for `completed` = T, polling for `wait_ns` and then asleep on a second
// condition variable, which the worker signals when the caller says it waits (the same pattern as `sleeping`;
// yielding in a loop instead cost 10 s of system time in a case-E run on a loaded machine).
//
// Placement: the scheduler may wake the worker on the caller's core (measured: then every half waits for a
// time slice, or the caller takes every half back while the worker's polling takes half its core: two threads
// ran 1.2–1.7× slower than one). A worker that finds itself on the core the caller last posted from, when it
// sees a job or while it polls, moves off it (`sched_setaffinity` to the allowed cores but that one; one system
// call per such event, none while the two threads stay apart).

static int gf_threads = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER;  // held by the caller that uses the worker
static int started = 0;
static atomic_ulong posted = 0, completed = 0, claimed = 0;
static atomic_int sleeping = 0, caller_waiting = 0;
static atomic_int caller_cpu = -1;  // the core the current job was posted from
static cpu_set_t allowed;           // the worker's cores when it started (taskset, cgroups)
// The job, published by the ticket: relaxed atomics, because a worker that lost the claim may read a job the
// caller is already replacing (it then drops what it read).
static _Atomic(gf_range_fn) job_fn;
static _Atomic(void *) job_context;
static atomic_long job_lo, job_hi;

static const long spin_ns = 50000;  // the worker's polling after a job: 50 µs
static const long wait_ns = 20000;  // a caller's polling for the worker's half before it sleeps: 20 µs

static long elapsed_ns(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

// Moves the calling worker off `cpu` when it runs there and another allowed core exists.
static void leave_cpu(int cpu) {
    if (cpu < 0 || sched_getcpu() != cpu || !CPU_ISSET(cpu, &allowed) || CPU_COUNT(&allowed) < 2) return;
    cpu_set_t others = allowed;
    CPU_CLR(cpu, &others);
    sched_setaffinity(0, sizeof others, &others);
}

static void *worker_main(void *unused) {
    (void)unused;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) CPU_ZERO(&allowed);
    unsigned long seen = 0;
    for (;;) {
        unsigned long ticket = atomic_load(&posted);
        if (ticket == seen) {
            struct timespec start;
            clock_gettime(CLOCK_MONOTONIC, &start);
            for (unsigned spins = 1; (ticket = atomic_load(&posted)) == seen; spins++) {
                relax();
                if (spins % 64 == 0) {
                    leave_cpu(atomic_load_explicit(&caller_cpu, memory_order_relaxed));  // polling beside the caller slows it
                    if (elapsed_ns(&start) > spin_ns) break;
                }
            }
        }
        if (ticket == seen) {
            pthread_mutex_lock(&lock);
            atomic_store(&sleeping, 1);
            while ((ticket = atomic_load(&posted)) == seen) pthread_cond_wait(&wake, &lock);
            atomic_store(&sleeping, 0);
            pthread_mutex_unlock(&lock);
        }
        seen = ticket;
        gf_range_fn fn = atomic_load_explicit(&job_fn, memory_order_relaxed);
        void *context = atomic_load_explicit(&job_context, memory_order_relaxed);
        const long lo = atomic_load_explicit(&job_lo, memory_order_relaxed), hi = atomic_load_explicit(&job_hi, memory_order_relaxed);
        unsigned long expected = ticket - 1;
        leave_cpu(atomic_load_explicit(&caller_cpu, memory_order_relaxed));
        if (atomic_compare_exchange_strong(&claimed, &expected, ticket)) {
            fn(context, lo, hi, 1);
            atomic_store(&completed, ticket);
            if (atomic_load(&caller_waiting)) {
                pthread_mutex_lock(&lock);
                pthread_cond_signal(&finished);
                pthread_mutex_unlock(&lock);
            }
        }
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

void gf_parallel_run_at(gf_range_fn fn, void *context, long n, long h) {
    if (!started || pthread_mutex_trylock(&owner) != 0) {  // the worker is someone else's: same split, in order
        fn(context, 0, h, 0);
        fn(context, h, n, 1);
        return;
    }
    // The job's fields are written before the ticket (a sequentially consistent store) publishes them.
    atomic_store_explicit(&job_fn, fn, memory_order_relaxed);
    atomic_store_explicit(&job_context, context, memory_order_relaxed);
    atomic_store_explicit(&job_lo, h, memory_order_relaxed);
    atomic_store_explicit(&job_hi, n, memory_order_relaxed);
    atomic_store_explicit(&caller_cpu, sched_getcpu(), memory_order_relaxed);
    const unsigned long ticket = atomic_load(&posted) + 1;
    atomic_store(&posted, ticket);
    if (atomic_load(&sleeping)) {
        pthread_mutex_lock(&lock);
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&lock);
    }
    fn(context, 0, h, 0);
    unsigned long expected = ticket - 1;
    if (atomic_compare_exchange_strong(&claimed, &expected, ticket)) {
        fn(context, h, n, 1);  // the worker has not started it: do it here
    } else {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (unsigned spins = 1; atomic_load(&completed) != ticket; spins++) {
            relax();
            if (spins % 64 == 0 && elapsed_ns(&start) > wait_ns) {  // the worker was preempted: sleep until it is done
                pthread_mutex_lock(&lock);
                atomic_store(&caller_waiting, 1);
                while (atomic_load(&completed) != ticket) pthread_cond_wait(&finished, &lock);
                atomic_store(&caller_waiting, 0);
                pthread_mutex_unlock(&lock);
                break;
            }
        }
    }
    pthread_mutex_unlock(&owner);
}

void gf_parallel_run(gf_range_fn fn, void *context, long n) {
    if (!gf_parallel_split(n)) { fn(context, 0, n, 0); return; }
    gf_parallel_run_at(fn, context, n, gf_parallel_half(n));
}

int gf_allowed_cpus(void) {
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return 1;
    const int count = CPU_COUNT(&mask);
    return count > 0 ? count : 1;
}
