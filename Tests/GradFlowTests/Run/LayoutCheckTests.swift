import Foundation
import GradFlow
import Testing

/// A file to continue whose datasets were edited by hand is refused, read-only, naming the dataset.
@Suite("Resume refuses edited layouts (columns widened, narrowed or removed; /weights edited)")
struct LayoutCheckTests {
    static func interrupted(_ scratch: Scratch, saveWeights: Int? = nil) throws -> String {
        var config = RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3, seed: 2, outputs: 2), depth: 2, widths: [4],
                                      schedule: OutputSchedule(tFinal: 100, count: 40), outputPath: scratch.path("cut.h5"), flushInterval: 0)
        config.saveWeights = saveWeights
        let rows = Counter()
        #expect(throws: GradFlowError.self) {
            try GradientFlowRun.execute(config, commandLine: "test", progress: { _ in rows.value += 1 }, shouldStop: { rows.value >= 15 })
        }
        return config.outputPath
    }

    @Test("an edited dataset: one error naming it, and not a byte of the file changed", .enabled(if: ProcessResult.gradflow != nil),
          arguments: [
            ("del f['trajectory/mode_strength']", "/trajectory/mode_strength: missing"),
            ("v = f['trajectory/mode_strength'][:]; del f['trajectory/mode_strength']; f.create_dataset('trajectory/mode_strength', data=np.hstack([v, v, v]), maxshape=(None, 6), chunks=True)",
             "/trajectory/mode_strength: has shape [15, 6], expected [rows, 2]"),
            ("v = f['trajectory/conservation_drift'][:]; del f['trajectory/conservation_drift']; f.create_dataset('trajectory/conservation_drift', data=v[:, 0], maxshape=(None,), chunks=True)",
             "/trajectory/conservation_drift: has shape [15], expected [rows, 1]"),
            ("f.create_group('weights')", "/weights: is present, but the run's configuration saves no weights"),
          ])
    func edited(edit: String, message: String) throws {
        let scratch = try Scratch()
        let path = try Self.interrupted(scratch)
        let script = "import h5py, numpy as np, sys\nf = h5py.File(sys.argv[1], 'r+')\n\(edit)\nf.close()"
        #expect(try ProcessResult.run("/usr/bin/env", ["python3", "-c", script, path]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            _ = try GradientFlowRun.resume(path, commandLine: "resume")
            Issue.record("an edited file was resumed")
        } catch let error as GradFlowError {
            #expect(error.description.contains(message), "\(error.description)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test("a run that saves weights: a deleted /weights group is refused", .enabled(if: ProcessResult.gradflow != nil))
    func weightsDeleted() throws {
        let scratch = try Scratch()
        let path = try Self.interrupted(scratch, saveWeights: 2)
        let script = "import h5py, sys\nf = h5py.File(sys.argv[1], 'r+')\ndel f['weights']\nf.close()"
        #expect(try ProcessResult.run("/usr/bin/env", ["python3", "-c", script, path]).status == 0)
        #expect { try GradientFlowRun.resume(path, commandLine: "resume") } throws: { error in
            (error as? GradFlowError)?.description.contains("/weights/time: missing") == true
        }
    }
}
