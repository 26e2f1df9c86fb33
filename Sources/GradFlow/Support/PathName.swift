/// The path-name functions GradFlow used from Foundation's `NSString` (`lastPathComponent`,
/// `deletingLastPathComponent`, `appendingPathComponent`, `pathExtension`, `deletingPathExtension`), with the
/// same results, so that neither GradFlow nor gradflow loads Foundation. Pure string functions on "/"-separated
/// paths: the file system is never asked. As NSString's, each (except `appending`) first collapses runs of "/"
/// and drops one trailing "/" (a path that is exactly "/" stays "/"); `PathNameTests` compares them with NSString.
package enum PathName {
    /// The last component: "a/b/" → "b", "/" → "/", "" → "".
    package static func lastComponent(_ path: String) -> String {
        let fixed = fixingSlashes(path).unicodeScalars
        if fixed.count <= 1 { return String(fixed) }
        return String(fixed[startOfLastComponent(fixed)...])
    }

    /// The path without its last component: "a/b" → "a", "/a" → "/", "a" → "", "/" → "/".
    package static func deletingLastComponent(_ path: String) -> String {
        let fixed = fixingSlashes(path).unicodeScalars
        if fixed.elementsEqual("/".unicodeScalars) || fixed.isEmpty { return String(fixed) }
        let start = startOfLastComponent(fixed)
        if start == fixed.startIndex { return "" }
        if start == fixed.index(after: fixed.startIndex) { return "/" }
        return String(fixed[..<fixed.index(before: start)])
    }

    /// `component` appended to `path` with one "/" between them unless `path` ends with one; either empty gives the
    /// other. No other slash is changed.
    package static func appending(_ path: String, _ component: String) -> String {
        if component.isEmpty { return path }
        if path.isEmpty { return component }
        if path.unicodeScalars.last == "/" { return path + component }
        return path + "/" + component
    }

    /// The extension of the last component, without its dot ("run.h5" → "h5"); "" when there is none, or when the
    /// last component starts with its only dot (".h5") or is "..".
    package static func pathExtension(_ path: String) -> String {
        let fixed = fixingSlashes(path).unicodeScalars
        if fixed.count <= 1 { return "" }
        guard let start = startOfExtension(fixed) else { return "" }
        return String(fixed[start...])
    }

    /// The path without the extension of its last component and that extension's dot (slashes fixed as above).
    package static func deletingPathExtension(_ path: String) -> String {
        let fixed = fixingSlashes(path).unicodeScalars
        if fixed.count <= 1 { return String(fixed) }
        guard let start = startOfExtension(fixed) else { return String(fixed) }
        return String(fixed[..<fixed.index(before: start)])
    }

    /// Runs of "/" collapsed to one and one trailing "/" dropped; "/" itself is kept (NSString's
    /// `_stringByFixingSlashes`). All of these functions work on Unicode scalars, as NSString's work on UTF-16 units:
    /// a slash followed by a combining mark is still a slash (on characters, "/" and U+0301 are one grapheme).
    static func fixingSlashes(_ path: String) -> String {
        if path == "/" { return path }
        var result = String.UnicodeScalarView()
        var previousWasSlash = false
        for scalar in path.unicodeScalars {
            let slash = scalar == "/"
            if !(slash && previousWasSlash) { result.append(scalar) }
            previousWasSlash = slash
        }
        if result.last == "/" { result.removeLast() }
        return String(result)
    }

    /// The index after the last "/" of `fixed`, or its start.
    private static func startOfLastComponent(_ fixed: String.UnicodeScalarView) -> String.Index {
        var position = fixed.endIndex
        while position > fixed.startIndex {
            let previous = fixed.index(before: position)
            if fixed[previous] == "/" { break }
            position = previous
        }
        return position
    }

    /// The index after the dot that starts the extension of `fixed`'s last component, or nil (NSString's
    /// `_startOfPathExtension`).
    private static func startOfExtension(_ fixed: String.UnicodeScalarView) -> String.Index? {
        let componentStart = startOfLastComponent(fixed)
        var position = fixed.endIndex
        while position > componentStart {
            let previous = fixed.index(before: position)
            let scalar = fixed[previous]
            if scalar == "/" { return nil }
            if scalar == "." {
                if componentStart == previous { return nil }
                let beforeDot = fixed.index(before: previous)
                if previous == fixed.index(before: fixed.endIndex) && beforeDot == componentStart && fixed[beforeDot] == "." {
                    return nil
                }
                return position
            }
            position = previous
        }
        return nil
    }
}
