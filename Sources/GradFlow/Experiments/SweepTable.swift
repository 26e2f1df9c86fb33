import FoundationEssentials

/// One row of a sweep's summary table: the point, its outcome and its final values, read back from the
/// run's trajectory file.
public struct SweepRow: Sendable, Equatable {
    public var point: SweepPoint
    /// `converged` (R − R_min reached the tolerance), `horizon`, `diverged`, `failed`, `interrupted` or `missing`.
    public var outcome: String
    public var finalTime: Double
    public var finalLoss: Double
    public var finalExcessRisk: Double
    public var finalSharpness: Double
    /// 2La‖w*‖^{2−2/L}‖p‖^{2/L} and the paper's upper bound on S_min (MATH.md §4.4).
    public var sharpnessLowerBound: Double
    public var sharpnessUpperBound: Double
    /// Corollary 2's 8LΛ‖w*‖^{2−2/L} (NaN where it does not apply).
    public var corollary2Bound: Double
    public var wallTime: Double
    public var file: String
    /// The test error on the held-out set at the last output time (NaN without one).
    public var finalTestLoss: Double
    /// The scale the run drew its weights with (the table's `init_scale`): s = c·h^{−α} with a scale exponent
    /// (`/network/init_scale` of its file), the point's c without one.
    public var initScale: Double

    public init(point: SweepPoint, outcome: String, finalTime: Double, finalLoss: Double, finalExcessRisk: Double,
                finalSharpness: Double, sharpnessLowerBound: Double, sharpnessUpperBound: Double, corollary2Bound: Double,
                wallTime: Double, file: String, finalTestLoss: Double = .nan, initScale: Double? = nil) {
        self.finalTestLoss = finalTestLoss
        self.initScale = initScale ?? point.effectiveInitScale(hiddenWidth: point.width)
        self.point = point
        self.outcome = outcome
        self.finalTime = finalTime
        self.finalLoss = finalLoss
        self.finalExcessRisk = finalExcessRisk
        self.finalSharpness = finalSharpness
        self.sharpnessLowerBound = sharpnessLowerBound
        self.sharpnessUpperBound = sharpnessUpperBound
        self.corollary2Bound = corollary2Bound
        self.wallTime = wallTime
        self.file = file
    }

    /// Whether the run reached a final outcome (a restarted sweep skips it).
    public var isFinished: Bool { ["converged", "horizon", "diverged", "failed"].contains(outcome) }

    /// The row of `point`, read from its trajectory file (outcome `interrupted` when only its `.partial` is there,
    /// `missing` when there is neither). The scale is the
    /// file's `/network/init_scale`; without a file, the point's (NaN for an exponent without a width).
    public static func read(_ point: SweepPoint, file path: String) -> SweepRow {
        withHDF5Lock { readHoldingLock(point, file: path) }  // its reads as one (a sweep's threads read rows as runs end)
    }

    private static func readHoldingLock(_ point: SweepPoint, file path: String) -> SweepRow {
        var row = SweepRow(point: point, outcome: "missing", finalTime: .nan, finalLoss: .nan, finalExcessRisk: .nan,
                           finalSharpness: .nan, sharpnessLowerBound: .nan, sharpnessUpperBound: .nan, corollary2Bound: .nan,
                           wallTime: .nan, file: URL(fileURLWithPath: path).lastPathComponent)
        guard FileManager.default.fileExists(atPath: path), let file = try? TrajectoryFile(path: path) else {
            // A run killed with its sweep left its partial: `interrupted` (the same command resumes it), not `missing`.
            if FileManager.default.fileExists(atPath: path + OutputFile.partialSuffix) { row.outcome = "interrupted" }
            return row
        }
        let stop = (try? file.value("stop_reason", in: "solver")).map(\.description) ?? ""
        switch file.status {
        case .completed?:
            switch stop {
            case StopReason.lossTolerance.rawValue: row.outcome = "converged"
            case StopReason.stationary.rawValue: row.outcome = "stationary"  // the central flow at rest on S = 2/η
            case StopReason.multipleEigenvalues.rawValue: row.outcome = "multiple-eigenvalues"
            default: row.outcome = "horizon"
            }
            // A central flow started above 2/η: outside its scope (descent would catapult).
            if (try? file.value("central_initial_phase", in: "solver"))?.doubleValue == Double(CentralFlowPhase.above.rawValue) {
                row.outcome = "catapult"
            }
        case .diverged?: row.outcome = "diverged"
        case .failed?: row.outcome = "failed"
        default: row.outcome = "interrupted"
        }
        row.finalTime = (try? file.dataset("trajectory/time"))?.last ?? .nan
        row.finalLoss = (try? file.dataset("trajectory/loss"))?.last ?? .nan
        row.finalExcessRisk = (try? file.dataset("trajectory/excess_risk"))?.last ?? .nan
        row.finalSharpness = (try? file.dataset("checkpoints/sharpness"))?.last ?? .nan
        row.sharpnessLowerBound = (try? file.value("sharpness_lower_bound", in: "bounds"))?.doubleValue ?? .nan
        row.sharpnessUpperBound = (try? file.value("paper_upper_bound", in: "bounds"))?.doubleValue ?? .nan
        row.corollary2Bound = (try? file.value("corollary2_upper_bound", in: "bounds"))?.doubleValue ?? .nan
        row.wallTime = (try? file.value("wall_time", in: "solver"))?.doubleValue ?? .nan
        row.finalTestLoss = (try? file.dataset("trajectory/test_loss"))?.last ?? .nan
        if let scale = (try? file.value(TrajectoryLayout.Network.initializationScale, in: TrajectoryLayout.Group.network))?.doubleValue {
            row.initScale = scale
        }
        return row
    }
}

