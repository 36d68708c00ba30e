import Foundation
import Glibc
import Testing

/// Published UDP ports on berthd's shared proxy loops, and the embedded DNS with many
/// containers on a user network. busybox's nc speaks no UDP: the echo server behind a
/// published port is a python3 of the test's own inside the container's network namespace.
/// Names these tests do not know are forwarded only to 127.0.0.9 (`--dns`), where nothing
/// listens: no query leaves the machine.
@Suite(.enabled(if: Harness.isRoot, "networking needs root"), .serialized)
struct UDPPortsAndDNSScaleTests {
    /// A UDP echo server on port 53 in `container`'s network namespace; it ends by itself
    /// after 60 s without a datagram, and is killed by the caller.
    static func startEcho(_ net: NetworkDaemon, in container: String) throws -> Process {
        let pid = net.docker(["inspect", "-f", "{{.State.Pid}}", container]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["--net=/proc/\(pid)/ns/net", "/usr/bin/python3", "-c", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", 53))
            s.settimeout(60)
            while True:
                try:
                    data, peer = s.recvfrom(2048)
                except socket.timeout:
                    break
                s.sendto(b"from \(container): " + data, peer)
            """]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A UDP socket on the host's loopback.
    static func client() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Sends `text` to 127.0.0.1:`port` until an answer comes (the echo server may still be
    /// starting), for up to about 6 s.
    static func ask(_ fd: Int32, port: Int, _ text: String) -> String? {
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = UInt16(port).bigEndian
        target.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bytes = Array(text.utf8)
        var buffer = [UInt8](repeating: 0, count: 2048)
        for _ in 0..<20 {
            _ = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let got = recv(fd, &buffer, buffer.count, 0)
            if got > 0 { return String(decoding: buffer[0..<got], as: UTF8.self) }
        }
        return nil
    }

    /// Whether this process can bind 127.0.0.1:`port`/udp (none else holds it).
    static func udpPortIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func threads(_ pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).count
    }

    /// Two containers publish UDP ports at once and each answers through its own, two
    /// clients of one port each get their own answers; ten more UDP ports add no thread to
    /// berthd (a relay thread per port did); `rm -f` frees the port at once, and a new
    /// container publishes it again right away.
    @Test func udpPortsShareTheProxyLoopsAndAreFreedAtOnce() throws {
        let net = try NetworkDaemon()
        let first = Harness.freePort(), second = Harness.freePort()
        for (name, port) in [("udp1", first), ("udp2", second)] {
            let run = net.docker(["run", "-d", "--name", name, "-p", "127.0.0.1:\(port):53/udp", "busybox", "sleep", "600"])
            try #require(run.status == 0, "\(run.stderr)")
        }
        let echoes = try ["udp1", "udp2"].map { try Self.startEcho(net, in: $0) }
        // SIGKILL: the test process's children may inherit SIGTERM blocked.
        defer { for echo in echoes { kill(echo.processIdentifier, SIGKILL); echo.waitUntilExit() } }
        let one = Self.client(), two = Self.client()
        defer { close(one); close(two) }
        #expect(Self.ask(one, port: first, "a") == "from udp1: a", "\(net.daemon.log)")
        #expect(Self.ask(one, port: second, "b") == "from udp2: b")
        #expect(Self.ask(two, port: first, "c") == "from udp1: c")
        #expect(Self.ask(one, port: first, "d") == "from udp1: d")

        let berthd = net.daemon.process.processIdentifier
        let before = Self.threads(berthd)
        for index in 0..<10 {
            let run = net.docker(["run", "-d", "--name", "more\(index)", "-p", "127.0.0.1::53/udp", "busybox", "sleep", "600"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let after = Self.threads(berthd)
        // Some slack for the daemon's own pools; a thread per port made ten more.
        #expect(after <= before + 4, "threads \(before) → \(after)")

        #expect(net.docker(["rm", "-f", "udp1"]).status == 0)
        #expect(Self.udpPortIsFree(first))
        let again = net.docker(["run", "-d", "--name", "udp3", "-p", "127.0.0.1:\(first):53/udp", "busybox", "sleep", "600"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Self.ask(two, port: second, "e") == "from udp2: e")
    }

    /// A container started after 30 others on a user network resolves each of them by name
    /// and by alias; one removed stops resolving at once, the others still do; one renamed
    /// is found by its new name only.
    @Test func aLateContainerResolvesEveryOtherAndARemovedOneIsGoneAtOnce() throws {
        let net = try NetworkDaemon()
        let octet = 10 + Int(getpid()) % 200
        let create = net.docker(["network", "create", "--subnet", "10.252.\(octet).0/24", "many"])
        try #require(create.status == 0, "\(create.stderr)")
        for index in 0..<30 {
            let run = net.docker(["run", "-d", "--network", "many", "--name", "member\(index)", "--network-alias", "alias\(index)",
                                  "--dns", "127.0.0.9", "busybox", "sleep", "600"])
            try #require(run.status == 0, "\(run.stderr)")
        }
        let probe = net.docker(["run", "-d", "--network", "many", "--name", "probe", "--dns", "127.0.0.9", "busybox", "sleep", "600"])
        try #require(probe.status == 0, "\(probe.stderr)")
        // Each name's answer must be that container's own address.
        var expected: [String] = []
        for index in 0..<30 {
            let address = net.address("member\(index)", network: "many")
            expected.append("member\(index) \(address)")
            expected.append("alias\(index) \(address)")
        }
        let script = (0..<30).map { "for n in member\($0) alias\($0); do echo \"$n $(nslookup -type=a $n | sed -n 's/^Address: //p' | tail -n 1)\"; done" }
            .joined(separator: "; ")
        let answers = net.docker(["exec", "probe", "sh", "-c", script])
        #expect(answers.stdout.split(separator: "\n").map(String.init) == expected, "\(answers.stdout) \(answers.stderr)")

        #expect(net.docker(["rm", "-f", "member7"]).status == 0)
        let gone = net.docker(["exec", "probe", "nslookup", "-type=a", "member7"])
        #expect(gone.status != 0, "\(gone.stdout)")
        #expect(net.docker(["exec", "probe", "nslookup", "-type=a", "alias7"]).status != 0)
        let address8 = net.address("member8", network: "many")
        #expect(net.docker(["exec", "probe", "nslookup", "-type=a", "alias8"]).stdout.contains("Address: " + address8))
        // As with dockerd, a running container's new name resolves at once, its old one no longer.
        #expect(net.docker(["rename", "member8", "renamed8"]).status == 0)
        #expect(net.docker(["exec", "probe", "nslookup", "-type=a", "renamed8"]).stdout.contains("Address: " + address8))
        #expect(net.docker(["exec", "probe", "nslookup", "-type=a", "member8"]).status != 0)
        #expect(net.docker(["inspect", "-f", "{{json (index .NetworkSettings.Networks \"many\").DNSNames}}", "renamed8"]).stdout
            .hasPrefix("[\"renamed8\",\"alias8\","))
    }
}
