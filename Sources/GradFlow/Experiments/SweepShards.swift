import FoundationEssentials

/// The input checks of `gradflow merge`: the tables must be the shards of one sweep, each once, with
/// no point twice and (unless allowed) none missing. A shard's table is named `summary-shard-i-of-N.csv`
/// (the shard i of N of a sweep, `sweep.shard`), and holds the points whose index is i−1 modulo N.
package enum SweepShards {
    /// (i, N) of a file named `summary-shard-i-of-N.csv`; nil for any other name.
    package static func shardNumber(_ path: String) -> (index: Int, count: Int)? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard name.hasPrefix("summary-shard-"), name.hasSuffix(".csv") else { return nil }
        let parts = name.dropFirst("summary-shard-".count).dropLast(".csv".count).components(separatedBy: "-of-")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        return (i, n)
    }

    /// Checks the parsed tables (path and rows, in the order given) and returns the warnings to print.
    /// - Throws: `GradFlowError.invalidData` naming the table for a shard given twice, tables of
    ///   different N, a shard number out of 1…N, a point in the wrong shard or in two tables, a mix of
    ///   shard tables and others; `.invalidRequest` (`merge`) for missing shards, unless `allowMissing`,
    ///   which makes that a warning.
    package static func check(_ tables: [(path: String, rows: [SweepRow])], allowMissing: Bool) throws -> [String] {
        var seenPaths: [String: String] = [:]
        for table in tables {
            let key = URL(fileURLWithPath: table.path).standardizedFileURL.resolvingSymlinksInPath().path
            if let earlier = seenPaths[key] {
                throw GradFlowError.invalidData(file: table.path, field: "tables", reason: "is given twice (also as \(earlier))")
            }
            seenPaths[key] = table.path
        }
        let numbers = tables.map { shardNumber($0.path) }
        var warnings: [String] = []
        if let named = numbers.firstIndex(where: { $0 != nil }) {
            if let other = numbers.firstIndex(where: { $0 == nil }) {
                throw GradFlowError.invalidData(file: tables[other].path, field: "name",
                                                reason: "is not named summary-shard-i-of-N.csv like \(tables[named].path), so its shard is unknown")
            }
            let count = numbers[named]!.count
            var byShard: [Int: String] = [:]
            for (table, number) in zip(tables, numbers) {
                let (i, n) = number!
                guard n == count else {
                    throw GradFlowError.invalidData(file: table.path, field: "shard \(i) of \(n)",
                                                    reason: "is from a sweep of \(n) shards, but \(tables[named].path) is from one of \(count)")
                }
                guard n >= 1, (1...n).contains(i) else {
                    throw GradFlowError.invalidData(file: table.path, field: "shard \(i) of \(n)", reason: "the shard number must be in 1…\(n)")
                }
                if let earlier = byShard[i] {
                    throw GradFlowError.invalidData(file: table.path, field: "shard \(i) of \(n)", reason: "is given twice (also as \(earlier))")
                }
                byShard[i] = table.path
                for (line, row) in table.rows.enumerated() where row.point.index < 0 || row.point.index % n != i - 1 {
                    throw GradFlowError.invalidData(file: table.path, field: "line \(line + 2)",
                                                    reason: "point \(row.point.index) does not belong to shard \(i) of \(n) (index ≡ \(i - 1) mod \(n))")
                }
            }
            let missing = (1...count).filter { byShard[$0] == nil }
            if !missing.isEmpty {
                let list = missing.map(String.init).joined(separator: ", ")
                let names = missing.prefix(3).map { "summary-shard-\($0)-of-\(count).csv" }.joined(separator: ", ") + (missing.count > 3 ? ", …" : "")
                guard allowMissing else {
                    throw GradFlowError.invalidRequest(subject: "merge", value: "shard\(missing.count > 1 ? "s" : "") \(list) of \(count)",
                                                        reason: "missing (\(names)); give every shard's table, or pass \(field: .allowMissingShards)")
                }
                warnings.append("merging without shard\(missing.count > 1 ? "s" : "") \(list) of \(count) (\(names)): their points are not in the table")
            }
        }
        var seenPoints: [Int: (String, Int)] = [:]
        for table in tables {
            for (line, row) in table.rows.enumerated() {
                if let (other, otherLine) = seenPoints[row.point.index] {
                    throw GradFlowError.invalidData(file: table.path, field: "line \(line + 2)",
                                                    reason: "point \(row.point.index) is also in \(other) (line \(otherLine))")
                }
                seenPoints[row.point.index] = (table.path, line + 2)
            }
        }
        return warnings
    }
}
