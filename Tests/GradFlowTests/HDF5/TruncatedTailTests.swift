import Foundation
import GradFlow
import Testing

/// A partial that `kill -9` left shorter than the end of file its HDF5 superblock records (the superblock written
/// before the flush's last blocks): HDF5 refuses to open it; `HDF5TruncatedTail` gives it its tail back as zeros.
@Suite("A partial cut short by a kill inside a flush: its tail restored, the run resumed")
struct TruncatedTailTests {
    /// Bob Jenkins' own test values for `hashlittle` (lookup3.c, `driver5`), initial value 0.
    @Test("lookup3 gives Jenkins' published values")
    func lookup3() {
        #expect(HDF5TruncatedTail.lookup3(ArraySlice([])) == 0xdeadbeef)
        #expect(HDF5TruncatedTail.lookup3(ArraySlice(Array("Four score and seven years ago".utf8))) == 0x17770551)
    }

    /// An interrupted run's partial, then `cut` bytes taken off its end.
    static func cutPartial(_ scratch: Scratch, cut: Int) throws -> (path: String, size: Int) {
        let path = scratch.path("cut.h5")
        let rows = Counter()
        #expect(throws: GradFlowError.self) {
            try GradientFlowRun.execute(ReliabilityTests.config(path), commandLine: "test", progress: { _ in rows.value += 1 },
                                        shouldStop: { rows.value >= 40 }, recordingThread: .never)
        }
        let partial = path  // an interrupted run is committed under its own name, status interrupted
        let size = try #require(try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int)
        let moved = scratch.path("cut.h5.partial")
        try FileManager.default.moveItem(atPath: partial, toPath: moved)
        #expect(truncate(moved, off_t(size - cut)) == 0)
        return (moved, size)
    }

    @Test("the superblock's end of file is read, checksum and all; resume restores the tail and continues", arguments: [851, 4096])
    func restoredAndResumed(cut: Int) throws {
        let scratch = try Scratch()
        let (partial, size) = try Self.cutPartial(scratch, cut: cut)
        #expect(throws: (any Error).self) { try TrajectoryFile(path: partial) }  // what the kill left: HDF5 refuses it
        let missing = try #require(HDF5TruncatedTail.missing(partial))
        #expect(missing.size == Int64(size - cut) && missing.recordedEnd == Int64(size))
        let reference = try GradientFlowRun.execute(ReliabilityTests.config(scratch.path("full.h5")), commandLine: "test")
        let resumed = try GradientFlowRun.resume(partial, commandLine: "test resume")
        #expect(resumed.report.notes.first?.contains("\(cut) bytes before the end its HDF5 superblock records") == true, "\(resumed.report.notes)")
        #expect(try TrajectoryFile(path: scratch.path("cut.h5")).status == .completed)
        #expect(Reference.relativeError(resumed.result.finalWeights, reference.result.finalWeights) < 1e-6)
    }

    @Test("a superblock whose checksum fails, a whole file, or a file that is not HDF5 is left as it is")
    func leftAlone() throws {
        let scratch = try Scratch()
        let (partial, _) = try Self.cutPartial(scratch, cut: 851)
        // One bit of the recorded end of file flipped: the checksum no longer holds, so the record is not trusted.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: partial))
        try handle.seek(toOffset: 29)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 29)
        try handle.write(contentsOf: Data([byte ^ 0x01]))
        try handle.close()
        let before = try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int
        #expect(HDF5TruncatedTail.missing(partial) == nil)
        #expect(try HDF5TruncatedTail.restore(partial) == nil)
        #expect(try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int == before)
        #expect(throws: GradFlowError.self) { try GradientFlowRun.resume(partial, commandLine: "test") }

        let whole = scratch.path("whole.h5")
        _ = try GradientFlowRun.execute(ReliabilityTests.config(whole), commandLine: "test")
        #expect(HDF5TruncatedTail.missing(whole) == nil)
        let text = scratch.path("text.h5.partial")
        try Data("not an HDF5 file at all, but long enough to hold a superblock's 48 bytes".utf8).write(to: URL(fileURLWithPath: text))
        #expect(HDF5TruncatedTail.missing(text) == nil)
    }
}

@Suite("A cut-short partial from the command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct TruncatedTailCommandTests {
    @Test("gradflow run --resume of a partial cut short: one line says so, exit 0, the run completes")
    func resumeCommand() throws {
        let scratch = try Scratch()
        let (partial, _) = try TruncatedTailTests.cutPartial(scratch, cut: 851)
        let result = try ProcessResult.run(ProcessResult.gradflow ?? "", ["run", "--resume", partial])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ended 851 bytes before the end its HDF5 superblock records"), "\(result.stdout)")
        #expect(try TrajectoryFile(path: scratch.path("cut.h5")).status == .completed)
    }
}
