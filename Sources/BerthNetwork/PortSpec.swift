import BerthOCI
/// One port to publish, from HostConfig.PortBindings ("80/tcp": [{HostIp, HostPort}]),
/// ExposedPorts with PublishAllPorts (`-P`), as the CLI sends them.
public struct PortRequest: Sendable, Equatable, Codable {
    public var containerPort: Int
    public var proto: String
    /// "" means every address (0.0.0.0).
    public var hostIP: String
    /// 0...0: a free ephemeral port; a range: the first free one of it.
    public var hostPorts: ClosedRange<Int>

    public init(containerPort: Int, proto: String, hostIP: String = "", hostPorts: ClosedRange<Int> = 0...0) {
        self.containerPort = containerPort
        self.proto = proto
        self.hostIP = hostIP
        self.hostPorts = hostPorts
    }
}

public enum PortSpecs {
    /// "80/tcp" → (80, "tcp"); "53" → (53, "tcp").
    public static func parseKey(_ key: String) -> (port: Int, proto: String)? {
        let parts = key.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let port = Int(first), (1...65535).contains(port) else { return nil }
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { return nil }
        return (port, proto)
    }

    /// "8080", "8000-8010", "" → the host ports to try.
    public static func parseHostPort(_ text: String?) throws -> ClosedRange<Int> {
        let text = text ?? ""
        if text.isEmpty { return 0...0 }
        let bounds = text.split(separator: "-", maxSplits: 1).map { Int($0) }
        guard let low = bounds.first ?? nil, (0...65535).contains(low) else { throw NetworkError("invalid hostPort: \(text)") }
        let high = bounds.count > 1 ? (bounds[1] ?? -1) : low
        guard high >= low, high <= 65535 else { throw NetworkError("invalid hostPort: \(text)") }
        return low...high
    }

    /// Every binding, and (with publishAll) each exposed port that has none, on a free port;
    /// in the order dockerd's bridge driver allocates them (allocationOrder).
    public static func requests(bindings: [String: [(hostIP: String?, hostPort: String?)]], exposed: [String],
                                publishAll: Bool) throws -> [PortRequest] {
        var requests: [PortRequest] = []
        for key in bindings.keys.sorted(by: portOrder) {
            guard let (port, proto) = parseKey(key) else { throw NetworkError("invalid port specification: \"\(key)\"") }
            let list = bindings[key]!
            for binding in list.isEmpty ? [(hostIP: nil, hostPort: nil)] : list {
                requests.append(PortRequest(containerPort: port, proto: proto, hostIP: binding.hostIP ?? "",
                                            hostPorts: try parseHostPort(binding.hostPort)))
            }
        }
        if publishAll {
            for key in exposed.sorted(by: portOrder) where bindings[key] == nil {
                guard let (port, proto) = parseKey(key) else { continue }
                requests.append(PortRequest(containerPort: port, proto: proto))
            }
        }
        return requests.sorted(by: allocationOrder)
    }

    /// dockerd's (v28) order of allocation: exact host ports before ranges and ephemeral
    /// ones (so that an exact port inside a range is not taken by the range first), then by
    /// container port, protocol (tcp, udp, sctp), host ports and host address (IPv4 first).
    static func allocationOrder(_ a: PortRequest, _ b: PortRequest) -> Bool {
        func isRange(_ request: PortRequest) -> Bool { request.hostPorts.lowerBound == 0 || request.hostPorts.count > 1 }
        if isRange(a) != isRange(b) { return isRange(b) }
        if a.containerPort != b.containerPort { return a.containerPort < b.containerPort }
        let protocols = ["tcp", "udp", "sctp"]
        if a.proto != b.proto { return (protocols.firstIndex(of: a.proto) ?? 3) < (protocols.firstIndex(of: b.proto) ?? 3) }
        if a.hostPorts.lowerBound != b.hostPorts.lowerBound { return a.hostPorts.lowerBound < b.hostPorts.lowerBound }
        if a.hostPorts.upperBound != b.hostPorts.upperBound { return a.hostPorts.upperBound < b.hostPorts.upperBound }
        return addressOrder(a.hostIP).lexicographicallyPrecedes(addressOrder(b.hostIP))
    }

    /// A host address as Go's netip.Addr.Compare orders them: IPv4 before IPv6, then by value
    /// ("" is 0.0.0.0, every IPv4 address).
    static func addressOrder(_ text: String) -> [UInt64] {
        if let address = IPv6Address(text) { return [1, address.high, address.low] }
        return [0, UInt64(IPv4Address(text)?.value ?? 0)]
    }

    static func portOrder(_ a: String, _ b: String) -> Bool {
        let left = parseKey(a), right = parseKey(b)
        if let left, let right, left.port != right.port { return left.port < right.port }
        return a < b
    }
}

/// A port published for a running container, as `docker port` and `docker ps` show it.
public struct PublishedPort: Codable, Sendable, Equatable {
    public var proto: String
    public var hostIP: String
    public var hostPort: Int
    public var containerPort: Int

    public init(proto: String, hostIP: String, hostPort: Int, containerPort: Int) {
        self.proto = proto
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
    }
}
