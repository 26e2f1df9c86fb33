import COpenBLAS

/// ‖x‖₂ of a vector of n doubles as √(xᵀx) by `ddot` where xᵀx neither overflows nor underflows, and by
/// `dnrm2` (which scales, at about three times the cost: OpenBLAS's Haswell `dnrm2` is a scalar loop) elsewhere.
///
/// **Accuracy.** `ddot`'s sum has a relative error of at most n·ε (in practice √n·ε); the square root halves it,
/// so the result is within n·ε/2 of ‖x‖₂ — the same order as `dnrm2`'s. The bits differ from `dnrm2`'s.
/// **Cost.** 2n flops, one pass over x.
@inline(__always)
package func euclideanNorm(_ n: Int, _ x: UnsafePointer<Double>) -> Double {
    let square = cblas_ddot(Int32(n), x, 1, x, 1)
    if square.isFinite, square > 1e-280 { return square.squareRoot() }
    return cblas_dnrm2(Int32(n), x, 1)
}

/// `euclideanNorm` of an array.
@inline(__always)
package func euclideanNorm(_ x: [Double]) -> Double {
    x.withUnsafeBufferPointer { $0.isEmpty ? 0 : euclideanNorm($0.count, $0.baseAddress!) }
}
