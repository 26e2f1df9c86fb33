/// The monitors GradFlow knows, in the order of the closing table. Adding a monitor is one file with a
/// type conforming to `Monitor` and one line here (README, *Adding a monitor*).
public enum MonitorRegistry {
    /// One registered monitor.
    public struct Entry: Sendable {
        /// The name a selection (`MonitorSelection`) turns it on by; nil: always on where it applies.
        public let name: String?
        /// What it records, in a few words (for help texts).
        public let summary: String
        /// Makes the monitor for a run, or returns nil where it does not apply.
        public let make: @Sendable (MonitorContext) throws -> (any Monitor)?

        public init(name: String?, summary: String = "", make: @escaping @Sendable (MonitorContext) throws -> (any Monitor)?) {
            self.name = name
            self.summary = summary
            self.make = make
        }
    }

    public static let all: [Entry] = [
        Entry(name: "conservation", summary: "Lemma 1 drift of D_k") { ConservationMonitor(context: $0) },
        Entry(name: "lemma2", summary: "rank-one residual, norm balance, alignment with their bounds; scalar output") { try Lemma2Monitor(context: $0) },
        Entry(name: nil) { $0.network.kind == .residual ? ResidualDisplacementMonitor(context: $0) : nil },
        Entry(name: "pl", summary: "PL ratio in its certificate band") { PLRatioMonitor(context: $0) },
        Entry(name: nil) { $0.problem.test != nil ? TestLossMonitor(context: $0) : nil },
        Entry(name: "sharpness", summary: "λ_max and λ_min of the Hessian at checkpoints") { try SharpnessMonitor(context: $0) },
        Entry(name: "modes", summary: "singular values and mode strengths of M = W_L⋯W_1") { try EndToEndModesMonitor(context: $0) },
        Entry(name: "imbalance", summary: "eigenvalues of D_k(0); for L = 2 the rate c and its checks") { try ImbalanceMonitor(context: $0) },
        Entry(name: "rrr", summary: "reduced-rank regression levels, nearest rank per row") { try ReducedRankMonitor(context: $0) },
        Entry(name: "transitions", summary: "half-times of the modes of M*, located by root finding, beside MATH.md §10.2") {
            try TransitionTimesMonitor(context: $0)
        },
        Entry(name: "kernel", summary: "n < d: W_1 on ker X, ‖MP⊥‖_F, distance to the min-norm solution") { try KernelComponentMonitor(context: $0) },
    ]

    /// "name (summary)" for every selectable monitor, for help texts.
    public static var selectableSummaries: [String] { all.compactMap { entry in entry.name.map { "'\($0)' (\(entry.summary))" } } }

    /// The names a selection can list, in table order.
    public static var selectableNames: [String] { all.compactMap(\.name) }
}
