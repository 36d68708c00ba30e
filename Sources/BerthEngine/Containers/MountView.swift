import BerthStore
/// One entry of `Mounts` in `docker inspect` and `docker ps`: a bind or a volume, as dockerd
/// shows its mount points (Name and Driver only for volumes).
public struct MountView: Encodable, Sendable, Equatable {
    public var `Type`: String
    public var Name: String?
    public var Source: String
    public var Destination: String
    public var Driver: String?
    public var Mode: String
    public var RW: Bool
    public var Propagation: String

    /// The container's volumes, then its `-v` and `--mount` binds and tmpfs mounts, then the
    /// binds it took with `--volumes-from`.
    static func all(record: ContainerRecord, hostConfig: HostConfig, volumes: VolumeStore, daemonRoot: String,
                    snapshotter: Snapshotter) -> [MountView] {
        var views = (record.VolumeMounts ?? []).map { mount in
            MountView(Type: "volume", Name: mount.Name, Source: volumes.mountpoint(mount.Name), Destination: mount.Destination,
                      Driver: "local", Mode: mount.Mode, RW: mount.RW, Propagation: "")
        }
        for raw in hostConfig.Binds ?? [] {
            guard let bind = try? BindSpec.parse(raw), !bind.isVolume else { continue }
            let propagation = (try? DaemonRootBinds.propagation(source: bind.source, given: bind.givenPropagation,
                                                                daemonRoot: daemonRoot)) ?? bind.propagation
            views.append(MountView(Type: "bind", Source: bind.source, Destination: bind.destination, Mode: bind.mode,
                                   RW: !bind.readOnly, Propagation: propagation))
        }
        for mount in hostConfig.Mounts ?? [] where mount.Type == "bind" {
            let source = MountValidation.clean(mount.Source ?? "")
            let propagation = (try? DaemonRootBinds.propagation(source: source, given: mount.BindOptions?.Propagation,
                                                                daemonRoot: daemonRoot)) ?? mount.bindPropagation
            views.append(MountView(Type: "bind", Source: source,
                                   Destination: MountValidation.clean(mount.Target ?? ""), Mode: "",
                                   RW: mount.ReadOnly != true, Propagation: propagation))
        }
        // `--mount type=tmpfs` is listed as dockerd lists it (`--tmpfs` is not).
        for mount in hostConfig.Mounts ?? [] where mount.Type == "tmpfs" {
            views.append(MountView(Type: "tmpfs", Source: "", Destination: MountValidation.clean(mount.Target ?? ""), Mode: "",
                                   RW: mount.ReadOnly != true, Propagation: ""))
        }
        // `--mount type=image`: the image as named, read-only, where its layers are stacked.
        for (index, mount) in (record.ImageMounts ?? []).enumerated() {
            views.append(MountView(Type: "image", Name: mount.Name,
                                   Source: ImageMounts.mountPoint(record.ID, index: index, snapshotter: snapshotter),
                                   Destination: mount.Destination, Mode: "", RW: false, Propagation: "rprivate"))
        }
        for bind in record.InheritedBinds ?? [] {
            views.append(MountView(Type: "bind", Source: bind.Source, Destination: bind.Destination, Mode: "",
                                   RW: bind.RW, Propagation: bind.Propagation))
        }
        return views
    }
}
