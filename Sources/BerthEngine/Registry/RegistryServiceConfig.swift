import BerthNetwork

/// The registry settings `docker info` reports as RegistryConfig, from daemon.json's
/// `insecure-registries`: CIDRs go to the insecure networks, other entries are registries of
/// their own marked not secure, and the Hub's index is always there, secure and official.
/// The loopback networks are always insecure, as dockerd has them.
public struct RegistryServiceConfig: Sendable, Equatable {
    public struct Index: Sendable, Equatable {
        public var name: String
        public var mirrors: [String]
        public var secure: Bool
        public var official: Bool
    }

    /// The Hub's index name and the address `docker info` shows for it (the API requires it).
    public static let officialIndexName = "docker.io"
    public static let indexServerAddress = "https://index.docker.io/v1/"

    /// Listed order, then ::1/128 and 127.0.0.0/8; host bits cleared, repeats dropped.
    public private(set) var insecureCIDRs: [String] = []
    public private(set) var indexes: [String: Index] = [:]
    /// Berth pulls without mirrors (daemon.json's `registry-mirrors` is ignored), so none are shown.
    public let mirrors: [String] = []

    public init(insecureRegistries: [String]) {
        for entry in insecureRegistries + ["::1/128", "127.0.0.0/8"] {
            var name = entry
            for scheme in ["http://", "https://"] where name.lowercased().hasPrefix(scheme) {
                name = String(name.dropFirst(scheme.count))
            }
            if let cidr = Self.network(name) {
                if !insecureCIDRs.contains(cidr) { insecureCIDRs.append(cidr) }
            } else {
                indexes[name] = Index(name: name, mirrors: [], secure: false, official: false)
            }
        }
        // The Hub's entry wins over an insecure one of the same name.
        indexes[Self.officialIndexName] = Index(name: Self.officialIndexName, mirrors: mirrors, secure: true, official: true)
    }

    /// "10.1.2.3/8" as its network ("10.0.0.0/8"), nil when not a CIDR.
    static func network(_ text: String) -> String? {
        if let subnet = IPv4Subnet(text) { return subnet.description }
        if let subnet = IPv6Subnet(text) { return subnet.description }
        return nil
    }
}
