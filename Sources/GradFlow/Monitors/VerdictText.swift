/// Text that reports numbers: literal pieces and numbers kept as numbers, each with the significant digits
/// it is meaningful to. A verdict's bound and note are `VerdictText`, so that the library never formats a
/// number: the command line renders them (`rendered(_:)`), and a file stores the text beside the numbers.
///
/// Written with string interpolation: `"smallest margin \(margin, digits: 3)"`.
public struct VerdictText: Sendable, Equatable, ExpressibleByStringInterpolation {
    public enum Piece: Sendable, Equatable {
        case text(String)
        case number(Double, digits: Int)
    }

    public var pieces: [Piece]

    public init(pieces: [Piece]) { self.pieces = pieces }

    public init(stringLiteral value: String) { pieces = value.isEmpty ? [] : [.text(value)] }

    public init(stringInterpolation: StringInterpolation) { pieces = stringInterpolation.pieces }

    public struct StringInterpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { if !literal.isEmpty { pieces.append(.text(literal)) } }
        /// A number, shown to `digits` significant digits.
        public mutating func appendInterpolation(_ value: Double, digits: Int) { pieces.append(.number(value, digits: digits)) }
        public mutating func appendInterpolation(_ value: Int) { pieces.append(.text(String(value))) }
        public mutating func appendInterpolation(_ text: String) { if !text.isEmpty { pieces.append(.text(text)) } }
        public mutating func appendInterpolation(_ text: VerdictText) { pieces += text.pieces }
    }

    /// No text.
    public static let empty = VerdictText(pieces: [])

    public var isEmpty: Bool { pieces.isEmpty }

    /// The numbers it reports, in order.
    public var numbers: [Double] {
        pieces.compactMap { if case let .number(x, _) = $0 { return x } else { return nil } }
    }

    /// The text with each number written by `format(value, digits)`.
    public func rendered(_ format: (Double, Int) -> String) -> String {
        pieces.map { piece in
            switch piece {
            case let .text(s): return s
            case let .number(x, digits): return format(x, digits)
            }
        }.joined()
    }

    /// The text with each number as C's `%.{digits}g` (the closing table's convention; also what a
    /// trajectory file stores beside the numbers).
    public var plain: String { rendered { x, digits in String(printf: "%.\(digits)g", x) } }

    public static func + (a: VerdictText, b: VerdictText) -> VerdictText { VerdictText(pieces: a.pieces + b.pieces) }
}
