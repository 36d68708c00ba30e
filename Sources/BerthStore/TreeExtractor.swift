import BerthOCI
import CArchive
import CSystemShims
import FoundationEssentials
import Glibc

/// Unpacks a tar (plain or compressed, read by libarchive) into a directory of a ScopedRoot:
/// `docker cp` into a container. Each entry's directory is resolved by the kernel inside the
/// root (a symlink in the container pointing at /etc lands in the container's /etc), and the
/// entry itself is made with the *at calls on that directory, never through a path.
public struct TreeExtractor: Sendable {
    public struct Options: Sendable {
        /// Refuse to replace a directory by a non-directory or the reverse (dockerd's noOverwriteDirNonDir).
        public var noOverwriteDirNonDir = false
        /// Every entry owned by this uid/gid instead of the tar's.
        public var owner: (uid: UInt32, gid: UInt32)?

        public init(noOverwriteDirNonDir: Bool = false, owner: (uid: UInt32, gid: UInt32)? = nil) {
            self.noOverwriteDirNonDir = noOverwriteDirNonDir
            self.owner = owner
        }
    }

    let root: ScopedRoot
    /// The directory to unpack into, an absolute path in the root.
    let destination: String
    let options: Options

    public init(root: ScopedRoot, destination: String, options: Options) {
        self.root = root
        self.destination = destination
        self.options = options
    }

