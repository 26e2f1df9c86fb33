import Foundation

/// What a run will need in memory, estimated before it starts, and what it used.
///
/// The estimate counts the large buffers, with P parameters, n samples and d inputs:
/// CVODE's vectors (≈ 20 + Krylov dimension vectors of P doubles for BDF, ≈ 20 for Adams), the dense
/// Jacobian (P² doubles, `bdf-dense`), the Lanczos basis (min(P, lanczos-max) × P doubles) or the dense
/// Hessian (2P², `--sharpness-method dense`), the risk's and monitors' copies of the data (≈ 4nd) and
/// weights (≈ 8P), for `compare` the flow's weights at every output time (rows × P), and the Gauss–Newton
/// preconditioner's systems of a network without projection (BDF with `--preconditioner gauss-newton`):
/// 2(qd)² doubles for q linear outputs. For a GELU network (widths m_k, q = m_L) it adds the cached
/// activations of its two risk instances (the integrator's and the monitors'), two sweeps of ten m_k×n
/// matrices each, 40·n·Σ_{k≥1} m_k doubles, and its preconditioner's (2q + 5)·n·Σ_{k≥1} m_k + 3(qn)² doubles.
public enum MemoryEstimate {
    /// Bytes the configuration is expected to need.
    public static func bytes(_ config: RunConfiguration, parameters p: Int, samples n: Int, dimension d: Int,
                             storedWeightRows: Int = 0, widths: [Int] = []) -> Double {
        let P = Double(p)
        var doubles = 8 * P + 4 * Double(n * d)
        let q = Double(widths.last ?? 1), widthSum = Double(widths.dropFirst().reduce(0, +))
        let preconditioned = config.solver.preconditioner == .gaussNewton && [.auto, .bdfKrylov].contains(config.solver.method)
        if config.model == .gelu {
            doubles += 40 * Double(n) * widthSum
            if preconditioned, q * Double(n) <= Double(GELUGaussNewtonPreconditioner.maximumSystemSize) {
                doubles += (2 * q + 5) * Double(n) * widthSum + 3 * (q * Double(n)) * (q * Double(n))
            }
        } else if q > 1, preconditioned, q * Double(d) <= Double(MultiOutputGaussNewtonPreconditioner.maximumSystemSize) {
            doubles += 2 * (q * Double(d)) * (q * Double(d))
        }
        if config.descent == nil || storedWeightRows > 0 {
            switch config.solver.method {
            case .bdfKrylov, .auto: doubles += (20 + Double(config.solver.krylovDimension)) * P
            case .bdfDense: doubles += 20 * P + P * P
            case .adams: doubles += 20 * P
            case .erk: doubles += 12 * P
            }
        }
        if config.monitors.sharpness {
            switch config.sharpness.method {
            case .lanczos: doubles += Double(min(p, config.sharpness.maxIterations) + 4) * P
            case .dense: doubles += 2 * P * P
            }
        }
        doubles += Double(storedWeightRows) * P
        return 8 * doubles
    }

    /// The machine's physical memory in bytes.
    public static var physicalMemory: Double {
        Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The process's peak resident memory so far, in bytes: `VmHWM` of /proc/self/status, else `getrusage`.
    /// (On Linux `ru_maxrss` survives `execve`: a process started by a large parent, such as a sweep or
    /// a benchmark driver, would report the parent's peak at the time it forked.)
    public static var peakResident: Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = Double(line.split(separator: " ").dropFirst().first ?? "") {
            return kib * 1024
        }
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) * 1024
    }

    /// Refuses a configuration whose estimate exceeds 90% of the physical memory.
    public static func check(_ config: RunConfiguration, parameters p: Int, samples n: Int, dimension d: Int,
                             storedWeightRows: Int = 0, widths: [Int] = []) throws {
        let need = bytes(config, parameters: p, samples: n, dimension: d, storedWeightRows: storedWeightRows, widths: widths)
        let have = physicalMemory
        guard need <= 0.9 * have else {
            throw GradFlowError.invalidArgument(
                option: "memory", value: String(format: "≈ %.1f GiB for P = %d", need / 1_073_741_824, p),
                reason: String(format: "more than 90%% of this machine's %.1f GiB; lower --lanczos-max, drop the sharpness monitor, or use bdf-krylov",
                               have / 1_073_741_824) + (config.model == .gelu ? " (a GELU network caches activations for every sample: fewer samples or narrower layers)" : ""))
        }
    }
}
