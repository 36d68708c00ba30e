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
            if settings.requestsAck { arguments.append("--fluentd-ack") }
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
