import Glibc

/// An HDF5 file that a kill left shorter than the end-of-file address its superblock records.
///
/// HDF5 writes the superblock (with the new end of file) during a flush before the last blocks that the flush
/// extends the file with; `kill -9` between the two leaves a file that HDF5 refuses to open ("truncated file:
/// eof = …, stored_eof = …"), although every object that the previous flush committed is intact before the end.
/// Measured: 6 of about 300 `kill -9`s in the first flush of a default run left one, 851 bytes short.
///
/// `restore` extends such a file to its recorded end with zeros (`ftruncate`, nothing else is written), after
/// which HDF5 opens it and the resume's own checks apply: `TrajectoryFile.damagedObjects` finds an object whose
/// blocks were in the missing tail (the partial is then set aside and the run restarted), and `ResumeState` uses
/// the last record whose checksum holds. It acts only on a version-2 or -3 superblock (the format GradFlow writes,
/// `H5F_LIBVER_V18`) at offset 0 with 8-byte addresses whose Jenkins lookup3 checksum holds, so a damaged superblock
/// is never taken at its word.
package enum HDF5TruncatedTail {
    /// The file's size and the end of file its superblock records, when the file is shorter than that record (and
    /// the superblock is one this type reads, its checksum intact); nil otherwise.
    package static func missing(_ path: String) -> (size: Int64, recordedEnd: Int64)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 48)
        guard header.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 48, 0) }) == 48 else { return nil }
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        // signature, version 2 or 3, 8-byte offsets and lengths, then the base address, the extension's, the end of
        // file and the root group's, and the checksum of the 44 bytes before it.
        guard Array(header[0..<8]) == signature, header[8] == 2 || header[8] == 3, header[9] == 8, header[10] == 8 else { return nil }
        func little<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            (0..<MemoryLayout<T>.size).reduce(T(0)) { $0 | T(header[at + $1]) << (8 * $1) }
        }
        guard lookup3(header[0..<44]) == little(44, UInt32.self), little(12, UInt64.self) == 0 else { return nil }
        let recorded = little(28, UInt64.self)
        var status = stat()
        guard fstat(fd, &status) == 0, recorded <= UInt64(Int64.max), Int64(recorded) > Int64(status.st_size) else { return nil }
        return (Int64(status.st_size), Int64(recorded))
    }

    /// Extends `path` with zeros to the end of file its superblock records, when it is shorter (`missing`).
    /// Returns the bytes added (nil: nothing to do). A gap over 1 GiB is left alone: no flush of GradFlow's
    /// extends a file by that much at once, so such a record is not trusted.
    /// - Throws: `GradFlowError.storage` when the file cannot be extended (a full disk, the size limit).
    package static func restore(_ path: String) throws -> Int64? {
        guard let (size, end) = missing(path), end - size <= 1 << 30 else { return nil }
        guard truncate(path, off_t(end)) == 0 else {
            throw GradFlowError.storage(path: path, reason: "cannot be extended to the \(end) bytes its HDF5 superblock records "
                                        + "(\(String(cString: strerror(errno))))")
        }
        return end - size
    }

    /// Bob Jenkins' lookup3 `hashlittle` on bytes, initial value 0: HDF5's metadata checksum (`H5_checksum_lookup3`).
    package static func lookup3(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        let k = Array(bytes)
        var a = 0xdeadbeef &+ UInt32(truncatingIfNeeded: k.count), b = a, c = a
        func rot(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
        func word(_ i: Int, _ count: Int) -> UInt32 {
            (0..<count).reduce(UInt32(0)) { $0 | UInt32(k[i + $1]) << (8 * UInt32($1)) }
        }
        var i = 0, length = k.count
        while length > 12 {
            a &+= word(i, 4); b &+= word(i + 4, 4); c &+= word(i + 8, 4)
            a &-= c; a ^= rot(c, 4); c &+= b
            b &-= a; b ^= rot(a, 6); a &+= c
            c &-= b; c ^= rot(b, 8); b &+= a
            a &-= c; a ^= rot(c, 16); c &+= b
            b &-= a; b ^= rot(a, 19); a &+= c
            c &-= b; c ^= rot(b, 4); b &+= a
            length -= 12
            i += 12
        }
        if length == 0 { return c }
        a &+= word(i, min(length, 4))
        if length > 4 { b &+= word(i + 4, min(length - 4, 4)) }
        if length > 8 { c &+= word(i + 8, length - 8) }
        c ^= b; c &-= rot(b, 14)
        a ^= c; a &-= rot(c, 11)
        b ^= a; b &-= rot(a, 25)
        c ^= b; c &-= rot(b, 16)
        a ^= c; a &-= rot(c, 4)
        b ^= a; b &-= rot(a, 14)
        c ^= b; c &-= rot(b, 24)
        return c
    }
}
