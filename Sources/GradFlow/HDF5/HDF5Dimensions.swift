import CHDF5

/// Named dimensions, netCDF-4 style, through HDF5's dimension-scale API (libhdf5_hl): each axis of a
/// dataset is attached to a one-dimensional *scale* dataset whose name is the dimension's name, so that
/// netCDF-4, h5netcdf and xarray read labelled variables (no `phony_dim_…`).
///
/// Two kinds of scale: a coordinate variable (an existing 1-D dataset such as `/trajectory/time`, which
/// then labels the rows and grows with them), and a dimension without a variable (netCDF-4's
/// "This is a netCDF dimension but not a netCDF variable." dataset, which holds no data).
extension HDF5Node {
    /// netCDF-4's `NAME` of a dimension that is not a variable.
    static let dimensionOnlyName = "This is a netCDF dimension but not a netCDF variable."

    /// Makes the 1-D dataset `child` of this group the scale of the dimension named after it.
    package func makeDimensionScale(_ child: String) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let set = H5Dopen2(id, child, gf_h5p_default())
        guard set >= 0 else { throw fail("cannot open dataset \(childPath(child))") }
        defer { H5Dclose(set) }
        guard H5DSset_scale(set, child) >= 0 else { throw failWrite("cannot make \(childPath(child)) a dimension scale") }
    }

    /// Creates, in this group, the dimension `name` of `size` entries without a variable (an empty dataset
    /// that stores nothing), unless a link `name` exists already.
    /// Returns the scale's node (open), or nil when the link existed.
    @discardableResult
    package func createDimension(_ name: String, size: Int) throws -> HDF5Node? {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        if H5Lexists(id, name, gf_h5p_default()) > 0 { return nil }
        var dims = [hsize_t(size)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let set = H5Dcreate2(id, name, gf_h5t_native_double(), space, gf_h5p_default(), gf_h5p_default(), gf_h5p_default())
        guard set >= 0 else { throw failWrite("cannot create dimension \(childPath(name))") }
        let node = HDF5Node(id: set, filePath: filePath, name: childPath(name), file: file)
        let label = Self.dimensionOnlyName + String(repeating: " ", count: max(1, 10 - String(size).count)) + String(size)
        guard H5DSset_scale(set, label) >= 0 else { throw failWrite("cannot make \(childPath(name)) a dimension scale") }
        return node
    }

    /// Attaches the scales `scales` (absolute paths, one per axis, e.g. `["/trajectory/time", "/layer"]`) to
    /// the axes of the dataset `child` of this group. Between `beginDimensionBatch` and `writeDimensionBatch`
    /// the attachment is only recorded, and written with the others.
    package func attachDimensions(_ child: String, _ scales: [String]) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        if file.pendingAttachments != nil {
            file.pendingAttachments?.append((childPath(child), scales))
            return
        }
        try attachEach(childPath(child), scales)
    }

    /// One `H5DSattach_scale` per axis: each reads the dataset's `DIMENSION_LIST` and the scale's
    /// `REFERENCE_LIST`, and deletes and rewrites both with one entry more.
    private func attachEach(_ dataset: String, _ scales: [String]) throws {
        let set = H5Dopen2(id, dataset, gf_h5p_default())
        guard set >= 0 else { throw fail("cannot open dataset \(dataset)") }
        defer { H5Dclose(set) }
        for (axis, scalePath) in scales.enumerated() {
            let scale = H5Dopen2(id, scalePath, gf_h5p_default())
            guard scale >= 0 else { throw fail("no dimension scale \(scalePath) for \(dataset)") }
            defer { H5Dclose(scale) }
            guard H5DSattach_scale(set, scale, UInt32(axis)) >= 0 else {
                throw failWrite("cannot attach the dimension \(scalePath) to axis \(axis) of \(dataset)")
            }
        }
    }

    /// From now until `writeDimensionBatch`, `attachDimensions` calls on any node of this file are recorded
    /// instead of written (a header attaches some 25 axes: one by one, `H5DSattach_scale` rewrites a scale's
    /// whole `REFERENCE_LIST` at every attach).
    package func beginDimensionBatch() {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        file.pendingAttachments = []
    }

    /// Writes the attachments recorded since `beginDimensionBatch`: each dataset's `DIMENSION_LIST` and each
    /// scale's `REFERENCE_LIST` once, with the entries, types and order that the same `attachDimensions` calls
    /// one at a time would give (HDF5 1.10's `H5DS` layout, which netCDF-4 and h5py read: a variable-length
    /// list of object references per axis; a compound `{dataset: object reference, dimension: int}` per
    /// attached axis, in attach order). When a dataset or scale of the batch carries such an attribute
    /// already, or a dataset comes twice, the batch is attached one axis at a time instead (`H5DSattach_scale`
    /// merges).
    /// Cost: one attribute write per dataset and per scale.
    package func writeDimensionBatch() throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let pending = file.pendingAttachments ?? []
        file.pendingAttachments = nil
        let lapl = gf_h5p_default()
        let attached = Set(pending.map(\.dataset)).count != pending.count  // a dataset attached twice: merged by H5DS
            || pending.contains { H5Aexists_by_name(id, $0.dataset, "DIMENSION_LIST", lapl) != 0 }
            || pending.contains { $0.scales.contains { H5Aexists_by_name(id, $0, "REFERENCE_LIST", lapl) != 0 } }
        if attached {
            for (dataset, scales) in pending { try attachEach(dataset, scales) }
            return
        }
        func reference(_ path: String) throws -> hobj_ref_t {
            var ref = hobj_ref_t()
            guard H5Rcreate(&ref, id, path, H5R_OBJECT, -1) >= 0 else { throw fail("no object \(path) to attach as a dimension") }
            return ref
        }
        let referenceType = gf_h5t_std_ref_obj()
        /// The dataset at `path`: the id of its live node (`HDF5OpenFile.openNode`), or opened here.
        func openDataset(_ path: String) -> (id: hid_t, opened: Bool) {
            if let node = file.openNode(path) { return (node.id, false) }
            return (H5Dopen2(id, path, gf_h5p_default()), true)
        }
        var scaleOrder: [String] = []
        var referenceLists: [String: [DimensionReference]] = [:]
        for (dataset, scales) in pending {
            let datasetReference = try reference(dataset)
            var scaleReferences = try scales.map(reference)
            let (set, opened) = openDataset(dataset)
            guard set >= 0 else { throw fail("cannot open dataset \(dataset)") }
            defer { if opened { H5Dclose(set) } }
            let space = H5Dget_space(set)
            let rank = Int(H5Sget_simple_extent_ndims(space))
            H5Sclose(space)
            guard rank >= scales.count else { throw fail("\(dataset) has \(rank) axes, not \(scales.count) dimensions") }
            let written = scaleReferences.withUnsafeMutableBufferPointer { refs -> Bool in
                let lists = (0..<rank).map { axis in
                    axis < refs.count ? hvl_t(len: 1, p: UnsafeMutableRawPointer(refs.baseAddress! + axis)) : hvl_t(len: 0, p: nil)
                }
                return writeAttribute(set, "DIMENSION_LIST", type: H5Tvlen_create(referenceType), count: rank, lists)
            }
            guard written else { throw failWrite("cannot attach the dimensions \(scales) to \(dataset)") }
            for (axis, scale) in scales.enumerated() {
                if referenceLists[scale] == nil { scaleOrder.append(scale) }
                referenceLists[scale, default: []].append(DimensionReference(dataset: datasetReference, dimension: Int32(axis)))
            }
        }
        for scale in scaleOrder {
            let (set, opened) = openDataset(scale)
            guard set >= 0 else { throw fail("no dimension scale \(scale)") }
            defer { if opened { H5Dclose(set) } }
            let type = H5Tcreate(H5T_COMPOUND, MemoryLayout<DimensionReference>.stride)
            H5Tinsert(type, "dataset", MemoryLayout<DimensionReference>.offset(of: \.dataset)!, referenceType)
            H5Tinsert(type, "dimension", MemoryLayout<DimensionReference>.offset(of: \.dimension)!, gf_h5t_native_int())
            let list = referenceLists[scale]!
            guard writeAttribute(set, "REFERENCE_LIST", type: type, count: list.count, list) else {
                throw failWrite("cannot write the references of the dimension \(scale)")
            }
        }
    }

    /// Creates the attribute `name` of `count` elements of `type` (which it closes) on `object` and writes `values`.
    private func writeAttribute<T: BitwiseCopyable>(_ object: hid_t, _ name: String, type: hid_t, count: Int, _ values: [T]) -> Bool {
        defer { H5Tclose(type) }
        var dims = [hsize_t(count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(object, name, type, space, gf_h5p_default(), gf_h5p_default())
        guard attribute >= 0 else { return false }
        defer { H5Aclose(attribute) }
        return values.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) } >= 0
    }

    /// Sets `long_name` (and `units` when the quantity has one) on the dataset `child` of this group.
    package func describe(_ child: String, _ longName: String, units: String? = nil) throws {
        let node = try open(child)
        try node.setAttribute("long_name", .string(longName))
        if let units { try node.setAttribute("units", .string(units)) }
    }

    /// `describe` and `attachDimensions` in one call.
    package func label(_ child: String, _ longName: String, dimensions: [String], units: String? = nil) throws {
        try attachDimensions(child, dimensions)
        try describe(child, longName, units: units)
    }
}

/// One entry of a dimension scale's `REFERENCE_LIST` (HDF5's `ds_list_t`): the dataset attached to the scale
/// and which of its axes.
private struct DimensionReference {
    var dataset: hobj_ref_t
    var dimension: Int32
}
