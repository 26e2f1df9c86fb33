import Foundation
import GradFlow
import Testing

/// The HDF5 layer's bookkeeping for speed: an object open in this file is found by path instead of being opened
/// again, and a new object's attributes skip HDF5's existence lookup. Neither may change what is written.
@Suite("HDF5 nodes: reuse of open objects, attributes of new objects")
struct HDF5NodeTests {
    @Test("an attribute written twice on a new object is replaced; on a reopened object too")
    func attributeReplaced() throws {
        let scratch = try Scratch()
        let path = scratch.path("a.h5")
        do {
            let root = try HDF5File.create(path, overwrite: true)
            try root.setAttribute("status", .string("running"))
            try root.setAttribute("status", .string("completed"))
            let set = try root.writeDataset("x", [1, 2], shape: [2])
            try set.setAttribute("long_name", .string("first"))
            try set.setAttribute("long_name", .string("second"))
            try set.setAttribute("count", .integer(3))
            try root.flush()
        }
        do {
            let root = try HDF5File.open(path, writable: true)
            try root.open("x").setAttribute("count", .integer(4))
            try root.flush()
        }
        let root = try HDF5File.open(path)
        #expect(try root.attribute("status") == .string("completed"))
        #expect(try root.open("x").attribute("long_name") == .string("second"))
        #expect(try root.open("x").attribute("count") == .integer(4))
        #expect(try root.open("x").attributeNames() == ["count", "long_name"])
    }

    @Test("open finds the node still open for a path; once it is released, the object is opened again from the file")
    func openReusesLiveNode() throws {
        let scratch = try Scratch()
        let root = try HDF5File.create(scratch.path("b.h5"), overwrite: true)
        let group = try root.createGroup("g")
        var set: HDF5Node? = try group.writeDataset("x", [1, 2, 3], shape: [3])
        #expect(try root.open("g/x") === set)
        #expect(try group.open("x") === set)
        #expect(root.contains("g/x"))
        set = nil
        let again = try group.open("x")
        #expect(again.isDataset)
        #expect(try group.readDataset("x").values == [1, 2, 3])
        #expect(!root.contains("g/y"))
        #expect(throws: GradFlowError.self) { try group.open("y") }
    }
}
