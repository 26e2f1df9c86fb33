import FoundationEssentials

/// The figures `gradflow plot` draws for each kind of GradFlow file.
public enum FigureBuilder {
    /// One run of a sweep, as its figure needs it (the caller parses the sweep's table).
    public struct SweepRun: Sendable, Equatable {
        /// "flow" or "descent".
        public var method: String
        public var learningRate: Double?
        public var initScale: Double
        /// `converged`, `horizon`, `diverged`, `failed`, `interrupted` or `missing`.
        public var outcome: String
        public var finalSharpness: Double
        public var sharpnessLowerBound: Double
        public var sharpnessUpperBound: Double
        public var corollary2Bound: Double

        public init(method: String, learningRate: Double?, initScale: Double, outcome: String, finalSharpness: Double,
                    sharpnessLowerBound: Double, sharpnessUpperBound: Double, corollary2Bound: Double) {
            self.method = method
            self.learningRate = learningRate
            self.initScale = initScale
            self.outcome = outcome
            self.finalSharpness = finalSharpness
            self.sharpnessLowerBound = sharpnessLowerBound
            self.sharpnessUpperBound = sharpnessUpperBound
            self.corollary2Bound = corollary2Bound
        }
    }

    /// The figure for the file at `path`: a trajectory, a comparison, a sweep table (HDF5 or CSV) or a
    /// critical-learning-rate table. `parseSweepTable` reads a sweep's CSV table (its text and its path, for
    /// errors) into its runs. Cost: reading the file's plotted datasets once.
    /// - Throws: `GradFlowError.invalidData` (field `format`) for any other file.
    public static func figure(for path: String,
                              parseSweepTable: (_ text: String, _ source: String) throws -> [SweepRun]) throws -> Figure {
        try InputFile.checkReadable(path)  // before any open: a FIFO or a device would block
        let notOurs = GradFlowError.invalidData(file: path, field: "format",
                                                reason: "not a GradFlow trajectory, comparison, sweep or critical-lr file")
        if !DataFile.isHDF5(path) {
            guard let text = try? InputFile.text(path), let rows = try? parseSweepTable(text, path) else {
                throw notOurs
            }
            return sweep(rows, name: path)
        }
        let root = try HDF5File.open(path)
        guard case let .string(format)? = try? root.attribute("format") else { throw notOurs }
        switch format {
        case TrajectoryLayout.format: return try trajectory(TrajectoryFile(path: path), name: path)
        case "gradflow-comparison": return try comparison(root, name: path)
        case "gradflow-critical-lr": return try criticalLearningRate(root, name: path)
        case "gradflow-sweep":
            let csv = String(path.dropLast(3)) + ".csv"
            guard let text = try? InputFile.text(csv) else {
                throw GradFlowError.fileAccess(path: csv, reason: "the sweep's CSV table (beside the HDF5 copy) is needed to plot it")
            }
            return sweep(try parseSweepTable(text, csv), name: path)
        default: throw notOurs
        }
    }

    /// Row-wise maximum of a [N, w] dataset.
    static func rowMax(_ file: TrajectoryFile, _ name: String) -> [Double] {
        let (values, shape) = file.datasetWithShape(name)
        guard shape.count == 2, shape[1] > 0 else { return values }
        return (0..<shape[0]).map { r in values[(r * shape[1])..<((r + 1) * shape[1])].max() ?? .nan }
    }

