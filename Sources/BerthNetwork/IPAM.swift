import BerthOCI
/// The addresses of one network: its subnet, gateway, the range containers draw from
/// (`--ip-range`), and which are taken. Kept in the network's record, so a daemon restart
/// hands out no address twice.
public struct AddressPool: Codable, Sendable, Equatable {
    public var subnet: IPv4Subnet
    public var gateway: IPv4Address
    public var range: IPv4Subnet?
    public var allocated: [IPv4Address] = []
    /// `--aux-address name=ip`: addresses held for devices outside Berth, never handed out.
    public var auxiliary: [String: IPv4Address]?
    /// false: the gateway address is handed out like any other (macvlan and ipvlan networks
    /// that need no gateway, as dockerd skips it); nil or true: it is held back.
    public var reservesGateway: Bool?
    /// Whether `network create` named this subnet's gateway (shown in inspect only then);
    /// kept for the subnets of macvlan and ipvlan networks, nil on others.
    public var gatewayIsGiven: Bool?

    public init(subnet: IPv4Subnet, gateway: IPv4Address? = nil, range: IPv4Subnet? = nil) throws {
        let subnet = subnet.normalized
        self.subnet = subnet
        if let range, !(subnet.contains(range.network) && range.prefixLength >= subnet.prefixLength) {
            throw NetworkError("Invalid range \(range.description) for subnet \(subnet)")
        }
        self.range = range?.normalized
        // As dockerd's IPAM, a gateway nobody gave is the first free address of the range
        // (`--ip-range`), else of the subnet; the subnet's own first address is never free.
        let start = range?.normalized.network.value ?? subnet.network.value
        let gateway = gateway ?? IPv4Address(start == subnet.network.value ? start + 1 : start)
        guard subnet.contains(gateway) else { throw NetworkError("Invalid gateway \(gateway) for subnet \(subnet)") }
        self.gateway = gateway
    }

    /// The gateway with the subnet's prefix length, the address the bridge carries.
    public var gatewayAddress: IPv4Subnet { IPv4Subnet(gateway, prefixLength: subnet.prefixLength) }

    /// A specific address (`--ip`), or the lowest free one of the range.
    public mutating func allocate(_ wanted: IPv4Address? = nil) throws -> IPv4Address {
        let taken = Set(allocated).union((auxiliary ?? [:]).values)
        if let wanted {
            guard subnet.contains(wanted), wanted != subnet.network, wanted != subnet.broadcast || subnet.prefixLength >= 31 else {
                throw NetworkError("no configured subnet or ip-range contain the IP address \(wanted)")
            }
            guard wanted != gateway || reservesGateway == false, !taken.contains(wanted) else { throw NetworkError("Address already in use") }
            allocated.append(wanted)
            return wanted
        }
        let span = range ?? subnet
        var first = span.network.value
        var last = span.broadcast.value
        if subnet.prefixLength < 31 {
            first = max(first, subnet.network.value + 1)
            last = min(last, subnet.broadcast.value - 1)
        }
        guard first <= last else { throw NetworkError("no available IPv4 addresses") }
        for value in first...last {
            let candidate = IPv4Address(value)
            if (candidate != gateway || reservesGateway == false) && !taken.contains(candidate) {
                allocated.append(candidate)
                return candidate
            }
        }
        throw NetworkError("no available IPv4 addresses")
    }

    public mutating func release(_ address: IPv4Address) {
        allocated.removeAll { $0 == address }
    }
}

/// Where new networks' subnets come from: Docker's default pools, or daemon.json's
/// `default-address-pools`, each cut into subnets of its size.
public struct PoolSpec: Sendable, Equatable {
    public var base: IPv4Subnet
    public var size: Int

    public init(base: IPv4Subnet, size: Int) {
        self.base = base.normalized
        self.size = size
    }

    /// 172.17–31.0.0/16 as /16s, then 192.168.0.0/16 as /20s.
    public static let dockerDefaults = [PoolSpec(base: IPv4Subnet("172.17.0.0/16")!, size: 16)]
        + (18...31).map { PoolSpec(base: IPv4Subnet("172.\($0).0.0/16")!, size: 16) }
        + [PoolSpec(base: IPv4Subnet("192.168.0.0/16")!, size: 20)]

    var subnets: [IPv4Subnet] {
        guard size >= base.prefixLength, size <= 32 else { return [] }
        let count = 1 << min(size - base.prefixLength, 16)
        let step = UInt32(1) << UInt32(32 - size)
        return (0..<count).map { IPv4Subnet(IPv4Address(base.network.value &+ UInt32($0) &* step), prefixLength: size) }
    }

    /// The first subnet of the pools that overlaps neither a network in use nor a host route.
    public static func choose(from pools: [PoolSpec], inUse: [IPv4Subnet], hostRoutes: [IPv4Subnet]) -> IPv4Subnet? {
        let taken = inUse + hostRoutes
        for pool in pools {
            for candidate in pool.subnets where !taken.contains(where: { $0.overlaps(candidate) }) {
                return candidate
            }
        }
        return nil
    }
}

/// The host's IPv4 routes (/proc/net/route) other than the default route, by device.
public enum HostRoutes {
    public static func read(excludingDevices excluded: Set<String> = []) -> [IPv4Subnet] {
        guard let text = readProcFile("/proc/net/route") else { return [] }
        return parse(text, excludingDevices: excluded)
    }

    /// Destination and mask are little-endian hex words in this file.
    public static func parse(_ text: String, excludingDevices excluded: Set<String> = []) -> [IPv4Subnet] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8, !excluded.contains(String(fields[0])),
                  let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16), mask != 0 else { return nil }
            let address = IPv4Address(destination.byteSwapped)
            let length = mask.nonzeroBitCount
            return IPv4Subnet(address, prefixLength: length)
        }
    }
}
