import ArgumentParser
import GradFlow

/// `gradflow inspect FILE`: what a trajectory file holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print what a GradFlow trajectory file holds: run, problem, network, solver, trajectory and checkpoint rows, saved weights."
    )

    @Argument(help: "A trajectory file written by gradflow.")
    var file: String

    @Option(parsing: .unconditional, help: "How many trajectory rows and sharpness checkpoints to show, at least 1 (evenly spread, first and last included; 1: the last).")
    var rows: Int = 8

    /// Refuses bad options before `run()`.
    func validate() throws {
        try ValidationFailure.checking {
            guard rows >= 1 else { throw UsageError(option: "--rows", value: "\(rows)", reason: "must be at least 1") }
        }
    }

    /// At most `rows` indices of `0..<count`, evenly spread, the first and the last included (both when `rows` is 1).
    func shownIndices(_ count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let shown = Swift.min(rows, count)  // at most `rows`: one row is the last, two or more include the first
        return Set((0..<shown).map { shown == 1 ? count - 1 : $0 * (count - 1) / (shown - 1) }).sorted()
    }

    func run() throws {
        let trajectory = try TrajectoryFile(path: file)
        try trajectory.checkRowColumns()  // before anything is printed: one line for a file edited by hand
        func g(_ x: Double, _ digits: Int = 4) -> String { Terminal.g(x, digits) }
        Terminal.print("\(file): GradFlow trajectory (format \(trajectory.formatVersion), written by gradflow \(trajectory.attribute(TrajectoryLayout.Root.gradflowVersion)))")
        let root = TrajectoryLayout.Root.self, group = TrajectoryLayout.Group.self
        for name in [root.method, root.status, root.message, root.commandLine, root.sundialsVersion] {
            Terminal.print("  \(name.padded(toLength: 17)) \(trajectory.attribute(name))")
        }
        for group in [group.problem, group.network, group.bounds, group.solver] {
            let attributes = trajectory.groupAttributes(group)
            guard !attributes.isEmpty else { continue }
            Terminal.print("/\(group)")
            let width = max(17, attributes.map { $0.0.count }.max() ?? 0)
            for (name, value) in attributes {
                let text: String
                if let x = value.doubleValue, case .double = value { text = g(x, 10) } else { text = value.description }
                Terminal.print("  \(name.padded(toLength: width)) \(text)")
            }
        }
        // An incomplete file (a crash, a file edited by hand) may lack columns or hold columns of different
        // lengths: a missing value is shown as "–", never read past the end.
        let columns = try trajectory.trajectoryColumns()
        // Each column as wide as its name (at least 14), so that long names never run together.
        let widths = columns.map { max(14, $0.name.count + 2) }
        func cell(_ values: [Double], _ i: Int, _ width: Int) -> String {
            (i < values.count ? g(values[i], 6) : "–").padded(toLength: width)
        }
        let count = columns.map(\.values.count).max() ?? 0
        let matrices = trajectory.datasetNames(in: group.trajectory).filter { name in !columns.contains { $0.name == name } }
            .map { name in "\(name) \(trajectory.datasetWithShape(TrajectoryLayout.path(group.trajectory, name)).shape)" }
        Terminal.print("/trajectory: \(count) rows; columns \(columns.map(\.name).joined(separator: ", "))"
                       + (matrices.isEmpty ? "" : "; per row: " + matrices.joined(separator: ", ")))
        let short = columns.filter { $0.values.count < count }
        if !short.isEmpty {
            Terminal.print("  incomplete: " + short.map { "\($0.name) has \($0.values.count) rows" }.joined(separator: ", "))
        }
        if count > 0 {
            Terminal.print("  " + zip(columns, widths).map { $0.name.padded(toLength: $1) }.joined())
            for i in shownIndices(count) {
                Terminal.print("  " + zip(columns, widths).map { cell($0.values, i, $1) }.joined())
            }
        }
        let transitions = trajectory.datasetNames(in: "transitions")
        if !transitions.isEmpty {
            Terminal.print("/transitions (half-times of the modes of M*, MATH.md §10.2)")
            for name in transitions {
                let values = trajectory.datasetWithShape(TrajectoryLayout.path("transitions", name)).values
                Terminal.print("  \(name.padded(toLength: 23)) " + values.map { g($0, 6) }.joined(separator: "  "))
            }
        }
        for name in [group.initial, group.final].map({ TrajectoryLayout.path($0, TrajectoryLayout.weights) }) {
            if let n = trajectory.datasetLength(name) { Terminal.print("/\(name): \(n) values") }
        }
        let checkpointNames = ["time", "sharpness", "sharpness_residual", "hessian_lambda_min"]
        let checkpoints = checkpointNames.map { trajectory.datasetWithShape(TrajectoryLayout.path(group.checkpoints, $0)).values }
        if let count = checkpoints.map(\.count).max(), count > 0 {
            Terminal.print("/checkpoints: \(count) sharpness checkpoints" + (shownIndices(count).count < count ? " (\(shownIndices(count).count) shown)" : ""))
            let short = zip(checkpointNames, checkpoints).filter { $0.1.count < count }
            if !short.isEmpty {
                Terminal.print("  incomplete: " + short.map { "\($0.0) has \($0.1.count) rows" }.joined(separator: ", "))
            }
            Terminal.print("  " + ["time", "sharpness", "residual", "λ_min(H)"].map { $0.padded(toLength: 14) }.joined())
            for i in shownIndices(count) {
                Terminal.print("  " + checkpoints.map { cell($0, i, 14) }.joined())
            }
        }
        let savedTimes = trajectory.datasetWithShape(TrajectoryLayout.path(group.weights, TrajectoryLayout.Trajectory.time)).values
        let saved = trajectory.datasetWithShape(TrajectoryLayout.path(group.weights, TrajectoryLayout.weights)).shape
        if saved.count == 2 {
            let span = savedTimes.isEmpty ? "" : ", t = \(g(savedTimes[0], 6)) … \(g(savedTimes[savedTimes.count - 1], 6))"
            Terminal.print("/\(group.weights): \(saved[0]) saved rows × \(saved[1]) parameters\(span)"
                           + (savedTimes.count != saved[0] ? " (incomplete: time has \(savedTimes.count) rows)" : ""))
        }
        let verdicts = trajectory.monitorVerdicts()
        if !verdicts.isEmpty {
            Terminal.print("/monitors: worst value along the run, bound, verdict")
            MonitorTablePrinter.print(verdicts)
        }
    }
}
