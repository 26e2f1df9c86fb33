import Foundation
import GradFlow
import Testing

@Suite("The extension models from the command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct ExtensionCommandLineTests {
    @Test("--model gelu runs, descends and compares; a data file with a 2-D y selects q outputs; critical-lr refuses GELU")
    func models() throws {
        let scratch = try Scratch()
        let gradflow = ProcessResult.gradflow!
        let small = ["--samples", "20", "--input-dim", "3", "--depth", "3", "-q"]
        let gelu = try ProcessResult.run(gradflow, ["run", "--model", "gelu", "--t-final", "50", "-o", scratch.path("g.h5")] + small)
        #expect(gelu.status == 0, "\(gelu.stderr)")
        #expect(gelu.stdout.contains("GELU MLP") && gelu.stdout.contains("no conservation law") && gelu.stdout.contains("test error"))
        let descent = try ProcessResult.run(gradflow, ["descent", "--model", "gelu", "--lr", "0.05", "--steps", "200", "-o", scratch.path("gd.h5")] + small)
        #expect(descent.status == 0, "\(descent.stderr)")
        let compare = try ProcessResult.run(gradflow, ["compare", "--model", "gelu", "--lr", "0.05", "--t-final", "5", "-o", scratch.path("c.h5")] + small)
        #expect(compare.status == 0, "\(compare.stderr)")
        #expect(!compare.stdout.contains("bounds    S_min"))  // the linear bounds are not claimed for GELU

        // Y [n, 2] and a held-out set in an h5py-style file.
        let data = scratch.path("multi.h5")
        do {
            let root = try HDF5File.create(data, overwrite: false)
            var rng = GaussianGenerator(seed: 2)
            try root.writeDataset("X", rng.gaussians(30), shape: [10, 3])
            try root.writeDataset("y", rng.gaussians(20), shape: [10, 2])
            try root.writeDataset("X_test", rng.gaussians(12), shape: [4, 3])
            try root.writeDataset("y_test", rng.gaussians(8), shape: [4, 2])
        }
        let multi = try ProcessResult.run(gradflow, ["run", "--data", data, "--depth", "2", "-q", "-o", scratch.path("m.h5")])
        #expect(multi.status == 0, "\(multi.stderr)")
        #expect(multi.stdout.contains("q = 2") && multi.stdout.contains("widths 3-3-2") && multi.stdout.contains("held-out set n' = 4"))
        let file = try TrajectoryFile(path: scratch.path("m.h5"))
        #expect(file.datasetWithShape("problem/y").shape == [10, 2])
        #expect(file.datasetWithShape("problem/w_star").shape == [2, 3])
        #expect(file.datasetLength("problem/p") == nil)

        let critical = try ProcessResult.run(gradflow, ["critical-lr", "--model", "gelu", "-o", scratch.path("cl.h5")])
        #expect(critical.status == 2 && critical.stderr.contains("--model gelu: critical-lr brackets"))
    }
}
