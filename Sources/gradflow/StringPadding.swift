extension String {
    /// The text cut or padded with spaces to `length` UTF-16 code units, as Foundation's
    /// `padding(toLength: length, withPad: " ", startingAt: 0)`, which the tables of `inspect` and `critical-lr`
    /// used to line up their columns.
    func padded(toLength length: Int) -> String {
        let units = utf16.count
        if units < length { return self + String(repeating: " ", count: length - units) }
        if units == length { return self }
        return String(decoding: Array(utf16.prefix(length)), as: UTF16.self)
    }
}
