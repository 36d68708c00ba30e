/// The fields of a gzip member's header that the json-file reader uses (RFC 1952).
///
/// berth-shim writes `berth-log-source DEV:INO` in the comment of each rotated file it
/// compresses (see its LogCompressor): the identity of the plain file the data came from,
/// which lets a follower of that file find where it went after it was compressed.
struct GzipHeader: Equatable {
    var modificationTime: UInt32
    var comment: String?

    static let sourcePrefix = "berth-log-source "

    /// The header at the start of `bytes`; nil when they are not gzip or end inside it.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 10, bytes[0] == 0x1F, bytes[1] == 0x8B, bytes[2] == 8 else { return nil }
        let flags = bytes[3]
        modificationTime = UInt32(bytes[4]) | UInt32(bytes[5]) << 8 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 24
        var offset = 10
        if flags & 0x04 != 0 {  // FEXTRA: a length, then that many bytes
            guard bytes.count >= offset + 2 else { return nil }
            offset += 2 + (Int(bytes[offset]) | Int(bytes[offset + 1]) << 8)
        }
        func zeroTerminated() -> [UInt8]? {
            guard offset <= bytes.count, let end = bytes[offset...].firstIndex(of: 0) else { return nil }
            defer { offset = end + 1 }
            return Array(bytes[offset..<end])
        }
        if flags & 0x08 != 0 {  // FNAME
            guard zeroTerminated() != nil else { return nil }
        }
        comment = nil
        if flags & 0x10 != 0 {  // FCOMMENT (ISO 8859-1; the shim's is ASCII)
            guard let text = zeroTerminated() else { return nil }
            comment = String(decoding: text, as: UTF8.self)
        }
    }

    /// The identity of the file the data was compressed from, when the comment names one.
    var source: FileIdentity? {
        guard let comment, comment.hasPrefix(Self.sourcePrefix) else { return nil }
        let numbers = comment.dropFirst(Self.sourcePrefix.count).split(separator: ":")
        guard numbers.count == 2, let device = UInt64(numbers[0]), let inode = UInt64(numbers[1]) else { return nil }
        return FileIdentity(device: device, inode: inode)
    }
}
