import BerthEngine

extension ContainerInspect {
    /// Before API 1.45 a container's aliases on a user-defined network also held its short ID
    /// and its hostname (API 1.45 moved those to DNSNames); dockerd still answers older
    /// clients so, and docker-py 5 and docker-compose 1 speak 1.41.
    mutating func addLegacyAliases() {
        let shortID = String(Id.prefix(12))
        let builtIn: Set<String> = ["bridge", "host", "none", "default"]
        for (name, var endpoint) in NetworkSettings.Networks where !builtIn.contains(name) && !name.hasPrefix("container:") {
            var aliases = endpoint.Aliases ?? []
            for extra in [shortID, Config.Hostname ?? ""] where !extra.isEmpty && !aliases.contains(extra) {
                aliases.append(extra)
            }
            endpoint.Aliases = aliases
            NetworkSettings.Networks[name] = endpoint
        }
    }
}
