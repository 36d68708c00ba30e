import BerthOCI
import CArchive
import CSystemShims
import FoundationEssentials
import Glibc

/// Writes a file or a directory tree from disk as a tar (libarchive, pax) with each entry's
/// real type, mode, owner and times: `docker cp` out of a container and `docker export`.
/// The walk goes by descriptors from an already resolved directory (openat with O_NOFOLLOW,
/// one name at a time), so a symlink met on the way is archived as a link, never followed.
public final class TreeArchiver {
    private let archive: OpaquePointer
    /// First archive name of each (device, inode) with more than one link: later ones are hard links.
    private var linked: [String: String] = [:]

    public init(output fd: Int32) throws {
        guard let archive = archive_write_new() else { throw BerthError.internalError("libarchive: cannot allocate a writer") }
        self.archive = archive
        archive_write_set_format_pax_restricted(archive)
        archive_write_set_bytes_in_last_block(archive, 1)
        guard archive_write_open_fd(archive, fd) == ARCHIVE_OK else { throw failure("open archive for writing") }
    }

    deinit { archive_write_free(archive) }

    private func failure(_ step: String) -> BerthError {
        .internalError("\(step): \(archive_error_string(archive).map { String(cString: $0) } ?? "unknown error")")
    }

    /// Archives `name` in the directory `dirFD` (and what it holds, when a directory) under
    /// `archiveName`. The name "." with archiveName "" archives the directory's contents
    /// without an entry for the directory itself (an export of a whole root).
    public func add(dirFD: Int32, name: String, as archiveName: String) throws {
        var info = stat()
        guard fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw BerthError.internalError("stat \(archiveName): \(String(cString: strerror(errno)))")
        }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        if !archiveName.isEmpty { try header(archiveName, info: info, dirFD: dirFD, name: name) }
        if isDirectory {
            let childFD = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard childFD >= 0 else { throw BerthError.internalError("open \(archiveName): \(String(cString: strerror(errno)))") }
            defer { close(childFD) }
            for child in try Self.names(in: childFD) {
                let childName = archiveName.isEmpty ? child : (archiveName.hasSuffix("/") ? archiveName + child : archiveName + "/" + child)
                try add(dirFD: childFD, name: child, as: childName)
            }
        }
    }

    public func finish() throws {
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("close archive") }
    }

    /// The names in a directory, sorted by their bytes (stable archives, as Go's walk).
    public static func names(in dirFD: Int32) throws -> [String] {
        let listFD = dup(dirFD)
        guard listFD >= 0, let directory = fdopendir(listFD) else {
            throw BerthError.internalError("read directory: \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private func header(_ path: String, info: stat, dirFD: Int32, name: String) throws {
        guard let entry = archive_entry_new() else { throw BerthError.internalError("libarchive: cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        var info = info
        archive_entry_copy_stat(entry, &info)
        archive_entry_set_pathname(entry, path)
        // Go's tar header names the owner when the host knows it; root is the one that matters.
        if info.st_uid == 0 { archive_entry_set_uname(entry, "root") }
        if info.st_gid == 0 { archive_entry_set_gname(entry, "root") }
        let type = info.st_mode & S_IFMT
        var dataFD: Int32 = -1
        defer { if dataFD >= 0 { close(dataFD) } }
        switch type {
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlinkat(dirFD, name, &buffer, buffer.count - 1)
            guard count >= 0 else { throw BerthError.internalError("readlink \(path): \(String(cString: strerror(errno)))") }
            archive_entry_set_symlink(entry, String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            archive_entry_set_size(entry, 0)
        case S_IFREG:
            let key = "\(info.st_dev):\(info.st_ino)"
            if info.st_nlink > 1, let first = linked[key] {
                archive_entry_set_hardlink(entry, first)
                archive_entry_set_size(entry, 0)
            } else {
                if info.st_nlink > 1 { linked[key] = path }
                dataFD = openat(dirFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                guard dataFD >= 0 else { throw BerthError.internalError("open \(path): \(String(cString: strerror(errno)))") }
                // File capabilities travel with the file, as in Docker's archives (the only xattr they carry).
                var capability = [UInt8](repeating: 0, count: 64)
                let length = fgetxattr(dataFD, Self.capabilityAttribute, &capability, capability.count)
                if length > 0 { archive_entry_xattr_add_entry(entry, Self.capabilityAttribute, capability, length) }
            }
        case S_IFSOCK:
            return  // tar has no sockets; Go's archiver skips them too
        default:
            archive_entry_set_size(entry, 0)
        }
        guard archive_write_header(archive, entry) >= ARCHIVE_WARN else { throw failure("write \(path)") }
        guard dataFD >= 0 else { return }
        // Exactly the size announced: a file that grows meanwhile is cut, one that shrinks is padded by libarchive.
        var remaining = Int64(info.st_size)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while remaining > 0 {
            let n = read(dataFD, &buffer, min(buffer.count, Int(remaining)))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BerthError.internalError("read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            remaining -= Int64(n)
        }
    }

    static let capabilityAttribute = "security.capability"

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard writeArchiveData(archive, bytes) else { throw failure("write archive data") }
    }
}
