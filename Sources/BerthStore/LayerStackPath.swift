import BerthOCI
import CSystemShims
import Glibc

/// A path looked up in an unmounted overlay: the container's upper directory over its image's
/// layers, as the merged root would show it (whiteouts hide, opaque directories stop the
/// layers below, symlinks are followed inside the root). Lets create check and make a path
/// without mounting the root.
public struct LayerStackPath {
    /// The upper directory first, then the layers from the top down.
    public let layers: [String]

    public init(layers: [String]) {
        self.layers = layers
    }

    /// The layer directories of a prepared container root (Snapshotter.prepare's mount).
    public init(mount: Spec.Mount) {
        let options = mount.options ?? []
        func value(_ key: String) -> String? {
            options.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        let lowers = (value("lowerdir") ?? "").split(separator: ":").map(String.init)
        self.init(layers: [value("upperdir")].compactMap { $0 } + lowers)
    }

    /// The topmost visible entry at `components` (from the root, no symlinks among them), or
    /// nil when the merged root has none.
    public func lookup(_ components: [String]) -> (path: String, info: stat)? {
        let relative = components.joined(separator: "/")
        for layer in layers {
            let path = layer + "/" + relative
            var info = stat()
            if lstat(path, &info) == 0 {
                // A whiteout: deleted from here down.
                if info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0 { return nil }
                return (path, info)
            }
            // A parent that is not a directory here (a file or a whiteout), or an opaque one,
            // hides what the layers below have.
            if hidesBelow(components, in: layer) { return nil }
        }
        return nil
    }

    private func hidesBelow(_ components: [String], in layer: String) -> Bool {
        var path = layer
        for component in components.dropLast() {
            path += "/" + component
            var info = stat()
            guard lstat(path, &info) == 0 else { return false }
            if info.st_mode & S_IFMT != S_IFDIR { return true }
            var value: UInt8 = 0
            if getxattr(path, "trusted.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y") { return true }
        }
        return false
    }

    /// How an absolute path resolves in the merged root.
    public enum Resolution: Equatable {
        /// It exists; `components` is where, with every symlink followed.
        case existing(components: [String], isDirectory: Bool)
        /// `existing` exists (a directory); `missing` below it does not.
        case missing(existing: [String], missing: [String])
        /// A component on the way is not a directory (`at`: the path that failed, resolved).
        case notDirectory(at: [String])
    }

    public func resolve(_ path: String) -> Resolution {
        var walk = PathWalk(path)
        while let component = walk.next() {
            guard let found = lookup(walk.resolved + [component]) else {
                let rest = [component] + walk.remaining.filter { $0 != "." }
                // ".." in what is to be made would need it made first: as MkdirAll, clean it lexically.
                var missing: [String] = []
                for part in rest {
                    if part == ".." { if !missing.isEmpty { missing.removeLast() } } else { missing.append(part) }
                }
                return .missing(existing: walk.resolved, missing: missing)
            }
            let type = found.info.st_mode & S_IFMT
            if type == S_IFLNK && walk.links < 255 {
                guard let target = SymbolicLink.target(found.path) else { return .notDirectory(at: walk.resolved + [component]) }
                walk.follow(target)
                continue
            }
            walk.accept(component)
            let remaining = walk.remaining
            if type != S_IFDIR, let next = remaining.first { return .notDirectory(at: walk.resolved + [next]) }
            if remaining.isEmpty { return .existing(components: walk.resolved, isDirectory: type == S_IFDIR) }
        }
        return .existing(components: walk.resolved, isDirectory: true)
    }

    /// Makes `missing` below `existing` in the upper directory (layers[0]): the existing
    /// directories are copied up with their owner and mode, as overlayfs would on a mkdir in
    /// the merged root; the new ones are 0755 root. As there, only the directory that gets a
    /// new entry shows a new modification time; those above it keep the image's.
    public func makeDirectories(existing: [String], missing: [String]) throws {
        guard let upper = layers.first else { return }
        var prefix: [String] = []
        var copiedUp: [(path: String, info: stat)] = []
        for component in existing {
            prefix.append(component)
            let target = upper + "/" + prefix.joined(separator: "/")
            var info = stat()
            if lstat(target, &info) == 0 { continue }
            guard let found = lookup(prefix) else { throw BerthError.internalError("lstat \(target): \(goErrorText(ENOENT))") }
            try makeDirectory(target, mode: found.info.st_mode & 0o7777)
            _ = lchown(target, found.info.st_uid, found.info.st_gid)
            copiedUp.append((target, found.info))
        }
        for component in missing {
            prefix.append(component)
            try makeDirectory(upper + "/" + prefix.joined(separator: "/"), mode: 0o755)
        }
        let parentOfNew = upper + "/" + existing.joined(separator: "/")
        for (path, info) in copiedUp where path != parentOfNew {
            var times = [info.st_atim, info.st_mtim]
            _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
        }
    }

    private func makeDirectory(_ path: String, mode: mode_t) throws {
        guard mkdir(path, mode) == 0 || errno == EEXIST else {
            throw BerthError.internalError("mkdir \(path): \(goErrorText(errno))")
        }
        _ = chmod(path, mode)  // not narrowed by the umask
    }
}
