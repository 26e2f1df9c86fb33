import COpenBLAS

/// The number of threads OpenBLAS uses, process-wide. Small matrix-vector products lose to threading
/// overhead, so runs use 1 unless told otherwise; the same count gives the same bits.
public enum BLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(count, 1))) }
    public static var current: Int { Int(openblas_get_num_threads()) }
}
