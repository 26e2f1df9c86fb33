import CVectorKernels
import FoundationEssentials

/// Records a run's output rows (monitors, trajectory file) on a second thread while the dynamics computes the
/// next ones: with the default monitors a network of widths 50 spends about as long in its monitors as in its
/// integration, and on a machine with a free core the two now overlap.
///
/// Nothing the run computes changes: the dynamics never reads what the monitors compute, the rows reach the
/// recorder one at a time and in order (so every monitor's warm starts see the same sequence as on one thread),
/// and with one BLAS thread a product gives the same bits on any thread. The file is the same, byte for byte
/// in its datasets. What changes is when: the dynamics may run up to `depth` rows ahead of the file.
///
/// Ownership: between `init` and `finish()` only the recording thread touches the recorder; the thread that
/// submits rows touches it again only after `finish()` has returned (the condition's mutex orders the two).
/// A recording error (a full disk, an interruption inside the monitors) stops the recording: later rows are
/// dropped and `submit` rethrows the error, so the dynamics stops at its next output time, as it stopped at the
/// failing row before.
final class RecordingThread: @unchecked Sendable {
    /// One row, owning everything it points to (a dynamics' row is valid only during its call).
    private struct OwnedRow {
        var row: TrajectoryRow
        var drift: [Double]?

        init(_ row: TrajectoryRow) {
            self.row = row
            self.row.predictedDrift = nil
            drift = row.predictedDrift.map(Array.init)
        }

        func record(into recorder: RunRecorder) throws {
            guard let drift else { _ = try recorder.record(row); return }
            try drift.withUnsafeBufferPointer { pointer in
                var row = row
                row.predictedDrift = pointer
                _ = try recorder.record(row)
            }
        }
    }

    /// Whether recording on a second thread can help this run: one BLAS thread asked for (more threads mean the
    /// cores are the kernels'), not a point of an in-process sweep (its workers use the cores), no monitor event
    /// (an event's crossing changes a monitor's state from the dynamics' thread), some monitor selected, and a
    /// second core this process may run on.
    static func helps(config: RunConfiguration, suite: MonitorSuite) -> Bool {
        config.threads == 1 && InProcessSweep.activeThreadCount == nil && suite.events == nil && !config.monitors.isEmpty
            && gf_allowed_cpus() >= 2
    }

    /// Whether a run under `policy` records on a second thread.
    static func isUsed(_ policy: RecordingThreadPolicy, config: RunConfiguration, suite: MonitorSuite) -> Bool {
        switch policy {
        case .never: return false
        case .whenItHelps: return helps(config: config, suite: suite)
        case .always: return suite.events == nil && InProcessSweep.activeThreadCount == nil
        }
    }

    /// Rows the dynamics may run ahead of the recording.
    let depth: Int
    private let recorder: RunRecorder
    private let condition = ConditionLock()
    private var queue: [OwnedRow] = []
    private var closed = false
    private var ended = false
    private var failure: (any Error)?
    /// Rows handed over by `submit`.
    private(set) var submitted = 0
    /// Seconds the submitting thread waited: for room in the queue, and in `finish()` for the last rows.
    private(set) var waited = 0.0

    /// Starts the recording thread for `recorder`, whose rows `submit` then hands over.
    init(recorder: RunRecorder, depth: Int = 2) {
        self.recorder = recorder
        self.depth = max(1, depth)
        // 8 MiB, as the main thread's: LAPACK keeps its local arrays on the stack
        WorkerThread.start(stackSize: 8 << 20) { [self] in loop() }
    }

    /// Hands `row` over to be recorded; waits while `depth` rows are waiting already.
    /// - Throws: the error that stopped the recording, if any.
    func submit(_ row: TrajectoryRow) throws {
        let owned = OwnedRow(row)
        condition.lock(); defer { condition.unlock() }
        if queue.count >= depth, failure == nil {
            let start = Date()
            while queue.count >= depth, failure == nil { condition.wait(seconds: 1) }
            waited += Date().timeIntervalSince(start)
        }
        if let failure { throw failure }
        queue.append(owned)
        submitted += 1
        condition.broadcast()
    }

    /// Waits until every row handed over is recorded (or dropped after an error) and the thread has ended.
    /// Returns the error that stopped the recording, if any. Call it once, on the submitting thread.
    func finish() -> (any Error)? {
        condition.lock(); defer { condition.unlock() }
        closed = true
        condition.broadcast()
        let start = Date()
        while !ended { condition.wait(seconds: 1) }
        waited += Date().timeIntervalSince(start)
        return failure
    }

    private func loop() {
        condition.lock()
        while true {
            while queue.isEmpty, !closed { condition.wait(seconds: 1) }
            guard let next = queue.first else { break }
            condition.unlock()
            var error: (any Error)?
            do { try next.record(into: recorder) } catch let thrown { error = thrown }
            condition.lock()
            queue.removeFirst()
            if let error, failure == nil {
                failure = error
                queue.removeAll()  // nothing is recorded after a failed row
            }
            condition.broadcast()
        }
        ended = true
        condition.broadcast()
        condition.unlock()
    }
}

/// When a run records its rows on a second thread (`RecordingThread`); the results are the same bits either way.
public enum RecordingThreadPolicy: Sendable {
    /// On the run's own thread (`gradflow run --no-monitor-thread`).
    case never
    /// On a second thread when that can help: one BLAS thread, some monitor on, a second core this process may run
    /// on, not inside an in-process sweep, and no monitor with events (the default).
    case whenItHelps
    /// On a second thread whenever it is possible (no monitor with events, not inside an in-process sweep), even on
    /// one core: for tests, which must take that path on any machine.
    case always
}
