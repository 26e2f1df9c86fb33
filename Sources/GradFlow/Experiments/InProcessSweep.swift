import FoundationEssentials
import Synchronization

/// One point of an in-process sweep: what it runs, and the command line that runs it alone (recorded in its
/// trajectory file's `command_line`, as a separate process would record it).
public struct SweepJob: Sendable {
    /// The run of a point.
    public enum Work: Sendable {
        /// A new gradient-flow run (`gradflow run`).
        case flow(RunConfiguration)
        /// A new gradient-descent run (`gradflow descent`).
        case descent(RunConfiguration)
        /// A new central-flow run (`gradflow run --central-lr η`).
        case central(RunConfiguration)
        /// Continues the flow run that a killed sweep left as this partial file (`gradflow run --resume`).
        case resumeFlow(partial: String)
        /// Continues the gradient-descent run that a killed sweep left as this partial file (`gradflow run --resume`).
        case resumeDescent(partial: String)
    }

    public var point: SweepPoint
    public var work: Work
    public var commandLine: String

    public init(point: SweepPoint, work: Work, commandLine: String) {
        self.point = point
        self.work = work
        self.commandLine = commandLine
    }
}

/// How one job of an in-process sweep ended.
public enum SweepJobResult: Sendable {
    case flow(GradientFlowRunSummary)
    case descent(GradientDescentRunSummary)
    case central(RunSummary<CentralFlowResult>)
    /// The run threw (its file, if it had one, is closed as `failed` or `interrupted`).
    case failed(any Error)

    /// A run that ended as it should: not failed, and (descent) not diverged.
    public var isClean: Bool {
        switch self {
        case .flow, .central: return true
        case let .descent(summary): return summary.divergenceMessage == nil
        case .failed: return false
        }
    }
}

/// How one job of an in-process sweep ended, without its summary (a sweep of many runs keeps only this).
public enum SweepJobOutcome: Sendable {
    /// The run ended as it should.
    case completed
    /// A descent that diverged (an outcome of the run, recorded in its file).
    case diverged
    /// The run threw this error.
    case failed(any Error)

    public init(_ result: SweepJobResult) {
        switch result {
        case .flow, .central: self = .completed
        case let .descent(summary): self = summary.divergenceMessage == nil ? .completed : .diverged
        case let .failed(error): self = .failed(error)
        }
    }
}

/// Where an in-process sweep stands, for a progress bar.
public struct SweepProgress: Sendable, Equatable {
    /// The jobs given.
    public var total: Int
    /// Jobs that ended (clean or not).
    public var done: Int
    /// Ended jobs that failed or diverged.
    public var notClean: Int
    /// Jobs running now.
    public var running: Int
    /// Seconds since the sweep started.
    public var elapsed: Double
}

/// Runs the points of a sweep on worker threads of this process, instead of one process per point.
///
/// What makes the runs safe side by side: a run holds no global state (`RunPipeline` builds its problem, network,
/// risk workspaces, integrator and monitors per run, and SUNDIALS gets one context per session); every HDF5 call
/// goes through the HDF5 layer's process-wide lock (Debian's serial libhdf5 is not thread-safe), so the files are
/// written one call at a time; and the BLAS and vector-kernel thread count, which is process-wide, is set to one
/// before any worker starts, left alone by the runs while a sweep goes on, and left at one after (what every run
/// sets anyway). A resumed job whose file asks for another count is refused (it would change the others' bits):
/// every run of a sweep uses one BLAS thread, as `gradflow sweep` has always run them.
/// One BLAS thread gives the same bits as a separate process with one BLAS thread.
///
/// The library prints nothing: `progress` is called on the calling thread (at least every `progressInterval`
/// seconds, and after the last job), and `completed` on the worker thread that ran the job, right after it ended.
public enum InProcessSweep {
    /// The OpenBLAS thread count of every run of an in-process sweep.
    public static let blasThreads = 1

    /// How many in-process sweeps are running in this process.
    private static let active = Mutex(0)

    /// `blasThreads` while an in-process sweep runs (it has set the process-wide count), nil otherwise.
    static var activeThreadCount: Int? { active.withLock { $0 } > 0 ? blasThreads : nil }

