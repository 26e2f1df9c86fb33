/// The monitors GradFlow knows, in the order of the closing table. Adding a monitor is one file with a
/// type conforming to `Monitor` and one line here (README, *Adding a monitor*).
public enum MonitorRegistry {
    /// One registered monitor.
    public struct Entry: Sendable {
        /// The name a selection (`MonitorSelection`) turns it on by; nil: always on where it applies.
        public let name: String?
        /// Makes the monitor for a run, or returns nil where it does not apply.
        public let make: @Sendable (MonitorContext) throws -> (any Monitor)?

        public init(name: String?, make: @escaping @Sendable (MonitorContext) throws -> (any Monitor)?) {
            self.name = name
            self.make = make
        }
    }

    public static let all: [Entry] = [
        Entry(name: "conservation") { ConservationMonitor(context: $0) },
        Entry(name: "lemma2") { try Lemma2Monitor(context: $0) },
        Entry(name: nil) { $0.network.kind == .residual ? ResidualDisplacementMonitor(context: $0) : nil },
        Entry(name: "pl") { PLRatioMonitor(context: $0) },
        Entry(name: nil) { $0.problem.test != nil ? TestLossMonitor(context: $0) : nil },
        Entry(name: "sharpness") { try SharpnessMonitor(context: $0) },
        Entry(name: "modes") { try EndToEndModesMonitor(context: $0) },
        Entry(name: "imbalance") { try ImbalanceMonitor(context: $0) },
        Entry(name: "rrr") { try ReducedRankMonitor(context: $0) },
        Entry(name: "kernel") { try KernelComponentMonitor(context: $0) },
    ]

    /// The names a selection can list, in table order.
    public static var selectableNames: [String] { all.compactMap(\.name) }
}
