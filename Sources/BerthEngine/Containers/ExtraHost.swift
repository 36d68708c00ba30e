import BerthOCI
import Glibc

/// One HostConfig.ExtraHosts entry (`--add-host name:ip`; `name=ip` from newer clients).
/// The address may be the special `host-gateway`.
public struct ExtraHost: Sendable, Equatable {
    public static let hostGateway = "host-gateway"

    public var name: String
    public var address: String

    /// Splits on the first "=" if any, else the first ":" (IPv6 addresses hold colons).
    public static func parse(_ entry: String) throws -> ExtraHost {
        let separator: Character = entry.contains("=") ? "=" : ":"
        guard let index = entry.firstIndex(of: separator), index != entry.startIndex else {
            throw BerthError.invalidArgument("bad format for add-host: \"\(entry)\"")
        }
        let name = String(entry[..<index])
        var address = String(entry[entry.index(after: index)...])
        if address.hasPrefix("[") && address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
        if address != hostGateway && !isIPAddress(address) {
            throw BerthError.invalidArgument("invalid IP address in add-host: \"\(address)\"")
        }
        return ExtraHost(name: name, address: address)
    }

    public static func isIPAddress(_ text: String) -> Bool {
        var buffer = in6_addr()
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }
}
