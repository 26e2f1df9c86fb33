import CSundials

/// Versions written to every trajectory file.
public enum GradFlowVersion {
    /// This library's version.
    public static let string = "0.1.0"
    /// The trajectory-file format version (`format_version`).
    public static let formatVersion = 1
    /// The SUNDIALS version of the headers GradFlow was built against.
    public static var sundials: String { String(cString: gf_sundials_version()) }
}
