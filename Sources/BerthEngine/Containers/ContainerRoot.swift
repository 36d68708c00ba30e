import BerthOCI
import BerthRuntime
import BerthStore
import CSystemShims
import FoundationEssentials
import Glibc

/// A container's root filesystem (the overlay made from its image) and what the runtime
/// leaves of it after the process exits.
enum ContainerRoot {
    static func mountPoint(_ id: String, snapshotter: Snapshotter) -> String {
        snapshotter.root + "/" + id + "/merged"
    }

    /// Mounts the overlay at `<overlay>/<id>/merged` (after clearing a stale mount).
    static func mount(_ id: String, parent: String, snapshotter: Snapshotter) throws -> String {
        let target = mountPoint(id, snapshotter: snapshotter)
        detach(target)
        let spec = try snapshotter.mount(key: id, parent: parent)
        let options = spec.options ?? []
        func value(_ key: String) -> String? {
            options.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        let lowers = (value("lowerdir") ?? "").split(separator: ":").map(String.init)
        let result = withCStrings(lowers) { pointers in
            pointers.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: lowers.count + 1) { lowerArray in
                berth_mount_overlay(target, lowerArray, Int32(lowers.count), value("upperdir"), value("workdir"))
            }
        }
        if result != 0 {
            // Kernels before 6.8 take the layers only in one option string.
            let data = options.joined(separator: ",")
            guard berth_mount("overlay", target, "overlay", 0, data) == 0 else {
                throw BerthError.internalError("cannot mount the container's root at \(target): \(String(cString: strerror(errno)))")
            }
        }
        return target
    }

    /// The root, the images it mounts and, with `--ipc shareable`, the container's /dev/shm.
    static func unmount(_ id: String, snapshotter: Snapshotter) {
        ImageMounts.unmount(id, snapshotter: snapshotter)
        detach(mountPoint(id, snapshotter: snapshotter))
        detach(shmMountPoint(id, snapshotter: snapshotter))
    }

    private static func detach(_ target: String) {
        while berth_umount2(target, Int32(MNT_DETACH)) == 0 {}
    }

    /// Where a shareable container's /dev/shm lives on the host, beside its root.
    static func shmMountPoint(_ id: String, snapshotter: Snapshotter) -> String {
        snapshotter.root + "/" + id + "/shm"
    }

    /// The tmpfs of a shareable container's /dev/shm, which `--ipc container:<it>` containers
    /// bind too (dockerd mounts it the same way, with the container's shm size).
    static func mountShm(_ id: String, size: Int64, snapshotter: Snapshotter) throws -> String {
        let target = shmMountPoint(id, snapshotter: snapshotter)
        detach(target)
        if mkdir(target, 0o700) != 0 && errno != EEXIST {
            throw BerthError.internalError("mkdir \(target): \(String(cString: strerror(errno)))")
        }
        let flags = UInt(MS_NOEXEC) | UInt(MS_NOSUID) | UInt(MS_NODEV)
        guard berth_mount("shm", target, "tmpfs", flags, "mode=1777,size=\(size)") == 0 else {
            throw BerthError.internalError("mounting shm tmpfs: \(String(cString: strerror(errno)))")
        }
        return target
    }

    /// Whether the kernel's OOM killer killed a process of the container (read before the
    /// runtime removes the cgroup). `cgroupsPath`: the spec's linux.cgroupsPath of the run, when
    /// this daemon started it; the cgroup is then found without reading the runtime's state
    /// file (a JSON decode of the whole config, on the way from the exit to `run --rm`'s end).
    static func oomKilled(_ id: String, cgroupsPath: String?, runtimeRoot: String) -> Bool {
        let cgroup: CgroupManager?
        if let cgroupsPath {
            cgroup = try? makeCgroupManager(cgroupsPath: cgroupsPath, containerID: id)
        } else {
            cgroup = (try? ContainerStore(root: runtimeRoot).load(id)).flatMap { try? openCgroupManager(paths: $0.cgroupPaths) }
        }
        return (cgroup?.oomKillCount() ?? 0) > 0
    }

    /// The runtime's record and cgroup of an exited container.
    static func deleteRuntimeContainer(_ id: String, runtimeRoot: String) {
        guard let runtime = try? Runtime(root: runtimeRoot), runtime.store.exists(id) else { return }
        try? runtime.delete(id: id, force: true)
    }

    /// What a start cut short (berthd, the shim or the runtime killed mid-way) can leave of
    /// the runtime's container: its record, with a created init waiting for `start`, and its
    /// cgroup, which the runtime makes before it records the container. Without this the next
    /// create of the ID fails ("already exists") and the cgroup stays. Cheap when there is
    /// nothing: the runtime's directory is made first, so without it there is nothing else.
    static func deleteRuntimeLeftovers(_ id: String, cgroupsPath: String?, runtimeRoot: String) {
        guard let runtime = try? Runtime(root: runtimeRoot), runtime.store.exists(id) else { return }
        try? runtime.delete(id: id, force: true)
        // A runtime killed before it saved its state: the cgroup is unrecorded, found by path.
        // (Some of its controllers' directories may be missing: a create cut short.)
        guard let cgroupsPath, let cgroup = try? makeCgroupManager(cgroupsPath: cgroupsPath, containerID: id) else { return }
        if let processes = try? cgroup.processes(), !processes.isEmpty {
            try? cgroup.killAll(signal: SIGKILL)
            var waited = 0
            while waited < 400, let left = try? cgroup.processes(), !left.isEmpty {
                usleep(5000)
                waited += 1
            }
        }
        try? cgroup.destroy()
    }

    /// The bytes written in the container's own layer (`docker ps -s`, prune's reclaimed space),
    /// without what dockerd keeps in its init layer.
    static func writableSize(_ id: String, snapshotter: Snapshotter) -> Int64 {
        let diff = snapshotter.root + "/" + id + "/diff"
        return directorySize(diff) - InitLayerFiles.sizeInLayer(diff)
    }

    /// As dockerd counts a layer: every file but directories (a symlink by its target's
    /// length), each inode once.
    static func directorySize(_ path: String) -> Int64 {
        var total: Int64 = 0
        var seen = Set<UInt64>()
        for name in (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? [] {
            var info = stat()
            guard lstat(path + "/" + name, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR, info.st_size > 0,
                  seen.insert(UInt64(info.st_ino)).inserted else { continue }
            total += Int64(info.st_size)
        }
        return total
    }
}
