import CTerminal
import Foundation

/// Output of the executable: stdout for results, stderr for progress and errors, flushed at once.
enum Terminal {
    static func write(_ text: String, toError: Bool = false) {
        if toError { gf_write_stderr(text) } else { gf_write_stdout(text) }
    }

    static func print(_ text: String = "") { write(text + "\n") }

    static func error(_ message: String) { write("gradflow: error: \(message)\n", toError: true) }

    static var stderrIsTerminal: Bool { gf_stderr_is_terminal() != 0 }

    /// Installs the SIGINT/SIGTERM handlers; `interrupted` then says whether one arrived.
    static func installInterruptHandlers() { gf_install_interrupt_handlers() }
    static var interrupted: Bool { gf_interrupt_signal() != 0 }

    /// `%.4g`-style formatting for reports.
    static func g(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }

    /// The command line as typed, quoted for a shell.
    static var commandLine: String {
        CommandLine.arguments.map { arg in
            arg.contains(where: { " \"'$\\".contains($0) }) ? "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'" : arg
        }.joined(separator: " ")
    }
}
