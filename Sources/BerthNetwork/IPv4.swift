import BerthOCI
/// An IPv4 address as a host-order number, printed and parsed in dotted form.
public struct IPv4Address: TextCodable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    /// Network byte order, as netlink and sockaddr_in want it.
    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    static let codingName = "IPv4 address"
    var codingText: String { description }
}

/// An IPv4 prefix ("172.17.0.0/16").
public struct IPv4Subnet: TextCodable, Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: Int

    public init(_ address: IPv4Address, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// "a.b.c.d/n"; with `strict`, host bits must be zero (Docker rejects "10.1.1.1/16" for --subnet
    /// only when it is not the network address; it normalises instead, so strict is off by default).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]), let length = Int(parts[1]), (0...32).contains(length) else { return nil }
        self.address = address
        prefixLength = length
    }

    public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength) }
    public var network: IPv4Address { IPv4Address(address.value & mask) }
    public var broadcast: IPv4Address { IPv4Address(network.value | ~mask) }
    /// The subnet with its host bits cleared.
    public var normalized: IPv4Subnet { IPv4Subnet(network, prefixLength: prefixLength) }
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    public func overlaps(_ other: IPv4Subnet) -> Bool {
        contains(other.network) || other.contains(network)
    }

    public var description: String { "\(network)/\(prefixLength)" }
    /// The address with this prefix length ("172.17.0.1/16"), as `ip addr` shows it.
    public var addressDescription: String { "\(address)/\(prefixLength)" }

    static let codingName = "IPv4 subnet"
    var codingText: String { addressDescription }
}

/// Docker derives a container's MAC from its IPv4 address: 02:42 and the four address bytes.
public func macAddress(for address: IPv4Address) -> [UInt8] { [0x02, 0x42] + address.bytes }

public func macDescription(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let hex = String(byte, radix: 16)
        return hex.count == 1 ? "0" + hex : hex
    }.joined(separator: ":")
}

public func parseMAC(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ":")
    guard parts.count == 6 else { return nil }
    let bytes = parts.compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
    return bytes.count == 6 ? bytes : nil
}
