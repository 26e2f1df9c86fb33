import Foundation
import GradFlow
import Testing

/// The `gradflow` executable as a user meets it: exit codes, one-line errors, nothing written on bad input.
@Suite("Command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct CommandLineTests {
    let gradflow = ProcessResult.gradflow ?? ""

    @Test("a small run succeeds, prints its summary, and inspect reads the file")
    func runAndInspect() throws {
        let scratch = try Scratch()
        let out = scratch.path("r.h5")
        let run = try ProcessResult.run(gradflow, ["run", "--depth", "3", "--samples", "20", "--input-dim", "3", "-o", out, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("stopped   R − R_min ≤ 1e-10"))
        let inspect = try ProcessResult.run(gradflow, ["inspect", out])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("status            completed"))
    }

    @Test("bad input: exit code 2, one line naming the problem, no output file", arguments: [
        (["--rtol", "-1"], "--rtol -1.0: must be in (0, 1)"),
        (["--depth", "0"], "--depth 0: the depth must be at least 1"),
        (["--t-final", "0"], "--t-final 0.0: must be a finite number > 0"),
        (["--data", "/nonexistent.csv"], "/nonexistent.csv: no such file"),
        (["--widths", "5,x"], "--widths 5,x: \"x\" is not an integer"),
        (["--no-such-option"], "Unknown option '--no-such-option'"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let scratch = try Scratch()
        let out = scratch.path("r.h5")
        let result = try ProcessResult.run(gradflow, ["run", "-o", out] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("an existing output file is refused (exit 2) and untouched; --force replaces it")
    func existingOutput() throws {
        let scratch = try Scratch()
        let out = try scratch.write("r.h5", "keep me")
        let refused = try ProcessResult.run(gradflow, ["run", "--depth", "2", "-o", out])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("exists already (pass --force to replace it)"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me")
        let forced = try ProcessResult.run(gradflow, ["run", "--depth", "2", "-o", out, "--force", "-q"])
        #expect(forced.status == 0)
    }

    @Test("inspect refuses a file that is not a trajectory")
    func inspectRefuses() throws {
        let scratch = try Scratch()
        let path = try scratch.write("x.csv", "1,2\n")
        let result = try ProcessResult.run(gradflow, ["inspect", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("not an HDF5 file"))
    }

    @Test("--help explains every option of run")
    func help() throws {
        let result = try ProcessResult.run(gradflow, ["run", "--help"])
        #expect(result.status == 0)
        for option in ["--data", "--depth", "--widths", "--init", "--init-scale", "--seed", "--init-weights", "--output",
                       "--t-final", "--loss-tol", "--rtol", "--atol", "--method", "--output-times", "--spacing", "--force"] {
            #expect(result.stdout.contains(option), "missing \(option)")
        }
    }
}

@Suite("Command line: descent, compare, critical-lr", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct DescentCommandLineTests {
    let gradflow = ProcessResult.gradflow ?? ""

    @Test("a diverging descent exits 1 with one line, and its file says diverged")
    func divergence() throws {
        let scratch = try Scratch()
        let out = scratch.path("gd.h5")
        let result = try ProcessResult.run(gradflow, ["descent", "--lr", "1", "--depth", "4", "-o", out, "-q"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("gradient descent diverged at step"))
        #expect(try TrajectoryFile(path: out).status == .diverged)
    }

    @Test("descent refuses a non-positive learning rate with exit 2 and writes nothing")
    func badLearningRate() throws {
        let scratch = try Scratch()
        let out = scratch.path("gd.h5")
        let result = try ProcessResult.run(gradflow, ["descent", "--lr", "-0.1", "-o", out])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--lr -0.1: must be a finite number > 0"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("compare prints the side-by-side table")
    func compareTable() throws {
        let scratch = try Scratch()
        let result = try ProcessResult.run(gradflow, ["compare", "--lr", "0.01", "--steps", "300", "--depth", "3", "-o", scratch.path("c.h5"), "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("‖W_GD−W_GF‖/‖W_GF‖"))
        #expect(FileManager.default.fileExists(atPath: scratch.path("c-flow.h5")))
        #expect(FileManager.default.fileExists(atPath: scratch.path("c-descent.h5")))
    }
}
