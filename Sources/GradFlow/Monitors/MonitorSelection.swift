/// Which monitors a run records (`--monitors`): a set of names from `MonitorRegistry` (monitors without a
/// name are on wherever they apply). Encoded in a run's configuration as one boolean per name
/// (`{"conservation": true, "lemma2": true, "plRatio": true, "sharpness": true}`: `pl` keeps its
/// original key), so files written before a monitor existed decode with it off.
public struct MonitorSelection: Sendable, Codable, Equatable {
    /// The selected names.
    public private(set) var names: Set<String>

    public init(names: Set<String>) {
        self.names = names
    }

    /// The four monitors of MATH.md §7, each on or off.
    public init(conservation: Bool = true, lemma2: Bool = true, plRatio: Bool = true, sharpness: Bool = true) {
        names = []
        self.conservation = conservation
        self.lemma2 = lemma2
        self.plRatio = plRatio
        self.sharpness = sharpness
    }

    /// Every registered monitor.
    public static var all: MonitorSelection { MonitorSelection(names: Set(MonitorRegistry.selectableNames)) }
    public static let none = MonitorSelection(names: [])

    /// The names a selection can list.
    public static var names: [String] { MonitorRegistry.selectableNames }

    public func contains(_ name: String) -> Bool { names.contains(name) }

    public mutating func set(_ name: String, _ on: Bool) {
        if on { names.insert(name) } else { names.remove(name) }
    }

    public var conservation: Bool { get { contains("conservation") } set { set("conservation", newValue) } }
    public var lemma2: Bool { get { contains("lemma2") } set { set("lemma2", newValue) } }
    public var plRatio: Bool { get { contains("pl") } set { set("pl", newValue) } }
    public var sharpness: Bool { get { contains("sharpness") } set { set("sharpness", newValue) } }

    /// Parses `all`, `none`, or a comma-separated list of names (`conservation`, `lemma2`, `pl`, `sharpness`).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace().lowercased() }
        if parts == ["all"] { self = .all; return }
        if parts == ["none"] { self = .none; return }
        self = .none
        for part in parts {
            guard !part.isEmpty, Self.names.contains(part) else {
                throw GradFlowError.invalidConfiguration(field: .monitors, value: "\(text)",
                                                         reason: "unknown monitor \"\(part)\" (use all, none, or a list of \(Self.names.joined(separator: ", ")))")
            }
            names.insert(part)
        }
    }

    public var isEmpty: Bool { names.isEmpty }

    /// The configuration key of a name (`pl` was first written as `plRatio`).
    static func key(of name: String) -> String { name == "pl" ? "plRatio" : name }

    private struct Key: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        names = []
        for name in Self.names where try c.decodeIfPresent(Bool.self, forKey: Key(stringValue: Self.key(of: name))) == true {
            names.insert(name)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for name in Self.names { try c.encode(contains(name), forKey: Key(stringValue: Self.key(of: name))) }
    }
}
