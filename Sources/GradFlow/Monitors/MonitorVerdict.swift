/// One line of the closing table, as numbers: a monitored statement, the worst value it took along the run
/// (or its value at the end), the bound it is checked against, the margin by which it held, and a verdict
/// code. The command line lays out the table; the trajectory file stores the numbers (`/monitors`).
public struct MonitorVerdict: Sendable, Equatable {
    /// The verdict code.
    public enum Outcome: String, Sendable, CaseIterable {
        /// The statement held at every point where it was checked.
        case holds
        /// It failed somewhere (beyond the numerical slack stated in its monitor's documentation).
        case violated
        /// It does not apply to this run (the reason is in the note).
        case notApplicable = "n/a"
        /// A value reported without a claim.
        case info

        /// `.holds` when `held`, else `.violated`.
        public static func judged(_ held: Bool) -> Outcome { held ? .holds : .violated }
    }

    /// Short name, unique in a run (the prefix of the `/monitors` attributes).
    public var key: String
    /// The statement, in MATH.md's notation.
    public var title: String
    /// The worst value along the run, or the value at the end; nil when there is none.
    public var value: Double?
    /// The significant digits `value` is meaningful to (for display).
    public var valueDigits: Int
    /// The bound's numbers: none, one bound, or the two ends of a band.
    public var bound: [Double]
    /// How the bound reads, with its numbers (for example `e_k ≤ 1.16`); empty when there is no bound.
    public var boundText: VerdictText
    /// How far the statement was from failing at its tightest point, in the units of its bound (≥ 0 when it
    /// holds; negative when violated); nil when the verdict is not a comparison.
    public var margin: Double?
    public var outcome: Outcome
    /// What else the reader needs: where the value was taken, the slack, the reason for `n/a`.
    public var note: VerdictText

    public init(key: String, title: String, value: Double?, valueDigits: Int = 4, bound: [Double] = [],
                boundText: VerdictText = .empty, margin: Double? = nil, outcome: Outcome, note: VerdictText = .empty) {
        self.key = key
        self.title = title
        self.value = value
        self.valueDigits = valueDigits
        self.bound = bound
        self.boundText = boundText
        self.margin = margin
        self.outcome = outcome
        self.note = note
    }

    /// A statement that does not apply to this run, and why.
    public static func notApplicable(key: String, title: String, because reason: VerdictText) -> MonitorVerdict {
        MonitorVerdict(key: key, title: title, value: nil, outcome: .notApplicable, note: reason)
    }
}
