import Foundation
import Testing

/// A parent link of the test's own for macvlan and ipvlan networks: one end of a veth pair
/// whose other end is up on the host and goes nowhere, so frames reach only the links on it
/// (a dummy would do the same, but this kernel may lack the dummy driver). Never a real
/// interface of the host. Both ends are deleted at the end.
final class TestParent {
    let name: String

    /// `tag`: two letters that tell the tests' parents apart ("berth-t" + tag + 3 digits).
    init(_ tag: String) throws {
        name = "berth-t\(tag)\(Int(getpid()) % 1000)"
        Harness.run("/usr/sbin/ip", ["link", "del", name])
        let add = Harness.run("/usr/sbin/ip", ["link", "add", name, "type", "veth", "peer", "name", name + "p"])
        guard add.status == 0 else { throw TestFailure("ip link add \(name): \(add.stderr)") }
        Harness.run("/usr/sbin/ip", ["link", "set", name + "p", "up"])
        Harness.run("/usr/sbin/ip", ["link", "set", name, "up"])
    }

    deinit { Harness.run("/usr/sbin/ip", ["link", "del", name]) }

    static func exists(_ link: String) -> Bool {
        Harness.run("/usr/sbin/ip", ["link", "show", "dev", link]).status == 0
    }

    /// The host's links that hang off `parent` (macvlan, ipvlan or VLAN links show as
    /// "name@parent"), other than the veth peer.
    static func linksOn(_ parent: String) -> [String] {
        Harness.run("/usr/sbin/ip", ["-o", "link", "show"]).stdout.split(separator: "\n").map(String.init)
            .filter { $0.contains("@" + parent + ":") && !$0.contains(" " + parent + "p@") }
    }

    /// Whether the kernel has a link type (ipvlan, dummy, vlan), tried in a namespace of
    /// its own that goes with the probe.
    static func kernelHas(_ kind: String) -> Bool {
        let make = kind == "dummy" ? "ip link add x type dummy" : "ip link add x link p type \(kind)" + (kind == "vlan" ? " id 10" : "")
        return Harness.run("/usr/bin/unshare", ["-n", "sh", "-c", "ip link add p type veth peer name q && " + make]).status == 0
    }
}

/// The macvlan and ipvlan drivers, as dockerd's: containers on a dummy parent reach each
/// other by name, ipvlan l3 routes between subnets, bad options get dockerd's words, the
/// parents berthd makes go with their network, and running containers keep their links
/// across a daemon restart.
@Suite(.enabled(if: Harness.isRoot, "networking needs root"), .serialized)
struct MacvlanTests {
    static let octet = Int(getpid()) % 200

