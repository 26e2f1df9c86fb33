/// A minimal reading of JSON text for what `JSONDecoder` does not tell: the keys of the top-level
/// object in the order they are written (a key given twice appears twice; the decoder keeps one of them
/// silently), and the number literals under each key as written (`1e400`, which it refuses without
/// saying where). `SweepSpec.load` names the key from it.
///
/// It checks the syntax it walks, and gives nil for text that is not one JSON object: the caller then
/// reports the text as it did before. Cost: one pass over the text.
struct JSONKeyScanner {
    /// One key of the top-level object and the number literals of its value, in order.
    struct Entry: Equatable {
        var key: String
        var numbers: [String]
    }

    private let bytes: [UInt8]
    private var index = 0
    private var numbers: [String] = []

    private init(_ text: String) {
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a byte-order mark
        self.bytes = bytes
    }

    /// The entries of the top-level object of `text`, nil when it is not one JSON object.
    static func entries(_ text: String) -> [Entry]? {
        var scanner = JSONKeyScanner(text)
        guard let entries = scanner.object(collect: true) else { return nil }
        scanner.skipSpace()
        return scanner.index == scanner.bytes.count ? entries : nil
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
    }

    private mutating func expect(_ c: UInt8) -> Bool {
        skipSpace()
        guard current == c else { return false }
        index += 1
        return true
    }

    /// An object; with `collect`, its keys and the numbers under each (nested objects are only checked).
    private mutating func object(collect: Bool) -> [Entry]? {
        guard expect(UInt8(ascii: "{")) else { return nil }
        var entries: [Entry] = []
        if expect(UInt8(ascii: "}")) { return entries }
        repeat {
            skipSpace()
            guard let key = string(), expect(UInt8(ascii: ":")) else { return nil }
            let before = numbers.count
            guard value() else { return nil }
            if collect { entries.append(Entry(key: key, numbers: Array(numbers[before...]))) }
        } while expect(UInt8(ascii: ","))
        return expect(UInt8(ascii: "}")) ? entries : nil
    }

    private mutating func value() -> Bool {
        skipSpace()
        guard let c = current else { return false }
        switch c {
        case UInt8(ascii: "{"): return object(collect: false) != nil
        case UInt8(ascii: "["):
            index += 1
            if expect(UInt8(ascii: "]")) { return true }
            repeat { guard value() else { return false } } while expect(UInt8(ascii: ","))
            return expect(UInt8(ascii: "]"))
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func literal(_ word: String) -> Bool {
        let word = Array(word.utf8)
        guard bytes[index...].starts(with: word) else { return false }
        index += word.count
        return true
    }

    private mutating func number() -> Bool {
        let start = index
        while let c = current, (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || "+-.eE".utf8.contains(c) { index += 1 }
        guard index > start else { return false }
        numbers.append(String(decoding: bytes[start..<index], as: UTF8.self))
        return true
    }

    /// A string literal, its escapes decoded (four-hex-digit `\u` escapes included, surrogate pairs joined).
    private mutating func string() -> String? {
        guard current == UInt8(ascii: "\"") else { return nil }
        index += 1
        var units: [UInt16] = []
        var raw: [UInt8] = []
        func flushRaw() {
            units += String(decoding: raw, as: UTF8.self).utf16
            raw.removeAll()
        }
        while let c = current {
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                flushRaw()
                return String(decoding: units, as: UTF16.self)
            case UInt8(ascii: "\\"):
                guard let e = current else { return nil }
                index += 1
                flushRaw()
                switch e {
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count, let unit = UInt16(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
                    else { return nil }
                    index += 4
                    units.append(unit)
                case UInt8(ascii: "n"): units.append(0x0A)
                case UInt8(ascii: "t"): units.append(0x09)
                case UInt8(ascii: "r"): units.append(0x0D)
                case UInt8(ascii: "b"): units.append(0x08)
                case UInt8(ascii: "f"): units.append(0x0C)
                default: units.append(UInt16(e))  // \" \\ \/
                }
            default:
                raw.append(c)
            }
        }
        return nil
    }
}
