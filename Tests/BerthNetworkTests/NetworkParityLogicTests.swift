import Foundation
import Testing
@testable import BerthNetwork

struct NetworkParityLogicTests {
    /// dockerd (v28) allocates exact host ports before ranges, then by container port,
    /// protocol (tcp, udp, sctp), host port and host address (IPv4 before IPv6).
    @Test func portsAreAllocatedInDockerdsOrder() {
        let unordered = [
            PortRequest(containerPort: 80, proto: "tcp", hostPorts: 18000...18001),
            PortRequest(containerPort: 90, proto: "sctp"),
            PortRequest(containerPort: 90, proto: "udp"),
            PortRequest(containerPort: 90, proto: "tcp", hostIP: "::1"),
            PortRequest(containerPort: 90, proto: "tcp", hostIP: "127.0.0.1"),
            PortRequest(containerPort: 81, proto: "tcp", hostPorts: 18000...18000),
        ]
        #expect(unordered.sorted(by: PortSpecs.allocationOrder) == [
            PortRequest(containerPort: 81, proto: "tcp", hostPorts: 18000...18000),
            PortRequest(containerPort: 80, proto: "tcp", hostPorts: 18000...18001),
            PortRequest(containerPort: 90, proto: "tcp", hostIP: "127.0.0.1"),
            PortRequest(containerPort: 90, proto: "tcp", hostIP: "::1"),
            PortRequest(containerPort: 90, proto: "udp"),
            PortRequest(containerPort: 90, proto: "sctp"),
        ])
    }

    /// Any address but an unspecified one, /16 for IPv4 and /64 for IPv6, refused in v28's words.
    @Test func linkLocalAddresses() {
        #expect(LinkLocalAddresses.parse("169.254.1.2") == .v4(IPv4Subnet(IPv4Address("169.254.1.2")!, prefixLength: 16)))
        #expect(LinkLocalAddresses.parse("fe80::10") == .v6(IPv6Subnet(IPv6Address("fe80::10")!, prefixLength: 64)))
        #expect(LinkLocalAddresses.problems(["169.254.1.2", "10.0.0.1", "fe80::1"]).isEmpty)
        #expect(LinkLocalAddresses.refusal(LinkLocalAddresses.problems(["abc"]))
                == "invalid endpoint settings:\ninvalid link-local IP address: abc")
        #expect(LinkLocalAddresses.refusal(LinkLocalAddresses.problems(["0.0.0.0", "::"]))
                == "invalid endpoint settings:\n* invalid link-local IP address: 0.0.0.0\n* invalid link-local IP address: ::")
        #expect(LinkLocalAddresses.refusal([]) == nil)
    }
}
