/// Every failure the GradFlow library reports. The library never prints and never exits: it throws
/// one of these, and the executable turns it into a one-line message and an exit code.
public enum GradFlowError: Error, Equatable, Sendable {
    /// A configuration value is out of its domain: `field` names the setting (for example
    /// `solver.relativeTolerance`, never a front end's option), `value` is what was given. Both texts may
    /// name further fields (`schedule.tFinal 1e300 descent.learningRate 1e-10: …`); `fields` lists them all.
    case invalidConfiguration(field: ConfigurationField, value: ConfigurationText, reason: ConfigurationText)
    /// The request as a whole cannot be met (`subject`: `memory` for a run that would not fit, `sweep` for a
    /// grid with too many points, `merge` for missing shards); the texts name the fields that drive it.
    case invalidRequest(subject: String, value: ConfigurationText, reason: ConfigurationText)
    /// An input file is unusable: `file` is its path, `field` the dataset, column or attribute.
    case invalidData(file: String, field: String, reason: String)
    /// A file could not be read, created or written.
    case fileAccess(path: String, reason: String)
    /// A LAPACK routine returned `info ≠ 0`.
    case lapack(routine: String, info: Int)
    /// CVODE returned a negative flag. `flagName` is CVODE's own name for it
    /// (from `CVodeGetReturnFlagName`), `time` the time the integrator had reached.
    case solver(flagName: String, flag: Int, time: Double, message: String)
    /// The run was asked to stop (SIGINT, SIGTERM); `time` is the last recorded output time.
    case interrupted(time: Double)
    /// Another process is writing the output `path` (its `path.partial` is locked).
    case outputInUse(path: String)
    /// A run of the output `path` stopped before its end (killed, or out of disk space) and left its last
    /// flushed state in `partial`, which a new run would not replace: resume it (`resumable`: a gradient-flow
    /// run) or move it away.
    case unfinishedOutput(path: String, partial: String, resumable: Bool)
    /// The disk is full, or the file reached the size limit (`ulimit -f`): `path` is the file, which keeps
    /// its last flushed state; `reason` says what and when.
    case storage(path: String, reason: String)

    /// True when the error lies in what the user gave (exit code 2), false when the
    /// computation itself failed (exit code 1).
    public var isInputError: Bool {
        switch self {
        case .invalidConfiguration, .invalidRequest, .invalidData, .fileAccess, .outputInUse, .unfinishedOutput: return true
        case .lapack, .solver, .interrupted, .storage: return false
        }
    }

    /// The configuration fields the error names: the refused one first, then those its texts mention.
    public var fields: [ConfigurationField] {
        var named: [ConfigurationField] = []
        switch self {
        case let .invalidConfiguration(field, value, reason): named = [field] + value.fields + reason.fields
        case let .invalidRequest(_, value, reason): named = value.fields + reason.fields
        default: break
        }
        var seen = Set<ConfigurationField>()
        return named.filter { seen.insert($0).inserted }
    }
}

extension GradFlowError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidConfiguration(field, value, reason):
            return "\(field.name) \(value): \(reason)"
        case let .invalidRequest(subject, value, reason):
            return "\(subject) \(value): \(reason)"
        case let .invalidData(file, field, reason):
            return "\(file): \(field): \(reason)"
        case let .fileAccess(path, reason):
            return "\(path): \(reason)"
        case let .lapack(routine, info):
            return "LAPACK \(routine) failed (info = \(info))"
        case let .solver(flagName, flag, time, message):
            let detail = message.isEmpty ? "" : ": \(message)"
            let solver = flagName.hasPrefix("ARK_") ? "ARKODE" : "CVODE"
            return "\(solver) failed with \(flagName) (\(flag)) at t = \(time)\(detail)"
        case let .interrupted(time):
            return "interrupted; the file holds the run up to t = \(time)"
        case let .outputInUse(path):
            return "\(path): another gradflow process is writing this output (it holds the lock on the file); wait for it to end, or choose another output"
        case let .unfinishedOutput(path, partial, resumable):
            return "\(path): a run of this output stopped before its end (killed, or out of disk space) and left its last flushed state in \(partial); "
                + (resumable ? "resume it, or move it away first" : "it is not a trajectory that can be resumed: move it away to start again")
        case let .storage(path, reason):
            return "\(path): \(reason)"
        }
    }
}
