import ArgumentParser
import FoundationEssentials
import GradFlow

/// `gradflow plot FILE`: figures as PNG and SVG through gnuplot.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the figures of a GradFlow file as PNG and SVG (needs gnuplot).",
        discussion: """
            A trajectory file gives loss and R − R_min, the conservation drift (with GD's η² prediction), the \
            Lemma 2 quantities with their bounds, the PL ratio in its band, and the sharpness with its bounds and \
            2/η. A comparison file gives the GF–GD distance, both losses and both drifts. A sweep table gives the \
            final sharpness against the initialisation scale, one curve per method and learning rate, with the \
            bounds and 2/η (the paper's Figure 1(b)). A critical-lr table gives η_crit against depth with the \
            2/S_min prediction (Figure 2).

            Example: gradflow plot run.h5 -o figures/run   (writes figures/run.png and figures/run.svg;
            -o figures/run.png or -o figures/run.svg writes only that one)
            """
    )

    @Argument(help: "A trajectory, comparison, sweep (summary.csv or summary.h5) or critical-lr file.")
    var file: String

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output path: ending in .png or .svg, only that figure; without one, both PREFIX.png and PREFIX.svg (default: FILE without its extension).", valueName: "path"))
    var output: String?

    func run() throws {
        let figure = try FigureBuilder.figure(for: file, parseSweepTable: SweepTable.figureRuns)
        guard !figure.panels.isEmpty else {
            // A file of ours whose datasets are missing or empty (a crash, a file edited by hand).
            throw GradFlowError.invalidData(file: file, field: figure.kind, reason: "holds no rows to plot (its datasets are missing or empty)")
        }
        // An output ending in .png or .svg names that one figure; otherwise it is a prefix for both.
        var prefix = output ?? PathName.deletingPathExtension(file)
        var formats = [("pngcairo", "png"), ("svg", "svg")]
        let given = PathName.pathExtension(prefix).lowercased()
        if output != nil, let format = formats.first(where: { $0.1 == given }) {
            formats = [format]
            prefix = PathName.deletingPathExtension(prefix)
        }
        let inputs = [OutputFile.Input(file, role: "the file being plotted")]
        for (_, ext) in formats { try OutputFile.checkTarget(prefix + "." + ext, overwrite: true, inputs: inputs) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gradflow-plot-\(UUID().uuidString)")
        // The series' data and the scripts go to a scratch folder; a failure there names it.
        func scratchFailure(_ error: any Error) -> GradFlowError {
            .fileAccess(path: scratch.path, reason: "cannot be written (\(FileSystemFailure.reason(error)))")
        }
        do { try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true) } catch { throw scratchFailure(error) }
        defer { try? FileManager.default.removeItem(at: scratch) }
        for (p, panel) in figure.panels.enumerated() {
            for s in panel.series.indices {
                do {
                    try figure.data(panel: p, series: s).write(to: scratch.appendingPathComponent("p\(p)-s\(s).dat"), atomically: true, encoding: .utf8)
                } catch { throw scratchFailure(error) }
            }
        }
        for (terminal, ext) in formats {
            let target = prefix + "." + ext
            // gnuplot draws into an unnamed file that replaces the target only once it is complete.
            let output = try OutputFile(claiming: target, overwrite: true, inputs: inputs)
            let script = figure.script(terminal: terminal, output: output.contentPath) { scratch.appendingPathComponent("p\($0)-s\($1).dat").path }
            let scriptURL = scratch.appendingPathComponent("plot-\(ext).gp")
            do { try script.write(to: scriptURL, atomically: true, encoding: .utf8) } catch { throw scratchFailure(error) }
            let process: ChildProcess
            do {
                process = try ChildProcess(executable: "/usr/bin/env", arguments: ["gnuplot", scriptURL.path], standardError: .pipe)
            } catch {
                throw GradFlowError.fileAccess(path: "gnuplot", reason: "cannot be started (scripts/install-deps.sh installs gnuplot-nox)")
            }
            // Until gnuplot ends (not until every process holding its stderr does: a helper it left behind would hold plot).
            let message = String(decoding: process.readWhileRunning(of: process.standardErrorPipe!), as: UTF8.self)
            guard process.terminationStatus == 0, output.contentSize > 0 else {
                // One line of gnuplot's own message, cut at 300 characters (a broken gnuplot can print megabytes).
                let line = message.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }
                    .map { $0.count > 300 ? $0.prefix(300) + "…" : String($0) }
                let reason = line ?? (process.terminationStatus == 0 ? "it ended without writing the figure" : "exit \(process.terminationStatus)")
                throw GradFlowError.fileAccess(path: target, reason: "gnuplot failed: \(reason)")
            }
            try output.commit()
            Terminal.print("wrote \(target)")
        }
    }
}
