import Foundation
import GradFlow
import Testing

/// `gradflow plot` with a gnuplot that misbehaves (a stand-in script first on PATH): one line of error, cut at 300
/// characters, exit 2, and no figure or temporary left behind.
@Suite("plot with a broken gnuplot", .enabled(if: ProcessResult.gradflow != nil))
struct BrokenGnuplotTests {
    let gradflow = ProcessResult.gradflow ?? ""

    @Test("a megabyte of error on one line, or exit 0 without a figure: one short line naming the figure, exit 2, nothing left",
          arguments: [("printf '%*s' 1000000 '' | tr ' ' x >&2; echo >&2; exit 1", "gnuplot failed: xxxx"),
                      ("exit 0", "gnuplot failed: it ended without writing the figure")])
    func brokenGnuplot(script: String, message: String) throws {
        let scratch = try Scratch()
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
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
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
        let run = scratch.path("run.h5")
        #expect(try ProcessResult.run(gradflow, ["run", "--depth", "2", "--monitors", "none", "-o", run, "-q"]).status == 0)
        let bin = scratch.path("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // The script's `set output "…"` line names the unnamed file plot waits for.
        let draw = writesFigure ? "out=$(sed -n 's/^set output \"\\(.*\\)\"$/\\1/p' \"$1\"); printf png > \"$out\"\n" : ""
        let fake = try scratch.write("bin/gnuplot", "#!/bin/sh\n\(draw)(sleep 20; echo late >&2) &\necho warning >&2\nexit 0\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gradflow)
        process.arguments = ["plot", run, "-o", scratch.path("fig.png")]
        process.environment = ProcessInfo.processInfo.environment.merging(["PATH": bin + ":/usr/bin:/bin"]) { $1 }
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let start = Date()
        try process.run()
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(start) < 10, "plot waited for the process gnuplot left behind")
        #expect(process.terminationStatus == (writesFigure ? 0 : 2))
        #expect(FileManager.default.fileExists(atPath: scratch.path("fig.png")) == writesFigure)
    }
}
