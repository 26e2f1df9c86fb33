import Foundation
import GradFlow
import Testing

/// `String(printf:)` against Foundation's `String(format:)`, for every format GradFlow and gradflow write.
@Suite("String(printf:): Foundation's String(format:) without Foundation")
struct PrintfFormatTests {
    static let values: [Double] = [
        0, -0.0, 1, -1, 0.5, 1.0 / 3, 2.5, 0.05, 0.000123456, 999.95, 123456789, 1e15, 1e21, -7.25e-8, 1e-300,
        .leastNonzeroMagnitude, 1e300, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .nan, -.nan, .infinity, -.infinity,
        1_073_741_824 * 15.96, 0.9999999999, 1e-5, 99999.5,
    ]

    /// The fixed formats of the sources (CentralFlowDynamics, MemoryEstimate, GradientDescent) and `%.Ng` for every
    /// digit count `VerdictText.plain` and `Terminal.g` are given.
    static let formats = ["%.10g", "%.2g", "%.3g", "%.1f", "more than 90%% of this machine's %.1f GiB; "]
        + (1...17).map { "%.\($0)g" }

    @Test("one Double", arguments: formats)
    func oneDouble(format: String) {
        for x in Self.values {
            #expect(String(printf: format, x) == String(format: format, x), "\(format) \(x)")
        }
    }

    @Test("a Double and an Int (the step count beyond Double's range)")
    func doubleAndInt() {
        for x in Self.values {
            for n in [0, 1, -1, 308, 310, 5000, Int(Int32.max)] {
                #expect(String(printf: "%.3ge+%d", x, n) == String(format: "%.3ge+%d", x, n), "\(x) \(n)")
            }
        }
    }
}
