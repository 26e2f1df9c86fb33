/// The state of a run, as recorded in the trajectory file's `status` attribute.
public enum RunStatus: String, Sendable, Codable {
    case running, completed, interrupted, failed, diverged
}
