import CHDF5

/// Debian's HDF5 is the serial build, which is not thread-safe: every call GradFlow makes into it holds this
/// process-wide lock (recursive, because the wrappers call one another). Runs in parallel threads of one
/// process (Swift Testing's, a caller's) are then safe, if serialised on file I/O; `gradflow sweep` uses
/// processes instead.
///
/// Its first use initialises HDF5 without its exit handler (`H5dont_atexit`): every file GradFlow writes is
/// flushed and closed explicitly, and a file whose writes failed (a full disk) must never be flushed at
/// exit, which is where HDF5 crashed on such a file.
let hdf5Lock: RecursiveLock = {
    H5dont_atexit()
    gf_h5_silence_errors()
    return RecursiveLock()
}()

/// Runs `body` holding the HDF5 lock throughout: a sequence of HDF5 calls (a file's header, its closing writes)
/// then takes the lock once instead of at every call, so that runs on parallel threads do not pass it back and
/// forth (each pass a futex wake and a context switch).
func withHDF5Lock<T>(_ body: () throws -> T) rethrows -> T {
    hdf5Lock.lock(); defer { hdf5Lock.unlock() }
    return try body()
}

/// One open HDF5 file, shared by all its `HDF5Node`s; `abandoned` after a failed write.
final class HDF5OpenFile {
    var abandoned = false
    /// Dimension attachments collected between `HDF5Node.beginDimensionBatch` and `writeDimensionBatch`
    /// (dataset path, one scale path per axis), in call order; nil when attachments are written at once.
    var pendingAttachments: [(dataset: String, scales: [String])]?
    /// The most bytes one dataset read may claim (a larger shape is refused before anything is allocated).
    let readLimit: Double

    /// The groups and datasets open now, by path, as weak references: `HDF5Node.open` and the dimension
    /// batch use a live node's id instead of opening the object again (a header labels some 30 objects by
    /// name right after creating them; each open costs a link lookup and an object-header load).
    private var openNodes: [String: WeakNode] = [:]

    private struct WeakNode {
        weak var node: HDF5Node?
    }

    init(readLimit: Double = .infinity) {
        self.readLimit = readLimit
    }

    /// Called (under the HDF5 lock) by every node but the root as it opens; dead entries are dropped as the
    /// table grows.
    func register(_ node: HDF5Node) {
        if openNodes.count >= 64 { openNodes = openNodes.filter { $0.value.node != nil } }
        openNodes[node.name] = WeakNode(node: node)
    }

    /// The live node of the object at `path` (absolute), if any.
    func openNode(_ path: String) -> HDF5Node? { openNodes[path]?.node }
}

/// An HDF5 file opened or created by GradFlow; its root group is the `HDF5Node` it returns.
package enum HDF5File {
    /// The HDF5 library version, "major.minor.release".
    package static var libraryVersion: String {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        gf_h5_version(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }

    /// Creates a new file (refusing to replace an existing one unless `overwrite`), and returns its root.
    /// `displayName` is the path that error messages show (an `OutputFile`'s content has a temporary name).
    /// The file uses the HDF5 1.8 format (dense attribute storage: attributes of any size), and HDF5's own
    /// file locks are off: `OutputFile` keeps writers apart, and readers (h5py, `inspect`) can then open a
    /// file while its run goes on.
    package static func create(_ path: String, overwrite: Bool, displayName: String? = nil) throws -> HDF5Node {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        gf_h5_silence_errors()
        let access = H5Pcreate(gf_h5p_file_access())
        defer { H5Pclose(access) }
        H5Pset_libver_bounds(access, H5F_LIBVER_V18, H5F_LIBVER_V18)
        H5Pset_file_locking(access, false, true)  // OutputFile's own lock keeps writers apart; readers may look in
        let file = H5Fcreate(path, overwrite ? gf_h5f_acc_trunc() : gf_h5f_acc_excl(), gf_h5p_default(), access)
        guard file >= 0 else { throw GradFlowError.fileAccess(path: displayName ?? path, reason: "cannot create the HDF5 file") }
        return HDF5Node(id: file, filePath: displayName ?? path, name: "/", file: HDF5OpenFile(readLimit: defaultReadLimit), closesWithFile: true,
                        isNew: true)
    }

    /// The read limit of `open` unless the caller gives one: half of the machine's physical memory.
    package static var defaultReadLimit: Double { 0.5 * MachineMemory.physical }

    /// Opens an existing file read-only (or read-write), and returns its root. A dataset whose shape claims
    /// more than `readLimit` bytes is refused when it is read (a corrupted or hostile file can claim any shape).
    package static func open(_ path: String, writable: Bool = false, readLimit: Double = defaultReadLimit) throws -> HDF5Node {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        gf_h5_silence_errors()
        guard H5Fis_hdf5(path) > 0 else {
            throw GradFlowError.fileAccess(path: path, reason: "not an HDF5 file, or cannot be read")
        }
        let access = H5Pcreate(gf_h5p_file_access())
        defer { H5Pclose(access) }
        // No flock: a running run's file can be read (its writer holds OutputFile's lock, not HDF5's).
        H5Pset_file_locking(access, false, true)
        let file = H5Fopen(path, writable ? gf_h5f_acc_rdwr() : gf_h5f_acc_rdonly(), access)
        guard file >= 0 else { throw GradFlowError.fileAccess(path: path, reason: "cannot open the HDF5 file") }
        return HDF5Node(id: file, filePath: path, name: "/", file: HDF5OpenFile(readLimit: readLimit), closesWithFile: true)
    }
}

extension HDF5Node {
    /// Writes everything buffered for the whole file to disk, so that a reader sees a consistent file.
    package func flush() throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw failWrite("cannot flush the file") }
    }
}
