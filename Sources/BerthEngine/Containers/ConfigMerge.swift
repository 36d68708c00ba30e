import BerthOCI

extension ContainerConfig {
    /// The request's config completed from the image's, as dockerd merges them at create
    /// (what `docker inspect` then shows as Config):
    /// - User, WorkingDir, StopSignal: the request's when set, else the image's.
    /// - Env: the request's entries, then each image entry whose name the request does not set.
    /// - Labels, ExposedPorts, Volumes: the union; the request wins per key.
    /// - Entrypoint/Cmd: an Entrypoint in the request drops the image's Cmd; otherwise a
    ///   missing Cmd comes from the image, and a missing (nil, not `[]`) Entrypoint too.
    ///   `Entrypoint: [""]` clears it. Nothing left to run is dockerd's "No command specified".
    /// - Healthcheck: the image's, field by field where the request leaves one unset (empty
    ///   Test, zero durations and retries).
    public func merged(withImage image: ImageConfig.Config?) throws -> ContainerConfig {
        var merged = self
        if let image {
            if (merged.User ?? "").isEmpty { merged.User = image.User }
            if (merged.WorkingDir ?? "").isEmpty { merged.WorkingDir = image.WorkingDir }
            if (merged.StopSignal ?? "").isEmpty { merged.StopSignal = image.StopSignal }
            merged.Env = Self.mergeEnv(request: merged.Env, image: image.Env)
            merged.Labels = (merged.Labels ?? [:]).merging(image.Labels ?? [:]) { request, _ in request }
            merged.ExposedPorts = Self.union(merged.ExposedPorts, image.ExposedPorts)
            merged.Volumes = Self.union(merged.Volumes, image.Volumes)
            if let inherited = image.Healthcheck {
                merged.Healthcheck = Self.mergeHealthcheck(request: merged.Healthcheck, image: inherited)
            }
            if (merged.Entrypoint ?? []).isEmpty {
                if (merged.Cmd ?? []).isEmpty { merged.Cmd = image.Cmd }
                if merged.Entrypoint == nil { merged.Entrypoint = image.Entrypoint }
            }
        }
        if merged.Entrypoint == [""] { merged.Entrypoint = nil }
        if (merged.Entrypoint ?? []).isEmpty && (merged.Cmd ?? []).isEmpty {
            throw BerthError.invalidArgument("No command specified")
        }
        return merged
    }

    /// Entrypoint followed by Cmd: argv of the container's first process.
    public var commandLine: [String] {
        (Entrypoint ?? []) + (Cmd ?? [])
    }

    static func mergeEnv(request: [String]?, image: [String]?) -> [String]? {
        guard let request, !request.isEmpty else { return image }
        let requestNames = Set(request.map(envName))
        return request + (image ?? []).filter { !requestNames.contains(envName($0)) }
    }

    static func mergeHealthcheck(request: HealthConfig?, image: HealthConfig) -> HealthConfig {
        var merged = request ?? HealthConfig()
        if (merged.Test ?? []).isEmpty { merged.Test = image.Test }
        if (merged.Interval ?? 0) == 0 { merged.Interval = image.Interval }
        if (merged.Timeout ?? 0) == 0 { merged.Timeout = image.Timeout }
        if (merged.StartPeriod ?? 0) == 0 { merged.StartPeriod = image.StartPeriod }
        if (merged.StartInterval ?? 0) == 0 { merged.StartInterval = image.StartInterval }
        if (merged.Retries ?? 0) == 0 { merged.Retries = image.Retries }
        return merged
    }

    static func envName(_ entry: String) -> Substring {
        entry.prefix { $0 != "=" }
    }

    static func union(_ request: [String: EmptyObject]?, _ image: [String: EmptyObject]?) -> [String: EmptyObject]? {
        let merged = (request ?? [:]).merging(image ?? [:]) { request, _ in request }
        return merged.isEmpty ? nil : merged  // dockerd shows none as null
    }
}
