import BerthOCI
import CSystemShims
import FoundationEssentials
import Glibc

/// A directory used as the root of a container's file system. Every path given to it is
/// resolved by the kernel (openat2 with RESOLVE_IN_ROOT) as if this directory were "/": a
/// symlink to "/etc" or a "../../.." in the container never leads to the host's files.
/// Everything else works on the descriptors it hands out (the *at calls), so a path is
/// never resolved twice.
public final class ScopedRoot: @unchecked Sendable {
    public let fd: Int32

    /// Opens `path` (e.g. `/proc/<pid>/root` or a mounted overlay) as the root.
    public init(path: String) throws {
        fd = Glibc.open(path, O_PATH_ | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ScopedPathError(errno: errno, path: path) }
    }

    deinit { close(fd) }

    /// Opens `path` (absolute or not: both are read from the root) with `flags`; symlinks are
    /// followed inside the root. Throws ScopedPathError with the errno.
    public func open(_ path: String, flags: Int32, mode: mode_t = 0) throws(ScopedPathError) -> Int32 {
        let relative = path.isEmpty ? "/" : path
        let result = berth_openat2(fd, relative, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), UInt64(mode),
                                   UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS))
        guard result >= 0 else { throw ScopedPathError(errno: errno, path: path) }
        return result
    }

    /// The directory holding the last component of `path`, opened O_PATH_, and that component's
    /// name ("." for the root itself).
    public func parent(of path: String) throws(ScopedPathError) -> (fd: Int32, name: String) {
        let components = Self.components(path)
        guard let name = components.last else { return (try open("/", flags: O_PATH_ | O_DIRECTORY), ".") }
        let parent = "/" + components.dropLast().joined(separator: "/")
        return (try open(parent, flags: O_PATH_ | O_DIRECTORY), name)
    }

    /// `open` for a path given as bytes (a file name need not be UTF-8).
    public func open(_ path: [UInt8], flags: Int32, mode: mode_t = 0) throws(ScopedPathError) -> Int32 {
        let relative = path.isEmpty ? [UInt8(ascii: "/")] : path
        let result = (relative + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { name in
                berth_openat2(fd, name.baseAddress, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), UInt64(mode),
                              UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS))
            }
        }
        guard result >= 0 else { throw ScopedPathError(errno: errno, path: String(decoding: path, as: UTF8.self)) }
        return result
    }

    /// `parent(of:)` for a path given as bytes.
    public func parent(of path: [UInt8]) throws(ScopedPathError) -> (fd: Int32, name: [UInt8]) {
        let slash = UInt8(ascii: "/")
        let components = path.split(separator: slash)
        guard let name = components.last else { return (try open([slash], flags: O_PATH_ | O_DIRECTORY), [UInt8(ascii: ".")]) }
        let parent = [slash] + Array(components.dropLast().joined(separator: [slash]))
        return (try open(parent, flags: O_PATH_ | O_DIRECTORY), Array(name))
    }

    /// lstat(2) of `path`: its directory is resolved inside the root, the last component is not
    /// followed.
    public func lstat(_ path: String) throws(ScopedPathError) -> stat {
        let (dirFD, name) = try parent(of: path)
        defer { close(dirFD) }
        var info = stat()
        guard fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw ScopedPathError(errno: errno, path: path) }
        return info
    }

    /// `path` with every symlink resolved inside the root, as an absolute path in it
    /// (the last component followed only with `followLast`). A missing component ends the
    /// walk: the rest is appended as written.
    public func canonical(_ path: String, followLast: Bool = true) -> String {
        walk(path, followLast: followLast).path
    }

    /// As `canonical`, but a path whose links do not end (a loop) is an error, worded as
    /// dockerd's scoped symlink walk words it.
    public func canonicalTarget(_ path: String) throws(ScopedPathError) -> String {
        let result = walk(path, followLast: true)
        guard !result.tooManyLinks else {
            throw ScopedPathError(errno: ELOOP, path: path, message: "evalSymlinksInScope: too many links in \(path)")
        }
        return result.path
    }

    private func walk(_ path: String, followLast: Bool) -> (path: String, tooManyLinks: Bool) {
        var pending = Self.components(path)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            if pending.isEmpty && !followLast {
                resolved.append(component)
                break
            }
            guard let target = readLink("/" + (resolved + [component]).joined(separator: "/")) else {
                resolved.append(component)
                continue
            }
            // The kernel's own limit (ELOOP after 40).
            if links == 40 { return ("/" + (resolved + [component] + pending).joined(separator: "/"), true) }
            links += 1
            if target.hasPrefix("/") { resolved = [] }
            pending = Self.components(target) + pending
        }
        return ("/" + resolved.joined(separator: "/"), false)
    }

    /// The target of a symlink at `path` (directory resolved inside the root), or nil.
    public func readLink(_ path: String) -> String? {
        guard let (dirFD, name) = try? parent(of: path), name != "." else { return nil }
        defer { close(dirFD) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(dirFD, name, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `path` and the directories above it that are missing (0755), each inside the
    /// root; the last one is an empty file unless `directory`. What exists is left as it is.
    /// Answers the directories it made, from the top down.
    @discardableResult
    public func makePath(_ path: String, directory: Bool) throws(ScopedPathError) -> [String] {
        var madeDirectories: [String] = []
        let components = Self.components(path).filter { $0 != "." && $0 != ".." }
        var made = "/"
        for (index, component) in components.enumerated() {
            let dirFD = try open(made, flags: O_PATH_ | O_DIRECTORY)
            defer { close(dirFD) }
            let last = index == components.count - 1
            if last && !directory {
                let fd = openat(dirFD, component, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o755)
                guard fd >= 0 || errno == EEXIST || errno == ELOOP else { throw ScopedPathError(errno: errno, path: path) }
                if fd >= 0 { close(fd) }
            } else if mkdirat(dirFD, component, 0o755) == 0 {
                madeDirectories.append(made + component)
            } else if errno != EEXIST {
                throw ScopedPathError(errno: errno, path: path)
            }
            made += component + "/"
        }
        return madeDirectories
    }

    /// lchown inside the root.
    public func changeOwner(_ path: String, uid: UInt32, gid: UInt32) throws(ScopedPathError) {
        let (parentFD, name) = try parent(of: path)
        defer { close(parentFD) }
        guard fchownat(parentFD, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 else { throw ScopedPathError(errno: errno, path: path) }
    }

    /// "/a//b/./c/" → ["a", "b", ".", "c"] ("." kept: callers decide what it means).
    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }
}

/// O_PATH: a descriptor that only names a file (for the *at calls and fstat).
public let O_PATH_ = Int32(BERTH_O_PATH)

/// A path that could not be resolved or opened inside a ScopedRoot.
public struct ScopedPathError: Error, Sendable, CustomStringConvertible {
    public let errno: Int32
    public let path: String
    /// A whole text of its own, where Go's "path: errno text" is not what dockerd says.
    public var message: String? = nil

    public var isNotFound: Bool { errno == ENOENT || errno == ENOTDIR }
    /// In Go's words (lower case), as dockerd's errors read.
    public var description: String { message ?? "\(path): \(goErrorText(errno))" }
}