    static func trajectory(_ file: TrajectoryFile, name: String) throws -> Figure {
        try file.checkRowColumns()  // the series share time: a missing, text or resized column is refused
        let t = file.datasetWithShape("trajectory/time").values
        let bound = { (key: String) in (try? file.value(key, in: "bounds"))?.doubleValue ?? .nan }
        let method = file.attribute("method")
        // Files written before the model attribute existed are linear.
        let gelu = (try? file.value("model", in: "network")) == .string("gelu")
        var lossSeries = [Figure.Series("R", x: t, y: file.datasetWithShape("trajectory/loss").values)]
        if !gelu { lossSeries.append(Figure.Series("R − R_min", x: t, y: file.datasetWithShape("trajectory/excess_risk").values)) }
        lossSeries.append(Figure.Series("‖∇R‖²", x: t, y: file.datasetWithShape("trajectory/grad_norm_sq").values))
        if file.datasetLength("trajectory/test_loss") != nil {
            lossSeries.append(Figure.Series("test error", x: t, y: file.datasetWithShape("trajectory/test_loss").values))
        }
        let driftTitle = gelu ? "GELU: no conservation law; the drift that occurs"
            : method == "gradient-descent" ? "Lemma 1 drift (descent: with its η² prediction)" : "Lemma 1: conservation drift"
        var panels = [
            Figure.Panel(title: "Loss", xLabel: "t", yLabel: "", logX: true, logY: true, series: lossSeries),
            Figure.Panel(title: driftTitle,
                         xLabel: "t", yLabel: "max_k ‖D_k(t) − D_k(0)‖_F", logX: true, logY: true,
                         series: [Figure.Series("drift", x: t, y: rowMax(file, "trajectory/conservation_drift_abs")),
                                  Figure.Series("η² prediction", x: t, y: rowMax(file, "trajectory/conservation_drift_predicted"))]),
        ]
        if file.datasetLength("trajectory/rank1_residual") != nil {
            let e = (try? file.value("rank1_residual_bound", in: "bounds")).flatMap { value -> Double? in
                if case let .doubles(v) = value { return v.max() } else { return nil }
            } ?? .nan
            let delta = (try? file.value("delta", in: "bounds")).flatMap { value -> Double? in
                if case let .doubles(v) = value { return v.reduce(0, +) } else { return nil }
            } ?? .nan
            panels.append(Figure.Panel(title: "Lemma 2: rank one and balanced", xLabel: "t", yLabel: "", logX: true,
                                       series: [Figure.Series("max_k ‖W_k‖_F² − ‖W_k‖_2²", x: t, y: rowMax(file, "trajectory/rank1_residual")),
                                                Figure.Series("max − min ‖W_k‖_2²", x: t, y: file.datasetWithShape("trajectory/norm_balance").values)],
                                       references: [("max e_k", e), ("Σδ_k", delta)]))
        }
        if file.datasetLength("trajectory/pl_ratio") != nil {
            let banded = file.datasetLength("trajectory/pl_lower") != nil
            panels.append(Figure.Panel(title: banded ? "PL ratio in its certificate band" : "PL ratio", xLabel: "t",
                                       yLabel: gelu ? "‖∇R‖²/R" : "‖∇R‖²/(R − R_min)", logX: true, logY: true,
                                       series: [Figure.Series("ratio", x: t, y: file.datasetWithShape("trajectory/pl_ratio").values),
                                                Figure.Series("4λ‖b_1‖²", x: t, y: file.datasetWithShape("trajectory/pl_lower").values),
                                                Figure.Series("4Λλ_max(K)", x: t, y: file.datasetWithShape("trajectory/pl_upper").values)]))
        }
        if file.datasetLength("checkpoints/sharpness") != nil {
            let tc = file.datasetWithShape("checkpoints/time").values
            let suffix = gelu ? " (linear theory)" : ""
            panels.append(Figure.Panel(title: "Sharpness at checkpoints", xLabel: "t", yLabel: "λ_max(H)", logX: true, logY: true,
                                       series: [Figure.Series("S(t)", x: tc, y: file.datasetWithShape("checkpoints/sharpness").values, style: "linespoints")],
                                       references: [("2La‖w*‖^{2−2/L}" + suffix, bound("sharpness_lower_bound")),
                                                    ("paper upper bound" + suffix, bound("paper_upper_bound")),
                                                    ("8LΛ‖w*‖^{2−2/L}" + suffix, bound("corollary2_upper_bound")), ("2/η", bound("edge_of_stability"))]))
        }
        if file.datasetLength("trajectory/" + CentralFlowDynamics.Column.sharpness) != nil {
            // The central flow (MATH.md §11): S and λ_2 against 2/η, and the predicted time-averaged loss.
            func column(_ c: String) -> [Double] { file.datasetWithShape("trajectory/" + c).values }
            panels.append(Figure.Panel(title: "Central flow: S and λ_2 (edge phase: S = 2/η)", xLabel: "t = kη", yLabel: "eigenvalue", logX: true,
                                       series: [Figure.Series("S = λ_1", x: t, y: column(CentralFlowDynamics.Column.sharpness)),
                                                Figure.Series("λ_2", x: t, y: column(CentralFlowDynamics.Column.secondEigenvalue))],
                                       references: [("2/η", bound("edge_of_stability"))]))
            panels.append(Figure.Panel(title: "Central flow: loss and descent's predicted average", xLabel: "t = kη", yLabel: "", logX: true, logY: true,
                                       series: [Figure.Series("R", x: t, y: column("loss")),
                                                Figure.Series("R + σ²/η", x: t, y: column(CentralFlowDynamics.Column.averagedLoss))]))
        }
        panels += modePanels(file, time: t)
        if file.datasetLength("trajectory/theta_norm") != nil {
            panels.append(Figure.Panel(title: "Residual: max_k L‖W_k − W_k(0)‖_F", xLabel: "t", yLabel: "", logX: true,
                                       series: [Figure.Series("max_k ‖θ_k‖_F", x: t, y: rowMax(file, "trajectory/theta_norm"))]))
        }
        return Figure(title: "\(URL(fileURLWithPath: name).lastPathComponent): \(method)", panels: panels)
    }

