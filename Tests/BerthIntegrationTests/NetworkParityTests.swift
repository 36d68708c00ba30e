import Foundation
import Testing

/// `docker network connect/disconnect` with host and none, `--link-local-ip`, the forms of
/// `-p` and the network commands' refusals, as current dockerd (v28) answers them.
@Suite(.enabled(if: Harness.isRoot, "networking needs root"), .serialized)
struct NetworkParityTests {
    static let noneText = "container cannot be connected to multiple networks with one of the networks in private (none) mode"
    static let sharedText = "container sharing network namespace with another container or host cannot be connected to any other network"

    static func daemonError(_ text: String) -> String { "Error response from daemon: \(text)\n" }

    /// The names of a container's networks, each with "+" when it has an address.
    static func networks(_ net: NetworkDaemon, _ name: String) -> String {
        net.docker(["inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{if $v.IPAddress}}+{{end}} {{end}}", name])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The container's interfaces with an IPv4 address ("lo eth0").
    static func interfaces(_ net: NetworkDaemon, _ name: String) -> String {
        net.docker(["exec", name, "sh", "-c", "ip -4 -o addr | cut -d' ' -f2 | xargs"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A container created with `--network none` may leave none and join the bridge, as with
    /// dockerd: stopped (it gets its address at the start), and running (at once); it may
    /// go back to none too. NetworkMode stays "none".
    @Test func noneContainerJoinsTheBridge() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["create", "--name", "stopped", "--network", "none", "busybox", "sleep", "100"]).status == 0)
        let refused = net.docker(["network", "connect", "bridge", "stopped"])
        #expect(refused.status == 1 && refused.stderr == Self.daemonError(Self.noneText), "\(refused)")
        #expect(net.docker(["network", "disconnect", "none", "stopped"]).status == 0)
        #expect(net.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}} {{.HostConfig.NetworkMode}}", "stopped"]).stdout == "{} none\n")
        let again = net.docker(["network", "disconnect", "none", "stopped"])
        #expect(again.status == 1 && again.stderr.hasSuffix("is not connected to the network none\n"), "\(again)")
        let connect = net.docker(["network", "connect", "bridge", "stopped"])
        #expect(connect.status == 0, "\(connect)")
        #expect(Self.networks(net, "stopped") == "bridge")
        // As sent until the start: no NetworkID yet.
        let networkID = { net.docker(["inspect", "-f", "{{.NetworkSettings.Networks.bridge.NetworkID}}", "stopped"]).stdout }
        #expect(networkID() == "\n")
        #expect(net.docker(["start", "stopped"]).status == 0)
        #expect(Self.networks(net, "stopped") == "bridge+")
        #expect(networkID().count == 65)
        #expect(Self.interfaces(net, "stopped") == "lo eth0")
        #expect(net.docker(["inspect", "-f", "{{.HostConfig.NetworkMode}}", "stopped"]).stdout == "none\n")
        #expect(net.docker(["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "bridge"]).stdout == "stopped \n")

        #expect(net.docker(["run", "-d", "--name", "running", "--network", "none", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["network", "disconnect", "none", "running"]).status == 0)
        #expect(Self.networks(net, "running") == "")
        let live = net.docker(["network", "connect", "bridge", "running"])
        #expect(live.status == 0, "\(live)")
        #expect(Self.networks(net, "running") == "bridge+")
        #expect(Self.interfaces(net, "running") == "lo eth0")
        // The bridge's address answers from the other container.
        let address = net.address("running")
        #expect(net.docker(["exec", "stopped", "ping", "-c", "1", "-W", "2", address]).status == 0)
        #expect(net.docker(["network", "disconnect", "bridge", "running"]).status == 0)
        #expect(Self.interfaces(net, "running") == "lo")
        #expect(net.docker(["network", "connect", "none", "running"]).status == 0)
        #expect(net.docker(["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "none"]).stdout == "running \n")
        let back = net.docker(["network", "connect", "bridge", "running"])
        #expect(back.status == 1 && back.stderr == Self.daemonError(Self.noneText), "\(back)")
        #expect(net.docker(["rm", "-f", "stopped", "running"]).status == 0)
        // Nothing of the joined namespaces stays bound under the exec root (they go in the background).
        func boundNamespaces() -> [Substring] {
            ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.contains(net.daemon.directory + "/") && $0.contains("/netns/") }
        }
        for _ in 0..<30 where !boundNamespaces().isEmpty { usleep(100_000) }
        #expect(boundNamespaces().isEmpty, "\(boundNamespaces())")
    }

