/// A fixed-size buffer of doubles aligned to 64 bytes, zero-initialised.
///
/// OpenBLAS picks kernels and peels loops by the alignment of its operands, so the same product on
/// differently aligned copies of the same numbers can round differently. Every buffer that GradFlow's
/// numerics hand to BLAS in the hot path (and in the monitors' geometry) lives in one of these, so that
/// the same configuration, seed and thread count give the same bits whatever the allocator did before.
package final class AlignedBuffer {
    package let count: Int
    package let pointer: UnsafeMutablePointer<Double>
    private let raw: UnsafeMutableRawPointer

    package static let alignment = 64

    package init(count: Int) {
        self.count = count
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Double>.stride, alignment: Self.alignment)
        pointer = raw.bindMemory(to: Double.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A copy of `values` (initialised from them directly: the monitors copy θ into one at every output time).
    public init(_ values: [Double]) {
        count = values.count
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Double>.stride, alignment: Self.alignment)
        pointer = raw.bindMemory(to: Double.self, capacity: max(count, 1))
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress, source.count > 0 { pointer.initialize(from: base, count: source.count) } else { pointer.initialize(to: 0) }
        }
    }

    deinit { raw.deallocate() }

    package var array: [Double] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
