import FoundationEssentials
import Glibc

/// Regression data read from a file (a configuration's `dataFile`):
/// - HDF5 (as h5py writes it): datasets `X` [n, d] and `y` [n] (or [n, 1]) at the root, optionally `p`;
///   a 2-D `y` [n, q] with q > 1 (or a dataset `Y`) selects multivariate output (MATH.md §6.1); optional
///   `X_test` [n', d] and `y_test` [n'] or [n', q] are a held-out set for the test error.
///   A GradFlow trajectory file is accepted too (its `/problem/X`, `/problem/y`, `/problem/p`, …).
/// - CSV: one sample per line, the last column is y; an optional header line (a first line with any
///   field that is not a number); `#` starts a comment line. Lines may end in LF, CRLF or a lone CR, and a
///   leading UTF-8 byte-order mark is ignored.
/// The format is recognised from the content (HDF5's signature), not the file name.
public struct DataFile: Sendable {
    public var inputs: [Double]
    public var targets: [Double]
    public var sampleCount: Int
    public var dimension: Int
    /// The projection p, when the file gives one.
    public var projection: [Double]?
    /// q, the number of target columns.
    public var outputs: Int = 1
    /// The held-out set, when the file gives one.
    public var test: RegressionProblem.TestSet?

    /// Reads and validates the file; every error names the file, the field and the problem.
    public static func load(_ path: String) throws -> DataFile {
        try InputFile.checkReadable(path)  // before any open: a FIFO or a device would block
        if isHDF5(path) { return try loadHDF5(path) }
        return try loadCSV(path)
    }

    static func isHDF5(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        var head = [UInt8](repeating: 0, count: signature.count)
        var count = 0
        while count < head.count {
            let n = head.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            count += n
        }
        return count == signature.count && head == signature
    }

    static func loadHDF5(_ path: String) throws -> DataFile {
        let root = try HDF5File.open(path)
        let base = root.contains("X") ? root : (root.contains("problem/X") ? try root.open("problem") : root)
        let prefix = base === root ? "" : "problem/"
        guard base.contains("X") else { throw GradFlowError.invalidData(file: path, field: "X", reason: "missing (expected a dataset X [n, d])") }
        guard base.contains("y") || base.contains("Y") else {
            throw GradFlowError.invalidData(file: path, field: prefix + "y", reason: "missing (expected a dataset y [n], or y/Y [n, q] for several outputs)")
        }
        let (x, xShape) = try base.readDataset("X")
        guard xShape.count == 2 else {
            throw GradFlowError.invalidData(file: path, field: prefix + "X", reason: "has shape \(xShape), expected 2 dimensions [n, d]")
        }
        let n = xShape[0], d = xShape[1]
        let targetName = base.contains("y") ? "y" : "Y"
        let (y, yShape) = try base.readDataset(targetName)
        guard yShape.count >= 1, yShape.count <= 2, yShape[0] == n, yShape.count == 1 || yShape[1] >= 1 else {
            throw GradFlowError.invalidData(file: path, field: prefix + targetName,
                                            reason: "has shape \(yShape), expected [\(n)] or [\(n), q] to match X [\(n), \(d)]")
        }
        let q = yShape.count == 2 ? yShape[1] : 1
        var p: [Double]?
        if base.contains("p") {
            let (values, shape) = try base.readDataset("p")
            guard shape.count <= 1 else { throw GradFlowError.invalidData(file: path, field: prefix + "p", reason: "has shape \(shape), expected a vector") }
            guard q == 1 else {
                throw GradFlowError.invalidData(file: path, field: prefix + "p", reason: "a projection p needs scalar targets, but \(targetName) has q = \(q) columns")
            }
            p = values
        }
        var test: RegressionProblem.TestSet?
        if base.contains("X_test") {
            let (xt, xtShape) = try base.readDataset("X_test")
            guard xtShape.count == 2, xtShape[1] == d else {
                throw GradFlowError.invalidData(file: path, field: prefix + "X_test", reason: "has shape \(xtShape), expected [n_test, \(d)]")
            }
            guard base.contains("y_test") else {
                throw GradFlowError.invalidData(file: path, field: prefix + "y_test", reason: "missing (X_test needs its targets y_test)")
            }
            let (yt, ytShape) = try base.readDataset("y_test")
            let expected = q == 1 ? [xtShape[0]] : [xtShape[0], q]
            guard ytShape == expected || (q == 1 && ytShape == [xtShape[0], 1]) else {
                throw GradFlowError.invalidData(file: path, field: prefix + "y_test", reason: "has shape \(ytShape), expected \(expected)")
            }
            test = RegressionProblem.TestSet(inputs: xt, targets: yt, count: xtShape[0])
        }
        return DataFile(inputs: x, targets: y, sampleCount: n, dimension: d, projection: p, outputs: q, test: test)
    }

    static func loadCSV(_ path: String) throws -> DataFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw GradFlowError.fileAccess(path: path, reason: "cannot be read")
        }
        guard let decoded = String(data: data, encoding: .utf8) else {
            throw GradFlowError.invalidData(file: path, field: "CSV", reason: "is neither HDF5 nor UTF-8 text")
        }
        let text = InputFile.withoutByteOrderMark(decoded)
        var rows: [[Double]] = []
        var columns: Int?
        var sawHeader = false
        for (index, rawLine) in InputFile.lines(text).enumerated() {
            let line = rawLine.trimmingWhitespaceAndNewlines()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
            let lineNumber = index + 1
            let numbers = fields.map { Double($0) }
            if rows.isEmpty, !sawHeader, numbers.contains(where: { $0 == nil }) {
                sawHeader = true  // a header line
                columns = fields.count
                continue
            }
            if let expected = columns, fields.count != expected {
                throw GradFlowError.invalidData(file: path, field: "line \(lineNumber)",
                                                reason: "has \(fields.count) fields, expected \(expected)")
            }
            columns = fields.count
            var row: [Double] = []
            for (j, value) in numbers.enumerated() {
                guard let value else {
                    throw GradFlowError.invalidData(file: path, field: "line \(lineNumber), column \(j + 1)",
                                                    reason: "\"\(fields[j])\" is not a number")
                }
                guard value.isFinite else {
                    throw GradFlowError.invalidData(file: path, field: "line \(lineNumber), column \(j + 1)",
                                                    reason: "\(fields[j]) is not finite")
                }
                row.append(value)
            }
            rows.append(row)
        }
        guard let width = columns, !rows.isEmpty else {
            throw GradFlowError.invalidData(file: path, field: "CSV", reason: "has no data rows (n = 0)")
        }
        guard width >= 2 else {
            throw GradFlowError.invalidData(file: path, field: "CSV", reason: "needs at least 2 columns (features, then y); found \(width)")
        }
        let d = width - 1
        return DataFile(inputs: rows.flatMap { $0.prefix(d) }, targets: rows.map { $0[d] },
                        sampleCount: rows.count, dimension: d, projection: nil)
    }

    /// The regression problem of this data.
    public func makeProblem(source: String) throws -> RegressionProblem {
        try RegressionProblem(inputs: inputs, targets: targets, sampleCount: sampleCount, dimension: dimension, outputs: outputs,
                              source: source, test: test)
    }
}
