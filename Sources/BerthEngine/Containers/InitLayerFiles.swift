import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// What dockerd's init layer puts in every container's root when the image lacks it: mount
/// points for what the daemon mounts (so `docker cp` and `docker export` list them as dockerd
/// does: /dev/console, /dev/pts, /dev/shm, the generated /etc files as empty 0755 files),
/// /.dockerenv, and /etc/mtab as a link to /proc/mounts (which `mount` and `df` read).
/// Berth makes them in the container's writable layer; `docker diff` and `commit` leave them
/// out (OverlayChanges.daemonMadePaths), as dockerd's diff of the layer above its init layer does.
enum InitLayerFiles {
    static let directories = ["/dev/pts", "/dev/shm", "/proc", "/sys"]
    static let files = ["/.dockerenv", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/dev/console"]
    static let links = [("/etc/mtab", "/proc/mounts")]

    /// Makes what is missing, each path resolved inside `rootfs`; what the image has is kept
    /// (a device or a link is never opened). Best effort, as an image may have a file where
    /// one of these directories goes.
    static func make(inRoot rootfs: String) {
        guard let root = try? ScopedRoot(path: rootfs) else { return }
        func missing(_ path: String) -> Bool {
            do { _ = try root.lstat(path); return false } catch { return error.errno == ENOENT }
        }
        for directory in directories where missing(directory) { _ = try? root.makePath(directory, directory: true) }
        for file in files where missing(file) { _ = try? root.makePath(file, directory: false) }
        for (path, target) in links where missing(path) {
            _ = try? root.makePath(String(path[..<path.lastIndex(of: "/")!]), directory: true)
            guard let (dirFD, name) = try? root.parent(of: path) else { continue }
            _ = symlinkat(target, dirFD, name)
            close(dirFD)
        }
    }

    /// The bytes of these files in a container's layer (`diff`), which dockerd's size of the
    /// container's layer leaves out (they are in its init layer): the links, as they were made.
    static func sizeInLayer(_ diff: String) -> Int64 {
        // Read inside the layer: a link the container made on the way must not lead to the host.
        guard let layer = try? ScopedRoot(path: diff) else { return 0 }
        var total: Int64 = 0
        for (path, target) in links where layer.readLink(path) == target {
            total += Int64(target.utf8.count)
        }
        return total
    }
}
