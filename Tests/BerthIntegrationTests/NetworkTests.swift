import Foundation
import Testing
import Synchronization

/// A daemon with the busybox image, its own default bridge and subnet (so tests never meet
/// each other or an anchor's docker0), that removes every container, network, bridge and
/// nftables table it made when the test ends, whatever happened.
final class NetworkDaemon {
    /// Daemons made so far, for each one's own subnet: several suites make them at once.
    private static let counter = Mutex(0)
    static let cgroupParent = "/berth-net-test"
    /// The default bridge's device: berthd names it after the data root unless daemon.json's
    /// `bridge` names one.
    let bridge: String
    let daemon: TestDaemon
    var table: String { "berth-" + bridge }
    /// A bridge named in daemon.json is the test's, not the daemon's, to delete.
    private let ownsBridge: Bool

    /// `settings` are added to daemon.json (without `bridge`, a `bip` of its own is given);
    /// `launcher` runs berthd through another command (a network namespace of its own).
    init(directory: String? = nil, settings: [String: Any] = [:], launcher: [String] = []) throws {
        let made = Self.counter.withLock { count in
            count += 1
            return count
        }
        let pid = Int(getpid()) % 1000
        let octet = 10 + (pid * 7 + made) % 200
        // A cgroup parent of its own: other suites' cleanups of /berth-test must not kill these containers.
        var configuration: [String: Any] = ["cgroup-parent": Self.cgroupParent]
        if settings["bridge"] == nil { configuration["bip"] = "10.250.\(octet).1/24" }
        configuration.merge(settings) { $1 }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: configuration), as: UTF8.self)
        if let directory {
            daemon = try TestDaemon(directory: directory, launcher: launcher)
        } else {
            daemon = try TestDaemon(configuration: text, launcher: launcher)
        }
        if let named = settings["bridge"] as? String, named != "none" {
            bridge = named
            ownsBridge = false
        } else {
            bridge = Self.defaultBridge(dataRoot: daemon.directory + "/data")
            ownsBridge = true
        }
        if directory == nil {
            let load = daemon.docker(["load", "-q", "-i", Harness.imageDir + "/busybox.tar"])
            guard load.status == 0 else { throw TestFailure("load failed: \(load.stderr)") }
        }
    }

    /// berthd's default bridge for a data root other than its default one: "berth" and 8 hex
    /// digits of the path's FNV-1a hash.
    static func defaultBridge(dataRoot: String) -> String {
        var value: UInt32 = 2_166_136_261
        for byte in dataRoot.utf8 { value = (value ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(value, radix: 16)
        return "berth" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    @discardableResult
    func docker(_ args: [String]) -> Harness.Result { daemon.docker(args) }

    /// Stops a crashed-and-restarted test from cleaning up twice.
    var keep = false

    deinit {
        guard !keep else { return }
        let ids = docker(["ps", "-aq"]).stdout.split(separator: "\n").map(String.init)
        if !ids.isEmpty { docker(["rm", "-f"] + ids) }
        let networks = docker(["network", "ls", "-q", "--filter", "type=custom"]).stdout.split(separator: "\n").map(String.init)
        let devices = networks.map { docker(["network", "inspect", "-f", #"{{index .Options "com.docker.network.bridge.name"}}|{{.Id}}"#, $0]).stdout }
        docker(["network", "prune", "-f"])
        _ = daemon.stop()
        for line in devices {
            let parts = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", omittingEmptySubsequences: false)
            let device = parts.first.map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? "br-" + (parts.last?.prefix(12) ?? "")
            Harness.run("/usr/sbin/ip", ["link", "del", device])
        }
        if ownsBridge { Harness.run("/usr/sbin/ip", ["link", "del", bridge]) }
        Harness.run("/usr/sbin/nft", ["delete", "table", "ip", table])
        for controller in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            rmdir("/sys/fs/cgroup/" + controller + Self.cgroupParent)
        }
        rmdir("/sys/fs/cgroup" + Self.cgroupParent)
    }

    /// A busybox httpd serving `text` at / on port 80 of a new container.
    func runWebServer(_ name: String, text: String, extra: [String] = []) throws {
        let run = docker(["run", "-d", "--name", name] + extra
            + ["busybox", "sh", "-c", "mkdir -p /www && echo \(text) > /www/index.html && exec httpd -f -p 80 -h /www"])
        guard run.status == 0 else { throw TestFailure("run \(name) failed: \(run.stderr)") }
    }

    static func fetch(_ url: String, attempts: Int = 30) -> String {
        for _ in 0..<attempts {
            let result = Harness.run("/usr/bin/curl", ["-s", "-m", "2", url])
            if result.status == 0 { return result.stdout }
            usleep(100_000)
        }
        return ""
    }

    /// A container's address on one of its networks ("bridge" for the default one).
    func address(_ container: String, network: String = "bridge") -> String {
        docker(["inspect", "-f", "{{(index .NetworkSettings.Networks \"\(network)\").IPAddress}}", container]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A shell line that GETs / of `address` port 80 and prints its body's last line; it fails
    /// when nothing answers within three tries. busybox-static's wget crashes on literal
    /// addresses here, so nc speaks HTTP.
    static func probe(_ address: String) -> String {
        "for i in 1 2 3; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 1 \(address) 80 | tail -n 1 | grep . && exit 0; sleep 0.2; done; exit 1"
    }
}

@Suite(.enabled(if: Harness.isRoot, "networking needs root"), .serialized)
struct NetworkTests {
    /// `--mac-address` sets the container's interface's address, on the default bridge and
    /// on a user network; inspect shows it before and after the start; Config.MacAddress of
    /// clients below API 1.44 counts for the first network; a bad one is refused at create.
    @Test func macAddressIsTheInterfacesOwn() throws {
        let net = try NetworkDaemon()
        let bridge = net.docker(["run", "--rm", "--mac-address", "02:42:ac:11:00:99", "busybox", "cat", "/sys/class/net/eth0/address"])
        #expect(bridge.status == 0 && bridge.stdout == "02:42:ac:11:00:99\n", "\(bridge)")
        #expect(net.docker(["create", "--name", "mac", "--mac-address", "02:42:AC:11:00:98", "busybox", "sleep", "100"]).status == 0)
        let shown = { net.docker(["inspect", "-f", "{{.NetworkSettings.Networks.bridge.MacAddress}}", "mac"]).stdout }
        #expect(shown() == "02:42:ac:11:00:98\n")
        #expect(net.docker(["start", "mac"]).status == 0)
        #expect(shown() == "02:42:ac:11:00:98\n")
        #expect(net.docker(["exec", "mac", "cat", "/sys/class/net/eth0/address"]).stdout == "02:42:ac:11:00:98\n")
        #expect(net.docker(["rm", "-f", "mac"]).status == 0)

        #expect(net.docker(["network", "create", "macnet"]).status == 0)
        let user = net.docker(["run", "--rm", "--network", "macnet", "--mac-address", "02:42:0a:00:00:05", "busybox", "cat", "/sys/class/net/eth0/address"])
        #expect(user.status == 0 && user.stdout == "02:42:0a:00:00:05\n", "\(user)")
        #expect(net.docker(["network", "rm", "macnet"]).status == 0)

        let legacy = net.daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d",
                               #"{"Image":"busybox","Cmd":["cat","/sys/class/net/eth0/address"],"MacAddress":"02:11:22:33:44:55"}"#,
                               "http://berth/v1.41/containers/create?name=legacy"])
        #expect(legacy.stdout.contains(#""Id":"#), "\(legacy)")
        #expect(net.docker(["start", "-a", "legacy"]).stdout == "02:11:22:33:44:55\n")
        #expect(net.docker(["rm", "legacy"]).status == 0)
        let bad = net.daemon.curl(["-w", " %{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "-d",
                            #"{"Image":"busybox","MacAddress":"bad"}"#, "http://berth/v1.41/containers/create"])
        #expect(bad.stdout == #"{"message":"invalid MAC address bad"}"# + "\n 400", "\(bad.stdout)")
        #expect(net.docker(["ps", "-aq"]).stdout.isEmpty)
    }

    /// "none" goes with no other network, and a container sharing another's or the host's
    /// network namespace joins none: dockerd's refusals (400), at create and at connect.
    @Test func networksThatCannotGoTogether() throws {
        let net = try NetworkDaemon()
        let noneText = "container cannot be connected to multiple networks with one of the networks in private (none) mode"
        let both = net.docker(["run", "--rm", "--network", "bridge", "--network", "none", "busybox", "true"])
        #expect(both.status == 125 && both.stderr.hasPrefix("docker: Error response from daemon: \(noneText)\n"), "\(both)")
        #expect(net.docker(["ps", "-aq"]).stdout.isEmpty)
        #expect(net.docker(["create", "--name", "isolated", "--network", "none", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["create", "--name", "onhost", "--network", "host", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["create", "--name", "plain", "busybox", "sleep", "100"]).status == 0)
        let cases: [([String], String)] = [
            (["bridge", "isolated"], noneText),
            (["bridge", "onhost"], "container sharing network namespace with another container or host cannot be connected to any other network"),
            (["host", "plain"], "cannot connect container to host network - container must be created in host network mode"),
            (["none", "plain"], noneText),
        ]
        for (arguments, text) in cases {
            let result = net.docker(["network", "connect"] + arguments)
            #expect(result.status == 1 && result.stderr == "Error response from daemon: \(text)\n", "\(arguments): \(result)")
        }
        let status = net.daemon.curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                      "-d", #"{"Container":"isolated"}"#, "http://berth/v1.41/networks/bridge/connect"])
        #expect(status.stdout == "400")
        #expect(net.docker(["rm", "isolated", "onhost", "plain"]).status == 0)
    }

    // As dockerd: a network named at create that does not exist yet fails the start, and is
    // joined once it exists; an endpoint's DriverOpts are kept and shown.
    @Test func endpointsOfNetworksMissingAtCreateAndDriverOptions() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "eplate-a"]).status == 0)
        let run = net.docker(["run", "-d", "--name", "late", "--network", "eplate-a", "--network", "eplate-b", "busybox", "sleep", "100"])
        #expect(run.status == 125 && run.stderr.hasPrefix("docker: Error response from daemon: network eplate-b not found\n"), "\(run)")
        #expect(net.docker(["network", "create", "eplate-b"]).status == 0)
        #expect(net.docker(["start", "late"]).status == 0)
        let joined = net.docker(["inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", "late"])
        #expect(joined.stdout.range(of: #"^eplate-a=\d+\.\d+\.\d+\.\d+ eplate-b=\d+\.\d+\.\d+\.\d+ $"#, options: .regularExpression) != nil, "\(joined)")
        // DriverOpts, at create (API) and at connect (--driver-opt).
        let body = #"{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"eplate-a"},"#
            + #""NetworkingConfig":{"EndpointsConfig":{"eplate-a":{"DriverOpts":{"key1":"a"}}}}}"#
        _ = net.daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", body, "http://berth/v1.50/containers/create?name=opts"])
        #expect(net.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "opts"]).stdout.contains(#""DriverOpts":{"key1":"a"}"#))
        #expect(net.docker(["network", "connect", "--driver-opt", "key2=b", "eplate-b", "opts"]).status == 0)
        #expect(net.docker(["inspect", "-f", "{{json (index .NetworkSettings.Networks \"eplate-b\").DriverOpts}}", "opts"]).stdout == #"{"key2":"b"}"# + "\n")
        #expect(net.docker(["rm", "-f", "late", "opts"]).status == 0)
        #expect(net.docker(["network", "rm", "eplate-a", "eplate-b"]).status == 0)
    }

    // `--aux-address`: shown in IPAM.Config and never given to a container, as with dockerd.
    @Test func auxiliaryAddressesAreHeldBack() throws {
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "--subnet", "172.28.0.0/16", "--ip-range", "172.28.5.0/24", "--gateway", "172.28.5.254",
                            "--aux-address", "a=172.28.5.0", "--aux-address", "b=172.28.5.1", "auxnet"]).status == 0)
        #expect(net.docker(["network", "inspect", "-f", "{{json .IPAM.Config}}", "auxnet"]).stdout
                == #"[{"Subnet":"172.28.0.0/16","IPRange":"172.28.5.0/24","Gateway":"172.28.5.254","AuxiliaryAddresses":{"a":"172.28.5.0","b":"172.28.5.1"}}]"# + "\n")
        let address = net.docker(["run", "--rm", "--network", "auxnet", "busybox", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}'"])
        #expect(address.stdout == "172.28.5.2/16\n", "\(address)")
        let taken = net.docker(["run", "--rm", "--network", "auxnet", "--ip", "172.28.5.1", "busybox", "true"])
        #expect(taken.status == 125 && taken.stderr.hasPrefix("docker: Error response from daemon: Address already in use\n"), "\(taken)")
        let outside = net.daemon.curl(["-X", "POST", "-H", "Content-Type: application/json", "-d",
                                       #"{"Name":"auxbad","IPAM":{"Config":[{"Subnet":"172.30.0.0/16","AuxiliaryAddresses":{"a":"172.31.0.1"}}]}}"#,
                                       "http://berth/v1.50/networks/create"])
        #expect(outside.stdout.contains(#"invalid auxiliary address a: parent subnet 172.30.0.0/16 doesn't contain this address"#), "\(outside)")
        #expect(net.docker(["network", "rm", "auxnet"]).status == 0)
    }

    @Test func defaultNetworksAreListedLikeDockerds() throws {
        let net = try NetworkDaemon()
        let ls = net.docker(["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"])
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect(ls.stdout == "bridge bridge local\nhost host local\nnone null local\n")
        let inspect = net.docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}", "bridge"])
        #expect(inspect.stdout.hasPrefix("10.250."), "\(inspect.stdout) \(inspect.stderr)")
        let options = net.docker(["network", "inspect", "-f", #"{{index .Options "com.docker.network.bridge.name"}} {{index .Options "com.docker.network.bridge.enable_icc"}}"#, "bridge"])
        #expect(options.stdout == "\(net.bridge) true\n")
        let address = net.docker(["run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"])
        #expect(address.stdout.contains("inet 10.250."), "\(address.stdout) \(address.stderr)")
        // As in dockerd's sandboxes, IPv6 is off on every interface of an IPv4 network's container.
        let all = net.docker(["run", "--rm", "busybox", "ip", "-o", "addr"])
        #expect(all.stdout.contains("inet 127.0.0.1/8") && !all.stdout.contains("inet6"), "\(all.stdout)")
        let none = net.docker(["run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"])
        #expect(!none.stdout.contains("eth0"))
        let missing = net.docker(["run", "--rm", "--network", "nosuch", "busybox", "true"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("network nosuch not found"), "\(missing.stderr)")
    }

    @Test func publishedPortAnswersOnLoopbackAndIsReleasedAtStop() throws {
        let net = try NetworkDaemon()
        let port = Harness.freePort()
        try net.runWebServer("blog1", text: "hello-blog", extra: ["-p", "127.0.0.1:\(port):80"])
        #expect(NetworkDaemon.fetch("http://127.0.0.1:\(port)/") == "hello-blog\n", "\(net.daemon.log)")
        #expect(net.docker(["port", "blog1"]).stdout == "80/tcp -> 127.0.0.1:\(port)\n")
        #expect(net.docker(["ps", "--format", "{{.Ports}}"]).stdout == "127.0.0.1:\(port)->80/tcp\n")
        #expect(net.docker(["inspect", "-f", "{{json .NetworkSettings.Ports}}", "blog1"]).stdout
            == "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\(port)\"}]}\n")

        // The port is taken: a second container cannot have it.
        let taken = net.docker(["run", "-d", "--name", "blog2", "-p", "127.0.0.1:\(port):80", "busybox", "true"])
        #expect(taken.status != 0)
        #expect(taken.stderr.contains("Bind for 127.0.0.1:\(port) failed: port is already allocated"), "\(taken.stderr)")

        // A port held by another program of the host.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f000001).bigEndian
        let busyPort = Harness.freePort()
        address.sin_port = UInt16(busyPort).bigEndian
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(listener, 1)
        let busy = net.docker(["run", "-d", "--name", "blog3", "-p", "127.0.0.1:\(busyPort):80", "busybox", "true"])
        #expect(busy.status != 0)
        // The free port found may also be one this daemon handed out earlier in the test: then
        // dockerd's other refusal ("port is already allocated") is the right one.
        #expect(busy.stderr.contains("listen tcp4 127.0.0.1:\(busyPort): bind: address already in use")
                || busy.stderr.contains("Bind for 127.0.0.1:\(busyPort) failed: port is already allocated"), "\(busy.stderr)")

        // -P publishes every exposed port on a free one.
        let all = net.docker(["run", "-d", "--name", "blog4", "--expose", "81", "-P", "busybox", "sleep", "60"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(net.docker(["port", "blog4", "81"]).stdout.hasPrefix("0.0.0.0:"))

        #expect(net.docker(["stop", "-t", "1", "blog1"]).status == 0)
        #expect(Harness.run("/usr/bin/curl", ["-s", "-m", "1", "http://127.0.0.1:\(port)/"]).status != 0)
        let rules = Harness.run("/usr/sbin/nft", ["list", "table", "ip", net.table]).stdout
        #expect(!rules.contains("dport \(port)"))
        // The veth goes in the background (the kernel's unregistering is slow): wait a little.
        var ports = 0
        for _ in 0..<50 {
            ports = Harness.run("/usr/sbin/ip", ["-o", "link", "show", "master", net.bridge]).stdout.split(separator: "\n").count
            if ports == 1 { break }
            usleep(20_000)
        }
        #expect(ports == 1, "only blog4's veth is left on the bridge")
    }

    @Test func containersFindEachOtherByNameOnAUserNetwork() throws {
        let net = try NetworkDaemon()
        try net.runWebServer("blog1", text: "hello-by-name")
        let create = net.docker(["network", "create", "--subnet", "10.251.\(Int(getpid()) % 200).0/24", "--label", "test=yes", "my_network"])
        #expect(create.status == 0, "\(create.stderr)")
        let again = net.docker(["network", "create", "my_network"])
        #expect(again.stderr.contains("network with name my_network already exists"), "\(again.stderr)")
        let overlap = net.docker(["network", "create", "--subnet", "10.251.\(Int(getpid()) % 200).128/25", "other"])
        #expect(overlap.stderr.contains("invalid pool request: Pool overlaps with other one on this address space"), "\(overlap.stderr)")
        #expect(net.docker(["network", "connect", "--alias", "web", "my_network", "blog1"]).status == 0)

        let fetched = net.docker(["run", "--rm", "--network", "my_network", "busybox", "sh", "-c",
                                  "for i in 1 2 3 4 5; do wget -qO- http://blog1 && exit 0; sleep 0.2; done; exit 1"])
        #expect(fetched.stdout == "hello-by-name\n", "\(fetched.stderr)")
        let lookup = net.docker(["run", "--rm", "--network", "my_network", "busybox", "nslookup", "web"])
        #expect(lookup.stdout.contains("Address: 10.251."), "\(lookup.stdout) \(lookup.stderr)")
        // "name.network", as dockerd answers it.
        let qualified = net.docker(["run", "--rm", "--network", "my_network", "busybox", "nslookup", "-type=a", "blog1.my_network"])
        #expect(qualified.status == 0 && qualified.stdout.contains("Address: 10.251."), "\(qualified)")
        let inspect = net.docker(["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}} {{.Labels.test}}", "my_network"])
        #expect(inspect.stdout.hasPrefix("blog1 10.251."), "\(inspect.stdout)")
        #expect(inspect.stdout.hasSuffix("/24 yes\n"))
        #expect(net.docker(["network", "ls", "--filter", "label=test=yes", "--format", "{{.Name}}"]).stdout == "my_network\n")

        let remove = net.docker(["network", "rm", "my_network"])
        #expect(remove.status != 0)
        let endpointID = net.docker(["inspect", "-f", "{{.NetworkSettings.Networks.my_network.EndpointID}}", "blog1"]).stdout.prefix(12)
        // The CLI's network rm adds an "exit status 1" line of its own, against dockerd too.
        #expect(remove.stderr.hasPrefix("Error response from daemon: error while removing network: network my_network has active endpoints "
                + "(name:\"blog1\" id:\"\(endpointID)\")\n"), "\(remove.stderr)")

        #expect(net.docker(["network", "disconnect", "my_network", "blog1"]).status == 0)
        let gone = net.docker(["run", "--rm", "--network", "my_network", "busybox", "nslookup", "blog1"])
        #expect(gone.status != 0, "\(gone.stdout)")
        // The default bridge has no name resolution.
        #expect(net.docker(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]).stdout.contains("nameserver 10.250.") == false)
        #expect(net.docker(["network", "rm", "my_network"]).status == 0)
    }

    /// As with dockerd: a container resolves the names of every user network it is on, and
    /// one started on the default bridge asks the embedded DNS once it joins a user network.
    /// As with dockerd, a container on a user network asks 127.0.0.11 (which configs such as
    /// nginx's `resolver 127.0.0.11` name): its resolv.conf says so, with ndots:0, and a server
    /// in its own namespace answers there, for its networks' names only.
    @Test func containersAskTheEmbeddedServerAt127_0_0_11() throws {
        let net = try NetworkDaemon()
        let base = Int(getpid()) % 200
        #expect(net.docker(["network", "create", "--subnet", "10.247.\(base).0/24", "local"]).status == 0)
        #expect(net.docker(["run", "-d", "--network", "local", "--name", "named", "busybox", "sleep", "100"]).status == 0)
        let address = net.address("named", network: "local")
        let conf = net.docker(["run", "--rm", "--network", "local", "busybox", "cat", "/etc/resolv.conf"]).stdout
        #expect(conf.split(separator: "\n").filter { $0.hasPrefix("nameserver") } == ["nameserver 127.0.0.11"], "\(conf)")
        #expect(conf.contains("options ndots:0") || conf.contains(" ndots:0"), "\(conf)")
        let asked = net.docker(["run", "--rm", "--network", "local", "busybox", "nslookup", "named", "127.0.0.11"])
        #expect(asked.status == 0 && asked.stdout.contains("Address: \(address)\n"), "\(asked)")
        // Over TCP too (large answers), from the container's own namespace.
        let tcp = net.docker(["run", "--rm", "--network", "local", "busybox", "sh", "-c", "nc -w 2 127.0.0.11 53 </dev/null && echo open"])
        #expect(tcp.stdout == "open\n", "\(tcp)")
        // With --dns too, as with dockerd: the servers given are where the container's own
        // server forwards, so the network's names still resolve.
        let given = net.docker(["run", "--rm", "--network", "local", "--dns", "10.247.\(base).1", "busybox", "sh", "-c",
                                "grep nameserver /etc/resolv.conf; nslookup named | grep 'Address: 10'"])
        #expect(given.stdout == "nameserver 127.0.0.11\nAddress: \(address)\n", "\(given)")
        // The default bridge has no name resolution: nothing listens at 127.0.0.11 there.
        let bridge = net.docker(["run", "--rm", "busybox", "sh", "-c", "nc -w 1 127.0.0.11 53 </dev/null && echo open || echo closed"])
        #expect(bridge.stdout == "closed\n", "\(bridge)")
        #expect(net.docker(["rm", "-f", "named"]).status == 0)
        #expect(net.docker(["network", "rm", "local"]).status == 0)
    }

    @Test func namesOfEveryNetworkOfTheContainerResolve() throws {
        let net = try NetworkDaemon()
        let base = Int(getpid()) % 200
        #expect(net.docker(["network", "create", "--subnet", "10.248.\(base).0/24", "front"]).status == 0)
        #expect(net.docker(["network", "create", "--subnet", "10.249.\(base).0/24", "back"]).status == 0)
        #expect(net.docker(["run", "-d", "--network", "back", "--network-alias", "database", "--name", "db", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["run", "-d", "--network", "front", "--name", "web", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["create", "--network", "front", "--name", "proxy", "busybox", "sleep", "100"]).status == 0)
        #expect(net.docker(["network", "connect", "back", "proxy"]).status == 0)
        #expect(net.docker(["start", "proxy"]).status == 0)
        for name in ["web", "db", "database"] {
            let found = net.docker(["exec", "proxy", "nslookup", name])
            #expect(found.status == 0 && found.stdout.contains("Address: 10.24"), "\(name): \(found)")
        }
        // A container of one network only does not see the other's names.
        #expect(net.docker(["exec", "web", "nslookup", "db"]).status != 0)

        #expect(net.docker(["run", "-d", "--name", "plain", "busybox", "sleep", "100"]).status == 0)
        let before = net.docker(["exec", "plain", "cat", "/etc/resolv.conf"]).stdout
        let hostsBefore = net.docker(["exec", "plain", "cat", "/etc/hosts"]).stdout
        #expect(net.docker(["network", "connect", "back", "plain"]).status == 0)
        // As dockerd, the new address is added to the container's /etc/hosts, and goes again.
        let hostname = net.docker(["inspect", "-f", "{{.Config.Hostname}}", "plain"]).stdout.trimmingCharacters(in: .newlines)
        #expect(net.docker(["exec", "plain", "cat", "/etc/hosts"]).stdout == hostsBefore + "\(net.address("plain", network: "back"))\t\(hostname)\n")
        let joined = net.docker(["exec", "plain", "cat", "/etc/resolv.conf"]).stdout
        #expect(joined.contains("nameserver 127.0.0.11\n") && joined.contains("ndots:0"), "\(joined)")
        #expect(net.docker(["exec", "plain", "nslookup", "database"]).status == 0)
        #expect(net.docker(["network", "disconnect", "back", "plain"]).status == 0)
        #expect(net.docker(["exec", "plain", "cat", "/etc/resolv.conf"]).stdout == before)
        #expect(net.docker(["exec", "plain", "cat", "/etc/hosts"]).stdout == hostsBefore)
        #expect(net.docker(["rm", "-f", "db", "web", "proxy", "plain"]).status == 0)
        #expect(net.docker(["network", "rm", "front", "back"]).status == 0)
    }

    @Test func userNetworksAreIsolatedAndInternalOnesHaveNoWayOut() throws {
        let net = try NetworkDaemon()
        let base = Int(getpid()) % 200
        #expect(net.docker(["network", "create", "--subnet", "10.252.\(base).0/24", "neta"]).status == 0)
        #expect(net.docker(["network", "create", "--subnet", "10.253.\(base).0/24", "netb"]).status == 0)
        #expect(net.docker(["network", "create", "--internal", "--subnet", "10.254.\(base).0/24", "inside"]).status == 0)
        try net.runWebServer("b1", text: "on-b", extra: ["--network", "netb"])
        let target = net.docker(["inspect", "-f", "{{.NetworkSettings.Networks.netb.IPAddress}}", "b1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(target.hasPrefix("10.253."))
        let probe = NetworkDaemon.probe(target)
        // Same network: reachable (the server is up).
        #expect(net.docker(["run", "--rm", "--network", "netb", "busybox", "sh", "-c", probe]).stdout == "on-b\n")
        // Another user network: dropped.
        #expect(net.docker(["run", "--rm", "--network", "neta", "busybox", "sh", "-c", probe]).status != 0)
        // An internal network: no route out, and forwarding dropped.
        #expect(net.docker(["run", "--rm", "--network", "inside", "busybox", "sh", "-c", probe]).status != 0)
        #expect(net.docker(["run", "--rm", "--network", "inside", "busybox", "ip", "route"]).stdout.contains("default") == false)
        // Connected to both: reachable again.
        #expect(net.docker(["network", "connect", "netb", "b1"]).stderr.contains("already exists"))
    }

    @Test func eachStartGetsAWholeFirstInterface() throws {
        // The first start makes its namespace; later ones take one made ahead, with eth0 in
        // it already: both must give the same interface.
        let net = try NetworkDaemon(settings: ["mtu": 1400])
        let script = "cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address /proc/sys/net/ipv6/conf/eth0/disable_ipv6 /sys/class/net/eth0/tx_queue_len; ip -4 -o addr show eth0; ip route"
        for round in 0..<3 {
            let name = "whole\(round)"
            let run = net.docker(["run", "-d", "--name", name, "busybox", "sh", "-c", script + "; sleep 300"])
            #expect(run.status == 0, "\(run.stderr)")
            let address = net.address(name)
            let octets = address.split(separator: ".").compactMap { UInt8($0) }
            #expect(octets.count == 4 && address.hasPrefix("10.250."), "\(address)")
            let mac = "02:42:" + octets.map { String(format: "%02x", $0) }.joined(separator: ":")
            var output = ""
            for _ in 0..<50 where !output.contains("default") {
                output = net.docker(["logs", name]).stdout
                if !output.contains("default") { usleep(20_000) }
            }
            let gateway = address.split(separator: ".").prefix(3).joined(separator: ".") + ".1"
            // No transmit queue (noqueue), as dockerd's veth pairs, at both ends.
            #expect(output.hasPrefix("1400\n\(mac)\n1\n0\n"), "\(output)")
            #expect(output.contains("inet \(address)/24"), "\(output)")
            #expect(output.contains("default via \(gateway) dev eth0"), "\(output)")
            let sandbox = net.docker(["inspect", "-f", "{{.NetworkSettings.SandboxID}} {{.NetworkSettings.SandboxKey}}", name]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
            #expect(sandbox.count == 2 && sandbox[0].count == 64 && sandbox[1] == net.daemon.directory + "/exec/netns/" + sandbox[0].prefix(12), "\(sandbox)")
            // The bridge holds one host end per running container, none made ahead.
            let ports = Harness.run("/usr/sbin/ip", ["-o", "link", "show", "master", net.bridge]).stdout
            #expect(ports.split(separator: "\n").count == round + 1, "\(ports)")
            #expect(ports.contains("mtu 1400") && ports.contains("qdisc noqueue"), "\(ports)")
        }
    }

    @Test func publishedPortSurvivesADaemonCrash() throws {
        let first = try NetworkDaemon()
        let port = Harness.freePort()
        try first.runWebServer("blog1", text: "still-here", extra: ["-p", "127.0.0.1:\(port):80"])
        #expect(NetworkDaemon.fetch("http://127.0.0.1:\(port)/") == "still-here\n")
        let address = first.docker(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "blog1"]).stdout
        first.daemon.crash()
        first.keep = true
        let second = try NetworkDaemon(directory: first.daemon.directory)
        #expect(NetworkDaemon.fetch("http://127.0.0.1:\(port)/") == "still-here\n", "\(second.daemon.log)")
        #expect(second.docker(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "blog1"]).stdout == address)
        // A new container gets another address.
        let other = second.docker(["run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"]).stdout
        #expect(!other.contains("inet " + address.trimmingCharacters(in: .whitespacesAndNewlines) + "/"), "\(other)")
        #expect(second.docker(["rm", "-f", "blog1"]).status == 0)
        #expect(Harness.run("/usr/bin/curl", ["-s", "-m", "1", "http://127.0.0.1:\(port)/"]).status != 0)
        // The namespace file goes in the background, right after the exit.
        var leftovers = ["?"]
        for _ in 0..<50 where !leftovers.isEmpty {
            leftovers = (try? FileManager.default.contentsOfDirectory(atPath: second.daemon.directory + "/exec/netns")) ?? []
            if !leftovers.isEmpty { usleep(20_000) }
        }
        #expect(leftovers.isEmpty)
    }

    @Test func legacyLinksWriteHostsAndEnvironment() throws {
        let net = try NetworkDaemon()
        try net.runWebServer("db", text: "x", extra: ["--expose", "5432", "-e", "SECRET=1", "--hostname", "dbhost"])
        let env = net.docker(["run", "--rm", "--link", "db:database", "busybox", "sh", "-c", "cat /etc/hosts; env | sort"])
        #expect(env.status == 0, "\(env.stderr)")
        // As dockerd: the alias, the linked container's hostname, and its name unless that is the alias.
        #expect(env.stdout.contains("\n\(net.address("db"))\tdatabase dbhost db\n"), "\(env.stdout)")
        let plain = net.docker(["run", "--rm", "--link", "db", "busybox", "grep", "-w", "db", "/etc/hosts"]).stdout
        #expect(plain == "\(net.address("db"))\tdb dbhost\n", "\(plain)")
        #expect(env.stdout.contains("DATABASE_PORT_5432_TCP_PORT=5432"))
        #expect(env.stdout.contains("DATABASE_ENV_SECRET=1"))
    }

    /// `host-gateway` is the default bridge's gateway on every network mode, as dockerd's
    /// default host-gateway-ip is (a user network's own gateway does not count).
    @Test func hostGatewayIsTheDefaultBridgesGateway() throws {
        let net = try NetworkDaemon()
        let gateway = net.docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "bridge"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!gateway.isEmpty)
        #expect(net.docker(["network", "create", "hgnet"]).status == 0)
        defer { _ = net.docker(["network", "rm", "hgnet"]) }
        for mode in ["bridge", "none", "host", "hgnet"] {
            let run = net.docker(["run", "--rm", "--network", mode, "--add-host", "hg:host-gateway", "busybox", "grep", "-w", "hg", "/etc/hosts"])
            #expect(run.status == 0 && run.stdout == "\(gateway)\thg\n", "\(mode): \(run)")
        }
        // daemon.json's host-gateway-ip stands in for it.
        let configured = try NetworkDaemon(settings: ["host-gateway-ip": "192.0.2.7"])
        let run = configured.docker(["run", "--rm", "--add-host", "hg:host-gateway", "busybox", "grep", "-w", "hg", "/etc/hosts"])
        #expect(run.status == 0 && run.stdout == "192.0.2.7\thg\n", "\(run)")
    }

    @Test func aLinkFollowsItsContainerToANewAddress() throws {
        // icc off: the link's openings are the only way from one to the other.
        let net = try NetworkDaemon(settings: ["icc": false])
        try net.runWebServer("db", text: "moved", extra: ["--expose", "80"])
        let app = net.docker(["run", "-d", "--name", "app", "--link", "db:store", "busybox", "sleep", "300"])
        #expect(app.status == 0, "\(app.stderr)")
        let before = net.address("db")
        #expect(net.docker(["exec", "app", "sh", "-c", NetworkDaemon.probe(before)]).stdout == "moved\n")
        // db stops, another container takes its address, and db comes back at another one.
        #expect(net.docker(["stop", "-t", "0", "db"]).status == 0)
        #expect(net.docker(["run", "-d", "--name", "filler", "busybox", "sleep", "300"]).status == 0)
        #expect(net.address("filler") == before)
        #expect(net.docker(["start", "db"]).status == 0)
        let after = net.address("db")
        #expect(!after.isEmpty && after != before)
        // As dockerd: the linking container's /etc/hosts names the new address, and the
        // firewall opens the exposed port there (and no longer at the old one).
        let hosts = net.docker(["exec", "app", "cat", "/etc/hosts"]).stdout
        #expect(hosts.contains("\(after)\tstore "), "\(hosts)")
        #expect(!hosts.contains("\(before)\tstore "), "\(hosts)")
        let probe = net.docker(["exec", "app", "sh", "-c", NetworkDaemon.probe(after)])
        #expect(probe.stdout == "moved\n", "\(probe.stderr)")
        let rules = Harness.run("/usr/sbin/nft", ["list", "table", "ip", net.table]).stdout
        #expect(rules.contains("ip daddr \(after) tcp dport 80 accept"), "\(rules)")
        #expect(!rules.contains("ip daddr \(before) tcp dport 80 accept"), "\(rules)")
    }

    // MARK: - icc, bridge none, an existing bridge, forwarding

    @Test func iccOffKeepsTheDefaultBridgesContainersApart() throws {
        let net = try NetworkDaemon(settings: ["icc": false])
        let options = net.docker(["network", "inspect", "-f", #"{{index .Options "com.docker.network.bridge.enable_icc"}}"#, "bridge"])
        #expect(options.stdout == "false\n", "\(options.stderr)")
        let port = Harness.freePort()
        try net.runWebServer("web", text: "icc-web", extra: ["-p", "127.0.0.1:\(port):80"])
        let target = net.address("web")
        #expect(target.hasPrefix("10.250."))
        // Published ports still answer, and the host (the gateway) is still reachable.
        #expect(NetworkDaemon.fetch("http://127.0.0.1:\(port)/") == "icc-web\n", "\(net.daemon.log)")
        let gateway = net.docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "bridge"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(net.docker(["run", "--rm", "busybox", "ping", "-c", "1", "-W", "2", gateway]).status == 0)
        // Another container of the bridge reaches neither the server nor its address.
        let probe = net.docker(["run", "--rm", "busybox", "sh", "-c", NetworkDaemon.probe(target)])
        #expect(probe.status != 0, "\(probe.stdout)")
        #expect(net.docker(["run", "--rm", "busybox", "ping", "-c", "1", "-W", "1", target]).status != 0)
        // A legacy link opens the linked container's exposed ports to the linking one, as dockerd's does.
        try net.runWebServer("linked", text: "by-link", extra: ["--expose", "80"])
        let linked = net.docker(["run", "--rm", "--link", "linked:db", "busybox", "sh", "-c", NetworkDaemon.probe(net.address("linked"))])
        #expect(linked.stdout == "by-link\n", "\(linked.stderr)")
        #expect(net.docker(["run", "--rm", "busybox", "sh", "-c", NetworkDaemon.probe(net.address("linked"))]).status != 0)
        // A user network keeps its own setting (on by default).
        #expect(net.docker(["network", "create", "--subnet", "10.251.\(Int(getpid()) % 200).0/24", "open"]).status == 0)
        try net.runWebServer("web2", text: "icc-open", extra: ["--network", "open"])
        let open = net.docker(["run", "--rm", "--network", "open", "busybox", "sh", "-c", NetworkDaemon.probe(net.address("web2", network: "open"))])
        #expect(open.stdout == "icc-open\n", "\(open.stderr)")
    }

    @Test func ipv6UserNetworksGiveAddressesNamesAndRoutes() throws {
        let net = try NetworkDaemon()
        let octet = Int(getpid()) % 200
        let prefix = "fd00:\(String(0xb000 + octet, radix: 16))"
        // Without a subnet, current dockerd's default: the /64s of a unique local /48 made from
        // the daemon's ID (fd, then 40 bits of its SHA-256), the gateway shown.
        let engineID = try String(contentsOfFile: net.daemon.directory + "/data/engine-id", encoding: .utf8)
        let digest = Harness.run("/bin/sh", ["-c", "printf %s \"$1\" | sha256sum", "sh", engineID]).stdout
        let hex = Array(digest.prefix(16))
        func group(_ range: Range<Int>) -> String { String(Int(String(hex[range]), radix: 16)!, radix: 16) }
        let ula = "fd\(String(hex[6..<8])):\(group(8..<12)):\(group(12..<16))"
        #expect(net.docker(["network", "create", "--ipv6", "auto6"]).status == 0)
        #expect(net.docker(["network", "create", "--ipv6", "auto6b"]).status == 0)
        let automatic = net.docker(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{end}}", "auto6", "auto6b"])
        #expect(automatic.stdout.contains("\(ula)::/64 \(ula)::1 \n") && automatic.stdout.contains("\(ula):1::/64 \(ula):1::1 \n"),
                "\(ula): \(automatic)")
        #expect(net.docker(["network", "rm", "auto6", "auto6b"]).status == 0)
        // dockerd's refusal: two IPv6 subnets.
        let two = net.docker(["network", "create", "--ipv6", "--subnet", "\(prefix):1::/64", "--subnet", "\(prefix):2::/64", "twov6"])
        #expect(two.stderr.contains("bridge driver doesn't support multiple subnets"), "\(two.stderr)")
        let create = net.docker(["network", "create", "--ipv6", "--subnet", "\(prefix)::/64", "--subnet", "10.241.\(octet).0/24", "n6"])
        #expect(create.status == 0, "\(create.stderr)")
        let overlap = net.docker(["network", "create", "--ipv6", "--subnet", "\(prefix)::/80", "n6b"])
        #expect(overlap.stderr.contains("Pool overlaps with other one on this address space"), "\(overlap.stderr)")
        let inspect = net.docker(["network", "inspect", "-f", "{{.EnableIPv6}} {{json .IPAM.Config}}", "n6"])
        // As dockerd: a subnet the user gave shows no gateway unless one was given too.
        #expect(inspect.stdout == #"true [{"Subnet":"10.241.\#(octet).0/24"},{"Subnet":"\#(prefix)::/64"}]"# + "\n",
                "\(inspect.stdout) \(inspect.stderr)")
        #expect(net.docker(["run", "-d", "--name", "six", "--network", "n6", "busybox", "sleep", "300"]).status == 0)
        let endpoint = net.docker(["inspect", "-f", "{{with .NetworkSettings.Networks.n6}}{{.GlobalIPv6Address}} {{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}}{{end}}", "six"])
        #expect(endpoint.stdout == "\(prefix)::2 64 \(prefix)::1\n", "\(endpoint.stdout) \(endpoint.stderr)")
        // Another container: its own address and route, loopback's ::1, the line in /etc/hosts,
        // the first one by name (AAAA) and by address, and the gateway on the bridge.
        let probe = net.docker(["run", "--rm", "--network", "n6", "--hostname", "other", "busybox", "sh", "-c",
                                "ip -6 -o addr; ip -6 route; cat /etc/hosts; nslookup -type=AAAA six 10.241.\(octet).1; ping -6 -c 1 -W 2 six && ping -6 -c 1 -W 2 \(prefix)::1"])
        #expect(probe.status == 0, "\(probe.stdout) \(probe.stderr)")
        #expect(probe.stdout.contains("inet6 ::1/128"), "\(probe.stdout)")
        #expect(probe.stdout.contains("inet6 \(prefix)::3/64"), "\(probe.stdout)")
        #expect(probe.stdout.contains("default via \(prefix)::1 dev eth0"), "\(probe.stdout)")
        #expect(probe.stdout.contains("\(prefix)::3\tother\n"), "\(probe.stdout)")
        #expect(probe.stdout.contains("Address: \(prefix)::2"), "\(probe.stdout)")
        // The address goes back to the pool with the container.
        #expect(net.docker(["rm", "-f", "six"]).status == 0)
        let again = net.docker(["run", "--rm", "--network", "n6", "busybox", "ip", "-6", "-o", "addr", "show", "eth0"])
        #expect(again.stdout.contains("inet6 \(prefix)::2/64"), "\(again.stdout)")
        // --ip6: the address asked for, or dockerd's refusals.
        let chosen = net.docker(["run", "--rm", "--network", "n6", "--ip6", "\(prefix)::99", "busybox", "ip", "-6", "-o", "addr", "show", "eth0"])
        #expect(chosen.stdout.contains("inet6 \(prefix)::99/64"), "\(chosen.stdout) \(chosen.stderr)")
        let outside = net.docker(["run", "--rm", "--network", "n6", "--ip6", "fd00:ffff::9", "busybox", "true"])
        // Refused at create, in v28's words, as an IPv4 address outside the subnet is.
        #expect(outside.stderr.contains("invalid endpoint settings:\nno configured subnet contains IP address fd00:ffff::9"),
                "\(outside.stderr)")
        let onBridge = net.docker(["run", "--rm", "--ip6", "\(prefix)::98", "busybox", "true"])
        #expect(onBridge.stderr.contains("user specified IP address is supported on user defined networks only"), "\(onBridge.stderr)")
    }

    /// daemon.json's IPv6 default-address-pools replace the unique local one; IPv4's stay.
    @Test func ipv6DefaultAddressPoolsFromDaemonJSON() throws {
        let octet = Int(getpid()) % 200
        let base = "fd00:\(String(0xc000 + octet, radix: 16))"
        let net = try NetworkDaemon(settings: ["default-address-pools": [["base": "\(base)::/56", "size": 64]]])
        #expect(net.docker(["network", "create", "--ipv6", "pooled6"]).status == 0)
        let config = net.docker(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", "pooled6"])
        #expect(config.stdout.split(whereSeparator: \.isWhitespace).count == 2 && config.stdout.hasSuffix(" \(base)::/64 \n"), "\(config)")
        #expect(net.docker(["network", "rm", "pooled6"]).status == 0)
    }

    @Test func aUserNetworkCanTurnIccOff() throws {
        let net = try NetworkDaemon()
        // The default bridge has icc on: its containers reach each other.
        try net.runWebServer("web", text: "icc-on")
        let onBridge = net.docker(["run", "--rm", "busybox", "sh", "-c", NetworkDaemon.probe(net.address("web"))])
        #expect(onBridge.stdout == "icc-on\n", "\(onBridge.stderr)")
        let bad = net.docker(["network", "create", "-o", "com.docker.network.bridge.enable_icc=maybe", "badicc"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("failed to parse com.docker.network.bridge.enable_icc value: maybe (strconv.ParseBool: parsing \"maybe\": invalid syntax)"), "\(bad.stderr)")
        let create = net.docker(["network", "create", "--subnet", "10.252.\(Int(getpid()) % 200).0/24",
                                 "-o", "com.docker.network.bridge.enable_icc=false", "closed"])
        #expect(create.status == 0, "\(create.stderr)")
        let options = net.docker(["network", "inspect", "-f", #"{{index .Options "com.docker.network.bridge.enable_icc"}}"#, "closed"])
        #expect(options.stdout == "false\n")
        try net.runWebServer("inside", text: "icc-closed", extra: ["--network", "closed"])
        let target = net.address("inside", network: "closed")
        #expect(net.docker(["run", "--rm", "--network", "closed", "busybox", "sh", "-c", NetworkDaemon.probe(target)]).status != 0)
        #expect(net.docker(["run", "--rm", "--network", "closed", "busybox", "ping", "-c", "1", "-W", "1", target]).status != 0)
    }

    @Test func iccOffWithoutTheFirewallIsRefused() throws {
        do {
            _ = try TestDaemon(configuration: #"{"icc": false, "iptables": false}"#)
            Issue.record("berthd started with icc off and no firewall")
        } catch {
            #expect("\(error)".contains("You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true"), "\(error)")
        }
    }

    @Test func bridgeNoneMakesNoDefaultNetwork() throws {
        let net = try NetworkDaemon(settings: ["bridge": "none"])
        let ls = net.docker(["network", "ls", "--format", "{{.Name}} {{.Driver}}"])
        #expect(ls.stdout == "host host\nnone null\n", "\(ls.stderr)")
        #expect(Harness.run("/usr/sbin/ip", ["link", "show", net.bridge]).status != 0, "no bridge device is made")
        // A container without --network has loopback only, as with `--network none`.
        let run = net.docker(["run", "--rm", "--hostname", "lonely", "busybox", "sh", "-c", "ip -o link; cat /etc/hosts"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("lo:") && !run.stdout.contains("eth0"), "\(run.stdout)")
        #expect(!run.stdout.contains("lonely"), "no address line for the container in /etc/hosts")
        // Published ports are ignored; inspect says the network is disabled, as dockerd's does.
        let port = Harness.freePort()
        try net.runWebServer("quiet", text: "x", extra: ["-p", "127.0.0.1:\(port):80"])
        #expect(net.docker(["port", "quiet"]).stdout == "")
        let inspect = net.docker(["inspect", "-f", "{{.Config.NetworkDisabled}} {{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}", "quiet"])
        #expect(inspect.stdout == "true default bridge=;\n", "\(inspect.stderr)")
        #expect(Harness.run("/usr/bin/curl", ["-s", "-m", "1", "http://127.0.0.1:\(port)/"]).status != 0)
        // `network connect bridge` is accepted and does nothing; the bridge itself is not found.
        #expect(net.docker(["network", "connect", "bridge", "quiet"]).status == 0)
        let missing = net.docker(["network", "inspect", "bridge"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("network bridge not found"), "\(missing.stderr)")
        // User networks work as ever.
        #expect(net.docker(["network", "create", "--subnet", "10.253.\(Int(getpid()) % 200).0/24", "mine"]).status == 0)
        let mine = net.docker(["run", "--rm", "--network", "mine", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"])
        #expect(mine.stdout.contains("inet 10.253."), "\(mine.stdout) \(mine.stderr)")
        // -b and --bip together are refused, as dockerd refuses them.
        do {
            _ = try TestDaemon(configuration: #"{"bridge": "none", "bip": "10.99.0.1/24"}"#)
            Issue.record("berthd started with both bridge and bip")
        } catch {
            #expect("\(error)".contains("You specified -b & --bip, mutually exclusive options. Please specify only one"), "\(error)")
        }
    }

    @Test func anExistingBridgeIsUsedWithItsAddressAndLeftInPlace() throws {
        let name = "btu\(Int(getpid()) % 10000)"
        let octet = Int(getpid()) % 200
        defer { Harness.run("/usr/sbin/ip", ["link", "del", name]) }
        #expect(Harness.run("/usr/sbin/ip", ["link", "add", name, "type", "bridge"]).status == 0)
        #expect(Harness.run("/usr/sbin/ip", ["addr", "add", "10.248.\(octet).1/24", "dev", name]).status == 0)
        do {
            let net = try NetworkDaemon(settings: ["bridge": name])
            let inspect = net.docker(["network", "inspect", "-f", #"{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{index .Options "com.docker.network.bridge.name"}}"#, "bridge"])
            #expect(inspect.stdout == "10.248.\(octet).0/24 10.248.\(octet).1 \(name)\n", "\(inspect.stderr)")
            let address = net.docker(["run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"])
            #expect(address.stdout.contains("inet 10.248.\(octet).2/24"), "\(address.stdout) \(address.stderr)")
            #expect(net.daemon.stop() == 0)
        }
        // The daemon is gone, the bridge stays with its address.
        #expect(Harness.run("/usr/sbin/ip", ["-4", "-o", "addr", "show", name]).stdout.contains("10.248.\(octet).1/24"))
        // A bridge that is not there is not made: dockerd's refusal.
        let absent = "btn\(Int(getpid()) % 10000)"
        do {
            _ = try TestDaemon(configuration: #"{"bridge": "\#(absent)"}"#)
            Issue.record("berthd started on a missing bridge")
        } catch {
            #expect("\(error)".contains("bridge device with non default name \(absent) must be created manually"), "\(error)")
        }
        #expect(Harness.run("/usr/sbin/ip", ["link", "show", absent]).status != 0)
    }

    @Test func bipReplacesTheAddressTheDefaultBridgeHad() throws {
        // The default bridge is already there (left by an earlier daemon with another bip, or
        // made by hand) with two addresses outside the new bip: as dockerd, the first is
        // replaced by bip's, the other stays.
        let directory = NSTemporaryDirectory() + Harness.uniqueID("berthd-bip")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let octet = Int(getpid()) % 200
        let settings = #"{"cgroup-parent": "\#(NetworkDaemon.cgroupParent)", "bip": "10.246.\#(octet).1/24"}"#
        try settings.write(toFile: directory + "/daemon.json", atomically: true, encoding: .utf8)
        let device = NetworkDaemon.defaultBridge(dataRoot: directory + "/data")
        defer { Harness.run("/usr/sbin/ip", ["link", "del", device]) }
        #expect(Harness.run("/usr/sbin/ip", ["link", "add", device, "type", "bridge"]).status == 0)
        #expect(Harness.run("/usr/sbin/ip", ["addr", "add", "10.245.\(octet).1/24", "dev", device]).status == 0)
        #expect(Harness.run("/usr/sbin/ip", ["addr", "add", "10.244.\(octet).1/24", "dev", device]).status == 0)
        let net = try NetworkDaemon(directory: directory)
        let addresses = Harness.run("/usr/sbin/ip", ["-4", "-o", "addr", "show", device]).stdout
        #expect(addresses.contains("inet 10.246.\(octet).1/24"), "\(addresses) \(net.daemon.log)")
        #expect(!addresses.contains("10.245.\(octet)."), "\(addresses)")
        #expect(addresses.contains("inet 10.244.\(octet).1/24"), "\(addresses)")
        let inspect = net.docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}", "bridge"])
        #expect(inspect.stdout == "10.246.\(octet).0/24 10.246.\(octet).1\n", "\(inspect.stderr)")
    }

    @Test func forwardingIsTurnedOnOrWarnedAbout() throws {
        // Each daemon in a network namespace of its own whose ip_forward starts at 0, so the
        // host's setting is never touched.
        // Loopback comes up there too: Foundation's run loop binds 127.0.0.1.
        let launcher = ["/usr/bin/unshare", "--net", "/bin/sh", "-c",
                        "/usr/sbin/ip link set lo up && echo 0 > /proc/sys/net/ipv4/ip_forward && exec \"$@\"", "sh"]
        func forwarding(_ daemon: TestDaemon) -> String {
            Harness.run("/usr/bin/nsenter", ["--net=/proc/\(daemon.process.processIdentifier)/ns/net", "cat", "/proc/sys/net/ipv4/ip_forward"])
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let off = try NetworkDaemon(settings: ["ip-forward": false], launcher: launcher)
        #expect(forwarding(off.daemon) == "0")
        let info = off.docker(["info", "-f", "{{.IPv4Forwarding}} {{json .Warnings}}"])
        #expect(info.stdout.hasPrefix("false "), "\(info.stdout) \(info.stderr)")
        #expect(info.stdout.contains("WARNING: IPv4 forwarding is disabled"))
        let create = off.docker(["create", "busybox", "true"])
        #expect(create.stderr.contains("WARNING: IPv4 forwarding is disabled. Networking will not work."), "\(create.stderr)")
        #expect(!off.docker(["create", "--network", "none", "busybox", "true"]).stderr.contains("forwarding"))

        let on = try NetworkDaemon(launcher: launcher)
        #expect(forwarding(on.daemon) == "1")
        let onInfo = on.docker(["info", "-f", "{{.IPv4Forwarding}} {{json .Warnings}}"])
        #expect(onInfo.stdout.hasPrefix("true "), "\(onInfo.stdout)")
        #expect(!onInfo.stdout.contains("IPv4 forwarding"))
        #expect(!on.docker(["create", "busybox", "true"]).stderr.contains("forwarding"))
    }
}
