import BerthOCI
import CArchive
import FoundationEssentials
import Glibc

/// Reads a tar stream (plain, gzip, zstd, ...) entry by entry through libarchive.
final class ArchiveReader {
    private let archive: OpaquePointer

    struct Entry {
        let path: String
        let isRegularFile: Bool
        let size: Int64
    }

    init(fd: Int32) throws {
        guard let archive = archive_read_new() else { throw BerthError.internalError("libarchive: cannot allocate a reader") }
        self.archive = archive
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        guard archive_read_open_fd(archive, fd, 1 << 16) == ARCHIVE_OK else { throw failure("open archive") }
    }

    deinit { archive_read_free(archive) }

    private func failure(_ step: String) -> BerthError {
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return .invalidArgument("\(step): \(message)")
    }

    /// The next entry, or nil at the end of the archive. Entry paths may not leave the archive.
    func next() throws -> Entry? {
        var entry: OpaquePointer?
        switch archive_read_next_header(archive, &entry) {
        case ARCHIVE_EOF: return nil
        case ARCHIVE_OK, ARCHIVE_WARN: break
        default: throw failure("read archive")
        }
        guard let entry, let rawPath = archive_entry_pathname(entry) else { throw failure("read archive entry") }
        let path = String(cString: rawPath)
        try Self.checkPath(path)
        let isRegular = archive_entry_filetype(entry) == UInt32(0o100000)
        return Entry(path: Self.clean(path), isRegularFile: isRegular, size: archive_entry_size(entry))
    }

    /// Feeds the current entry's data to `sink` in chunks.
    func readData(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if n == 0 { return }
            if n < 0 { throw failure("read archive data") }
            try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Feeds the decompressed bytes of a whole file (gzip, zstd, xz or plain) to `sink`.
    static func decompress(fd: Int32, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let archive = archive_read_new() else { throw BerthError.internalError("libarchive: cannot allocate a reader") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_raw(archive)
        func message() -> String { archive_error_string(archive).map { String(cString: $0) } ?? "empty input" }
        var entry: OpaquePointer?
        guard archive_read_open_fd(archive, fd, 1 << 16) == ARCHIVE_OK, archive_read_next_header(archive, &entry) == ARCHIVE_OK else {
            throw BerthError.invalidArgument("cannot be read: \(message())")
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if n == 0 { return }
            guard n > 0 else { throw BerthError.invalidArgument("is damaged: \(message())") }
            try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    static func checkPath(_ path: String) throws {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        if path.hasPrefix("/") || components.contains("..") {
            throw BerthError.invalidArgument("invalid tar entry path \"\(path)\": the path leaves the archive")
        }
    }

    static func clean(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
