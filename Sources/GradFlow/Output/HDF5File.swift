import CHDF5
import Foundation

/// Debian's HDF5 is the serial build, which is not thread-safe: every call GradFlow makes into it holds this
/// process-wide lock (recursive, because the wrappers call one another). Runs in parallel threads of one
/// process (Swift Testing's, a caller's) are then safe, if serialised on file I/O; `gradflow sweep` uses
/// processes instead.
let hdf5Lock = NSRecursiveLock()

/// An HDF5 file opened or created by GradFlow; its root group is the `HDF5Node` it returns.
public enum HDF5File {
    /// The HDF5 library version, "major.minor.release".
    public static var libraryVersion: String {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        gf_h5_version(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }

    /// Creates a new file (refusing to replace an existing one unless `overwrite`), and returns its root.
    public static func create(_ path: String, overwrite: Bool) throws -> HDF5Node {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        gf_h5_silence_errors()
        let file = H5Fcreate(path, overwrite ? gf_h5f_acc_trunc() : gf_h5f_acc_excl(), gf_h5p_default(), gf_h5p_default())
        guard file >= 0 else { throw GradFlowError.fileAccess(path: path, reason: "cannot create the HDF5 file") }
        return HDF5Node(id: file, filePath: path, name: "/", closesWithFile: true)
    }

    /// Opens an existing file read-only (or read-write), and returns its root.
    public static func open(_ path: String, writable: Bool = false) throws -> HDF5Node {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        gf_h5_silence_errors()
        guard H5Fis_hdf5(path) > 0 else {
            throw GradFlowError.fileAccess(path: path, reason: "not an HDF5 file, or cannot be read")
        }
        let file = H5Fopen(path, writable ? gf_h5f_acc_rdwr() : gf_h5f_acc_rdonly(), gf_h5p_default())
        guard file >= 0 else { throw GradFlowError.fileAccess(path: path, reason: "cannot open the HDF5 file") }
        return HDF5Node(id: file, filePath: path, name: "/", closesWithFile: true)
    }
}

extension HDF5Node {
    /// Writes everything buffered for the whole file to disk, so that a reader sees a consistent file.
    public func flush() throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw fail("cannot flush the file") }
    }
}
