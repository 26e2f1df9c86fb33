import GradFlow
import Synchronization

/// What a command's `validate()` refused with.
///
/// ArgumentParser wraps an error thrown by `validate()` in its own internal error type and would print it
/// with a usage hint and exit code 1; a command's `validate()` records the error here (`checking`), and
/// `Main` (or a caller that parses a command line itself) takes it back to report it as any other refusal:
/// one line, exit code 2.
enum ValidationFailure {
    private static let stored = Mutex<(any Error & Sendable)?>(nil)

    /// Runs the checks of a `validate()`, recording the library or usage error they throw.
    static func checking(_ checks: () throws -> Void) throws {
        do { try checks() } catch let error as GradFlowError {
            stored.withLock { $0 = error }
            throw error
        } catch let error as UsageError {
            stored.withLock { $0 = error }
            throw error
        }
    }

    /// The recorded error, cleared.
    static func take() -> (any Error & Sendable)? { stored.withLock { value in defer { value = nil }; return value } }
}
