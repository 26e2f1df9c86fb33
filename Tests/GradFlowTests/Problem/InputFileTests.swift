import Foundation
import GradFlow
import Testing

@Suite("Input files: data (CSV, HDF5) and initial weights")
struct InputFileTests {
    @Test("CSV with a header: last column is y")
    func csvWithHeader() throws {
        let scratch = try Scratch()
        let path = try scratch.write("d.csv", "x1,x2,y\n1,2,3\n# comment\n4,5,6\n7,8.5,-1e-3\n")
        let data = try DataFile.load(path)
        #expect(data.sampleCount == 3 && data.dimension == 2)
        #expect(data.inputs == [1, 2, 4, 5, 7, 8.5])
        #expect(data.targets == [3, 6, -1e-3])
    }

    @Test("bad CSV files name the line and column", arguments: [
        ("1,2,3\n4,5\n", "line 2", "has 2 fields, expected 3"),
        ("1,2,3\n4,abc,6\n", "line 2, column 2", "\"abc\" is not a number"),
        ("1,2,3\n4,nan,6\n", "line 2, column 2", "nan is not finite"),
        ("x,y\n", "CSV", "has no data rows (n = 0)"),
        ("1\n2\n", "CSV", "needs at least 2 columns (features, then y); found 1"),
    ])
    func badCSV(text: String, field: String, reason: String) throws {
        let scratch = try Scratch()
        let path = try scratch.write("bad.csv", text)
        #expect(throws: GradFlowError.invalidData(file: path, field: field, reason: reason)) { try DataFile.load(path) }
    }

    @Test("a missing data file is named")
    func missingFile() {
        #expect(throws: GradFlowError.fileAccess(path: "/nonexistent/d.h5", reason: "no such file")) {
            try DataFile.load("/nonexistent/d.h5")
        }
    }

    @Test("HDF5 data and W1 … WL weights round-trip; wrong shapes are named")
    func hdf5DataAndWeights() throws {
        let scratch = try Scratch()
        let path = scratch.path("d.h5")
        do {
            let root = try HDF5File.create(path, overwrite: false)
            try root.writeDataset("X", [1, 2, 3, 4, 5, 6], shape: [3, 2])
            try root.writeDataset("y", [1, 0, 2], shape: [3])
            try root.writeDataset("W1", [1, 2, 3, 4, 5, 6], shape: [3, 2])
            try root.writeDataset("W2", [7, 8, 9], shape: [1, 3])
        }
        let data = try DataFile.load(path)
        #expect(data.inputs == [1, 2, 3, 4, 5, 6] && data.targets == [1, 0, 2])
        let weights = try InitialWeightsFile.load(path)
        #expect(weights.widths == [2, 3, 1])
        #expect(weights.weights == [1, 2, 3, 4, 5, 6, 7, 8, 9])

        let bad = scratch.path("bad.h5")
        do {
            let root = try HDF5File.create(bad, overwrite: false)
            try root.writeDataset("X", [1, 2, 3, 4], shape: [2, 2])
            try root.writeDataset("y", [1, 0, 2], shape: [3])
            try root.writeDataset("W1", [1, 2, 3, 4, 5, 6], shape: [3, 2])
            try root.writeDataset("W2", [7, 8], shape: [1, 2])
        }
        #expect(throws: GradFlowError.invalidData(file: bad, field: "y", reason: "has shape [3], expected [2] or [2, q] to match X [2, 2]")) {
            try DataFile.load(bad)
        }
        #expect(throws: GradFlowError.invalidData(file: bad, field: "W2",
                                                  reason: "has shape [1, 2]: its 2 columns do not match the 3 rows of W1")) {
            try InitialWeightsFile.load(bad)
        }
    }

    @Test("data written by h5py are read, float32 and integer dtypes included",
          .enabled(if: ProcessResult.python != nil, "python3 with h5py and numpy is not installed"))
    func h5pyWrittenData() throws {
        let scratch = try Scratch()
        let path = scratch.path("py.h5")
        let script = """
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "w") as f:
                f["X"] = np.arange(12, dtype=np.float32).reshape(4, 3)
                f["y"] = np.array([1, 2, 3, 5], dtype=np.int64)
                f["p"] = np.array([0.5])
                f["W1"] = np.ones((2, 3)); f["W2"] = np.full((1, 2), 0.25)
            """
        let scriptPath = try scratch.write("make.py", script)
        let result = try ProcessResult.run("/usr/bin/env", ["python3", scriptPath, path])
        #expect(result.status == 0, "\(result.stderr)")
        let data = try DataFile.load(path)
        #expect(data.inputs == (0..<12).map(Double.init))
        #expect(data.targets == [1, 2, 3, 5])
        #expect(data.projection == [0.5])
        let weights = try InitialWeightsFile.load(path)
        #expect(weights.widths == [3, 2, 1] && weights.weights == [1, 1, 1, 1, 1, 1, 0.25, 0.25])
    }
}
