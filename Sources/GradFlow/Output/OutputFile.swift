import CFileSystem
import FoundationEssentials
import Glibc
import Synchronization

/// A file that a command writes, written so that no result is ever lost (README, "Reliability"):
///
/// - **Atomic.** The content goes to a hidden temporary file in the output's folder
///   (`.NAME.tmp-PID-N`, created unnamed with `O_TMPFILE`, locked, and only then linked, so it appears
///   locked), which `commit()` renames onto the final path only when the command has written a valid
///   file. An existing file (with `overwrite`, `--force`) is replaced only by that rename: a refused,
///   failed or crashed command leaves it as it was. A temporary left by a killed command is unlocked,
///   and the next claim of the same path removes it (it never held a complete header).
/// - **Resumable while it runs.** A trajectory file (`resumable`) is renamed `FINAL.partial`
///   (`partialPath`) as soon as its header is complete and flushed, so after `kill -9` the last flushed
///   state is there, readable, and `gradflow run --resume FINAL.partial` continues it.
/// - **One writer per path.** The file holds an exclusive open-file-description lock (`F_OFD_SETLK`) from
///   its creation to the commit. A second writer of the same path finds `FINAL.partial` (locked:
///   `GradFlowError.outputInUse`; unlocked, left by a killed run: `.unfinishedOutput`) and stops before it
///   writes anything. HDF5's own `flock` locks do not interact with it.
/// - **No output over an input.** `inputs` are compared with the output (and its partial) by device and
///   inode, so symbolic links, hard links and relative paths count.
/// - **Room before writing.** `reserve(_:for:)` checks `ulimit -f` and reserves disk blocks (`fallocate`,
///   keeping the size) before a write: a full disk or a size limit stops the command with the file at its
///   last flushed state instead of a half-written flush.
package final class OutputFile {
    /// An input of the command, with what it is ("the data file"), for the message that refuses it.
    package struct Input: Sendable {
        package var path: String
        package var role: String
        package init(_ path: String, role: String) {
            self.path = path
            self.role = role
        }
    }

    /// The suffix of a running (or killed) trajectory file: `run.h5` is written as `run.h5.partial`.
    package static let partialSuffix = ".partial"

    /// The final path.
    package let path: String
    /// Replace an existing file at `path` (at the commit only).
    package let overwrite: Bool
    /// `path + ".partial"`.
    package var partialPath: String { path + Self.partialSuffix }
    /// The path to open the content by: the hidden temporary, then the partial once published.
    package private(set) var contentPath: String
    /// The size of the content written so far, in bytes.
    package var contentSize: Int { max(0, Int(gf_descriptor_size(descriptor))) }
    /// True once `FINAL.partial` names the content.
    package private(set) var isPublished = false
    package private(set) var isCommitted = false
    private var descriptor: Int32
    /// The hidden temporary that holds the content until it is published or committed (removed if never).
    private var temporaryPath: String?
    private var folder: String { Self.folder(of: path) }

    /// Claims `path` for a new file: checks the folder, an existing file (refused unless `overwrite`),
    /// the inputs and a partial of the same path, then creates the unnamed content file and locks it.
    /// Nothing on disk changes when it throws.
    /// A trajectory calls `publish()` once its header is flushed, so that it runs as `FINAL.partial`; a file
    /// written whole goes from its temporary straight to `commit()`.
    package init(claiming given: String, overwrite: Bool, inputs: [Input] = []) throws {
        let path = Self.resolvingLink(given)
        try Self.checkTarget(path, overwrite: overwrite, inputs: inputs, scanningTemporaries: false)  // createTemporary scans
        self.path = path
        self.overwrite = overwrite
        (descriptor, contentPath) = try Self.createTemporary(for: path)
        temporaryPath = contentPath
    }

    /// Creates and locks the hidden temporary `.NAME.tmp-PID-N` beside `path`: unnamed, locked, then linked
    /// (so no other process ever sees it unlocked), or, without O_TMPFILE, created exclusively and locked.
    /// First, in one pass over the folder: another process's locked temporary of `path` (a command writing it
    /// whole) refuses the claim, and temporaries left unlocked by killed processes are removed.
    private static func createTemporary(for path: String) throws -> (Int32, String) {
        let folder = folder(of: path)
        let base = PathName.lastComponent(path)
        try sweepTemporaries(of: base, in: folder, path: path)
        let serial = temporaryCount.withLock { count in count += 1; return count }
        let name = PathName.appending(folder, ".\(base).tmp-\(getpid())-\(serial)")
        var fd = gf_open_unnamed(folder)
        if fd >= 0 {
            guard gf_lock_exclusive(fd) == 0 else { close(fd); throw GradFlowError.fileAccess(path: path, reason: "cannot lock the output") }
            let linked = gf_link_descriptor(fd, name)
            guard linked == 0 else {
                close(fd)
                throw claimError(path, partial: path + partialSuffix, errno: -linked)
            }
            return (fd, name)
        }
        let named = PathName.appending(folder, ".\(base).tmpx-\(getpid())-\(serial)")
        fd = open(named, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw claimError(path, partial: path + partialSuffix, errno: errno) }
        guard gf_lock_exclusive(fd) == 0 else {
            close(fd)
            unlink(named)
            throw GradFlowError.fileAccess(path: path, reason: "cannot lock the output")
        }
        return (fd, named)
    }

    private static let temporaryCount = Mutex(0)

    /// One listing of the temporaries of `base` in `folder`: another process's temporary that is locked means
    /// a command is writing `path` whole (`GradFlowError.outputInUse`, and nothing is removed); one that no process
    /// holds locked was left by a command killed before its file had a complete header, and is removed. A
    /// `.BASE.tmp-*` one appeared locked, so unlocked means dead; a `.BASE.tmpx-*` one (no O_TMPFILE) is unlocked
    /// for an instant after its creation, so it must also be more than 10 s old. Only names of the exact form
    /// `.BASE.tmp-PID-N` count (`isTemporary`). The folder is listed once: in a sweep's folder of thousands of
    /// files, each listing costs a fraction of a millisecond.
    private static func sweepTemporaries(of base: String, in folder: String, path: String) throws {
        guard let names = temporaryNames(of: base, in: folder) else { return }
        let own = "-\(getpid())-"
        var stale: [String] = []
        for name in names where isTemporary(name, of: base) {
            let full = PathName.appending(folder, name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: full),
                  attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            switch gf_is_locked(full) {
            case 1 where !name.contains(own):
                throw GradFlowError.outputInUse(path: path)  // before anything is removed
            case 0:
                if name.hasPrefix(".\(base).tmpx-") {
                    guard let modified = attributes[.modificationDate] as? Date, Date().timeIntervalSince(modified) > 10 else { continue }
                }
                stale.append(full)
            default:
                continue
            }
        }
        for full in stale { unlink(full) }
    }

    /// Whether `name` is a temporary of the output named `base`: exactly `.BASE.tmp-PID-N` or `.BASE.tmpx-PID-N`
    /// (decimal numbers), so that a user's `.BASE.tmp-notes` or another output's temporary (`.BASE.tmp-1.h5.tmp-7-1`
    /// of the output `BASE.tmp-1.h5`) is never taken for one.
    static func isTemporary(_ name: String, of base: String) -> Bool {
        for prefix in [".\(base).tmp-", ".\(base).tmpx-"] where name.hasPrefix(prefix) {
            let numbers = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            return numbers.count == 2 && numbers.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }
        }
        return false
    }

    /// The names in `folder` that begin with `.BASE.tmp` (both kinds of temporary), from one C readdir pass that
    /// keeps only those: a sweep's folder holds two files per point, and listing them all cost milliseconds per run.
    private static func temporaryNames(of base: String, in folder: String) -> [String]? {
        guard let names = gf_names_with_prefix(folder, ".\(base).tmp") else { return nil }
        defer { free(names) }
        return String(cString: names).split(separator: "\n").map(String.init)
    }

    private static func folder(of path: String) -> String {
        let folder = PathName.deletingLastComponent(path)
        return folder.isEmpty ? "." : folder
    }

    /// Claims an existing trajectory to continue it (`--resume`). A partial (`FINAL.partial`, left by an
    /// interrupted or killed run) is locked and continued in place; any other file is copied into a new
    /// partial of its own path, so it stays as it is until the resumed run commits over it.
    /// - Parameter overwrite: for a partial, whether an existing final file may be replaced.
    package init(resuming source: String, overwrite: Bool) throws {
        if source.hasSuffix(Self.partialSuffix), source.count > Self.partialSuffix.count {
            path = String(source.dropLast(Self.partialSuffix.count))
            let fd = open(source, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw GradFlowError.fileAccess(path: source, reason: "cannot be opened for writing (\(String(cString: strerror(errno))))") }
            guard gf_lock_exclusive(fd) == 0 else {
                close(fd)
                throw GradFlowError.outputInUse(path: source)
            }
            descriptor = fd
            contentPath = source
            isPublished = true
            var isFolder = false
            if !overwrite, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !Self.continuesFile(source, at: path) {
                close(fd)
                descriptor = -1
                throw GradFlowError.fileAccess(path: path, reason: "exists already, and the run in \(source) was not told to replace it")
            }
            self.overwrite = overwrite || FileManager.default.fileExists(atPath: path)
            return
        }
        self.path = source
        self.overwrite = true
        let partial = source + Self.partialSuffix
        if FileManager.default.fileExists(atPath: partial) {
            throw Self.occupied(source, partial: partial)
        }
        (descriptor, contentPath) = try Self.createTemporary(for: source)
        temporaryPath = contentPath
        try copyContent(of: source)
        try publish()
    }

    deinit {
        if descriptor >= 0 {
            _ = gf_release_reserve(descriptor)  // give back the blocks reserved past the end
            close(descriptor)
        }
        if !isCommitted, let temporaryPath { unlink(temporaryPath) }
    }

    /// Names the content `FINAL.partial` (resumable files, once their header is flushed).
    /// - Throws: `.outputInUse` / `.unfinishedOutput` when another run's partial appeared meanwhile.
    package func publish() throws {
        guard !isPublished, let temporaryPath else { return }
        let status = gf_rename(temporaryPath, partialPath, 1)
        guard status == 0 else {
            if status == -EEXIST {
                throw Self.occupied(path, partial: partialPath)
            }
            throw GradFlowError.fileAccess(path: partialPath, reason: "cannot be created (\(String(cString: strerror(-status))))")
        }
        self.temporaryPath = nil
        contentPath = partialPath
        isPublished = true
    }

    /// Refuses `path` (or its partial) when it is one of `inputs` (same device and inode).
    package static func refuseInputs(_ given: String, _ inputs: [Input]) throws {
        let path = resolvingLink(given), partial = path + partialSuffix
        for input in inputs where gf_same_file(input.path, path) == 1 || gf_same_file(input.path, partial) == 1 {
            throw GradFlowError.fileAccess(path: path, reason: "is \(input.role) of this command (\(input.path)); writing it would destroy the input: choose another output")
        }
    }

    /// Moves a damaged partial aside, to `PARTIAL.damaged` (or `.damaged-2`, …): kept, never deleted, so that
    /// the run can start again under its name. Returns the new path.
    package static func setAside(_ partial: String) throws -> String {
        var target = partial + ".damaged", n = 1
        while FileManager.default.fileExists(atPath: target) { n += 1; target = partial + ".damaged-\(n)" }
        let status = gf_rename(partial, target, 1)
        guard status == 0 else {
            throw GradFlowError.fileAccess(path: partial, reason: "cannot be moved aside (\(String(cString: strerror(-status))))")
        }
        return target
    }

    /// Gives a partial that a kill left shorter than its HDF5 superblock's end of file its tail back as zeros
    /// (`HDF5TruncatedTail.restore`), so that HDF5 opens it and it can be judged like any other partial. Only a file named
    /// `NAME.partial` that no running process holds; returns the bytes restored (nil: nothing to do).
    package static func restoreCutShortPartial(_ path: String) throws -> Int64? {
        guard path.hasSuffix(partialSuffix), !isLocked(path) else { return nil }
        return try HDF5TruncatedTail.restore(path)
    }

    /// Whether a running gradflow process holds `path` (a partial, or a file being resumed) locked.
    package static func isLocked(_ path: String) -> Bool { gf_is_locked(path) == 1 }

    /// Checks that `bytes` more can be written: within `ulimit -f`, and on reserved disk blocks.
    /// - Throws: `GradFlowError.storage` (EFBIG, ENOSPC), with `what` saying what was being written.
    package func reserve(_ bytes: Int, for what: String) throws {
        let size = gf_descriptor_size(descriptor)
        guard size >= 0 else { return }
        let limit = gf_file_size_limit()
        if limit >= 0, size + Int64(bytes) > limit {
            throw GradFlowError.storage(path: isPublished ? partialPath : path,
                                        reason: "the file would pass the file-size limit (ulimit -f, \(limit) bytes; EFBIG) \(what)")
        }
        let status = gf_reserve(descriptor, size, Int64(bytes))
        if status == -ENOSPC || status == -EDQUOT {
            throw GradFlowError.storage(path: isPublished ? partialPath : path,
                                        reason: "no space left on the device (\(status == -ENOSPC ? "ENOSPC" : "EDQUOT")) \(what)")
        }
        if status != 0 {  // cannot reserve here: compare with the free space instead
            let free = gf_free_bytes(descriptor)
            if free >= 0, free < Int64(bytes) {
                throw GradFlowError.storage(path: isPublished ? partialPath : path, reason: "no space left on the device (ENOSPC) \(what)")
            }
        }
    }

    /// Puts the finished content at the final path: renames the partial (or links the unnamed file) onto
    /// it, replacing an existing file only with `overwrite`, and syncs the folder. Releases the lock.
    package func commit() throws {
        guard !isCommitted else { return }
        _ = gf_release_reserve(descriptor)
        _ = gf_sync(descriptor)
        let status = gf_rename(isPublished ? partialPath : (temporaryPath ?? contentPath), path, overwrite ? 0 : 1)
        guard status == 0 else {
            if status == -EEXIST {
                throw GradFlowError.fileAccess(path: path, reason: isPublished
                    ? "was created by someone else while this run went on; the finished run is kept in \(partialPath)"
                    : "exists already (pass --force to replace it)")
            }
            if status == -ENOSPC || status == -EDQUOT {
                throw GradFlowError.storage(path: path, reason: "no space left on the device to name the finished file")
            }
            throw GradFlowError.fileAccess(path: path, reason: "cannot be put in place (\(String(cString: strerror(-status))))")
        }
        isCommitted = true
        temporaryPath = nil
        _ = gf_sync_folder(folder)
        close(descriptor)
        descriptor = -1
    }

    /// Writes `data` as the whole content (text outputs: CSV tables).
    package func write(_ data: Data) throws {
        try reserve(data.count + 4096, for: "while writing it")
        let status: Int = data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = pwrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset, off_t(offset))
                if n < 0 { if errno == EINTR { continue }; return -Int(errno) }
                offset += n
            }
            return 0
        }
        guard status == 0 else { throw GradFlowError.storage(path: path, reason: "cannot be written (\(String(cString: strerror(Int32(-status)))))") }
        _ = ftruncate(descriptor, off_t(data.count))
    }

    private func copyContent(of source: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw GradFlowError.fileAccess(path: source, reason: "cannot be read")
        }
        defer { close(input) }
        let size = (try? FileManager.default.attributesOfItem(atPath: source)[.size] as? Int) ?? 0
        try reserve(size + (1 << 20), for: "while copying \(source) to resume it")  // and room to reopen it
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 22, alignment: 16)
        defer { buffer.deallocate() }
        var offset: off_t = 0
        while true {
            let count = read(input, buffer.baseAddress!, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw GradFlowError.fileAccess(path: source, reason: "cannot be read (\(String(cString: strerror(errno))))")
            }
            if count == 0 { break }
            let written = pwrite(descriptor, buffer.baseAddress!, count, offset)
            guard written == count else {
                throw GradFlowError.storage(path: partialPath, reason: "cannot be written while copying \(source) (\(String(cString: strerror(errno))))")
            }
            offset += off_t(written)
        }
    }

    /// The checks of a new output, with nothing written: the folder exists and is writable, the path is
    /// not a folder, an existing file is refused unless `overwrite`, no input is the output (or its
    /// partial), and no other run is writing it or left it unfinished.
    /// - Parameter scanningTemporaries: whether to list the folder for another process's locked temporary of
    ///   the path. A caller that claims the path next can leave it to the claim, which lists the folder anyway.
    package static func checkTarget(_ given: String, overwrite: Bool, inputs: [Input] = [], scanningTemporaries: Bool = true) throws {
        let path = resolvingLink(given)
        guard !path.isEmpty else { throw GradFlowError.fileAccess(path: "\"\"", reason: "the output path is empty") }
        // A name the rename at the end could not use, or that no message could show on one line: refused before any work.
        guard !given.hasSuffix("/") else { throw GradFlowError.fileAccess(path: given, reason: "ends with /: an output is a file; give its name") }
        if let control = PathName.lastComponent(path).unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw GradFlowError.fileAccess(path: path.debugDescription, reason: "its name holds a control character (U+\(String(control.value, radix: 16, uppercase: true))); choose another name")
        }
        let folder = folder(of: path)
        var isFolder = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder else {
            throw GradFlowError.fileAccess(path: path, reason: "the folder \(folder) does not exist")
        }
        let partial = path + partialSuffix
        try refuseInputs(path, inputs)
        // `NAME.partial` is the name of a trajectory while its run goes on (or after a kill): never an output, even
        // with --force (through a link too: `path` is resolved), which would replace a live or resumable run.
        if path.hasSuffix(partialSuffix) {
            if isLocked(path) { throw GradFlowError.outputInUse(path: path) }
            throw GradFlowError.fileAccess(path: path, reason: "ends in \(partialSuffix), the name of a trajectory while its run goes on "
                                           + "(or after a kill, to resume it); choose another output name")
        }
        // A file another command holds locked (its content being written) is not replaced either.
        if isLocked(path) { throw GradFlowError.outputInUse(path: path) }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder { throw GradFlowError.fileAccess(path: path, reason: "is a folder") }
            if let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType, type != .typeRegular {
                throw GradFlowError.fileAccess(path: path, reason: "is not a regular file (\(Self.describe(type))); GradFlow writes only regular files")
            }
            if !overwrite { throw GradFlowError.fileAccess(path: path, reason: "exists already (pass --force to replace it)") }
        } else if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil, !overwrite {
            throw GradFlowError.fileAccess(path: path, reason: "is a symbolic link to a file that does not exist (pass --force to replace the link)")
        }
        let base = PathName.lastComponent(path)
        if scanningTemporaries, let names = temporaryNames(of: base, in: folder) {
            // Another process's temporary of this path, still locked: a command that is writing it whole.
            let own = "-\(getpid())-"
            for name in names where isTemporary(name, of: base) && !name.contains(own)
                && gf_is_locked(PathName.appending(folder, name)) == 1 {
                throw GradFlowError.outputInUse(path: path)
            }
        }
        if FileManager.default.fileExists(atPath: partial) || (try? FileManager.default.destinationOfSymbolicLink(atPath: partial)) != nil {
            throw occupied(path, partial: partial)
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw GradFlowError.fileAccess(path: path, reason: "the folder \(folder) is not writable")
        }
    }

    /// A symbolic link as the output is written through: the file it points to is replaced (atomically), and
    /// the link stays. Any other path is returned as it is.
    package static func resolvingLink(_ path: String) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeSymbolicLink,
              let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func describe(_ type: FileAttributeType) -> String {
        switch type {
        case .typeCharacterSpecial: return "a character device"
        case .typeBlockSpecial: return "a block device"
        case .typeSocket: return "a socket"
        case .typeSymbolicLink: return "a dangling symbolic link"
        default: return "a FIFO or another special file"
        }
    }

    /// The error for an output whose partial exists: another writer holds it, or a stopped run left it.
    static func occupied(_ path: String, partial: String) -> GradFlowError {
        gf_is_locked(partial) == 1 ? .outputInUse(path: path) : unfinished(path, partial: partial)
    }

    /// The error for a partial that no process holds: resumable when it is a trajectory of gradient flow or
    /// descent (not of a central flow, which cannot be resumed).
    static func unfinished(_ path: String, partial: String) -> GradFlowError {
        let root = try? HDF5File.open(partial)
        let format = root?.attributeText(TrajectoryLayout.Root.format), method = root?.attributeText(TrajectoryLayout.Root.method)
        return .unfinishedOutput(path: path, partial: partial,
                                 resumable: format == TrajectoryLayout.format && method != TrajectoryLayout.Method.central)
    }

    /// Whether `partial` continues the very run whose (interrupted, failed) file is at `final`: a resume of
    /// `final` copied it there, so the resumed run may replace it whatever `--force` said.
    static func continuesFile(_ partial: String, at final: String) -> Bool {
        guard let a = try? HDF5File.open(partial), let b = try? HDF5File.open(final) else { return false }
        let root = TrajectoryLayout.Root.self
        let config = a.attributeText(root.config), line = a.attributeText(root.commandLine)
        return config != nil && config == b.attributeText(root.config) && line == b.attributeText(root.commandLine)
            && b.attributeText(root.status) != RunStatus.completed.rawValue
    }

    private static func claimError(_ path: String, partial: String, errno code: Int32) -> GradFlowError {
        if code == EEXIST {
            return occupied(path, partial: partial)
        }
        if code == ENOSPC || code == EDQUOT { return .storage(path: path, reason: "no space left on the device") }
        return .fileAccess(path: path, reason: "cannot be created (\(String(cString: strerror(code))))")
    }
}
