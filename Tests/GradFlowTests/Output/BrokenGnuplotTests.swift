import Foundation
import GradFlow
import Testing

/// `gradflow plot` with a gnuplot that misbehaves (a stand-in script first on PATH): one line of error, cut at 300
/// characters, exit 2, and no figure or temporary left behind.
@Suite("plot with a broken gnuplot", .enabled(if: ProcessResult.gradflow != nil))
struct BrokenGnuplotTests {
    let gradflow = ProcessResult.gradflow ?? ""

    /// Runs `gradflow plot` on a small run's file into `fig.png`, with `script` as the body of the gnuplot on PATH:
    /// its exit status, its standard error, and how long it took.
    func plot(withStandIn script: String, in scratch: Scratch) throws -> (status: Int32, stderr: String, seconds: Double) {
        let run = scratch.path("run.h5")
        #expect(try ProcessResult.run(gradflow, ["run", "--depth", "2", "--monitors", "none", "-o", run, "-q"]).status == 0)
        let bin = scratch.path("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let fake = try scratch.write("bin/gnuplot", "#!/bin/sh\n\(script)\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gradflow)
        process.arguments = ["plot", run, "-o", scratch.path("fig.png")]
        process.environment = ProcessInfo.processInfo.environment.merging(["PATH": bin + ":/usr/bin:/bin"]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let start = Date()
        try process.run()
        // Read in the background: a process left behind by the stand-in may hold this pipe open after plot ends.
        let box = Box(), read = DispatchSemaphore(value: 0)
        Thread { box.data = err.fileHandleForReading.readDataToEndOfFile(); read.signal() }.start()
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        guard read.wait(timeout: .now() + 2) == .success else { return (process.terminationStatus, "", seconds) }
        return (process.terminationStatus, String(decoding: box.data, as: UTF8.self), seconds)
    }

    final class Box: @unchecked Sendable { var data = Data() }

    @Test("a megabyte of error on one line, or exit 0 without a figure: one short line naming the figure, exit 2, nothing left",
          arguments: [("printf '%*s' 1000000 '' | tr ' ' x >&2; echo >&2; exit 1", "gnuplot failed: xxxx"),
                      ("exit 0", "gnuplot failed: it ended without writing the figure")])
    func brokenGnuplot(script: String, message: String) throws {
        let scratch = try Scratch()
        let (status, text, _) = try plot(withStandIn: script, in: scratch)
        #expect(status == 2)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].count < 500, "\(text.prefix(600))")
        #expect(text.contains("fig.png: ") && text.contains(message), "\(text.prefix(600))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted() == ["bin", "run.h5"])
    }

    /// A gnuplot that leaves a process behind holding its standard error (a helper, a wrapper's `cmd &`): plot ends
    /// when gnuplot does, with the figure if gnuplot wrote one, instead of waiting for the process left behind.
    @Test("a process left behind holding gnuplot's stderr does not hold plot", arguments: [true, false])
    func backgroundHolder(writesFigure: Bool) throws {
        let scratch = try Scratch()
        // The script's `set output "…"` line names the unnamed file plot waits for.
        let draw = writesFigure ? "out=$(sed -n 's/^set output \"\\(.*\\)\"$/\\1/p' \"$1\"); printf png > \"$out\"\n" : ""
        let (status, _, seconds) = try plot(withStandIn: "\(draw)(sleep 20; echo late >&2) &\necho warning >&2\nexit 0", in: scratch)
        #expect(seconds < 10, "plot waited for the process gnuplot left behind")
        #expect(status == (writesFigure ? 0 : 2))
        #expect(FileManager.default.fileExists(atPath: scratch.path("fig.png")) == writesFigure)
    }
}
