import Foundation
import Testing

extension NetworkTests {
    /// A bridge's hardware address is its own, not the lowest of its ports': containers
    /// coming and going must not change the gateway's address under the others' ARP entries
    /// (their DNS queries were lost for seconds after a restart of a neighbour).
    @Test func aBridgeKeepsItsHardwareAddressAsContainersComeAndGo() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "--subnet", "10.235.\(Int(getpid()) % 200).0/24", "steady"]).status == 0)
        let id = net.docker(["network", "inspect", "-f", "{{.Id}}", "steady"]).stdout
        for device in [net.bridge, "br-" + id.prefix(12)] {
            let sys = "/sys/class/net/\(device)/"
            // NET_ADDR_SET: the kernel no longer takes a port's address for the bridge.
            #expect((try? String(contentsOfFile: sys + "addr_assign_type", encoding: .utf8)) == "3\n", "\(device)")
            let before = try String(contentsOfFile: sys + "address", encoding: .utf8)
            let network = device == net.bridge ? "bridge" : "steady"
            for _ in 0..<4 { #expect(net.docker(["run", "--rm", "--network", network, "busybox", "true"]).status == 0) }
            #expect(net.docker(["run", "-d", "--name", "stay-\(network)", "--network", network, "busybox", "sleep", "60"]).status == 0)
            #expect(try String(contentsOfFile: sys + "address", encoding: .utf8) == before, "\(device)")
        }
    }
}
