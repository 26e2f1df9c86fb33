/// Checks the four columns every trajectory holds (`TrajectoryLayout.Trajectory.rowColumns`: time, loss,
/// excess_risk, grad_norm_sq) before a reader relies on them: present, numbers (not text, not a group), one
/// value per row, and, where the file says its run ended, of equal lengths. A file edited by hand fails here
/// with one line naming the file and the column, instead of a resume that writes rows without `time` or a
/// plot of mismatched series.
///
/// A dataset that cannot be opened at all (an object header torn by a kill inside a flush) is left to
/// `TrajectoryFile.damagedObjects`. Cost: metadata only, no values are read.
enum RowColumnCheck {
    /// How much a reader requires.
    enum Mode {
        /// A running or unknown run (a partial after a crash: a kill inside a flush can leave the columns of
        /// different lengths, and inspect shows what there is): `time` present, present columns numeric and 1-D.
        case partial
        /// A run that ended (completed, interrupted, failed, diverged): all four present, numeric, 1-D and of
        /// equal lengths, as the writer leaves them.
        case finished
        /// A run to continue: all four present, numeric and 1-D (lengths are checked against `/resume`).
        case resume
    }

    /// The lengths of the base columns present, after the checks of `mode`; empty when the file has no
    /// `/trajectory` datasets at all (outside `resume`, where that is refused too).
    @discardableResult
    static func check(_ root: HDF5Node, path: String, mode: Mode) throws -> [String: Int] {
        typealias Layout = TrajectoryLayout
        func fail(_ name: String, _ reason: String) -> GradFlowError {
            .invalidData(file: path, field: "/" + Layout.path(Layout.Group.trajectory, name), reason: reason)
        }
        let names = Layout.Trajectory.rowColumns
        guard root.contains(Layout.Group.trajectory), let group = try? root.open(Layout.Group.trajectory), !group.isDataset else {
            if mode == .resume { throw fail(names[0], "missing: the file holds no /trajectory group to continue") }
            return [:]
        }
        if mode != .resume, group.children().isEmpty { return [:] }
        var lengths: [String: Int] = [:]
        for name in names {
            guard group.contains(name) else {
                if mode == .partial && name != Layout.Trajectory.time { continue }
                throw fail(name, "missing: every trajectory holds \(names.joined(separator: ", "))")
            }
            guard let node = try? group.open(name) else { continue }  // torn: damagedObjects names it
            guard node.isDataset else { throw fail(name, "is a group, not a column of numbers") }
            guard (try? group.isNumericDataset(name)) == true else { throw fail(name, "holds text or another non-numeric type, not numbers") }
            guard let shape = try? group.datasetShape(name) else { continue }
            guard shape.count == 1 else { throw fail(name, "has shape \(shape), expected one value per row ([rows])") }
            lengths[name] = shape[0]
        }
        if mode == .finished, let reference = lengths[names[0]],
           let other = names.first(where: { lengths[$0].map { $0 != reference } ?? false }) {
            throw fail(other, "has \(lengths[other]!) rows, but /\(Layout.path(Layout.Group.trajectory, names[0])) has \(reference): "
                       + "the columns of a run that ended have equal lengths (the file was edited)")
        }
        return lengths
    }
}
