import CHDF5
import Foundation
import GradFlow
import Testing

/// `writeDimensionBatch` writes each `DIMENSION_LIST` and `REFERENCE_LIST` once; these tests check that the
/// file it gives reads, through HDF5's own dimension-scale API (the reader of h5py, h5netcdf and netCDF-4),
/// exactly as the file that `H5DSattach_scale` gives one axis at a time.
@Suite("Dimension scales attached in one batch, against H5DSattach_scale one axis at a time")
struct DimensionBatchTests {
    /// The same small layout as a trajectory file's: root dimensions without variables, a coordinate
    /// variable (`/trajectory/time`) with several datasets on it, 2-D datasets, a scale inside a group.
    /// With `holding`, the objects stay open until the batch is written (as a trajectory header holds them), so
    /// that labels and the batch use their open nodes; without, each is closed as soon as it is written.
    private func write(_ path: String, batch: Bool, holding: Bool = false) throws {
        let root = try HDF5File.create(path, overwrite: true)
        var held: [HDF5Node?] = []
        func keep(_ node: HDF5Node?) { if holding { held.append(node) } }
        if batch { root.beginDimensionBatch() }
        keep(try root.createDimension("sample", size: 3))
        keep(try root.createDimension("feature", size: 2))
        let problem = try root.createGroup("problem")
        keep(try problem.writeDataset("X", [1, 2, 3, 4, 5, 6], shape: [3, 2]))
        try problem.label("X", "inputs", dimensions: ["/sample", "/feature"])
        keep(try problem.writeDataset("y", [1, 2, 3], shape: [3]))
        try problem.label("y", "targets", dimensions: ["/sample"])
        keep(try problem.writeDataset("w", [1, 2], shape: [2]))
        try problem.attachDimensions("w", ["/feature"])
        let trajectory = try root.createGroup("trajectory")
        keep(try trajectory.writeDataset("time", [0, 1, 2, 3], shape: [4]))
        try trajectory.makeDimensionScale("time")
        keep(try trajectory.writeDataset("loss", [4, 3, 2, 1], shape: [4]))
        keep(try trajectory.writeDataset("m", Array(repeating: 0.5, count: 8), shape: [4, 2]))
        try trajectory.label("loss", "risk", dimensions: ["/trajectory/time"])
        try trajectory.label("m", "two columns", dimensions: ["/trajectory/time", "/feature"])
        keep(try trajectory.createDimension("pair", size: 2))
        keep(try trajectory.writeDataset("q", [7, 8], shape: [2]))
        try trajectory.attachDimensions("q", ["/trajectory/pair"])
        if batch { try root.writeDimensionBatch() }
        held.removeAll()
        try root.flush()
    }

    /// For every dataset and axis, the scale attached (by name, through `H5DSiterate_scales`) and
    /// `H5DSis_attached` (which checks the dataset's list against the scale's); for every scale, its
    /// `REFERENCE_LIST` entries as (dataset name, axis), in order; and the two attributes' types.
    private func describe(_ path: String) throws -> [String] {
        let file = H5Fopen(path, gf_h5f_acc_rdonly(), gf_h5p_default())
        #expect(file >= 0)
        defer { H5Fclose(file) }
        var lines: [String] = []
        func name(_ object: hid_t) -> String {
            var buffer = [CChar](repeating: 0, count: 256)
            H5Iget_name(object, &buffer, 256)
            return String(cString: buffer)
        }
        for (dataset, scales) in [("/problem/X", ["/sample", "/feature"]), ("/problem/y", ["/sample"]), ("/problem/w", ["/feature"]),
                                  ("/trajectory/loss", ["/trajectory/time"]), ("/trajectory/m", ["/trajectory/time", "/feature"]),
                                  ("/trajectory/q", ["/trajectory/pair"])] {
            let set = H5Dopen2(file, dataset, gf_h5p_default())
            defer { H5Dclose(set) }
            for (axis, scalePath) in scales.enumerated() {
                let scale = H5Dopen2(file, scalePath, gf_h5p_default())
                defer { H5Dclose(scale) }
                var index: Int32 = 0
                var found: [String] = []
                _ = withUnsafeMutablePointer(to: &found) { found in
                    H5DSiterate_scales(set, UInt32(axis), &index, { _, _, scale, data in
                        var buffer = [CChar](repeating: 0, count: 256)
                        H5Iget_name(scale, &buffer, 256)
                        data!.assumingMemoryBound(to: [String].self).pointee.append(String(cString: buffer))
                        return 0
                    }, found)
                }
                lines.append("\(dataset)[\(axis)] scales \(found) count \(H5DSget_num_scales(set, UInt32(axis))) attached \(H5DSis_attached(set, scale, UInt32(axis)))")
            }
            let list = H5Aopen(set, "DIMENSION_LIST", gf_h5p_default())
            let type = H5Aget_type(list)
            lines.append("\(dataset) DIMENSION_LIST class \(H5Tget_class(type).rawValue) super \(H5Tget_class(H5Tget_super(type)).rawValue) size \(H5Tget_size(type))")
            H5Tclose(type)
            H5Aclose(list)
        }
        for scalePath in ["/sample", "/feature", "/trajectory/time", "/trajectory/pair"] {
            let scale = H5Dopen2(file, scalePath, gf_h5p_default())
            defer { H5Dclose(scale) }
            let attribute = H5Aopen(scale, "REFERENCE_LIST", gf_h5p_default())
            defer { H5Aclose(attribute) }
            let type = H5Aget_type(attribute)
            defer { H5Tclose(type) }
            let space = H5Aget_space(attribute)
            let count = Int(H5Sget_simple_extent_npoints(space))
            H5Sclose(space)
            let members = (0..<H5Tget_nmembers(type)).map { i -> String in
                let member = H5Tget_member_name(type, UInt32(i))!
                defer { H5free_memory(member) }
                return "\(String(cString: member))@\(H5Tget_member_offset(type, UInt32(i)))"
            }
            var entries = [UInt8](repeating: 0, count: count * H5Tget_size(type))
            H5Aread(attribute, type, &entries)
            var referenced: [String] = []
            for i in 0..<count {
                var ref = hobj_ref_t()
                var axis: Int32 = 0
                withUnsafeMutableBytes(of: &ref) { $0.copyBytes(from: entries[(i * H5Tget_size(type))..<(i * H5Tget_size(type) + 8)]) }
                withUnsafeMutableBytes(of: &axis) { $0.copyBytes(from: entries[(i * H5Tget_size(type) + 8)..<(i * H5Tget_size(type) + 12)]) }
                let object = H5Rdereference2(scale, gf_h5p_default(), H5R_OBJECT, &ref)
                referenced.append("\(name(object)):\(axis)")
                H5Oclose(object)
            }
            lines.append("\(scalePath) REFERENCE_LIST size \(H5Tget_size(type)) members \(members) entries \(referenced)")
        }
        return lines
    }

