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
        let output = try OutputFile(claiming: scratch.path("r.h5"), overwrite: false)
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(!names.contains(".r.h5.tmp-999999-1"))
        #expect(names.contains(".r.h5.tmpx-999999-2"))
        #expect(names.contains(".other.h5.tmp-999999-1"))
        #expect(names.contains { $0.hasPrefix(".r.h5.tmp-\(getpid())-") }, "the claim's own temporary: \(names)")
        withExtendedLifetime(output) {}
    }

    @Test("another writer's locked temporary of the path refuses the claim, and the claim creates nothing")
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
        // The stale one may go or stay, but the locked one and no new file: only what was there.
        let after = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(after.contains(".r.h5.tmp-999999-1"))
        #expect(Set(after).isSubset(of: Set(before)), "\(after)")
        // The early check of a run's set-up leaves the listing to the claim; the plain check still lists.
        #expect(throws: GradFlowError.self) { try OutputFile.checkTarget(scratch.path("r.h5"), overwrite: true) }
        try OutputFile.checkTarget(scratch.path("r.h5"), overwrite: true, scanningTemporaries: false)
    }
}
