// swift-tools-version: 6.0
import PackageDescription

/// HDF5, SUNDIALS and OpenBLAS are linked from Debian's static archives (their -dev packages ship them), so
/// that starting gradflow does not load and relocate them: Debian's libhdf5 alone pulls in some 30 network
/// and crypto libraries (libcurl, OpenSSL, Kerberos, LDAP…) that serial file I/O never calls, and OpenBLAS's
/// 14,000 symbol relocations are resolved at link time. Measured on `gradflow --version`: benchmarks/README.md
/// (start-up). What remains dynamic are the archives' own run-time dependencies (libsz/libaec, zlib,
/// libgfortran) and Swift's libraries.
let staticSystemLibraries = [
    "-l:libhdf5_serial_hl.a", "-l:libhdf5_serial.a", "-lsz", "-lz",
    "-l:libsundials_cvode.a", "-l:libsundials_arkode.a",
    "-l:libopenblas.a", "-l:libgfortran.so.5",
]

let package = Package(
    name: "GradFlow",
    products: [
        .library(name: "GradFlow", targets: ["GradFlow"]),
        .executable(name: "gradflow", targets: ["gradflow"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Thin C modules over the system libraries: headers, module maps and a few
        // prefixed shims for macros. No model logic lives in C.
        .systemLibrary(name: "CSundials", path: "Sources/CSundials"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5"),
        // The POSIX calls of atomic output whose flags are macros (O_TMPFILE, F_OFD_SETLK, RENAME_NOREPLACE, …).
        .target(name: "CFileSystem", path: "Sources/CFileSystem"),
        // The executable's stdout/stderr and signal glue (one C file: the signal flag lives there).
        .target(name: "CTerminal", path: "Sources/CTerminal"),
        // The executable's one constructor: OpenBLAS's thread pool starts with one thread (startup.c).
        .target(name: "CStartup", path: "Sources/CStartup"),

        // Optimised loop kernels for SUNDIALS' serial N_Vector (Debian compiles SUNDIALS at -O0).
        .target(
            name: "CVectorKernels",
            dependencies: ["CSundials"],
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .target(
            name: "GradFlow",
            dependencies: ["CSundials", "COpenBLAS", "CHDF5", "CVectorKernels", "CFileSystem"],
            linkerSettings: [.unsafeFlags(staticSystemLibraries.flatMap { ["-Xlinker", $0] })]
        ),
        .executableTarget(
            name: "gradflow",
            dependencies: [
                "GradFlow", "CTerminal", "CStartup", "CFileSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `make bench`: kernel timings (gradient, Hessian-vector product, gradient-descent step).
        .executableTarget(
            name: "gradflow-bench",
            dependencies: ["GradFlow", "CSundials", "CVectorKernels"],
            path: "benchmarks",
            exclude: ["peers", "bandwidth", "README.md"]
        ),
        .testTarget(
            name: "GradFlowTests",
            // The executable too: its table of option names and its commands' validate() are tested in-process.
            dependencies: ["GradFlow", "gradflow", "COpenBLAS", "CSundials", "CVectorKernels", "CHDF5", "CFileSystem"]
        ),
    ]
)
