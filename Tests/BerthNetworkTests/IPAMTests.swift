import Foundation
import Testing
@testable import BerthNetwork

struct IPAMTests {
    @Test func subnetsParseNormaliseAndOverlap() throws {
        let subnet = try #require(IPv4Subnet("172.18.5.9/16"))
        #expect(subnet.description == "172.18.0.0/16")
        #expect(subnet.addressDescription == "172.18.5.9/16")
        #expect(subnet.broadcast.description == "172.18.255.255")
        #expect(subnet.overlaps(IPv4Subnet("172.18.128.0/20")!))
        #expect(IPv4Subnet("172.16.0.0/12")!.overlaps(subnet))
        #expect(!subnet.overlaps(IPv4Subnet("172.19.0.0/16")!))
        #expect(IPv4Subnet("1.2.3.4") == nil)
        #expect(IPv4Subnet("1.2.3.4/33") == nil)
        #expect(IPv4Address("256.1.1.1") == nil)
    }

    @Test func allocationSkipsGatewayAndReusesReleasedAddresses() throws {
        var pool = try AddressPool(subnet: IPv4Subnet("10.5.0.0/29")!)
        #expect(pool.gateway.description == "10.5.0.1")
        let first = try pool.allocate()
        let second = try pool.allocate()
        #expect([first, second].map(\.description) == ["10.5.0.2", "10.5.0.3"])
        pool.release(first)
        #expect(try pool.allocate().description == "10.5.0.2")
        #expect(try pool.allocate(IPv4Address("10.5.0.6")).description == "10.5.0.6")
        #expect(throws: NetworkError.self) { try pool.allocate(IPv4Address("10.5.0.6")) }
        #expect(throws: NetworkError.self) { try pool.allocate(IPv4Address("10.6.0.6")) }
        _ = try pool.allocate()  // .4
        _ = try pool.allocate()  // .5
        #expect(throws: NetworkError.self) { try pool.allocate() }  // .7 is the broadcast
    }

    @Test func rangeAndGatewayAreHonoured() throws {
        var pool = try AddressPool(subnet: IPv4Subnet("10.7.0.0/16")!, gateway: IPv4Address("10.7.0.254"),
                                   range: IPv4Subnet("10.7.1.0/24"))
        #expect(try pool.allocate().description == "10.7.1.0")
        // No gateway given: the range's first free address, as dockerd's IPAM picks it.
        var ranged = try AddressPool(subnet: IPv4Subnet("10.7.0.0/16")!, range: IPv4Subnet("10.7.1.0/24"))
        #expect(ranged.gateway.description == "10.7.1.0")
        #expect(try ranged.allocate().description == "10.7.1.1")
        #expect(try AddressPool(subnet: IPv4Subnet("10.7.0.0/16")!, range: IPv4Subnet("10.7.0.0/24")).gateway.description == "10.7.0.1")
        #expect(throws: NetworkError.self) { try AddressPool(subnet: IPv4Subnet("10.7.0.0/16")!, range: IPv4Subnet("10.8.0.0/24")) }
        #expect(throws: NetworkError.self) { try AddressPool(subnet: IPv4Subnet("10.7.0.0/16")!, gateway: IPv4Address("10.9.0.1")) }
    }

    @Test func allocationsSurviveEncoding() throws {
        var pool = try AddressPool(subnet: IPv4Subnet("10.5.0.0/24")!)
        _ = try pool.allocate()
        _ = try pool.allocate()
        var restored = try JSONDecoder().decode(AddressPool.self, from: JSONEncoder().encode(pool))
        #expect(restored == pool)
        #expect(try restored.allocate().description == "10.5.0.4")
    }

    @Test func poolsAvoidNetworksAndHostRoutes() {
        let routes = [IPv4Subnet("172.17.0.0/16")!, IPv4Subnet("172.19.3.0/24")!]
        let inUse = [IPv4Subnet("172.18.0.0/16")!]
        #expect(PoolSpec.choose(from: PoolSpec.dockerDefaults, inUse: inUse, hostRoutes: routes)?.description == "172.20.0.0/16")
        let full = (17...31).map { IPv4Subnet("172.\($0).0.0/16")! }
        #expect(PoolSpec.choose(from: PoolSpec.dockerDefaults, inUse: full, hostRoutes: [IPv4Subnet("192.168.0.0/24")!])?.description
            == "192.168.16.0/20")
    }

    @Test func hostRoutesAreReadFromProcNetRoute() {
        let text = """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
            berth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
            """
        #expect(HostRoutes.parse(text).map(\.description) == ["192.0.2.0/24", "172.17.0.0/16"])
        #expect(HostRoutes.parse(text, excludingDevices: ["berth0"]).map(\.description) == ["192.0.2.0/24"])
    }

    @Test func macAddressesFollowDocker() {
        #expect(macDescription(macAddress(for: IPv4Address("172.17.0.2")!)) == "02:42:ac:11:00:02")
    }
}
