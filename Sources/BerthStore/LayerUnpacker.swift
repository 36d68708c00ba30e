import BerthOCI
import CArchive
import CSystemShims
import FoundationEssentials
import Glibc

/// Unpacks a layer tar (plain or compressed) into a directory for overlayfs, translating
/// Docker's whiteouts: `.wh.NAME` becomes a 0:0 character device NAME (a deleted file) and
/// `.wh..wh..opq` the `trusted.overlay.opaque=y` attribute on its directory. Entries that
/// would leave the directory (`..`, absolute paths, through symlinks, hardlinks outside) are
/// refused before anything is written there.
enum LayerUnpacker {
    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"

    /// Returns the bytes of regular files unpacked: the layer's size as `docker images` counts it.
    @discardableResult
    static func unpack(layerFD: Int32, into directory: String) throws -> Int64 {
        guard let reader = archive_read_new(), let writer = archive_write_disk_new() else {
            throw BerthError.internalError("libarchive: cannot allocate")
        }
        defer {
            archive_read_free(reader)
            archive_write_free(writer)
        }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        let flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR
            | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK
        archive_write_disk_set_options(writer, flags)
        archive_write_disk_set_standard_lookup(writer)
        func failure(_ archive: OpaquePointer, _ step: String) -> BerthError {
            .invalidArgument("\(step): \(archive_error_string(archive).map { String(cString: $0) } ?? "unknown error")")
        }
        guard archive_read_open_fd(reader, layerFD, 1 << 16) == ARCHIVE_OK else { throw failure(reader, "open layer") }
        var entry: OpaquePointer?
        var contentSize: Int64 = 0
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw failure(reader, "read layer") }
            let path = ArchiveReader.clean(String(cString: archive_entry_pathname(entry)))
            try ArchiveReader.checkPath(path)
            if path.isEmpty { continue }  // the layer's own root "./"
            let slash = path.lastIndex(of: "/")
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            let parent = slash.map { String(path[..<$0]) } ?? ""
            let parentPath = parent.isEmpty ? directory : directory + "/" + parent
            if name == opaqueMarker {
                try FileManager.default.createDirectory(atPath: parentPath, withIntermediateDirectories: true)
                guard setxattr(parentPath, "trusted.overlay.opaque", "y", 1, 0) == 0 else {
                    throw BerthError.internalError("mark \(parent) opaque: \(String(cString: strerror(errno)))")
                }
                continue
            }
            if name.hasPrefix(whiteoutPrefix) {
                let deleted = parentPath + "/" + name.dropFirst(whiteoutPrefix.count)
                try FileManager.default.createDirectory(atPath: parentPath, withIntermediateDirectories: true)
                unlink(deleted)
                guard mknod(deleted, S_IFCHR | 0, 0) == 0 else {
                    throw BerthError.internalError("whiteout \(deleted): \(String(cString: strerror(errno)))")
                }
                lchown(deleted, archive_entry_uid(entry).toUID, archive_entry_gid(entry).toUID)
                continue
            }
            archive_entry_set_pathname(entry, directory + "/" + path)
            if let link = archive_entry_hardlink(entry) {
                let target = ArchiveReader.clean(String(cString: link))
                try ArchiveReader.checkPath(target)
                archive_entry_set_hardlink(entry, directory + "/" + target)
            }
            guard archive_write_header(writer, entry) == ARCHIVE_OK else { throw failure(writer, "unpack \(path)") }
            // What dockerd's layer size counts: regular files once, and symlinks (their target's length).
            if archive_entry_filetype(entry) == UInt32(0o100000) && archive_entry_hardlink(entry) == nil {
                contentSize += archive_entry_size(entry)
            } else if archive_entry_filetype(entry) == UInt32(0o120000), let target = archive_entry_symlink(entry) {
                contentSize += Int64(strlen(target))
            }
            if archive_entry_size(entry) > 0 {
                var buffer: UnsafeRawPointer?
                var size = 0
                var offset: Int64 = 0
                while true {
                    let read = archive_read_data_block(reader, &buffer, &size, &offset)
                    if read == ARCHIVE_EOF { break }
                    guard read == ARCHIVE_OK else { throw failure(reader, "read \(path)") }
                    guard archive_write_data_block(writer, buffer, size, offset) == ARCHIVE_OK else {
                        throw failure(writer, "write \(path)")
                    }
                }
            }
            guard archive_write_finish_entry(writer) == ARCHIVE_OK else { throw failure(writer, "finish \(path)") }
        }
        guard archive_write_close(writer) == ARCHIVE_OK else { throw failure(writer, "finish layer") }
        return contentSize
    }
}

extension Int64 {
    var toUID: UInt32 { UInt32(truncatingIfNeeded: self) }
}
