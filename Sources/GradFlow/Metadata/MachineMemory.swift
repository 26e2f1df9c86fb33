import Glibc

/// The machine's memory, a fact every layer may size its limits by (the HDF5 layer's read limit, the run's
/// memory estimate).
package enum MachineMemory {
    /// The physical memory in bytes (`sysconf`: pages × page size), asked once per process (each `sysconf` of
    /// `_SC_PHYS_PAGES` is a `sysinfo` system call, and every HDF5 file a sweep point opens or creates asks).
    package static let physical: Double = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
}
