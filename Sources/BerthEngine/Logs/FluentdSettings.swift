import BerthOCI
import FoundationEssentials
import Glibc

/// The fluentd driver's options, read as dockerd reads them (in its order). The delivery
/// options that shape fluent-logger's queue (buffer limit, retries) are checked and taken, but
/// Berth's shim has no queue: while fluentd is away its records are dropped, not held.
struct FluentdSettings {
    var address: LogServerAddress
    var async = false
    var subSecond = false
    var requestsAck = false

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
        requestsAck = try flag("fluentd-request-ack")
    }
}
