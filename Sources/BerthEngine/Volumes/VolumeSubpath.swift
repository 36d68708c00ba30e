import BerthOCI
import BerthStore
import CSystemShims
import Glibc

/// `--mount type=volume,volume-subpath=sub`: the part of a volume a container mounts. The
/// subpath is checked lexically at create and against the volume's content at each start,
/// where symlinks are followed and the result must stay inside the volume (dockerd's
/// safepath rules and texts).
public enum VolumeSubpath {
    /// Go's filepath.IsLocal on Linux: not absolute, not empty, and no way out through "..".
    public static func isLocal(_ path: String) -> Bool {
        if path.isEmpty || path.hasPrefix("/") { return false }
        var depth = 0
        for component in path.split(separator: "/") where component != "." {
            depth += component == ".." ? -1 : 1
            if depth < 0 { return false }
        }
        return true
    }

    /// The host path to mount for `subpath` of the volume whose data is at `base`: the
    /// path with its symlinks resolved, which must lie inside the (resolved) base.
    public static func resolve(base: String, subpath: String) throws -> String {
        try resolveParts(base: base, subpath: subpath).path
    }

    /// As `resolve`, and pins what it found: opened beneath the volume with no symlink
    /// allowed on the way (so nothing swapped in since the check is followed), then bound at
    /// `target`, which is what the container is given (dockerd's safepath does the same).
    /// `target` is detached with the container's root (ContainerRoot.unmount).
    static func pin(base: String, subpath: String, at target: String) throws -> String {
        let parts = try resolveParts(base: base, subpath: subpath)
        let baseFD = open(parts.base, O_PATH_ | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard baseFD >= 0 else { throw WalkFailure(path: parts.base, code: errno).error(accessing: parts.base) }
        defer { close(baseFD) }
        let relative = parts.path == parts.base ? "." : String(parts.path.dropFirst(parts.base.count + (parts.base == "/" ? 0 : 1)))
        let fd = berth_openat2(baseFD, relative, UInt64(O_PATH_ | O_CLOEXEC), 0,
                               resolveBeneath | resolveNoSymlinks | UInt64(BERTH_RESOLVE_NO_MAGICLINKS))
        guard fd >= 0 else {
            let code = errno
            if code == EXDEV { throw BerthError.invalidArgument("path concatenation escapes the base directory, base: \(parts.base), subpath: \(subpath)") }
            throw WalkFailure(path: parts.path, code: code).error(accessing: parts.path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw BerthError.internalError("failed to Fstat mount source fd: \(goErrorText(errno))") }
        while berth_umount2(target, Int32(MNT_DETACH)) == 0 {}
        _ = remove(target)  // a previous run's, maybe of the other kind
        let made = info.st_mode & S_IFMT == S_IFDIR ? mkdir(target, 0o755) : open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        if made < 0 && errno != EEXIST {
            throw BerthError.internalError("failed to create temporary file for safe mount: \(goErrorText(errno))")
        }
        if info.st_mode & S_IFMT != S_IFDIR && made >= 0 { close(made) }
        guard berth_mount("/proc/self/fd/\(fd)", target, nil, UInt(MS_BIND), nil) == 0 else {
            throw BerthError.internalError("failed to mount resolved path: \(goErrorText(errno))")
        }
        return target
    }

    // RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS of <linux/openat2.h>.
    private static let resolveBeneath: UInt64 = 0x08
    private static let resolveNoSymlinks: UInt64 = 0x04

    private static func resolveParts(base: String, subpath: String) throws -> (base: String, path: String) {
        let resolvedBase: String
        switch evalSymlinks(base) {
        case .success(let path): resolvedBase = path
        case .failure(let failure): throw failure.error(accessing: base)
        }
        let combined = MountValidation.clean(resolvedBase + "/" + subpath)
        let resolved: String
        switch evalSymlinks(combined) {
        case .success(let path): resolved = path
        case .failure(let failure): throw failure.error(accessing: combined)
        }
        guard resolved == resolvedBase || resolved.hasPrefix(resolvedBase == "/" ? "/" : resolvedBase + "/") else {
            throw BerthError.invalidArgument(
                "path concatenation escapes the base directory, base: \(resolvedBase), subpath: \(subpath)")
        }
        return (resolvedBase, resolved)
    }

    /// A step of the walk that failed: which path, and why.
    struct WalkFailure: Error {
        var path: String
        var code: Int32

        /// dockerd's answer: a missing path is "not accessible" (404), anything else a failure.
        func error(accessing path: String) -> BerthError {
            let cause = "lstat \(self.path): \(goErrorText(code))"
            if code == ENOENT || code == ELOOP || code == ENOTDIR {
                return .notFound("cannot access path \(path): \(cause)")
            }
            return .internalError("error while resolving symlinks in path \"\(path)\": \(cause)")
        }
    }

    /// Go's filepath.EvalSymlinks for an absolute path: each component is looked at with
    /// lstat and a symlink is replaced by its target; fails on the first missing component.
    static func evalSymlinks(_ path: String) -> Result<String, WalkFailure> {
        var walk = PathWalk(path)
        while let component = walk.next() {
            let candidate = "/" + (walk.resolved + [component]).joined(separator: "/")
            var info = stat()
            if lstat(candidate, &info) != 0 { return .failure(WalkFailure(path: candidate, code: errno)) }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                walk.accept(component)
                continue
            }
            if walk.links >= 255 { return .failure(WalkFailure(path: candidate, code: ELOOP)) }
            guard let target = SymbolicLink.target(candidate) else { return .failure(WalkFailure(path: candidate, code: errno)) }
            walk.follow(target)
        }
        return .success("/" + walk.resolved.joined(separator: "/"))
    }
}
