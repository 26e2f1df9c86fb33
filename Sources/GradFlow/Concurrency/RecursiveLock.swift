import Glibc

/// A process-local recursive mutex over `pthread_mutex_t` (`PTHREAD_MUTEX_RECURSIVE`): the thread holding it may
/// take it again, and must release it as many times as it took it. It stands in for Foundation's
/// `NSRecursiveLock`, which GradFlow does not load.
final class RecursiveLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// A new, unlocked recursive mutex.
    init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        let status = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Takes the mutex, waiting while another thread holds it (immediately if this thread holds it already).
    func lock() { pthread_mutex_lock(mutex) }

    /// Releases one `lock()` of this thread.
    func unlock() { pthread_mutex_unlock(mutex) }
}
