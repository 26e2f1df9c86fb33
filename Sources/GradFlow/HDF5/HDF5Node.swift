import CHDF5
import Glibc

/// An open HDF5 group or dataset (or the file's root group), closed when released. A thin, typed
/// wrapper over the HDF5 C API: strings are stored as variable-length UTF-8 (h5py reads them as
/// `str`), numbers as native 64-bit doubles and integers, matrices row-major. Failures throw
/// `GradFlowError.fileAccess` naming the file and the object.
package final class HDF5Node {
    let id: hid_t
    /// The file's path, for error messages.
    package let filePath: String
    /// The object's path inside the file.
    package let name: String
    private let closesWithFile: Bool
    /// Shared by every node of one open file.
    let file: HDF5OpenFile
    /// The attributes written through this node, when it created its object (nil for an object it opened):
    /// for a new object, an attribute not in this set cannot exist yet, so `setAttribute` skips HDF5's lookup.
    private var newObjectAttributes: Set<String>?

    init(id: hid_t, filePath: String, name: String, file: HDF5OpenFile, closesWithFile: Bool = false, isNew: Bool = false) {
        self.id = id
        self.filePath = filePath
        self.name = name
        self.file = file
        self.closesWithFile = closesWithFile
        newObjectAttributes = isNew ? [] : nil
        if !closesWithFile { file.register(self) }
    }

    deinit {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        guard !file.abandoned else { return }  // after a failed write, HDF5 must not touch the file again
        if closesWithFile { H5Fclose(id) } else { H5Oclose(id) }
    }

    func childPath(_ child: String) -> String { name == "/" ? "/" + child : name + "/" + child }

    func fail(_ what: String) -> GradFlowError { .fileAccess(path: filePath, reason: what) }

    /// The error of a failed write. The file is abandoned: HDF5 never closes (so never flushes) it, so the
    /// state on disk stays the last flushed one (closing a file whose writes failed can crash HDF5).
    /// A full disk or the size limit is a `.storage` error.
    func failWrite(_ what: String) -> GradFlowError {
        let code = errno
        file.abandoned = true
        switch code {
        case ENOSPC, EDQUOT: return .storage(path: filePath, reason: "no space left on the device (ENOSPC): \(what)")
        case EFBIG: return .storage(path: filePath, reason: "the file reached the file-size limit (EFBIG): \(what)")
        default: return fail(what)
        }
    }

    // MARK: Structure

    /// Whether a link `child` exists under this group.
    package func contains(_ child: String) -> Bool {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        if file.openNode(childPath(child)) != nil { return true }
        var path = ""
        for part in child.split(separator: "/") {
            path += path.isEmpty ? String(part) : "/" + part
            if H5Lexists(id, path, gf_h5p_default()) <= 0 { return false }
        }
        return true
    }

    /// Creates the group `child`.
    package func createGroup(_ child: String) throws -> HDF5Node {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let g = H5Gcreate2(id, child, gf_h5p_default(), gf_h5p_default(), gf_h5p_default())
        guard g >= 0 else { throw failWrite("cannot create group \(childPath(child))") }
        return HDF5Node(id: g, filePath: filePath, name: childPath(child), file: file, isNew: true)
    }

    /// Opens the group or dataset `child`: the node already open for it, if one is alive (a header holds the
    /// nodes of the objects it creates, and labels them by name), or a new one.
    package func open(_ child: String) throws -> HDF5Node {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        if let node = file.openNode(childPath(child)) { return node }
        guard contains(child) else { throw fail("no object \(childPath(child))") }
        let o = H5Oopen(id, child, gf_h5p_default())
        guard o >= 0 else { throw fail("cannot open \(childPath(child))") }
        return HDF5Node(id: o, filePath: filePath, name: childPath(child), file: file)
    }

    /// True for a dataset, false for a group.
    package var isDataset: Bool {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        return H5Iget_type(id) == H5I_DATASET
    }

    /// The names of the links directly under this group, in name order.
    package func children() -> [String] {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let names = NameCollector()
        var index: hsize_t = 0
        let box = Unmanaged.passUnretained(names).toOpaque()
        _ = H5Literate(id, H5_INDEX_NAME, H5_ITER_INC, &index, collectLinkName, box)
        return names.names
    }

    // MARK: Datasets

    /// Writes a dataset of doubles with the given shape (row-major), replacing nothing, and returns it open
    /// (to label it without opening it again).
    @discardableResult
    package func writeDataset(_ child: String, _ values: [Double], shape: [Int]) throws -> HDF5Node {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        precondition(shape.reduce(1, *) == values.count)
        var dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(space) }
        let set = H5Dcreate2(id, child, gf_h5t_native_double(), space, gf_h5p_default(), gf_h5p_default(), gf_h5p_default())
        guard set >= 0 else { throw failWrite("cannot create dataset \(childPath(child))") }
        let node = HDF5Node(id: set, filePath: filePath, name: childPath(child), file: file, isNew: true)
        let status = values.withUnsafeBufferPointer {
            H5Dwrite(set, gf_h5t_native_double(), gf_h5s_all(), gf_h5s_all(), gf_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw failWrite("cannot write dataset \(childPath(child))") }
        return node
    }

    /// Overwrites the whole content of an existing dataset of doubles (same number of values).
    package func updateDataset(_ child: String, _ values: [Double]) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let set = H5Dopen2(id, child, gf_h5p_default())
        guard set >= 0 else { throw fail("cannot open dataset \(childPath(child))") }
        defer { H5Dclose(set) }
        let status = values.withUnsafeBufferPointer {
            H5Dwrite(set, gf_h5t_native_double(), gf_h5s_all(), gf_h5s_all(), gf_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw failWrite("cannot write dataset \(childPath(child))") }
    }

    /// Overwrites row `row` of an existing 2-D dataset of doubles (one contiguous write).
    package func updateRow(_ child: String, row: Int, _ values: [Double]) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let set = H5Dopen2(id, child, gf_h5p_default())
        guard set >= 0 else { throw fail("cannot open dataset \(childPath(child))") }
        defer { H5Dclose(set) }
        let fileSpace = H5Dget_space(set)
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = [hsize_t(row), 0], count: [hsize_t] = [1, hsize_t(values.count)]
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
        let memSpace = H5Screate_simple(2, &count, nil)
        defer { H5Sclose(memSpace) }
        let status = values.withUnsafeBufferPointer {
            H5Dwrite(set, gf_h5t_native_double(), memSpace, fileSpace, gf_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw failWrite("cannot write dataset \(childPath(child))") }
    }

    /// Opens an extendable dataset written by `createExtendableDataset`, positioned after its last row.
    package func openExtendableDataset(_ child: String) throws -> HDF5ExtendableDataset {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let shape = try datasetShape(child)
        let node = try open(child)
        guard node.isDataset, (1...2).contains(shape.count) else { throw fail("\(node.name) is not an extendable dataset") }
        let dataset = HDF5ExtendableDataset(node: node, columns: shape.count == 2 ? shape[1] : 1, isMatrix: shape.count == 2)
        dataset.setRows(shape[0])
        return dataset
    }

    /// Reads a numeric dataset as doubles (HDF5 converts integers and single precision), with its shape.
    package func readDataset(_ child: String) throws -> (values: [Double], shape: [Int]) {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let node = try open(child)
        guard node.isDataset else { throw fail("\(node.name) is a group, not a dataset") }
        let space = H5Dget_space(node.id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        let shape = rank == 0 ? [] : dims.map { Int($0) }
        let type = H5Dget_type(node.id)
        let typeClass = H5Tget_class(type)
        H5Tclose(type)
        guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else {
            throw fail("dataset \(node.name) is not numeric")
        }
        let count = try checkedCount(shape, what: "dataset \(node.name)")
        var values = [Double](repeating: 0, count: count)
        if count > 0 {
            let status = values.withUnsafeMutableBufferPointer {
                H5Dread(node.id, gf_h5t_native_double(), gf_h5s_all(), gf_h5s_all(), gf_h5p_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw fail("cannot read dataset \(node.name)") }
        }
        return (values, shape)
    }

    /// The number of values of `shape`, refusing shapes that overflow or exceed the file's read limit
    /// (`HDF5File.open`'s `readLimit`: a corrupted or hostile file can claim any shape).
    func checkedCount(_ shape: [Int], what: String) throws -> Int {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, extent >= 0 else { throw fail("\(what) claims the impossible shape \(shape)") }
            count = product
        }
        guard Double(count) * 8 <= file.readLimit else {
            throw fail("\(what) claims shape \(shape), more than half of this machine's memory")
        }
        return count
    }

    /// Whether the dataset `child` holds numbers (integers or floating point), which `readDataset` reads; false
    /// for text, compound or other types, and for a group.
    package func isNumericDataset(_ child: String) throws -> Bool {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let node = try open(child)
        guard node.isDataset else { return false }
        let type = H5Dget_type(node.id)
        defer { H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        return typeClass == H5T_FLOAT || typeClass == H5T_INTEGER
    }

    /// The shape of the dataset `child`.
    package func datasetShape(_ child: String) throws -> [Int] {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let node = try open(child)
        let space = H5Dget_space(node.id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        return rank == 0 ? [] : dims.map { Int($0) }
    }

    /// Creates a chunked dataset of doubles whose first dimension grows: rows of `columns` entries
    /// (`columns == nil`: a 1-D dataset).
    package func createExtendableDataset(_ child: String, columns: Int?, chunkRows: Int = 256) throws -> HDF5ExtendableDataset {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        var dims: [hsize_t] = columns.map { [0, hsize_t($0)] } ?? [0]
        var maxDims: [hsize_t] = columns.map { [gf_h5s_unlimited(), hsize_t($0)] } ?? [gf_h5s_unlimited()]
        var chunk: [hsize_t] = columns.map { [hsize_t(max(1, min(chunkRows, (1 << 20) / max($0, 1)))), hsize_t(max($0, 1))] }
            ?? [hsize_t(chunkRows)]
        let space = H5Screate_simple(Int32(dims.count), &dims, &maxDims)
        defer { H5Sclose(space) }
        let plist = H5Pcreate(gf_h5p_dataset_create())
        defer { H5Pclose(plist) }
        H5Pset_chunk(plist, Int32(chunk.count), &chunk)
        let set = H5Dcreate2(id, child, gf_h5t_native_double(), space, gf_h5p_default(), plist, gf_h5p_default())
        guard set >= 0 else { throw failWrite("cannot create dataset \(childPath(child))") }
        return HDF5ExtendableDataset(node: HDF5Node(id: set, filePath: filePath, name: childPath(child), file: file, isNew: true),
                                     columns: columns ?? 1, isMatrix: columns != nil)
    }

    // MARK: Attributes

    /// Writes (or replaces) an attribute.
    package func setAttribute(_ attribute: String, _ value: AttributeValue) throws {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let known = newObjectAttributes.map { !$0.contains(attribute) } ?? false  // known to be absent
        if !known, H5Aexists(id, attribute) > 0 { H5Adelete(id, attribute) }
        if !createAttribute(attribute, value) {
            // Written meanwhile through another node of the same object: look it up after all. Otherwise the
            // failure is the write's (a full disk), and errno must reach `failWrite` as the write left it.
            let code = errno
            guard known, H5Aexists(id, attribute) > 0 else {
                errno = code
                throw failWrite("cannot write attribute \(attribute) of \(name)")
            }
            guard H5Adelete(id, attribute) >= 0, createAttribute(attribute, value) else {
                throw failWrite("cannot write attribute \(attribute) of \(name)")
            }
        }
        newObjectAttributes?.insert(attribute)
    }

    /// Creates and writes the attribute (which must not exist); false when HDF5 refuses either.
    private func createAttribute(_ attribute: String, _ value: AttributeValue) -> Bool {
        let ok: Bool
        switch value {
        case let .string(text):
            let type = H5Tcopy(gf_h5t_c_s1())
            H5Tset_size(type, gf_h5t_variable())
            H5Tset_cset(type, H5T_CSET_UTF8)
            defer { H5Tclose(type) }
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            let attr = H5Acreate2(id, attribute, type, space, gf_h5p_default(), gf_h5p_default())
            defer { if attr >= 0 { H5Aclose(attr) } }
            ok = attr >= 0 && text.withCString { pointer in
                var p: UnsafePointer<CChar>? = pointer
                return H5Awrite(attr, type, &p) >= 0
            }
        case let .integer(i):
            ok = writeNumeric(attribute, [Int64(i)], type: gf_h5t_native_int64(), scalar: true)
        case let .double(x):
            ok = writeNumeric(attribute, [x], type: gf_h5t_native_double(), scalar: true)
        case let .integers(v):
            ok = writeNumeric(attribute, v.map { Int64($0) }, type: gf_h5t_native_int64(), scalar: false)
        case let .doubles(v):
            ok = writeNumeric(attribute, v, type: gf_h5t_native_double(), scalar: false)
        }
        return ok
    }

    private func writeNumeric<T>(_ attribute: String, _ values: [T], type: hid_t, scalar: Bool) -> Bool {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        var dims = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attr = H5Acreate2(id, attribute, type, space, gf_h5p_default(), gf_h5p_default())
        guard attr >= 0 else { return false }
        defer { H5Aclose(attr) }
        if values.isEmpty { return true }
        return values.withUnsafeBufferPointer { H5Awrite(attr, type, $0.baseAddress) } >= 0
    }

    /// A string attribute's text, nil when absent or not a string.
    func attributeText(_ name: String) -> String? {
        if case let .string(text)? = try? attribute(name) { return text }
        return nil
    }

    /// The names of this object's attributes, in name order.
    package func attributeNames() -> [String] {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        let names = NameCollector()
        var index: hsize_t = 0
        _ = H5Aiterate2(id, H5_INDEX_NAME, H5_ITER_INC, &index, collectAttributeName, Unmanaged.passUnretained(names).toOpaque())
        return names.names
    }

    /// Reads an attribute: strings (variable or fixed length), integers and floats, scalar or 1-D.
    package func attribute(_ attribute: String) throws -> AttributeValue {
        hdf5Lock.lock(); defer { hdf5Lock.unlock() }
        guard H5Aexists(id, attribute) > 0 else { throw fail("\(name) has no attribute \(attribute)") }
        let attr = H5Aopen(id, attribute, gf_h5p_default())
        guard attr >= 0 else { throw fail("cannot open attribute \(attribute) of \(name)") }
        defer { H5Aclose(attr) }
        let type = H5Aget_type(attr)
        defer { H5Tclose(type) }
        let space = H5Aget_space(attr)
        defer { H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        guard count >= 0, count <= 1 << 24 else { throw fail("attribute \(attribute) of \(name) claims \(count) values") }
        let isScalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
        switch H5Tget_class(type) {
        case H5T_STRING:
            if H5Tis_variable_str(type) > 0 {
                let memType = H5Tcopy(gf_h5t_c_s1())
                H5Tset_size(memType, gf_h5t_variable())
                H5Tset_cset(memType, H5Tget_cset(type))  // HDF5 does not convert ASCII ↔ UTF-8
                defer { H5Tclose(memType) }
                var pointer: UnsafeMutablePointer<CChar>? = nil
                guard H5Aread(attr, memType, &pointer) >= 0 else { throw fail("cannot read attribute \(attribute)") }
                defer { if let pointer { H5free_memory(pointer) } }
                return .string(pointer.map { String(cString: $0) } ?? "")
            }
            let size = H5Tget_size(type)
            guard size <= 1 << 24, count == 1 else { throw fail("attribute \(attribute) of \(name) is not a string GradFlow reads") }
            var bytes = [CChar](repeating: 0, count: size + 1)
            guard H5Aread(attr, type, &bytes) >= 0 else { throw fail("cannot read attribute \(attribute)") }
            return .string(String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: max(count, 1))
            guard H5Aread(attr, gf_h5t_native_int64(), &values) >= 0 else { throw fail("cannot read attribute \(attribute)") }
            return isScalar ? .integer(Int(values[0])) : .integers(values.prefix(count).map { Int($0) })
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: max(count, 1))
            guard H5Aread(attr, gf_h5t_native_double(), &values) >= 0 else { throw fail("cannot read attribute \(attribute)") }
            return isScalar ? .double(values[0]) : .doubles(Array(values.prefix(count)))
        default:
            throw fail("attribute \(attribute) of \(name) has a type GradFlow does not read")
        }
    }
}

/// Collects names from HDF5 iteration callbacks (passed through their `op_data`).
final class NameCollector {
    var names: [String] = []
}

let collectLinkName: H5L_iterate_t = { _, name, _, data in
    if let name { Unmanaged<NameCollector>.fromOpaque(data!).takeUnretainedValue().names.append(String(cString: name)) }
    return 0
}

let collectAttributeName: H5A_operator2_t = { _, name, _, data in
    if let name { Unmanaged<NameCollector>.fromOpaque(data!).takeUnretainedValue().names.append(String(cString: name)) }
    return 0
}
