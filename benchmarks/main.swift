// GradFlow's kernel benchmark: time per gradient (the gradient-flow right-hand side), per exact
// Hessian-vector product, and per gradient-descent step, on a few network sizes. It prints its figures;
// timings are medians of repeated batches. Run with `make bench` (a release build).
import Foundation
import GradFlow

struct Case {
    var name: String
    var samples: Int
    var dimension: Int
    var width: Int
    var depth: Int
}

let cases = [
    Case(name: "A paper default", samples: 50, dimension: 5, width: 5, depth: 10),
    Case(name: "B medium", samples: 200, dimension: 50, width: 50, depth: 10),
    Case(name: "C large", samples: 1000, dimension: 200, width: 200, depth: 20),
]

/// Median seconds per call of `body`, over batches that each last about 0.1 s.
func measure(_ body: () -> Void) -> Double {
    var calls = 1
    while true {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { body() }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if elapsed > 0.05 { break }
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

BLASThreads.set(1)
print("GradFlow \(GradFlowVersion.string) kernel benchmark (1 OpenBLAS thread, medians of 5 batches)")
print("case                     P          gradient     HVP          GD step      GD steps/s")
for c in cases {
    let config = RunConfiguration(synthetic: SyntheticData(samples: c.samples, dimension: c.dimension), depth: c.depth,
                                  widths: [c.width], initialization: .gaussian(scale: 1 / Double(c.width).squareRoot(), zeroLayer: nil))
    let setup = try RunSetup.prepare(config, checkOutput: false)
    let risk = DeepLinearRisk(network: setup.network, problem: setup.problem)
    let p = risk.parameterCount
    var theta = setup.initialWeights
    var out = [Double](repeating: 0, count: p)
    var rng = GaussianGenerator(seed: 1)
    let v = rng.gaussians(p)
    let gradient = measure {
        theta.withUnsafeBufferPointer { t in out.withUnsafeMutableBufferPointer { risk.gradient(at: t, into: $0, scale: -1) } }
    }
    theta.withUnsafeBufferPointer { risk.linearize(at: $0) }
    let hvp = measure {
        v.withUnsafeBufferPointer { vv in out.withUnsafeMutableBufferPointer { risk.hessianVectorProduct(vv, into: $0, scale: -1) } }
    }
    // Gradient descent at a small η, through the library's own loop (no output rows).
    let steps = max(10, Int(2.0 / gradient))
    let descent = GradientDescent(risk: risk, settings: DescentSettings(learningRate: 1e-4, steps: steps))
    let result = try descent.run(from: setup.initialWeights, outputSteps: [], lossTolerance: nil, trackDrift: false) { _, _, _, _, _ in }
    theta = result.finalWeights
    func us(_ s: Double) -> String { String(format: "%9.2f µs", s * 1e6) }
    print(c.name.padding(toLength: 24, withPad: " ", startingAt: 0), String(p).padding(toLength: 10, withPad: " ", startingAt: 0),
          us(gradient), us(hvp), us(result.secondsPerStep), String(format: "%10.0f", 1 / result.secondsPerStep))
}
