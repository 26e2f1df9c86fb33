/// The widths `m_0 = d, m_1, …, m_L` of a deep linear network and the layout of its stacked weights.
///
/// Layer indices are 1-based, as in MATH.md: `W_k` has `m_k` rows and `m_{k−1}` columns, k = 1…L.
/// The stacked vector is `θ = concat(vec_row(W_1), …, vec_row(W_L))`: entry (α, β) of `W_k` sits at
/// `offset(k) + α·m_{k−1} + β` (MATH.md §0). In numpy,
/// `W_k = θ[off_k : off_k + m_k*m_{k−1}].reshape(m_k, m_{k−1})`, and CBLAS sees each block as a
/// `CblasRowMajor` matrix with leading dimension `m_{k−1}`.
public struct NetworkShape: Hashable, Sendable, Codable {
    /// `[m_0, m_1, …, m_L]`, input dimension first.
    public let widths: [Int]
    /// `offsets[k − 1]` is the offset of `W_k`; `offsets[L]` is `P`.
    private let offsets: [Int]

    /// - Parameter file: the file the widths come from (`initWeightsFile`, a trajectory), with `field` the
    ///   place in it; nil when the user gave them as the `depth` and `widths` fields. Errors name that source.
    /// - Throws: `GradFlowError.invalidConfiguration` (`.invalidData` for a file) when there is no layer, a width
    ///   is not positive, or P = Σ m_k m_{k−1} does not fit in an Int (checked before anything is allocated).
    public init(widths: [Int], file: String? = nil, field: String = "widths") throws {
        let text = widths.map(String.init).joined(separator: ",")
        func refuse(_ option: ConfigurationField, _ value: String, _ reason: String) -> GradFlowError {
            file.map { .invalidData(file: $0, field: field, reason: "[\(text)]: " + reason) }
                ?? .invalidConfiguration(field: option, value: "\(value)", reason: "\(reason)")
        }
        guard widths.count >= 2 else { throw refuse(.depth, "\(widths.count - 1)", "the depth must be at least 1") }
        if let bad = widths.firstIndex(where: { $0 < 1 }) {
            throw refuse(.widths, text, "width m_\(bad) = \(widths[bad]) must be at least 1")
        }
        var offsets = [0]
        for k in 1..<widths.count {
            let (block, overflow) = widths[k].multipliedReportingOverflow(by: widths[k - 1])
            let (end, overflowSum) = offsets[k - 1].addingReportingOverflow(block)
            guard !overflow, !overflowSum else {
                throw refuse(.widths, text, "the number of parameters P = Σ m_k·m_{k−1} overflows a 64-bit integer")
            }
            offsets.append(end)
        }
        self.widths = widths
        self.offsets = offsets
    }

    /// The depth `L`.
    public var depth: Int { widths.count - 1 }
    /// The input dimension `d = m_0`.
    public var inputDimension: Int { widths[0] }
    /// The output width `m_L` (the length of `p`).
    public var outputWidth: Int { widths[depth] }
    /// The number of parameters `P = Σ_k m_k m_{k−1}`.
    public var parameterCount: Int { offsets[depth] }
    /// Rows of `W_k`: `m_k`.
    public func rows(_ k: Int) -> Int { widths[k] }
    /// Columns of `W_k`: `m_{k−1}`.
    public func columns(_ k: Int) -> Int { widths[k - 1] }
    /// Offset of `W_k` in the stacked vector.
    public func offset(_ k: Int) -> Int { offsets[k - 1] }
    /// The indices of `W_k` in the stacked vector.
    public func range(_ k: Int) -> Range<Int> { offsets[k - 1]..<offsets[k] }

    /// Reads widths from a configuration's `widths` list for depth `L` and input dimension `d`:
    /// a full list `m_0,…,m_L` (L + 1 numbers, starting with d), the hidden widths `m_1,…,m_{L−1}`
    /// (L − 1 numbers, with `m_L = outputWidth`), or one number used for every hidden layer.
    public static func widths(
        from list: [Int]?, depth: Int, inputDimension d: Int, outputWidth: Int
    ) throws -> [Int] {
        guard depth >= 1 else {
            throw GradFlowError.invalidConfiguration(field: .depth, value: "\(depth)", reason: "the depth must be at least 1")
        }
        let text = list?.map(String.init).joined(separator: ",") ?? ""
        guard let list, !list.isEmpty else {
            return [d] + Array(repeating: d, count: depth - 1) + [outputWidth]
        }
        if list.count == depth + 1 {
            guard list[0] == d else {
                throw GradFlowError.invalidConfiguration(
                    field: .widths, value: "\(text)",
                    reason: "the first width must be the input dimension d = \(d)")
            }
            return list
        }
        if list.count == 1 {
            return [d] + Array(repeating: list[0], count: depth - 1) + [outputWidth]
        }
        if list.count == depth - 1 {
            return [d] + list + [outputWidth]
        }
        throw GradFlowError.invalidConfiguration(
            field: .widths, value: "\(text)",
            reason: "give L+1 = \(depth + 1) widths (d first), L−1 = \(depth - 1) hidden widths, or one hidden width")
    }
}
