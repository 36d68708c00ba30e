import BerthOCI
import FoundationEssentials
import Glibc

/// The log drivers that send a container's output to a server (syslog, fluentd, gelf): their
/// options checked at create with dockerd's error texts, and at start made into the shim's
/// flags (the address resolved, the tag rendered). The shim connects and sends; berthd only
/// checks and resolves.
enum RemoteLogDriver: String, CaseIterable, Sendable {
    case syslog
    case fluentd
    case gelf

    /// The options each driver takes besides the delivery and cache options.
    var options: Set<String> {
        switch self {
        case .syslog:
            ["env", "env-regex", "labels", "labels-regex", "syslog-address", "syslog-facility", "syslog-tls-ca-cert",
             "syslog-tls-cert", "syslog-tls-key", "syslog-tls-skip-verify", "tag", "syslog-format"]
        case .fluentd:
            ["env", "env-regex", "labels", "labels-regex", "tag", "fluentd-address", "fluentd-async", "fluentd-async-connect",
             "fluentd-buffer-limit", "fluentd-max-retries", "fluentd-request-ack", "fluentd-retry-wait", "fluentd-sub-second-precision"]
        case .gelf:
            ["env", "env-regex", "labels", "labels-regex", "tag", "gelf-address", "gelf-compression-level", "gelf-compression-type",
             "gelf-tcp-max-reconnect", "gelf-tcp-reconnect-delay"]
        }
    }

    /// gelf checks its address before the names of its options, and words its error its own way.
    var checksOptionNamesItself: Bool { self == .gelf }

    /// dockerd's checks at create, in its order.
    func validate(_ options: [String: String]) throws(BerthError) {
        switch self {
        case .syslog:
            _ = try SyslogSettings(options)
        case .fluentd:
            _ = try FluentdSettings(options)
        case .gelf:
            _ = try GelfSettings(options)
        }
    }

    /// The shim's flags for this driver. Fails as dockerd's logger fails to start.
    func shimArguments(options: [String: String], tag: String, attributes: [String: String],
                       record: ContainerRecord) throws(BerthError) -> [String] {
        switch self {
        case .syslog:
            let settings = try SyslogSettings(options)
            var arguments = ["--log-tag", tag, "--syslog-facility", String(settings.facility), "--syslog-format", settings.format,
                             "--log-utc-offsets", LocalTimeOffsets.describe(now: time(nil))]
            if let address = settings.address {
                arguments += ["--log-address", try address.resolved()]
            }
            return arguments
        case .fluentd:
            let settings = try FluentdSettings(options)
            var arguments = ["--log-tag", tag, "--log-address", try settings.address.resolved(fluentd: true)]
            if settings.async { arguments.append("--fluentd-async") }
            if settings.subSecond { arguments.append("--fluentd-sub-second") }
            for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { arguments += ["--log-field", name + "=" + value] }
            return arguments
        case .gelf:
            let settings = try GelfSettings(options)
            let address: String
            do { address = try settings.address.resolved() } catch {
                // dockerd's words: the endpoint, then the dial's error.
                let reason = error.message.hasPrefix(ShimLauncher.logDriverFailure)
                    ? String(error.message.dropFirst(ShimLauncher.logDriverFailure.count)) : error.message
                throw BerthError.internalError(ShimLauncher.logDriverFailure + "gelf: cannot connect to GELF endpoint: \(settings.address.hostPort) " + reason)
            }
            var arguments = ["--log-address", address, "--gelf-compression", settings.compression,
                             "--gelf-compression-level", String(settings.level)]
            for (name, value) in GelfSettings.extraFields(record: record, tag: tag, attributes: attributes) {
                arguments += ["--log-field", name + "=" + value]
            }
            return arguments
        }
    }
}

/// The gelf driver's options, read as dockerd reads them: the address first (it is required,
/// udp or tcp with a port), then each option (compression for udp only, reconnection for tcp
/// only). Berth's shim reconnects in its own way (RemoteSocket), so the tcp reconnection
/// options are checked but not used.
struct GelfSettings {
    var address: LogServerAddress
    var compression = "gzip"
    var level = 1

