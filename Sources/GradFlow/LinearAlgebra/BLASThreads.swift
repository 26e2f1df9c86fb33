import COpenBLAS
import CVectorKernels

/// The number of threads OpenBLAS uses, process-wide. Small matrix-vector products lose to threading
/// overhead, so runs use 1 unless told otherwise; the same count gives the same bits.
package enum BLASThreads {
    /// The thread counts a configuration accepts (`threads`).
    package static let accepted = 1...256

    /// The most threads OpenBLAS runs: its compiled `MAX_THREADS` (64 in Debian's build), read from
    /// `openblas_get_config()`; a larger count is capped to it (OpenBLAS would cap it too).
    package static let maximum: Int = {
        let config = String(cString: openblas_get_config())
        if let range = config.firstRange(of: "MAX_THREADS=") {
            let digits = config[range.upperBound...].prefix { $0.isNumber }
            if let value = Int(digits), value >= 1 { return min(value, accepted.upperBound) }
        }
        return max(1, min(Int(openblas_get_num_procs()), accepted.upperBound))
    }()

    /// Refuses a count outside `accepted`, before OpenBLAS is told anything.
    package static func validate(_ count: Int) throws {
        guard accepted.contains(count) else {
            throw GradFlowError.invalidConfiguration(field: .threads, value: "\(count)",
                                                reason: "must be in \(accepted.lowerBound)…\(accepted.upperBound)")
        }
    }

    /// Sets the count, capped to `maximum`, for OpenBLAS and for GradFlow's N_Vector kernels, which split
    /// vectors of at least `GF_PARALLEL_MIN` (2^18) doubles over two threads when the count is 2 or more
    /// (`parallel.h`; smaller vectors, and one thread, run the single-threaded loops bit for bit). A count that
    /// `validate` refuses is not passed on at all (the run's validation, which follows, refuses it).
    package static func set(_ count: Int) {
        guard accepted.contains(count) else { return }
        openblas_set_num_threads(Int32(min(count, maximum)))
        gf_vector_set_threads(Int32(count))
    }

    package static var current: Int { Int(openblas_get_num_threads()) }
}
