import Foundation
import Testing
@testable import BerthNetwork

struct IPv6Tests {
    @Test func addressesParseAndPrintAsGoDoes() throws {
        for (text, printed) in [("fd00:1::2", "fd00:1::2"), ("FD00:0001:0000:0000:0000:0000:0000:0002", "fd00:1::2"),
                                ("::", "::"), ("::1", "::1"), ("1::", "1::"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
                                ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7")] {
            let address = try #require(IPv6Address(text), "\(text)")
            #expect(address.description == printed)
        }
        for bad in ["", ":", "1:::2", "1::2::3", "12345::", "g::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::1:2:3:4:5:6:7:8", "10.0.0.1"] {
            #expect(IPv6Address(bad) == nil, "\(bad)")
        }
        #expect(IPv6Address("fd00::1")!.bytes == [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [1])
    }

    @Test func subnetsContainAndOverlap() throws {
        let subnet = try #require(IPv6Subnet("fd00:1::9/64"))
        #expect(subnet.description == "fd00:1::/64")
        #expect(subnet.contains(IPv6Address("fd00:1::ffff:1")!))
        #expect(!subnet.contains(IPv6Address("fd00:2::1")!))
        #expect(subnet.overlaps(IPv6Subnet("fd00::/16")!))
        #expect(!subnet.overlaps(IPv6Subnet("fd00:2::/64")!))
        #expect(IPv6Subnet("fd00::/129") == nil)
    }

    @Test func poolsHandOutTheLowestFreeAddressAfterTheGateway() throws {
        var pool = try AddressPool6(subnet: IPv6Subnet("fd00:1::5/64")!, gateway: nil)
        #expect(pool.gateway.description == "fd00:1::1" && !pool.gatewayIsGiven)
        #expect(try pool.allocate().description == "fd00:1::2")
        #expect(try pool.allocate().description == "fd00:1::3")
        pool.release(IPv6Address("fd00:1::2")!)
        #expect(try pool.allocate().description == "fd00:1::2")
        var given = try AddressPool6(subnet: IPv6Subnet("fd00:2::/64")!, gateway: IPv6Address("fd00:2::2"))
        #expect(try given.allocate().description == "fd00:2::1")
        #expect(try given.allocate().description == "fd00:2::3")
        #expect(throws: NetworkError.self) { try AddressPool6(subnet: IPv6Subnet("fd00:2::/64")!, gateway: IPv6Address("fd00:3::1")) }
    }

    @Test func aaaaAnswersCarryTheAddresses() throws {
        let query = try #require(DNSQuery(DNSQuery.encode(id: 7, name: "web", type: DNSQuestion.typeAAAA)))
        let answer = query.response(.addresses6([IPv6Address("fd00:1::2")!]))
        #expect(Array(answer[6..<8]) == [0, 1])
        // The record: name pointer, type AAAA, class IN, TTL, length 16, the address.
        #expect(Array(answer.suffix(28).prefix(6)) == [0xc0, 0x0c, 0, 28, 0, 1])
        #expect(Array(answer.suffix(18)) == [0, 16] + IPv6Address("fd00:1::2")!.bytes)
        let table = DNSTable()
        table.setContainer("web", .init(entries: [.init(network: "n", names: ["web"], address: IPv4Address("10.0.0.2")!,
                                                        address6: IPv6Address("fd00:1::2")!)], networks: ["n"]))
        #expect(table.lookup6(network: "n", name: "WEB.").map(\.description) == ["fd00:1::2"])
        #expect(table.lookup6(network: "n", name: "other").isEmpty)
    }
}

/// The pools `--ipv6` networks without a subnet take theirs from.
struct IPv6PoolSpecTests {
    @Test func theUniqueLocalPrefixComesFromTheIDsDigest() {
        // SHA-256 of "" begins e3b0c44298fc1c14: its low 40 bits follow fd (dockerd's own example).
        let digest: [UInt8] = [0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14] + [UInt8](repeating: 0, count: 24)
        let pool = IPv6PoolSpec.uniqueLocal(idDigest: digest)
        #expect(pool.base.description == "fd42:98fc:1c14::/48" && pool.size == 64)
    }

    @Test func subnetsAreTakenInOrderPastThoseInUse() throws {
        let pool = IPv6PoolSpec(base: try #require(IPv6Subnet("fd42:98fc:1c14::/48")), size: 64)
        #expect(IPv6PoolSpec.choose(from: [pool], inUse: [])?.description == "fd42:98fc:1c14::/64")
        let used = [try #require(IPv6Subnet("fd42:98fc:1c14::/64")), try #require(IPv6Subnet("fd42:98fc:1c14:1::/80"))]
        #expect(IPv6PoolSpec.choose(from: [pool], inUse: used)?.description == "fd42:98fc:1c14:2::/64")
        // Sizes past 64 bits count in the low half.
        let small = IPv6PoolSpec(base: try #require(IPv6Subnet("fd00:1::/64")), size: 112)
        #expect(small.subnet(3)?.description == "fd00:1::3:0/112")
        #expect(IPv6PoolSpec(base: try #require(IPv6Subnet("fd00::/64")), size: 48).subnet(0) == nil, "a size above the base's is no pool")
        let whole = IPv6PoolSpec(base: try #require(IPv6Subnet("fd00:5::/126")), size: 126)
        #expect(IPv6PoolSpec.choose(from: [whole], inUse: [try #require(IPv6Subnet("fd00:5::/64"))]) == nil)
    }
}
