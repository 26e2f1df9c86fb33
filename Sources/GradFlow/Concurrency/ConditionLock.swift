import Glibc

/// A mutex with one condition variable (`pthread_mutex_t` + `pthread_cond_t`), as Foundation's `NSCondition`:
/// `lock()`/`unlock()` around the shared state, `broadcast()` after changing it, `wait(seconds:)` to sleep until
/// a broadcast or a timeout. Not recursive. The timeout is measured on `CLOCK_MONOTONIC`, so a change of the
/// wall clock neither shortens nor lengthens a wait.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// A new, unlocked mutex and its condition.
    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init failed")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Takes the mutex.
    func lock() { pthread_mutex_lock(mutex) }

    /// Releases the mutex.
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Wakes every thread waiting in `wait(seconds:)`; call it holding the mutex.
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Releases the mutex, sleeps until a `broadcast()` or until `seconds` have passed, and takes the mutex again;
    /// call it holding the mutex. False when the time ran out. As with any condition variable the wake-up may
    /// be spurious: the caller re-checks its state.
    @discardableResult
    func wait(seconds: Double) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let whole = seconds.rounded(.down)
        var nanoseconds = Int(deadline.tv_nsec) + Int(((seconds - whole) * 1e9).rounded())
        deadline.tv_sec += Int(whole) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        deadline.tv_nsec = nanoseconds
        return pthread_cond_timedwait(condition, mutex, &deadline) == 0
    }
}
