import BerthOCI
import BerthStore

/// The config of an image made by `docker commit`, as dockerd makes it: the request's config
/// (or the container's), with the `--change` instructions applied, then completed from the
/// container's config.
enum CommitConfig {
    static func make(base: ContainerConfig, changes: [String], container: ContainerConfig) throws -> ContainerConfig {
        var config = base
        try ConfigChanges.apply(changes, to: &config)
        return merged(config, with: container)
    }

    /// dockerd's commit merge: what the new config leaves empty comes from the container's;
    /// ports, env names, labels and volumes are unions (the new config wins per key).
    static func merged(_ config: ContainerConfig, with container: ContainerConfig) -> ContainerConfig {
        var merged = config
        if (merged.User ?? "").isEmpty { merged.User = container.User }
        if (merged.ExposedPorts ?? [:]).isEmpty {
            merged.ExposedPorts = container.ExposedPorts
        } else {
            merged.ExposedPorts = merged.ExposedPorts!.merging(container.ExposedPorts ?? [:]) { new, _ in new }
        }
        if (merged.Env ?? []).isEmpty {
            merged.Env = container.Env
        } else {
            let names = Set(merged.Env!.map { $0.prefix { $0 != "=" } })
            merged.Env! += (container.Env ?? []).filter { !names.contains($0.prefix { $0 != "=" }) }
        }
        merged.Labels = (merged.Labels ?? [:]).merging(container.Labels ?? [:]) { new, _ in new }
        if (merged.Entrypoint ?? []).isEmpty {
            if (merged.Cmd ?? []).isEmpty {
                merged.Cmd = container.Cmd
                merged.ArgsEscaped = container.ArgsEscaped
            }
            if merged.Entrypoint == nil { merged.Entrypoint = container.Entrypoint }
        }
        if let inherited = container.Healthcheck {
            merged.Healthcheck = merged.Healthcheck.map { ContainerConfig.mergeHealthcheck(request: $0, image: inherited) } ?? inherited
        }
        if (merged.WorkingDir ?? "").isEmpty { merged.WorkingDir = container.WorkingDir }
        if (merged.Volumes ?? [:]).isEmpty {
            merged.Volumes = container.Volumes
        } else {
            merged.Volumes = merged.Volumes!.merging(container.Volumes ?? [:]) { new, _ in new }
        }
        if (merged.StopSignal ?? "").isEmpty { merged.StopSignal = container.StopSignal }
        return merged
    }
}

/// The image config JSON `docker commit` writes: dockerd's fields (an empty author is left out).
struct CommittedImage: Encodable {
    var architecture: String?
    var author: String?
    var config: ContainerConfig
    var container: String
    var container_config: ContainerConfig
    var created: String
    var docker_version: String
    var history: [ImageConfig.History]
    var os: String?
    var rootfs: ImageConfig.RootFS

    enum CodingKeys: String, CodingKey {
        case architecture, author, config, container, container_config, created, docker_version, history, os, rootfs
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(architecture ?? "", forKey: .architecture)
        if let author, !author.isEmpty { try c.encode(author, forKey: .author) }
        try c.encode(config, forKey: .config)
        try c.encode(container, forKey: .container)
        try c.encode(container_config, forKey: .container_config)
        try c.encode(created, forKey: .created)
        try c.encode(docker_version, forKey: .docker_version)
        try c.encode(history, forKey: .history)
        try c.encode(os ?? "linux", forKey: .os)
        try c.encode(rootfs, forKey: .rootfs)
    }
}
