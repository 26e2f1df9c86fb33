import Foundation
import GradFlow
import Testing

/// Seeded random inputs for the readers and the configuration: every input must either load or throw a
/// typed `GradFlowError` (or a `DecodingError` for JSON); a crash or a hang fails the suite. CI runs a
/// few hundred cases; `GRADFLOW_FUZZ_ITERATIONS=N swift test --filter Fuzz` runs longer (README records a run).
@Suite("Fuzzing the input paths")
struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["GRADFLOW_FUZZ_ITERATIONS"] ?? "") ?? 200

    /// Loads a data file and, when it loads, checks the invariants the rest of GradFlow relies on.
    static func exercise(_ path: String) {
        do {
            let data = try DataFile.load(path)
            #expect(data.inputs.count == data.sampleCount * data.dimension && data.targets.count == data.sampleCount)
            if let problem = try? data.makeProblem(source: path) {
                #expect(problem.lambdaMin > 0 && problem.lambdaMin <= problem.lambdaMax)
            }
        } catch is GradFlowError {
        } catch {
            Issue.record("untyped error \(error) for \(path)")
        }
        do { _ = try InitialWeightsFile.load(path) } catch is GradFlowError {} catch { Issue.record("untyped error \(error)") }
    }

    @Test("random CSV text")
    func csv() throws {
        let scratch = try Scratch()
        var rng = GaussianGenerator(seed: 1001)
        let alphabet = Array("0123456789.,,,-+eE \n\n#naifxy\t\r")
        for i in 0..<Self.iterations {
            let length = Int(rng.nextBits() % 200)
            let text = String((0..<length).map { _ in alphabet[Int(rng.nextBits() % UInt64(alphabet.count))] })
            Self.exercise(try scratch.write("f\(i % 7).csv", text))
        }
    }

    @Test("HDF5 files with random datasets, shapes and values")
    func hdf5Datasets() throws {
        let scratch = try Scratch()
        var rng = GaussianGenerator(seed: 2002)
        let names = ["X", "y", "p", "W1", "W2", "W3"]
        let specials: [Double] = [.nan, .infinity, -.infinity, 0, 1e308, -1e-308]
        for i in 0..<Self.iterations {
            let path = scratch.path("h\(i % 7).h5")
            do {
                let root = try HDF5File.create(path, overwrite: true)
                for name in names where rng.nextBits() % 3 != 0 {
                    let rank = Int(rng.nextBits() % 4)
                    let shape = (0..<rank).map { _ in Int(rng.nextBits() % 5) }
                    let values = (0..<shape.reduce(1, *)).map { _ in
                        rng.nextBits() % 10 == 0 ? specials[Int(rng.nextBits() % UInt64(specials.count))] : rng.nextGaussian()
                    }
                    try root.writeDataset(name, values, shape: shape)
                }
            }
            Self.exercise(path)
        }
    }

    @Test("HDF5 files with corrupted bytes, and truncated files")
    func corruptedFiles() throws {
        let scratch = try Scratch()
        let good = scratch.path("good.h5")
        do {
            let root = try HDF5File.create(good, overwrite: true)
            try root.writeDataset("X", (0..<30).map(Double.init), shape: [10, 3])
            try root.writeDataset("y", (0..<10).map(Double.init), shape: [10])
            try root.writeDataset("W1", [Double](repeating: 0.5, count: 6), shape: [2, 3])
            try root.writeDataset("W2", [1, 1], shape: [1, 2])
        }
        let original = try Data(contentsOf: URL(fileURLWithPath: good))
        var rng = GaussianGenerator(seed: 3003)
        for i in 0..<Self.iterations {
            var bytes = [UInt8](original)
            if i % 4 == 0 {
                bytes = Array(bytes.prefix(Int(rng.nextBits() % UInt64(bytes.count))))
            } else {
                for _ in 0..<(1 + Int(rng.nextBits() % 8)) {
                    bytes[Int(rng.nextBits() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.nextBits())
                }
            }
            let path = scratch.path("c\(i % 7).h5")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            Self.exercise(path)
        }
    }

    @Test("mutated configuration JSON decodes or fails cleanly, and validates or throws")
    func configuration() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(RunConfiguration()), as: UTF8.self)
        var rng = GaussianGenerator(seed: 4004)
        let pieces = ["-1", "0", "1e400", "null", "\"x\"", "[]", "{}", "true", "-0.0", "99999999999999999999"]
        for _ in 0..<Self.iterations {
            var mutated = Array(text.utf8)
            for _ in 0..<(1 + Int(rng.nextBits() % 4)) {
                let at = Int(rng.nextBits() % UInt64(mutated.count))
                if rng.nextBits() % 2 == 0 {
                    mutated[at] = UInt8(truncatingIfNeeded: 32 + rng.nextBits() % 95)
                } else {
                    mutated.insert(contentsOf: Array(pieces[Int(rng.nextBits() % UInt64(pieces.count))].utf8), at: at)
                }
            }
            guard let config = try? JSONDecoder().decode(RunConfiguration.self, from: Data(mutated)) else { continue }
            do { try config.validate() } catch is GradFlowError {} catch { Issue.record("untyped error \(error)") }
        }
    }
}
