import Glibc

/// The machine's memory, a fact every layer may size its limits by (the HDF5 layer's read limit, the run's
/// memory estimate).
package enum MachineMemory {
    /// The physical memory in bytes (`sysconf`: pages × page size).
    package static var physical: Double {
        Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
    }
}
