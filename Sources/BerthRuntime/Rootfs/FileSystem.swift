import BerthOCI
import Glibc

/// Small filesystem helpers used while building a container's root.
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The permission bits (with setuid, setgid and sticky) of what is at `path`, if anything.
    static func permissions(_ path: String) -> mode_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o7777 : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p with the given mode for each created directory. Tries the path itself first
    /// and climbs only while parents are missing: mount points are one level below an existing
    /// directory, and every mkdir from "/" down is a path walk of its own.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { throw SystemError("mkdir \(path)") }
        let parent = parent(of: path)
        guard parent != path else { throw SystemError("mkdir \(path)", errno: ENOENT) }
        try makeDirectories(parent, mode: mode)
        if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError("mkdir \(path)") }
    }

    /// Creates an empty file (and its parent directories) to bind-mount a file onto.
    static func makeFile(_ path: String) throws {
        if exists(path) { return }
        try makeDirectories(parent(of: path))
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        if fd < 0 { throw SystemError("create \(path)") }
        close(fd)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    static func writeFile(_ path: String, _ contents: String, flags: Int32 = O_WRONLY | O_TRUNC) throws {
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        if fd < 0 { throw SystemError("open \(path)") }
        defer { close(fd) }
        let ok = contents.utf8CString.withUnsafeBufferPointer { buffer -> Bool in
            let count = buffer.count - 1
            return write(fd, buffer.baseAddress, count) == count
        }
        if !ok { throw SystemError("write \(path)") }
    }

    /// Writes `bytes` to a temporary file and renames it over `path`: a reader sees the old
    /// file or the whole new one. False when it could not.
    static func replace(_ path: String, with bytes: [UInt8]) -> Bool {
        let temp = path + ".\(getpid()).tmp"
        let fd = open(temp, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temp, path) == 0 else {
            unlink(temp)
            return false
        }
        return true
    }

    static func readFile(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16384) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Joins a container path onto the rootfs, refusing to leave it through `..` or symlinks:
    /// every component is resolved inside `root` (like runc's securejoin).
    static func secureJoin(root: String, _ path: String) -> String {
        var walk = PathWalk(path)
        while let component = walk.next() {
            let candidate = root + "/" + (walk.resolved + [component]).joined(separator: "/")
            if walk.links < 255, let target = SymbolicLink.target(candidate), !target.isEmpty {
                walk.follow(target)
            } else {
                walk.accept(component)
            }
        }
        return root + "/" + walk.resolved.joined(separator: "/")
    }
}