    @Test func macvlanContainersFindEachOtherByName() throws {
        let net = try NetworkDaemon()
        let parent = try TestParent("mv")
        let subnet = "10.247.\(Self.octet)"
        let create = net.docker(["network", "create", "-d", "macvlan", "--subnet", "\(subnet).0/24", "--gateway", "\(subnet).1",
                                 "-o", "parent=\(parent.name)", "mvnet"])
        #expect(create.status == 0, "\(create.stderr)")
        let shown = net.docker(["network", "inspect", "-f",
                                "{{.Driver}} {{json .Options}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Internal}}", "mvnet"])
        #expect(shown.stdout == "macvlan {\"parent\":\"\(parent.name)\"} \(subnet).0/24 \(subnet).1 false\n", "\(shown)")
        #expect(net.docker(["network", "ls", "--filter", "driver=macvlan", "--format", "{{.Name}} {{.Driver}}"]).stdout == "mvnet macvlan\n")

        // Published ports are ignored, as dockerd's driver ignores them.
        let web = net.docker(["run", "-d", "--name", "mv1", "--network", "mvnet", "--network-alias", "web", "--ip", "\(subnet).10",
                              "--mac-address", "02:aa:bb:cc:dd:01", "-p", "\(Harness.freePort()):80", "busybox", "sleep", "300"])
        #expect(web.status == 0, "\(web.stderr)")
        #expect(net.docker(["run", "-d", "--name", "mv2", "--network", "mvnet", "busybox", "sleep", "300"]).status == 0)
        #expect(net.docker(["port", "mv1"]).stdout == "")
        let settings = net.docker(["inspect", "-f", "{{with .NetworkSettings.Networks.mvnet}}{{.IPAddress}}/{{.IPPrefixLen}} {{.Gateway}} {{.MacAddress}}{{end}}", "mv1"])
        #expect(settings.stdout == "\(subnet).10/24 \(subnet).1 02:aa:bb:cc:dd:01\n", "\(settings)")
        let link = Self.ip(net, "mv1", ["-d", "link", "show", "eth0"])
        #expect(link.contains("macvlan mode bridge") && link.contains("02:aa:bb:cc:dd:01"), "\(link)")
        #expect(net.docker(["exec", "mv1", "ip", "route"]).stdout.contains("default via \(subnet).1 dev eth0"))
        // A random, locally administered unicast address when none is asked for.
        let mac = net.docker(["inspect", "-f", "{{.NetworkSettings.Networks.mvnet.MacAddress}}", "mv2"]).stdout
        #expect(mac.count == 18 && (UInt8(mac.prefix(2), radix: 16) ?? 1) & 3 == 2, "\(mac)")

        for name in ["mv1", "web"] {
            let ping = net.docker(["exec", "mv2", "ping", "-c", "1", "-W", "2", name])
            #expect(ping.status == 0 && ping.stdout.contains("from \(subnet).10"), "\(ping)")
        }
        #expect(net.docker(["exec", "mv1", "cat", "/etc/resolv.conf"]).stdout.contains("nameserver 127.0.0.11"))
        let members = net.docker(["network", "inspect", "-f", "{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}", "mvnet"]).stdout
        #expect(members.contains("mv1=\(subnet).10/24") && members.contains("mv2=\(subnet).2/24"), "\(members)")

        let busy = net.docker(["network", "rm", "mvnet"])
        #expect(busy.status != 0 && busy.stderr.contains("has active endpoints"), "\(busy.stderr)")
        #expect(net.docker(["rm", "-f", "mv1", "mv2"]).status == 0)
        #expect(net.docker(["network", "rm", "mvnet"]).status == 0)
        // The user's parent stays; nothing hangs off it and no namespace is left.
        #expect(TestParent.exists(parent.name))
        #expect(TestParent.linksOn(parent.name).isEmpty)
        #expect(Self.namespacesGo(net))
    }

    /// `network connect` gives a running container a macvlan link, `disconnect` takes it away.
    @Test func aRunningContainerJoinsAndLeavesAMacvlanNetwork() throws {
        let net = try NetworkDaemon()
        let parent = try TestParent("mc")
        let subnet = "10.248.\(Self.octet)"
        let create = net.docker(["network", "create", "-d", "macvlan", "--subnet", "\(subnet).0/24", "--ipv6", "--subnet", "fd42:beef:\(Self.octet)::/64",
                                 "-o", "parent=\(parent.name)", "-o", "macvlan_mode=private", "mcnet"])
        #expect(create.status == 0, "\(create.stderr)")
        #expect(net.docker(["run", "-d", "--name", "mc1", "busybox", "sleep", "300"]).status == 0)
        let connect = net.docker(["network", "connect", "--ip", "\(subnet).20", "mcnet", "mc1"])
        #expect(connect.status == 0, "\(connect.stderr)")
        let link = net.docker(["exec", "mc1", "ip", "-o", "addr", "show", "eth1"]).stdout
        #expect(link.contains("inet \(subnet).20/24"), "\(link)")
        #expect(link.contains("inet6 fd42:beef:\(Self.octet)::2/64"), "\(link)")
        let view = net.docker(["inspect", "-f", "{{with .NetworkSettings.Networks.mcnet}}{{.IPAddress}} {{.GlobalIPv6Address}}/{{.GlobalIPv6PrefixLen}}{{end}}", "mc1"])
        #expect(view.stdout == "\(subnet).20 fd42:beef:\(Self.octet)::2/64\n", "\(view)")
        #expect(Self.ip(net, "mc1", ["-d", "link", "show", "eth1"]).contains("macvlan mode private"))
        #expect(net.docker(["network", "disconnect", "mcnet", "mc1"]).status == 0)
        #expect(net.docker(["exec", "mc1", "ip", "link", "show", "eth1"]).status != 0)
        #expect(net.docker(["exec", "mc1", "ip", "link", "show", "eth0"]).status == 0)
        #expect(net.docker(["rm", "-f", "mc1"]).status == 0)
        #expect(net.docker(["network", "rm", "mcnet"]).status == 0)
    }

