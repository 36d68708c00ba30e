import BerthOCI
import CArchive
import CSystemShims
import FoundationEssentials
import Glibc

/// The other direction of LayerUnpacker: what an overlay upper directory records, written as
/// a layer tar with Docker's whiteouts (a 0:0 character device → `.wh.NAME`, an opaque
/// directory → `DIR/.wh..wh..opq`). For `commit` and `build`.
public enum LayerDiff {
    /// `including`, when given, names the entries to write ("/etc/passwd", parents included):
    /// what is left out is what the daemon made for its own mounts, or a directory that was
    /// only copied up.
    public static func write(upperDirectory: String, to fd: Int32, including: Set<String>? = nil) throws {
        guard let archive = archive_write_new() else { throw BerthError.internalError("libarchive: cannot allocate a writer") }
        defer { archive_write_free(archive) }
        archive_write_set_format_pax_restricted(archive)
        guard archive_write_open_fd(archive, fd) == ARCHIVE_OK else { throw failure(archive, "open layer for writing") }
        var hardlinks: [String: String] = [:]   // "dev:ino" → first path
        try walk(upperDirectory, relative: "", archive: archive, including: including, hardlinks: &hardlinks)
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure(archive, "finish layer") }
    }

    private static func failure(_ archive: OpaquePointer, _ step: String) -> BerthError {
        .internalError("\(step): \(archive_error_string(archive).map { String(cString: $0) } ?? "unknown error")")
    }

    private static func walk(_ directory: String, relative: String, archive: OpaquePointer,
                             including: Set<String>?, hardlinks: inout [String: String]) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        for name in names {
            let path = directory + "/" + name
            let entryPath = relative.isEmpty ? name : relative + "/" + name
            if let including, !including.contains("/" + entryPath) { continue }
            var info = stat()
            guard lstat(path, &info) == 0 else { throw BerthError.internalError("lstat \(path): \(String(cString: strerror(errno)))") }
            let kind = info.st_mode & S_IFMT
            if kind == S_IFCHR && info.st_rdev == 0 {
                try emptyFile(relative.isEmpty ? ".wh." + name : relative + "/.wh." + name, like: info, archive: archive)
                continue
            }
            guard let entry = archive_entry_new() else { throw BerthError.internalError("libarchive: cannot allocate an entry") }
            defer { archive_entry_free(entry) }
            archive_entry_copy_stat(entry, &info)
            archive_entry_set_pathname(entry, entryPath)
            let identity = "\(info.st_dev):\(info.st_ino)"
            if kind == S_IFREG, info.st_nlink > 1, let first = hardlinks[identity] {
                archive_entry_set_hardlink(entry, first)
                archive_entry_set_size(entry, 0)
            } else if kind == S_IFLNK {
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
                archive_entry_set_symlink(entry, target)
            }
            if kind == S_IFREG && info.st_nlink > 1 && hardlinks[identity] == nil { hardlinks[identity] = entryPath }
            guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure(archive, "write \(entryPath)") }
            if kind == S_IFREG && archive_entry_size(entry) > 0 {
                try copyData(path, archive: archive)
            }
            if kind == S_IFDIR {
                var flag = [UInt8](repeating: 0, count: 2)
                if getxattr(path, "trusted.overlay.opaque", &flag, 2) == 1 && flag[0] == UInt8(ascii: "y") {
                    try emptyFile(entryPath + "/.wh..wh..opq", like: info, archive: archive)
                }
                try walk(path, relative: entryPath, archive: archive, including: including, hardlinks: &hardlinks)
            }
        }
    }

    private static func emptyFile(_ path: String, like info: stat, archive: OpaquePointer) throws {
        guard let entry = archive_entry_new() else { throw BerthError.internalError("libarchive: cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, path)
        archive_entry_set_filetype(entry, UInt32(0o100000))  // regular file
        archive_entry_set_perm(entry, 0o600)
        archive_entry_set_size(entry, 0)
        archive_entry_set_uid(entry, Int64(info.st_uid))
        archive_entry_set_gid(entry, Int64(info.st_gid))
        archive_entry_set_mtime(entry, info.st_mtim.tv_sec, info.st_mtim.tv_nsec)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure(archive, "write \(path)") }
    }

    private static func copyData(_ path: String, archive: OpaquePointer) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError.internalError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { return }
            guard n > 0 else { throw BerthError.internalError("read \(path): \(String(cString: strerror(errno)))") }
            guard buffer.withUnsafeBytes({ archive_write_data(archive, $0.baseAddress, n) }) == n else {
                throw failure(archive, "write \(path)")
            }
        }
    }
}
