import CSundials

/// Versions written to every trajectory file.
public enum GradFlowVersion {
    /// This library's version.
    public static let string = "0.1.0"
    /// The trajectory-file format version (`format_version`). 2: named dimensions (HDF5 dimension scales,
    /// netCDF-4 style) and `long_name` attributes on every dataset; names and shapes as in version 1.
    /// 3: `/monitors` stores each verdict's value, bound and margin as numbers and its code
    /// (`MonitorVerdict+Attributes`).
    public static let formatVersion = 3
    /// The SUNDIALS version of the headers GradFlow was built against.
    public static var sundials: String { String(cString: gf_sundials_version()) }
}
