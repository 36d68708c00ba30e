import BerthOCI
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
        return resolved
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
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            let candidate = "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            if lstat(candidate, &info) != 0 { return .failure(WalkFailure(path: candidate, code: errno)) }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                resolved.append(component)
                continue
            }
            links += 1
            if links > 255 { return .failure(WalkFailure(path: candidate, code: ELOOP)) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(candidate, &buffer, Int(PATH_MAX))
            if count < 0 { return .failure(WalkFailure(path: candidate, code: errno)) }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved = [] }
            pending = target.split(separator: "/").map(String.init) + pending
        }
        return .success("/" + resolved.joined(separator: "/"))
    }
}
