import ArgumentParser
import Foundation
import GradFlow

/// `gradflow inspect FILE`: what a trajectory file holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print what a GradFlow trajectory file holds: run, problem, network, solver and trajectory rows."
    )

    @Argument(help: "A trajectory file written by gradflow.")
    var file: String

    @Option(help: "How many trajectory rows to show, at least 1 (evenly spread, first and last included).")
    var rows: Int = 8

    func run() throws {
        guard rows >= 1 else { throw UsageError(option: "--rows", value: "\(rows)", reason: "must be at least 1") }
        let trajectory = try TrajectoryFile(path: file)
        try trajectory.checkRowColumns()  // before anything is printed: one line for a file edited by hand
        func g(_ x: Double, _ digits: Int = 4) -> String { Terminal.g(x, digits) }
        Terminal.print("\(file): GradFlow trajectory (format \(trajectory.formatVersion), written by gradflow \(trajectory.attribute(TrajectoryLayout.Root.gradflowVersion)))")
        let root = TrajectoryLayout.Root.self, group = TrajectoryLayout.Group.self
        for name in [root.method, root.status, root.message, root.commandLine, root.sundialsVersion] {
            Terminal.print("  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(trajectory.attribute(name))")
        }
        for group in [group.problem, group.network, group.bounds, group.solver] {
            let attributes = trajectory.groupAttributes(group)
            guard !attributes.isEmpty else { continue }
            Terminal.print("/\(group)")
            let width = max(17, attributes.map { $0.0.count }.max() ?? 0)
            for (name, value) in attributes {
                let text: String
                if let x = value.doubleValue, case .double = value { text = g(x, 10) } else { text = value.description }
                Terminal.print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0)) \(text)")
            }
        }
        // An incomplete file (a crash, a file edited by hand) may lack columns or hold columns of different
        // lengths: a missing value is shown as "–", never read past the end.
        func cell(_ values: [Double], _ i: Int) -> String {
            (i < values.count ? g(values[i], 6) : "–").padding(toLength: 14, withPad: " ", startingAt: 0)
        }
        let columns = try trajectory.trajectoryColumns()
        let count = columns.map(\.values.count).max() ?? 0
        Terminal.print("/trajectory: \(count) rows; columns \(columns.map(\.name).joined(separator: ", "))")
        let short = columns.filter { $0.values.count < count }
        if !short.isEmpty {
            Terminal.print("  incomplete: " + short.map { "\($0.name) has \($0.values.count) rows" }.joined(separator: ", "))
        }
        if count > 0 {
            Terminal.print("  " + columns.map { $0.name.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
            let shown = Swift.min(Swift.max(rows, 2), count)
            let indices = Set((0..<shown).map { shown == 1 ? 0 : $0 * (count - 1) / (shown - 1) }).sorted()
            for i in indices {
                Terminal.print("  " + columns.map { cell($0.values, i) }.joined())
            }
        }
        for name in [group.initial, group.final].map({ TrajectoryLayout.path($0, TrajectoryLayout.weights) }) {
            if let n = trajectory.datasetLength(name) { Terminal.print("/\(name): \(n) values") }
        }
        let checkpointNames = ["time", "sharpness", "sharpness_residual", "hessian_lambda_min"]
        let checkpoints = checkpointNames.map { trajectory.datasetWithShape(TrajectoryLayout.path(group.checkpoints, $0)).values }
        if let count = checkpoints.map(\.count).max(), count > 0 {
            Terminal.print("/checkpoints: \(count) sharpness checkpoints")
            let short = zip(checkpointNames, checkpoints).filter { $0.1.count < count }
            if !short.isEmpty {
                Terminal.print("  incomplete: " + short.map { "\($0.0) has \($0.1.count) rows" }.joined(separator: ", "))
            }
            Terminal.print("  " + ["time", "sharpness", "residual", "λ_min(H)"].map { $0.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
            for i in 0..<count {
                Terminal.print("  " + checkpoints.map { cell($0, i) }.joined())
            }
        }
        let verdicts = trajectory.monitorVerdicts()
        if !verdicts.isEmpty {
            Terminal.print("/monitors: worst value along the run, bound, verdict")
            MonitorTablePrinter.print(verdicts)
        }
    }
}
