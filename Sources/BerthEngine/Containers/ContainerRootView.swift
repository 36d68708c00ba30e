import BerthOCI
import BerthStore
import CSystemShims
import FoundationEssentials
import Glibc

/// A container's file system as dockerd's `docker cp` sees it: the root file system (the
/// overlay) with the container's volumes, binds and generated /etc files (resolv.conf,
/// hostname, hosts) on it, and nothing else: not /proc, /sys or /dev's contents, nor a
/// `--tmpfs` (dockerd's openContainerFS mounts only these, running or not; a file written
/// under a tmpfs path lands in the layer beneath it).
///
/// Design: berthd never enters a container's namespaces (it is multi-threaded). For a
/// running (or paused) container, the overlay berthd mounted for it is bound (alone, not its
/// submounts) on a directory of its own under `<exec-root>/copies`, made private, and the
/// binds are mounted on that; the last step of the copy detaches the lot. For a stopped
/// container its overlay is mounted where start mounts it, with its binds, and unmounted
/// when the last copy ends (concurrent copies share the mount); while it is held the
/// container is marked busy, so a start or a removal waits or refuses instead of racing it.
/// Either way paths are resolved only through ScopedRoot (openat2 RESOLVE_IN_ROOT), so a
/// symlink in the container cannot reach the host.
public final class ContainerRootView: @unchecked Sendable {
    public let root: ScopedRoot
    /// The path `root` was opened from (for readers that take paths, like the passwd lookup).
    let path: String
    private var release: (@Sendable () -> Void)?
    private let lock = Lock()

    init(root: ScopedRoot, path: String, release: (@Sendable () -> Void)?) {
        self.root = root
        self.path = path
        self.release = release
    }

    deinit { close() }

    /// Gives the view back (unmounts a stopped container's root); later calls do nothing.
    public func close() {
        let release = lock.withLock {
            defer { self.release = nil }
            return self.release
        }
        release?()
    }
}

/// A stopped container's root mounted for copies: mounted once, shared by the copies at
/// work, unmounted by the last one.
struct StoppedRootShare {
    let mounted: Task<String, Error>
    var users: Int
}

extension ContainerService {
    /// Opens the container's file system (see ContainerRootView); `close()` it when done.
    /// Without `withMounts` it is the bare overlay root (`docker export`), which a running
    /// container has mounted in berthd's own namespace.
    func rootView(_ id: String, withMounts: Bool) async throws -> ContainerRootView {
        // A start (or an export) at work owns the container's root: wait for it, as with dockerd.
        await awaitStartInProgress(id)
        // The clean-up of an exit just past unmounts the root: it ends before a copy mounts it.
        if entries[id]?.record.State.Running == false, let cleanup = entries[id]?.cleanup { await cleanup.value }
        guard let record = entries[id]?.record else { throw BerthError.notFound("No such container: \(id)") }
        if record.State.Running && !withMounts {
            let path = ContainerRoot.mountPoint(id, snapshotter: images.snapshotter)
            do {
                return ContainerRootView(root: try ScopedRoot(path: path), path: path, release: nil)
            } catch {
                throw BerthError.internalError("cannot reach the root of container \(id): \(error)")
            }
        }
        if record.State.Running {
            let merged = ContainerRoot.mountPoint(id, snapshotter: images.snapshotter)
            let view = CopyView(directory: paths.execRoot + "/copies", container: id)
            // Its image mounts are stacked while it runs: they are seen as in the container.
            let (hostConfig, volumes) = (entries[id]!.hostConfig, Self.storedBinds(record, store: self.volumes)
                + ImageMounts.stackedBinds(record.ImageMounts, of: id, snapshotter: images.snapshotter))
            try await blocking {
                try view.mount(overlay: merged) { path, root in
                    try Self.mountBinds(record: record, hostConfig: hostConfig, volumes: volumes, merged: path, root: root)
                }
            }
            do {
                return ContainerRootView(root: try ScopedRoot(path: view.path), path: view.path, release: { view.unmount() })
            } catch {
                view.unmount()
                throw BerthError.internalError("cannot reach the file system of container \(id): \(error)")
            }
        }
        // Stopped: copies share one mount of the root (with its binds); an export needs the
        // bare root and has it to itself.
        if withMounts, let share = stoppedRoots[id] {
            stoppedRoots[id]!.users += 1
            return try await sharedView(id, mounted: share.mounted)
        }
        if entries[id]!.busy { throw BerthError.conflict("container \(id) is busy: another operation is in progress") }
        entries[id]!.busy = true
        let images = self.images
        let hostConfig = entries[id]!.hostConfig
        let volumes = self.volumes
        let mount: @Sendable () throws -> String = {
            guard let parent = try images.topLayer(record.Image) else {
                throw BerthError.internalError("the image of container \(id) has no layers")
            }
            let path = try ContainerRoot.mount(id, parent: parent, snapshotter: images.snapshotter)
            // dockerd makes its init layer at create: a container never started has it too.
            InitLayerFiles.make(inRoot: path)
            do {
                if withMounts {
                    try Self.mountBinds(record: record, hostConfig: hostConfig, volumes: Self.storedBinds(record, store: volumes),
                                        merged: path, root: try ScopedRoot(path: path))
                }
                return path
            } catch {
                ContainerRoot.unmount(id, snapshotter: images.snapshotter)
                throw BerthError.internalError("cannot open the root of container \(id): \(error)")
            }
        }
        if withMounts {
            let mounted = Task { try await blocking(mount) }
            stoppedRoots[id] = StoppedRootShare(mounted: mounted, users: 1)
            return try await sharedView(id, mounted: mounted)
        }
        do {
            let path = try await blocking(mount)
            return ContainerRootView(root: try ScopedRoot(path: path), path: path, release: { [weak self] in
                Task { await self?.releaseStoppedRoot(id) }
            })
        } catch {
            releaseStoppedRoot(id)
            throw error
        }
    }

