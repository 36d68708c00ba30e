import BerthOCI
import Foundation
import Glibc
import Testing

/// berthd runs for months: what an operation takes (descriptors, threads, processes, mounts,
/// cgroups, files, interfaces, rules) it gives back, however many operations there were. A
/// few hundred everyday operations, many of them by clients that leave in the middle, and
/// then everything is as it was before them.
@Suite(.enabled(if: Harness.isRoot, "containers need root"), .serialized)
struct SoakTests {
    static let cgroupParent = "berth-soak-test"

    @Test func everydayOperationsGiveBackWhatTheyTook() throws {
        let daemon = try ContainersTests.daemonWithImage(configuration: #"{"cgroup-parent": "/\#(Self.cgroupParent)"}"#)
        // The parent cgroup is the test's own: gone once the daemon is, whatever the test found.
        defer {
            daemon.docker(["rm", "-f", "long", "idle"])
            _ = daemon.stop()
            SoakRig.removeCgroupParent(Self.cgroupParent)
        }
        let rig = SoakRig(daemon: daemon)
        // Lives through every round: what its shim and the daemon keep for it must not grow.
        // It prints once and then nothing, so that a stream nobody reads is never woken.
        let long = daemon.docker(["run", "-d", "--name", "long", "busybox", "sh", "-c", "echo started; exec sleep 100000"])
        try #require(long.status == 0, "\(long.stderr)")
        #expect(daemon.docker(["create", "--name", "idle", "busybox", "echo", "idle"]).status == 0)
        let longID = long.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let shim = try #require(SoakRig.shimPid(of: longID), "no shim for the long-lived container")

        // One round first: pools, caches and the network's reserve fill up once.
        var operations = rig.round(0)
        let baseline = rig.footprint(shim: shim)
        for round in 1...4 { operations += rig.round(round) }
        #expect(operations >= 200, "only \(operations) operations")

        // Removals finish their cleanup in the background: give them a moment.
        var after = rig.footprint(shim: shim)
        let deadline = Date().addingTimeInterval(15)
        while !after.settled(comparedWith: baseline) && Date() < deadline {
            usleep(200_000)
            after = rig.footprint(shim: shim)
        }
        #expect(after.daemonFDs == baseline.daemonFDs, "berthd's descriptors: \(after.difference(baseline.daemonFDs, after.daemonFDs))")
        #expect(after.shimFDs == baseline.shimFDs, "the shim's descriptors: \(after.difference(baseline.shimFDs, after.shimFDs))")
        // Dispatch keeps a few idle worker threads for a while after a burst; a thread per
        // operation would be hundreds.
        #expect(after.threads <= baseline.threads + 4, "threads: \(baseline.threads) before, \(after.threads) after")
        #expect(after.shimThreads == baseline.shimThreads)
        #expect(after.children == baseline.children, "berthd's children: \(baseline.children) before, \(after.children) after")
        #expect(after.zombies == 0)
        #expect(after.shims == baseline.shims, "shims: \(baseline.shims) before, \(after.shims) after")
        #expect(after.mounts == baseline.mounts, "mounts: \(after.difference(baseline.mounts, after.mounts))")
        #expect(after.cgroups == baseline.cgroups, "cgroups: \(after.difference(baseline.cgroups, after.cgroups))")
        #expect(after.files == baseline.files, "files: \(after.difference(baseline.files, after.files))")
        #expect(after.veths == baseline.veths, "veths: \(baseline.veths) before, \(after.veths) after")
        #expect(after.firewall == baseline.firewall, "nft rules of the bridge: \(after.difference(baseline.firewall, after.firewall))")
        // Memory is not returned page for page (malloc keeps freed pages, a debug build more):
        // a bound that a leak of some tens of KiB per operation exceeds.
        #expect(after.rssKiB <= baseline.rssKiB + 20 * 1024, "RSS: \(baseline.rssKiB) KiB before, \(after.rssKiB) KiB after")

    }
}

/// Drives one daemon through rounds of operations and measures what it holds.
struct SoakRig {
    let daemon: TestDaemon

