import CHDF5

/// A dataset whose first dimension grows by appended rows (the `/trajectory` and `/checkpoints` columns).
package final class HDF5ExtendableDataset {
    let node: HDF5Node
    /// Entries per row.
    package let columns: Int
    /// Rows written so far.
    package private(set) var rows = 0
    private let isMatrix: Bool

    init(node: HDF5Node, columns: Int, isMatrix: Bool) {
        self.node = node
        self.columns = columns
        self.isMatrix = isMatrix
    }

    /// Appends `values.count / columns` rows.
    package func append(_ values: UnsafeBufferPointer<Double>) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        precondition(values.count % columns == 0)
        let newRows = values.count / columns
        if newRows == 0 { return }
        var extent: [hsize_t] = isMatrix ? [hsize_t(rows + newRows), hsize_t(columns)] : [hsize_t(rows + newRows)]
        guard H5Dset_extent(node.id, &extent) >= 0 else { throw node.failWrite("cannot extend \(node.name)") }
        let fileSpace = H5Dget_space(node.id)
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = isMatrix ? [hsize_t(rows), 0] : [hsize_t(rows)]
        var count: [hsize_t] = isMatrix ? [hsize_t(newRows), hsize_t(columns)] : [hsize_t(newRows)]
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
        let memSpace = H5Screate_simple(Int32(count.count), &count, nil)
        defer { H5Sclose(memSpace) }
        guard H5Dwrite(node.id, gf_h5t_native_double(), memSpace, fileSpace, gf_h5p_default(), values.baseAddress) >= 0 else {
            throw node.failWrite("cannot write to \(node.name)")
        }
        rows += newRows
    }

    func setRows(_ count: Int) { rows = count }

    /// Keeps only the first `count` rows.
    package func truncate(rows count: Int) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        guard count < rows else { return }
        var extent: [hsize_t] = isMatrix ? [hsize_t(count), hsize_t(columns)] : [hsize_t(count)]
        guard H5Dset_extent(node.id, &extent) >= 0 else { throw node.failWrite("cannot shrink \(node.name)") }
        rows = count
    }

    /// Appends one value (1-D datasets) or one row.
    package func append(_ values: [Double]) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        try values.withUnsafeBufferPointer { try append($0) }
    }
}