    /// A view on the shared mount of a stopped container's root, once it is mounted.
    private func sharedView(_ id: String, mounted: Task<String, Error>) async throws -> ContainerRootView {
        do {
            let path = try await mounted.value
            return ContainerRootView(root: try ScopedRoot(path: path), path: path, release: { [weak self] in
                Task { await self?.leaveStoppedRoot(id) }
            })
        } catch {
            leaveStoppedRoot(id)
            throw error
        }
    }

    /// The last copy out of a stopped container's root unmounts it.
    private func leaveStoppedRoot(_ id: String) {
        guard var share = stoppedRoots[id] else { return }
        share.users -= 1
        if share.users > 0 {
            stoppedRoots[id] = share
            return
        }
        stoppedRoots[id] = nil
        releaseStoppedRoot(id)
    }

    /// A stopped container's binds and generated /etc files, mounted on its root as its
    /// start would (dockerd mounts a stopped container's volumes for `docker cp` too). The
    /// root is made private first so that none of this propagates to other namespaces; the
    /// targets are resolved inside the root and mounted through their descriptors.
    static func mountBinds(record: ContainerRecord, hostConfig: HostConfig, volumes: [Spec.Mount] = [], merged: String,
                           root: ScopedRoot) throws {
        let generated = [("/etc/resolv.conf", record.ResolvConfPath), ("/etc/hostname", record.HostnamePath),
                         ("/etc/hosts", record.HostsPath)].filter { !$0.1.isEmpty && access($0.1, F_OK) == 0 }
        let mounts = try ContainerMounts.userMounts(hostConfig: hostConfig, networkFiles: generated.map { ($0.0, $0.1) },
                                                    volumes: volumes, pathExists: { access($0, F_OK) == 0 }).mounts
        let binds = mounts.filter { $0.type == "bind" && access($0.source ?? "", F_OK) == 0 }
        guard !binds.isEmpty else { return }
        guard berth_mount(nil, merged, nil, UInt(MS_PRIVATE), nil) == 0 else {
            throw BerthError.internalError("make \(merged) private: \(String(cString: strerror(errno)))")
        }
        for bind in binds {
            // As dockerd: a missing mount point is made in the container's layer (start would make it too).
            var source = stat()
            guard stat(bind.source ?? "", &source) == 0 else { continue }
            _ = try? root.makePath(bind.destination, directory: (source.st_mode & S_IFMT) == S_IFDIR)
            guard let target = try? root.open(bind.destination, flags: O_PATH_) else { continue }
            let options = bind.options ?? []
            var flags = UInt(MS_BIND)
            if options.contains("rbind") { flags |= UInt(MS_REC) }
            let result = berth_mount(bind.source, "/proc/self/fd/\(target)", nil, flags, nil)
            close(target)
            guard result == 0 else {
                throw BerthError.internalError("mount \(bind.source ?? "") on \(bind.destination): \(String(cString: strerror(errno)))")
            }
            // The new mount is what the destination names now.
            guard let mounted = try? root.open(bind.destination, flags: O_PATH_) else { continue }
            defer { close(mounted) }
            _ = berth_mount(nil, "/proc/self/fd/\(mounted)", nil, UInt(MS_PRIVATE) | UInt(MS_REC), nil)
            if options.contains("ro") || options.contains("rro") {
                _ = berth_mount(nil, "/proc/self/fd/\(mounted)", nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY), nil)
            }
        }
    }

    private func releaseStoppedRoot(_ id: String) {
        // Started meanwhile (it cannot while busy, but a restart supervisor might): keep its root.
        if entries[id]?.record.State.Running != true { ContainerRoot.unmount(id, snapshotter: images.snapshotter) }
        entries[id]?.busy = false
    }
}
