/// The shim's command line (see the usage text). Parsed by hand: no Foundation, no
/// ArgumentParser, to keep the binary and its memory small.
struct Options {
    enum LogDriver {
        case jsonFile
        case local
        case none
        case journald
        case syslog
        case fluentd
        case gelf

        /// The driver named `name` (json-file, local, none, journald, syslog, fluentd, gelf).
        init?(name: String) {
            switch name.utf8 {
            case "json-file": self = .jsonFile
            case "local": self = .local
            case "none": self = .none
            case "journald": self = .journald
            case "syslog": self = .syslog
            case "fluentd": self = .fluentd
            case "gelf": self = .gelf
            default: return nil
            }
        }
    }

    var id = ""
    var bundle = ""
    var stateDir = ""
    var runtime = ""
    var runtimeRoot = ""
    var tty = false
    var stdin = false
    var stdinOnce = false
    var logDriver = LogDriver.jsonFile
    var logPath: String?
    var logMaxSize: Int64 = 0
    var logMaxFile = 1
    /// json-file compress=true: rotated files are gzipped.
    var logCompress = false
    var containerName: String?
    var detach = false
    var imageName: String?
    var logTag: String?
    /// More fields for journald entries (the log attributes), `--log-field NAME=VALUE`.
    var logFields: [(name: String, value: String)] = []
    /// Where a remote driver sends its records (nil: syslog's local socket).
    var logAddress: RemoteAddress?
    var syslogFacility = 3
    var syslogFormat = SyslogMessage.Format.unix
    /// The host's offsets from UTC, for syslog's local times (UTC when not given).
    var utcOffsets = UTCOffsets(changes: [])
    /// fluentd-async: the start does not wait for fluentd.
    var fluentdAsync = false
    /// fluentd-sub-second-precision: times as EventTime.
    var fluentdSubSecond = false
    /// fluentd-request-ack: each message waits for fluentd's ack.
    var fluentdAck = false
    /// gelf-compression-type and -level (udp).
    var gelfCompression = GelfLog.Compression.gzip
    var gelfCompressionLevel: Int32 = 1

    static let usage = """
        usage: berth-shim --id ID --bundle DIR --state DIR --runtime PATH --runtime-root DIR
                          [--tty] [--stdin] [--stdin-once]
                          [--log-driver json-file|local|none|journald] [--log-path FILE]
                          [--log-max-size BYTES] [--log-max-file N] [--log-compress]
                          [--container-name NAME]
                          [--detach]
                          [--image-name NAME] [--log-tag TAG] [--log-field NAME=VALUE]...
                          [--log-address tcp|udp://HOST:PORT|unix|unixgram:///PATH]
                          [--syslog-facility 0-23] [--syslog-format unix|rfc3164|rfc5424|rfc5424micro]
                          [--log-utc-offsets OFFSET[,START,OFFSET]...]
                          [--fluentd-async] [--fluentd-sub-second] [--fluentd-ack]
                          [--gelf-compression gzip|zlib|none] [--gelf-compression-level -1..9]
        """

    struct UsageError: Error {
        let message: String
    }

