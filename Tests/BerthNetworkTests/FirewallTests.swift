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

    @Test func iccOffDropsTrafficWithinTheBridgeButWhatLinksOpen() {
        let ruleset = FirewallRuleset(table: "berth", bridges: [
            .init(device: "berth0", subnet: IPv4Subnet("172.17.0.0/16")!, isInternal: false, isolated: false, icc: false),
            .init(device: "br-a", subnet: IPv4Subnet("172.18.0.0/16")!, isInternal: false, masquerade: false),
        ], forwards: [], links: [
            .init(bridge: "berth0", from: IPv4Address("172.17.0.3")!, to: IPv4Address("172.17.0.2")!, proto: "tcp", port: 5432),
        ])
        let script = ruleset.script()
        let open = "\t\tiifname \"berth0\" oifname \"berth0\" ip saddr 172.17.0.3 ip daddr 172.17.0.2 tcp dport 5432 accept\n"
        let back = "\t\tiifname \"berth0\" oifname \"berth0\" ip saddr 172.17.0.2 ip daddr 172.17.0.3 tcp sport 5432 accept\n"
        let drop = "\t\tiifname \"berth0\" oifname \"berth0\" drop\n"
        #expect(script.contains(open) && script.contains(back) && script.contains(drop), "\(script)")
        // The link's rules come first: the drop would end the chain for them otherwise.
        if let openAt = script.range(of: open), let dropAt = script.range(of: drop) {
            #expect(openAt.lowerBound < dropAt.lowerBound)
        }
        #expect(!script.contains("iifname \"br-a\" oifname \"br-a\""), "icc is on for br-a")
        #expect(script.contains("ip saddr 172.17.0.0/16 oifname != \"berth0\" masquerade"))
        #expect(!script.contains("ip saddr 172.18.0.0/16"), "br-a has masquerading off")
    }

    @Test func bridgeOptionsParseAsGoDoes() throws {
        #expect(try BridgeOptions.flag(["com.docker.network.bridge.enable_icc": "False"], BridgeOptions.enableICC) == false)
        #expect(try BridgeOptions.flag(["com.docker.network.bridge.enable_icc": "1"], BridgeOptions.enableICC) == true)
        #expect(try BridgeOptions.flag([:], BridgeOptions.enableICC) == true)
        #expect(throws: NetworkRequestError.self) { try BridgeOptions.flag(["com.docker.network.bridge.enable_icc": "yes"], BridgeOptions.enableICC) }
        do {
            _ = try BridgeOptions.flag(["com.docker.network.bridge.enable_ip_masquerade": ""], BridgeOptions.enableIPMasquerade)
        } catch {
            #expect("\(error)" == "failed to parse com.docker.network.bridge.enable_ip_masquerade value:  (strconv.ParseBool: parsing \"\": invalid syntax)")
        }
    }
}
