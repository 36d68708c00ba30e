import BerthOCI
import FoundationEssentials
import Glibc

/// The container service's side of volumes: made at create, held while the container
/// exists, mounted (and filled from the image) at start, let go at removal.
extension ContainerService {
    /// Creates (or finds) the volumes of a new container and records it as their user.
    /// `inherited`: what `--volumes-from` gives it (see `volumesFrom`).
    func makeVolumes(for id: String, hostConfig: HostConfig, configVolumes: [String: EmptyObject]?,
                     inherited: Inherited) async throws -> [VolumeMountPoint] {
        let planned = try PlannedVolume.plan(hostConfig: hostConfig, configVolumes: configVolumes,
                                             inherited: inherited.volumes, inheritedBinds: inherited.binds)
        if planned.isEmpty { return [] }
        let volumes = self.volumes
        let paths = self.paths
        return try await blocking {
            // The new anonymous ones are named here and noted in the container's directory
            // before they are made (see AnonymousVolumeNote).
            var planned = planned
            let fresh = planned.indices.filter { planned[$0].mount.Anonymous && planned[$0].mount.Name.isEmpty }
            for index in fresh { planned[index].mount.Name = ContainerIdentity.newID() }
            if !fresh.isEmpty { try AnonymousVolumeNote.write(fresh.map { planned[$0].mount.Name }, for: id, paths: paths) }
            var made: [VolumeMountPoint] = []
            do {
                for var volume in planned {
                    var labels = volume.labels ?? [:]
                    if volume.mount.Anonymous { labels[VolumeRecord.anonymousLabel] = "" }
                    let record = try volumes.create(name: volume.mount.Name, labels: labels, driverOptions: volume.driverOptions, user: id)
                    volume.mount.Name = record.Name
                    made.append(volume.mount)
                }
            } catch {
                Self.dropVolumes(made, of: id, removeAnonymous: true, store: volumes)
                if !fresh.isEmpty { try? FileManager.default.removeItem(atPath: paths.directory(id)) }
                throw error
            }
            return made
        }
    }

    /// The mounts a container takes from others with `--volumes-from`.
    struct Inherited {
        var volumes: [VolumeMountPoint] = []
        var binds: [InheritedBind] = []
    }

    /// `--volumes-from name[:ro|:rw]`: the volumes and binds of those containers, read-only
    /// where they are there or with "ro" (dockerd shows them with an empty Mode).
    func volumesFrom(_ sources: [String]) throws -> Inherited {
        var inherited = Inherited()
        for source in sources {
            let spec = try VolumesFromSpec.parse(source)
            let id: String
            do { id = try resolve(spec.container) } catch { throw BerthError.invalidArgument("No such container: \(spec.container)") }
            let entry = entries[id]!
            let mode = spec.readOnly ? "ro" : ""
            for var mount in entry.record.VolumeMounts ?? [] {
                mount.RW = mount.RW && !spec.readOnly
                mount.Mode = ""
                mount.CopyData = false
                inherited.volumes.append(mount)
            }
            inherited.binds += InheritedBind.binds(of: entry.hostConfig, inherited: entry.record.InheritedBinds, mode: mode,
                                                daemonRoot: paths.dataRoot)
        }
        return inherited
    }

    /// The container no longer holds its volumes; with `removeAnonymous` (`rm -v`, `--rm`)
    /// its anonymous ones go too, unless another container uses them.
    nonisolated static func dropVolumes(_ mounts: [VolumeMountPoint], of id: String, removeAnonymous: Bool, store: VolumeStore) {
        store.release(mounts.map(\.Name), by: id)
        guard removeAnonymous else { return }
        for mount in mounts where mount.Anonymous {
            try? store.remove(mount.Name, force: true)
        }
    }

