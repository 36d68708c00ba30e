import BerthOCI
import CSystemShims
import FoundationEssentials
import Glibc

/// `docker diff`: what a container's writable overlay layer changed against the image's
/// layers below it. dockerd 20.10 (overlay2, naive diff) compares the two trees; reading the
/// upper directory gives the same answer without walking the image: an entry there is added
/// when no lower layer has it and modified when one does, a 0:0 character device is a
/// deleted file, and an opaque directory hides what the lower layers had in it.
public enum OverlayChanges {
    public enum Kind: Int, Sendable { case modified = 0, added = 1, deleted = 2 }

    public struct Change: Equatable, Sendable {
        public var path: String
        public var kind: Kind

        public init(_ path: String, _ kind: Kind) {
            self.path = path
            self.kind = kind
        }
    }

    /// What dockerd's init layer holds: files the daemon makes in every container for its
    /// mounts. Berth makes them in the writable layer instead, so they are not changes.
    public static let daemonMadePaths: Set<String> = [
        "/.dockerenv", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc/mtab",
        "/dev", "/dev/console", "/dev/pts", "/dev/shm", "/proc", "/sys",
    ]

    /// The changes in `upper` over `lowers` (topmost first), parents before their children,
    /// names in byte order (dockerd's order is that of a Go map: any order is as faithful).
    public static func changes(upper: String, lowers: [String], ignoring ignored: Set<String> = daemonMadePaths) throws -> [Change] {
        let fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError.internalError("open \(upper): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var changes: [Change] = []
        try walk(dirFD: fd, path: "", lowers: lowers, replacesLower: false, ignored: ignored, into: &changes)
        return changes
    }

    /// The entries of `upper` a committed layer holds: each change with the directories above
    /// it, every file the container wrote (a copy-up the diff does not list, as dockerd's
    /// layer tar has it too), and everything inside an opaque directory: that one hides all
    /// the lower layers had in it, so an entry equal to its lower copy is needed as well.
    public static func layerPaths(upper: String, lowers: [String], ignoring ignored: Set<String> = daemonMadePaths) throws -> Set<String> {
        var paths = Set<String>()
        for change in try changes(upper: upper, lowers: lowers, ignoring: ignored) { insert(change.path, withParentsInto: &paths) }
        let fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError.internalError("open \(upper): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try addWrittenEntries(dirFD: fd, path: "", lowers: lowers, insideOpaque: false, ignored: ignored, into: &paths)
        return paths
    }

    private static func insert(_ path: String, withParentsInto paths: inout Set<String>) {
        var path = Substring(path)
        while !path.isEmpty, paths.insert(String(path)).inserted {
            path = path[..<(path.lastIndex(of: "/") ?? path.startIndex)]
        }
    }

    private static func addWrittenEntries(dirFD: Int32, path: String, lowers: [String], insideOpaque: Bool,
                                          ignored: Set<String>, into paths: inout Set<String>) throws {
        for name in try TreeArchiver.names(in: dirFD) {
            let childPath = path + "/" + name
            if ignored.contains(childPath) && lowerStat(childPath, lowers: lowers) == nil { continue }
            var info = stat()
            guard fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                insert(childPath, withParentsInto: &paths)
                continue
            }
            let childFD = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard childFD >= 0 else { continue }
            defer { close(childFD) }
            let opaque = insideOpaque || isOpaque(childFD)
            if opaque { insert(childPath, withParentsInto: &paths) }
            try addWrittenEntries(dirFD: childFD, path: childPath, lowers: lowers, insideOpaque: opaque, ignored: ignored, into: &paths)
        }
    }

    /// Appends the changes below the directory `path` (upper side open at `dirFD`).
    /// `replacesLower`: an opaque directory here or above hid the lower directory, so what
    /// the lower one holds and the upper one does not is deleted.
    private static func walk(dirFD: Int32, path: String, lowers: [String], replacesLower: Bool,
                             ignored: Set<String>, into changes: inout [Change]) throws {
        let names = try TreeArchiver.names(in: dirFD)
        var present = Set<String>()
        for name in names {
            let childPath = path + "/" + name
            var info = stat()
            guard fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            let lower = lowerStat(childPath, lowers: lowers)
            if type == S_IFCHR && info.st_rdev == 0 {
                if lower != nil { changes.append(Change(childPath, .deleted)) }
                continue
            }
            present.insert(name)
            if lower == nil && ignored.contains(childPath) { continue }
            let entryIndex = changes.count
            if let lower {
                // A copy-up that changed nothing (chown to the same owner, an atime) is no change.
                if statDiffers(lower, info) { changes.append(Change(childPath, .modified)) }
            } else {
                changes.append(Change(childPath, .added))
            }
            guard type == S_IFDIR else { continue }
            let childFD = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard childFD >= 0 else { continue }
            defer { close(childFD) }
            var below: [Change] = []
            try walk(dirFD: childFD, path: childPath, lowers: lowers, replacesLower: replacesLower || isOpaque(childFD),
                     ignored: ignored, into: &below)
            // A directory with changes inside is itself listed as modified, before them.
            if !below.isEmpty && changes.count == entryIndex { changes.append(Change(childPath, .modified)) }
            changes += below
        }
        if replacesLower {
            var gone: [Change] = []
            for name in lowerNames(path, lowers: lowers) where !present.contains(name) {
                gone.append(Change(path + "/" + name, .deleted))
            }
            if !gone.isEmpty {
                changes += gone
                changes.sort { walkOrder($0.path, $1.path) }
            }
        }
    }

    /// The order of a walk with names sorted by bytes: component by component, parents first.
    static func walkOrder(_ a: String, _ b: String) -> Bool {
        a.split(separator: "/").map { Array($0.utf8) }.lexicographicallyPrecedes(b.split(separator: "/").map { Array($0.utf8) }) {
            $0.lexicographicallyPrecedes($1)
        }
    }

    /// dockerd's test for "changed" (it ignores size and mtime of directories).
    static func statDiffers(_ old: stat, _ new: stat) -> Bool {
        if old.st_mode != new.st_mode || old.st_uid != new.st_uid || old.st_gid != new.st_gid || old.st_rdev != new.st_rdev {
            return true
        }
        if (new.st_mode & S_IFMT) == S_IFDIR { return false }
        return old.st_size != new.st_size || old.st_mtim.tv_sec != new.st_mtim.tv_sec || old.st_mtim.tv_nsec != new.st_mtim.tv_nsec
    }

    /// The stat of `path` as the lower layers together show it: the topmost layer that has it
    /// wins, unless a layer above deleted it (whiteout) or hid its directory (opaque).
    static func lowerStat(_ path: String, lowers: [String]) -> stat? {
        let components = path.split(separator: "/").map(String.init)
        for layer in lowers {
            var info = stat()
            if lstat(layer + path, &info) == 0 {
                return (info.st_mode & S_IFMT) == S_IFCHR && info.st_rdev == 0 ? nil : info
            }
            // Hidden below this layer when a parent is a whiteout, opaque or not a directory here.
            var prefix = layer
            for component in components.dropLast() {
                prefix += "/" + component
                var parent = stat()
                guard lstat(prefix, &parent) == 0 else { break }
                if (parent.st_mode & S_IFMT) != S_IFDIR || hasOpaqueMark(prefix) { return nil }
            }
        }
        return nil
    }

    /// The names the merged lower layers show in the directory `path`.
    static func lowerNames(_ path: String, lowers: [String]) -> [String] {
        var seen = Set<String>()
        for layer in lowers {
            let fd = open(layer + path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            for name in (try? TreeArchiver.names(in: fd)) ?? [] { seen.insert(name) }
            if isOpaque(fd) { break }
        }
        return seen.filter { lowerStat(path + "/" + $0, lowers: lowers) != nil }.sorted()
    }

    static func isOpaque(_ fd: Int32) -> Bool {
        var value: [CChar] = [0, 0]
        return fgetxattr(fd, "trusted.overlay.opaque", &value, 2) == 1 && value[0] == CChar(UInt8(ascii: "y"))
    }

    static func hasOpaqueMark(_ path: String) -> Bool {
        var value: [CChar] = [0, 0]
        return lgetxattr(path, "trusted.overlay.opaque", &value, 2) == 1 && value[0] == CChar(UInt8(ascii: "y"))
    }
}