    /// Accepts `--flag value` and `--flag=value`. Flags are matched on their bytes (see
    /// ASCIIWords.swift).
    static func parse(_ arguments: [String]) throws(UsageError) -> Options {
        var options = Options()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.utf8.starts(with: "--".utf8) else { throw UsageError(message: "unexpected argument \"\(argument)\"") }
            var name = String(Substring(argument.utf8.dropFirst(2)))
            var inline: String?
            if let equals = name.utf8.firstIndex(of: UInt8(ascii: "=")) {
                inline = String(Substring(name.utf8[name.utf8.index(after: equals)...]))
                name = String(Substring(name.utf8[..<equals]))
            }
            func value() throws(UsageError) -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else { throw UsageError(message: "flag --\(name) needs a value") }
                return next
            }
            switch name.utf8 {
            case "id": options.id = try value()
            case "bundle": options.bundle = try value()
            case "state": options.stateDir = try value()
            case "runtime": options.runtime = try value()
            case "runtime-root": options.runtimeRoot = try value()
            case "tty": options.tty = true
            case "stdin": options.stdin = true
            case "stdin-once": options.stdinOnce = true
            case "log-driver":
                let text = try value()
                guard let driver = LogDriver(name: text) else { throw UsageError(message: "unknown log driver \"\(text)\"") }
                options.logDriver = driver
            case "log-path": options.logPath = try value()
            case "log-max-size":
                let text = try value()
                guard let size = Int64(text), size >= 0 else { throw UsageError(message: "invalid --log-max-size \"\(text)\"") }
                options.logMaxSize = size
            case "log-max-file":
                let text = try value()
                guard let count = Int(text), count >= 1 else { throw UsageError(message: "invalid --log-max-file \"\(text)\"") }
                options.logMaxFile = count
            case "log-compress": options.logCompress = true
            case "container-name": options.containerName = try value()
            case "detach": options.detach = true
            case "image-name": options.imageName = try value()
            case "log-tag": options.logTag = try value()
            case "log-field":
                let field = try value()
                guard let equals = field.utf8.firstIndex(of: UInt8(ascii: "=")), equals != field.utf8.startIndex else {
                    throw UsageError(message: "invalid --log-field \"\(field)\": want NAME=VALUE")
                }
                options.logFields.append((String(Substring(field.utf8[..<equals])),
                                          String(Substring(field.utf8[field.utf8.index(after: equals)...]))))
            case "log-address":
                let text = try value()
                guard let address = RemoteAddress(parsing: text) else { throw UsageError(message: "invalid --log-address \"\(text)\"") }
                options.logAddress = address
            case "syslog-facility":
                let text = try value()
                guard let facility = Int(text), facility >= 0, facility <= 23 else {
                    throw UsageError(message: "invalid --syslog-facility \"\(text)\"")
                }
                options.syslogFacility = facility
            case "log-utc-offsets":
                let text = try value()
                guard let offsets = UTCOffsets(parsing: text) else { throw UsageError(message: "invalid --log-utc-offsets \"\(text)\"") }
                options.utcOffsets = offsets
            case "fluentd-async": options.fluentdAsync = true
            case "fluentd-sub-second": options.fluentdSubSecond = true
            case "fluentd-ack": options.fluentdAck = true
            case "gelf-compression":
                let text = try value()
                switch text.utf8 {
                case "gzip": options.gelfCompression = .gzip
                case "zlib": options.gelfCompression = .zlib
                case "none": options.gelfCompression = .none
                default: throw UsageError(message: "invalid --gelf-compression \"\(text)\"")
                }
            case "gelf-compression-level":
                let text = try value()
                guard let level = Int32(text), level >= -1, level <= 9 else {
                    throw UsageError(message: "invalid --gelf-compression-level \"\(text)\"")
                }
                options.gelfCompressionLevel = level
            case "syslog-format":
                let text = try value()
                guard let format = SyslogMessage.Format(word: text) else { throw UsageError(message: "invalid --syslog-format \"\(text)\"") }
                options.syslogFormat = format
            default:
                throw UsageError(message: "unknown flag --\(name)")
            }
        }
        for (flag, value) in [("id", options.id), ("bundle", options.bundle), ("state", options.stateDir),
                              ("runtime", options.runtime), ("runtime-root", options.runtimeRoot)] where value.isEmpty {
            throw UsageError(message: "missing --\(flag)")
        }
        // (A pattern, not `logPath == nil`: see Session.isContainer.)
        if options.logDriver == .jsonFile || options.logDriver == .local, case .none = options.logPath {
            throw UsageError(message: "--log-driver json-file and local need --log-path")
        }
        if options.logDriver == .fluentd || options.logDriver == .gelf, case .none = options.logAddress {
            throw UsageError(message: "--log-driver fluentd and gelf need --log-address")
        }
        return options
    }
}