    /// Needs the kernel's ipvlan driver (this project's VM kernel lacks it: the test says so).
    @Test(.enabled(if: TestParent.kernelHas("ipvlan"), "the kernel has no ipvlan driver"))
    func ipvlanL2AndL3() throws {
        let net = try NetworkDaemon()
        let parent = try TestParent("iv")
        let subnet = "10.249.\(Self.octet)"
        #expect(net.docker(["network", "create", "-d", "ipvlan", "--subnet", "\(subnet).0/24", "-o", "parent=\(parent.name)", "ivnet"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "iv1", "--network", "ivnet", "busybox", "sleep", "300"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "iv2", "--network", "ivnet", "busybox", "sleep", "300"]).status == 0)
        let ping = net.docker(["exec", "iv2", "ping", "-c", "1", "-W", "2", "iv1"])
        #expect(ping.status == 0 && ping.stdout.contains("from \(subnet).2"), "\(ping)")
        let link = Self.ip(net, "iv1", ["-d", "link", "show", "eth0"])
        #expect(link.contains("ipvlan  mode l2 bridge") || link.contains("ipvlan mode l2 bridge"), "\(link)")
        #expect(net.docker(["exec", "iv1", "ip", "route"]).stdout.contains("default via \(subnet).1 dev eth0"))
        // ipvlan links share the parent's hardware address: none of their own to ask for.
        let mac = net.docker(["run", "--rm", "--network", "ivnet", "--mac-address", "02:aa:bb:cc:dd:02", "busybox", "true"])
        #expect(mac.status != 0 && mac.stderr.contains("ipvlan interfaces do not support custom mac address assignment"), "\(mac.stderr)")
        #expect(net.docker(["rm", "-f", "iv1", "iv2"]).status == 0)
        #expect(net.docker(["network", "rm", "ivnet"]).status == 0)

        // l3: two subnets, a default route on the link itself, routed between the subnets.
        let other = "10.246.\(Self.octet)"
        let l3 = net.docker(["network", "create", "-d", "ipvlan", "--subnet", "\(subnet).0/24", "--subnet", "\(other).0/24",
                             "-o", "ipvlan_mode=l3", "-o", "parent=\(parent.name)", "l3net"])
        #expect(l3.status == 0, "\(l3.stderr)")
        let config = net.docker(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}+{{.Gateway}} {{end}}", "l3net"]).stdout
        #expect(config == "\(subnet).0/24+ \(other).0/24+ \n", "\(config)")
        #expect(net.docker(["run", "-d", "--name", "l3a", "--network", "l3net", "busybox", "sleep", "300"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "l3b", "--network", "l3net", "--ip", "\(other).7", "busybox", "sleep", "300"]).status == 0)
        // No gateway is held back: the first address is a container's.
        #expect(net.docker(["inspect", "-f", "{{.NetworkSettings.Networks.l3net.IPAddress}}|{{.NetworkSettings.Networks.l3net.Gateway}}", "l3a"]).stdout
            == "\(subnet).1|\n")
        let routes = net.docker(["exec", "l3b", "ip", "route"]).stdout
        #expect(routes.contains("default dev eth0"), "\(routes)")
        let across = net.docker(["exec", "l3b", "ping", "-c", "1", "-W", "2", "l3a"])
        #expect(across.status == 0 && across.stdout.contains("from \(subnet).1"), "\(across)")
        #expect(net.docker(["exec", "l3a", "ping", "-c", "1", "-W", "2", "\(other).7"]).status == 0)
        #expect(net.docker(["rm", "-f", "l3a", "l3b"]).status == 0)
        #expect(net.docker(["network", "rm", "l3net"]).status == 0)
        #expect(TestParent.linksOn(parent.name).isEmpty)
    }

    @Test func badOptionsAreRefusedInDockerdsWords() throws {
        let net = try NetworkDaemon()
        let parent = try TestParent("bo")
        let refusals: [([String], String)] = [
            (["-d", "macvlan", "-o", "macvlan_mode=l2", "-o", "parent=\(parent.name)"],
             "requested macvlan mode 'l2' is not valid, 'bridge' mode is the macvlan driver default"),
            (["-d", "ipvlan", "-o", "ipvlan_mode=bridge", "-o", "parent=\(parent.name)"],
             "requested ipvlan mode 'bridge' is not valid, 'l2' mode is the ipvlan driver default"),
            (["-d", "ipvlan", "-o", "ipvlan_flag=passthru", "-o", "parent=\(parent.name)"],
             "requested ipvlan flag 'passthru' is not valid, 'bridge' is the ipvlan driver default"),
            (["-d", "macvlan", "-o", "parent=lo"], "loopback interface is not a valid macvlan parent link"),
            (["-d", "macvlan", "-o", "parent=berth-tnosuch"], "invalid subinterface vlan name berth-tnosuch, example formatting is eth0.10"),
            (["-d", "macvlan", "-o", "parent=berth-tnosuch.5"], "-o parent interface was not found on the host: berth-tnosuch"),
            (["-d", "macvlan", "-o", "parent=\(parent.name).x"], "unable to parse a valid vlan id from: x (ex. eth0.10 for vlan 10)"),
            (["-d", "macvlan", "-o", "parent=\(parent.name).4095"], "vlan id must be between 1-4094, received: 4095"),
        ]
        for (args, text) in refusals {
            let result = net.docker(["network", "create"] + args + ["badnet"])
            #expect(result.status == 1 && result.stderr == "Error response from daemon: \(text)\n", "\(args): \(result.stderr)")
        }
        #expect(net.docker(["network", "ls", "-q", "--filter", "name=badnet"]).stdout == "")

        // macvlan networks share a parent (dockerd 28), but not with passthru.
        #expect(net.docker(["network", "create", "-d", "macvlan", "-o", "parent=\(parent.name)", "share1"]).status == 0)
        #expect(net.docker(["network", "create", "-d", "macvlan", "-o", "parent=\(parent.name)", "share2"]).status == 0)
        let id = net.docker(["network", "inspect", "-f", "{{.Id}}", "share1"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let passthru = net.docker(["network", "create", "-d", "macvlan", "-o", "parent=\(parent.name)", "-o", "macvlan_mode=passthru", "pt"])
        #expect(passthru.stderr == "Error response from daemon: cannot use mode passthru, macvlan network \(id) is already using parent interface \(parent.name)\n",
                "\(passthru.stderr)")
        #expect(net.docker(["network", "rm", "share1", "share2"]).status == 0)

        // `--internal`: no default route.
        #expect(net.docker(["network", "create", "-d", "macvlan", "--internal", "--subnet", "10.245.\(Self.octet).0/24",
                            "-o", "parent=\(parent.name)", "inside"]).status == 0)
        let inside = net.docker(["run", "--rm", "--network", "inside", "busybox", "ip", "route"])
        #expect(inside.status == 0 && !inside.stdout.contains("default") && inside.stdout.contains("10.245."), "\(inside)")
        #expect(net.docker(["network", "rm", "inside"]).status == 0)

        // One ipvlan network per parent, in dockerd's words (checked at create).
        #expect(net.docker(["network", "create", "-d", "ipvlan", "--subnet", "10.243.\(Self.octet).0/24", "-o", "parent=\(parent.name)",
                            "ivfirst"]).status == 0)
        let first = net.docker(["network", "inspect", "-f", "{{.Id}}", "ivfirst"]).stdout.prefix(12)
        let twice = net.docker(["network", "create", "-d", "ipvlan", "-o", "parent=\(parent.name)", "ivagain"])
        #expect(twice.stderr == "Error response from daemon: network di-\(first) is already using parent interface \(parent.name)\n",
                "\(twice.stderr)")
        // ipvlan links share the parent's hardware address: none of their own to ask for.
        let mac = net.docker(["run", "--rm", "--network", "ivfirst", "--mac-address", "02:aa:bb:cc:dd:02", "busybox", "true"])
        #expect(mac.status != 0 && mac.stderr.contains("ipvlan interfaces do not support custom mac address assignment"), "\(mac.stderr)")
        #expect(net.docker(["network", "rm", "ivfirst"]).status == 0)
    }

    /// The parents berthd makes (needs the kernel's dummy and 802.1Q drivers, which this
    /// project's VM kernel lacks: the test says so).
    @Test(.enabled(if: TestParent.kernelHas("dummy") && TestParent.kernelHas("vlan"), "the kernel has no dummy or vlan driver"))
    func parentsBerthdMakesGoWithTheirNetwork() throws {
        let net = try NetworkDaemon()
        let parent = try TestParent("vl")
        // No parent: dockerd's dummy, made and removed with the network; internal to the driver.
        #expect(net.docker(["network", "create", "-d", "macvlan", "--subnet", "10.245.\(Self.octet).0/24", "lonely"]).status == 0)
        let lonely = net.docker(["network", "inspect", "-f", "{{.Id}} {{json .Options}} {{.Internal}}", "lonely"]).stdout
        let dummy = "dm-" + lonely.prefix(12)
        #expect(lonely.hasSuffix(" {} false\n"), "\(lonely)")
        #expect(TestParent.exists(dummy))
        let alone = net.docker(["run", "--rm", "--network", "lonely", "busybox", "ip", "route"])
        #expect(alone.status == 0 && !alone.stdout.contains("default"), "\(alone)")
        #expect(net.docker(["network", "rm", "lonely"]).status == 0)
        #expect(!TestParent.exists(dummy))

        // parent=x.10: the VLAN subinterface is made, and removed with the network.
        let vlan = parent.name + ".10"
        #expect(net.docker(["network", "create", "-d", "macvlan", "-o", "parent=\(vlan)", "tagged"]).status == 0)
        #expect(Harness.run("/usr/sbin/ip", ["-d", "link", "show", "dev", vlan]).stdout.contains("vlan protocol 802.1Q id 10"))
        #expect(net.docker(["network", "inspect", "-f", "{{.Options.parent}}", "tagged"]).stdout == vlan + "\n")
        #expect(net.docker(["network", "rm", "tagged"]).status == 0)
        #expect(!TestParent.exists(vlan))
        #expect(TestParent.exists(parent.name))
    }

    /// A berthd restart keeps the networks, and running containers their links and names.
    @Test func linksSurviveADaemonRestart() throws {
        let first = try NetworkDaemon()
        let parent = try TestParent("rs")
        let subnet = "10.244.\(Self.octet)"
        #expect(first.docker(["network", "create", "-d", "macvlan", "--subnet", "\(subnet).0/24", "-o", "parent=\(parent.name)", "keep"]).status == 0)
        #expect(first.docker(["run", "-d", "--name", "k1", "--network", "keep", "busybox", "sleep", "300"]).status == 0)
        #expect(first.docker(["run", "-d", "--name", "k2", "--network", "keep", "busybox", "sleep", "300"]).status == 0)
        first.daemon.crash()
        first.keep = true
        let second = try NetworkDaemon(directory: first.daemon.directory)
        #expect(second.docker(["network", "inspect", "-f", "{{.Driver}} {{.Options.parent}}", "keep"]).stdout == "macvlan \(parent.name)\n")
        let ping = second.docker(["exec", "k1", "ping", "-c", "1", "-W", "2", "k2"])
        #expect(ping.status == 0 && ping.stdout.contains("from \(subnet).3"), "\(ping) \(second.daemon.log)")
        // A new container gets an address of its own.
        let third = second.docker(["run", "--rm", "--network", "keep", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"])
        #expect(third.stdout.contains("inet \(subnet).4/24"), "\(third)")
        #expect(second.docker(["rm", "-f", "k1", "k2"]).status == 0)
        #expect(second.docker(["network", "rm", "keep"]).status == 0)
        #expect(Self.namespacesGo(second))
    }

    /// `ip` of the host (busybox's shows no link details) in a container's namespace.
    static func ip(_ net: NetworkDaemon, _ container: String, _ args: [String]) -> String {
        let key = net.docker(["inspect", "-f", "{{.NetworkSettings.SandboxKey}}", container]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return Harness.run("/usr/bin/nsenter", ["--net=" + key, "/usr/sbin/ip"] + args).stdout
    }

    /// The namespaces (and the links in them) go in the background after the containers.
    static func namespacesGo(_ net: NetworkDaemon) -> Bool {
        for _ in 0..<100 {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: net.daemon.directory + "/exec/netns")) ?? []
            if left.isEmpty { return true }
            usleep(20_000)
        }
        return false
    }
}
