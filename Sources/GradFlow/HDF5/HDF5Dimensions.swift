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
    package func createDimension(_ name: String, size: Int) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        if H5Lexists(id, name, gf_h5p_default()) > 0 { return }
        var dims = [hsize_t(size)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let set = H5Dcreate2(id, name, gf_h5t_native_double(), space, gf_h5p_default(), gf_h5p_default(), gf_h5p_default())
        guard set >= 0 else { throw failWrite("cannot create dimension \(childPath(name))") }
        defer { H5Dclose(set) }
        let label = Self.dimensionOnlyName + String(repeating: " ", count: max(1, 10 - String(size).count)) + String(size)
        guard H5DSset_scale(set, label) >= 0 else { throw failWrite("cannot make \(childPath(name)) a dimension scale") }
    }

    /// Attaches the scales `scales` (absolute paths, one per axis, e.g. `["/trajectory/time", "/layer"]`) to
    /// the axes of the dataset `child` of this group.
    package func attachDimensions(_ child: String, _ scales: [String]) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let set = H5Dopen2(id, child, gf_h5p_default())
        guard set >= 0 else { throw fail("cannot open dataset \(childPath(child))") }
        defer { H5Dclose(set) }
        for (axis, scalePath) in scales.enumerated() {
            let scale = H5Dopen2(id, scalePath, gf_h5p_default())
            guard scale >= 0 else { throw fail("no dimension scale \(scalePath) for \(childPath(child))") }
            defer { H5Dclose(scale) }
            guard H5DSattach_scale(set, scale, UInt32(axis)) >= 0 else {
                throw failWrite("cannot attach the dimension \(scalePath) to axis \(axis) of \(childPath(child))")
            }
        }
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
