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
        /// Every entry owned by this uid/gid instead of the tar's. As the kernel's chown does
        /// (dockerd's builder chowns after it copies), a file so owned loses its set-id bits.
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

    /// Reads the whole archive from `fd` and writes its entries. Names are kept as the bytes
    /// the archive has (a file name need not be UTF-8).
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
        let base = Array(destination.utf8)
        // Directory times are set last: writing into a directory changes them.
        var directoryTimes: [(path: [UInt8], times: [timespec])] = []
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw Self.readFailure(reader, inputSize: inputSize) }
            guard let rawName = archive_entry_pathname(entry) else { continue }
            let name = Self.bytes(rawName)
            guard let relative = Self.relativePath(name) else {
                throw BerthError.internalError("invalid entry name \(Self.text(name).goJSONQuoted)")
            }
            if relative.isEmpty { continue }  // the archive's "./"
            let target = base == [Self.slash] ? [Self.slash] + relative : base + [Self.slash] + relative
            if let times = try write(entry, at: target, named: relative, reader: reader) { directoryTimes.append((target, times)) }
        }
        for (path, times) in directoryTimes.reversed() {
            guard let (dirFD, name) = try? root.parent(of: path) else { continue }
            _ = TreeArchiver.withCName(name) { utimensat(dirFD, $0, times, AT_SYMLINK_NOFOLLOW) }
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

    static let slash = UInt8(ascii: "/")

    /// A C string's bytes.
    static func bytes(_ text: UnsafePointer<CChar>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: strlen(text)))
    }

    /// A path for messages (bytes that are not UTF-8 shown as U+FFFD).
    static func text(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }

    /// The entry's path made relative ("/a/./b" → "a/b"); nil when ".." leaves the archive.
    static func relativePath(_ name: [UInt8]) -> [UInt8]? {
        var parts: [ArraySlice<UInt8>] = []
        for part in name.split(separator: slash) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        return Array(parts.joined(separator: [slash]))
    }

    /// Makes one entry at `path`; returns the times to give a directory at the end.
    private func write(_ entry: OpaquePointer, at path: [UInt8], named entryName: [UInt8], reader: OpaquePointer) throws -> [timespec]? {
        let (dirFD, name) = try parentCreating(path)
        defer { close(dirFD) }
        func at<T>(_ body: (UnsafePointer<CChar>) -> T) -> T { TreeArchiver.withCName(name, body) }
        let type = mode_t(archive_entry_filetype(entry))
        let isDirectory = type == S_IFDIR
        var existing = stat()
        if at({ fstatat(dirFD, $0, &existing, AT_SYMLINK_NOFOLLOW) }) == 0 {
            let existingIsDirectory = (existing.st_mode & S_IFMT) == S_IFDIR
            if options.noOverwriteDirNonDir && existingIsDirectory != isDirectory {
                // dockerd's words: the entry's name, then the directory unpacked into.
                throw BerthError.internalError(existingIsDirectory
                    ? "cannot overwrite directory \(Self.text(entryName).goJSONQuoted) with non-directory \(destination.goJSONQuoted)"
                    : "cannot overwrite non-directory \(Self.text(entryName).goJSONQuoted) with directory \(destination.goJSONQuoted)")
            }
            if !(existingIsDirectory && isDirectory) { try Self.removeTree(dirFD: dirFD, name: name) }
        }
        let permissions = mode_t(archive_entry_perm(entry))
        func check(_ result: Int32, _ step: String) throws {
            guard result == 0 else { throw BerthError.internalError("\(step) \(Self.text(path)): \(String(cString: strerror(errno)))") }
        }
        if let hardlink = archive_entry_hardlink(entry) {
            guard let linkTarget = Self.relativePath(Self.bytes(hardlink)) else {
                throw BerthError.internalError("invalid hardlink target \(Self.text(Self.bytes(hardlink)).goJSONQuoted)")
            }
            let (targetDirFD, targetName) = try root.parent(of: Array(destination.utf8) + [Self.slash] + linkTarget)
            defer { close(targetDirFD) }
            let linked = TreeArchiver.withCName(targetName) { from in at { linkat(targetDirFD, from, dirFD, $0, 0) } }
            try check(linked, "link")
            return nil
        }
        switch type {
        case S_IFDIR:
            if at({ mkdirat(dirFD, $0, 0o700) }) != 0 && errno != EEXIST { try check(-1, "mkdir") }
        case S_IFREG:
            let fd = at { openat(dirFD, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
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
            // The target as the archive has it, byte for byte.
            let target = archive_entry_symlink(entry).map(Self.bytes) ?? []
            try check(TreeArchiver.withCName(target) { to in at { symlinkat(to, dirFD, $0) } }, "symlink")
        case S_IFCHR, S_IFBLK, S_IFIFO:
            try check(at { mknodat(dirFD, $0, type | permissions, archive_entry_rdev(entry)) }, "mknod")
        default:
            return nil  // sockets and unknown types: tar cannot carry them anyway
        }
        let uid = options.owner?.uid ?? UInt32(truncatingIfNeeded: archive_entry_uid(entry))
        let gid = options.owner?.gid ?? UInt32(truncatingIfNeeded: archive_entry_gid(entry))
        try check(at { fchownat(dirFD, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }, "chown")
        // After chown, which clears file capabilities.
        try setExtendedAttributes(entry, dirFD: dirFD, name: name, path: path)
        var times = [timespec(tv_sec: archive_entry_atime(entry), tv_nsec: archive_entry_atime_nsec(entry)),
                     timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))]
        if archive_entry_atime_is_set(entry) == 0 { times[0] = times[1] }
        if type == S_IFLNK {
            _ = at { utimensat(dirFD, $0, times, AT_SYMLINK_NOFOLLOW) }
            return nil
        }
        // After chown, which clears set-id bits; an owner given for all does clear them.
        var mode = permissions
        if options.owner != nil && type == S_IFREG {
            mode &= ~S_ISUID
            if mode & S_IXGRP != 0 { mode &= ~S_ISGID }
        }
        try check(at { fchmodat(dirFD, $0, mode, 0) }, "chmod")
        if type == S_IFDIR { return times }
        try check(at { utimensat(dirFD, $0, times, AT_SYMLINK_NOFOLLOW) }, "set times of")
        return nil
    }

    /// The entry's extended attributes (its SCHILY.xattr records: Docker's own archives carry
    /// only security.capability, `tar --xattrs` more), on any kind of entry, as dockerd sets
    /// them: one the kernel does not permit (EPERM: a user.* on a symlink, an overlay's
    /// private ones) is left out; any other failure fails the copy in dockerd's words.
    private func setExtendedAttributes(_ entry: OpaquePointer, dirFD: Int32, name: [UInt8], path: [UInt8]) throws {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        // The entry through its directory's descriptor, never through a path in the container.
        let entryPath = Array("/proc/self/fd/\(dirFD)/".utf8) + name
        var key: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK {
            guard let key else { continue }
            let result = TreeArchiver.withCName(entryPath) { lsetxattr($0, key, value, size, 0) }
            if result == 0 || errno == EPERM { continue }
            throw BerthError.internalError("lsetxattr \(Self.text(path)): xattr \(String(cString: key).goJSONQuoted): "
                                           + goErrorText(errno))
        }
    }

    /// The directory of `path`, resolved in the root; missing directories are made (0755, root).
    private func parentCreating(_ path: [UInt8]) throws -> (fd: Int32, name: [UInt8]) {
        let first: Result<(fd: Int32, name: [UInt8]), ScopedPathError> = Result { () throws(ScopedPathError) in try root.parent(of: path) }
        switch first {
        case .success(let found): return found
        case .failure(let error) where error.errno != ENOENT: throw error
        case .failure:
            var components = path.split(separator: Self.slash).map(Array.init)
            let name = components.removeLast()
            var made: [UInt8] = [Self.slash]
            for component in components {
                let (dirFD, _) = try root.parent(of: made + component)
                if TreeArchiver.withCName(component, { mkdirat(dirFD, $0, 0o755) }) != 0 && errno != EEXIST {
                    let code = errno
                    close(dirFD)
                    throw BerthError.internalError("mkdir \(Self.text(made + component)): \(String(cString: strerror(code)))")
                }
                close(dirFD)
                made += component + [Self.slash]
            }
            return (try root.open(made, flags: O_PATH_ | O_DIRECTORY), name)
        }
    }

    /// Removes `name` in `dirFD`, with everything below it when a directory.
    static func removeTree(dirFD: Int32, name: [UInt8]) throws {
        func at<T>(_ body: (UnsafePointer<CChar>) -> T) -> T { TreeArchiver.withCName(name, body) }
        if at({ unlinkat(dirFD, $0, 0) }) == 0 { return }
        guard errno == EISDIR || errno == EPERM else {
            throw BerthError.internalError("remove \(text(name)): \(goErrorText(errno))")
        }
        let childFD = at { openat(dirFD, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard childFD >= 0 else { throw BerthError.internalError("open \(text(name)): \(String(cString: strerror(errno)))") }
        defer { close(childFD) }
        for child in try TreeArchiver.rawNames(in: childFD) { try removeTree(dirFD: childFD, name: child) }
        guard at({ unlinkat(dirFD, $0, AT_REMOVEDIR) }) == 0 else {
            throw BerthError.internalError("remove \(text(name)): \(goErrorText(errno))")
        }
    }
}