    /// Reads the whole archive from `fd` and writes its entries.
    public func extract(from fd: Int32) throws {
        guard let reader = archive_read_new() else { throw BerthError.internalError("libarchive: cannot allocate a reader") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        // An empty body is no archive at all: nothing to unpack (dockerd answers 200 too).
        var input = stat()
        if fstat(fd, &input) == 0, (input.st_mode & S_IFMT) == S_IFREG, input.st_size == 0 { return }
        let inputSize = (input.st_mode & S_IFMT) == S_IFREG ? Int64(input.st_size) : Int64.max
        guard archive_read_open_fd(reader, fd, 1 << 16) == ARCHIVE_OK else { throw Self.readFailure(reader, inputSize: inputSize) }
        // Directory times are set last: writing into a directory changes them.
        var directoryTimes: [(path: String, times: [timespec])] = []
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw Self.readFailure(reader, inputSize: inputSize) }
            guard let rawName = archive_entry_pathname(entry) else { continue }
            let name = String(cString: rawName)
            guard let relative = Self.relativePath(name) else {
                throw BerthError.internalError("invalid entry name \(name.goJSONQuoted)")
            }
            if relative.isEmpty { continue }  // the archive's "./"
            let target = destination == "/" ? "/" + relative : destination + "/" + relative
            if let times = try write(entry, at: target, named: relative, reader: reader) { directoryTimes.append((target, times)) }
        }
        for (path, times) in directoryTimes.reversed() {
            guard let (dirFD, name) = try? root.parent(of: path) else { continue }
            _ = utimensat(dirFD, name, times, AT_SYMLINK_NOFOLLOW)
            close(dirFD)
        }
    }

    /// A tar that cannot be read, in the words of Go's tar reader (dockerd answers 500 with
    /// them): input that ends inside a header block, or a block that is no header.
    static func readFailure(_ reader: OpaquePointer, inputSize: Int64) -> BerthError {
        let message = archive_error_string(reader).map { String(cString: $0) } ?? ""
        let truncated = inputSize < 512 || message.lowercased().contains("truncated")
        return .internalError(truncated ? "unexpected EOF" : "archive/tar: invalid tar header")
    }

    /// The entry's path made relative ("/a/./b" → "a/b"); nil when ".." leaves the archive.
    static func relativePath(_ name: String) -> String? {
        var parts: [Substring] = []
        for part in name.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// Makes one entry at `path`; returns the times to give a directory at the end.
    private func write(_ entry: OpaquePointer, at path: String, named entryName: String, reader: OpaquePointer) throws -> [timespec]? {
        let (dirFD, name) = try parentCreating(path)
        defer { close(dirFD) }
        let type = mode_t(archive_entry_filetype(entry))
        let isDirectory = type == S_IFDIR
        var existing = stat()
        if fstatat(dirFD, name, &existing, AT_SYMLINK_NOFOLLOW) == 0 {
            let existingIsDirectory = (existing.st_mode & S_IFMT) == S_IFDIR
            if options.noOverwriteDirNonDir && existingIsDirectory != isDirectory {
                // dockerd's words: the entry's name, then the directory unpacked into.
                throw BerthError.internalError(existingIsDirectory
                    ? "cannot overwrite directory \(entryName.goJSONQuoted) with non-directory \(destination.goJSONQuoted)"
                    : "cannot overwrite non-directory \(entryName.goJSONQuoted) with directory \(destination.goJSONQuoted)")
            }
            if !(existingIsDirectory && isDirectory) { try Self.removeTree(dirFD: dirFD, name: name) }
        }
        let permissions = mode_t(archive_entry_perm(entry))
        func check(_ result: Int32, _ step: String) throws {
            guard result == 0 else { throw BerthError.internalError("\(step) \(path): \(String(cString: strerror(errno)))") }
        }
        if let hardlink = archive_entry_hardlink(entry) {
            guard let linkTarget = Self.relativePath(String(cString: hardlink)) else {
                throw BerthError.internalError("invalid hardlink target \(String(cString: hardlink).goJSONQuoted)")
            }
            let (targetDirFD, targetName) = try root.parent(of: destination + "/" + linkTarget)
            defer { close(targetDirFD) }
            try check(linkat(targetDirFD, targetName, dirFD, name, 0), "link")
            return nil
        }
        switch type {
        case S_IFDIR:
            if mkdirat(dirFD, name, 0o700) != 0 && errno != EEXIST { try check(-1, "mkdir") }
        case S_IFREG:
            let fd = openat(dirFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            try check(fd >= 0 ? 0 : -1, "create")
            defer { close(fd) }
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            while true {
                let status = archive_read_data_block(reader, &block, &size, &offset)
                if status == ARCHIVE_EOF { break }
                // A body cut short inside a file: Go's tar reader says so in these words.
                guard status >= ARCHIVE_WARN else { throw BerthError.internalError("unexpected EOF") }
                var written = 0
                while written < size {
                    let n = pwrite(fd, block! + written, size - written, off_t(offset) + off_t(written))
                    if n < 0 && errno == EINTR { continue }
                    try check(n > 0 ? 0 : -1, "write")
                    written += n
                }
            }
            // A sparse tail leaves the file short of its size.
            try check(ftruncate(fd, off_t(archive_entry_size(entry))), "truncate")
        case S_IFLNK:
            try check(symlinkat(archive_entry_symlink(entry).map { String(cString: $0) } ?? "", dirFD, name), "symlink")
        case S_IFCHR, S_IFBLK, S_IFIFO:
            try check(mknodat(dirFD, name, type | permissions, archive_entry_rdev(entry)), "mknod")
        default:
            return nil  // sockets and unknown types: tar cannot carry them anyway
        }
        let uid = options.owner?.uid ?? UInt32(truncatingIfNeeded: archive_entry_uid(entry))
        let gid = options.owner?.gid ?? UInt32(truncatingIfNeeded: archive_entry_gid(entry))
        try check(fchownat(dirFD, name, uid, gid, AT_SYMLINK_NOFOLLOW), "chown")
        var times = [timespec(tv_sec: archive_entry_atime(entry), tv_nsec: archive_entry_atime_nsec(entry)),
                     timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))]
        if archive_entry_atime_is_set(entry) == 0 { times[0] = times[1] }
        if type == S_IFLNK {
            _ = utimensat(dirFD, name, times, AT_SYMLINK_NOFOLLOW)
            return nil
        }
        // After chown, which clears set-id bits and file capabilities.
        try check(fchmodat(dirFD, name, permissions, 0), "chmod")
        if type == S_IFREG { try setCapability(entry, dirFD: dirFD, name: name, path: path) }
        if type == S_IFDIR { return times }
        try check(utimensat(dirFD, name, times, AT_SYMLINK_NOFOLLOW), "set times of")
        return nil
    }

    /// The entry's security.capability, the one xattr Docker's archives carry.
    private func setCapability(_ entry: OpaquePointer, dirFD: Int32, name: String, path: String) throws {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var key: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK {
            guard let key, String(cString: key) == TreeArchiver.capabilityAttribute, let value else { continue }
            let fd = openat(dirFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw BerthError.internalError("open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard fsetxattr(fd, TreeArchiver.capabilityAttribute, value, size, 0) == 0 else {
                throw BerthError.internalError("set capabilities of \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The directory of `path`, resolved in the root; missing directories are made (0755, root).
    private func parentCreating(_ path: String) throws -> (fd: Int32, name: String) {
        let first: Result<(fd: Int32, name: String), ScopedPathError> = Result { () throws(ScopedPathError) in try root.parent(of: path) }
        switch first {
        case .success(let found): return found
        case .failure(let error) where error.errno != ENOENT: throw error
        case .failure:
            var components = ScopedRoot.components(path)
            let name = components.removeLast()
            var made = "/"
            for component in components {
                let (dirFD, _) = try root.parent(of: made + "/" + component)
                if mkdirat(dirFD, component, 0o755) != 0 && errno != EEXIST {
                    let code = errno
                    close(dirFD)
                    throw BerthError.internalError("mkdir \(made + component): \(String(cString: strerror(code)))")
                }
                close(dirFD)
                made += component + "/"
            }
            return (try root.open(made, flags: O_PATH_ | O_DIRECTORY), name)
        }
    }

    /// Removes `name` in `dirFD`, with everything below it when a directory.
    static func removeTree(dirFD: Int32, name: String) throws {
        if unlinkat(dirFD, name, 0) == 0 { return }
        guard errno == EISDIR || errno == EPERM else {
            throw BerthError.internalError("remove \(name): \(String(cString: strerror(errno)))")
        }
        let childFD = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard childFD >= 0 else { throw BerthError.internalError("open \(name): \(String(cString: strerror(errno)))") }
        defer { close(childFD) }
        for child in try TreeArchiver.names(in: childFD) { try removeTree(dirFD: childFD, name: child) }
        guard unlinkat(dirFD, name, AT_REMOVEDIR) == 0 else {
            throw BerthError.internalError("remove \(name): \(String(cString: strerror(errno)))")
        }
    }
}
