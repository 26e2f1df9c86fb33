import Foundation
import GradFlow
import Testing

/// The width-dependent initial scale s = c·h^{−α} (MATH.md §10.4–10.5): `--scale-exponent` for one run, the
/// sweep axis `scaleExponents`, the summary's `init_scale` and `scale_exponent`, and the old formats.
@Suite("Width-dependent initial scale (scale exponents)")
struct ScaleExponentTests {
    @Test("the grid: exponents expand after the scales; each point's configuration draws with s = c·h^−α")
    func gridPoints() throws {
        let spec = SweepSpec(initScales: [0.2], depths: [2], widths: [3, 6], seeds: [5], scaleExponents: [0.5, 1])
        let points = try spec.points()
        #expect(points.map(\.scaleExponent) == [0.5, 0.5, 1, 1])
        #expect(points.map(\.width) == [3, 6, 3, 6])
        var base = RunConfiguration(synthetic: SyntheticData(samples: 10, dimension: 3), outputPath: "unused.h5")
        base.scaleExponent = 2  // the point's exponent replaces the base's
        for point in points {
            let config = point.configuration(from: base)
            #expect(config.scaleExponent == point.scaleExponent)
            let setup = try RunSetup.prepare(config, checkOutput: false)
            let h = Double(point.width!), alpha = point.scaleExponent!
            let expected = 0.2 / Foundation.pow(h, alpha)
            #expect(abs(setup.initialization.scale - expected) <= 1e-15 * expected, "h = \(h), α = \(alpha): \(setup.initialization.scale)")
        }
        // Without exponents the grid and its indices are those of before.
        let plain = try SweepSpec(initScales: [0.1, 0.2], depths: [2], widths: [3, 6]).points()
        #expect(plain.map(\.initScale) == [0.1, 0.1, 0.2, 0.2] && plain.allSatisfy { $0.scaleExponent == nil })
        #expect(throws: GradFlowError.self) { try SweepSpec(scaleExponents: [.nan]).points() }
    }

    @Test("a configuration written before saveWeights and scaleExponent existed still decodes, without them")
    func oldConfiguration() throws {
        let encoder = JSONEncoder()
        var config = RunConfiguration(outputPath: "x.h5")
        config.saveWeights = 3
        config.scaleExponent = 0.5
        var object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(config)) as? [String: Any])
        #expect(object["saveWeights"] as? Int == 3)
        object["saveWeights"] = nil
        object["scaleExponent"] = nil
        let old = try JSONDecoder().decode(RunConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.saveWeights == nil && old.scaleExponent == nil)
        let back = try JSONDecoder().decode(RunConfiguration.self, from: encoder.encode(config))
        #expect(back == config)
    }

    @Test("a table without scale_exponent (and one without final_test_loss) still parses: init_scale is the scale")
    func oldTables() throws {
        let old18 = "index,method,init,init_scale,lr,depth,width,seed,outcome,final_time,final_loss,final_excess_risk,final_sharpness,"
            + "sharpness_lower_bound,sharpness_upper_bound,corollary2_bound,wall_time,file\n"
            + "0,flow,gaussian,0.05,,2,,7,converged,3.5,0.25,1e-10,4,3,5,,0.5,run-00000.h5\n"
        let old19 = "index,method,init,init_scale,lr,depth,width,seed,outcome,final_time,final_loss,final_excess_risk,final_sharpness,"
            + "sharpness_lower_bound,sharpness_upper_bound,corollary2_bound,wall_time,file,final_test_loss\n"
            + "1,descent,residual,0.25,0.01,3,4,8,horizon,2,0.5,0.125,6,3,5,,0.5,run-00001.h5,0.75\n"
        for (text, scale) in [(old18, 0.05), (old19, 0.25)] {
            let rows = try SweepTable.parse(text, source: "old")
            #expect(rows.count == 1 && rows[0].initScale == scale && rows[0].point.initScale == scale && rows[0].point.scaleExponent == nil)
        }
    }
}