    init(_ options: [String: String]) throws(BerthError) {
        let text = options["gelf-address"] ?? ""
        guard !text.isEmpty else { throw BerthError.invalidArgument("gelf-address is a required parameter") }
        guard LogServerAddress.isTransportURL(text) else {
            throw BerthError.invalidArgument("gelf-address should be in form proto://address, got \(text)")
        }
        address = try LogServerAddress(parsing: text, defaultPort: nil, statsUnixPath: false)
        guard address.scheme == "udp" || address.scheme == "tcp" else {
            throw BerthError.invalidArgument("gelf: endpoint needs to be TCP or UDP")
        }
        guard !address.port.isEmpty else { throw BerthError.invalidArgument("gelf: please provide gelf-address as proto://host:port") }
        for key in options.keys.sorted() where !LogSettings.deliveryOptions.contains(key) && !LogCache.options.contains(key) {
            let value = options[key] ?? ""
            switch key {
            case "gelf-address", "tag", "labels", "labels-regex", "env", "env-regex":
                break
            case "gelf-compression-level", "gelf-compression-type":
                guard address.scheme == "udp" else { throw BerthError.invalidArgument("compression is only supported on UDP") }
                if key == "gelf-compression-level" {
                    guard let number = Int(value), (-1...9).contains(number) else { throw Self.unknownValue(value, key) }
                    level = number
                } else {
                    guard ["gzip", "zlib", "none"].contains(value) else { throw Self.unknownValue(value, key) }
                    compression = value
                }
            case "gelf-tcp-max-reconnect", "gelf-tcp-reconnect-delay":
                guard address.scheme == "tcp" else { throw BerthError.invalidArgument("\"\(key)\" is only valid for TCP") }
                guard let number = Int(value), number >= 0 else {
                    throw BerthError.invalidArgument("\"\(key)\" must be a positive integer")
                }
            default:
                throw BerthError.invalidArgument("unknown log opt \(GoStrconv.quote(key)) for gelf log driver")
            }
        }
    }

    static func unknownValue(_ value: String, _ key: String) -> BerthError {
        .invalidArgument("unknown value \(GoStrconv.quote(value)) for log opt \(GoStrconv.quote(key)) for gelf log driver")
    }

    /// The extra fields of every message, in Go's key order: the container's and the log
    /// attributes (named with a leading `_`, winning over the container's of the same name).
    static func extraFields(record: ContainerRecord, tag: String, attributes: [String: String]) -> [(String, String)] {
        var fields = ["_container_id": record.ID, "_container_name": record.bareName, "_image_id": record.Image,
                      "_image_name": record.Config.Image ?? "", "_command": ([record.Path] + record.Args).joined(separator: " "),
                      "_tag": tag, "_created": record.Created]
        for (name, value) in attributes { fields["_" + name] = value }
        return fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }
}

/// The fluentd driver's options, read as dockerd reads them (in its order). The delivery
/// options that shape fluent-logger's queue (buffer limit, retries) are checked and taken, but
/// Berth's shim has no queue: while fluentd is away its records are dropped, not held.
struct FluentdSettings {
    var address: LogServerAddress
    var async = false
    var subSecond = false

    init(_ options: [String: String]) throws(BerthError) {
        address = try LogServerAddress(fluentd: options["fluentd-address"] ?? "")
        if let text = options["fluentd-buffer-limit"], !text.isEmpty {
            do { _ = try GoUnitsSize.binary(text) } catch { throw BerthError.invalidArgument(error.message) }
        }
        if let text = options["fluentd-retry-wait"], !text.isEmpty, GoDuration.nanoseconds(text) == nil {
            throw BerthError.invalidArgument("time: invalid duration \(GoStrconv.quote(text))")
        }
        if let text = options["fluentd-max-retries"], !text.isEmpty, UInt64(text) == nil {
            throw BerthError.invalidArgument("strconv.ParseUint: parsing \(GoStrconv.quote(text)): " + (text.allSatisfy(\.isNumber) ? "value out of range" : "invalid syntax"))
        }
        func flag(_ key: String) throws(BerthError) -> Bool {
            guard let text = options[key], !text.isEmpty else { return false }
            guard let value = SecurityOptions.parseGoBool(text) else { throw BerthError.invalidArgument(GoStrconv.boolError(text)) }
            return value
        }
        async = try flag("fluentd-async")
        let asyncConnect = try flag("fluentd-async-connect")
        if async && asyncConnect {
            throw BerthError.invalidArgument("conflicting options: cannot specify both 'fluentd-async' and 'fluentd-async-connect")
        }
        async = async || asyncConnect
        subSecond = try flag("fluentd-sub-second-precision")
        if try flag("fluentd-request-ack") {
            throw BerthError.notImplemented("fluentd-request-ack is not implemented yet in this version of Berth")
        }
    }
}