    /// A running `--network none` container has a namespace of berthd's, as with dockerd: its
    /// SandboxKey (what users enter to add interfaces of their own) is the container's own
    /// namespace, with loopback only, and goes with the container's exit.
    @Test func noneContainerHasASandboxKey() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["run", "-d", "--name", "alone", "--network", "none", "busybox", "sleep", "100"]).status == 0)
        let fields = net.docker(["inspect", "-f", "{{.NetworkSettings.SandboxID}} {{.NetworkSettings.SandboxKey}}", "alone"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        #expect(fields.count == 2 && fields[0].count == 64 && fields[1] == net.daemon.directory + "/exec/netns/" + fields[0].prefix(12), "\(fields)")
        guard fields.count == 2 else { return }
        let inside = net.docker(["exec", "alone", "readlink", "/proc/self/ns/net"]).stdout
        let throughKey = Harness.run("/usr/bin/nsenter", ["--net=" + fields[1], "readlink", "/proc/self/ns/net"]).stdout
        #expect(inside.hasPrefix("net:[") && inside == throughKey, "\(inside) \(throughKey)")
        #expect(Self.interfaces(net, "alone") == "lo")
        #expect(net.docker(["stop", "-t", "0", "alone"]).status == 0)
        #expect(net.docker(["inspect", "-f", "[{{.NetworkSettings.SandboxID}}{{.NetworkSettings.SandboxKey}}]", "alone"]).stdout == "[]\n")
        for _ in 0..<30 where FileManager.default.fileExists(atPath: fields[1]) { usleep(100_000) }
        #expect(!FileManager.default.fileExists(atPath: fields[1]))
    }

    /// A `--network none` container that joined an IPv6 network keeps its IPv6 address: the
    /// none mode's "no IPv6 at all" is for its own namespace only.
    @Test func noneContainerOnAnIPv6Network() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "--ipv6", "--subnet", "fd42:7a:\(getpid() % 9999)::/64", "v6net"]).status == 0)
        #expect(net.docker(["create", "--name", "six", "--network", "none", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["network", "disconnect", "none", "six"]).status == 0)
        #expect(net.docker(["network", "connect", "v6net", "six"]).status == 0)
        #expect(net.docker(["start", "six"]).status == 0)
        let six = net.docker(["exec", "six", "ip", "-6", "-o", "addr", "show", "eth0"]).stdout
        #expect(six.contains("inet6 fd42:7a:"), "\(six)")
        #expect(net.docker(["rm", "-f", "six"]).status == 0)
        #expect(net.docker(["network", "rm", "v6net"]).status == 0)
    }

    /// The host network goes with nothing else, in v28's words; a stopped container that
    /// leaves its only network shows none.
    @Test func hostNetworkRefusals() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["run", "-d", "--name", "onhost", "--network", "host", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "plain", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "peer", "--network", "container:plain", "busybox", "sleep", "100"]).status == 0)
        let cases: [([String], String)] = [
            (["connect", "host", "plain"], "cannot connect container to host network - container must be created in host network mode"),
            (["disconnect", "host", "onhost"], "cannot disconnect container from host network - container was created in host network mode"),
            (["connect", "bridge", "onhost"], Self.sharedText),
            (["connect", "bridge", "peer"], Self.sharedText),
        ]
        for (arguments, text) in cases {
            let result = net.docker(["network"] + arguments)
            #expect(result.status == 1 && result.stderr == Self.daemonError(text), "\(arguments): \(result)")
        }
        #expect(net.docker(["stop", "-t", "0", "plain"]).status == 0)
        #expect(net.docker(["network", "disconnect", "bridge", "plain"]).status == 0)
        #expect(net.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "plain"]).stdout == "{}\n")
        // A stopped container's settings have the network already: nothing to do.
        #expect(net.docker(["network", "connect", "bridge", "plain"]).status == 0)
        #expect(net.docker(["network", "connect", "bridge", "plain"]).status == 0)
        #expect(Self.networks(net, "plain") == "bridge")
        // The settings as the CLI sent them: empty objects, not null.
        #expect(net.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.bridge.IPAMConfig}} {{json .NetworkSettings.Networks.bridge.Aliases}} "
                            + "{{json .NetworkSettings.Networks.bridge.DriverOpts}}", "plain"]).stdout == "{} [] {}\n")
        #expect(net.docker(["rm", "-f", "peer", "onhost", "plain"]).status == 0)
    }

    /// `--link-local-ip`: more addresses on the interface (IPv4 /16), shown in
    /// IPAMConfig.LinkLocalIPs; unparsable or unspecified ones refused in v28's words.
    @Test func linkLocalAddresses() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "llnet"]).status == 0)
        let run = net.docker(["run", "-d", "--name", "ll", "--network", "llnet", "--link-local-ip", "169.254.10.11", "busybox", "sleep", "100"])
        #expect(run.status == 0, "\(run)")
        #expect(net.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.llnet.IPAMConfig}}", "ll"]).stdout
                == #"{"LinkLocalIPs":["169.254.10.11"]}"# + "\n")
        let eth0 = net.docker(["exec", "ll", "ip", "-4", "-o", "addr", "show", "eth0"]).stdout
        #expect(eth0.contains("inet 169.254.10.11/16 "), "\(eth0)")
        let connect = net.docker(["network", "connect", "--link-local-ip", "169.254.20.20", "bridge", "ll"])
        #expect(connect.status == 0, "\(connect)")
        #expect(net.docker(["exec", "ll", "ip", "-4", "-o", "addr", "show", "eth1"]).stdout.contains("inet 169.254.20.20/16 "))
        #expect(net.docker(["network", "disconnect", "bridge", "ll"]).status == 0)
        let bad = net.docker(["network", "connect", "--link-local-ip", "abc", "--link-local-ip", "0.0.0.0", "bridge", "ll"])
        #expect(bad.status == 1 && bad.stderr == Self.daemonError(
            "invalid endpoint settings:\n* invalid link-local IP address: abc\n* invalid link-local IP address: 0.0.0.0"), "\(bad)")
        let create = net.docker(["create", "--name", "ll2", "--link-local-ip", "abc", "busybox"])
        #expect(create.status == 1 && create.stderr == Self.daemonError(
            "invalid config for network default: invalid endpoint settings:\ninvalid link-local IP address: abc"), "\(create)")
        #expect(net.docker(["ps", "-aq", "--filter", "name=ll2"]).stdout.isEmpty)
        #expect(net.docker(["rm", "-f", "ll"]).status == 0)
        #expect(net.docker(["network", "rm", "llnet"]).status == 0)
    }

    /// Host ports away from the ephemeral range, apart for each test process.
    static let basePort = 20000 + Int(getpid()) % 400 * 20

    /// `-p 80:0` is refused at create as current dockerd does; exact host ports are taken
    /// before ranges; a taken port is named by its holder's address; a port published on
    /// loopback answers there.
    @Test func publishedPortForms() throws {
        let net = try NetworkDaemon()
        let zero = net.docker(["run", "-d", "-p", "80:0", "busybox", "true"])
        #expect(zero.status == 125 && zero.stderr == ContainerBehaviourTests.runError(#"invalid port specification: "0/tcp""#), "\(zero)")
        #expect(net.docker(["ps", "-aq"]).stdout.isEmpty)

        let low = Self.basePort, high = Self.basePort + 1
        let ranged = net.docker(["run", "-d", "--name", "ranged", "-p", "\(low)-\(high):80", "-p", "127.0.0.1:\(low):81", "busybox", "sleep", "100"])
        #expect(ranged.status == 0, "\(ranged)")
        #expect(net.docker(["port", "ranged"]).stdout
                == "80/tcp -> 0.0.0.0:\(high)\n80/tcp -> [::]:\(high)\n81/tcp -> 127.0.0.1:\(low)\n"
                || net.docker(["port", "ranged"]).stdout == "80/tcp -> 0.0.0.0:\(high)\n81/tcp -> 127.0.0.1:\(low)\n")
        let taken = net.docker(["run", "-d", "--name", "taken", "-p", "\(low):80", "busybox", "sleep", "100"])
        #expect(taken.status == 125 && taken.stderr.contains("Bind for 127.0.0.1:\(low) failed: port is already allocated"), "\(taken)")

        try net.runWebServer("web", text: "hello-loopback", extra: ["-p", "127.0.0.1::80"])
        let port = net.docker(["port", "web", "80"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(port.hasPrefix("127.0.0.1:"), "\(port)")
        #expect(NetworkDaemon.fetch("http://\(port)/") == "hello-loopback\n")

        // SCTP: dockerd's proxy fails on a kernel without it; Berth's proxy has no SCTP at all.
        let sctp = net.docker(["run", "-d", "--name", "sctp", "-p", "\(Self.basePort + 2):80/sctp", "busybox", "sleep", "100"])
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 132)
        if probe >= 0 {
            close(probe)
            #expect(sctp.status == 125 && sctp.stderr.contains("publishing SCTP ports is not implemented"), "\(sctp)")
        } else {
            #expect(sctp.status == 125 && sctp.stderr.contains(
                "driver failed programming external connectivity on endpoint sctp (") && sctp.stderr.contains(
                    "): Error starting userland proxy: protocol not supported\n"), "\(sctp)")
        }
        #expect(net.docker(["rm", "-f", "ranged", "taken", "web", "sctp"]).status == 0)
    }

    /// The network commands' refusals: the container is looked up before the network, an
    /// IPv6 address needs an IPv6 subnet, dangling takes a boolean, swarm scope and ingress
    /// need a swarm.
    @Test func networkCommandRefusals() throws {
        let net = try NetworkDaemon()
        let missing = net.docker(["network", "connect", "nosuchnet", "nosuchcontainer"])
        #expect(missing.status == 1 && missing.stderr == Self.daemonError("No such container: nosuchcontainer"), "\(missing)")
        let missingOut = net.docker(["network", "disconnect", "nosuchnet", "nosuchcontainer"])
        #expect(missingOut.status == 1 && missingOut.stderr == Self.daemonError("No such container: nosuchcontainer"), "\(missingOut)")
        #expect(net.docker(["network", "create", "plainnet"]).status == 0)
        #expect(net.docker(["create", "--name", "cc", "busybox"]).status == 0)
        let v6 = net.docker(["network", "connect", "--ip6", "fd00::5", "plainnet", "cc"])
        #expect(v6.status == 1 && v6.stderr == Self.daemonError(
            "invalid endpoint settings:\nuser specified IP address is supported only when connecting to networks with user configured subnets"), "\(v6)")
        let dangling = net.docker(["network", "ls", "--filter", "dangling=maybe"])
        #expect(dangling.status == 1 && dangling.stderr == Self.daemonError(
            #"invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")"#), "\(dangling)")
        let swarm = net.docker(["network", "create", "--scope", "swarm", "swarmnet"])
        #expect(swarm.status == 1 && swarm.stderr == Self.daemonError("cannot create a swarm scoped network when swarm is not active"), "\(swarm)")
        let ingress = net.docker(["network", "create", "--ingress", "ingressnet"])
        #expect(ingress.status == 1 && ingress.stderr == Self.daemonError("Ingress network can only be global scope network"), "\(ingress)")
        // Through the API too, a config-only network refuses an operator field (403).
        let configOnly = net.daemon.curl(["-w", " %{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "-d",
                                          #"{"Name":"cfg","ConfigOnly":true,"Attachable":true}"#, "http://berth/v1.50/networks/create"])
        #expect(configOnly.stdout.hasSuffix(" 403"), "\(configOnly)")
        #expect(net.docker(["network", "ls", "--format", "{{.Name}}", "--filter", "type=custom"]).stdout == "plainnet\n")
        #expect(net.docker(["rm", "cc"]).status == 0)
        #expect(net.docker(["network", "rm", "plainnet"]).status == 0)
    }

    /// `-o com.docker.network.bridge.name=` naming a link that is not a bridge is refused in
    /// dockerd's words, and the link keeps its address; a bridge the user made is used as it
    /// is and stays, also when the network is removed after a daemon restart.
    @Test func existingDevicesAreNotTakenOver() throws {
        let first = try NetworkDaemon()
        let tag = Int(getpid()) % 100_000
        let veth = "bxv\(tag)", bridge = "bxb\(tag)"
        defer {
            Harness.run("/usr/sbin/ip", ["link", "del", veth])
            Harness.run("/usr/sbin/ip", ["link", "del", bridge])
        }
        #expect(Harness.run("/usr/sbin/ip", ["link", "add", veth, "type", "veth", "peer", "name", veth + "p"]).status == 0)
        #expect(Harness.run("/usr/sbin/ip", ["addr", "add", "192.0.2.1/30", "dev", veth]).status == 0)
        let refused = first.docker(["network", "create", "-o", "com.docker.network.bridge.name=\(veth)", "notbridge"])
        #expect(refused.status == 1 && refused.stderr == Self.daemonError("existing interface \(veth) is not a bridge"), "\(refused)")
        #expect(Harness.run("/usr/sbin/ip", ["-4", "-o", "addr", "show", veth]).stdout.contains("inet 192.0.2.1/30 "))
        #expect(first.docker(["network", "ls", "-q", "--filter", "name=notbridge"]).stdout.isEmpty)

        #expect(Harness.run("/usr/sbin/ip", ["link", "add", bridge, "type", "bridge"]).status == 0)
        let created = first.docker(["network", "create", "-o", "com.docker.network.bridge.name=\(bridge)", "userbridge"])
        #expect(created.status == 0, "\(created)")
        first.daemon.crash()
        first.keep = true
        let second = try NetworkDaemon(directory: first.daemon.directory)
        #expect(second.docker(["network", "rm", "userbridge"]).status == 0)
        #expect(Harness.run("/usr/sbin/ip", ["link", "show", bridge]).status == 0, "the user's bridge was deleted")
    }

    /// `network ls --filter name=` takes a regular expression, as dockerd's does.
    @Test func nameFilterIsARegularExpression() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "rx"]).status == 0)
        #expect(net.docker(["network", "create", "rx2"]).status == 0)
        let list = { (filter: String) in net.docker(["network", "ls", "--format", "{{.Name}}", "--filter", filter]).stdout }
        #expect(list("name=^rx$") == "rx\n")
        #expect(list("name=rx").split(separator: "\n").sorted() == ["rx", "rx2"])
        #expect(list("name=^r.2") == "rx2\n")
        #expect(net.docker(["network", "rm", "rx", "rx2"]).status == 0)
    }

    /// `POST /networks/create` refusals as current dockerd words them, with its status codes;
    /// `GET /networks` lists networks without their containers (network.Summary).
    @Test func createRefusalsInDockerdsWords() throws {
        let net = try NetworkDaemon()
        let octet = 10 + Int(getpid()) % 200
        func create(_ body: String) -> String {
            net.daemon.curl(["-w", " %{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "-d", body,
                             "http://berth/v1.50/networks/create"]).stdout.replacingOccurrences(of: "\n ", with: " ")
        }
        func config(_ fields: String, ipv6: Bool = false) -> String {
            #"{"Name":"fx","EnableIPv6":\#(ipv6),"IPAM":{"Config":[\#(fields)]}}"#
        }
        let subnet = "10.251.\(octet).0/24"
        let cases: [(String, String)] = [
            (config(#"{"Subnet":"\#(subnet)","Gateway":"10.251.\#(octet).0"}"#),
             #"{"message":"failed to allocate gateway (10.251.\#(octet).0): Address already in use"} 500"#),
            (config(#"{"Subnet":"\#(subnet)","Gateway":"10.251.\#(octet).255"}"#),
             #"{"message":"failed to allocate gateway (10.251.\#(octet).255): Address already in use"} 500"#),
            (config(#"{"Subnet":"\#(subnet)","Gateway":"10.9.9.9"}"#),
             #"{"message":"invalid network config:\ninvalid gateway 10.9.9.9: parent subnet \#(subnet) doesn't contain this address"} 400"#),
            (config(#"{"Subnet":"\#(subnet)","IPRange":"10.0.0.0/8"}"#),
             #"{"message":"invalid network config:\ninvalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet \#(subnet)"} 400"#),
            (config(#"{"Subnet":"10.251.\#(octet).5/24"}"#),
             #"{"message":"invalid network config:\ninvalid subnet 10.251.\#(octet).5/24: it should be \#(subnet)"} 400"#),
            (config(#"{"Subnet":"\#(subnet)"},{"Subnet":"10.252.\#(octet).0/24"}"#),
             #"{"message":"bridge driver doesn't support multiple subnets"} 403"#),
            (#"{"Name":" "}"#, #"{"message":"invalid name: name is empty"} 400"#),
        ]
        for (body, answer) in cases {
            #expect(create(body) == answer, "\(body)")
        }
        #expect(net.docker(["network", "ls", "-q", "--filter", "name=^fx$"]).stdout.isEmpty)

        #expect(net.docker(["network", "create", "--subnet", subnet, "first"]).status == 0)
        let overlap = net.docker(["network", "create", "--subnet", subnet, "second"])
        #expect(overlap.stderr == Self.daemonError("invalid pool request: Pool overlaps with other one on this address space"), "\(overlap)")
        let firstID = net.docker(["network", "inspect", "-f", "{{.Id}}", "first"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let device = "br-" + firstID.prefix(12)
        let same = create(#"{"Name":"same","Options":{"com.docker.network.bridge.name":"\#(device)"}}"#)
        #expect(same.hasPrefix(#"{"message":"cannot create network "#) && same.hasSuffix(
            #" (\#(device)): conflicts with network \#(firstID) (\#(device)): networks have same bridge name"} 403"#), "\(same)")

        #expect(net.docker(["run", "-d", "--name", "user", "--network", "first", "busybox", "sleep", "100"]).status == 0)
        let list = net.daemon.curl(["http://berth/v1.50/networks?filters=%7B%22name%22%3A%5B%22%5Efirst%24%22%5D%7D"]).stdout
        #expect(list.contains(#""Name":"first""#) && !list.contains("Containers"), "\(list)")
        let inspect = net.daemon.curl(["http://berth/v1.50/networks/first"]).stdout
        #expect(inspect.contains(#""Containers":{""#), "\(inspect)")
        #expect(net.docker(["rm", "-f", "user"]).status == 0)
        #expect(net.docker(["network", "rm", "first"]).status == 0)
    }

    /// `-o com.docker.network.driver.mtu=N` sets both ends of the network's veths and its
    /// bridge (a namespace made ahead with the daemon's MTU is not used there); bad values
    /// are refused in dockerd's words.
    @Test func networkMTU() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "-o", "com.docker.network.driver.mtu=1400", "small"]).status == 0)
        // Twice: the second start would take a namespace made ahead.
        for round in 0..<2 {
            let inside = net.docker(["run", "--rm", "--network", "small", "busybox", "cat", "/sys/class/net/eth0/mtu"])
            #expect(inside.stdout == "1400\n", "round \(round): \(inside)")
        }
        let id = net.docker(["network", "inspect", "-f", "{{.Id}}", "small"]).stdout.prefix(12)
        let bridgeMTU = try? String(contentsOfFile: "/sys/class/net/br-\(id)/mtu", encoding: .utf8)
        #expect(bridgeMTU == "1400\n", "\(String(describing: bridgeMTU)) \(net.daemon.log.suffix(500))")
        #expect(net.docker(["run", "--rm", "busybox", "cat", "/sys/class/net/eth0/mtu"]).stdout == "1500\n")
        let word = net.docker(["network", "create", "-o", "com.docker.network.driver.mtu=abc", "bad"])
        #expect(word.stderr == Self.daemonError(
            #"failed to parse com.docker.network.driver.mtu value: abc (strconv.Atoi: parsing "abc": invalid syntax)"#), "\(word)")
        let negative = net.docker(["network", "create", "-o", "com.docker.network.driver.mtu=-5", "bad"])
        #expect(negative.stderr == Self.daemonError("invalid MTU number: -5"), "\(negative)")
        #expect(net.docker(["network", "rm", "small"]).status == 0)
    }

    /// `--config-only` keeps settings under a name (driver null, nothing joins it); a network
    /// made `--config-from` it takes them and may add none of its own; refusals in dockerd's words.
    @Test func configurationNetworks() throws {
        let net = try NetworkDaemon()
        func refusal(_ arguments: [String]) -> String { net.docker(["network", "create"] + arguments).stderr }
        #expect(net.docker(["network", "create", "--config-only", "--subnet", "10.233.0.0/24", "--ip-range", "10.233.0.128/25",
                            "--aux-address", "x=10.233.0.5", "--label", "a=b", "-o", "com.docker.network.bridge.name=br-cfgtest", "cfg"]).status == 0)
        #expect(net.docker(["network", "inspect", "-f", "{{.Driver}} {{.ConfigOnly}} {{json .IPAM.Config}} {{json .Options}}", "cfg"]).stdout
                == #"null true [{"Subnet":"10.233.0.0/24","IPRange":"10.233.0.128/25","AuxiliaryAddresses":{"x":"10.233.0.5"}}] {"com.docker.network.bridge.name":"br-cfgtest"}"# + "\n")
        // Nothing is made for it: no bridge.
        #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/br-cfgtest"))
        #expect(refusal(["--config-only", "--internal", "x"]) == Self.daemonError("configuration network can only contain network specific fields. Network operator fields like [ ingress | internal | attachable | scope ] are not supported."))
        #expect(refusal(["--config-only", "--config-from", "cfg", "x"]) == Self.daemonError("a configuration network cannot depend on another configuration network"))
        #expect(refusal(["--config-from", "cfg", "--subnet", "10.234.0.0/24", "x"]) == Self.daemonError("user-specified configurations are not supported if the network depends on a configuration network"))
        #expect(refusal(["--config-from", "cfg", "-o", "a=b", "x"]) == Self.daemonError("network driver options are not supported if the network depends on a configuration network"))
        #expect(refusal(["--config-from", "nope", "x"]) == Self.daemonError(#"configuration network "nope" does not exist"#))

        #expect(net.docker(["network", "create", "--config-from", "cfg", "--internal", "dep"]).status == 0)
        #expect(net.docker(["network", "inspect", "-f", "{{.Driver}} {{.ConfigFrom.Network}} {{.Internal}} {{.Labels}}", "dep"]).stdout == "bridge cfg true map[a:b]\n")
        #expect(FileManager.default.fileExists(atPath: "/sys/class/net/br-cfgtest"))
        let address = net.docker(["run", "--rm", "--network", "dep", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"]).stdout
        #expect(address.contains("inet 10.233.0.129/24"), "\(address)")

        // Nothing joins the configuration network; a stopped container's connect is kept, and its start fails.
        let endpoint = Self.daemonError("cannot create endpoint on configuration-only network")
        let run = net.docker(["run", "--rm", "--network", "cfg", "busybox", "true"])
        #expect(run.status == 125 && run.stderr.hasPrefix("docker: " + endpoint), "\(run)")
        #expect(net.docker(["run", "-d", "--name", "cfgrunning", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["network", "connect", "cfg", "cfgrunning"]).stderr == endpoint)
        #expect(net.docker(["create", "--name", "cfgstopped", "busybox", "true"]).status == 0)
        #expect(net.docker(["network", "connect", "cfg", "cfgstopped"]).status == 0)
        #expect(net.docker(["start", "cfgstopped"]).stderr.hasPrefix(endpoint))
        #expect(net.docker(["rm", "-f", "cfgrunning", "cfgstopped"]).status == 0)

        // In use while a network is made from it; never pruned.
        #expect(net.docker(["network", "rm", "cfg"]).stderr.hasPrefix(Self.daemonError(#"error while removing network: configuration network "cfg" is in use"#)))
        #expect(net.docker(["network", "prune", "-f"]).stdout == "Deleted Networks:\ndep\n\n")
        #expect(net.docker(["network", "rm", "cfg"]).status == 0)
    }

    /// `docker info` warns when the host's iptables filter FORWARD chain drops by default
    /// (then Berth's forwarded traffic may be dropped there), and only then.
    @Test func infoWarnsOfAForwardChainThatDrops() throws {
        let net = try NetworkDaemon()
        let chain = Harness.run("/usr/sbin/nft", ["list", "chain", "ip", "filter", "FORWARD"])
        let drops = chain.status == 0 && chain.stdout.contains("hook forward") && chain.stdout.contains("policy drop;")
        let warnings = net.docker(["info", "--format", "{{json .Warnings}}"]).stdout
        let warning = "WARNING: the iptables filter FORWARD chain has policy DROP: traffic between Berth containers and to the outside may be dropped"
        #expect(warnings.contains(warning) == drops, "\(warnings) \(chain.stdout)")
    }
}
