import FoundationEssentials
import Glibc

/// Checks on the files GradFlow reads, made before any of them is opened: reading a FIFO, a socket or
/// a device (`/dev/zero`, `/dev/stdin`) would block or never end, and a folder cannot be read.
package enum InputFile {
    /// What kind of non-regular file `mode` (from `stat`) is, in words; nil for a regular file.
    static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a file"
        }
    }

    /// Refuses a path that does not name a readable regular file. `stat` follows symbolic links: a link to
    /// a regular file is fine, a dangling one is "no such file".
    /// - Throws: `GradFlowError.fileAccess`: `PATH: no such file`, `PATH: cannot be read: is not a regular
    ///   file (a FIFO)` (or a folder, socket, device), `PATH: cannot be read (permission denied)`.
    package static func checkReadable(_ path: String) throws {
        guard !path.isEmpty else { throw GradFlowError.fileAccess(path: "\"\"", reason: "no such file (the path is empty)") }
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw GradFlowError.fileAccess(path: path, reason: "no such file")
            case EACCES: throw GradFlowError.fileAccess(path: path, reason: "cannot be read (permission denied)")
            default: throw GradFlowError.fileAccess(path: path, reason: "cannot be read (\(String(cString: strerror(code))))")
            }
        }
        if let kind = kind(info.st_mode) {
            throw GradFlowError.fileAccess(path: path, reason: "cannot be read: is not a regular file (\(kind))")
        }
        guard access(path, R_OK) == 0 else {
            throw GradFlowError.fileAccess(path: path, reason: "cannot be read (permission denied)")
        }
    }

    /// The file's text (UTF-8), after `checkReadable`; a leading byte-order mark is dropped.
    package static func text(_ path: String) throws -> String {
        try checkReadable(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GradFlowError.fileAccess(path: path, reason: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw GradFlowError.invalidData(file: path, field: "text", reason: "is not UTF-8 text")
        }
        return withoutByteOrderMark(text)
    }

    /// `text` without a leading UTF-8 byte-order mark (U+FEFF), which some editors write.
    package static func withoutByteOrderMark(_ text: String) -> String {
        text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
    }

    /// The lines of `text`, split at every line end: `\n`, `\r\n` and a lone `\r` (in Swift `"\r\n"` is one
    /// `Character`, so splitting at `"\n"` alone leaves a CRLF file in one piece). Empty lines are kept, so
    /// that index + 1 is the line number.
    package static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    }
}