/// The syslog driver's options, read as dockerd reads them.
struct SyslogSettings {
    var address: LogServerAddress?
    var facility = 3
    /// The shim's word for the format: unix (none given), rfc3164, rfc5424, rfc5424micro.
    var format = "unix"

    static let facilities = ["kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
                             "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "local0": 16, "local1": 17, "local2": 18,
                             "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23]

    init(_ options: [String: String]) throws(BerthError) {
        if let text = options["syslog-address"], !text.isEmpty {
            guard LogServerAddress.isTransportURL(text) else {
                throw BerthError.invalidArgument("syslog-address should be in form proto://address, got \(text)")
            }
            let parsed = try LogServerAddress(parsing: text, defaultPort: 514)
            if parsed.scheme == "tcp+tls" {
                throw BerthError.notImplemented("syslog over tcp+tls is not implemented yet in this version of Berth")
            }
            address = parsed
        }
        if let text = options["syslog-facility"], !text.isEmpty {
            if let number = Self.facilities[text] {
                facility = number
            } else if let number = Int(text), (0...23).contains(number) {
                facility = number
            } else {
                throw BerthError.invalidArgument("invalid syslog facility")
            }
        }
        switch options["syslog-format"] ?? "" {
        case "": format = "unix"
        case "rfc3164": format = "rfc3164"
        case "rfc5424": format = "rfc5424"
        case "rfc5424micro": format = "rfc5424micro"
        default: throw BerthError.invalidArgument("Invalid syslog format")
        }
    }
}

/// A log server's address as the drivers' options give it (`proto://host:port`, or
/// `unix:///path`), checked with Go's URL parser's errors.
struct LogServerAddress: Sendable {
    var scheme: String
    /// host:port as written (the default port added when none is given).
    var host: String
    var port: String
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
                candidates.insert(String(cString: buffer), at: candidates.firstIndex { $0.contains(":") } ?? candidates.count)
            } else if current.pointee.ai_family == AF_INET6 {
                current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var address = $0.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
                }
                candidates.append(String(cString: buffer))
            }
            entry = current.pointee.ai_next
        }
        return candidates.first
    }
}

/// dockerd's local cache of a remote driver's records ("dual logging"), which `docker logs`
/// reads: on unless cache-disabled is true; rotated as the local driver's files are.
enum LogCache {
    static let options: Set<String> = ["cache-disabled", "cache-max-size", "cache-max-file", "cache-compress"]

    /// Whether the container keeps a cache; dockerd's error for a bad cache-disabled.
    static func isEnabled(_ options: [String: String]) throws(BerthError) -> Bool {
        guard let text = options["cache-disabled"] else { return true }
        guard let disabled = SecurityOptions.parseGoBool(text) else {
            throw BerthError.invalidArgument("invalid value for option cache-disabled: \(text)")
        }
        return !disabled
    }

    /// The cache's rotation: the local driver's, from the cache-* options.
    static func rotation(_ options: [String: String], defaults: ContainerDefaults) throws(BerthError) -> LogSettings {
        var local: [String: String] = [:]
        for key in ["max-size", "max-file", "compress"] { local[key] = options["cache-" + key] }
        do {
            return try LogSettings(LogConfig(Type: "local", Config: local), defaults: defaults)
        } catch {
            throw (error as? BerthError) ?? BerthError.internalError("\(error)")
        }
    }
}

extension ContainerPaths {
    /// A remote driver's local cache, where dockerd keeps it.
    func logCacheFile(_ id: String) -> String { directory(id) + "/container-cached.log" }
}