/// The summary table of a sweep, as CSV (one header line) and HDF5 (one dataset per column).
public enum SweepTable {
    /// The columns of tables written before `final_test_loss` existed; `parse` still reads them.
    static let legacyColumns = ["index", "method", "init", "init_scale", "lr", "depth", "width", "seed", "outcome", "final_time",
                                "final_loss", "final_excess_risk", "final_sharpness", "sharpness_lower_bound",
                                "sharpness_upper_bound", "corollary2_bound", "wall_time", "file"]
    /// The columns of tables written before `scale_exponent` existed; `parse` still reads them.
    static let testLossColumns = legacyColumns + ["final_test_loss"]
    /// The columns: `init_scale` is the scale drawn with (s = c·h^{−α}), `scale_exponent` α (empty: none).
    public static let columns = testLossColumns + ["scale_exponent"]

    static func text(_ x: Double) -> String { x.isNaN ? "" : "\(x)" }

    public static func csv(_ rows: [SweepRow]) -> String {
        var lines = [columns.joined(separator: ",")]
        for r in rows.sorted(by: { $0.point.index < $1.point.index }) {
            let p = r.point
            let fields = [String(p.index), p.method, p.initialization, text(r.initScale), p.learningRate.map(text) ?? "",
                          String(p.depth), p.width.map(String.init) ?? "", String(p.seed), r.outcome, text(r.finalTime),
                          text(r.finalLoss), text(r.finalExcessRisk), text(r.finalSharpness), text(r.sharpnessLowerBound),
                          text(r.sharpnessUpperBound), text(r.corollary2Bound), text(r.wallTime), r.file, text(r.finalTestLoss),
                          p.scaleExponent.map(text) ?? ""]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads a table written by `csv` (or by a version without `scale_exponent`, or without `final_test_loss`).
    /// The point's c is recovered from `init_scale` as s·h^α when the row has a width (NaN otherwise); the row's
    /// `initScale` is the column itself.
    public static func parse(_ text: String, source: String) throws -> [SweepRow] {
        var lines = InputFile.lines(InputFile.withoutByteOrderMark(text)).filter { !$0.isEmpty }.map(String.init)
        guard let header = lines.first, [columns, testLossColumns, legacyColumns].contains(where: { header == $0.joined(separator: ",") }) else {
            throw GradFlowError.invalidData(file: source, field: "header", reason: "not a GradFlow sweep table")
        }
        let width = header.split(separator: ",").count
        lines.removeFirst()
        return try lines.enumerated().map { lineIndex, line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            func fail(_ what: String) -> GradFlowError { .invalidData(file: source, field: "line \(lineIndex + 2)", reason: what) }
            guard f.count == width else { throw fail("has \(f.count) fields, expected \(width)") }
            func number(_ i: Int) -> Double { Double(f[i]) ?? .nan }
            guard let index = Int(f[0]), let depth = Int(f[5]), let seed = UInt64(f[7]), let scale = Double(f[3]) else {
                throw fail("index, depth, seed or scale is not a number")
            }
            var alpha: Double?
            if width > 19, !f[19].isEmpty {
                guard let value = Double(f[19]) else { throw fail("scale_exponent \"\(f[19])\" is not a number") }
                alpha = value
            }
            let hiddenWidth = Int(f[6])
            // The point's c: the column is s = c·h^{−α}.
            let c = alpha.map { a in hiddenWidth.map { scale / WeightInitialization.widthFactor(hiddenWidth: $0, exponent: a) } ?? .nan } ?? scale
            let point = SweepPoint(index: index, method: f[1], initialization: f[2], initScale: c, learningRate: Double(f[4]),
                                   depth: depth, width: hiddenWidth, seed: seed, scaleExponent: alpha)
            return SweepRow(point: point, outcome: f[8], finalTime: number(9), finalLoss: number(10), finalExcessRisk: number(11),
                            finalSharpness: number(12), sharpnessLowerBound: number(13), sharpnessUpperBound: number(14),
                            corollary2Bound: number(15), wallTime: number(16), file: f[17], finalTestLoss: width > 18 ? number(18) : .nan,
                            initScale: scale)
        }
    }

    /// The runs of a sweep table's CSV `text` as `FigureBuilder` plots them (`source` names it in errors).
    public static func figureRuns(_ text: String, source: String) throws -> [FigureBuilder.SweepRun] {
        try parse(text, source: source).map { row in
            FigureBuilder.SweepRun(method: row.point.method, learningRate: row.point.learningRate, initScale: row.initScale,
                                   outcome: row.outcome, finalSharpness: row.finalSharpness, sharpnessLowerBound: row.sharpnessLowerBound,
                                   sharpnessUpperBound: row.sharpnessUpperBound, corollary2Bound: row.corollary2Bound)
        }
    }

    /// The union of shards' tables, by index (a later table's row replaces an earlier one's).
    public static func merge(_ tables: [[SweepRow]]) -> [SweepRow] {
        var byIndex: [Int: SweepRow] = [:]
        for table in tables { for row in table { byIndex[row.point.index] = row } }
        return byIndex.keys.sorted().map { byIndex[$0]! }
    }

    /// Writes the table as CSV at `path` and as HDF5 beside it (same name, `.h5`), replacing both, each
    /// atomically (`OutputFile`): a reader sees the old table or the new one, never a part. `inputs` (the
    /// tables being merged, a spec) are never written over. `claimed`: the CSV's `OutputFile`, when the caller
    /// claimed it earlier (a sweep holds its summary from its start, so that a second sweep on the same folder is
    /// refused before it runs anything).
    package static func write(_ rows: [SweepRow], csvPath path: String, inputs: [OutputFile.Input] = [], claimed: OutputFile? = nil) throws {
        let h5 = (path.hasSuffix(".csv") ? String(path.dropLast(4)) : path) + ".h5"
        try OutputFile.checkTarget(h5, overwrite: true, inputs: inputs)
        let table = try claimed ?? OutputFile(claiming: path, overwrite: true, inputs: inputs)
        try table.write(Data(csv(rows).utf8))
        try table.commit()
        try HDF5Output.write(h5, overwrite: true, inputs: inputs, estimatedBytes: rows.count * 21 * 16) { root in
            try root.setAttribute("format", .string("gradflow-sweep"))
            try root.setAttribute("format_version", .integer(GradFlowVersion.formatVersion))
            let sorted = rows.sorted { $0.point.index < $1.point.index }
            let numeric: [(String, (SweepRow) -> Double)] = [
                ("index", { Double($0.point.index) }), ("init_scale", { $0.initScale }), ("lr", { $0.point.learningRate ?? .nan }),
                ("depth", { Double($0.point.depth) }), ("width", { $0.point.width.map(Double.init) ?? .nan }),
                ("seed", { Double($0.point.seed) }), ("final_time", { $0.finalTime }), ("final_loss", { $0.finalLoss }),
                ("final_excess_risk", { $0.finalExcessRisk }), ("final_sharpness", { $0.finalSharpness }),
                ("sharpness_lower_bound", { $0.sharpnessLowerBound }), ("sharpness_upper_bound", { $0.sharpnessUpperBound }),
                ("corollary2_bound", { $0.corollary2Bound }), ("wall_time", { $0.wallTime }), ("final_test_loss", { $0.finalTestLoss }),
                ("scale_exponent", { $0.point.scaleExponent ?? .nan }),
            ]
            for (name, value) in numeric { try root.writeDataset(name, sorted.map(value), shape: [sorted.count]) }
            // Named dimension (format version 2): the rows are labelled by the grid point's index.
            try root.makeDimensionScale("index")
            for (name, _) in numeric {
                if name != "index" { try root.attachDimensions(name, ["/index"]) }
                try root.describe(name, name == "index" ? "grid point index" : name.replacing("_", with: " "))
            }
            try root.setAttribute("method", .string(sorted.map(\.point.method).joined(separator: ",")))
            try root.setAttribute("init", .string(sorted.map(\.point.initialization).joined(separator: ",")))
            try root.setAttribute("outcome", .string(sorted.map(\.outcome).joined(separator: ",")))
        }
    }
}
