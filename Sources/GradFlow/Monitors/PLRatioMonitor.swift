/// The Polyak–Łojasiewicz ratio `ρ = ‖∇R‖²/(R − R_min)` at every output time (MATH.md §4.3). For the
/// paper's network (linear, scalar output) it must lie in the certificate band
/// `[4λ‖b_1‖², 4Λλ_max(K)]` at the same θ, up to a relative slack of 1e-6 (‖∇R‖² and R − R_min are each
/// accurate to well below it); elsewhere it is reported without a claim (for GELU, R replaces R − R_min).
///
/// Columns: `pl_ratio`, `pl_ratio_min` (running minimum); for the paper's network `pl_lower`, `pl_upper`.
/// Cost per output time: one division, plus for the band `NetworkGeometry` at θ (≈ 2Pd + L·O(d³) flops).
public final class PLRatioMonitor: Monitor {
    let context: MonitorContext
    /// The relative slack of the band test.
    public static let slack = 1e-6
    private var minimum = Double.infinity, rows = 0, bandHeld = true
    private var worstMargin = Double.infinity
    private var lastBand: (lower: Double, upper: Double) = (.nan, .nan)

    public init(context: MonitorContext) {
        self.context = context
    }

    private var checksBand: Bool { context.network.isScalarLinear }

    public var columns: [TrajectoryColumn] {
        var columns: [TrajectoryColumn] = [.scalar("pl_ratio", "PL ratio ‖∇R‖²/(R − R_min)"),
                                           .scalar("pl_ratio_min", "running minimum of the PL ratio")]
        if checksBand {
            columns += [.scalar("pl_lower", "PL band lower end 4λ‖b_1‖²"), .scalar("pl_upper", "PL band upper end 4Λλ_max(K)")]
        }
        return columns
    }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        let e = sample.evaluation
        row["pl_ratio"] = [e.excessRisk > 0 ? e.gradientNormSquared / e.excessRisk : .nan]
        if checksBand {
            let geometry = try sample.geometry(), problem = context.problem
            row["pl_lower"] = [4 * problem.lambdaMin * geometry.suffixNormsSquared[1]]
            row["pl_upper"] = [4 * problem.lambdaMax * geometry.kernelLambdaMax]
        }
    }

    public func track(_ row: inout MonitorRow) {
        guard let rho = row["pl_ratio"]?.first else { return }
        let lower = row["pl_lower"]?.first ?? .nan, upper = row["pl_upper"]?.first ?? .nan
        if rho.isFinite {
            minimum = min(minimum, rho)
            rows += 1
            if rho < lower * (1 - Self.slack) || rho > upper * (1 + Self.slack) { bandHeld = false }
            if lower.isFinite, upper.isFinite { worstMargin = min(worstMargin, rho / lower - 1, 1 - rho / upper) }
        }
        lastBand = (lower, upper)
        row["pl_ratio_min"] = [minimum]
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        let value = rows > 0 ? minimum : nil
        guard checksBand else {
            let denominator = context.network.model == .gelu ? "R" : "(R − R_min)"
            return [MonitorVerdict(key: "pl_ratio", title: "PL ratio ‖∇R‖²/\(denominator)", value: value, outcome: .info,
                                   note: "running minimum; the certificate band of MATH.md §4.3 is derived for scalar-output linear networks")]
        }
        return [MonitorVerdict(key: "pl_ratio", title: "PL ratio ‖∇R‖²/(R − R_min) in [4λ‖b_1‖², 4Λλ_max(K)]", value: value,
                               bound: [lastBand.lower, lastBand.upper],
                               boundText: "final band [\(lastBand.lower, digits: 3), \(lastBand.upper, digits: 3)]",
                               margin: rows > 0 && worstMargin.isFinite ? worstMargin : nil,
                               outcome: rows == 0 ? .notApplicable : .judged(bandHeld),
                               note: "worst = running minimum of the ratio; checked at every output time")]
    }
}
