import BerthOCI
import CArchive
import CSystemShims
import FoundationEssentials
import Glibc

/// Writes a file or a directory tree from disk as a tar (libarchive, pax) with each entry's
/// real type, mode, owner and times: `docker cp` out of a container and `docker export`.
/// The walk goes by descriptors from an already resolved directory (openat with O_NOFOLLOW,
/// one name at a time), so a symlink met on the way is archived as a link, never followed.
///
/// The headers carry what current dockerd's (Go archive/tar, PAX format) do: permission and
/// set-id/sticky bits in the mode (no file type bits: those went with Docker 23), numeric
/// owners without user or group names (it looks none up), the mtime in whole seconds and no
/// atime or ctime (so no PAX time records), device numbers for devices, and PAX records only
/// where ustar falls short (long link targets, names that cannot be split), plus the file's
/// security.capability as SCHILY.xattr (Go's tar knows no LIBARCHIVE.xattr records).
public final class TreeArchiver {
    private let archive: OpaquePointer
    /// First archive name of each (device, inode) with more than one link: later ones are hard links.
    private var linked: [String: [UInt8]] = [:]

    public init(output fd: Int32) throws {
        guard let archive = archive_write_new() else { throw BerthError.internalError("libarchive: cannot allocate a writer") }
        self.archive = archive
        archive_write_set_format_pax_restricted(archive)
        archive_write_set_format_option(archive, "pax", "xattrheader", "SCHILY")
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
        try Self.withUTF8Locale { try add(dirFD: dirFD, name: Array(name.utf8), as: Array(archiveName.utf8)) }
    }

    /// Runs `body` with this thread's character set UTF-8: libarchive then writes a non-ASCII
    /// name as a plain PAX path record, as Go does, where under berthd's C locale it adds a
    /// `hdrcharset=BINARY` record (which GNU tar warns about). Only this thread, and only meanwhile.
    static func withUTF8Locale<T>(_ body: () throws -> T) rethrows -> T {
        guard let utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil) else { return try body() }
        let previous = uselocale(utf8)
        defer {
            uselocale(previous)
            freelocale(utf8)
        }
        return try body()
    }

    /// The walk goes by the names' bytes: a file name need not be UTF-8, and is archived as it is.
    private func add(dirFD: Int32, name: [UInt8], as archiveName: [UInt8]) throws {
        var info = stat()
        guard Self.withCName(name, { fstatat(dirFD, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw BerthError.internalError("stat \(Self.text(archiveName)): \(String(cString: strerror(errno)))")
        }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        if !archiveName.isEmpty { try header(archiveName, info: info, dirFD: dirFD, name: name) }
        if isDirectory {
            let childFD = Self.withCName(name) { openat(dirFD, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard childFD >= 0 else { throw BerthError.internalError("open \(Self.text(archiveName)): \(String(cString: strerror(errno)))") }
            defer { close(childFD) }
            let slash = UInt8(ascii: "/")
            for child in try Self.rawNames(in: childFD) {
                let childName = archiveName.isEmpty ? child : (archiveName.last == slash ? archiveName + child : archiveName + [slash] + child)
                try add(dirFD: childFD, name: child, as: childName)
            }
        }
    }

    public func finish() throws {
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("close archive") }
    }

    /// The names in a directory, sorted by their bytes (stable archives, as Go's walk).
    public static func names(in dirFD: Int32) throws -> [String] {
        try rawNames(in: dirFD).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The names in a directory as the bytes they are, sorted.
    static func rawNames(in dirFD: Int32) throws -> [[UInt8]] {
        let listFD = dup(dirFD)
        guard listFD >= 0, let directory = fdopendir(listFD) else {
            throw BerthError.internalError("read directory: \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Calls `body` with `name` as a C string.
    static func withCName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (name + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }

    /// A name for messages (bytes that are not UTF-8 shown as U+FFFD).
    static func text(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }

    private func header(_ path: [UInt8], info: stat, dirFD: Int32, name: [UInt8]) throws {
        guard let entry = archive_entry_new() else { throw BerthError.internalError("libarchive: cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        var info = info
        archive_entry_copy_stat(entry, &info)
        Self.withCName(path) { archive_entry_set_pathname(entry, $0) }
        archive_entry_set_mtime(entry, info.st_mtim.tv_sec, 0)
        archive_entry_unset_atime(entry)
        archive_entry_unset_ctime(entry)
        archive_entry_unset_birthtime(entry)
        let type = info.st_mode & S_IFMT
        var dataFD: Int32 = -1
        defer { if dataFD >= 0 { close(dataFD) } }
        switch type {
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = Self.withCName(name) { readlinkat(dirFD, $0, &buffer, buffer.count - 1) }
            guard count >= 0 else { throw BerthError.internalError("readlink \(Self.text(path)): \(String(cString: strerror(errno)))") }
            buffer[count] = 0
            archive_entry_set_symlink(entry, buffer)
            archive_entry_set_size(entry, 0)
        case S_IFREG:
            let key = "\(info.st_dev):\(info.st_ino)"
            if info.st_nlink > 1, let first = linked[key] {
                Self.withCName(first) { archive_entry_set_hardlink(entry, $0) }
                archive_entry_set_size(entry, 0)
            } else {
                if info.st_nlink > 1 { linked[key] = path }
                dataFD = Self.withCName(name) { openat(dirFD, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
                guard dataFD >= 0 else { throw BerthError.internalError("open \(Self.text(path)): \(String(cString: strerror(errno)))") }
                // File capabilities travel with the file, as in Docker's archives (the only xattr they carry).
                var capability = [UInt8](repeating: 0, count: 64)
                var length = fgetxattr(dataFD, Self.capabilityAttribute, &capability, capability.count)
                // A version 3 capability names the root of a user namespace, which means nothing
                // outside it: written as version 2, as dockerd does.
                if length >= Self.capabilityV2Size, capability[3] == 3 {
                    capability[3] = 2
                    length = Self.capabilityV2Size
                }
                if length > 0 { archive_entry_xattr_add_entry(entry, Self.capabilityAttribute, capability, length) }
            }
        case S_IFSOCK:
            return  // tar has no sockets; Go's archiver skips them too
        default:
            archive_entry_set_size(entry, 0)
        }
        guard archive_write_header(archive, entry) >= ARCHIVE_WARN else { throw failure("write \(Self.text(path))") }
        guard dataFD >= 0 else { return }
        // Exactly the size announced: a file that grows meanwhile is cut, one that shrinks is padded by libarchive.
        var remaining = Int64(info.st_size)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while remaining > 0 {
            let n = read(dataFD, &buffer, min(buffer.count, Int(remaining)))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BerthError.internalError("read \(Self.text(path)): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            remaining -= Int64(n)
        }
    }

    static let capabilityAttribute = "security.capability"
    /// The size of a version 2 security.capability (magic and flags, then two permitted/inheritable pairs).
    static let capabilityV2Size = 20

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard writeArchiveData(archive, bytes) else { throw failure("write archive data") }
    }
}
