import ArgumentParser
import CFileSystem
import CStartup
import CTerminal
import Glibc
import GradFlow

/// The `gradflow` command: subcommands only; argument parsing and printing, no numerics.
struct GradFlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradflow",
        abstract: "Gradient flow on deep linear networks, integrated as an ODE with SUNDIALS CVODE.",
        discussion: """
            GradFlow integrates dW/dt = −∇R(W) for f(x) = pᵀW_L⋯W_1x and R(W) = (1/n)‖y − Xw‖², with the \
            exact Hessian-vector product as CVODE's Jacobian, and writes the trajectory to an HDF5 file \
            that h5py reads. Exit codes: 0 success, 1 the computation failed (reported), 2 bad input or \
            usage, 130 interrupted.
            """,
        version: GradFlowVersion.string,
        subcommands: [RunCommand.self, DescentCommand.self, CompareCommand.self, CriticalLRCommand.self, SweepCommand.self, MergeCommand.self, InspectCommand.self, PlotCommand.self]
    )
}

@main
enum Main {
    static func main() {
        gf_startup_restore_environment()  // OPENBLAS_NUM_THREADS=1 was for OpenBLAS's constructor only
        gf_startup_follow_sweep_parent()  // a sweep's point process ends (interrupted) with its sweep
        gf_ignore_file_size_signal()  // past `ulimit -f` a write fails with EFBIG (reported), not SIGXFSZ
        // A reader that closes the pipe early (`| head`) makes stdout writes fail with EPIPE (reported at the end by
        // checkStandardOutput), instead of SIGPIPE ending the command before its files are written.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        do {
            let arguments = RecordingOptions.completingSaveWeights(Array(CommandLine.arguments.dropFirst()))
            var command = try parseSubcommandDirectly(arguments) ?? GradFlowCommand.parseAsRoot(arguments)
            try command.run()
            checkStandardOutput()
        } catch let error as GradFlowError {
            report(error)
        } catch let error as UsageError {
            report(error)
        } catch let code as ExitCode {
            if code == .success { checkStandardOutput() }
            Glibc.exit(code.rawValue)
        } catch {
            // A command's validate() refused its options: reported as if run() had thrown it.
            if let refusal = ValidationFailure.take() { report(refusal) }
            let code = GradFlowCommand.exitCode(for: error)
            if code == .success {  // --help, --version: printed here, so that a failed write is reported as for any command
                let text = GradFlowCommand.fullMessage(for: error)
                if !text.isEmpty { Terminal.print(text) }
                checkStandardOutput()
                Glibc.exit(0)
            }
            // One line, as every refusal (`gradflow <subcommand> --help` lists the options).
            Terminal.error(GradFlowCommand.message(for: error).split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "")
            Glibc.exit(2)
        }
    }

    /// `gradflow SUBCOMMAND …` parsed with the subcommand as its own root, or nil. Given `gradflow run …`, swift-argument-
    /// parser builds `run`'s whole argument set (a reflection over some 70 options) once to learn whether `run` takes
    /// passthrough arguments, then again to parse it; parsing `run` directly skips the first pass: 7.5 M of the 133.5 M
    /// instructions of a whole case-A run (`gradflow-bench --cases I`). Only a clean parse is used: an error, `--help`
    /// or `--version` returns nil, and the root parses the same words again, so every message and exit code is the
    /// root's (`CommandLineTests` checks that both parses give the same command).
    static func parseSubcommandDirectly(_ arguments: [String]) -> (any ParsableCommand)? {
        guard let name = arguments.first,
              let subcommand = GradFlowCommand.configuration.subcommands.first(where: { $0.configuration.commandName == name }) else { return nil }
        defer { _ = ValidationFailure.take() }  // a refusal recorded by validate() is recorded again by the root's parse
        // Not the subcommand itself (`run --help` parses as the help command): the root's parse.
        guard let command = try? subcommand.parseAsRoot(Array(arguments.dropFirst())), type(of: command) == subcommand else { return nil }
        return command
    }

    /// A command that succeeded but whose standard output could not be written (`> /dev/full`, a full disk, a
    /// closed descriptor) ends with one line on stderr and exit 1: what it printed is lost, even if its files
    /// are complete. Otherwise returns.
    static func checkStandardOutput() {
        let code = gf_stdout_error()
        guard code != 0 else { return }
        Terminal.error("cannot write to standard output (\(String(cString: strerror(code))))")
        Glibc.exit(1)
    }

    /// Prints a refusal or failure as one line (library errors with the options the user typed) and exits
    /// with its code: 2 for bad input, 1 for a failed computation, 130 when interrupted.
    static func report(_ error: any Error) -> Never {
        let (message, code) = failure(error)
        if let message { Terminal.error(message) }
        Glibc.exit(code)
    }

    /// The one-line message (without `gradflow: error: `) and the exit code of an error that ends a command:
    /// what `report` prints, and what a sweep's point run on a thread writes to its log. An `ExitCode` has no
    /// message (the command printed it); any other error is its description, exit 2.
    static func failure(_ error: any Error) -> (message: String?, code: Int32) {
        switch error {
        case let error as GradFlowError:
            let code: Int32 = { if case .interrupted = error { return 130 } else { return error.isInputError ? 2 : 1 } }()
            if case let .unfinishedOutput(path, partial, true) = error {
                return ("\(path): a run of this output stopped before its end (killed, or out of disk space) and left its last flushed "
                        + "state in \(partial); continue it with 'gradflow run --resume \(partial)', or move it away first", code)
            }
            return (OptionNames.message(error), code)
        case let error as UsageError:
            return (error.message, 2)
        case let code as ExitCode:
            return (nil, code.rawValue)
        default:
            return ("\(error)", 2)
        }
    }
}