@Suite("Scale exponents from the command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct ScaleExponentCommandTests {
    let gradflow = ProcessResult.gradflow ?? ""

    /// The CSV table as rows of fields keyed by column name.
    func table(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
    }

    @Test("a 2-width × 2-exponent sweep: each run's /network/init_scale and the table's init_scale are c·h^−α; --save-weights passes through; one point reproduced alone")
    func sweepGrid() throws {
        let scratch = try Scratch()
        let folder = scratch.path("sw")
        let c = 0.3, widths = [3, 8], exponents = [0.5, 1.25]
        let result = try ProcessResult.run(gradflow, ["sweep", "--depths", "2", "--widths", "3,8", "--init-scales", "\(c)",
                                                      "--scale-exponents", "0.5,1.25", "--seeds", "11",
                                                      "--run-args", "--samples 20 --input-dim 3 --t-final 5 --output-times 12 --save-weights",
                                                      "--jobs", "2", "-q", "-o", folder])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try table(folder + "/summary.csv")
        #expect(rows.count == 4)
        var index = 0
        for alpha in exponents {
            for h in widths {
                let expected = c * Foundation.pow(Double(h), -alpha)
                let file = try TrajectoryFile(path: folder + "/run-0000\(index).h5")
                let scale = try #require(try file.value("init_scale", in: "network").doubleValue)
                #expect(abs(scale - expected) <= 1e-15 * expected, "h = \(h), α = \(alpha): \(scale) ≠ \(expected)")
                #expect(try file.value("scale_exponent", in: "network").doubleValue == alpha)
                let row = rows[index]
                #expect(row["width"] == "\(h)" && Double(row["scale_exponent"] ?? "") == alpha, "\(row)")
                #expect(abs((Double(row["init_scale"] ?? "") ?? .nan) - expected) <= 1e-15 * expected, "\(row)")
                // --save-weights alone, passed through: every row saved.
                #expect(file.datasetLength("weights/time") == file.datasetLength("trajectory/time"))
                index += 1
            }
        }
        // Point 3 (h = 8, α = 1.25) alone: the same initial weights, bit for bit.
        let alone = scratch.path("alone.h5")
        let single = try ProcessResult.run(gradflow, ["run", "--depth", "2", "--widths", "8", "--init-scale", "\(c)", "--scale-exponent", "1.25",
                                                      "--seed", "11", "--samples", "20", "--input-dim", "3", "--t-final", "5", "-q", "-o", alone])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(try TrajectoryFile(path: alone).dataset("initial/weights").map(\.bitPattern)
                == TrajectoryFile(path: folder + "/run-00003.h5").dataset("initial/weights").map(\.bitPattern))
        // Without a width in the grid, h is the default hidden width d.
        let defaultWidth = scratch.path("dw")
        let dw = try ProcessResult.run(gradflow, ["sweep", "--depths", "2", "--init-scales", "0.5", "--scale-exponents", "1",
                                                  "--run-args", "--samples 20 --input-dim 4 --t-final 2", "-q", "-o", defaultWidth])
        #expect(dw.status == 0, "\(dw.stderr)")
        let dwScale = try TrajectoryFile(path: defaultWidth + "/run-00000.h5").value("init_scale", in: "network").doubleValue ?? .nan
        #expect(abs(dwScale - 0.5 / 4) <= 1e-15, "\(dwScale)")
        #expect(Double(try table(defaultWidth + "/summary.csv")[0]["init_scale"] ?? "") == dwScale)
    }

    @Test("an old summary.csv without scale_exponent merges: its init_scale kept, scale_exponent empty")
    func oldTableMerges() throws {
        let scratch = try Scratch()
        let header = "index,method,init,init_scale,lr,depth,width,seed,outcome,final_time,final_loss,final_excess_risk,final_sharpness,"
            + "sharpness_lower_bound,sharpness_upper_bound,corollary2_bound,wall_time,file,final_test_loss"
        let old = try scratch.write("summary.csv", header + "\n"
            + "0,flow,gaussian,0.05,,2,,7,converged,3.5,0.25,1e-10,4,3,5,,0.5,run-00000.h5,0.75\n"
            + "1,flow,gaussian,0.1,,2,,7,horizon,3.5,0.25,1e-3,4,3,5,,0.5,run-00001.h5,\n")
        let merged = scratch.path("merged.csv")
        let result = try ProcessResult.run(gradflow, ["merge", old, "-o", merged])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try table(merged)
        #expect(rows.map { $0["init_scale"] } == ["0.05", "0.1"] && rows.map { $0["scale_exponent"] } == ["", ""], "\(rows)")
        #expect(rows.map { $0["final_test_loss"] } == ["0.75", ""] && rows.map { $0["outcome"] } == ["converged", "horizon"])
        #expect(FileManager.default.fileExists(atPath: scratch.path("merged.h5")))
    }

    @Test("bad exponents: --scale-exponents 1,x, a spec with \"scaleExponents\": \"a\" or [\"nan\"]: exit 2, one line, nothing written")
    func badInput() throws {
        let scratch = try Scratch()
        let spec = try scratch.write("spec.json", #"{"scaleExponents": "a"}"#)
        let cases: [([String], String)] = [
            (["sweep", "--scale-exponents", "1,x"], "--scale-exponents 1,x: \"x\" is not valid"),
            (["sweep", "--scale-exponents", "nan"], "--scale-exponents nan: must be a finite number"),
            (["sweep", "--spec", spec], "spec.json: spec: key \"scaleExponents\" must be a list of numbers"),
        ]
        for (arguments, message) in cases {
            let out = scratch.path("out")
            let result = try ProcessResult.run(gradflow, arguments + ["-o", out, "-q"])
            #expect(result.status == 2, "\(arguments): exit \(result.status)")
            #expect(result.stderr.hasPrefix("gradflow: error: ") && result.stderr.contains(message)
                    && result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) wrote \(out)")
        }
    }
}
