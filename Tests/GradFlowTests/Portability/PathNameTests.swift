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
        "résumé.csv", "a b/c d.svg", "x.partial", "x.h5.partial",
    ]

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
