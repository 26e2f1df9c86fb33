/// Text of a message that may name configuration fields: each reader renders the fields its own way (the
/// library by the field's name, `schedule.tFinal`; the executable by its option, `--t-final`).
///
/// Write it as a string literal, with `\(field: .learningRate)` where a field is named:
/// `"give a smaller \(field: .tFinal), a larger \(field: .learningRate)"`. Other interpolations are plain text.
public struct ConfigurationText: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// A run of plain text, or a field.
    public enum Segment: Hashable, Sendable {
        case text(String)
        case field(ConfigurationField)
    }

    /// The text's parts, with no two plain texts in a row and no empty one.
    public private(set) var segments: [Segment] = []

    public init(_ text: String) { append(text) }

    public init(stringLiteral value: String) { append(value) }

    public init(stringInterpolation: StringInterpolation) { segments = stringInterpolation.text.segments }

    /// Builds the text of a string interpolation: `\(field: f)` names a field, `\(text)` splices another
    /// `ConfigurationText`, anything else is plain text.
    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ConfigurationText()

        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { text.append(literal) }
        public mutating func appendInterpolation(field: ConfigurationField) { text.segments.append(.field(field)) }
        public mutating func appendInterpolation(_ other: ConfigurationText) { text.append(other) }
        public mutating func appendInterpolation<T>(_ value: T) { text.append(String(describing: value)) }
    }

    private init() {}

    private mutating func append(_ string: String) {
        guard !string.isEmpty else { return }
        if case let .text(last)? = segments.last {
            segments[segments.count - 1] = .text(last + string)
        } else {
            segments.append(.text(string))
        }
    }

    /// Appends another text.
    public mutating func append(_ other: ConfigurationText) {
        for segment in other.segments {
            switch segment {
            case let .text(string): append(string)
            case .field: segments.append(segment)
            }
        }
    }

    /// The two texts one after the other.
    public static func + (lhs: ConfigurationText, rhs: ConfigurationText) -> ConfigurationText {
        var text = lhs
        text.append(rhs)
        return text
    }

    /// The fields the text names, in order.
    public var fields: [ConfigurationField] {
        segments.compactMap { if case let .field(field) = $0 { return field } else { return nil } }
    }

    /// The text with each field written as `name` spells it.
    public func rendered(_ name: (ConfigurationField) -> String) -> String {
        segments.map { segment in
            switch segment {
            case let .text(string): return string
            case let .field(field): return name(field)
            }
        }.joined()
    }

    /// The text with each field written by its name (`solver.relativeTolerance`).
    public var description: String { rendered(\.name) }
}
