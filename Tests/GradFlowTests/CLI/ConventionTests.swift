import Foundation
import GradFlow
import Testing

/// Conventions a new user trips on (issue 16, part 4): `plot -o` honours a given extension, and
/// `--loss-tol 0` means "never stop on the loss" for run, descent and compare.
@Suite("Conventions: plot's extension, --loss-tol 0", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct ConventionTests {
    let gradflow = ProcessResult.gradflow ?? ""
    let small = ["--depth", "3", "--widths", "4", "--samples", "20", "--input-dim", "3", "-q"]

    /// The names in `folder`, sorted.
    func names(_ folder: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).sorted() }

    @Test("plot -o fig.png writes only fig.png, -o fig.svg only fig.svg, -o fig both")
    func plotExtension() throws {
        let scratch = try Scratch()
        let run = try ProcessResult.run(gradflow, ["run"] + small + ["-o", scratch.path("r.h5")])
        try #require(run.status == 0, "\(run.stderr)")
        for (output, expected) in [("png/fig.png", ["fig.png"]), ("svg/fig.svg", ["fig.svg"]), ("both/fig", ["fig.png", "fig.svg"])] {
            let folder = scratch.path(String(output.split(separator: "/")[0]))
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let plot = try ProcessResult.run(gradflow, ["plot", scratch.path("r.h5"), "-o", scratch.path(output)])
            #expect(plot.status == 0, "\(plot.stderr)")
            #expect(try names(folder) == expected, "-o \(output)")
            for name in expected {
                let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
                #expect(data.count > 100)
                if name.hasSuffix(".png") { #expect(data.prefix(4) == Data([0x89, 0x50, 0x4e, 0x47])) }  // the PNG signature
                if name.hasSuffix(".svg") { #expect(String(decoding: data, as: UTF8.self).contains("<svg")) }
            }
        }
    }

    @Test("descent: the default --loss-tol stops early and says so; --loss-tol 0 takes exactly --steps steps")
    func descentLossTolZero() throws {
        let scratch = try Scratch()
        let early = try ProcessResult.run(gradflow, ["descent", "--lr", "0.05", "--steps", "2000", "-o", scratch.path("early.h5")] + small)
        #expect(early.status == 0, "\(early.stderr)")
        #expect(early.stdout.contains("stopped   early, at step "), "\(early.stdout)")
        #expect(early.stdout.contains(" of 2000 "), "\(early.stdout)")
        #expect(early.stdout.contains("--loss-tol 0 takes all steps"))
        let all = try ProcessResult.run(gradflow, ["descent", "--lr", "0.05", "--steps", "2000", "--loss-tol", "0", "-o", scratch.path("all.h5")] + small)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("stopped   took all 2000 steps"), "\(all.stdout)")
        // An independent reader: the last recorded step and the solver's count.
        if ProcessResult.python != nil {
            let check = try ProcessResult.run("/usr/bin/env", ["python3", "-c", """
                import h5py, sys
                f = h5py.File(sys.argv[1], "r")
                print(int(f["trajectory/step"][-1]), int(f["solver"].attrs["steps"]), f["solver"].attrs["stop_reason"])
                """, scratch.path("all.h5")])
            #expect(check.status == 0, "\(check.stderr)")
            #expect(check.stdout.hasPrefix("2000 2000 "), "\(check.stdout)")
        }
    }

    @Test("run and compare accept --loss-tol 0: the flow runs to the horizon")
    func flowLossTolZero() throws {
        let scratch = try Scratch()
        let early = try ProcessResult.run(gradflow, ["run", "--t-final", "200", "-o", scratch.path("early.h5")] + small)
        #expect(early.status == 0, "\(early.stderr)")
        #expect(early.stdout.contains("before the horizon t = 200 (--loss-tol 0 runs to the horizon)"), "\(early.stdout)")
        let all = try ProcessResult.run(gradflow, ["run", "--t-final", "200", "--loss-tol", "0", "-o", scratch.path("all.h5")] + small)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("stopped   horizon t = 200 reached"), "\(all.stdout)")
        let compare = try ProcessResult.run(gradflow, ["compare", "--lr", "0.05", "--steps", "300", "--loss-tol", "0",
                                                       "-o", scratch.path("cmp.h5")] + small)
        #expect(compare.status == 0, "\(compare.stderr)")
        if ProcessResult.python != nil {
            let check = try ProcessResult.run("/usr/bin/env", ["python3", "-c", """
                import h5py, sys
                f = h5py.File(sys.argv[1], "r")
                print(f.attrs["descent_steps"], f.attrs["descent_stop"])
                """, scratch.path("cmp.h5")])
            #expect(check.stdout.hasPrefix("300 horizon"), "\(check.stdout) \(check.stderr)")
        }
    }

    @Test("a negative --loss-tol is still refused (exit 2)")
    func negativeLossTol() throws {
        let scratch = try Scratch()
        let result = try ProcessResult.run(gradflow, ["descent", "--lr", "0.05", "--loss-tol", "-1", "-o", scratch.path("x.h5")] + small)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--loss-tol -1.0: must be a finite number ≥ 0"), "\(result.stderr)")
    }
}
