/// A refused option that only the executable knows (`--jobs`, `--rows`, a list it parses), or a library error
/// already worded for the options the user typed: one line, exit code 2.
struct UsageError: Error, Sendable, CustomStringConvertible {
    let message: String

    init(message: String) { self.message = message }

    /// `option value: reason`, the form of every option's message.
    init(option: String, value: String, reason: String) { message = "\(option) \(value): \(reason)" }

    var description: String { message }
}
