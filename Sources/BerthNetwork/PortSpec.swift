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

    /// Every binding, then (with publishAll) each exposed port that has none, on a free port.
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
        return requests
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