    /// Runs `jobs` on `workers` threads (at most one per job), in the order given, and returns how each ended
    /// (nil for a job that never started because `shouldStop` turned true); each run's summary goes to `completed`
    /// only, so that a sweep of thousands of runs does not keep them all. It blocks until every started job
    /// has ended. `shouldStop` (a signal handler's flag) is asked before each job starts and inside every run:
    /// a running run then closes its file as `interrupted` and ends as `.failed(GradFlowError.interrupted)`.
    public static func run(_ jobs: [SweepJob], workers: Int, progressInterval: Double = 0.25,
                           shouldStop: @escaping @Sendable () -> Bool = { false },
                           progress: (SweepProgress) -> Void = { _ in },
                           completed: @escaping @Sendable (SweepJob, SweepJobResult) -> Void = { _, _ in }) -> [SweepJobOutcome?] {
        let state = SweepState(count: jobs.count)
        let start = Date()
        let threadCount = max(1, min(workers, jobs.count))
        BLASThreads.set(blasThreads)  // before any worker starts: the count is process-wide and part of the bits
        active.withLock { $0 += 1 }
        defer { active.withLock { $0 -= 1 } }

        state.startedWorkers(threadCount)
        for _ in 0..<threadCount {
            // 8 MiB, as the main thread's: LAPACK keeps its local arrays on the stack
            WorkerThread.start(stackSize: 8 << 20) {
                while let index = state.next(stop: shouldStop) {
                    let job = jobs[index]
                    let result = execute(job, shouldStop: shouldStop)
                    completed(job, result)
                    state.finish(index, result)
                }
                state.workerEnded()
            }
        }
        while true {
            let (snapshot, live) = state.wait(seconds: progressInterval)
            progress(SweepProgress(total: jobs.count, done: snapshot.done, notClean: snapshot.notClean, running: snapshot.running,
                                   elapsed: Date().timeIntervalSince(start)))
            if live == 0 { break }
        }
        return state.results
    }

    /// Runs one job in the calling thread, with `blasThreads` BLAS threads.
    static func execute(_ job: SweepJob, shouldStop: @escaping @Sendable () -> Bool) -> SweepJobResult {
        do {
            switch job.work {
            case var .flow(config):
                config.threads = blasThreads
                return .flow(try GradientFlowRun.execute(config, commandLine: job.commandLine, shouldStop: shouldStop))
            case var .descent(config):
                config.threads = blasThreads
                return .descent(try GradientDescentRun.execute(config, commandLine: job.commandLine, shouldStop: shouldStop))
            case var .central(config):
                config.threads = blasThreads
                return .central(try CentralFlowRun.execute(config, commandLine: job.commandLine, shouldStop: shouldStop))
            case let .resumeFlow(partial):
                return .flow(try GradientFlowRun.resume(partial, commandLine: job.commandLine, shouldStop: shouldStop,
                                                        requiredThreads: blasThreads))
            case let .resumeDescent(partial):
                return .descent(try GradientDescentRun.resume(partial, commandLine: job.commandLine, shouldStop: shouldStop,
                                                              requiredThreads: blasThreads))
            }
        } catch {
            return .failed(error)
        }
    }
}

/// The shared state of one in-process sweep: the next job, the counts and the results, behind one condition.
private final class SweepState: @unchecked Sendable {
    private let condition = ConditionLock()
    private var nextIndex = 0
    private var done = 0, notClean = 0, running = 0
    private var live = 0
    private var stopped = false
    private var stored: [SweepJobOutcome?]

    init(count: Int) { stored = Array(repeating: nil, count: count) }

    var results: [SweepJobOutcome?] {
        condition.lock(); defer { condition.unlock() }
        return stored
    }

    func startedWorkers(_ count: Int) {
        condition.lock(); defer { condition.unlock() }
        live += count
    }

    /// The next job to run, or nil when none is left or the sweep stops.
    func next(stop: () -> Bool) -> Int? {
        condition.lock(); defer { condition.unlock() }
        if stop() { stopped = true }
        guard !stopped, nextIndex < stored.count else { return nil }
        nextIndex += 1
        running += 1
        return nextIndex - 1
    }

    func finish(_ index: Int, _ result: SweepJobResult) {
        condition.lock(); defer { condition.unlock() }
        stored[index] = SweepJobOutcome(result)
        running -= 1
        done += 1
        if !result.isClean { notClean += 1 }
        condition.broadcast()
    }

    func workerEnded() {
        condition.lock(); defer { condition.unlock() }
        live -= 1
        condition.broadcast()
    }

    /// Waits until a job ends or `seconds` pass; the counts, and the workers still running.
    func wait(seconds: Double) -> (snapshot: (done: Int, notClean: Int, running: Int), live: Int) {
        condition.lock(); defer { condition.unlock() }
        if live > 0 { condition.wait(seconds: seconds) }
        return ((done, notClean, running), live)
    }
}
