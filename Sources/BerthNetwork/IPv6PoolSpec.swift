/// Where new networks' IPv6 subnets come from when `--ipv6` names none: daemon.json's IPv6
/// `default-address-pools`, or else a unique local /48 of this daemon cut into /64s, as
/// current dockerd does (so `network create --ipv6 net` works without a subnet).
public struct IPv6PoolSpec: Sendable, Equatable {
    public var base: IPv6Subnet
    public var size: Int

    public init(base: IPv6Subnet, size: Int) {
        self.base = IPv6Subnet(base.network, prefixLength: base.prefixLength)
        self.size = size
    }

    /// fd00::/8 with 40 bits of the daemon's ID after it, as a /48 (RFC 4193's global ID, as
    /// dockerd derives it): `idDigest` is the SHA-256 of the daemon's ID.
    public static func uniqueLocal(idDigest: [UInt8]) -> IPv6PoolSpec {
        let leading = idDigest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let globalID = leading & (1 << 40 - 1)
        return IPv6PoolSpec(base: IPv6Subnet(IPv6Address(high: 0xfd00 << 48 | globalID << 16, low: 0), prefixLength: 48), size: 64)
    }

    /// The pool's subnet number `index`, nil past its end (the walk stops after 65536).
    func subnet(_ index: UInt64) -> IPv6Subnet? {
        guard size >= base.prefixLength, size <= 128, index < (1 << UInt64(min(size - base.prefixLength, 16))) else { return nil }
        let network = base.network
        // index << (128 - size), added to the base as a 128-bit number.
        let shift = 128 - size
        let (high, low): (UInt64, UInt64) = shift >= 64
            ? (index << UInt64(shift - 64), 0)
            : (shift == 0 ? 0 : index >> UInt64(64 - shift), index << UInt64(shift))
        let (sum, carry) = network.low.addingReportingOverflow(low)
        return IPv6Subnet(IPv6Address(high: network.high &+ high &+ (carry ? 1 : 0), low: sum), prefixLength: size)
    }

    /// The first subnet of the pools that overlaps no subnet in use.
    public static func choose(from pools: [IPv6PoolSpec], inUse: [IPv6Subnet]) -> IPv6Subnet? {
        for pool in pools {
            var index: UInt64 = 0
            while let candidate = pool.subnet(index) {
                if !inUse.contains(where: { $0.overlaps(candidate) }) { return candidate }
                index += 1
            }
        }
        return nil
    }
}
