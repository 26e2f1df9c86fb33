/// Where GradFlow's per-row monitors switch from plain loops to BLAS: OpenBLAS's fixed cost per call (argument
/// checks, kernel dispatch) is most of a product's cost for matrices this small (measured on case A's 5-wide
/// layers: the Lemma 1 and PL-band rows cost 68 k and 105 k instructions through BLAS).
package enum SmallMatrices {
    /// Every dimension at most this: plain loops (`Imbalances`, `NetworkGeometry`).
    package static let widthLimit = 16
}
