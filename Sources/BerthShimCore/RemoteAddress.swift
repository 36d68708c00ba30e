/// Where a remote log driver sends records, as berthd gives it to the shim after checking and
/// resolving it: `tcp://HOST:PORT` or `udp://HOST:PORT` with a numeric host (`[…]` for IPv6;
/// empty for this host, as Go dials it), or `unix:///PATH` / `unixgram:///PATH`.
public struct RemoteAddress: Sendable {
    public enum Transport: Equatable, Sendable {
        case tcp, udp, unix, unixgram

        /// The network's name in Go's dial errors.
        public var name: String {
            switch self {
            case .tcp: "tcp"
            case .udp: "udp"
            case .unix: "unix"
            case .unixgram: "unixgram"
            }
        }

        public var isStream: Bool { self == .tcp || self == .unix }
    }

    public var transport: Transport
    /// The numeric host without brackets (empty: this host), for tcp and udp.
    public var host: String
    public var port: UInt16
    /// The socket's path, for unix and unixgram.
    public var path: String

    public init(transport: Transport, host: String = "", port: UInt16 = 0, path: String = "") {
        self.transport = transport
        self.host = host
        self.port = port
        self.path = path
    }

    /// Whether the host is an IPv6 address.
    public var isIPv6: Bool { host.utf8.contains(UInt8(ascii: ":")) }

    /// How Go's dial errors name the address: `127.0.0.1:514`, `[::1]:514`, `:514`, or the path.
    public var display: String {
        switch transport {
        case .unix, .unixgram: return path
        case .tcp, .udp:
            var port: [UInt8] = []
            SyslogMessage.appendNumber(Int(self.port), to: &port)
            let portText = String(decoding: port, as: UTF8.self)
            return isIPv6 ? "[" + host + "]:" + portText : host + ":" + portText
        }
    }

    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.count > colon + 2,
              bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") else { return nil }
        let scheme = String(decoding: bytes[..<colon], as: UTF8.self)
        let rest = Array(bytes[(colon + 3)...])
        switch scheme.utf8 {
        case "unix", "unixgram":
            guard !rest.isEmpty else { return nil }
            self.init(transport: scheme.utf8.count == 4 ? .unix : .unixgram, path: String(decoding: rest, as: UTF8.self))
        case "tcp", "udp":
            guard let last = rest.lastIndex(of: UInt8(ascii: ":")) else { return nil }
            var host = rest[..<last]
            if host.first == UInt8(ascii: "[") {
                guard host.last == UInt8(ascii: "]") else { return nil }
                host = host.dropFirst().dropLast()
            }
            let portBytes = rest[(last + 1)...]
            guard !portBytes.isEmpty, portBytes.count <= 5 else { return nil }
            var port = 0
            for byte in portBytes {
                guard byte >= 48, byte <= 57 else { return nil }
                port = port * 10 + Int(byte - 48)
            }
            guard port <= 65535 else { return nil }
            self.init(transport: scheme.utf8.count == 3 && scheme.utf8.first == UInt8(ascii: "t") ? .tcp : .udp,
                      host: String(decoding: host, as: UTF8.self), port: UInt16(port))
        default:
            return nil
        }
    }
}
