import CFileSystem
import Foundation
import GradFlow
import Testing

/// A claim lists its folder once, and from that one listing both refuses a path that another process is writing
/// whole (its locked `.NAME.tmp-*`) and removes what killed commands left (unlocked temporaries).
@Suite("OutputFile's one pass over the temporaries of a claimed path")
struct OutputTemporariesTests {
    /// Creates `name` in `folder` with some bytes; with `locked`, holds an OFD write lock on it through the
    /// returned descriptor (an open file description of its own conflicts as another process's would).
    private func temporary(_ folder: Scratch, _ name: String, locked: Bool) throws -> Int32 {
        let path = try folder.write(name, "a header that never completed")
        guard locked else { return -1 }
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        #expect(gf_lock_exclusive(fd) == 0)
        return fd
    }

    @Test("a dead run's unlocked temporary of the path is removed; a young .tmpx-, other paths' and locked ones are kept")
    func staleTemporariesRemoved() throws {
        let scratch = try Scratch()
        _ = try temporary(scratch, ".r.h5.tmp-999999-1", locked: false)
        _ = try temporary(scratch, ".r.h5.tmpx-999999-2", locked: false)  // unlocked for an instant at creation: kept while young
        _ = try temporary(scratch, ".other.h5.tmp-999999-1", locked: false)
        _ = try temporary(scratch, ".r.h5.tmp-notes", locked: false)  // a user's file, not of the form .NAME.tmp-PID-N
        _ = try temporary(scratch, ".r.h5.tmp-1.h5.tmp-999999-1", locked: false)  // the output r.h5.tmp-1.h5's
        let output = try OutputFile(claiming: scratch.path("r.h5"), overwrite: false)
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(!names.contains(".r.h5.tmp-999999-1"))
        #expect(names.contains(".r.h5.tmpx-999999-2"))
        #expect(names.contains(".other.h5.tmp-999999-1"))
        #expect(names.contains(".r.h5.tmp-notes") && names.contains(".r.h5.tmp-1.h5.tmp-999999-1"))
        #expect(names.contains { $0.hasPrefix(".r.h5.tmp-\(getpid())-") }, "the claim's own temporary: \(names)")
        withExtendedLifetime(output) {}
    }

    @Test("an output named NAME.partial (directly or through a link) is refused even with --force; so is a file another command holds locked")
    func partialAndLockedTargetsRefused() throws {
        let scratch = try Scratch()
        let live = try temporary(scratch, "run.h5.partial", locked: true)  // a run going on
        defer { close(live) }
        let liveContent = FileManager.default.contents(atPath: scratch.path("run.h5.partial"))
        _ = try temporary(scratch, "old.h5.partial", locked: false)  // left by a killed run, to resume
        try FileManager.default.createSymbolicLink(atPath: scratch.path("link.h5"), withDestinationPath: scratch.path("run.h5.partial"))
        for (target, inUse) in [("run.h5.partial", true), ("link.h5", true), ("old.h5.partial", false), ("new.h5.partial", false)] {
            #expect {
                _ = try OutputFile(claiming: scratch.path(target), overwrite: true)
            } throws: { error in
                if case GradFlowError.outputInUse = error { return inUse }
                if case let GradFlowError.fileAccess(_, reason) = error { return !inUse && reason.contains("ends in .partial") }
                return false
            }
        }
        let locked = try temporary(scratch, "held.h5", locked: true)
        defer { close(locked) }
        #expect(throws: GradFlowError.self) { try OutputFile.checkTarget(scratch.path("held.h5"), overwrite: true) }
        #expect(FileManager.default.contents(atPath: scratch.path("run.h5.partial")) == liveContent)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
                == ["held.h5", "link.h5", "old.h5.partial", "run.h5.partial"])
    }

    @Test("another writer's locked temporary of the path refuses the claim, and nothing in the folder changes")
    func lockedTemporaryRefuses() throws {
        let scratch = try Scratch()
        let fd = try temporary(scratch, ".r.h5.tmp-999999-1", locked: true)
        defer { close(fd) }
        _ = try temporary(scratch, ".r.h5.tmp-999998-1", locked: false)
        let before = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect {
            _ = try OutputFile(claiming: scratch.path("r.h5"), overwrite: true)
        } throws: { error in
            guard case GradFlowError.outputInUse(let path) = error else { return false }
            return path.hasSuffix("r.h5")
        }
        // A refused claim changes nothing: the stale temporary is not removed either.
        let after = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(after == before, "\(after)")
        // The early check of a run's set-up leaves the listing to the claim; the plain check still lists.
        #expect(throws: GradFlowError.self) { try OutputFile.checkTarget(scratch.path("r.h5"), overwrite: true) }
        try OutputFile.checkTarget(scratch.path("r.h5"), overwrite: true, scanningTemporaries: false)
    }

    @Test("an output path ending in / or a name with a control character is refused before any work, in one line")
    func unusableNamesRefused() throws {
        let scratch = try Scratch()
        let file = try scratch.write("cc", "a file, not a folder")
        for (given, words) in [(file + "/", "ends with /"), (scratch.path("missing") + "/", "ends with /"),
                               (scratch.path("a\nb.h5"), "control character (U+A)"), (scratch.path("t\tab.h5"), "control character (U+9)")] {
            #expect {
                try OutputFile.checkTarget(given, overwrite: true)
            } throws: { error in
                guard case let GradFlowError.fileAccess(path, reason) = error else { return false }
                return reason.contains(words) && !path.contains("\n") && !path.contains("\t")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["cc"])
        try OutputFile.checkTarget(scratch.path("fine name é.h5"), overwrite: false)
    }
}

