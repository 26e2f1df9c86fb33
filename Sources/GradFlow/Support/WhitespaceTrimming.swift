package extension StringProtocol {
    /// The text without leading and trailing spaces and tabs: Foundation's
    /// `trimmingCharacters(in: .whitespaces)` (Unicode's space separators, category Zs, U+0009 and, as
    /// CoreFoundation's set has it, U+200B), scalar by scalar.
    func trimmingWhitespace() -> String { trimmingScalars(where: Self.isWhitespace) }

    /// The text without leading and trailing white space and line ends: Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` (category Zs, U+0009, U+200B, U+000A–U+000D, U+0085, U+2028,
    /// U+2029), scalar by scalar.
    func trimmingWhitespaceAndNewlines() -> String {
        trimmingScalars { Self.isWhitespace($0) || Self.isNewline($0) }
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar == "\u{200B}" || scalar.properties.generalCategory == .spaceSeparator
    }

    private static func isNewline(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }

    private func trimmingScalars(where trimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = Substring(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !trimmed($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !trimmed($0) })!
        return String(scalars[first...last])
    }
}
