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

struct FirewallTests {
    @Test func rulesetHasMasqueradeIsolationInternalAndPorts() {
        let ruleset = FirewallRuleset(table: "berth", bridges: [
            .init(device: "berth0", subnet: IPv4Subnet("172.17.0.0/16")!, isInternal: false),
            .init(device: "br-a", subnet: IPv4Subnet("172.18.0.0/16")!, isInternal: false),
            .init(device: "br-i", subnet: IPv4Subnet("172.19.0.0/16")!, isInternal: true),
        ], forwards: [
            .init(proto: "tcp", hostIP: nil, hostPort: 10001, containerIP: IPv4Address("172.17.0.2")!, containerPort: 80, bridge: "berth0"),
            .init(proto: "udp", hostIP: IPv4Address("192.0.2.2"), hostPort: 53, containerIP: IPv4Address("172.18.0.2")!, containerPort: 53, bridge: "br-a"),
            .init(proto: "tcp", hostIP: IPv4Address("127.0.0.1"), hostPort: 8080, containerIP: IPv4Address("172.17.0.2")!, containerPort: 80, bridge: "berth0"),
        ])
        let script = ruleset.script()
        #expect(script.hasPrefix("table ip berth\ndelete table ip berth\ntable ip berth {\n"))
        #expect(script.contains("\t\tiifname != \"berth0\" tcp dport 10001 dnat to 172.17.0.2:80\n"))
        #expect(script.contains("\t\tiifname != \"br-a\" ip daddr 192.0.2.2 udp dport 53 dnat to 172.18.0.2:53\n"))
        #expect(!script.contains("dport 8080"), "loopback bindings are the proxy's")
        #expect(script.contains("ip saddr 172.17.0.0/16 oifname != \"berth0\" masquerade"))
        #expect(!script.contains("ip saddr 172.19.0.0/16"), "internal networks have no way out")
        #expect(script.contains("iifname \"br-i\" oifname != \"br-i\" drop"))
        #expect(script.contains("iifname \"berth0\" oifname \"br-a\" drop"))
        #expect(script.contains("iifname \"br-a\" oifname \"berth0\" drop"))
        #expect(!script.contains("iifname \"br-a\" oifname \"br-a\""))
        #expect(ruleset.deletionScript() == "table ip berth\ndelete table ip berth\n")
    }
}

struct DNSTests {
    @Test func queriesDecodeAndAnswersEncode() throws {
        let bytes = DNSQuery.encode(id: 0x1234, name: "blog1", type: DNSQuestion.typeA)
        let query = try #require(DNSQuery(bytes))
        #expect(query.id == 0x1234)
        #expect(query.question == DNSQuestion(name: "blog1", type: 1, qclass: 1))
        let answer = query.response(.addresses([IPv4Address("172.18.0.2")!]))
        #expect(Array(answer[0..<2]) == [0x12, 0x34])
        #expect(answer[2] & 0x80 != 0)      // a response
        #expect(answer[3] & 0x0f == 0)      // NOERROR
        #expect(Array(answer[6..<8]) == [0, 1])  // one answer
        #expect(Array(answer.suffix(4)) == [172, 18, 0, 2])
        let missing = query.response(nil)
        #expect(missing[3] & 0x0f == 3)     // NXDOMAIN
        let pointer = query.response(.pointer("blog1.net"))
        #expect(Array(pointer.suffix(11)) == [5] + Array("blog1".utf8) + [3] + Array("net".utf8) + [0])
        #expect(DNSQuery([1, 2, 3]) == nil)
    }

    @Test func reverseNamesAndTable() {
        #expect(reverseLookupAddress("2.0.18.172.in-addr.arpa")?.description == "172.18.0.2")
        #expect(reverseLookupAddress("example.com") == nil)
        let table = DNSTable()
        table.set(network: "n", entries: [(["blog1", "abc123", "web"], IPv4Address("172.18.0.2")!)])
        #expect(table.lookup(network: "n", name: "BLOG1.")?.first?.description == "172.18.0.2")
        #expect(table.lookup(network: "n", name: "web")?.count == 1)
        #expect(table.lookup(network: "other", name: "blog1") == nil)
        #expect(table.reverseLookup(network: "n", address: IPv4Address("172.18.0.2")!) == "blog1")
    }
}

struct PortSpecTests {
    @Test func bindingsAndPublishAll() throws {
        let requests = try PortSpecs.requests(
            bindings: ["80/tcp": [(nil, "10001")], "53/udp": [("127.0.0.1", "")], "9000/tcp": [(nil, "8000-8010")]],
            exposed: ["80/tcp", "443/tcp", "53/udp"], publishAll: true)
        #expect(requests == [
            PortRequest(containerPort: 53, proto: "udp", hostIP: "127.0.0.1", hostPorts: 0...0),
            PortRequest(containerPort: 80, proto: "tcp", hostIP: "", hostPorts: 10001...10001),
            PortRequest(containerPort: 443, proto: "tcp"),
            PortRequest(containerPort: 9000, proto: "tcp", hostPorts: 8000...8010),
        ])
        #expect(PortSpecs.parseKey("8080")! == (8080, "tcp"))
        #expect(PortSpecs.parseKey("x/tcp") == nil)
        #expect(throws: NetworkError.self) { try PortSpecs.parseHostPort("9-1") }
    }

    @Test func netlinkAttributesAreAlignedAndNested() {
        var request = NetlinkRequest(type: RTM.newLink, flags: NLM.request, header: NetlinkRequest.linkHeader())
        request.attributes.add(IFLA.ifname, string: "br0")
        request.attributes.nest(IFLA.linkinfo) { $0.add(IFLA.infoKind, string: "bridge") }
        let bytes = request.encoded(sequence: 7)
        #expect(bytes.count % 4 == 0)
        #expect(bytes.loadLE(UInt32.self, at: 0) == UInt32(bytes.count))
        #expect(bytes.loadLE(UInt16.self, at: 4) == 16)
        #expect(bytes.loadLE(UInt32.self, at: 8) == 7)
        // nlmsghdr (16) + ifinfomsg (16), then IFLA_IFNAME: len 8 ("br0\0"), type 3.
        #expect(bytes.loadLE(UInt16.self, at: 32) == 8)
        #expect(bytes.loadLE(UInt16.self, at: 34) == 3)
        // IFLA_LINKINFO holds IFLA_INFO_KIND "bridge\0" (4 + 7, padded to 12): 4 + 12 = 16.
        #expect(bytes.loadLE(UInt16.self, at: 40) == 16)
        #expect(bytes.loadLE(UInt16.self, at: 42) == 18)
    }
}
