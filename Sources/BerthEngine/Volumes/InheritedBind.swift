import BerthOCI

/// A bind mount a container takes from another with `--volumes-from`, recorded in its
/// config.v2.json at create (dockerd copies the other container's mount points; the binds
/// do not appear in the new container's HostConfig.Binds).
public struct InheritedBind: Codable, Sendable, Equatable {
    public var Source: String
    public var Destination: String
    public var RW: Bool
    public var Propagation: String
    /// `--mount type=bind,bind-nonrecursive` in the first container.
    public var NonRecursive: Bool?

    public init(Source: String, Destination: String, RW: Bool, Propagation: String, NonRecursive: Bool? = nil) {
        self.Source = Source
        self.Destination = Destination
        self.RW = RW
        self.Propagation = Propagation
        self.NonRecursive = NonRecursive
    }

    /// The binds of a container, as `--volumes-from` takes them: its `-v` and `--mount` binds
    /// and those it took itself, read-only where they are or where `mode` is "ro" ("rw" does
    /// not make a read-only one writable, as in dockerd). Binds of the daemon's root keep the
    /// propagation they are made with (DaemonRootBinds).
    static func binds(of hostConfig: HostConfig, inherited: [InheritedBind]?, mode: String, daemonRoot: String) -> [InheritedBind] {
        var binds: [InheritedBind] = []
        for raw in hostConfig.Binds ?? [] {
            guard let bind = try? BindSpec.parse(raw), !bind.isVolume else { continue }
            let propagation = (try? DaemonRootBinds.mountPropagation(source: bind.source, given: bind.givenPropagation,
                                                                     daemonRoot: daemonRoot)) ?? bind.propagation
            binds.append(.init(Source: bind.source, Destination: bind.destination, RW: !bind.readOnly, Propagation: propagation))
        }
        for mount in hostConfig.Mounts ?? [] where mount.Type == "bind" {
            let source = MountValidation.clean(mount.Source ?? "")
            let propagation = (try? DaemonRootBinds.mountPropagation(source: source, given: mount.BindOptions?.Propagation,
                                                                     daemonRoot: daemonRoot)) ?? mount.bindPropagation
            binds.append(.init(Source: source, Destination: MountValidation.clean(mount.Target ?? ""),
                               RW: mount.ReadOnly != true, Propagation: propagation,
                               NonRecursive: mount.BindOptions?.NonRecursive == true ? true : nil))
        }
        binds += inherited ?? []
        return binds.map { bind in
            var bind = bind
            bind.RW = bind.RW && mode != "ro"
            return bind
        }
    }

    /// Those of `binds` the new container's own mounts and its inherited volumes leave free
    /// (they win at the same destination); the first at each destination.
    static func unclaimed(_ binds: [InheritedBind], by hostConfig: HostConfig, volumes: [VolumeMountPoint]) -> [InheritedBind] {
        var taken = PlannedVolume.ownDestinations(hostConfig).union(volumes.map(\.target))
        return binds.filter { taken.insert($0.Destination).inserted }
    }

    var specMount: Spec.Mount {
        ContainerMounts.bindMount(source: Source, destination: Destination, readOnly: !RW, propagation: Propagation,
                                  recursive: NonRecursive != true)
    }
}
