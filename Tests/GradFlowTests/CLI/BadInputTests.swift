import Foundation
import GradFlow
import Testing

/// Every row of the README's bad-input table: exit code 2, one line naming what is wrong and where,
/// and no output file written (an existing one untouched).
@Suite("Bad input (README table)", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct BadInputTests {
    /// (arguments, expected message). `@` in an argument is replaced by the fixture folder.
    static let rows: [([String], String)] = [
        (["--data", "@/missing.csv"], "missing.csv: no such file"),
        (["--data", "@"], ": cannot be read"),
        (["--data", "@/shape.h5"], "shape.h5: X: has shape [6], expected 2 dimensions [n, d]"),
        (["--data", "@/ymismatch.h5"], "ymismatch.h5: y: has shape [4], expected [3] or [3, q] to match X [3, 2]"),
        (["--data", "@/nan.h5"], "nan.h5: X: entry [0, 1] is nan, not finite"),
        (["--data", "@/n0.h5"], "n0.h5: X: n = 0: at least one sample is needed"),
        (["--data", "@/d0.h5"], "d0.h5: X: d = 0: at least one feature is needed"),
        (["--data", "@/ragged.csv"], "ragged.csv: line 2: has 2 fields, expected 3"),
        (["--data", "@/text.csv"], "text.csv: line 2, column 2: \"abc\" is not a number"),
        (["--data", "@/nan.csv"], "nan.csv: line 2, column 2: nan is not finite"),
        (["--data", "@/inf.csv"], "inf.csv: line 2, column 2: inf is not finite"),
        (["--data", "@/header.csv"], "header.csv: CSV: has no data rows (n = 0)"),
        (["--data", "@/one.csv"], "one.csv: CSV: needs at least 2 columns (features, then y); found 1"),
        (["--samples", "0"], "--samples 0: must be at least 1"),
        (["--input-dim", "0"], "--input-dim 0: must be at least 1"),
        (["--depth", "0"], "--depth 0: the depth must be at least 1"),
        (["--depth", "2", "--widths", "5,0,1"], "--widths 5,0,1: width m_1 = 0 must be at least 1"),
        (["--rtol", "0"], "--rtol 0.0: must be in (0, 1)"),
        (["--atol", "-1"], "--atol -1.0: must be a finite number > 0"),
        (["--loss-tol", "-1"], "--loss-tol -1.0: must be a finite number ≥ 0 (0: never stop on the loss)"),
        (["--t-final", "-5"], "--t-final -5.0: must be a finite number > 0"),
        (["--init-scale", "-1"], "--init-scale -1.0: must be a finite number ≥ 0"),
        (["--init-scale", "0"], "--init-scale 0.0: must be > 0 for a Gaussian initialisation"),
        (["--init-weights", "@/w-columns.h5"], "w-columns.h5: W1: has 4 columns but the data have d = 5 features"),
        (["--init-weights", "@/w-chain.h5"], "w-chain.h5: W2: has shape [1, 2]: its 2 columns do not match the 3 rows of W1"),
        (["--init-weights", "@/w-inf.h5"], "w-inf.h5: W1: entry 0 is inf, not finite"),
        (["--output-times", "0"], "--output-times 0: must be at least 1"),
        (["--threads", "0"], "--threads 0: must be in 1…256"),
        (["--monitors", "lemma3"], "--monitors lemma3: unknown monitor \"lemma3\""),
        (["--checkpoint-every", "0"], "--checkpoint-every 0: must be at least 1"),
        (["--sharpness-tol", "2"], "--sharpness-tol 2.0: must be in (0, 1)"),
        (["--depth", "10", "--widths", "3000", "--input-dim", "100"], "more than 90% of this machine's"),
        (["--bogus"], "Unknown option '--bogus'"),
        (["--model", "relu"], "The value 'relu' is invalid for '--model <model>'"),
        (["--outputs", "0"], "--outputs 0: must be at least 1"),
        (["--test-samples", "-1"], "--test-samples -1: must be ≥ 0"),
        (["--init", "residual", "--outputs", "3"], "--init residual: a residual network without projection needs q = d outputs (the data have q = 3, d = 5)"),
        (["--outputs", "2", "--depth", "2", "--widths", "5,4,3"], "--widths 5,4,3: the last width m_L must be the number of outputs q = 2"),
        (["--data", "@/xtest.h5"], "xtest.h5: X_test: has shape [3, 5], expected [n_test, 2]"),
        (["--data", "@/ytest.h5"], "ytest.h5: y_test: has shape [2], expected [3]"),
        (["--data", "@/multip.h5"], "multip.h5: p: a projection p needs scalar targets, but Y has q = 2 columns"),
        (["--outputs", "2", "--init-weights", "@/w-q.h5"], "w-q.h5: W2: has 1 rows but the data have q = 2 outputs"),
    ]

    static func fixtures(_ scratch: Scratch) throws -> String {
        func h5(_ name: String, _ datasets: [(String, [Double], [Int])]) throws {
            let root = try HDF5File.create(scratch.path(name), overwrite: true)
            for (dataset, values, shape) in datasets { try root.writeDataset(dataset, values, shape: shape) }
        }
        try h5("shape.h5", [("X", [1, 2, 3, 4, 5, 6], [6]), ("y", [1, 2, 3, 4, 5, 6], [6])])
        try h5("ymismatch.h5", [("X", [1, 2, 3, 4, 5, 6], [3, 2]), ("y", [1, 2, 3, 4], [4])])
        try h5("nan.h5", [("X", [1, .nan, 2, 3, 4, 5], [3, 2]), ("y", [1, 1, 1], [3])])
        try h5("n0.h5", [("X", [], [0, 3]), ("y", [], [0])])
        try h5("d0.h5", [("X", [], [3, 0]), ("y", [1, 1, 1], [3])])
        try h5("w-columns.h5", [("W1", Array(repeating: 1, count: 12), [3, 4]), ("W2", [1, 1, 1], [1, 3])])
        try h5("w-chain.h5", [("W1", Array(repeating: 1, count: 15), [3, 5]), ("W2", [1, 1], [1, 2])])
        try h5("xtest.h5", [("X", [1, 2, 3, 4, 5, 6, 7, 9], [4, 2]), ("y", [1, 0, 2, 3], [4]), ("X_test", Array(repeating: 1, count: 15), [3, 5]),
                            ("y_test", [1, 1, 1], [3])])
        try h5("ytest.h5", [("X", [1, 2, 3, 4, 5, 6, 7, 9], [4, 2]), ("y", [1, 0, 2, 3], [4]), ("X_test", Array(repeating: 1, count: 6), [3, 2]),
                            ("y_test", [1, 1], [2])])
        try h5("multip.h5", [("X", [1, 2, 3, 4, 5, 6, 7, 9], [4, 2]), ("Y", [1, 0, 2, 3, 1, 1, 0, 2], [4, 2]), ("p", [1], [1])])
        try h5("w-q.h5", [("W1", Array(repeating: 1, count: 15), [3, 5]), ("W2", [1, 1, 1], [1, 3])])
        try h5("w-inf.h5", [("W1", Array(repeating: .infinity, count: 15), [3, 5]), ("W2", [1, 1, 1], [1, 3])])
        for (name, text) in [("ragged.csv", "1,2,3\n4,5\n"), ("text.csv", "1,2,3\n4,abc,6\n"), ("nan.csv", "1,2,3\n4,nan,6\n"),
                             ("inf.csv", "1,2,3\n4,inf,6\n"), ("header.csv", "a,b,y\n"), ("one.csv", "1\n2\n")] {
            _ = try scratch.write(name, text)
        }
        return scratch.url.path
    }

    @Test("each row: exit 2, its one-line message, no output file")
    func everyRow() throws {
        let scratch = try Scratch()
        let folder = try Self.fixtures(scratch)
        let gradflow = ProcessResult.gradflow!
        for (arguments, message) in Self.rows {
            let out = scratch.path("out.h5")
            let args = arguments.map { $0.replacingOccurrences(of: "@", with: folder) }
            let result = try ProcessResult.run(gradflow, ["run", "-o", out, "-q"] + args)
            #expect(result.status == 2, "\(arguments): exit \(result.status)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("gradflow: error: "), "\(arguments)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) left \(out)")
        }
    }

    @Test("an output folder that does not exist, an existing file without --force")
    func outputPaths() throws {
        let scratch = try Scratch()
        let gradflow = ProcessResult.gradflow!
        let missing = try ProcessResult.run(gradflow, ["run", "-o", scratch.path("nope/x.h5")])
        #expect(missing.status == 2 && missing.stderr.contains("the folder") && missing.stderr.contains("does not exist"))
        let existing = try scratch.write("kept.h5", "data")
        let refused = try ProcessResult.run(gradflow, ["run", "--rtol", "0", "--force", "-o", existing])
        #expect(refused.status == 2)
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "data")  // bad input loses nothing, even with --force
    }

    /// A name from the command line with control characters (an escape sequence, a newline, a C1 control) is shown
    /// escaped: the error stays one line and cannot drive the terminal. A tab and non-ASCII letters are shown as typed.
    @Test("control characters in a name from the command line are shown escaped, on one line")
    func controlCharacters() throws {
        let gradflow = ProcessResult.gradflow!
        let result = try ProcessResult.run(gradflow, ["run", "--data", "\u{1B}[31mred\nnext\u{85}\té.h5", "-q"])
        #expect(result.status == 2)
        #expect(result.stderr == "gradflow: error: \\u{1B}[31mred\\u{A}next\\u{85}\té.h5: no such file\n", "\(result.stderr.debugDescription)")
        let option = try ProcessResult.run(gradflow, ["run", "--monitors", "pl,\u{7}bell"])
        #expect(option.status == 2 && option.stderr.split(separator: "\n").count == 1 && !option.stderr.contains("\u{7}"),
                "\(option.stderr.debugDescription)")
    }
}
