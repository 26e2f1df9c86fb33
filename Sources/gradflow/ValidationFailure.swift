import Glibc
import GradFlow
import Synchronization

/// What a command's `validate()` refused with.
///
/// ArgumentParser wraps an error thrown by `validate()` in its own internal error type and would print it
/// with a usage hint and exit code 1; a command's `validate()` records the error here (`checking`), and
/// `Main` (or a caller that parses a command line itself) takes it back to report it as any other refusal:
/// one line, exit code 2. Kept per thread: parsing and taking happen on the same thread, and parallel callers
/// (a test suite, a sweep's checks) never take each other's refusal.
enum ValidationFailure {
    private static let stored = Mutex<[UInt: any Error & Sendable]>([:])
    private static var thread: UInt { UInt(pthread_self()) }

    /// Runs the checks of a `validate()`, recording the library or usage error they throw.
    static func checking(_ checks: () throws -> Void) throws {
        do { try checks() } catch let error as GradFlowError {
            stored.withLock { $0[thread] = error }
            throw error
        } catch let error as UsageError {
            stored.withLock { $0[thread] = error }
            throw error
        }
    }

    /// The recorded error, cleared.
    static func take() -> (any Error & Sendable)? { stored.withLock { $0.removeValue(forKey: thread) } }
}
