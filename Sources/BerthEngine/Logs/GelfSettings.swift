import BerthOCI
import FoundationEssentials
import Glibc

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
