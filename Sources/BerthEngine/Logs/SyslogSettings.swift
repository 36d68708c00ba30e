import BerthOCI
import FoundationEssentials
import Glibc

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
