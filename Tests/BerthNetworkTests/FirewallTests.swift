import Foundation
import Testing
@testable import BerthNetwork

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
