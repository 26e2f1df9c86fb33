import Glibc

package extension String {
    /// `format` filled in by C's `vsnprintf` with `arguments`, in place of Foundation's `String(format:)` for the
    /// conversions GradFlow uses (`%g`, `%.Ng`, `%.Nf`, `%d`, `%%`): the same text, "nan" and "inf" included
    /// (`PrintfFormatTests` compares the two). Numbers use the C locale's "." (GradFlow never calls `setlocale`).
    init(printf format: String, _ arguments: any CVarArg...) {
        self = Self.printf(format, arguments)
    }

    private static func printf(_ format: String, _ arguments: [any CVarArg]) -> String {
        let length = Int(withVaList(arguments) { vsnprintf(nil, 0, format, $0) })
        guard length > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: length + 1)
        _ = withVaList(arguments) { list in vsnprintf(&bytes, length + 1, format, list) }
        return String(decoding: bytes[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
