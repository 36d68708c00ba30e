import Testing
@testable import BerthEngine

/// `docker info`'s network warnings, in dockerd's words, from the /proc/sys switches.
struct SystemInfoNetworkTests {
    static let forwarding = "/proc/sys/net/ipv4/ip_forward"
    static let iptables = "/proc/sys/net/bridge/bridge-nf-call-iptables"
    static let ip6tables = "/proc/sys/net/bridge/bridge-nf-call-ip6tables"

    @Test func allOnSaysNothing() {
        #expect(SystemInfo.networkWarnings { _ in "1\n" } == [])
    }

    @Test func eachSwitchOffIsNamed() {
        let values = [Self.forwarding: "0\n", Self.iptables: "1\n", Self.ip6tables: "0\n"]
        #expect(SystemInfo.networkWarnings { values[$0] } == [
            "WARNING: IPv4 forwarding is disabled", "WARNING: bridge-nf-call-ip6tables is disabled",
        ])
    }

    @Test func withoutBrNetfilterBothBridgeSwitchesAreOff() {
        let values = [Self.forwarding: "1\n"]
        #expect(SystemInfo.networkWarnings { values[$0] } == [
            "WARNING: bridge-nf-call-iptables is disabled", "WARNING: bridge-nf-call-ip6tables is disabled",
        ])
    }
}
