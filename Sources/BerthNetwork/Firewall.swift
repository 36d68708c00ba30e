import BerthOCI
import CSystemShims
import FoundationEssentials
import Glibc

/// Berth's nftables rules, all in one table of its own (`table ip <name>`), rewritten as a
/// whole in one `nft -f` transaction whenever networks or published ports change. Other
/// tables are never read or touched.
public struct FirewallRuleset: Sendable, Equatable {
    public struct Bridge: Sendable, Equatable {
        public var device: String
        public var subnet: IPv4Subnet
        /// `--internal`: nothing in or out but between its own containers.
        public var isInternal: Bool
        /// A user-defined network: isolated from the other user networks and the default bridge.
        public var isolated: Bool
        /// Inter-container communication: false drops what one container sends another.
        public var icc: Bool
        /// NAT to the outside (`enable_ip_masquerade`).
        public var masquerade: Bool
        public init(device: String, subnet: IPv4Subnet, isInternal: Bool, isolated: Bool = true, icc: Bool = true,
                    masquerade: Bool = true) {
            self.device = device
            self.subnet = subnet
            self.isInternal = isInternal
            self.isolated = isolated
            self.icc = icc
            self.masquerade = masquerade
        }
    }

    /// A legacy link on a bridge without icc: `from` may reach `to` on one of its exposed
    /// ports, and the answers come back (dockerd's ACCEPT pair per port).
    public struct Link: Sendable, Equatable, Codable {
        public var bridge: String
        public var from: IPv4Address
        public var to: IPv4Address
        public var proto: String
        public var port: Int
        public init(bridge: String, from: IPv4Address, to: IPv4Address, proto: String, port: Int) {
            self.bridge = bridge
            self.from = from
            self.to = to
            self.proto = proto
            self.port = port
        }
    }

    public struct Forward: Sendable, Equatable {
        public var proto: String
        /// nil for every host address.
        public var hostIP: IPv4Address?
        public var hostPort: Int
        public var containerIP: IPv4Address
        public var containerPort: Int
        /// The container's bridge: its own traffic goes through the proxy instead (hairpin).
        public var bridge: String
        public init(proto: String, hostIP: IPv4Address?, hostPort: Int, containerIP: IPv4Address, containerPort: Int, bridge: String) {
            self.proto = proto
            self.hostIP = hostIP
            self.hostPort = hostPort
            self.containerIP = containerIP
            self.containerPort = containerPort
            self.bridge = bridge
        }
    }

    public var table: String
    public var bridges: [Bridge]
    public var forwards: [Forward]
    public var links: [Link]

    public init(table: String, bridges: [Bridge], forwards: [Forward], links: [Link] = []) {
        self.table = table
        self.bridges = bridges
        self.forwards = forwards
        self.links = links
    }

    /// The `nft -f` input: creates the table if missing, deletes it, and writes it anew, so
    /// the kernel swaps old rules for new ones atomically.
    public func script() -> String {
        var text = "table ip \(table)\ndelete table ip \(table)\ntable ip \(table) {\n"
        text += "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
        text += "\t\tfib daddr type local jump published\n\t}\n"
        // Loopback traffic is the userland proxy's; the host's other addresses are DNATed here.
        text += "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
        text += "\t\tip daddr != 127.0.0.0/8 fib daddr type local jump published\n\t}\n"
        text += "\tchain published {\n"
        for forward in forwards {
            if let hostIP = forward.hostIP, hostIP.value >> 24 == 127 { continue }
            var rule = "\t\tiifname != \(quoted(forward.bridge)) "
            if let hostIP = forward.hostIP, hostIP.value != 0 { rule += "ip daddr \(hostIP) " }
            rule += "\(forward.proto) dport \(forward.hostPort) dnat to \(forward.containerIP):\(forward.containerPort)\n"
            text += rule
        }
        text += "\t}\n"
        text += "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        for bridge in bridges where !bridge.isInternal && bridge.masquerade {
            text += "\t\tip saddr \(bridge.subnet) oifname != \(quoted(bridge.device)) masquerade\n"
        }
        text += "\t}\n"
        text += "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
        for bridge in bridges where bridge.isInternal {
            text += "\t\tiifname \(quoted(bridge.device)) oifname != \(quoted(bridge.device)) drop\n"
            text += "\t\toifname \(quoted(bridge.device)) iifname != \(quoted(bridge.device)) drop\n"
        }
        // Docker's isolation: no traffic between two different Docker networks.
        for from in bridges {
            for to in bridges where to.device != from.device && (from.isolated || to.isolated) {
                text += "\t\tiifname \(quoted(from.device)) oifname \(quoted(to.device)) drop\n"
            }
        }
        // icc off: traffic between two ports of the bridge is seen here through br_netfilter,
        // with the bridge as both interfaces (as dockerd's `-i docker0 -o docker0 -j DROP`).
        for bridge in bridges where !bridge.icc {
            let both = "iifname \(quoted(bridge.device)) oifname \(quoted(bridge.device))"
            for link in links where link.bridge == bridge.device {
                text += "\t\t\(both) ip saddr \(link.from) ip daddr \(link.to) \(link.proto) dport \(link.port) accept\n"
                text += "\t\t\(both) ip saddr \(link.to) ip daddr \(link.from) \(link.proto) sport \(link.port) accept\n"
            }
            text += "\t\t\(both) drop\n"
        }
        text += "\t}\n}\n"
        return text
    }

    /// Only the deletion, for when the last network goes.
    public func deletionScript() -> String {
        "table ip \(table)\ndelete table ip \(table)\n"
    }

    private func quoted(_ name: String) -> String { "\"\(name)\"" }

    /// Runs `nft -f -` with the script on stdin.
    public static func apply(_ script: String) throws {
        var input: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard pipe(&input) == 0 else { throw NetworkError.errno("pipe", errno) }
        guard pipe(&errors) == 0 else {
            let code = errno
            input.forEach { close($0) }
            throw NetworkError.errno("pipe", code)
        }
        // Not inherited by other children spawned meanwhile (their copy would hold the pipes open).
        for fd in input + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let map: [Int32] = [input[0], 0, null, 1, errors[1], 2]
        let pid = withCStrings([nftPath, "-f", "-"]) { berth_spawn(nftPath, $0, environ, map, 3, 0) }
        let spawnError = errno
        close(input[0])
        close(errors[1])
        close(null)
        guard pid > 0 else {
            close(input[1])
            close(errors[0])
            throw NetworkError.errno("run \(nftPath)", spawnError)
        }
        // nft reads the whole script before it writes anything, so one pipe at a time is enough.
        DescriptorIO.writeAll(input[1], Array(script.utf8))
        close(input[1])
        let message = DescriptorIO.readToEnd(errors[0])
        close(errors[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard berth_wifexited(status) != 0, berth_wexitstatus(status) == 0 else {
            throw NetworkError("nft failed: \(String(decoding: message, as: UTF8.self).trimmed())")
        }
    }

    static let nftPath = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/nft"
}
