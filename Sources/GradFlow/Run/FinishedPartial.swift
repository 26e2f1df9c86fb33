import FoundationEssentials

/// A partial file (`RUN.h5.partial`) that holds a whole run: its process was killed after the closing flush had
/// written the run's final status (`completed`, or `diverged` for gradient descent) and before the commit renamed the
/// file to `RUN.h5`. Nothing is left to compute, so it cannot be resumed; `finalize` does what the commit would have
/// done. `gradflow run --resume` and a restarted `gradflow sweep` use it, so that such a run is never stuck under
/// its partial name.
public enum FinishedPartial {
    /// The final status (`completed` or `diverged`) of the run in `path`, when it is a partial file, not held by a
    /// running process, whose run had ended and none of whose objects is torn (`TrajectoryFile.damagedObjects`); nil
    /// otherwise (also for anything that is not a readable trajectory file).
    public static func endedStatus(_ path: String) -> RunStatus? {
        guard path.hasSuffix(OutputFile.partialSuffix), FileManager.default.fileExists(atPath: path), !OutputFile.isLocked(path),
              let file = try? TrajectoryFile(path: path), let status = file.status, status == .completed || status == .diverged,
              file.damagedObjects().isEmpty else { return nil }
        return status
    }

    /// Whether `path` is such a partial (`endedStatus` is not nil).
    public static func isFinished(_ path: String) -> Bool { endedStatus(path) != nil }

    /// Puts the finished partial at its final path (the partial's name without `.partial`), with the commit's
    /// `fsync`s, and returns that path. Refused, with nothing changed, when a file is already there
    /// (`GradFlowError.fileAccess`) or another process holds the partial (`.outputInUse`).
    public static func finalize(_ path: String) throws -> String {
        let output = try OutputFile(resuming: path, overwrite: false)
        try output.commit()
        return output.path
    }
}
