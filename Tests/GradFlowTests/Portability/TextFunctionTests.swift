import Foundation
@testable import GradFlow
@testable import gradflow
import Testing

/// The small text functions that replaced Foundation's in GradFlow and gradflow, each against the Foundation call
/// it replaced.
@Suite("Text functions: Foundation's results without Foundation")
struct TextFunctionTests {
    static let texts = [
        "", " ", "\t", "x", " x ", "\tx\t", "  a b  ", "\u{00A0}x\u{3000}", "\u{2009}1.5\u{202F}", "x\n", "\r\n1,2\r\n",
        "\u{85}x\u{2028}", "\u{2029} y \u{0B}\u{0C}", " \u{301}x", "x \u{301}", "é ", "\u{FEFF}x", "\u{200B}x\u{200B}", "a\u{0}",
        " \n \t ", "1e-3 ", " gaussian,residual ",
    ]

    @Test("trimmingWhitespace and trimmingWhitespaceAndNewlines equal trimmingCharacters(in:)", arguments: texts)
    func trimming(text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
        #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
        let sub = Substring(text)
        #expect(sub.trimmingWhitespace() == sub.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
    }

    @Test("every Unicode scalar trims as CharacterSet.whitespaces / .whitespacesAndNewlines says")
    func everyScalar() {
        for value in UInt32(0)...0x10_FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = "\(scalar)x\(scalar)"
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces), "U+\(String(value, radix: 16))")
            #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines), "U+\(String(value, radix: 16))")
        }
    }

    @Test("Figure.bracingSubscripts equals the regular expression _([A-Za-z0-9]+) → _{$1}", arguments: [
        "", "_", "__", "x_", "_min", "λ_min(H)", "a_b_c", "a__b", "_1_2", "t_{x}", "σ_1/σ_r", "x_é", "x_a\u{301}", "loss_", "_-_a",
        "/tmp/run_00001.h5", "\"q_uote\"", "mode_strength_9Z",
    ])
    func subscripts(text: String) {
        let regex = text.replacingOccurrences(of: "_([A-Za-z0-9]+)", with: "_{$1}", options: .regularExpression)
        #expect(Figure.bracingSubscripts(text) == regex, "\(text.debugDescription)")
    }

    @Test("padded(toLength:) equals padding(toLength:withPad: \" \", startingAt: 0)", arguments: [
        "", "a", "time", "λ_min(H)", "sharpness_over_threshold", "–", "é\u{301}", "🙂x", "x🙂", "1.234e-05",
    ])
    func padding(text: String) {
        for length in [0, 1, 2, 3, 5, 8, 14, 17, 23, 30] {
            #expect(text.padded(toLength: length) == text.padding(toLength: length, withPad: " ", startingAt: 0),
                    "\(text.debugDescription) \(length)")
        }
    }

    @Test("SweepCommand.firstQuotedOption equals the first match of '-[-A-Za-z0-9]+ without its quote", arguments: [
        "", "Unknown option '--bogus'", "Missing value for '--steps <steps>'", "'-x' and '--y'", "no quote --steps", "'-'", "'--'",
        "'- x'", "x'-é'", "Error: '--t-final' 'x'", "''--a'", "'-a_b'",
    ])
    func quotedOption(message: String) {
        let regex = message.range(of: "'-[-A-Za-z0-9]+", options: .regularExpression).map { String(message[$0].dropFirst()) }
        #expect(SweepCommand.firstQuotedOption(in: message) == regex, "\(message.debugDescription)")
    }
}
