/// How a verdict is stored in a trajectory file's `/monitors` group (format version 3): one set of
/// attributes per verdict key, numbers as numbers.
///
/// | attribute | value |
/// |---|---|
/// | `KEY_title` | the statement (string) |
/// | `KEY_verdict` | the code: `holds`, `violated`, `n/a` or `info` |
/// | `KEY_value`, `KEY_value_digits` | the worst (or final) value, NaN when none; its meaningful digits |
/// | `KEY_bound` | the bound's numbers: one, or the two ends of a band (absent when none) |
/// | `KEY_margin` | how far from failing at the tightest point (NaN when not a comparison) |
/// | `KEY_bound_text`, `KEY_note` | how the bound reads and the note, numbers as `%.{digits}g` |
/// | `KEY_order` | the position in the closing table |
///
/// Version 2 files stored the value and bound as text (`KEY_worst`, `KEY_bound`); they are read too.
extension MonitorVerdict {
    static func attributes(_ v: MonitorVerdict, order: Int) -> [(String, AttributeValue)] {
        var list: [(String, AttributeValue)] = [
            ("_title", .string(v.title)), ("_verdict", .string(v.outcome.rawValue)),
            ("_value", .double(v.value ?? .nan)), ("_value_digits", .integer(v.valueDigits)),
            ("_margin", .double(v.margin ?? .nan)), ("_bound_text", .string(v.boundText.plain)),
            ("_note", .string(v.note.plain)), ("_order", .integer(order)),
        ]
        if !v.bound.isEmpty { list.append(("_bound", .doubles(v.bound))) }
        return list
    }

    /// The verdict `key` of a `/monitors` group's attributes.
    init(attributes a: [String: AttributeValue], key: String) {
        func text(_ suffix: String) -> String { a[key + suffix]?.description ?? "" }
        func number(_ suffix: String) -> Double? { a[key + suffix]?.doubleValue.flatMap { $0.isNaN ? nil : $0 } }
        let value: Double?, bound: [Double], boundText: String
        if a[key + "_value"] != nil {
            value = number("_value")
            if case let .doubles(b)? = a[key + "_bound"] { bound = b } else { bound = number("_bound").map { [$0] } ?? [] }
            boundText = text("_bound_text")
        } else {  // format version 2: text
            value = Double(text("_worst"))
            bound = Double(text("_bound")).map { [$0] } ?? []
            boundText = text("_bound") == "–" ? "" : text("_bound")
        }
        var digits = 4
        if case let .integer(d)? = a[key + "_value_digits"] { digits = d }
        self.init(key: key, title: a[key + "_title"]?.description ?? key, value: value, valueDigits: digits, bound: bound,
                  boundText: VerdictText(stringLiteral: boundText), margin: number("_margin"),
                  outcome: Outcome(rawValue: text("_verdict")) ?? .info, note: VerdictText(stringLiteral: text("_note")))
    }

    /// The position recorded by `attributes(_:order:)` (Int.max in a version 2 file: then by key).
    static func order(in a: [String: AttributeValue], key: String) -> Int {
        if case let .integer(order)? = a[key + "_order"] { return order }
        return Int.max
    }
}