    /// The bind mounts of a container's volumes for its spec; an empty volume first gets the
    /// image's content at its destination (dockerd's copy-up). A subpath is pinned beside
    /// `rootfs` (`<container>/subpath-<n>`) and taken down with it.
    nonisolated static func volumeSpecMounts(_ mounts: [VolumeMountPoint], of id: String, store: VolumeStore,
                                             rootfs: String) throws -> [Spec.Mount] {
        do {
            for mount in mounts { try store.mount(mount.Name, by: id) }
        } catch {
            for mount in mounts { store.unmount(mount.Name, by: id) }
            throw error
        }
        var sources: [String] = []
        do {
            // A subpath must still be inside its volume (its content may have changed since
            // create); what was checked is pinned beside the root and given to the runtime.
            sources = try mounts.enumerated().map { index, mount in
                guard let subpath = mount.Subpath, !subpath.isEmpty else { return store.mountpoint(mount.Name) }
                return try VolumeSubpath.pin(base: store.mountpoint(mount.Name), subpath: subpath,
                                             at: String(rootfs[..<(rootfs.lastIndex(of: "/") ?? rootfs.endIndex)]) + "/subpath-\(index)")
            }
            for (mount, source) in zip(mounts, sources) where mount.CopyData {
                var info = stat()
                // An image directory fills a directory, as dockerd's copy-up (a file subpath is left alone).
                guard stat(source, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
                try VolumeCopyUp.fill(volume: source, from: ScopedPath.resolve(mount.target, inRoot: rootfs))
            }
        } catch {
            for mount in mounts { store.unmount(mount.Name, by: id) }
            throw error
        }
        return zip(mounts, sources).map { mount, source in
            ContainerMounts.bindMount(source: source, destination: mount.target, readOnly: !mount.RW,
                                      propagation: "rprivate", recursive: true)
        }
    }

    /// Where a volume mount comes from on the host: the volume's data, or the part of it its
    /// subpath names.
    nonisolated static func source(of mount: VolumeMountPoint, store: VolumeStore) throws -> String {
        guard let subpath = mount.Subpath, !subpath.isEmpty else { return store.mountpoint(mount.Name) }
        return try VolumeSubpath.resolve(base: store.mountpoint(mount.Name), subpath: subpath)
    }

    /// The bind mounts of a container's volumes, as they are (`docker cp` on a stopped container).
    nonisolated static func volumeBinds(_ mounts: [VolumeMountPoint]?, store: VolumeStore) -> [Spec.Mount] {
        (mounts ?? []).compactMap { mount in
            // A subpath that is gone or leads out of its volume is not shown at all.
            guard let source = try? source(of: mount, store: store) else { return nil }
            return ContainerMounts.bindMount(source: source, destination: mount.target, readOnly: !mount.RW,
                                             propagation: "rprivate", recursive: true)
        }
    }

    /// The bind mounts of a container's volumes and of the binds it took with `--volumes-from`,
    /// as they are (`docker cp` on a stopped container).
    nonisolated static func storedBinds(_ record: ContainerRecord, store: VolumeStore) -> [Spec.Mount] {
        volumeBinds(record.VolumeMounts, store: store) + (record.InheritedBinds ?? []).map(\.specMount)
    }

    /// The container lets go of the volumes it mounted (its run ended, or its start failed).
    func releaseVolumeMounts(_ id: String) {
        for mount in entries[id]?.record.VolumeMounts ?? [] { volumes.unmount(mount.Name, by: id) }
    }

    /// At daemon start: the volume mounts of the containers still running stay, others go.
    func reconcileVolumeMounts() {
        var running: [String: Set<String>] = [:]
        for entry in entries.values where entry.record.State.Running {
            for mount in entry.record.VolumeMounts ?? [] { running[mount.Name, default: []].insert(entry.record.ID) }
        }
        volumes.reconcileMounts(running: running)
    }

    /// dockerd's volume `mount` events as a container starts and `unmount` events as it ends.
    func emitVolumeEvents(_ id: String, mounted: Bool) {
        Self.publishVolumeEvents(events, container: id, mounts: entries[id]?.record.VolumeMounts ?? [], mounted: mounted)
    }

    /// The same, for those who hold the mounts and are not on the actor (the end of a copy's stream).
    nonisolated static func publishVolumeEvents(_ events: EventBus, container id: String, mounts: [VolumeMountPoint], mounted: Bool) {
        for mount in mounts {
            let attributes = mounted
                ? ["container": id, "destination": mount.Destination, "driver": "local", "propagation": "",
                   "read/write": String(mount.RW)]
                : ["container": id, "driver": "local"]
            events.publish(.volume, mounted ? "mount" : "unmount", actor: mount.Name, attributes: attributes)
        }
    }
}