    /// Incremental learning (MATH.md §10.1–10.2): the singular values s_i(M(t)) on log time with the targets σ_i,
    /// each mode's predicted and observed half-time marked at σ_i/2; and the loss beside the RRR levels R_r.
    static func modePanels(_ file: TrajectoryFile, time t: [Double]) -> [Figure.Panel] {
        var panels: [Figure.Panel] = []
        let (values, shape) = file.datasetWithShape("trajectory/end_to_end_singular_values")
        if shape.count == 2, shape[0] == t.count, shape[1] > 0 {
            let k = shape[1]
            let sigma = file.datasetWithShape("transitions/target_singular_values").values
            var series = (0..<k).map { i in
                Figure.Series("s_\(i + 1)(M)", x: t, y: (0..<shape[0]).map { values[$0 * k + i] })
            }
            let observed = file.datasetWithShape("transitions/observed").values
            let predicted = file.datasetWithShape("transitions/predicted").values
            if sigma.count == k, observed.count == k, predicted.count == k {
                series.append(Figure.Series("predicted half-time (σ_i/2)", x: predicted, y: sigma.map { $0 / 2 }, style: "points"))
                series.append(Figure.Series("observed half-time", x: observed, y: sigma.map { $0 / 2 }, style: "points"))
            }
            panels.append(Figure.Panel(title: "Modes of M = W_L⋯W_1 (incremental learning)", xLabel: "t", yLabel: "singular values",
                                       logX: true, series: series,
                                       references: sigma.enumerated().map { ("σ_\($0.offset + 1)(M*)", $0.element) }))
        }
        let levels = file.datasetWithShape("problem/rrr_loss").values
        if levels.count >= 3 {  // two or more modes: plateaus to see
            panels.append(Figure.Panel(title: "Loss and the reduced-rank regression levels R_r", xLabel: "t", yLabel: "R", logX: true,
                                       series: [Figure.Series("R", x: t, y: file.datasetWithShape("trajectory/loss").values)],
                                       references: levels.enumerated().map { ("R_\($0.offset)", $0.element) }))
        }
        return panels
    }

