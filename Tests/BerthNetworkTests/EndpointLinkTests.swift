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
        table.setLinkAliases([me: ["lnk": ["w": "web"]]])
        #expect(table.linkTarget(client: me, network: "lnk", name: "W.") == "web")
        #expect(table.linkTarget(client: me, network: "elsewhere", name: "w") == nil)
        #expect(table.linkTarget(client: other, network: "lnk", name: "w") == nil)
        #expect(table.linkTarget(client: nil, network: "lnk", name: "w") == nil)
    }
}
