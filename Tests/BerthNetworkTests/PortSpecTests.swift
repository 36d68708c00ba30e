import Foundation
import Testing
@testable import BerthNetwork

struct PortSpecTests {
    @Test func bindingsAndPublishAll() throws {
        let requests = try PortSpecs.requests(
            bindings: ["80/tcp": [(nil, "10001")], "53/udp": [("127.0.0.1", "")], "9000/tcp": [(nil, "8000-8010")]],
            exposed: ["80/tcp", "443/tcp", "53/udp"], publishAll: true)
        // In dockerd's order of allocation: the exact host port first, then by container port.
        #expect(requests == [
            PortRequest(containerPort: 80, proto: "tcp", hostIP: "", hostPorts: 10001...10001),
            PortRequest(containerPort: 53, proto: "udp", hostIP: "127.0.0.1", hostPorts: 0...0),
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
