/// A named metadata value as the library reports it (theoretical bounds, solver statistics, run
/// attributes), independent of the file format that stores it: the HDF5 layer writes it as an attribute
/// (strings as variable-length UTF-8, numbers as native 64-bit doubles and integers).
public enum AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case double(Double)
    case integers([Int])
    case doubles([Double])

    public var description: String {
        switch self {
        case let .string(s): return s
        case let .integer(i): return String(i)
        case let .double(x): return "\(x)"
        case let .integers(v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
        case let .doubles(v): return "[" + v.map { "\($0)" }.joined(separator: ", ") + "]"
        }
    }

    /// The value as a Double when it is one number.
    public var doubleValue: Double? {
        switch self {
        case let .double(x): return x
        case let .integer(i): return Double(i)
        default: return nil
        }
    }
}
