import BerthEngine
import BerthOCI
import BerthStore

/// GET /images/{name}/json in the shape of the client's API version, as dockerd keeps it for
/// older clients: below 1.50 `Config` carries every field of Go's container config (empty ones
/// as "" / false / null), below 1.45 `Container` is there (VirtualSize, below 1.44, is the
/// route's).
///
/// `ContainerConfig` is kept in every version, although dockerd drops it from 1.45: docker-compose
/// 1.29 asks the daemon for its version, then talks 1.50 to Berth, and reads
/// `ContainerConfig` on every recreate (a KeyError without it, the same failure compose 1.29
/// meets on dockerd 25 and later). Clients that do not know the field ignore it.
struct VersionedImageInspect: Encodable, OrderedJSONKeys {
    /// Go's image.InspectResponse.
    static let jsonKeyOrder = ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container", "ContainerConfig",
                               "DockerVersion", "Author", "Config", "Architecture", "Variant", "Os", "OsVersion", "Size",
                               "VirtualSize", "GraphDriver", "RootFS", "Metadata", "Descriptor", "Manifests"]

    let inspect: ImageInspect
    /// The request's version as numbers, [1, 41].
    let version: [Int]

    init(_ inspect: ImageInspect, apiVersion: String) {
        self.inspect = inspect
        version = apiVersion.split(separator: ".").map { Int($0) ?? 0 }
    }

    private func below(_ major: Int, _ minor: Int) -> Bool { version.lexicographicallyPrecedes([major, minor]) }

    private enum LegacyKeys: String, CodingKey { case Config, Container, ContainerConfig }

    func encode(to encoder: any Encoder) throws {
        // The current shape first, without what this version shows differently; the legacy
        // fields then go into the same JSON object.
        var current = inspect
        current.Container = nil
        current.ContainerConfig = nil
        let legacyConfig = below(1, 50)
        if legacyConfig { current.Config = nil }
        try current.encode(to: encoder)
        var container = encoder.container(keyedBy: LegacyKeys.self)
        if legacyConfig {
            try container.encode(LegacyImageConfig(inspect.Config ?? .init()), forKey: .Config)
        }
        if legacyConfig {
            try container.encode(LegacyImageConfig(inspect.ContainerConfig ?? .init()), forKey: .ContainerConfig)
        } else {
            try container.encode(inspect.ContainerConfig ?? .init(), forKey: .ContainerConfig)
        }
        if below(1, 45) { try container.encode(inspect.Container ?? "", forKey: .Container) }
    }
}

/// An image's config as Go's `container.Config` encoded it before API 1.50: the fields without
/// omitempty are always present, the others only when set.
struct LegacyImageConfig: Encodable {
    let config: ImageConfig.Config
    init(_ config: ImageConfig.Config) { self.config = config }

    private enum Keys: String, CodingKey {
        case Hostname, Domainname, User, AttachStdin, AttachStdout, AttachStderr, ExposedPorts, Tty, OpenStdin, StdinOnce
        case Env, Cmd, Healthcheck, Image, Volumes, WorkingDir, Entrypoint, OnBuild, Labels, StopSignal
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(config.Hostname ?? "", forKey: .Hostname)
        try c.encode(config.Domainname ?? "", forKey: .Domainname)
        try c.encode(config.User ?? "", forKey: .User)
        try c.encode(false, forKey: .AttachStdin)
        try c.encode(false, forKey: .AttachStdout)
        try c.encode(false, forKey: .AttachStderr)
        try c.encodeIfPresent(config.ExposedPorts, forKey: .ExposedPorts)
        try c.encode(false, forKey: .Tty)
        try c.encode(false, forKey: .OpenStdin)
        try c.encode(false, forKey: .StdinOnce)
        try c.encode(config.Env, forKey: .Env)
        try c.encode(config.Cmd, forKey: .Cmd)
        try c.encodeIfPresent(config.Healthcheck, forKey: .Healthcheck)
        try c.encode("", forKey: .Image)
        try c.encode(config.Volumes, forKey: .Volumes)
        try c.encode(config.WorkingDir ?? "", forKey: .WorkingDir)
        try c.encode(config.Entrypoint, forKey: .Entrypoint)
        try c.encode(config.OnBuild, forKey: .OnBuild)
        try c.encode(config.Labels, forKey: .Labels)
        try c.encodeIfPresent(config.StopSignal, forKey: .StopSignal)
    }
}
