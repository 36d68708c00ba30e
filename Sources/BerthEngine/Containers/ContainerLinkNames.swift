import FoundationEssentials

extension ContainerService {
    /// The extra names legacy links give their targets: `--link db:alias` on container web
    /// names db "/web/alias" too, and dockerd lists it in `docker ps` Names (the CLI shows it
    /// with --no-trunc). Target ID → those names, sorted.
    func linkNames() -> [String: [String]] {
        var names: [String: [String]] = [:]
        for entry in entries.values {
            for link in entry.hostConfig.Links ?? [] {
                guard let target = try? resolve(Self.linkTarget(link)) else { continue }
                names[target, default: []].append("/\(entry.record.bareName)/\(Self.linkAlias(link))")
            }
        }
        return names.mapValues { $0.sorted() }
    }
}
