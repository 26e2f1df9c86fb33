import Foundation
@testable import GradFlow
import Testing

/// `PathName` against the NSString path functions it replaced (the tests may load Foundation; gradflow does not).
@Suite("PathName: NSString's path functions without Foundation")
struct PathNameTests {
    static let paths = [
        "", "/", "//", "///", "a", "a/", "a//", "/a", "/a/", "a/b", "a/b/", "a//b", "/a/b/c.h5", "run.h5", ".h5", "..", ".",
        "./run.h5", "../x/run.h5", "dir.d/run", "dir.d/run.", "a.b.c", "/tmp/x.tar.gz", "sweep/", "x/.hidden", "x/..", "..h5",
        "a/.", "é/ü.h5", "/a/b.", "a.b/", "a.b//", "/.h5", "x/y.H5", "a/b/../c.png", ".a.b", "out/run-00001.h5", "/tmp//sweep///",
        "résumé.csv", "a b/c d.svg", "x.partial", "x.h5.partial", "a\u{301}/b",
    ]

    /// A combining mark right after "/" or "." makes one character of the two, but the kernel splits paths at the
    /// byte "/": these follow the kernel (as POSIX `dirname`/`basename` do), where swift-corelibs-foundation's NSString,
    /// which works on characters, does not ("a/\u{301}x.h5" has no folder there).
    @Test("a combining mark after a slash or a dot: components as the kernel sees them")
    func combiningMarks() {
        let cases: [(path: String, folder: String, last: String, ext: String, stem: String)] = [
            ("a/\u{301}x.h5", "a", "\u{301}x.h5", "h5", "a/\u{301}x"),
            ("a/\u{301}", "a", "\u{301}", "", "a/\u{301}"),
            ("/\u{301}", "/", "\u{301}", "", "/\u{301}"),
            ("x.\u{301}h5", "", "x.\u{301}h5", "\u{301}h5", "x"),
            ("d//\u{301}/\u{301}.\u{301}", "d/\u{301}", "\u{301}.\u{301}", "\u{301}", "d/\u{301}/\u{301}"),
        ]
        for c in cases {
            #expect(PathName.deletingLastComponent(c.path) == c.folder, "\(c.path.debugDescription)")
            #expect(PathName.lastComponent(c.path) == c.last, "\(c.path.debugDescription)")
            #expect(PathName.pathExtension(c.path) == c.ext, "\(c.path.debugDescription)")
            #expect(PathName.deletingPathExtension(c.path) == c.stem, "\(c.path.debugDescription)")
        }
        #expect(PathName.appending("a/\u{301}", "b") == "a/\u{301}/b")
        #expect(PathName.appending("a/", "\u{301}b") == "a/\u{301}b")
    }

    /// NSString's `deletingLastPathComponent` traps (a failed precondition in swift-corelibs-foundation) when the path,
    /// its slashes fixed, is one character other than "/"; `PathName` answers "" there, as Darwin's NSString does.
    static let trappingInFoundation: Set<String> = ["a", "a/", "a//", ".", "a/."]

    @Test("lastComponent, pathExtension and deletingPathExtension equal NSString's", arguments: paths)
    func components(path: String) {
        let ns = path as NSString
        #expect(PathName.lastComponent(path) == ns.lastPathComponent, "\(path.debugDescription)")
        #expect(PathName.pathExtension(path) == ns.pathExtension, "\(path.debugDescription)")
        #expect(PathName.deletingPathExtension(path) == ns.deletingPathExtension, "\(path.debugDescription)")
    }

    @Test("deletingLastComponent equals NSString's (and is \"\" where NSString traps)", arguments: paths)
    func deletingLast(path: String) {
        if Self.trappingInFoundation.contains(path) {
            #expect(PathName.deletingLastComponent(path) == (path.hasPrefix("a/.") ? "a" : ""), "\(path.debugDescription)")
        } else {
            #expect(PathName.deletingLastComponent(path) == (path as NSString).deletingLastPathComponent, "\(path.debugDescription)")
        }
    }

    @Test("appending equals NSString's appendingPathComponent", arguments: ["", "a", "a/", "/", "//a", "out/sweep", "out//"])
    func appending(path: String) {
        for component in ["", "b", "/b", "b/", "x.h5", ".x.h5.tmp-12-1", "summary.csv"] {
            #expect(PathName.appending(path, component) == (path as NSString).appendingPathComponent(component),
                    "\(path.debugDescription) + \(component.debugDescription)")
        }
    }
}
