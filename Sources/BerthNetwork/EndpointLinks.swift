/// `--link target:alias` on a user-defined network. dockerd keeps no legacy link there (no
/// environment, no /etc/hosts line): the endpoint's Links become names that only the linking
/// container resolves, through the network's embedded DNS, to the target's address there.
public enum EndpointLink {
    /// The target and alias of a link (an endpoint's Links, or HostConfig.Links for legacy
    /// ones): "web:w", "web" (the alias is the name), or the "/web:/me/w" form stored links
    /// take; nil for other shapes.
    public static func parse(_ link: String) -> (target: String, alias: String)? {
        let parts = link.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard !link.isEmpty, parts.count <= 2 else { return nil }
        let target = parts[0].hasPrefix("/") ? String(parts[0].dropFirst()) : parts[0]
        guard parts.count == 2 else { return (target, target) }
        let alias = parts[1].split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? parts[1]
        return (target, alias)
    }
}

extension NetworkService {
    /// A running container's link aliases on each user network it is on (alias → target
    /// name). It asks from any of its addresses and its aliases on all its networks apply,
    /// as libnetwork looks through all its endpoints.
    func dnsLinkAliases(_ sandbox: SandboxRecord) -> [String: [String: String]] {
        guard let wanted = attachments[sandbox.containerID] else { return [:] }
        var byNetwork: [String: [String: String]] = [:]
        for endpoint in sandbox.endpoints where networks[endpoint.networkID].map(Self.hasEmbeddedDNS) ?? false {
            let links = wanted.first { $0.networkID == endpoint.networkID }?.links ?? []
            var aliases: [String: String] = [:]
            for link in links {
                if let (target, alias) = EndpointLink.parse(link) { aliases[alias.lowercased()] = target }
            }
            if !aliases.isEmpty { byNetwork[endpoint.networkID] = aliases }
        }
        return byNetwork
    }
}
