import Testing
@testable import BerthNetwork

/// `--link` on a user network: the endpoint's Links read as libnetwork reads them, and the
/// aliases a container alone resolves.
struct EndpointLinkTests {
    @Test func linksReadAsTargetAndAlias() {
        #expect(EndpointLink.parse("web:w").map { [$0.target, $0.alias] } == ["web", "w"])
        #expect(EndpointLink.parse("web").map { [$0.target, $0.alias] } == ["web", "web"])
        #expect(EndpointLink.parse("/web:/me/w").map { [$0.target, $0.alias] } == ["web", "w"])
        #expect(EndpointLink.parse("a:b:c") == nil)
        #expect(EndpointLink.parse("") == nil)
    }

    /// The alias is the asking container's, on the network it linked on; any case, a final dot.
    @Test func anAliasIsTheAskingContainersOnly() {
        let table = DNSTable()
        let me = IPv4Address("10.1.0.3")!, other = IPv4Address("10.1.0.4")!
        table.setContainer("me", .init(linkAliases: ["lnk": ["w": "web"]], linkAddresses: [me]))
        #expect(table.linkTarget(client: me, network: "lnk", name: "W.") == "web")
        #expect(table.linkTarget(client: me, network: "elsewhere", name: "w") == nil)
        #expect(table.linkTarget(client: other, network: "lnk", name: "w") == nil)
        #expect(table.linkTarget(client: nil, network: "lnk", name: "w") == nil)
    }
}

/// `--mac-address` as Go's net.ParseMAC reads a 48-bit address.
struct EndpointHardwareAddressTests {
    @Test func addressesParseWithColonsOrDashes() throws {
        #expect(try EndpointRequest.hardwareAddress("02:42:AC:11:00:02") == [0x02, 0x42, 0xac, 0x11, 0x00, 0x02])
        #expect(try EndpointRequest.hardwareAddress("02-42-ac-11-00-03") == [0x02, 0x42, 0xac, 0x11, 0x00, 0x03])
        #expect(try EndpointRequest.hardwareAddress(nil) == nil)
        #expect(try EndpointRequest.hardwareAddress("") == nil)
        for bad in ["bad", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "0242ac110002", "02:42:ac:11:00:2"] {
            #expect(throws: NetworkRequestError.self) { try EndpointRequest.hardwareAddress(bad) }
        }
    }

    @Test func onlyAnAddressOrAliasMakesTheDefaultBridgeNeedARecord() {
        #expect(EndpointRequest().isPlain)
        #expect(!EndpointRequest(macAddress: "02:42:ac:11:00:02").isPlain)
        #expect(!EndpointRequest(aliases: ["a"]).isPlain)
    }
}
