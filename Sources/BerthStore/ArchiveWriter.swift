import BerthOCI
import CArchive
import FoundationEssentials
import Glibc

/// Writes a tar (POSIX pax) to a file descriptor through libarchive, with fixed owners and
/// times so that saving the same images gives the same bytes.
final class ArchiveWriter {
    private let archive: OpaquePointer

    init(fd: Int32) throws {
        guard let archive = archive_write_new() else { throw BerthError.internalError("libarchive: cannot allocate a writer") }
        self.archive = archive
        archive_write_set_format_pax_restricted(archive)
        guard archive_write_open_fd(archive, fd) == ARCHIVE_OK else { throw failure("open archive for writing") }
    }

    deinit { archive_write_free(archive) }

    private func failure(_ step: String) -> BerthError {
        .internalError("\(step): \(archive_error_string(archive).map { String(cString: $0) } ?? "unknown error")")
    }

    func directory(_ path: String) throws {
        try header(path, type: UInt32(0o040000), mode: 0o755, size: 0)
    }

    func file(_ path: String, data: Data) throws {
        try header(path, type: UInt32(0o100000), mode: 0o644, size: Int64(data.count))
        try data.withUnsafeBytes { try write($0) }
    }

    /// Copies a file from disk into the archive in chunks.
    func file(_ path: String, contentsOf source: String) throws {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError.internalError("open \(source): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        try header(path, type: UInt32(0o100000), mode: 0o644, size: Int64(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { break }
            guard n > 0 else { throw BerthError.internalError("read \(source): \(String(cString: strerror(errno)))") }
            try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    func finish() throws {
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("close archive") }
    }

    private func header(_ path: String, type: UInt32, mode: UInt32, size: Int64) throws {
        guard let entry = archive_entry_new() else { throw BerthError.internalError("libarchive: cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, path)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode_t(mode))
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, 0, 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure("write \(path)") }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard writeArchiveData(archive, bytes) else { throw failure("write archive data") }
    }
}

/// Hands all of `bytes` to libarchive as the current entry's data (it may take them in
/// parts); false when it refuses.
func writeArchiveData(_ archive: OpaquePointer, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = archive_write_data(archive, bytes.baseAddress! + offset, bytes.count - offset)
        guard n > 0 else { return false }
        offset += n
    }
    return true
}
