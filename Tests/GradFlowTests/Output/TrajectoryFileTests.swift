import Foundation
import GradFlow
import Testing

@Suite("Trajectory file: written by a run, read back")
struct TrajectoryFileTests {
    static func smallRun(_ scratch: Scratch, name: String = "run.h5") throws -> (RunConfiguration, GradientFlowRunSummary) {
        let config = RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3), depth: 3, widths: [4],
                                      initialization: .gaussian(scale: 0.5, zeroLayer: nil),
                                      schedule: OutputSchedule(tFinal: 1e4, count: 30), lossTolerance: 1e-9,
                                      outputPath: scratch.path(name))
        return (config, try GradientFlowRun.execute(config, commandLine: "test"))
    }

    @Test("the Swift reader reads back what the run wrote")
    func swiftReader() throws {
        let scratch = try Scratch()
        let (config, summary) = try Self.smallRun(scratch)
        let file = try TrajectoryFile(path: config.outputPath)
        #expect(file.status == .completed)
        #expect(file.attribute("method") == "gradient-flow")
        #expect(try file.dataset("initial/weights") == summary.setup.initialWeights)
        #expect(try file.dataset("final/weights") == summary.result.finalWeights)
        #expect(try file.dataset("problem/X") == summary.setup.problem.inputs)
        let columns = try file.trajectoryColumns()
        #expect(Array(columns.map(\.name).prefix(4)) == ["time", "loss", "excess_risk", "grad_norm_sq"])
        #expect(columns.map(\.name).contains("pl_ratio"))
        #expect(columns[0].values.count == summary.result.samples)
        #expect(columns[0].values.last == summary.result.finalTime)
        #expect(try file.value("widths", in: "network") == .integers([3, 4, 4, 1]))
        #expect(try file.value("stop_reason", in: "solver") == .string("loss-tolerance"))
        // The config attribute is the run's configuration as JSON, decodable back to the same value.
        let decoded = try JSONDecoder().decode(RunConfiguration.self, from: Data(file.attribute("config").utf8))
        #expect(decoded == config)
    }

    @Test("h5py reads the file, and numpy recomputes its last row independently",
          .enabled(if: ProcessResult.python != nil, "python3 with h5py and numpy is not installed"))
    func h5pyReader() throws {
        let scratch = try Scratch()
        let (config, _) = try Self.smallRun(scratch)
        let script = """
            import sys, json, h5py, numpy as np
            f = h5py.File(sys.argv[1], "r")
            assert f.attrs["format"] == "gradflow-trajectory", f.attrs["format"]
            assert f.attrs["status"] == "completed"
            widths = list(f["network"].attrs["widths"])
            theta = f["final/weights"][:]
            X, y, p = f["problem/X"][:], f["problem/y"][:], f["problem/p"][:]
            # Row-major blocks: W_k = theta[off:off + m_k*m_{k-1}].reshape(m_k, m_{k-1}).
            off, Ws = 0, []
            for k in range(1, len(widths)):
                m, mp = widths[k], widths[k - 1]
                Ws.append(theta[off:off + m * mp].reshape(m, mp)); off += m * mp
            assert off == theta.size
            M = np.eye(widths[0])
            for W in Ws: M = W @ M
            w = M.T @ p
            wstar = np.linalg.lstsq(X, y, rcond=None)[0]
            loss = np.mean((y - X @ w) ** 2)
            excess = np.mean((X @ (w - wstar)) ** 2)
            last_loss = f["trajectory/loss"][-1]; last_excess = f["trajectory/excess_risk"][-1]
            assert abs(loss - last_loss) < 1e-12 * loss, (loss, last_loss)
            assert abs(excess - last_excess) < 1e-6 * last_excess, (excess, last_excess)
            assert np.all(np.diff(f["trajectory/time"][:]) > 0)
            json.loads(f.attrs["config"])
            print("ok", len(f["trajectory/time"]))
            """
        let scriptPath = try scratch.write("check.py", script)
        let result = try ProcessResult.run("/usr/bin/env", ["python3", scriptPath, config.outputPath])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok"))
    }

    @Test("an existing output file is refused without overwrite and left untouched")
    func refusesExistingOutput() throws {
        let scratch = try Scratch()
        let path = try scratch.write("run.h5", "precious")
        var config = RunConfiguration(depth: 2, outputPath: path)
        #expect(throws: GradFlowError.fileAccess(path: path, reason: "exists already (pass --force to replace it)")) {
            try GradientFlowRun.execute(config, commandLine: "test")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
        config.outputPath = scratch.path("missing/run.h5")
        #expect(throws: GradFlowError.self) { try GradientFlowRun.execute(config, commandLine: "test") }
    }

    @Test("a trajectory file is accepted as data and as initial weights, continuing the run")
    func continueFromTrajectory() throws {
        let scratch = try Scratch()
        let (first, summary) = try Self.smallRun(scratch)
        var next = RunConfiguration(dataFile: first.outputPath, initWeightsFile: first.outputPath,
                                    schedule: OutputSchedule(tFinal: 1, count: 3), lossTolerance: nil,
                                    outputPath: scratch.path("continued.h5"))
        let continued = try GradientFlowRun.execute(next, commandLine: "test")
        #expect(continued.setup.initialWeights == summary.result.finalWeights)
        #expect(continued.setup.problem.inputs == summary.setup.problem.inputs)
        #expect(continued.setup.network == summary.setup.network)
        next.initWeightsSnapshot = .initial
        next.outputPath = scratch.path("restart.h5")
        #expect(try GradientFlowRun.execute(next, commandLine: "test").setup.initialWeights == summary.setup.initialWeights)
    }
}
