/// An IPv6 address: parsed from and written as text the way Go's net package (and so
/// dockerd) does, lower-case with the longest run of zero groups written "::".
public struct IPv6Address: TextCodable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init?(_ text: some StringProtocol) {
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count <= 2, !text.contains(":::") else { return nil }
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(Substring(halves[0])) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(Substring(halves[1])), head.count + tail.count <= 7 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        high = all[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = all[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) } + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
    }

    public var bytes: [UInt8] { groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] } }

    public var description: String {
        let groups = self.groups
        // The longest run of two or more zero groups (the first of equals) becomes "::".
        var best = (start: -1, length: 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            let start = index
            while index < 8 && groups[index] == 0 { index += 1 }
            if index - start > best.length && index - start >= 2 { best = (start, index - start) }
        }
        func text(_ range: Range<Int>) -> String { range.map { String(groups[$0], radix: 16) }.joined(separator: ":") }
        guard best.start >= 0 else { return text(0..<8) }
        return text(0..<best.start) + "::" + text((best.start + best.length)..<8)
    }

    public static func < (a: Self, b: Self) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// The address `count` after this one.
    func adding(_ count: UInt64) -> IPv6Address {
        let (sum, overflow) = low.addingReportingOverflow(count)
        return IPv6Address(high: high &+ (overflow ? 1 : 0), low: sum)
    }

    static let codingName = "IPv6 address"
    var codingText: String { description }
}

/// An IPv6 address with a prefix length ("fd00:1::/64").
public struct IPv6Subnet: TextCodable, Hashable, Sendable, CustomStringConvertible {
    public var address: IPv6Address
    public var prefixLength: Int

    public init(_ address: IPv6Address, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(parts[0]), let length = Int(parts[1]), (0...128).contains(length) else { return nil }
        self.address = address
        prefixLength = length
    }

    var masks: (high: UInt64, low: UInt64) {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : UInt64.max << UInt64(64 - bits) }
        return (mask(prefixLength), mask(prefixLength - 64))
    }

    public var network: IPv6Address { IPv6Address(high: address.high & masks.high, low: address.low & masks.low) }

    public func contains(_ other: IPv6Address) -> Bool {
        other.high & masks.high == network.high && other.low & masks.low == network.low
    }

    public func overlaps(_ other: IPv6Subnet) -> Bool { contains(other.network) || other.contains(network) }

    public var description: String { "\(network)/\(prefixLength)" }
    public var addressDescription: String { "\(address)/\(prefixLength)" }

    static let codingName = "IPv6 subnet"
    var codingText: String { addressDescription }
}

/// An IPv6 network's addresses: its subnet, its gateway (the subnet's first address unless
/// given; inspect shows it only when given, as dockerd's does), and which are taken.
public struct AddressPool6: Codable, Sendable, Equatable {
    public var subnet: IPv6Subnet
    public var gateway: IPv6Address
    public var gatewayIsGiven: Bool
    public var allocated: [IPv6Address] = []

    public init(subnet: IPv6Subnet, gateway: IPv6Address?) throws {
        let subnet = IPv6Subnet(subnet.network, prefixLength: subnet.prefixLength)
        guard subnet.prefixLength <= 126 else { throw NetworkError("Invalid subnet \(subnet): too small for containers") }
        self.subnet = subnet
        gatewayIsGiven = gateway != nil
        let gateway = gateway ?? subnet.network.adding(1)
        guard subnet.contains(gateway) else { throw NetworkError("Invalid gateway \(gateway) for subnet \(subnet)") }
        self.gateway = gateway
    }

    /// The gateway with the subnet's prefix length, the address the bridge carries.
    public var gatewayAddress: IPv6Subnet { IPv6Subnet(gateway, prefixLength: subnet.prefixLength) }

    /// A specific address (`--ip6`), or the lowest free one after the subnet's first.
    public mutating func allocate(_ wanted: IPv6Address? = nil) throws -> IPv6Address {
        let taken = Set(allocated)
        if let wanted {
            guard subnet.contains(wanted) else { throw NetworkError("Invalid address \(wanted): It does not belong to any of this network's subnets") }
            guard wanted != gateway, !taken.contains(wanted) else { throw NetworkError("Address already in use") }
            allocated.append(wanted)
            return wanted
        }
        var candidate = subnet.network.adding(1)
        while subnet.contains(candidate) {
            if candidate != gateway && !taken.contains(candidate) {
                allocated.append(candidate)
                return candidate
            }
            candidate = candidate.adding(1)
        }
        throw NetworkError("no available IPv6 addresses")
    }

    public mutating func release(_ address: IPv6Address) {
        allocated.removeAll { $0 == address }
    }
}
