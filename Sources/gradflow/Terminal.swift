import CTerminal

/// Output of the executable: stdout for results, stderr for progress and errors, flushed at once.
enum Terminal {
    /// Where this thread's output goes instead of stdout and stderr, when bound (`capturing`).
    @TaskLocal static var capture: OutputCapture?

    static func write(_ text: String, toError: Bool = false) {
        if let capture {
            capture.text += text
            return
        }
        if toError { gf_write_stderr(text) } else { gf_write_stdout(text) }
    }

    /// What `body` writes (stdout and stderr, in order) on this thread, instead of printing it: the log of a
    /// sweep's point run on a worker thread, as its own process would have printed it.
    static func capturing(_ body: () throws -> Void) rethrows -> String {
        let capture = OutputCapture()
        try $capture.withValue(capture) { try body() }
        return capture.text
    }

    static func print(_ text: String = "") { write(text + "\n") }

    static func error(_ message: String) { write("gradflow: error: \(visible(message))\n", toError: true) }

    /// `text` with its control characters (C0 but tab, DEL, C1) written as `\u{…}`: a name taken from the user's input
    /// (a path with an escape sequence or a newline) can then neither drive the terminal nor split the one error line.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
    }

    static var stderrIsTerminal: Bool { gf_stderr_is_terminal() != 0 }

    /// Installs the SIGINT/SIGTERM handlers; `interrupted` then says whether one arrived.
    static func installInterruptHandlers() { gf_install_interrupt_handlers() }
    static var interrupted: Bool { gf_interrupt_signal() != 0 }

    /// `%.4g`-style formatting for reports.
    static func g(_ x: Double, _ digits: Int = 4) -> String { String(printf: "%.\(digits)g", x) }

    /// The command line as typed, quoted for a shell.
    static var commandLine: String { quoted(CommandLine.arguments) }

    /// Arguments as one command line, quoted for a shell.
    static func quoted(_ arguments: [String]) -> String {
        arguments.map { arg in
            arg.contains(where: { " \"'$\\".contains($0) }) ? "'" + arg.replacing("'", with: "'\\''") + "'" : arg
        }.joined(separator: " ")
    }
}

/// The text one thread wrote while `Terminal.capturing` bound it (only that thread touches it).
final class OutputCapture: @unchecked Sendable {
    var text = ""
}