    @Test("a batch reads back exactly as one attach at a time: same scales per axis, same reference lists in the same order, same types")
    func batchMatchesOneAtATime() throws {
        let scratch = try Scratch()
        let single = scratch.path("single.h5"), batch = scratch.path("batch.h5")
        try write(single, batch: false)
        try write(batch, batch: true)
        let expected = try describe(single), actual = try describe(batch)
        #expect(actual == expected)
        // The same when the objects are still open (the batch and the labels use their nodes' ids).
        let held = scratch.path("held.h5"), heldSingle = scratch.path("held-single.h5")
        try write(held, batch: true, holding: true)
        try write(heldSingle, batch: false, holding: true)
        #expect(try describe(held) == expected)
        #expect(try describe(heldSingle) == expected)
        // The reference file is right in itself (so that the comparison is not between two wrong files).
        #expect(expected.contains("/problem/X[1] scales [\"/feature\"] count 1 attached 1"))
        #expect(expected.contains { $0.hasPrefix("/feature REFERENCE_LIST size 16 members [\"dataset@0\", \"dimension@8\"] entries [\"/problem/X:1\", \"/problem/w:0\", \"/trajectory/m:1\"]") })
        #expect(expected.contains { $0.hasPrefix("/trajectory/time REFERENCE_LIST") && $0.hasSuffix("[\"/trajectory/loss:0\", \"/trajectory/m:0\"]") })
    }

    @Test("a scale that already has references, or a dataset twice in one batch: the batch falls back to H5DSattach_scale, which merges")
    func batchAfterEarlierAttachments() throws {
        let scratch = try Scratch()
        let path = scratch.path("late.h5")
        do {  // closed before it is read
            let root = try HDF5File.create(path, overwrite: true)
            try root.createDimension("n", size: 2)
            try root.writeDataset("a", [1, 2], shape: [2])
            try root.attachDimensions("a", ["/n"])
            root.beginDimensionBatch()
            try root.writeDataset("b", [3, 4], shape: [2])
            try root.attachDimensions("b", ["/n"])
            try root.writeDimensionBatch()
            // A dataset twice in one batch (a second scale on the same axis): merged as H5DS merges.
            try root.createDimension("m", size: 2)
            root.beginDimensionBatch()
            try root.writeDataset("c", [5, 6], shape: [2])
            try root.attachDimensions("c", ["/m"])
            try root.attachDimensions("c", ["/n"])
            try root.writeDimensionBatch()
            try root.flush()
        }
        let file = H5Fopen(path, gf_h5f_acc_rdonly(), gf_h5p_default())
        defer { H5Fclose(file) }
        let n = H5Dopen2(file, "/n", gf_h5p_default())
        defer { H5Dclose(n) }
        for name in ["/a", "/b", "/c"] {
            let set = H5Dopen2(file, name, gf_h5p_default())
            #expect(H5DSis_attached(set, n, 0) == 1, "\(name)")
            #expect(H5DSget_num_scales(set, 0) == (name == "/c" ? 2 : 1), "\(name)")
            H5Dclose(set)
        }
    }
}
