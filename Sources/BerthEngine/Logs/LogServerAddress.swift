import BerthOCI
import FoundationEssentials
import Glibc

/// A log server's address as the drivers' options give it (`proto://host:port`, or
/// `unix:///path`), checked with Go's URL parser's errors.
struct LogServerAddress: Sendable {
    var scheme: String
    /// The host as written, without brackets (empty: this host); none for unix sockets.
    var host: String
    /// The port as written, or the driver's default (empty when it has none).
    var port: String
    /// A unix socket's path.
    var path: String

    /// The transports dockerd's URL helper accepts.
    static func isTransportURL(_ text: String) -> Bool {
        ["tcp://", "tcp+tls://", "udp://", "unix://", "unixgram://"].contains { text.hasPrefix($0) }
    }

    /// Go's url.Parse checks on the host part, then the default port where none is given.
    /// A unix socket must exist (dockerd stats it at create).
    init(parsing text: String, defaultPort: Int?, statsUnixPath: Bool = true) throws(BerthError) {
        let separator = text.firstRange(of: "://")!
        scheme = String(text[..<separator.lowerBound])
        let rest = text[separator.upperBound...]
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw BerthError.invalidArgument("parse \(GoStrconv.quote(text)): net/url: invalid control character in URL")
        }
        let ends: Set<Character> = ["/", "?", "#"]
        let authorityEnd = rest.firstIndex(where: { ends.contains($0) }) ?? rest.endIndex
        var authority = String(rest[..<authorityEnd])
        path = String(rest[authorityEnd...].prefix { $0 != "?" && $0 != "#" } as Substring)
        if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
        if scheme == "unix" || scheme == "unixgram" {
            host = ""
            port = ""
            guard statsUnixPath else { return }
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw BerthError.invalidArgument("stat \(path): \(goErrorText(errno))")
            }
            return
        }
        // Go: a host in brackets is an IPv6 literal; after the host only ":digits" may follow.
        var hostPart = authority
        var colonPort = ""
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw BerthError.invalidArgument("parse \(GoStrconv.quote(text)): missing ']' in host")
            }
            hostPart = String(authority[authority.index(after: authority.startIndex)..<close])
            colonPort = String(authority[authority.index(after: close)...])
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = String(authority[..<colon])
            colonPort = String(authority[colon...])
        }
        if !colonPort.isEmpty {
            guard colonPort.hasPrefix(":"), colonPort.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw BerthError.invalidArgument("parse \(GoStrconv.quote(text)): invalid port \(GoStrconv.quote(colonPort)) after host")
            }
        }
        host = hostPart
        port = colonPort.isEmpty ? defaultPort.map(String.init) ?? "" : String(colonPort.dropFirst())
    }

    /// fluentd's forms: empty (127.0.0.1:24224), `host`, `host:port`, or a transport URL;
    /// errors in dockerd's words. (As dockerd, a host without a port is dropped: 127.0.0.1.)
    init(fluentd text: String) throws(BerthError) {
        let prefix = "invalid fluentd-address \(text): "
        var hostPort = text
        scheme = "tcp"
        path = ""
        host = "127.0.0.1"
        port = "24224"
        if text.isEmpty { return }
        if Self.isTransportURL(text) {
            let url: LogServerAddress
            do { url = try LogServerAddress(parsing: text, defaultPort: nil, statsUnixPath: false) } catch {
                throw BerthError.invalidArgument(prefix + error.message)
            }
            scheme = url.scheme
            if scheme == "unix" || scheme == "unixgram" {
                path = url.path
                return
            }
            hostPort = url.port.isEmpty ? url.host : url.hostPort
        }
        let split: (host: String, port: String)?
        do { split = try Self.splitHostPort(hostPort) } catch { throw BerthError.invalidArgument(prefix + error.message) }
        guard let split else { return }  // no port: the default host and port
        guard Int(split.port) != nil else {
            throw BerthError.invalidArgument(prefix + GoStrconv.numberError("Atoi", split.port))
        }
        host = split.host
        port = split.port
    }

    /// Go's net.SplitHostPort: nil when the port is missing (the one error callers pass over).
    static func splitHostPort(_ text: String) throws(BerthError) -> (host: String, port: String)? {
        func failure(_ why: String) -> BerthError { .invalidArgument("address \(text): \(why)") }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host: Substring
        var rest = text[...]
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw failure("missing ']' in address") }
            let after = text.index(after: close)
            if after == text.endIndex { return nil }
            if after != colon {
                if text[after] == ":" { throw failure("too many colons in address") }
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            rest = text[after...]
            if text[text.index(after: text.startIndex)...].contains("[") { throw failure("unexpected '[' in address") }
        } else {
            host = text[..<colon]
            if host.contains(":") { throw failure("too many colons in address") }
            if host.contains("[") { throw failure("unexpected '[' in address") }
            if host.contains("]") { throw failure("unexpected ']' in address") }
        }
        if rest.dropFirst().contains("]") { throw failure("unexpected ']' in address") }
        return (String(host), String(text[text.index(after: colon)...]))
    }

    /// `host:port` as Go writes it (brackets around IPv6).
    var hostPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The address for the shim, its host resolved to a number as Go's dial does (the first
    /// address, IPv4 first); dockerd's dial error when it cannot be.
    func resolved(fluentd: Bool = false) throws(BerthError) -> String {
        let network = scheme == "udp" ? "udp" : "tcp"
        if fluentd {
            // fluent-logger dials tcp and unix only.
            guard scheme == "tcp" || scheme == "unix" else {
                throw BerthError.internalError("failed to initialize logging driver: unknown network \(scheme)")
            }
            if scheme == "unix" && path.isEmpty {
                throw BerthError.internalError("failed to initialize logging driver: dial unix: missing address")
            }
        }
        switch scheme {
        case "unix", "unixgram": return scheme + "://" + path
        default: break
        }
        guard let number = Int(port), (0...65535).contains(number) else {
            throw BerthError.internalError("failed to initialize logging driver: dial \(network): address \(port): invalid port")
        }
        if host.isEmpty { return fluentd ? "tcp://127.0.0.1:\(number)" : "\(network)://:\(number)" }
        guard let numeric = Self.resolve(host) else {
            throw BerthError.internalError("failed to initialize logging driver: dial \(network): lookup \(host): no such host")
        }
        return numeric.contains(":") ? "\(network)://[\(numeric)]:\(number)" : "\(network)://\(numeric):\(number)"
    }

    /// The host's first address, IPv4 preferred; nil when it has none.
    static func resolve(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        var candidates: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if current.pointee.ai_family == AF_INET {
                current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    var address = $0.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
                }
                candidates.insert(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), at: candidates.firstIndex { $0.contains(":") } ?? candidates.count)
            } else if current.pointee.ai_family == AF_INET6 {
                current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var address = $0.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
                }
                candidates.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            entry = current.pointee.ai_next
        }
        return candidates.first
    }
}
