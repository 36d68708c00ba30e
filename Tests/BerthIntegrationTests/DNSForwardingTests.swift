import Foundation
import Glibc
import Testing

/// The embedded DNS server's forwarding of names it does not know, against upstream
/// resolvers this test starts on loopback (given with `--dns`): no query leaves the machine.
@Suite(.enabled(if: Harness.isRoot, "networking needs root"), .serialized)
struct DNSForwardingTests {
    /// Upstream resolvers on 127.0.0.x:53 (UDP and TCP), each in its role: `answer` answers
    /// ext.example with 192.0.2.7 over UDP and 192.0.2.8 over TCP, big.example with a
    /// truncated answer over UDP and 192.0.2.9 over TCP, any other name with 192.0.2.10;
    /// `servfail` answers SERVFAIL; `silent` reads nothing and answers nothing.
    static let upstream = #"""
        import socket, struct, sys, threading, time
        def answer(q, role, tcp):
            i = 12
            labels = []
            while q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode()); i += q[i] + 1
            name, question = ".".join(labels), q[12:i + 5]
            if role == "servfail":
                return q[:2] + struct.pack(">HHHHH", 0x8182, 1, 0, 0, 0) + question
            if name == "big.example" and not tcp:
                return q[:2] + struct.pack(">HHHHH", 0x8380, 1, 0, 0, 0) + question
            last = {"ext.example": 8 if tcp else 7, "big.example": 9}.get(name, 10)
            record = struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + bytes([192, 0, 2, last])
            return q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + question + record
        def udp(address, role):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((address, 53))
            if role == "silent":
                time.sleep(600)
            while True:
                q, peer = s.recvfrom(4096)
                s.sendto(answer(q, role, False), peer)
        def tcp(address, role):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, 53)); s.listen(16)
            while True:
                c, _ = s.accept()
                n = struct.unpack(">H", c.recv(2))[0]
                q = c.recv(n)
                a = answer(q, role, True)
                c.sendall(struct.pack(">H", len(a)) + a); c.close()
        for spec in sys.argv[2:]:
            address, role = spec.split("=")
            threading.Thread(target=udp, args=(address, role), daemon=True).start()
            if role != "silent":
                threading.Thread(target=tcp, args=(address, role), daemon=True).start()
        time.sleep(0.2)
        open(sys.argv[1], "w").close()
        time.sleep(600)
        """#

    /// A DNS client run in a container's network namespace, asking 127.0.0.11: `udp NAME ID`
    /// and `tcp NAME ID` print "id=… tc=… rcode=… addresses=…" of the answer; `flood N FILE`
    /// sends N queries for unknown names, touches FILE, and prints how many answers came in 4 s.
    static let client = #"""
        import socket, struct, sys, os, time
        def query(name, qid):
            q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
            for label in name.split("."):
                q += bytes([len(label)]) + label.encode()
            return q + b"\x00" + struct.pack(">HH", 1, 1)
        def show(a):
            qid, flags, qd, an = struct.unpack(">HHHH", a[:8])
            i = 12
            while a[i]: i += a[i] + 1
            i += 5
            addresses = []
            for _ in range(an):
                i += 2 if a[i] & 0xc0 else 0
                rtype, _, _, length = struct.unpack(">HHIH", a[i:i + 10]); i += 10
                if rtype == 1: addresses.append(".".join(str(b) for b in a[i:i + 4]))
                i += length
            print("id=%d tc=%d rcode=%d addresses=%s" % (qid, (flags >> 9) & 1, flags & 15, ",".join(addresses)))
        mode = sys.argv[1]
        if mode == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
            s.sendto(query(sys.argv[2], int(sys.argv[3])), ("127.0.0.11", 53))
            show(s.recv(4096))
        elif mode == "tcp":
            s = socket.create_connection(("127.0.0.11", 53), timeout=5)
            q = query(sys.argv[2], int(sys.argv[3]))
            s.sendall(struct.pack(">H", len(q)) + q)
            n = struct.unpack(">H", s.recv(2))[0]
            a = b""
            while len(a) < n: a += s.recv(n - len(a))
            show(a)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
            for i in range(int(sys.argv[2])):
                s.sendto(query("q%d.silent.example" % i, i + 1), ("127.0.0.11", 53))
            open(sys.argv[3], "w").close()
            answers, end = 0, time.time() + 4
            while time.time() < end:
                try:
                    s.recv(4096); answers += 1
                except socket.timeout:
                    pass
            print("answers=%d" % answers)
        """#

    /// Starts the upstream resolvers (address=role) and waits until they listen (their
    /// script then makes a file).
    static func startUpstreams(_ specs: [String]) throws -> Process {
        let ready = NSTemporaryDirectory() + Harness.uniqueID("upstreams-ready")
        defer { try? FileManager.default.removeItem(atPath: ready) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", upstream, ready] + specs
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: ready) && process.isRunning { usleep(20_000) }
        guard FileManager.default.fileExists(atPath: ready) else {
            if process.isRunning { Self.stop(process) }
            throw TestFailure("upstream resolvers did not start")
        }
        return process
    }

    /// SIGKILL: python's threads blocked in socket calls keep it from ending on SIGTERM.
    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func inNamespace(of container: String, _ net: NetworkDaemon, _ args: [String]) -> Harness.Result {
        let pid = net.docker(["inspect", "-f", "{{.State.Pid}}", container]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return Harness.run("/usr/bin/nsenter", ["--net=/proc/\(pid)/ns/net", "/usr/bin/python3", "-c", client] + args)
    }

    /// Loopback addresses of this test's resolvers, apart from other runs'.
    static func loopback(_ index: Int) -> String {
        "127.0.0.\(60 + Int(getpid()) % 60 * 3 + index)"
    }

    /// A resolver answering SERVFAIL is passed over for the next one (as dockerd does); the
    /// answer carries the client's query ID; a truncated UDP answer reaches the client as
    /// truncated, and the client's TCP query is forwarded over TCP and gets the whole answer.
    @Test func answersAreRelayedWithTheClientsIDAndTruncationLeadsToTCP() throws {
        let failing = Self.loopback(0), answering = Self.loopback(1)
        let upstreams = try Self.startUpstreams(["\(failing)=servfail", "\(answering)=answer"])
        defer { Self.stop(upstreams) }
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "forwarding"]).status == 0)
        let run = net.docker(["run", "-d", "--network", "forwarding", "--name", "asker", "--dns", failing, "--dns", answering,
                              "busybox", "sleep", "600"])
        #expect(run.status == 0, "\(run)")
        let udp = Self.inNamespace(of: "asker", net, ["udp", "ext.example", "4660"])
        #expect(udp.stdout == "id=4660 tc=0 rcode=0 addresses=192.0.2.7\n", "\(udp)")
        let lookup = net.docker(["exec", "asker", "nslookup", "-type=a", "other.example."])
        #expect(lookup.stdout.contains("Address: 192.0.2.10"), "\(lookup)")
        let truncated = Self.inNamespace(of: "asker", net, ["udp", "big.example", "7"])
        #expect(truncated.stdout == "id=7 tc=1 rcode=0 addresses=\n", "\(truncated)")
        let tcp = Self.inNamespace(of: "asker", net, ["tcp", "big.example", "8"])
        #expect(tcp.stdout == "id=8 tc=0 rcode=0 addresses=192.0.2.9\n", "\(tcp)")
        let tcpExt = Self.inNamespace(of: "asker", net, ["tcp", "ext.example", "9"])
        #expect(tcpExt.stdout == "id=9 tc=0 rcode=0 addresses=192.0.2.8\n", "\(tcpExt)")
        // With only a failing resolver the client is told SERVFAIL, as dockerd tells it.
        #expect(net.docker(["run", "-d", "--network", "forwarding", "--name", "failing", "--dns", failing,
                            "busybox", "sleep", "600"]).status == 0)
        let failed = Self.inNamespace(of: "failing", net, ["udp", "ext.example", "21"])
        #expect(failed.stdout == "id=21 tc=0 rcode=2 addresses=\n", "\(failed)")
    }

    /// 200 queries waiting on a resolver that never answers cost berthd no thread each (a
    /// thread per query did), the container's own names still answer at once meanwhile, and
    /// every query is answered SERVFAIL after the resolver's 2 s without an answer.
    @Test func queriesWaitingOnASilentResolverTakeNoThreads() throws {
        let silent = Self.loopback(2)
        let upstreams = try Self.startUpstreams(["\(silent)=silent"])
        defer { Self.stop(upstreams) }
        let net = try NetworkDaemon()
        #expect(net.docker(["network", "create", "slow"]).status == 0)
        #expect(net.docker(["run", "-d", "--network", "slow", "--name", "waiting", "--dns", silent, "busybox", "sleep", "600"]).status == 0)
        let pid = net.daemon.process.processIdentifier
        let before = UDPPortsAndDNSScaleTests.threads(pid)
        let marker = net.daemon.directory + "/flood-sent"
        let containerPid = net.docker(["inspect", "-f", "{{.State.Pid}}", "waiting"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let flood = Process()
        flood.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        flood.arguments = ["--net=/proc/\(containerPid)/ns/net", "/usr/bin/python3", "-c", Self.client, "flood", "200", marker]
        let outputPath = net.daemon.directory + "/flood-answers"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        flood.standardOutput = FileHandle(forWritingAtPath: outputPath)
        flood.standardError = FileHandle.nullDevice
        try flood.run()
        var waited = 0
        while !FileManager.default.fileExists(atPath: marker) && waited < 100 {
            usleep(20_000)
            waited += 1
        }
        usleep(200_000)
        let during = UDPPortsAndDNSScaleTests.threads(pid)
        let started = Date()
        let local = Self.inNamespace(of: "waiting", net, ["udp", "waiting", "5"])
        let address = net.address("waiting", network: "slow")
        #expect(local.stdout == "id=5 tc=0 rcode=0 addresses=\(address)\n", "\(local)")
        #expect(Date().timeIntervalSince(started) < 1.5)
        flood.waitUntilExit()
        let answers = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        #expect(answers == "answers=200\n", "\(answers)")
        print("berthd threads: \(before) before, \(during) with 200 forwarded queries in flight")
        #expect(during - before < 10, "\(before) threads before, \(during) during")
    }
}
