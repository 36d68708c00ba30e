import BerthOCI

/// A volume a container mounts, as recorded in its config.v2.json at create: which volume,
/// where, and how (dockerd's MountPoints entries of type volume).
public struct VolumeMountPoint: Codable, Sendable, Equatable {
    public var Name: String
    public var Destination: String
    public var RW: Bool
    /// What `docker inspect` shows as Mode: the `-v` mode text, "z" for a named `-v` without
    /// one and for `--mount`, "" for an anonymous `-v` or an image's VOLUME.
    public var Mode: String
    /// Fill an empty volume from the image at start (not with `nocopy`).
    public var CopyData: Bool
    /// Made for this container without a name; `rm -v` and `run --rm` remove it.
    public var Anonymous: Bool
    /// `volume-subpath`: the directory or file inside the volume that is mounted instead of
    /// all of it (VolumeOptions.Subpath; checked against the volume at each start).
    public var Subpath: String?

    /// Where it is mounted in the container (a relative Destination counts from the root).
    public var target: String { MountValidation.clean("/" + Destination) }

    public init(Name: String, Destination: String, RW: Bool, Mode: String, CopyData: Bool, Anonymous: Bool,
                Subpath: String? = nil) {
        self.Subpath = Subpath
        self.Name = Name
        self.Destination = Destination
        self.RW = RW
        self.Mode = Mode
        self.CopyData = CopyData
        self.Anonymous = Anonymous
    }
}

/// A container's volumes as its create request asks for them: `-v name:/dst[:mode]`,
/// `-v /dst`, `--mount type=volume,...` and the image's VOLUME entries not covered by
/// another mount. Anonymous ones have an empty name until the store makes them.
public struct PlannedVolume: Sendable, Equatable {
    public var mount: VolumeMountPoint
    public var labels: [String: String]?
    /// `volume-opt` of `--mount`: the local driver's type, device and o, for a new volume.
    public var driverOptions: [String: String]?

    /// `inherited`: the volumes of `--volumes-from` containers; the container's own mounts
    /// replace them at the same destination, and they replace the image's.
    public static func plan(hostConfig: HostConfig, configVolumes: [String: EmptyObject]?,
                            inherited: [VolumeMountPoint] = [], inheritedBinds: [InheritedBind] = []) throws -> [PlannedVolume] {
        var planned: [PlannedVolume] = []
        var taken = ownDestinations(hostConfig)
        // `--volume-driver`: the driver of the -v volumes and the image's; Berth has only local.
        let defaultDriver = hostConfig.VolumeDriver ?? ""
        func checkDefaultDriver() throws {
            guard !defaultDriver.isEmpty, defaultDriver != "local" else { return }
            throw BerthError.notFound("error looking up volume plugin \(defaultDriver): plugin \"\(defaultDriver)\" not found")
        }
        for raw in hostConfig.Binds ?? [] {
            let bind = try BindSpec.parse(raw)
            guard bind.isVolume else { continue }
            try checkDefaultDriver()
            let options = bind.mode.split(separator: ",").map(String.init)
            let anonymous = bind.source.isEmpty
            planned.append(.init(mount: .init(Name: bind.source, Destination: bind.destination, RW: !bind.readOnly,
                                              Mode: bind.mode.isEmpty && !anonymous ? "z" : bind.mode,
                                              CopyData: !options.contains("nocopy"), Anonymous: anonymous)))
        }
        for mount in hostConfig.Mounts ?? [] {
            let destination = MountValidation.clean(mount.Target ?? "")
            guard mount.Type == "volume" else { continue }
            if let driver = mount.VolumeOptions?.DriverConfig?.Name, !driver.isEmpty, driver != "local" {
                throw BerthError.notFound("error looking up volume plugin \(driver): plugin \"\(driver)\" not found")
            }
            let name = mount.Source ?? ""
            let subpath = mount.VolumeOptions?.Subpath.flatMap { $0.isEmpty ? nil : $0 }
            planned.append(.init(mount: .init(Name: name, Destination: destination, RW: mount.ReadOnly != true, Mode: "z",
                                              CopyData: mount.VolumeOptions?.NoCopy != true, Anonymous: name.isEmpty,
                                              Subpath: subpath),
                                 labels: mount.VolumeOptions?.Labels, driverOptions: mount.VolumeOptions?.DriverConfig?.Options))
        }
        for mount in inherited where taken.insert(mount.Destination).inserted {
            planned.append(.init(mount: mount))
        }
        for bind in inheritedBinds { taken.insert(bind.Destination) }  // no image VOLUME under an inherited bind
        for destination in (configVolumes ?? [:]).keys.sorted() {
            // dockerd takes a relative entry ("data") as is, and mounts it from the root.
            let relative = !destination.hasPrefix("/")
            if !relative { try MountValidation.validateTarget(destination) }
            let clean = MountValidation.clean("/" + destination)
            guard taken.insert(clean).inserted else { continue }
            try checkDefaultDriver()
            planned.append(.init(mount: .init(Name: "", Destination: relative ? destination : clean, RW: true, Mode: "",
                                              CopyData: true, Anonymous: true)))
        }
        return planned
    }

    /// Where the container's own `-v`, `--mount` and `--tmpfs` mounts go: what `--volumes-from`
    /// and the image's VOLUMEs give way to.
    static func ownDestinations(_ hostConfig: HostConfig) -> Set<String> {
        var taken = Set((hostConfig.Tmpfs ?? [:]).keys.map(MountValidation.clean))
        for raw in hostConfig.Binds ?? [] {
            if let bind = try? BindSpec.parse(raw) { taken.insert(bind.destination) }
        }
        for mount in hostConfig.Mounts ?? [] { taken.insert(MountValidation.clean(mount.Target ?? "")) }
        return taken
    }
}