    /// One round of everyday operations; returns how many it made.
    func round(_ number: Int) -> Int {
        let started = Date()
        defer { print("soak round \(number): \(Int(Date().timeIntervalSince(started) * 1000)) ms") }
        var count = 0
        func docker(_ args: [String], stdin: String? = nil, expect status: Int32 = 0) {
            count += 1
            let result = daemon.docker(args, stdin: stdin)
            #expect(result.status == status, "docker \(args.joined(separator: " ")): \(result.stderr)")
        }
        func leaving(_ args: [String], after: useconds_t = 200_000) {
            count += 1
            clientThatLeaves(args, after: after)
        }
        func raw(_ request: String, read: Bool = true, halfClose: Bool = false) {
            count += 1
            Self.rawRequest(daemon.socket, Array(request.utf8), read: read, halfClose: halfClose)
        }
        let scratch = daemon.directory + "/scratch-\(number)"
        try? "soak\n".write(toFile: scratch, atomically: true, encoding: .utf8)

        docker(["run", "--rm", "busybox", "true"])
        docker(["run", "--rm", "-i", "busybox", "cat"], stdin: "piped\n")
        let detached = daemon.docker(["run", "-d", "busybox", "sleep", "1000"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        docker(["stop", "-t", "1", detached])
        docker(["rm", detached])
        // Execs, plain, with a terminal, with stdin, and one whose client leaves.
        docker(["exec", "long", "true"])
        docker(["exec", "-t", "long", "true"])
        docker(["exec", "-i", "long", "cat"], stdin: "input\n")
        docker(["exec", "long", "sh", "-c", "exit 3"], expect: 3)
        leaving(["exec", "long", "sleep", "1"])
        // Streams whose clients leave (killed) while nothing is written to them.
        leaving(["attach", "--no-stdin", "long"])
        leaving(["logs", "-f", "long"])
        leaving(["stats", "long"], after: 400_000)
        leaving(["events"])
        leaving(["wait", "long"])
        docker(["cp", "long:/etc/hostname", scratch + ".out"])
        docker(["cp", scratch, "long:/tmp/"])
        let now = Int(Date().timeIntervalSince1970)
        // Answers read to their end, through raw HTTP (a CLI process each would double the time).
        for path in ["/containers/long/logs?stdout=1&stderr=1", "/containers/long/stats?stream=0", "/containers/long/top",
                     "/containers/long/json", "/containers/json?all=1", "/events?since=\(now - 60)&until=\(now)"] {
            raw("GET /v1.50\(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        }
        // Published ports, connected to: TCP, and UDP from ever new source ports (each a flow
        // of the relay, with a socket of its own).
        let web = daemon.docker(["run", "-d", "-p", "127.0.0.1::80", "-p", "127.0.0.1::5353/udp", "busybox", "httpd", "-f", "-p", "80"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let ports = daemon.docker(["port", web]).stdout.split(separator: "\n")
        func hostPort(_ proto: String) -> Int? {
            ports.first { $0.hasPrefix(proto) }?.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        count += 2
        if let tcp = hostPort("80/tcp") { for _ in 0..<2 { Self.connectAndClose(port: tcp); count += 1 } }
        if let udp = hostPort("5353/udp") { for _ in 0..<3 { Self.sendDatagram(port: udp); count += 1 } }
        docker(["rm", "-f", web])
        // A user network joined and left.
        docker(["network", "create", "soaknet"])
        let member = daemon.docker(["run", "-d", "--network", "soaknet", "busybox", "sleep", "1000"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        count += 1
        docker(["network", "connect", "soaknet", "long"])
        docker(["network", "disconnect", "soaknet", "long"])
        docker(["rm", "-f", member])
        docker(["network", "rm", "soaknet"])
        // Volumes, named and anonymous.
        docker(["volume", "create", "soakvolume"])
        docker(["run", "--rm", "-v", "soakvolume:/data", "-v", "/anonymous", "busybox", "true"])
        docker(["volume", "rm", "soakvolume"])
        // Raw HTTP: keep-alive, a half-closed request, requests and bodies cut off, streams
        // whose clients leave without reading, an attachment waiting for a start that never
        // comes, an exec created and never started.
        raw("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.50/version HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.50/containers/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw("GET /v1.50/info HTTP/1.1\r\nHost: x\r\n\r\n", halfClose: true)
        raw("POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"Image\":", read: false)
        raw("PUT /v1.50/containers/long/archive?path=/tmp HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "\0", count: 1000), read: false)
        raw("POST /v1.50/images/load HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "\0", count: 1000), read: false)
        raw("GET /v1.50/containers/json HTTP/1.1\r\nHo", read: false)
        raw("GET /v1.50/events HTTP/1.1\r\nHost: x\r\n\r\n", read: false)
        raw("GET /v1.50/containers/long/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n", read: false)
        raw("POST /v1.50/containers/long/wait HTTP/1.1\r\nHost: x\r\n\r\n", read: false)
        raw("POST /v1.50/containers/long/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n", read: false)
        raw("POST /v1.50/containers/idle/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n", read: false)
        raw("POST /v1.50/containers/long/exec HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"Cmd\":[\"true\"]}")
        raw("GET /v1.50/containers/nope/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try? FileManager.default.removeItem(atPath: scratch)
        try? FileManager.default.removeItem(atPath: scratch + ".out")
        return count
    }

    /// A CLI client killed (SIGKILL) in the middle of its stream.
    func clientThatLeaves(_ args: [String], after: useconds_t) {
        guard let process = try? daemon.dockerInBackground(args) else { return }
        usleep(after)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends `request` on a new connection; reads the answer to its end (or 3 s) if asked,
    /// else leaves at once.
    static func rawRequest(_ path: String, _ request: [UInt8], read: Bool, halfClose: Bool) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return }
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        guard read else { return }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while recv(fd, &buffer, buffer.count, 0) > 0 {}
    }

    /// One datagram from a socket of its own (a new source port), which then closes.
    /// 127.0.0.1:port.
    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    static func sendDatagram(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = loopback(port: port)
        let payload = Array("soak\n".utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    static func connectAndClose(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while recv(fd, &buffer, buffer.count, 0) > 0 {}
    }

    // MARK: - measuring

    struct Footprint {
        /// What each descriptor points to, socket and pipe numbers left out, sorted.
        var daemonFDs: [String]
        var shimFDs: [String]
        var threads: Int
        var shimThreads: Int
        var children: Int
        var zombies: Int
        var shims: Int
        var mounts: [String]
        var cgroups: [String]
        var files: [String]
        var veths: Int
        var firewall: [String]
        var rssKiB: Int

        func settled(comparedWith baseline: Footprint) -> Bool {
            daemonFDs == baseline.daemonFDs && shimFDs == baseline.shimFDs && children == baseline.children
                && shims == baseline.shims && mounts == baseline.mounts && cgroups == baseline.cgroups
                && files == baseline.files && veths == baseline.veths && firewall == baseline.firewall
        }

        /// What one list has that the other has not, both ways.
        func difference(_ before: [String], _ after: [String]) -> String {
            var counts: [String: Int] = [:]
            for item in after { counts[item, default: 0] += 1 }
            for item in before { counts[item, default: 0] -= 1 }
            let changed = counts.filter { $0.value != 0 }.sorted { $0.key < $1.key }
            return changed.map { "\($0.value > 0 ? "+" : "")\($0.value) \($0.key)" }.joined(separator: ", ")
        }
    }

    func footprint(shim: Int32) -> Footprint {
        let pid = daemon.process.processIdentifier
        let processes = Self.processes()
        let bridge = NetworkDaemon.defaultBridge(dataRoot: daemon.directory + "/data")
        let shims = processes.filter { $0.value.command.first?.hasSuffix("berth-shim") == true
            && $0.value.command.contains { $0.hasPrefix(daemon.directory) } }
        let mounts = (readProcFile("/proc/self/mountinfo") ?? "").split(separator: "\n")
            .filter { $0.contains(daemon.directory) }
            .map { $0.split(separator: " ").dropFirst(3).prefix(2).joined(separator: " ") }
        var files: [String] = []
        for top in ["/data/containers", "/data/volumes", "/data/network", "/data/tmp", "/data/image/ingest",
                    "/exec/containers", "/exec/runtime", "/exec/netns"] {
            let root = daemon.directory + top
            guard let walk = FileManager.default.enumerator(atPath: root) else { continue }
            while let relative = walk.nextObject() as? String { files.append(top + "/" + relative) }
        }
        // Layers and container roots; not what is inside them (files copied into the long-lived
        // container are its own).
        for top in ["/data/overlay", "/data/overlay/l"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: daemon.directory + top)) ?? [] {
                files.append(top + "/" + name)
            }
        }
        let veths = Harness.run("/usr/sbin/ip", ["-o", "link", "show", "master", bridge]).stdout
            .split(separator: "\n").count
        let firewall = Harness.run("/usr/sbin/nft", ["list", "table", "ip", "berth-" + bridge]).stdout
            .split(separator: "\n").map(String.init)
        return Footprint(
            daemonFDs: Self.descriptors(pid), shimFDs: Self.descriptors(shim),
            threads: Self.count("/proc/\(pid)/task"), shimThreads: Self.count("/proc/\(shim)/task"),
            children: processes.values.filter { $0.parent == pid }.count,
            zombies: processes.values.filter { $0.state == "Z" && ($0.parent == pid || shims.keys.contains($0.parent)) }.count,
            shims: shims.count, mounts: mounts.sorted(), cgroups: Self.cgroups(SoakTests.cgroupParent),
            files: files.sorted(), veths: veths, firewall: firewall, rssKiB: Self.rss(pid))
    }

    static func descriptors(_ pid: Int32) -> [String] {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> String? in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name) else { return nil }
            // "socket:[123]" → "socket": which socket it is changes, that there is one does not.
            if let bracket = target.firstIndex(of: "["), target.hasSuffix("]") { return String(target[..<bracket]) }
            return target
        }.sorted()
    }

    static func count(_ directory: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).count
    }

    static func rss(_ pid: Int32) -> Int {
        let status = readProcFile("/proc/\(pid)/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    struct ProcessFacts {
        var state: String
        var parent: Int32
        var command: [String]
    }

    static func processes() -> [Int32: ProcessFacts] {
        var result: [Int32: ProcessFacts] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let stat = readProcFile("/proc/\(name)/stat"),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let parent = Int32(fields[1]) else { continue }
            let command = (readProcFile("/proc/\(name)/cmdline") ?? "").split(separator: "\0").map(String.init)
            result[pid] = ProcessFacts(state: String(fields[0]), parent: parent, command: command)
        }
        return result
    }

    static func shimPid(of id: String) -> Int32? {
        processes().first { $0.value.command.first?.hasSuffix("berth-shim") == true && $0.value.command.contains(id) }?.key
    }

    /// The cgroups under the parent, in every hierarchy (v1 controllers and the unified one).
    static func cgroups(_ parent: String) -> [String] {
        var found: [String] = []
        let roots = ["/sys/fs/cgroup"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [])
            .map { "/sys/fs/cgroup/" + $0 }
        for root in roots {
            let base = root + "/" + parent
            for child in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            where FileManager.default.fileExists(atPath: base + "/" + child + "/cgroup.procs") {
                found.append(base + "/" + child)
            }
        }
        return found.sorted()
    }

    /// The parent cgroups the daemon made, once empty.
    static func removeCgroupParent(_ parent: String) {
        let roots = ["/sys/fs/cgroup"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [])
            .map { "/sys/fs/cgroup/" + $0 }
        for root in roots { rmdir(root + "/" + parent) }
    }
}