    static func comparison(_ root: HDF5Node, name: String) throws -> Figure {
        func column(_ c: String) -> [Double] { (try? root.readDataset("comparison/" + c).values) ?? [] }
        let t = column("time")
        let eta = (try? root.attribute("lr"))?.doubleValue ?? .nan
        // With the central flow (compare --central): the three sharpnesses against 2/η, the distances to both
        // flows, and descent's average loss beside the central flow's prediction (MATH.md §11).
        if root.contains("comparison/central_sharpness") {
            return Figure(title: "\(URL(fileURLWithPath: name).lastPathComponent): descent, central flow and gradient flow, η = \(eta)", panels: [
                Figure.Panel(title: "Sharpness", xLabel: "t = kη", yLabel: "S = λ_max(H)", logX: false,
                             series: [Figure.Series("GD", x: t, y: column("descent_sharpness"), style: "points"),
                                      Figure.Series("GD two-step average", x: t, y: column("averaged_descent_sharpness")),
                                      Figure.Series("central flow", x: t, y: column("central_sharpness")),
                                      Figure.Series("gradient flow", x: t, y: column("flow_sharpness"))],
                             references: [("2/η", 2 / eta)]),
                Figure.Panel(title: "Distance of descent to the flows", xLabel: "t = kη", yLabel: "relative distance", logX: true, logY: true,
                             series: [Figure.Series("GD to GF", x: t, y: column("relative_distance")),
                                      Figure.Series("GD to central flow", x: t, y: column("central_relative_distance")),
                                      Figure.Series("GD average to central flow", x: t, y: column("averaged_central_distance"))]),
                Figure.Panel(title: "Time-averaged loss", xLabel: "t = kη", yLabel: "R", logX: true, logY: true,
                             series: [Figure.Series("GD two-step average", x: t, y: column("descent_averaged_loss")),
                                      Figure.Series("central flow R + σ²/η", x: t, y: column("central_predicted_loss"))]),
            ], kind: "comparison")
        }
        return Figure(title: "\(URL(fileURLWithPath: name).lastPathComponent): gradient flow against descent, η = \(eta)", panels: [
            Figure.Panel(title: "Distance", xLabel: "t = kη", yLabel: "‖W_GD − W_GF‖/‖W_GF‖", logX: true, logY: true,
                         series: [Figure.Series("relative distance", x: t, y: column("relative_distance"))]),
            Figure.Panel(title: "Excess risk", xLabel: "t = kη", yLabel: "R − R_min", logX: true, logY: true,
                         series: [Figure.Series("flow", x: t, y: column("flow_excess_risk")),
                                  Figure.Series("descent", x: t, y: column("descent_excess_risk"))]),
            Figure.Panel(title: "Conservation drift", xLabel: "t = kη", yLabel: "max_k drift", logX: true, logY: true,
                         series: [Figure.Series("flow (relative)", x: t, y: column("flow_conservation_drift")),
                                  Figure.Series("descent ‖ΔD_k‖_F", x: t, y: column("descent_conservation_drift")),
                                  Figure.Series("η² prediction", x: t, y: column("descent_conservation_predicted"))]),
        ], kind: "comparison")
    }

    static func criticalLearningRate(_ root: HDF5Node, name: String) throws -> Figure {
        func column(_ c: String) -> [Double] { (try? root.readDataset(c).values) ?? [] }
        let depth = column("depth")
        return Figure(title: "Critical learning rate against depth (the paper's Figure 2)", panels: [
            Figure.Panel(title: "η_crit of gradient descent", xLabel: "depth L", yLabel: "η", logX: true, logY: true,
                         series: [Figure.Series("η_crit (bisection)", x: depth, y: column("critical_lr"), style: "linespoints"),
                                  Figure.Series("2/S_min, lower end", x: depth, y: column("prediction_lower")),
                                  Figure.Series("2/S_min, upper end", x: depth, y: column("prediction_upper"))]),
        ], kind: "critical-lr table")
    }

    static func sweep(_ rows: [SweepRun], name: String) -> Figure {
        // Runs that converged, and runs that ended at their horizon (GELU networks do not reach the loss
        // tolerance; the authors' code too reports the sharpness after a fixed number of steps).
        let finished = rows.filter { ["converged", "horizon", "stationary"].contains($0.outcome) }
        let converged = finished.filter { $0.outcome == "converged" }.count
        var groups: [String: [SweepRun]] = [:]
        for row in finished {
            let key = row.method == "descent" ? "GD η = \(row.learningRate ?? .nan)"
                : row.method == "central" ? "central flow η = \(row.learningRate ?? .nan)" : "gradient flow"
            groups[key, default: []].append(row)
        }
        let series = groups.keys.sorted().map { key -> Figure.Series in
            let sorted = groups[key]!.sorted { $0.initScale < $1.initScale }
            return Figure.Series(key, x: sorted.map(\.initScale), y: sorted.map(\.finalSharpness), style: "linespoints")
        }
        var references: [(label: String, value: Double)] = []
        if let first = finished.first {
            references += [("2La‖w*‖^{2−2/L}", first.sharpnessLowerBound), ("paper upper bound", first.sharpnessUpperBound),
                           ("8LΛ‖w*‖^{2−2/L}", first.corollary2Bound)]
        }
        for eta in Set(finished.compactMap(\.learningRate)).sorted() { references.append(("2/η, η = \(eta)", 2 / eta)) }
        return Figure(title: "Final sharpness against initialisation scale (the paper's Figure 1(b))", panels: [
            Figure.Panel(title: "\(converged) converged and \(finished.count - converged) at the horizon, of \(rows.count) runs",
                         xLabel: "initialisation scale", yLabel: "S at the end",
                         logX: true, logY: true, series: series, references: references),
        ], kind: "sweep table")
    }
}
