import BerthOCI
import Foundation
import Glibc
import Testing

/// Differences `scripts/compare-with-dockerd` found between berthd and dockerd, each pinned
/// through the stock CLI: exit code, stdout and stderr. Where dockerd 20.10 and current dockerd
/// (API 1.50) word an error differently, the expected text is current dockerd's.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct DockerParityTests {
    static func withDaemon(_ body: (TestDaemon) throws -> Void) throws {
        try ContainerBehaviourTests.withDaemon(#"{"cgroup-parent": "/berth-test"}"#, body)
    }

    /// Runs a docker command that must succeed, saying why when it does not.
    static func succeeds(_ daemon: TestDaemon, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let result = daemon.docker(arguments)
        #expect(result.status == 0, "docker \(arguments.joined(separator: " ")): \(result.stderr)", sourceLocation: sourceLocation)
    }

    static func runError(_ message: String) -> String { ContainerBehaviourTests.runError(message) }

    static func inspect(_ daemon: TestDaemon, _ format: String, _ name: String) -> String {
        daemon.docker(["inspect", "--format", format, name]).stdout.trimmingCharacters(in: .newlines)
    }

    /// `docker inspect` prints the daemon's JSON re-indented: its keys come in dockerd's
    /// (Go's declaration) order, maps' keys sorted.
    @Test func inspectShowsKeysInDockerdsOrder() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["create", "--name", "ordered", "-l", "zz=1", "-l", "aa=2", "-v", "orderedvol:/data", "busybox"])
            func keys(_ arguments: [String]) -> [String] {
                let text = daemon.docker(arguments).stdout
                // The top-level keys: eight spaces in, as the CLI indents the object in its list.
                return text.split(separator: "\n").compactMap { line in
                    guard line.hasPrefix("        \""), !line.hasPrefix("         ") else { return nil }
                    return String(line.dropFirst(9).prefix { $0 != "\"" })
                }
            }
            #expect(keys(["inspect", "ordered"]).prefix(6) == ["Id", "Created", "Path", "Args", "State", "Image"])
            #expect(keys(["inspect", "ordered"]).suffix(4) == ["GraphDriver", "Mounts", "Config", "NetworkSettings"])
            #expect(keys(["image", "inspect", "busybox"]).prefix(4) == ["Id", "RepoTags", "RepoDigests", "Parent"])
            #expect(keys(["network", "inspect", "none"]).prefix(3) == ["Name", "Id", "Created"])
            let labels = daemon.docker(["inspect", "ordered"]).stdout
            #expect(labels.contains("\"Labels\": {\n                \"aa\": \"2\",\n                \"zz\": \"1\"\n"), "\(labels)")
            Self.succeeds(daemon, ["rm", "-v", "ordered"])
            Self.succeeds(daemon, ["volume", "rm", "orderedvol"])
        }
    }

    @Test func startOfAPausedContainerIsRefused() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "pp", "busybox", "sleep", "100"])
            Self.succeeds(daemon, ["pause", "pp"])
            let start = daemon.docker(["start", "pp"])
            #expect(start.status == 1 && start.stdout.isEmpty, "\(start)")
            #expect(start.stderr == "Error response from daemon: cannot start a paused container, try unpause instead\nError: failed to start containers: pp\n",
                    "\(start.stderr)")
            #expect(Self.inspect(daemon, "{{.State.Status}}", "pp") == "paused")
            Self.succeeds(daemon, ["rm", "-f", "pp"])
        }
    }

    /// dockerd gives a terminal exec TERM=xterm (after PATH and HOSTNAME) unless it has one.
    @Test func aTerminalExecGetsTERM() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "term", "--hostname", "box", "busybox", "sleep", "100"])
            // A terminal's "\r\n" is one Character to String: the carriage returns go byte by byte.
            func lines(_ text: String) -> String { String(decoding: text.utf8.filter { $0 != 13 }, as: UTF8.self) }
            let tty = lines(daemon.docker(["exec", "-t", "term", "env"]).stdout)
            #expect(tty.hasPrefix("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nHOSTNAME=box\nTERM=xterm\n"), "\(tty)")
            let chosen = lines(daemon.docker(["exec", "-t", "-e", "TERM=vt100", "term", "env"]).stdout)
            #expect(chosen.contains("TERM=vt100\n") && !chosen.contains("xterm"), "\(chosen)")
            #expect(!daemon.docker(["exec", "term", "env"]).stdout.contains("TERM="))
            Self.succeeds(daemon, ["rm", "-f", "term"])
        }
    }

    @Test func killErrorsNameTheContainer() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "kk", "busybox", "sleep", "100"])
            let cases: [([String], String)] = [
                (["kill", "nosuch"], "cannot kill container: nosuch: No such container: nosuch"),
                (["kill", "-s", "0", "kk"], "cannot kill container: kk: invalid signal: 0"),
                (["kill", "-s", "BOGUS", "kk"], "cannot kill container: kk: invalid signal: BOGUS"),
                (["kill", "-s", "-1", "kk"], "cannot kill container: kk: the linux daemon does not support signal -1"),
                (["kill", "-s", "32", "kk"], "cannot kill container: kk: the linux daemon does not support signal 32"),
                // The signal is checked before the container is looked up.
                (["kill", "-s", "0", "nosuch"], "cannot kill container: nosuch: invalid signal: 0"),
            ]
            for (arguments, message) in cases {
                let result = daemon.docker(arguments)
                #expect(result.status == 1 && result.stderr == "Error response from daemon: \(message)\n", "\(arguments): \(result.stderr)")
            }
            // One missing among several: the others are killed, the missing one named.
            let mixed = daemon.docker(["kill", "kk", "nosuch"])
            #expect(mixed.status == 1 && mixed.stdout == "kk\n", "\(mixed)")
            #expect(mixed.stderr == "Error response from daemon: cannot kill container: nosuch: No such container: nosuch\n", "\(mixed.stderr)")
            #expect(ContainerBehaviourTests.eventually { Self.inspect(daemon, "{{.State.Status}}", "kk") == "exited" })
            let id = Self.inspect(daemon, "{{.Id}}", "kk")
            let stopped = daemon.docker(["kill", "kk"])
            #expect(stopped.stderr == "Error response from daemon: cannot kill container: kk: container \(id) is not running\n", "\(stopped.stderr)")
            Self.succeeds(daemon, ["rm", "kk"])
        }
    }

    @Test func psFilterValuesAreCheckedInDockersWords() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["create", "--name", "c1", "busybox", "true"])
            let refused: [(String, String)] = [
                ("exited=bad", #"invalid filter 'exited=bad': strconv.Atoi: parsing "bad": invalid syntax"#),
                ("status=bad", "invalid filter 'status=bad': invalid value for state (bad): must be one of created, running, paused, restarting, removing, exited, dead"),
                ("health=bad", "invalid filter 'health=bad': invalid value for health (bad): must be one of none, starting, healthy, unhealthy"),
                ("is-task=bad", "invalid filter 'is-task=[bad]'"),
                ("publish=bad", #"error while looking up for publish bad: strconv.ParseUint: parsing "bad": invalid syntax"#),
                ("expose=99999", #"error while looking up for expose 99999: strconv.ParseUint: parsing "99999": value out of range"#),
                ("expose=90-80", "error while looking up for expose 90-80: invalid range specified for port: 90-80"),
                ("publish=1:2", "filter for 'publish' should not contain ':': 1:2"),
                ("bogus=1", "invalid filter 'bogus'"),
            ]
            for (filter, message) in refused {
                let result = daemon.docker(["ps", "-a", "--filter", filter])
                #expect(result.status == 1 && result.stderr == "Error response from daemon: \(message)\n", "\(filter): \(result.stderr)")
            }
            func names(_ filter: String) -> String {
                daemon.docker(["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]).stdout
            }
            // No container of Berth's is a swarm task; isolation is "default" for all on Linux.
            #expect(names("is-task=true") == "")
            #expect(names("is-task=false") == "c1\n")
            #expect(names("isolation=default") == "c1\n")
            Self.succeeds(daemon, ["rm", "c1"])
        }
    }

    /// dockerd's `publish` filter looks at the host port, `expose` at the container port.
    @Test func publishFilterMatchesTheHostPort() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "web", "-p", "127.0.0.1::80", "busybox", "sleep", "100"])
            let hostPort = daemon.docker(["port", "web", "80"]).stdout.split(separator: ":").last.map { $0.trimmingCharacters(in: .newlines) } ?? ""
            #expect(Int(hostPort) != nil, "\(hostPort)")
            func names(_ filter: String) -> String {
                daemon.docker(["ps", "--filter", filter, "--format", "{{.Names}}"]).stdout
            }
            #expect(names("publish=\(hostPort)") == "web\n")
            #expect(names("publish=\(hostPort)/tcp") == "web\n")
            #expect(names("publish=\(hostPort)/udp") == "")
            #expect(names("publish=80") == "")
            #expect(names("expose=80") == "web\n")
            #expect(names("expose=79-81/tcp") == "web\n")
            Self.succeeds(daemon, ["rm", "-f", "web"])
        }
    }

    /// `-p 80` gets the next free port of the kernel's ephemeral range after the last one
    /// given, as dockerd's allocator hands them out, not one the kernel picks at random.
    @Test func publishedPortsWithoutAHostPortAreHandedOutInOrder() throws {
        let bounds = ((try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? "")
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(bounds.count == 2)
        try Self.withDaemon { daemon in
            var ports: [Int] = []
            for name in ["first", "second", "third"] {
                Self.succeeds(daemon, ["run", "-d", "--name", name, "-p", "80", "busybox", "sleep", "100"])
                let text = daemon.docker(["port", name, "80"]).stdout
                ports.append(Int(text.split(separator: ":").last?.trimmingCharacters(in: .newlines) ?? "") ?? 0)
            }
            #expect(ports[0] >= bounds[0] && ports[0] < bounds[0] + 100, "\(ports), range \(bounds)")
            #expect(ports[0] < ports[1] && ports[1] < ports[2] && ports[2] - ports[0] < 50, "\(ports)")
            Self.succeeds(daemon, ["rm", "-f", "first", "second", "third"])
        }
    }

    /// A port published on all addresses listens on [::] too, at the same port, as dockerd's
    /// proxy does on a host with IPv6: `docker port`, `docker ps` and inspect show both, and
    /// an IPv6 client reaches the container.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/net/if_inet6")
                   && (try? String(contentsOfFile: "/proc/sys/net/ipv6/conf/all/disable_ipv6", encoding: .utf8))?.hasPrefix("0") == true,
                   "the host has no IPv6"))
    func portsPublishedOnAllAddressesListenOnIPv6Too() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "web6", "-p", "80", "-p", "127.0.0.1::81", "busybox", "sh", "-c",
                                   "mkdir /www && echo hello6 > /www/index.html && exec httpd -f -p 80 -h /www"])
            let lines = daemon.docker(["port", "web6", "80"]).stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines[0].hasPrefix("0.0.0.0:") && lines[1].hasPrefix("[::]:"), "\(lines)")
            let port = lines.first?.split(separator: ":").last.map(String.init) ?? ""
            #expect(lines.last == "[::]:\(port)")
            let ports = daemon.docker(["ps", "--format", "{{.Ports}}"]).stdout
            #expect(ports.hasPrefix("0.0.0.0:\(port)->80/tcp, [::]:\(port)->80/tcp, 127.0.0.1:"), "\(ports)")
            #expect(daemon.docker(["port", "web6", "81"]).stdout.hasPrefix("127.0.0.1:"))
            var answer = ""
            for _ in 0..<30 {
                let fetched = Harness.run("/usr/bin/curl", ["-s", "-m", "2", "http://[::1]:\(port)/"])
                if fetched.status == 0 { answer = fetched.stdout; break }
                usleep(100_000)
            }
            #expect(answer == "hello6\n")
            Self.succeeds(daemon, ["rm", "-f", "web6"])
            // The port is free again on both families.
            #expect(ContainerBehaviourTests.eventually(5) { PortListener.bindIPv6(port: Int(port) ?? 0) }, "[::]:\(port) is still held")
        }
    }

    /// `-p [::1]:PORT:80` (and an ephemeral port there) listens on that IPv6 address only, as
    /// dockerd's proxy does; the same port stays free for IPv4, a second claim of it is refused
    /// in dockerd's words, and the listener comes back after a daemon restart.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/net/if_inet6")
                   && (try? String(contentsOfFile: "/proc/sys/net/ipv6/conf/all/disable_ipv6", encoding: .utf8))?.hasPrefix("0") == true,
                   "the host has no IPv6"))
    func portsPublishedOnAnIPv6Address() throws {
        try Self.withDaemon { daemon in
            let port = Harness.freePort()
            Self.succeeds(daemon, ["run", "-d", "--name", "lo6", "-p", "[::1]:\(port):80", "-p", "[::1]::81", "busybox", "sh", "-c",
                                   "mkdir /www && echo on-lo6 > /www/index.html && exec httpd -f -p 80 -h /www"])
            let lines = daemon.docker(["port", "lo6"]).stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines[0] == "80/tcp -> [::1]:\(port)" && lines[1].hasPrefix("81/tcp -> [::1]:"), "\(lines)")
            #expect(Self.inspect(daemon, "{{json .NetworkSettings.Ports}}", "lo6").hasPrefix(#"{"80/tcp":[{"HostIp":"::1","HostPort":"\#(port)"}]"#))
            func fetch() -> String {
                for _ in 0..<30 {
                    let fetched = Harness.run("/usr/bin/curl", ["-s", "-m", "2", "http://[::1]:\(port)/"])
                    if fetched.status == 0 { return fetched.stdout }
                    usleep(100_000)
                }
                return ""
            }
            #expect(fetch() == "on-lo6\n")
            let again = daemon.docker(["run", "--rm", "-p", "[::1]:\(port):80", "busybox", "true"])
            #expect(again.status == 125 && again.stderr.contains("Bind for ::1:\(port) failed: port is already allocated"), "\(again.stderr)")
            Self.succeeds(daemon, ["run", "-d", "--name", "lo4", "-p", "127.0.0.1:\(port):80", "busybox", "sleep", "100"])
            try withExtendedLifetime(daemon) {
                #expect(daemon.stop() == 0)
                let restarted = try TestDaemon(directory: daemon.directory)
                #expect(fetch() == "on-lo6\n")
                #expect(restarted.docker(["rm", "-f", "lo6", "lo4"]).status == 0)
            }
        }
    }

    @Test func runRefusalsDockerUsersSee() throws {
        try Self.withDaemon { daemon in
            // The CLI exits 127 on "no such file or directory", as it does with dockerd.
            // (A path of the test's own: `-v /nonexistent/x:/x` on this host would have made /nonexistent.)
            let missing = "/nonexistent-device-\(getpid())"
            let device = daemon.docker(["run", "--rm", "--device", missing, "busybox", "true"])
            #expect(device.status == 127, "\(device)")
            #expect(device.stderr == Self.runError(#"error gathering device information while adding custom device ""# + missing + #"": no such file or directory"#),
                    "\(device.stderr)")
            // A logging driver of dockerd's that Berth has not got: said so, not "plugin not found".
            let splunk = daemon.docker(["run", "--rm", "--log-driver", "splunk", "busybox", "true"])
            #expect(splunk.status == 125 && splunk.stderr == Self.runError("the splunk logging driver is not implemented yet in this version of Berth"), "\(splunk.stderr)")
            // No GPU driver: refused, never run without the devices.
            let gpus = daemon.docker(["run", "--rm", "--gpus", "all", "busybox", "true"])
            #expect(gpus.status == 125 && gpus.stderr == Self.runError(#"could not select device driver "" with capabilities: [[gpu]]"#), "\(gpus.stderr)")
            Self.succeeds(daemon, ["create", "--name", "peer", "busybox", "true"])
            let peer = daemon.docker(["run", "--rm", "--network", "container:peer", "busybox", "true"])
            #expect(peer.status == 125, "\(peer)")
            #expect(peer.stderr == Self.runError("cannot join network namespace of a non running container: container peer is created"), "\(peer.stderr)")
            #expect(daemon.docker(["ps", "-a", "--format", "{{.Names}}"]).stdout == "peer\n")
            Self.succeeds(daemon, ["rm", "peer"])
        }
    }

    /// Berth has no swarm: an overlay network gets dockerd's answer on a node outside one (503).
    /// (macvlan and ipvlan: MacvlanTests.)
    @Test func networkDriversBerthHasNot() throws {
        try Self.withDaemon { daemon in
            let create = daemon.docker(["network", "create", "--driver", "overlay", "ov"])
            #expect(create.status == 1, "\(create)")
            #expect(create.stderr == #"Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again."# + "\n",
                    "\(create.stderr)")
            let status = daemon.curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                      "-d", #"{"Name":"ov","Driver":"overlay"}"#, "http://berth/v1.50/networks/create"]).stdout
            #expect(status == "503")
            #expect(!daemon.docker(["network", "ls", "--format", "{{.Name}}"]).stdout.contains("ov"))
        }
    }

    @Test func renameToAnInvalidName() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["create", "--name", "rr", "busybox", "true"])
            let bad = daemon.docker(["rename", "rr", "bad name"])
            #expect(bad.status == 1)
            #expect(bad.stderr == "Error response from daemon: Error when allocating new name: Invalid container name (/bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\nError: failed to rename container named rr\n",
                    "\(bad.stderr)")
            let same = daemon.docker(["rename", "rr", "rr"])
            #expect(same.stderr == "Error response from daemon: Renaming a container with the same name as its current name\nError: failed to rename container named rr\n",
                    "\(same.stderr)")
            Self.succeeds(daemon, ["rename", "rr", "r2"])
            #expect(Self.inspect(daemon, "{{.Name}}", "r2") == "/r2")
            Self.succeeds(daemon, ["rm", "r2"])
        }
    }

    @Test func pruneUntilTakesDockersTimesAndRefusesOthers() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["create", "--name", "old", "busybox", "true"])
            let bad = daemon.docker(["container", "prune", "-f", "--filter", "until=bad"])
            #expect(bad.status == 1 && bad.stderr == "Error response from daemon: failed to parse value as time or duration: \"bad\"\n", "\(bad.stderr)")
            // Times before the container's creation prune nothing; a local time without zone is taken.
            for until in ["2000-01-01T00:00:00", "2000-01-01", "2000-01-01T00:00:00.5Z", "946684800", "1000h"] {
                let kept = daemon.docker(["container", "prune", "-f", "--filter", "until=\(until)"])
                #expect(kept.status == 0 && kept.stdout == "Total reclaimed space: 0B\n", "until=\(until): \(kept)")
            }
            #expect(daemon.docker(["ps", "-a", "--format", "{{.Names}}"]).stdout == "old\n")
            let pruned = daemon.docker(["container", "prune", "-f", "--filter", "until=2100-01-01T00:00:00+01:00"])
            #expect(pruned.status == 0 && pruned.stdout.hasPrefix("Deleted Containers:\n"), "\(pruned)")
            #expect(daemon.docker(["ps", "-a", "--format", "{{.Names}}"]).stdout == "")
        }
    }

    /// `network prune` honours `until` (it pruned every unused network whatever the filter)
    /// and refuses keys it does not know; `image prune` words a bad time as dockerd does.
    @Test func networkAndImagePruneFilters() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["network", "create", "recent"])
            let bogus = daemon.docker(["network", "prune", "-f", "--filter", "bogus=1"])
            #expect(bogus.status == 1 && bogus.stderr == "Error response from daemon: invalid filter 'bogus'\n", "\(bogus.stderr)")
            for command in [["network", "prune", "-f", "--filter", "until=bad"], ["image", "prune", "-f", "--filter", "until=bad"]] {
                let bad = daemon.docker(command)
                #expect(bad.status == 1 && bad.stderr == "Error response from daemon: failed to parse value as time or duration: \"bad\"\n",
                        "\(command): \(bad.stderr)")
            }
            let kept = daemon.docker(["network", "prune", "-f", "--filter", "until=2000-01-01"])
            #expect(kept.status == 0 && kept.stdout.isEmpty, "\(kept)")
            #expect(daemon.docker(["network", "ls", "--filter", "name=recent", "--format", "{{.Name}}"]).stdout == "recent\n")
            let pruned = daemon.docker(["network", "prune", "-f", "--filter", "until=2100-01-01"])
            #expect(pruned.status == 0 && pruned.stdout == "Deleted Networks:\nrecent\n\n", "\(pruned)")
        }
    }

    /// IPAM.Config shows what `network create` was given; `--ip` is checked against it at create.
    @Test func userSubnetsAndRequestedAddresses() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["network", "create", "--subnet", "10.231.0.0/24", "--ip-range", "10.231.0.128/25", "ranged"])
            Self.succeeds(daemon, ["network", "create", "--subnet", "10.232.0.0/24", "--gateway", "10.232.0.254", "gated"])
            Self.succeeds(daemon, ["network", "create", "auto"])
            func ipam(_ name: String) -> String {
                daemon.docker(["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}|{{.IPRange}}|{{.Gateway}}{{end}}", name])
                    .stdout.trimmingCharacters(in: .newlines)
            }
            #expect(ipam("ranged") == "10.231.0.0/24|10.231.0.128/25|")
            // Without --gateway, the gateway is the range's first address (dockerd's IPAM).
            let routes = daemon.docker(["run", "--rm", "--network", "ranged", "busybox", "ip", "route"]).stdout
            #expect(routes.contains("default via 10.231.0.128 dev eth0") && routes.contains("src 10.231.0.129"), "\(routes)")
            #expect(ipam("gated") == "10.232.0.0/24||10.232.0.254")
            #expect(ipam("auto").range(of: #"^\d+\.\d+\.\d+\.0/\d+\|\|\d+\.\d+\.\d+\.1$"#, options: .regularExpression) != nil, "\(ipam("auto"))")
            let noSubnet = daemon.docker(["run", "--rm", "--network", "auto", "--ip", "10.1.2.3", "busybox", "true"])
            #expect(noSubnet.status == 125, "\(noSubnet)")
            #expect(noSubnet.stderr == Self.runError("invalid endpoint settings:\nuser specified IP address is supported only when connecting to networks with user configured subnets"),
                    "\(noSubnet.stderr)")
            let outside = daemon.docker(["run", "--rm", "--network", "ranged", "--ip", "10.99.0.5", "busybox", "true"])
            #expect(outside.status == 125 && outside.stderr == Self.runError("invalid endpoint settings:\nno configured subnet contains IP address 10.99.0.5"),
                    "\(outside.stderr)")
            #expect(daemon.docker(["ps", "-a", "-q"]).stdout.isEmpty)
            let inside = daemon.docker(["run", "--rm", "--network", "ranged", "--ip", "10.231.0.200", "busybox", "sh", "-c", "ip -4 -o addr show eth0"])
            #expect(inside.status == 0 && inside.stdout.contains("inet 10.231.0.200/24"), "\(inside)")
            Self.succeeds(daemon, ["network", "rm", "ranged", "gated", "auto"])
        }
    }

    /// On cgroup v1 the kernel clamps cpu.shares; runc, and so dockerd, refuses what it would clamp.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers"), "cgroup v1 only"))
    func cpuSharesOutsideTheKernelsRangeAreRefused() throws {
        try Self.withDaemon { daemon in
            let low = daemon.docker(["run", "--rm", "--cpu-shares", "1", "busybox", "true"])
            #expect(low.status == 125 && low.stderr.contains("the minimum allowed cpu-shares is 2: unknown"), "\(low)")
            let high = daemon.docker(["run", "--rm", "--cpu-shares", "300000", "busybox", "true"])
            #expect(high.status == 125 && high.stderr.contains("the maximum allowed cpu-shares is 262144: unknown"), "\(high)")
            let fine = daemon.docker(["run", "--rm", "--cpu-shares", "512", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.shares"])
            #expect(fine.status == 0 && fine.stdout == "512\n", "\(fine)")
            Self.succeeds(daemon, ["run", "-d", "--name", "shares", "busybox", "sleep", "100"])
            let id = Self.inspect(daemon, "{{.Id}}", "shares")
            let update = daemon.docker(["update", "--cpu-shares", "1", "shares"])
            #expect(update.status == 1 && update.stderr == "Error response from daemon: Cannot update container \(id): the minimum allowed cpu-shares is 2\n",
                    "\(update.stderr)")
            #expect(Self.inspect(daemon, "{{.HostConfig.CpuShares}}", "shares") == "0")
            Self.succeeds(daemon, ["rm", "-f", "shares"])
        }
    }

    /// A bind asking for shared propagation needs a shared mount under its source, as dockerd
    /// checks at start; what this host's /etc sits on decides which answer is right. (Not /tmp:
    /// it holds the test daemon's root, whose binds have a rule of their own, DaemonRootBinds.)
    @Test func sharedPropagationNeedsASharedSourceMount() throws {
        let table = readProcFile("/proc/self/mountinfo") ?? ""
        var holder = ("", [String]())
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 6, fields[4] == "/" || "/etc" == fields[4] || "/etc".hasPrefix(fields[4] + "/"),
                  fields[4].count >= holder.0.count else { continue }
            holder = (fields[4], Array(fields[6...].prefix { $0 != "-" }))
        }
        let isShared = holder.1.contains { $0.hasPrefix("shared:") }
        try Self.withDaemon { daemon in
            let run = daemon.docker(["run", "--rm", "-v", "/etc:/host:shared", "busybox", "true"])
            if isShared {
                #expect(run.status == 0, "\(run)")
            } else {
                #expect(run.status == 125 && run.stderr == Self.runError("path /etc is mounted on \(holder.0) but it is not a shared mount"), "\(run.stderr)")
            }
            #expect(daemon.docker(["run", "--rm", "-v", "/etc:/host:rprivate", "busybox", "true"]).status == 0)
            #expect(daemon.docker(["ps", "-a", "-q"]).stdout.isEmpty)
        }
    }

    /// Berth is never part of a swarm: its swarm commands answer as dockerd's do on a node
    /// outside one; making or joining one is not implemented.
    @Test func swarmCommandsAnswerAsOnANodeOutsideOne() throws {
        try Self.withDaemon { daemon in
            let notManager = #"Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again."# + "\n"
            for command in [["node", "ls"], ["service", "ls"], ["secret", "ls"], ["config", "ls"]] {
                let result = daemon.docker(command)
                #expect(result.status == 1 && result.stderr == notManager, "\(command): \(result)")
            }
            let leave = daemon.docker(["swarm", "leave", "--force"])
            #expect(leave.status == 1 && leave.stderr == "Error response from daemon: This node is not part of a swarm\n", "\(leave)")
            let status = daemon.curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                      "-d", "{}", "http://berth/v1.50/swarm/init"])
            #expect(status.stdout == "501")
        }
    }

    /// A websocket attach asked without the upgrade headers: dockerd's bare 400 for a container
    /// (AttachWebSocketTests has the websocket itself), 404 for a missing one.
    @Test func websocketAttachWithoutAnUpgradeIsRefused() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["create", "--name", "ws", "busybox", "true"])
            let answer = daemon.curl(["-w", " %{http_code}", "http://berth/v1.50/containers/ws/attach/ws?stream=1"])
            #expect(answer.stdout == "not websocket protocol 400", "\(answer)")
            #expect(daemon.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://berth/v1.50/containers/nosuch/attach/ws"]).stdout == "404")
            Self.succeeds(daemon, ["rm", "ws"])
        }
    }

    /// An image's size counts what dockerd's layer walk counts: regular files and symlinks.
    @Test func imageSizeCountsSymlinksAsDockerdDoes() throws {
        let rootfs = Harness.imageDir + "/rootfs"
        try #require(FileManager.default.fileExists(atPath: rootfs), "no test image rootfs at \(rootfs)")
        var expected: Int64 = 0
        for name in try FileManager.default.subpathsOfDirectory(atPath: rootfs) {
            var info = stat()
            if lstat(rootfs + "/" + name, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR { expected += Int64(info.st_size) }
        }
        try Self.withDaemon { daemon in
            #expect(Self.inspect(daemon, "{{.Size}}", "busybox") == String(expected))
        }
    }

    @Test func networkAndImageFilterErrors() throws {
        try Self.withDaemon { daemon in
            let subnet = daemon.docker(["network", "create", "--subnet", "bad", "n1"])
            #expect(subnet.status == 1 && subnet.stderr == "Error response from daemon: Invalid subnet bad : invalid CIDR address: bad\n", "\(subnet.stderr)")
            let dangling = daemon.docker(["images", "--filter", "dangling=bad"])
            #expect(dangling.status == 1 && dangling.stderr == "Error response from daemon: invalid filter 'dangling=[bad]'\n", "\(dangling.stderr)")
            #expect(daemon.docker(["images", "--filter", "dangling=1", "-q"]).stdout == "")
            #expect(daemon.docker(["images", "--filter", "dangling=false", "--format", "{{.Repository}}"]).stdout == "busybox\n")
        }
    }

    @Test func execInAMissingWorkingDirectory() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "ee", "busybox", "sleep", "100"])
            let result = daemon.docker(["exec", "-w", "/nonexistent", "ee", "pwd"])
            #expect(result.status == 126, "\(result)")
            #expect(result.stdout.contains(#"chdir to cwd ("/nonexistent") set in config.json failed: no such file or directory"#), "\(result.stdout)")
            Self.succeeds(daemon, ["rm", "-f", "ee"])
        }
    }

    /// dockerd lists a container's network whether or not it runs: "bridge" with no network
    /// ID before the first start, and with the network's ID but no address after an exit.
    @Test func networksOfContainersThatAreNotRunning() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["create", "--name", "fresh", "busybox", "true"])
            #expect(Self.inspect(daemon, "{{range $name, $e := .NetworkSettings.Networks}}{{$name}}={{$e.NetworkID}}{{end}}", "fresh") == "bridge=")
            #expect(daemon.docker(["ps", "-a", "--filter", "name=fresh", "--format", "{{.Networks}}"]).stdout == "bridge\n")
            // The files a start makes are not named before the first start, as in dockerd.
            #expect(Self.inspect(daemon, "{{.ResolvConfPath}}|{{.HostnamePath}}|{{.HostsPath}}|{{.LogPath}}", "fresh") == "|||")
            // A start that fails in the runtime has made all four: dockerd then names them.
            #expect(daemon.docker(["run", "--name", "failed", "busybox", "/nonexistent"]).status == 127)
            let failedPaths = Self.inspect(daemon, "{{.ResolvConfPath}}|{{.HostnamePath}}|{{.HostsPath}}|{{.LogPath}}", "failed")
                .split(separator: "|")
            #expect(failedPaths.count == 4 && zip(failedPaths, ["/resolv.conf", "/hostname", "/hosts", "-json.log"])
                .allSatisfy { $0.hasSuffix($1) }, "\(failedPaths)")
            Self.succeeds(daemon, ["run", "--name", "done", "busybox", "true"])
            let bridgeID = daemon.docker(["network", "inspect", "--format", "{{.Id}}", "bridge"]).stdout.trimmingCharacters(in: .newlines)
            #expect(!bridgeID.isEmpty)
            #expect(Self.inspect(daemon, "{{range $name, $e := .NetworkSettings.Networks}}{{$name}}={{$e.NetworkID}}|{{$e.IPAddress}}|{{$e.EndpointID}}{{end}}", "done")
                    == "bridge=\(bridgeID)||")
            #expect(Self.inspect(daemon, "{{.NetworkSettings.IPAddress}}|{{.NetworkSettings.SandboxKey}}", "done") == "|")
            #expect(Self.inspect(daemon, "{{.HostsPath}}", "done").hasSuffix("/hosts"))
            #expect(daemon.docker(["ps", "-a", "--filter", "name=done", "--format", "{{.Networks}}"]).stdout == "bridge\n")
            Self.succeeds(daemon, ["create", "--name", "isolated", "--network", "none", "busybox", "true"])
            Self.succeeds(daemon, ["rm", "fresh", "done", "isolated", "failed"])
        }
    }

    /// `docker system df` counts containers and, with -v, what images share and who uses them.
    @Test func systemDiskUsageCountsContainersAndSharedLayers() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "up", "busybox", "sleep", "100"])
            Self.succeeds(daemon, ["run", "--name", "wrote", "busybox", "sh", "-c", "echo x > /y"])
            Self.succeeds(daemon, ["commit", "wrote", "derived"])
            let summary = daemon.docker(["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}"]).stdout
            #expect(summary.contains("Containers 2 1 2B\n"), "\(summary)")
            #expect(summary.hasPrefix("Images 2 1 "), "\(summary)")
            let images = daemon.docker(["system", "df", "-v", "--format",
                                        "{{range .Images}}{{.Repository}} {{.Containers}} {{.UniqueSize}}|{{end}}"]).stdout
            #expect(images == "derived 0 2B|busybox 2 0B|", "\(images)")
            let containers = daemon.docker(["system", "df", "-v", "--format", "{{range .Containers}}{{.Names}} {{.Size}}|{{end}}"]).stdout
            #expect(containers == "wrote 2B|up 0B|", "\(containers)")
            // A build's intermediate images are not listed (their layers still count as shared).
            let directory = daemon.directory + "/df-context"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "FROM busybox\nRUN echo a > /a\nENV X=1\n".write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)
            Self.succeeds(daemon, ["build", "-q", "-t", "layered", directory])
            // (Sorted: images made in the same second come in either order.)
            let listed = daemon.docker(["system", "df", "-v", "--format", "{{range .Images}}{{.Repository}} {{.UniqueSize}}|{{end}}"]).stdout
            #expect(listed.split(separator: "|").sorted() == ["busybox 0B", "derived 2B", "layered 0B"], "\(listed)")
            Self.succeeds(daemon, ["rm", "-f", "up", "wrote"])
            Self.succeeds(daemon, ["rmi", "derived", "layered"])
        }
    }

    @Test func logsUntilZeroIsNoLimit() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "--name", "lines", "busybox", "sh", "-c", "echo one; echo two"])
            let all = daemon.docker(["logs", "--until", "0", "lines"])
            #expect(all.status == 0 && all.stdout == "one\ntwo\n", "\(all)")
            #expect(daemon.docker(["logs", "--until", "2000-01-01", "lines"]).stdout == "")
            Self.succeeds(daemon, ["rm", "lines"])
        }
    }

    /// API 1.42 removed KernelMemory; current dockerd ignores it, without a warning.
    @Test func updateIgnoresKernelMemory() throws {
        try Self.withDaemon { daemon in
            Self.succeeds(daemon, ["run", "-d", "--name", "uu", "busybox", "sleep", "100"])
            let result = daemon.docker(["update", "--kernel-memory", "1m", "uu"])
            #expect(result.status == 0 && result.stdout == "uu\n" && result.stderr.isEmpty, "\(result)")
            Self.succeeds(daemon, ["rm", "-f", "uu"])
        }
    }

    /// On a host without AppArmor or SELinux dockerd ignores those options silently.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/sys/fs/selinux/enforce")
                   && (try? String(contentsOfFile: "/sys/module/apparmor/parameters/enabled", encoding: .utf8))?.hasPrefix("Y") != true,
                   "the host has AppArmor or SELinux"))
    func securityOptionsTheHostLacksAreIgnoredQuietly() throws {
        try Self.withDaemon { daemon in
            for option in ["apparmor=unconfined", "label=disable"] {
                let result = daemon.docker(["run", "--rm", "--security-opt", option, "busybox", "true"])
                #expect(result.status == 0 && result.stderr.isEmpty, "\(option): \(result)")
            }
        }
    }
}

