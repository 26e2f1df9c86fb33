import FoundationEssentials
import Glibc

/// What a run will need in memory, estimated before it starts, and what it used.
///
/// The estimate counts the large buffers, with P parameters, n samples and d inputs:
/// CVODE's vectors (≈ 20 + Krylov dimension vectors of P doubles for BDF, ≈ 20 for Adams), the dense
/// Jacobian (P² doubles, `bdf-dense`), the Lanczos basis (min(P, lanczos-max) × P doubles) or the dense
/// Hessian (2P², `sharpness.method` dense), the risk's and monitors' copies of the data (≈ 4nd) and
/// weights (≈ 8P, and 3P more for the rows waiting for a second recording thread), for `compare` the flow's weights at every output time (rows × P), and the Gauss–Newton
/// preconditioner's systems of a network without projection (BDF with `solver.preconditioner` gauss-newton):
/// 2(qd)² doubles for q linear outputs. For a GELU network (widths m_k, q = m_L) it adds the cached
/// activations of its two risk instances (the integrator's and the monitors'), two sweeps of fifteen m_k×n
/// matrices each, 60·n·Σ_{k≥1} m_k doubles, and its preconditioner's (2q + 5)·n·Σ_{k≥1} m_k + 3(qn)² doubles.
/// A central flow (`central`) adds its own risk instance, its Lanczos basis (≤ min(P, 300) vectors), four
/// more vectors and an explicit stepper's (≈ (min(P, 300) + 20)·P doubles).
/// It also counts the data's other copies (Y and its noise ≈ 3nq, Σ and its eigenvectors ≈ 3d², the held-out
/// set 2n'(d + q), the condition-number SVD 3nd), a sharpness checkpoint's row of P weights, and the output
/// schedule: its times and the rows buffered between flushes, ≈ 7 + 12L doubles each (plus the explicit
/// times written into a comparison's `config` attribute), and the saved weights (`saveWeights`) held between
/// two flushes: at most `TrajectoryWriter.weightBufferRows` rows of P (8 MiB, or one row), and a chunk of them.
///
/// `checkPlan` makes the estimate from the options alone, before any data are drawn or widths built: the
/// synthetic n, d, q, n', P by formula from `depth`/`widths`, the schedule's count; it also refuses sizes
/// beyond BLAS' 32-bit integers. The message names the largest part and the options that drive it.
package enum MemoryEstimate {
    /// Bytes the configuration is expected to need. Every product is taken in floating point, so that no
    /// size can overflow here; `testSamples` and `outputs` are the held-out rows and q.
    package static func bytes(_ config: RunConfiguration, parameters p: Int, samples n: Int, dimension d: Int,
                             storedWeightRows: Int = 0, widths: [Int] = [], testSamples: Int = 0) -> Double {
        terms(config, parameters: Double(p), samples: Double(n), dimension: Double(d), outputs: Double(widths.last ?? 1),
              testSamples: Double(testSamples), storedWeightRows: Double(storedWeightRows),
              widthSum: Double(widths.dropFirst().reduce(0.0) { $0 + Double($1) }), depth: Double(max(widths.count - 1, 1)))
            .reduce(0) { $0 + $1.bytes }
    }

    /// One part of the estimate: what it is for (naming the fields that drive it), its bytes, and what to lower.
    struct Term {
        var what: ConfigurationText
        var bytes: Double
        var advice: ConfigurationText
    }

    /// The estimate in parts: the data, the parameters (solver, sharpness, preconditioner), a GELU network's
    /// activations, the weights a caller keeps at every output time, and the output schedule.
    static func terms(_ config: RunConfiguration, parameters P: Double, samples n: Double, dimension d: Double, outputs q: Double,
                      testSamples nTest: Double, storedWeightRows: Double, widthSum: Double, depth L: Double,
                      dataWhat: ConfigurationText? = nil, parameterWhat: ConfigurationText? = nil) -> [Term] {
        // The data: X, Y, their copies in the risk and the monitors (≈ 4nd), the least-squares copy, Σ and its
        // eigenvectors (≈ 3d²), the held-out set; the condition-number SVD copies X twice more.
        var data = 4 * n * d + 3 * n * q + 3 * d * d + d * q + 2 * nTest * (d + q)
        if config.dataFile == nil, config.synthetic.conditionNumber != nil { data += 3 * n * d }
        // θ's copies in the run (≈ 8P), and the rows waiting for a `RecordingThread` (its depth, 2, and the one it
        // records, each holding θ: 3P, when the run records on a second thread).
        var parameters = 8 * P
        if config.threads == 1, !config.monitors.isEmpty { parameters += 3 * P }
        var gelu = 0.0
        let preconditioned = config.solver.preconditioner == .gaussNewton && [.auto, .bdfKrylov].contains(config.solver.method)
        if config.model == .gelu {
            gelu += 60 * n * widthSum
            if preconditioned, q * n <= Double(GELUGaussNewtonPreconditioner.maximumSystemSize) {
                gelu += (2 * q + 5) * n * widthSum + 3 * (q * n) * (q * n)
            }
        } else if q > 1, preconditioned, q * d <= Double(MultiOutputGaussNewtonPreconditioner.maximumSystemSize) {
            parameters += 2 * (q * d) * (q * d)
        }
        if config.descent == nil || storedWeightRows > 0 {
            switch config.solver.method {
            case .bdfKrylov, .auto: parameters += (20 + Double(config.solver.krylovDimension)) * P
            case .bdfDense: parameters += 20 * P + P * P
            case .adams: parameters += 20 * P
            case .erk: parameters += 12 * P
            }
        }
        if config.central != nil {
            // The central flow (MATH.md §11): its own risk instance, the Lanczos basis of its top pairs (at most
            // min(P, 300) vectors), u, ∇S, ∇R and θ, and the edge phase's explicit stepper.
            parameters += (min(P, 300) + 8 + 12) * P
            if config.model == .gelu { gelu += 30 * n * widthSum }
        }
        var sharpness = 0.0
        if config.monitors.sharpness {
            switch config.sharpness.method {
            case .lanczos: sharpness = (min(P, Double(config.sharpness.maxIterations)) + 4) * P
            case .dense: sharpness = 2 * P * P
            }
            sharpness += P  // the checkpoint's row of weights on its way to /checkpoints/weights
        }
        // What to lower: the network when its vectors alone do not fit, else the sharpness monitor or the dense Jacobian.
        let vectors = parameters - (config.solver.method == .bdfDense && config.descent == nil ? P * P : 0)
        let parameterAdvice: ConfigurationText = 8 * vectors <= 0.9 * MachineMemory.physical
            ? "lower \(field: .lanczosMaxIterations), drop the sharpness monitor, or use bdf-krylov"
            : "make the network smaller (\(field: .depth), \(field: .widths)"
                + (config.widths == nil ? ", or \(field: .inputDimension), whose d sets the hidden widths" : "") + ")"
        parameters += sharpness
        // The output schedule: its times (and their copies), and the rows buffered between two flushes,
        // each of the four risk columns and the monitors' (≈ 12 per layer); a comparison's explicit times
        // are also written as text into the `config` attribute.
        let rows = Double(config.schedule.explicitTimes?.count ?? config.schedule.count) + 1
        let schedule = rows * (3 + 4 + 12 * L + (config.schedule.explicitTimes != nil || storedWeightRows > 0 ? 4 : 0))
        let stored = storedWeightRows * P
        // The saved weights: every k-th row (t = 0 and the last too) held until a flush, at most the writer's buffer.
        var saved = 0.0
        if let k = config.saveWeights, k >= 1, P >= 1 {
            let parameters = Int(min(P, Double(Int32.max)))
            let rowsSaved = (rows / Double(k)).rounded(.up) + 1
            saved = (min(rowsSaved, Double(TrajectoryWriter.weightBufferRows(parameters: parameters)))
                     + Double(TrajectoryWriter.weightChunkRows(parameters: parameters))) * P
        }
        let synthetic = config.dataFile == nil
        let dataOptions: ConfigurationText = synthetic
            ? " (\(field: .samples), \(field: .inputDimension)" + (q > 1 ? ", \(field: .outputs)" : "") + (nTest > 0 ? ", \(field: .testSamples)" : "") + ")"
            : ""
        return [
            Term(what: dataWhat ?? "the data, n = \(count(n)) samples of d = \(count(d)) features" + (q > 1 ? ", q = \(count(q)) outputs" : "")
                    + (nTest > 0 ? ", n_test = \(count(nTest))" : "") + dataOptions,
                 bytes: 8 * data,
                 advice: synthetic ? "lower \(field: .samples), \(field: .inputDimension), \(field: .outputs) or \(field: .testSamples)" : "use a smaller data file"),
            Term(what: parameterWhat ?? "P = \(count(P)) parameters", bytes: 8 * parameters,
                 advice: parameterAdvice),
            Term(what: "the cached activations of a GELU network (n·Σm_k = \(count(n * widthSum)))", bytes: 8 * gelu,
                 advice: "a GELU network caches activations for every sample: fewer samples or narrower layers"),
            Term(what: "the flow's weights at \(count(storedWeightRows)) output times × P = \(count(P))", bytes: 8 * stored,
                 advice: "lower \(field: .outputTimes), or make the network smaller"),
            Term(what: "the saved weights (\(field: .saveWeights)), rows of P = \(count(P)) held between flushes", bytes: 8 * saved,
                 advice: "make the network smaller"),
            Term(what: "\(field: .outputTimes) \(count(rows - 1)) (the output schedule, and its rows between flushes"
                    + (L > 10 ? ", ≈ 12 values a row for each of the \(field: .depth) \(count(L)) layers)" : ")"), bytes: 8 * schedule,
                 advice: L > 10 ? "lower \(field: .outputTimes) or \(field: .depth)" : "lower \(field: .outputTimes)"),
        ]
    }

    /// A count as an integer while it is exact, else in exponent form.
    static func count(_ x: Double) -> String {
        x.isFinite && abs(x) < 1e15 ? String(Int(x)) : String(printf: "%.3g", x)
    }

    /// Refuses, from the configuration alone (nothing is drawn or allocated yet), a run whose data, network
    /// or output schedule could not be held in memory or exceed BLAS' 32-bit sizes. The sizes are those of
    /// the synthetic data, or of the data file once it is read (`samples`, `dimension`, `outputs`,
    /// `testSamples`); P comes from `depth`/`widths` by formula, without building the widths.
    package static func checkPlan(_ config: RunConfiguration, samples: Int? = nil, dimension: Int? = nil, outputs: Int? = nil,
                                 testSamples: Int? = nil, storedWeightRows: Int = 0, dataSource: String? = nil) throws {
        let s = config.synthetic
        let n = Double(samples ?? s.samples), d = Double(dimension ?? s.dimension), q = Double(outputs ?? s.outputs)
        let nTest = Double(testSamples ?? (config.dataFile == nil ? s.testSamples : 0))
        let fromFile = config.dataFile != nil
        guard !fromFile || samples != nil else {
            // The sizes of a data file are not known yet: only the output schedule can be checked.
            try refuse(config, terms(config, parameters: 0, samples: 0, dimension: 0, outputs: 1, testSamples: 0, storedWeightRows: 0,
                                     widthSum: 0, depth: Double(config.depth ?? config.widths.map { $0.count - 1 } ?? RunConfiguration.defaultDepth)))
            return
        }
        guard n >= 1, d >= 1, q >= 1, nTest >= 0 else { return }  // refused with their own messages later
        let depth = config.initWeightsFile == nil ? config.depth ?? RunConfiguration.defaultDepth : config.depth ?? 1
        let network = config.initWeightsFile == nil ? plannedParameters(config, depth: depth, d: d, q: q) : nil
        let dataWhat: ConfigurationText? = fromFile
            ? "the data of \(dataSource ?? config.dataFile ?? ""), n = \(count(n)) samples of d = \(count(d)) features" : nil
        try refuse(config, terms(config, parameters: network?.P ?? 0, samples: n, dimension: d, outputs: q, testSamples: nTest,
                                 storedWeightRows: Double(storedWeightRows), widthSum: network?.widthSum ?? 0, depth: Double(max(depth, 1)),
                                 dataWhat: dataWhat, parameterWhat: network?.what))
        // BLAS and LAPACK take 32-bit sizes: every dimension and every vector length passed to them must fit.
        let limit = Double(Int32.max), reason = "more than the 2147483647 that BLAS' 32-bit sizes allow"
        let sizes: [(String, Double, [ConfigurationField])] = [
            ("n", n, [.samples]), ("d", d, [.inputDimension]), ("q", q, [.outputs]), ("n·d", n * d, [.samples, .inputDimension]),
            ("n·q", n * q, [.samples, .outputs]), ("d·q", d * q, [.inputDimension, .outputs]), ("d²", d * d, [.inputDimension]),
            ("n_test·d", nTest * d, [.testSamples, .inputDimension]), ("n_test·q", nTest * q, [.testSamples, .outputs]),
        ]
        if let (name, value, fields) = sizes.first(where: { $0.1 > limit }) {
            if let file = config.dataFile {
                throw GradFlowError.invalidData(file: dataSource ?? file, field: "X", reason: "\(name) = \(count(value)) is \(reason)")
            }
            let values: [ConfigurationField: Double] = [.samples: n, .inputDimension: d, .outputs: q, .testSamples: nTest]
            // The first field's value, then each further field with its value: `samples 100000 synthetic.dimension 100000`.
            let given = fields.dropFirst().reduce(ConfigurationText("\(count(values[fields[0]] ?? 0))")) { text, field in
                text + " \(field: field) \(count(values[field] ?? 0))"
            }
            throw GradFlowError.invalidConfiguration(field: fields[0], value: given, reason: "\(name) = \(count(value)) is \(reason)")
        }
        if let network, network.P > limit {
            throw GradFlowError.invalidConfiguration(field: config.widths == nil ? .depth : .widths,
                                                     value: "\(config.widths.map { $0.map(String.init).joined(separator: ",") } ?? "\(depth)")",
                                                reason: "\(network.what) is \(reason)")
        }
    }

    /// P and Σ_{k≥1} m_k of the network that `depth` and `widths` describe, by formula (a depth of 10^11
    /// must not build a widths array first); nil when the widths will be refused for another reason.
    static func plannedParameters(_ config: RunConfiguration, depth L: Int, d: Double, q: Double)
        -> (P: Double, widthSum: Double, what: ConfigurationText)? {
        guard L >= 1 else { return nil }
        let linearProjection = Network.takesProjection(model: config.model, outputCount: Int(q))
        let last = linearProjection ? 1.0 : q
        let given = config.widths.map { $0.map(String.init).joined(separator: ",") }
        let defaultHidden = (config.widths ?? []).isEmpty && L > 1
        let drivers: ConfigurationText = " parameters (\(field: .depth) \(L)" + (given.map { ", \(field: .widths) \($0)" } ?? "")
            + (defaultHidden || config.initialization.name == "residual" ? ", layers d = \(count(d)) wide from \(field: .inputDimension)" : "")
            + (q > 1 ? ", m_L = q = \(count(q)) from \(field: .outputs)" : "") + ")"
        func result(_ P: Double, _ sum: Double) -> (Double, Double, ConfigurationText) { (P, sum, "P ≈ \(count(P))" + drivers) }
        if case .residual = config.initialization {
            return result(Double(L) * d * d, Double(L) * d)
        }
        let list = config.widths ?? []
        if list.isEmpty || list.count == 1 {
            let h = list.first.map(Double.init) ?? d
            guard h >= 1 else { return nil }
            if L == 1 { return result(d * last, last) }
            return result(d * h + Double(L - 2) * h * h + h * last, Double(L - 1) * h + last)
        }
        let widths: [Double]
        if list.count == L + 1 { widths = list.map(Double.init) } else if list.count == L - 1 { widths = [d] + list.map(Double.init) + [last] } else { return nil }
        guard widths.allSatisfy({ $0 >= 1 }) else { return nil }
        let P = zip(widths.dropFirst(), widths).reduce(0.0) { $0 + $1.0 * $1.1 }
        return result(P, widths.dropFirst().reduce(0, +))
    }

    /// Throws for the largest term when the sum exceeds 90% of the physical memory.
    static func refuse(_ config: RunConfiguration, _ parts: [Term]) throws {
        let need = parts.reduce(0) { $0 + $1.bytes }, have = MachineMemory.physical
        guard need > 0.9 * have, let largest = parts.max(by: { $0.bytes < $1.bytes }) else { return }
        throw GradFlowError.invalidRequest(
            subject: "memory", value: "≈ \(gibibytes(need)) GiB for \(largest.what)",
            reason: "\(String(printf: "more than 90%% of this machine's %.1f GiB; ", have / 1_073_741_824))" + largest.advice)
    }

    static func gibibytes(_ bytes: Double) -> String {
        let g = bytes / 1_073_741_824
        return g < 1e6 ? String(printf: "%.1f", g) : String(printf: "%.3g", g)
    }

    /// The process's peak resident memory so far, in bytes: `VmHWM` of /proc/self/status, else `getrusage`.
    /// (On Linux `ru_maxrss` survives `execve`: a process started by a large parent, such as a sweep or
    /// a benchmark driver, would report the parent's peak at the time it forked.)
    package static var peakResident: Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = Double(line.split(separator: " ").dropFirst().first ?? "") {
            return kib * 1024
        }
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) * 1024
    }

    /// Refuses a configuration whose estimate exceeds 90% of the physical memory, naming what drives it.
    package static func check(_ config: RunConfiguration, parameters p: Int, samples n: Int, dimension d: Int,
                             storedWeightRows: Int = 0, widths: [Int] = [], testSamples: Int = 0) throws {
        let widthText = widths.map(String.init).joined(separator: "-")
        try refuse(config, terms(config, parameters: Double(p), samples: Double(n), dimension: Double(d), outputs: Double(widths.last ?? 1),
                                 testSamples: Double(testSamples), storedWeightRows: Double(storedWeightRows),
                                 widthSum: widths.dropFirst().reduce(0.0) { $0 + Double($1) }, depth: Double(max(widths.count - 1, 1)),
                                 parameterWhat: "P = \(p)\(widths.isEmpty ? "" : " (widths \(widthText))")"))
    }
}
