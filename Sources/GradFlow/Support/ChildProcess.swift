import CFileSystem
import FoundationEssentials
import Glibc

/// A child process started with `posix_spawn`, in place of Foundation's `Process`, with the same set-up: the
/// executable must be a regular file the caller may execute (checked first, as `posix_spawn` cannot report a
/// failed `exec`), the child gets its own process group (so a terminal's Ctrl-C reaches only the parent, which
/// passes it on), inherits no descriptor beyond 0, 1 and 2, and has the parent's standard input. Standard output
/// and error go where the caller says; a `.pipe` is read with `readToEnd(of:)`.
package final class ChildProcess {
    /// Where a standard stream of the child goes.
    package enum Redirection {
        /// The parent's own stream.
        case inherit
        /// An open descriptor of the parent (left open for the caller to close).
        case descriptor(Int32)
        /// A new pipe whose read end the parent keeps (`standardOutputPipe`, `standardErrorPipe`).
        case pipe
    }

    /// The child's process id.
    package let processIdentifier: pid_t
    /// The parent's read end of the child's standard output, when it is a `.pipe`.
    package let standardOutputPipe: Int32?
    /// The parent's read end of the child's standard error, when it is a `.pipe`.
    package let standardErrorPipe: Int32?
    private var status: Int32?
    /// Whether a signal ended the child (`terminationStatus` is then the signal's number); false while it runs.
    package private(set) var wasSignaled = false

    /// Starts `executable` (a path, not searched in PATH) with `arguments` (without the program name, which is
    /// `executable`) and `environment` (the parent's when nil).
    /// - Throws: `GradFlowError.fileAccess` naming the executable when it is not an executable regular file or
    ///   cannot be started.
    package init(executable: String, arguments: [String], environment: [String: String]? = nil,
                 standardOutput: Redirection = .inherit, standardError: Redirection = .inherit) throws {
        func failure(_ code: Int32) -> GradFlowError {
            .fileAccess(path: executable, reason: "cannot be started (\(String(cString: strerror(code))))")
        }
        var info = stat()
        guard stat(executable, &info) == 0 else { throw failure(errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw failure(ENOENT) }
        guard access(executable, X_OK) == 0 else { throw failure(errno) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipes: [Int32: (read: Int32, write: Int32)] = [:]
        var failed: Int32 = 0
        for (target, redirection) in [(STDOUT_FILENO, standardOutput), (STDERR_FILENO, standardError)] {
            switch redirection {
            case .inherit: break
            case let .descriptor(fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .pipe:
                var ends: [Int32] = [-1, -1]
                let made = gf_pipe_cloexec(&ends)
                guard made == 0 else { failed = -made; break }
                pipes[target] = (ends[0], ends[1])
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
            }
        }
        func closePipes() { for (_, ends) in pipes { close(ends.read); close(ends.write) } }
        guard failed == 0 else { closePipes(); throw failure(failed) }
        let closing = gf_spawn_add_close_from(&actions, 3)
        guard closing == 0 else { closePipes(); throw failure(closing) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        for (_, ends) in pipes { close(ends.write) }
        guard spawned == 0 else {
            for (_, ends) in pipes { close(ends.read) }
            throw failure(spawned)
        }
        processIdentifier = pid
        standardOutputPipe = pipes[STDOUT_FILENO]?.read
        standardErrorPipe = pipes[STDERR_FILENO]?.read
    }

    deinit {
        if let fd = standardOutputPipe { close(fd) }
        if let fd = standardErrorPipe { close(fd) }
    }

    /// Every byte left in `descriptor` (one of the pipes), read until end of file.
    package func readToEnd(of descriptor: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += buffer[..<n]
        }
        return bytes
    }

    /// What the child writes to `descriptor` (one of the pipes) while it runs, and what is already in the pipe when it
    /// ends: read until end of file, or until the child has ended and the pipe has then stayed empty for `quiet`
    /// seconds (at most one second of reading after the end). A process the child left running in the background
    /// (gnuplot's helpers, a `cmd &` in a wrapper) keeps the pipe's write end open, and reading to the end of file
    /// would wait for it as well. The first `limit` bytes are kept; the rest is read and dropped, so that the writer
    /// never blocks on a full pipe. Reaps the child.
    package func readWhileRunning(of descriptor: Int32, quiet: Double = 0.2, limit: Int = 1 << 20) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var endedAt: Double?
        func now() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_MONOTONIC, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
        }
        while true {
            if endedAt == nil, !isRunning { endedAt = now() }
            if let endedAt, now() - endedAt > 1 { break }
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&request, 1, endedAt == nil ? 50 : Int32(quiet * 1000))
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 {
                if endedAt != nil { break }  // ended, and nothing more came within `quiet`
                continue
            }
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                break
            }
            if n == 0 { break }  // end of file: every writer has closed it
            if bytes.count < limit { bytes += buffer[..<min(n, limit - bytes.count)] }
        }
        waitUntilExit()
        return bytes
    }

    /// Whether the child has not ended yet (it is reaped, without blocking, once it has).
    package var isRunning: Bool {
        if status != nil { return false }
        return !reap(options: WNOHANG)
    }

    /// Blocks until the child ends.
    package func waitUntilExit() {
        while status == nil { _ = reap(options: 0) }
    }

    /// The child's exit code, or the number of the signal that ended it (as `Process.terminationStatus`);
    /// call it once the child has ended.
    package var terminationStatus: Int32 {
        guard let status else { preconditionFailure("the child process is still running") }
        return status
    }

    /// `waitpid` once; true when the child has ended (its status is then stored).
    private func reap(options: Int32) -> Bool {
        var raw: Int32 = 0
        let result = waitpid(processIdentifier, &raw, options)
        if result == processIdentifier {
            let signal = raw & 0x7F
            status = signal == 0 ? (raw >> 8) & 0xFF : signal
            wasSignaled = signal != 0
            return true
        }
        if result < 0 && errno != EINTR { status = -1; return true }  // not our child any more (cannot happen)
        return false
    }
}