/// Per-device block I/O limits (`--device-read-bps` and the like), `--storage-opt` and
/// `--platform`, which Berth once accepted and ignored.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct ResourceOptionParityTests {
    /// A disk of this machine ("vda", 254:0), for limits the kernel checks against a real device.
    static let blockDevice: (path: String, numbers: String)? = {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []).sorted()
        let disks = names.filter { !$0.hasPrefix("loop") && !$0.hasPrefix("ram") && !$0.hasPrefix("zram") } + names
        for name in disks {
            guard let numbers = try? String(contentsOfFile: "/sys/block/\(name)/dev", encoding: .utf8),
                  FileManager.default.fileExists(atPath: "/dev/" + name) else { continue }
            return ("/dev/" + name, numbers.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return nil
    }()

    @Test(.enabled(if: blockDevice != nil, "the machine has no block device"))
    func blockIODeviceLimitsReachTheCgroup() throws {
        let (path, numbers) = try #require(Self.blockDevice)
        try DockerParityTests.withDaemon { daemon in
            let script = """
                cd /sys/fs/cgroup; if [ -d blkio ]; then cd blkio; for f in read_bps write_bps read_iops write_iops; do \
                cat blkio.throttle.${f}_device; done; else cat io.max; fi
                """
            let run = daemon.docker(["run", "--rm", "--device-read-bps", path + ":1mb", "--device-write-bps", path + ":2mb",
                                     "--device-read-iops", path + ":70", "--device-write-iops", path + ":50",
                                     "busybox", "sh", "-c", script])
            #expect(run.status == 0, "\(run.stderr)")
            let expected = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
                ? "\(numbers) rbps=1048576 wbps=2097152 riops=70 wiops=50\n"
                : "\(numbers) 1048576\n\(numbers) 2097152\n\(numbers) 70\n\(numbers) 50\n"
            #expect(run.stdout == expected)
            // A path that is not there fails the start as with dockerd (the CLI exits 127).
            let missing = daemon.docker(["run", "--rm", "--device-write-iops", "/dev/nosuch:5", "busybox", "true"])
            #expect(missing.status == 127, "\(missing)")
            #expect(missing.stderr == DockerParityTests.runError("stat /dev/nosuch: no such file or directory"), "\(missing.stderr)")
        }
    }

    @Test func storageOptionsAreRefusedAsOverlayWithoutQuotasRefusesThem() throws {
        try DockerParityTests.withDaemon { daemon in
            let unknown = daemon.docker(["create", "--storage-opt", "bad=1", "busybox", "true"])
            #expect(unknown.status == 1 && unknown.stderr == "Error response from daemon: Unknown option bad\n", "\(unknown)")
            let size = daemon.docker(["create", "--storage-opt", "size=1G", "busybox", "true"])
            #expect(size.status == 1, "\(size)")
            #expect(size.stderr == "Error response from daemon: --storage-opt is supported only for overlay over xfs with 'pquota' mount option\n"
                    || size.stderr.contains("is not implemented"), "\(size.stderr)")
            #expect(daemon.docker(["ps", "-aq"]).stdout.isEmpty)
        }
    }

    @Test func aBindTakesNoVolumeOptions() throws {
        try DockerParityTests.withDaemon { daemon in
            let run = daemon.docker(["run", "--rm", "-v", "/tmp:/x:nocopy", "busybox", "true"])
            #expect(run.status == 125, "\(run)")
            #expect(run.stderr == DockerParityTests.runError(#"invalid volume specification: '/tmp:/x:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified"#),
                    "\(run.stderr)")
            #expect(daemon.docker(["run", "--rm", "-v", "nocopyvolume:/x:nocopy", "busybox", "true"]).status == 0)
        }
    }

    /// An image for another platform counts as not found (so the CLI tries a pull).
    @Test func createForAnotherPlatformIsNotFound() throws {
        try DockerParityTests.withDaemon { daemon in
            let architecture = DockerParityTests.inspect(daemon, "{{.Architecture}}", "busybox")
            let other = architecture == "s390x" ? "riscv64" : "s390x"
            let body = #"{"Image":"busybox"}"#
            let refused = daemon.curl(["-s", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "-d", body,
                                       "http://berth/v1.50/containers/create?platform=linux/\(other)"]).stdout
            #expect(refused == #"{"message":"image with reference busybox was found but does not match the specified platform: wanted linux/\#(other), actual: linux/\#(architecture)"}"# + "\n\n404",
                    "\(refused)")
            let accepted = daemon.docker(["create", "--platform", "linux/" + architecture, "--name", "same", "busybox", "true"])
            #expect(accepted.status == 0, "\(accepted)")
            #expect(daemon.docker(["rm", "same"]).status == 0)
        }
    }

    /// dockerd's order of the create's checks: the settings (with the IPC/PID peers and the
    /// runtime), then the image, then the name, then the other containers it names. A bad
    /// option with a mistyped image is so an error, not a 404 that makes the CLI pull.
    @Test func createChecksInDockerdsOrder() throws {
        try DockerParityTests.withDaemon { daemon in
            DockerParityTests.succeeds(daemon, ["create", "--name", "taken", "busybox", "true"])
            let taken = #"Conflict. The container name \"/taken\" is already in use by container"#
            let cases: [(image: String, hostConfig: String, status: String, message: String)] = [
                ("nosuchimage", #"{"NanoCpus":99000000000}"#, "400", "Range of CPUs is from 0.01 to"),
                ("nosuchimage", #"{"IpcMode":"container:nosuch"}"#, "400", "No such container: nosuch"),
                ("nosuchimage", #"{"PidMode":"container:nosuch"}"#, "400", "No such container: nosuch"),
                ("nosuchimage", #"{"Runtime":"foo"}"#, "400", "Unknown runtime specified foo"),
                ("nosuchimage", #"{"Links":["nosuch:x"]}"#, "404", "No such image: nosuchimage:latest"),
                // Not an image name at all: the client's error, which clients do not pull.
                ("BadImage", "{}", "400", "invalid reference format: repository name (library/BadImage) must be lowercase"),
                ("a:b:c", "{}", "400", "invalid reference format"),
                ("busybox", #"{"Memory":1000}"#, "400", "Minimum memory limit allowed is 6MB"),
                ("busybox", #"{"Links":["nosuch:x"]}"#, "409", taken),
                ("busybox", #"{"VolumesFrom":["nosuch"]}"#, "409", taken),
            ]
            for (image, hostConfig, status, message) in cases {
                let body = #"{"Image":"\#(image)","HostConfig":\#(hostConfig)}"#
                let answer = daemon.curl(["-s", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                                          "-d", body, "http://berth/v1.50/containers/create?name=taken"]).stdout
                #expect(answer.hasPrefix(#"{"message":""# + message) && answer.hasSuffix("\n" + status), "\(body): \(answer)")
            }
            for path in ["/images/BadImage/json", "/images/a:b:c/history"] {
                #expect(daemon.curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://berth/v1.50" + path]).stdout == "400", "\(path)")
            }
            // Through the CLI: the option's error, exit 125, and no pull.
            let run = daemon.docker(["run", "--cpus", "99", "nosuchimage"])
            #expect(run.status == 125 && run.stderr.contains("Range of CPUs is from 0.01 to") && !run.stderr.contains("Unable to find image"),
                    "\(run)")
        }
    }
}

/// Whether a host port can be bound on [::] (the proxy that held it is gone).
enum PortListener {
    static func bindIPv6(port: Int) -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        // Connections the proxy served may linger in TIME_WAIT; a listener is what must be gone.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }
}
