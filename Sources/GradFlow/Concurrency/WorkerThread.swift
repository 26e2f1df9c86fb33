import Glibc

/// Starts detached POSIX threads with a chosen stack size, in place of Foundation's `Thread`.
enum WorkerThread {
    /// Runs `body` on a new detached thread whose stack is `stackSize` bytes (GradFlow's sweeps give 8 MiB, as
    /// the main thread's: LAPACK keeps its local arrays on the stack). Traps if the thread cannot be created,
    /// as `Thread.start()` does.
    static func start(stackSize: Int, _ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            box.body()
            return nil
        }, context)
        if status != 0 {
            Unmanaged<Box>.fromOpaque(context).release()
            fatalError("pthread_create failed: \(String(cString: strerror(status)))")
        }
    }
}
