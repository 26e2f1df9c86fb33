import Foundation
@testable import GradFlow
import Glibc
import Synchronization
import Testing

/// The pthread wrappers and the posix_spawn child process that replaced Foundation's locks, threads and `Process`.
@Suite("Concurrency and child processes without Foundation")
struct ConcurrencyTests {
    @Test("RecursiveLock: the holder takes it again; another thread waits until it is released as often as taken")
    func recursive() {
        let lock = RecursiveLock()
        lock.lock(); lock.lock()
        let entered = Shared(false)
        let done = ConditionLock()
        WorkerThread.start(stackSize: 1 << 20) {
            lock.lock(); entered.set(true); lock.unlock()
            done.lock(); done.broadcast(); done.unlock()
        }
        usleep(50_000)
        #expect(!entered.value)
        lock.unlock()
        usleep(50_000)
        #expect(!entered.value)
        done.lock()
        lock.unlock()
        for _ in 0..<100 where !entered.value { done.wait(seconds: 0.1) }
        done.unlock()
        #expect(entered.value)
    }

    @Test("ConditionLock.wait(seconds:) times out after about the time given, and a broadcast wakes it early")
    func timedWait() {
        let condition = ConditionLock()
        condition.lock()
        let start = DispatchTime.now().uptimeNanoseconds
        let signalled = condition.wait(seconds: 0.2)
        let waited = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        condition.unlock()
        #expect(!signalled)
        #expect(waited >= 0.19 && waited < 2, "\(waited)")

        let flag = Shared(false)
        WorkerThread.start(stackSize: 1 << 20) {
            usleep(20_000)
            condition.lock(); flag.set(true); condition.broadcast(); condition.unlock()
        }
        condition.lock()
        let early = DispatchTime.now().uptimeNanoseconds
        while !flag.value { condition.wait(seconds: 10) }
        condition.unlock()
        #expect(Double(DispatchTime.now().uptimeNanoseconds - early) / 1e9 < 5)
    }

    @Test("ChildProcess: exit status, standard error through a pipe, output to a descriptor, its own process group")
    func child() throws {
        let scratch = try Scratch()
        let log = scratch.path("child.log")
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        let process = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "echo out; echo $FE_TEST; echo err >&2; exit 3"],
                                       environment: ["FE_TEST": "env ok"], standardOutput: .descriptor(fd), standardError: .pipe)
        close(fd)
        #expect(getpgid(process.processIdentifier) == process.processIdentifier)
        let errors = String(decoding: process.readToEnd(of: process.standardErrorPipe!), as: UTF8.self)
        process.waitUntilExit()
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 3)
        #expect(errors == "err\n")
        #expect(String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self) == "out\nenv ok\n")
    }

    /// `readWhileRunning`: everything the child wrote, including a burst at its very end, but not what a process it
    /// left behind writes later (that process keeps the pipe open); and no more than `limit` bytes kept.
    @Test("ChildProcess.readWhileRunning: the child's output, not its background process's; the limit")
    func readWhileRunning() throws {
        let start = Date()
        let process = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "(sleep 20; echo late >&2) & sleep 0.3; echo early >&2; exit 4"],
                                       standardError: .pipe)
        let text = String(decoding: process.readWhileRunning(of: process.standardErrorPipe!), as: UTF8.self)
        #expect(text == "early\n")
        #expect(process.terminationStatus == 4)
        #expect(Date().timeIntervalSince(start) < 5)
        let loud = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "head -c 300000 /dev/zero >&2"], standardError: .pipe)
        #expect(loud.readWhileRunning(of: loud.standardErrorPipe!, limit: 1000).count == 1000)
        #expect(loud.terminationStatus == 0)
    }

    @Test("ChildProcess: a child ended by a signal reports the signal's number, as Process did; no descriptor leaks into it")
    func signalled() throws {
        let leaked = dup2(open("/dev/null", O_RDONLY), 217)  // not close-on-exec: Process closed it in the child, so must ChildProcess
        defer { close(leaked) }
        let listing = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "ls /proc/self/fd"], standardOutput: .pipe)
        let names = String(decoding: listing.readToEnd(of: listing.standardOutputPipe!), as: UTF8.self).split(separator: "\n")
        listing.waitUntilExit()
        #expect(!names.contains(Substring("\(leaked)")), "\(names)")

        let process = try ChildProcess(executable: "/bin/sleep", arguments: ["30"])
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGKILL)  // SIGINT may be ignored by the test runner, and so by its children
        process.waitUntilExit()
        #expect(process.terminationStatus == SIGKILL)
    }

    @Test("ChildProcess refuses a missing or non-executable file before spawning")
    func refused() throws {
        let scratch = try Scratch()
        let text = try scratch.write("not-executable", "#!/bin/sh\n")
        for path in [scratch.path("missing"), text, scratch.path("")] {
            #expect(throws: GradFlowError.self, "\(path)") { try ChildProcess(executable: path, arguments: []) }
        }
    }
}

/// A value shared with a `WorkerThread` (a `Mutex` cannot be captured: it is not copyable).
private final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func set(_ value: Value) { mutex.withLock { $0 = value } }
}
