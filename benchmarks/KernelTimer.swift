import COpenBLAS
import CSundials
import CVectorKernels
import Foundation
import GradFlow

/// Time per call of the hot kernels and the memory-traffic bound they are held against.
enum KernelTimer {
    /// Median seconds per call of `body`, over 5 batches that each last at least 0.05 s.
    static func measure(_ body: () -> Void) -> Double {
        var calls = 1
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { body() }
            if Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 > 0.05 { break }
            calls *= 2
        }
        var samples: [Double] = []
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { body() }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(calls))
        }
        return samples.sorted()[2]
    }

    /// One core's memory bandwidth in bytes per second: the best of a copy (16 bytes per double) and a
    /// daxpy (24 bytes per double) on 3 arrays of 256 MiB, far beyond the caches.
    static func bandwidth() -> Double {
        let count = 32 << 20
        let x = AlignedBuffer(count: count), y = AlignedBuffer(count: count), z = AlignedBuffer(count: count)
        for i in 0..<count { x.pointer[i] = Double(i & 1023); y.pointer[i] = 1 }
        var best = 0.0
        for _ in 0..<5 {
            var start = DispatchTime.now().uptimeNanoseconds
            z.pointer.update(from: x.pointer, count: count)
            best = max(best, 16 * Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9))
            start = DispatchTime.now().uptimeNanoseconds
            cblas_daxpy(Int32(count), 0.5, x.pointer, 1, y.pointer, 1)
            best = max(best, 24 * Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9))
        }
        return best
    }

    /// Seconds per gradient and per Hessian-vector product of the case's risk at its initial weights, on
    /// `threads` threads (`BLASThreads.set`: OpenBLAS and GradFlow's kernels; one thread after).
    static func kernels(_ setup: RunSetup, threads: Int = 1) -> (gradient: Double, hvp: Double) {
        BLASThreads.set(threads)
        defer { BLASThreads.set(1) }
        let risk = DeepLinearRisk(network: setup.network, problem: setup.problem)
        let p = risk.parameterCount
        let theta = AlignedBuffer(setup.initialWeights), out = AlignedBuffer(count: p)
        var rng = GaussianGenerator(seed: 1)
        let v = AlignedBuffer(rng.gaussians(p))
        let thetaView = UnsafeBufferPointer(start: theta.pointer, count: p)
        let outView = UnsafeMutableBufferPointer(start: out.pointer, count: p)
        let gradient = measure { risk.gradient(at: thetaView, into: outView, scale: -1) }
        risk.linearize(at: thetaView)
        let hvp = measure { risk.hessianVectorProduct(UnsafeBufferPointer(start: v.pointer, count: p), into: outView, scale: -1) }
        return (gradient, hvp)
    }

    /// Seconds per N_Vector linear combination of 7 vectors of `length` doubles (one explicit Runge–Kutta stage,
    /// z = y + h Σ a_j k_j: 8 streams, 64 bytes per double) and per linear sum (24 bytes per double), with GradFlow's
    /// kernels on `threads` threads (`gf_vector_set_threads`; vectors of at least GF_PARALLEL_MIN doubles split).
    static func vectorKernels(length: Int, threads: Int32) -> (combination: Double, linearSum: Double) {
        var context: SUNContext?
        SUNContext_Create(nil, &context)
        defer { SUNContext_Free(&context) }
        gf_vector_set_threads(threads)
        defer { gf_vector_set_threads(1) }
        let vectors = (0..<9).map { j -> N_Vector in
            let v = gf_vector_new_aligned(Int64(length), context)!
            let data = N_VGetArrayPointer(v)!
            for i in 0..<length { data[i] = Double((i + j) & 1023) * 1e-3 }
            return v
        }
        defer { vectors.forEach { N_VDestroy($0) } }
        var c = [1.0, 0.1, -0.2, 0.3, -0.4, 0.5, -0.6]
        var inputs = vectors.prefix(7).map { Optional($0) }
        let z = vectors[7], w = vectors[8]
        let combination = measure { _ = N_VLinearCombination(7, &c, &inputs, z) }
        let linearSum = measure { N_VLinearSum(0.5, vectors[0], 2, vectors[1], w) }
        return (combination, linearSum)
    }
}
