import Foundation
import GradFlow

/// The crossover behind `TopSingularTripletSolver.directLimit` (case K, not in the default set): per call, the
/// warm one-sided Jacobi SVD against the warm certified Lanczos iteration, along 2,000 matrices W_0 + 1e-4·s·E
/// (k×k, Gaussian: the flat spectrum of an early layer, drifting as along a trajectory). Median of 3 passes.
enum TripletFigures {
    static func measure(say: (String) -> Void) throws -> [[String: Any]] {
        say("Top singular triplet per call (µs), k×k Gaussian drifting by 1e-4·E per call, 2,000 calls, median of 3; "
            + "Jacobi for k ≤ \(TopSingularTripletSolver.directLimit) (directLimit). Command: gradflow-bench --cases K --no-peers")
        var rows: [[String: Any]] = []
        for k in [3, 4, 5, 6, 8, 10, 12, 16, 24] {
            var rng = GaussianGenerator(seed: 3)
            let w0 = rng.gaussians(k * k), e = rng.gaussians(k * k)
            let matrices = (0..<2000).map { step in zip(w0, e).map { $0 + 1e-4 * Double(step) * $1 } }
            func perCall(_ directLimit: Int) throws -> Double {
                var times: [Double] = []
                for _ in 0..<3 {
                    let solver = TopSingularTripletSolver(rows: k, columns: k, directLimit: directLimit)
                    let start = DispatchTime.now().uptimeNanoseconds
                    for w in matrices { _ = try w.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) } }
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-3 / Double(matrices.count))
                }
                return times.sorted()[1]
            }
            let jacobi = try perCall(k), lanczos = try perCall(0)
            say("  k = \(k)".padding(toLength: 10, withPad: " ", startingAt: 0)
                + "Jacobi \(g(jacobi)) µs   Lanczos \(g(lanczos)) µs   (\(g(lanczos / jacobi))×)")
            rows.append(["k": k, "jacobi_microseconds": jacobi, "lanczos_microseconds": lanczos])
        }
        say("")
        return rows
    }
}
