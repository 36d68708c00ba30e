import BerthOCI
import BerthStore
import CSystemShims
import FoundationEssentials
import Glibc

/// A running container's root file system as `docker cp` sees it (see ContainerRootView),
/// on a directory of its own: `<exec-root>/copies/<id>-<random>`.
///
/// The overlay berthd mounted for the container is bound there without its submounts and
/// made private first, so that nothing mounted on the view propagates anywhere (nor reaches
/// the container, whose own mounts live in its namespace). Unmounting detaches the whole tree
/// at once and removes the directory, which is never removed recursively: a bind still on it
/// must not have its files deleted.
struct CopyView: Sendable {
    let path: String

    init(directory: String, container id: String) {
        path = directory + "/" + id + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Binds the overlay at `overlay` here, then lets `mountOn` add the container's binds.
    func mount(overlay: String, mountOn: (String, ScopedRoot) throws -> Void) throws {
        // The overlay is the container's only while it is mounted: a stopped container's
        // empty mount point must not be copied from.
        var mounted = stat(), parent = stat()
        guard stat(overlay, &mounted) == 0, stat(overlay + "/..", &parent) == 0, mounted.st_dev != parent.st_dev else {
            throw BerthError.conflict("the root file system of the container is not mounted")
        }
        let directory = String(path[..<path.lastIndex(of: "/")!])
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST, mkdir(path, 0o700) == 0 else {
            throw BerthError.internalError("make \(path): \(String(cString: strerror(errno)))")
        }
        guard berth_mount(overlay, path, nil, UInt(MS_BIND), nil) == 0 else {
            let code = errno
            rmdir(path)
            throw BerthError.internalError("bind the container's root on \(path): \(String(cString: strerror(code)))")
        }
        do {
            guard berth_mount(nil, path, nil, UInt(MS_PRIVATE), nil) == 0 else {
                throw BerthError.internalError("make \(path) private: \(String(cString: strerror(errno)))")
            }
            try mountOn(path, try ScopedRoot(path: path))
        } catch {
            unmount()
            throw error
        }
    }

    /// Detaches the view with everything mounted on it and removes its directory.
    func unmount() {
        while berth_umount2(path, Int32(MNT_DETACH)) == 0 {}
        rmdir(path)
    }

    /// Views a crash left behind: unmounted and removed, never deleted through.
    static func removeLeftovers(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let view = directory + "/" + name
            while berth_umount2(view, Int32(MNT_DETACH)) == 0 {}
            rmdir(view)
        }
    }
}
