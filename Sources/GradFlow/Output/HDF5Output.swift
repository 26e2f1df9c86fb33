/// HDF5 files written as `OutputFile`s (atomic, locked, room checked before writing): what every GradFlow
/// writer of HDF5 shares. The trajectory writer creates its content here and publishes it as a partial; the
/// files written whole (the comparison, the critical-learning-rate table, the sweep summary) go through `write`.
package enum HDF5Output {
    /// Creates the HDF5 content of a claimed `OutputFile` (locked, not yet at its final path) and returns its root.
    package static func create(_ output: OutputFile) throws -> HDF5Node {
        try HDF5File.create(output.contentPath, overwrite: true, displayName: output.path)
    }

    /// Writes a whole HDF5 file atomically (`OutputFile`): claims `path`, checks the room for
    /// about `estimatedBytes`, lets `body` fill the root group, flushes and closes the file, and only then puts
    /// it at `path` (replacing an existing file only with `overwrite`). A failure leaves `path` as it was.
    /// `claimed`: an `OutputFile` the caller claimed earlier (to hold the path during a long command).
    package static func write(_ path: String, overwrite: Bool, inputs: [OutputFile.Input] = [], estimatedBytes: Int,
                             claimed: OutputFile? = nil, _ body: (HDF5Node) throws -> Void) throws {
        let output = try claimed ?? OutputFile(claiming: path, overwrite: overwrite, inputs: inputs)
        try output.reserve(estimatedBytes + (1 << 17), for: "while writing it")
        try {
            let root = try create(output)
            try body(root)
            try root.flush()
        }()
        try output.commit()
    }
}
