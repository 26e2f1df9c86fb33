import Foundation
import GradFlow
import Testing

/// `run --central-lr` and `compare --central` as a user meets them: the refusal at S(0) > 2/η, bad values, the
/// trajectory file's central columns and switch times, and the three-way comparison checked against the
/// descent's own file.
@Suite("Central flow: command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct CentralFlowCommandLineTests {
    let gradflow = ProcessResult.gradflow ?? ""
    /// L = 5, widths 5 on the default data: S(0) = 8.23 (s = 0.35), 18.6 (s = 0.4).
    static let network = ["--depth", "5", "--loss-tol", "0"]

    @Test("S(0) > 2/η is refused with one line and no file; --allow-catapult starts it as gradient flow, with a warning")
    func catapult() throws {
        let scratch = try Scratch()
        let out = scratch.path("cf.h5")
        let refused = try ProcessResult.run(gradflow, ["run"] + Self.network + ["--init-scale", "0.4", "--central-lr", "0.16", "--t-final", "1", "-o", out])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--central-lr 0.16: S(0) = 18.62"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))
        let allowed = try ProcessResult.run(gradflow, ["run"] + Self.network + ["--init-scale", "0.4", "--central-lr", "0.16", "--t-final", "1",
                                                                               "--allow-catapult", "-o", out, "-q"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout.contains("warning   S(0) > 2/η"))
        // Rows above 2/η say so (phase 2), and the closing S ≤ 2/η verdict is not claimed for such a start.
        let file = try TrajectoryFile(path: out)
        #expect(try file.dataset("trajectory/central_phase").first == 2)
        let verdict = try #require(file.monitorVerdicts().first { $0.key == "edge_of_stability" })
        #expect(verdict.outcome == .notApplicable)
    }

    @Test("bad central-flow options: exit 2, one line naming the option, nothing written", arguments: [
        (["run", "--central-lr", "0"], "--central-lr 0.0: must be a finite number > 0"),
        (["run", "--central-lr", "-1"], "--central-lr -1.0: must be a finite number > 0"),
        (["run", "--central-lr", "nan"], "--central-lr nan: must be a finite number > 0"),
        (["run", "--central-lr", "1e-320"], "--central-lr 1e-320: must be a finite number > 0 whose 2/η is finite"),
        (["run", "--central-lr", "0.1", "--central-gap", "1"], "--central-gap 1.0: must be in (0, 1)"),
        (["run", "--allow-catapult"], "--allow-catapult needs --central-lr"),
        (["run", "--central-gap", "0.1"], "--central-gap needs --central-lr"),
        (["compare", "--lr", "0.1", "--central-gap", "0.1"], "--central-gap needs --central"),
        (["compare", "--lr", "0.1", "--central", "--central-gap", "-1"], "--central-gap -1.0: must be in (0, 1)"),
    ])
    func badOptions(arguments: [String], message: String) throws {
        let scratch = try Scratch()
        let out = scratch.path("cf.h5")
        let result = try ProcessResult.run(gradflow, arguments + ["-o", out])
        #expect(result.status == 2, "\(result.stdout)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).isEmpty)
    }

    @Test("a central-flow file: its columns, phases and switch times; resume is refused and changes nothing")
    func trajectoryFile() throws {
        let scratch = try Scratch()
        let out = scratch.path("cf.h5")
        let run = try ProcessResult.run(gradflow, ["run"] + Self.network + ["--init-scale", "0.35", "--central-lr", "0.16", "--t-final", "5",
                                                                           "--output-times", "20", "--spacing", "uniform", "-o", out, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("switches  edge at t = 0.3385"))
        let file = try TrajectoryFile(path: out)
        #expect(file.attribute(TrajectoryLayout.Root.method) == "central-flow")
        let phase = try file.dataset("trajectory/central_phase"), S = try file.dataset("trajectory/central_sharpness")
        let residual = try file.dataset("trajectory/central_constraint"), loss = try file.dataset("trajectory/loss")
        #expect(phase.first == 0 && phase.last == 1 && phase.count == 21)
        for i in phase.indices where phase[i] == 1 {
            #expect(abs(residual[i]) < 1e-6 && abs(S[i] - 12.5) < 1e-6)
            #expect(i == 0 || loss[i] <= loss[i - 1])
        }
        guard case let .doubles(times) = try file.value("central_switch_times", in: "solver") else { Issue.record("no switch times"); return }
        #expect(times.count == 1 && abs(times[0] - 0.33858) < 1e-4)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let resume = try ProcessResult.run(gradflow, ["run", "--resume", out])
        #expect(resume.status == 2 && resume.stderr.split(separator: "\n").count == 1, "\(resume.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
    }

    @Test("compare --central: the central file and columns, checked against the descent's own rows")
    func compareCentral() throws {
        let scratch = try Scratch()
        let out = scratch.path("eos.h5")
        let eta = 0.16, steps = 40
        let result = try ProcessResult.run(gradflow, ["compare"] + Self.network + ["--init-scale", "0.35", "--lr", "\(eta)", "--steps", "\(steps)",
                                                                                  "--output-times", "\(steps + 1)", "--spacing", "uniform", "--central", "-o", out, "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("final S   GD"))
        let root = try HDF5File.open(out)
        func column(_ name: String) throws -> [Double] { try root.readDataset("comparison/" + name).values }
        let step = try column("step")
        #expect(step == (0...steps).map(Double.init))  // every step recorded
        let descent = try TrajectoryFile(path: scratch.path("eos-descent.h5"))
        let central = try TrajectoryFile(path: scratch.path("eos-central.h5"))
        let descentLoss = try descent.dataset("trajectory/loss")
        // The two-step average loss is (R_k + R_{k+1})/2 of the descent's own rows.
        let averaged = try column("descent_averaged_loss")
        for k in 0..<steps { #expect(abs(averaged[k] - (descentLoss[k] + descentLoss[k + 1]) / 2) <= 1e-12 * descentLoss[k]) }
        // The central flow's sharpness and prediction are its file's, at the same times.
        #expect(try column("central_sharpness") == central.dataset("trajectory/central_sharpness"))
        #expect(try column("central_predicted_loss") == central.dataset("trajectory/central_averaged_loss"))
        #expect(try column("time") == central.dataset("trajectory/time"))
        // Descent's final sharpness: the Lanczos column against the descent file's final checkpoint.
        let checkpoints = try descent.dataset("checkpoints/sharpness")
        #expect(abs(try column("descent_sharpness").last! - checkpoints.last!) <= 1e-8 * checkpoints.last!)
        #expect(try column("central_relative_distance").first == 0)
        #expect(try root.attribute("central_file") == .string("eos-central.h5"))
    }

    @Test("killed with -9: the partial keeps its rows; resume and a new run on the same output refuse it, unchanged")
    func killed() throws {
        let scratch = try Scratch()
        let out = scratch.path("cf.h5"), partial = out + ".partial"
        let arguments = ["run"] + Self.network + ["--init-scale", "0.35", "--central-lr", "0.16", "--t-final", "1e4", "--flush-interval", "0", "-q"]
        let process = try ProcessResult.launch(gradflow, arguments + ["-o", out])
        // Wait for rows on file (the first flush), then kill.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            if let file = try? TrajectoryFile(path: partial), (file.datasetLength("trajectory/time") ?? 0) >= 5 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try #require(process.isRunning, "the run ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let before = try Data(contentsOf: URL(fileURLWithPath: partial))
        #expect(try TrajectoryFile(path: partial).dataset("trajectory/central_phase").count >= 5)
        let resume = try ProcessResult.run(gradflow, ["run", "--resume", partial])
        #expect(resume.status == 2 && resume.stderr.contains("central-flow runs cannot be resumed yet"), "\(resume.stderr)")
        let again = try ProcessResult.run(gradflow, arguments + ["-o", out])
        #expect(again.status == 2 && again.stderr.contains("it is not a trajectory that can be resumed: move it away"), "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: partial)) == before)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("a run from a central flow's own end starts at the edge (S(0) = 2/η within the constraint's slack), not refused")
    func continuesFromTheEdge() throws {
        let scratch = try Scratch()
        let first = scratch.path("cf.h5"), second = scratch.path("cont.h5")
        let run = try ProcessResult.run(gradflow, ["run"] + Self.network + ["--init-scale", "0.35", "--central-lr", "0.16", "--t-final", "3", "-o", first, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let next = try ProcessResult.run(gradflow, ["run", "--init-weights", first, "--data", first, "--loss-tol", "0", "--central-lr", "0.16",
                                                    "--t-final", "1", "-o", second, "-q"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stdout.contains("switches  none: the run stayed edge from its start"), "\(next.stdout)")
        #expect(try TrajectoryFile(path: second).dataset("trajectory/central_phase").allSatisfy { $0 == 1 })
    }

    @Test("sweep --methods central: one central flow per learning rate, the same table on threads and in processes")
    func sweep() throws {
        let scratch = try Scratch()
        // η = 0.01 never reaches 2/η = 200 (the central flow is gradient flow: its row equals the flow's); η = 0.16
        // reaches the edge from s = 0.3 and starts above it from s = 0.4 (a catapult).
        let grid = ["sweep", "--methods", "flow,central", "--init-scales", "0.3,0.4", "--lrs", "0.01,0.16", "--depths", "5",
                    "--run-args", "--t-final 20 --loss-tol 0 --monitors sharpness"]
        var tables: [[[String]]] = []
        for isolate in ["threads", "processes"] {
            let out = scratch.path(isolate)
            let result = try ProcessResult.run(gradflow, grid + ["--isolate", isolate, "-o", out])
            #expect(result.status == 0, "\(result.stderr)")
            let csv = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
            let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let header = rows[0], wall = try #require(header.firstIndex(of: "wall_time"))
            tables.append(rows.map { row in row.enumerated().filter { $0.offset != wall }.map(\.element) })
            #expect(try TrajectoryFile(path: out + "/run-00002.h5").attribute(TrajectoryLayout.Root.method) == "central-flow")
        }
        #expect(tables[0] == tables[1])
        let rows = tables[0].dropFirst(), header = tables[0][0]
        func cell(_ row: [String], _ name: String) -> String { row[header.firstIndex(of: name)!] }
        #expect(rows.map { cell($0, "method") } == ["flow", "flow", "central", "central", "central", "central"])
        #expect(rows.map { cell($0, "outcome") } == ["horizon", "horizon", "horizon", "horizon", "horizon", "catapult"])
        // Without an edge the central flow is gradient flow: the same final loss, to the last bit.
        let flow = rows.first { cell($0, "method") == "flow" && cell($0, "init_scale") == "0.3" }!
        let central = rows.first { cell($0, "method") == "central" && cell($0, "init_scale") == "0.3" && cell($0, "lr") == "0.01" }!
        #expect(cell(flow, "final_loss") == cell(central, "final_loss"))
    }
}
