import Foundation
import Glibc
import Testing
@testable import BerthNetwork

/// The TCP proxy's loops against a server of the test's own on 127.0.0.1: bytes arrive
/// whole and in order both ways, a half-close passes through, many connections share the
/// loops (every port the same ones), a refused target closes the client, and stop() frees
/// the port before it returns.
@Suite(.serialized)
struct PortProxyTests {
    static let loopback = IPv4Address("127.0.0.1")!

    /// A listening socket on a free loopback port, and the port.
    static func listener() throws -> (fd: Int32, port: Int) {
        let fd = try Sockets.bound("tcp", ip: loopback, port: 0)
        return (fd, Sockets.localPort(fd))
    }

    /// Serves `connections` clients, each on a thread: reads until EOF, then answers with
    /// the byte count and the bytes it read, and closes.
    static func echoServer(_ fd: Int32, connections: Int) {
        Sockets.spawn {
            for _ in 0..<connections {
                let client = Sockets.accept(fd)
                guard client >= 0 else { return }
                Sockets.spawn {
                    let received = readToEnd(client)
                    // The client's half-close arrived: answer after it, then close (shut down
                    // first: a forked child may hold the socket too).
                    _ = sendAll(client, Array("\(received.count)\n".utf8) + received)
                    shutdown(client, Int32(SHUT_RDWR))
                    close(client)
                }
            }
        }
    }

    /// Everything the peer sends until it closes (or the receive times out).
    static func readToEnd(_ fd: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { return received }
            received += buffer[0..<count]
        }
    }

    @discardableResult
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Sends `payload`, half-closes, and reads the whole answer.
    static func exchange(port: Int, payload: [UInt8]) -> [UInt8]? {
        guard let fd = Sockets.connect(to: loopback, port: port) else { return nil }
        // Reads on a thread of its own: the server answers only after EOF, but a large
        // payload must not wait on a full socket buffer either way.
        final class Received: @unchecked Sendable { var bytes: [UInt8] = [] }
        let received = Received()
        let done = DispatchSemaphore(value: 0)
        Sockets.spawn {
            received.bytes = readToEnd(fd)
            done.signal()
        }
        let sent = sendAll(fd, payload)
        shutdown(fd, Int32(SHUT_WR))
        let finished = done.wait(timeout: .now() + 20) == .success
        close(fd)
        return sent && finished ? received.bytes : nil
    }

    @Test func bytesGoBothWaysWholeAndAHalfClosePassesThrough() throws {
        let server = try Self.listener()
        defer { close(server.fd) }
        Self.echoServer(server.fd, connections: 2)
        let proxy = try PortProxy(proto: "tcp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: server.port)
        defer { proxy.stop() }
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let answer = try #require(Self.exchange(port: proxy.hostPort, payload: payload))
        #expect(answer == Array("\(payload.count)\n".utf8) + payload)
        // An empty request: the half-close alone reaches the server.
        #expect(Self.exchange(port: proxy.hostPort, payload: []) == Array("0\n".utf8))
    }

    @Test func manyConnectionsAtOnce() throws {
        let server = try Self.listener()
        defer { close(server.fd) }
        let count = 40
        Self.echoServer(server.fd, connections: count)
        let proxy = try PortProxy(proto: "tcp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: server.port)
        defer { proxy.stop() }
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var good = 0
        }
        let tally = Tally()
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let payload = Array("connection \(index) ".utf8) + [UInt8](repeating: UInt8(index), count: 100_000)
            if let answer = Self.exchange(port: proxy.hostPort, payload: payload), answer == Array("\(payload.count)\n".utf8) + payload {
                tally.lock.withLock { tally.good += 1 }
            }
        }
        #expect(tally.good == count)
    }

    /// The descriptors in each epoll set of this process that watches `fd` (the proxy's loops).
    static func epollSetsWatching(_ fd: Int32) -> [[Int32]] {
        epollSets(watching: fd).map(\.watched)
    }

    /// Each epoll set of this process that watches `fd`: its own descriptor and those it watches.
    static func epollSets(watching fd: Int32) -> [(set: Int32, watched: [Int32])] {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.compactMap { name -> (Int32, [Int32])? in
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)) == "anon_inode:[eventpoll]",
                  let info = try? String(contentsOfFile: "/proc/self/fdinfo/" + name, encoding: .utf8),
                  let set = Int32(name) else { return nil }
            let watched = info.split(separator: "\n").compactMap { line -> Int32? in
                guard line.hasPrefix("tfd:") else { return nil }
                return Int32(line.dropFirst(4).split(separator: " ").first ?? "")
            }
            return watched.contains(fd) ? (set, watched) : nil
        }
    }

    /// With hundreds of published ports, a thread set per port made hundreds of idle
    /// threads: every port is served by the same few loops, and unpublishing one frees its
    /// port before stop() returns (a restart publishes it again at once).
    @Test func everyPortSharesTheSameLoopsAndStopFreesItsPortAtOnce() throws {
        let server = try Self.listener()
        defer { close(server.fd) }
        Self.echoServer(server.fd, connections: 12)
        var proxies: [PortProxy] = []
        defer { for proxy in proxies { proxy.stop() } }
        for _ in 0..<12 {
            proxies.append(try PortProxy(proto: "tcp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: server.port))
        }
        let loops = Set(Self.epollSets(watching: proxies[0].fd).map(\.set))
        #expect(loops.count == PortProxy.loopCount && loops.count >= 1)
        for proxy in proxies {
            #expect(Set(Self.epollSets(watching: proxy.fd).map(\.set)) == loops)
            let payload = Array("via \(proxy.hostPort)".utf8)
            #expect(Self.exchange(port: proxy.hostPort, payload: payload) == Array("\(payload.count)\n".utf8) + payload)
        }
        for proxy in proxies {
            proxy.stop()
            proxy.stop()  // a second stop does nothing
            let again = try Sockets.bound("tcp", ip: Self.loopback, port: proxy.hostPort)
            close(again)
        }
    }

    /// berthd forks shims: a child holds every socket of the daemon until its exec. A
    /// connection the proxy closes meanwhile must leave its loop's epoll set at once; closing
    /// alone left it there, reported with a pointer to the freed connection (a crash).
    @Test func aClosedConnectionLeavesTheLoopWhileAForkedChildHoldsItsSockets() throws {
        let server = try Self.listener()
        defer { close(server.fd) }
        Self.echoServer(server.fd, connections: 1)
        let proxy = try PortProxy(proto: "tcp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: server.port)
        defer { proxy.stop() }
        // What each loop watches besides connections: its wake descriptor and the listeners.
        let idle = Self.epollSetsWatching(proxy.fd).map(\.count)
        let client = try #require(Sockets.connect(to: Self.loopback, port: proxy.hostPort))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Until the proxy has accepted and connected, a loop watches more than when idle.
        for _ in 0..<100 where Self.epollSetsWatching(proxy.fd).map(\.count) == idle { usleep(10_000) }
        let child = fork()
        if child == 0 {
            // Holds the sockets; killed below, and gone by itself after 20 s in any case.
            for _ in 0..<200 { usleep(100_000) }
            _exit(0)
        }
        defer {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        #expect(Self.sendAll(client, Array("bye".utf8)))
        shutdown(client, Int32(SHUT_WR))
        let answer = Self.readToEnd(client)
        close(client)
        #expect(answer == Array("3\nbye".utf8))
        // Both directions ended: the loop is back to what it watched before.
        var sets = Self.epollSetsWatching(proxy.fd)
        for _ in 0..<100 where sets.map(\.count) != idle {
            usleep(10_000)
            sets = Self.epollSetsWatching(proxy.fd)
        }
        #expect(!sets.isEmpty && sets.map(\.count) == idle, "\(sets)")
    }

    @Test func aRefusedTargetClosesTheClientAndStopFreesThePort() throws {
        // A port with nothing behind it: bound without listening, so that it refuses and no
        // other test running meanwhile can take it.
        let refusing = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(refusing) }
        var address = Sockets.address(Self.loopback, port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(refusing, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        let proxy = try PortProxy(proto: "tcp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback,
                                  targetPort: Sockets.localPort(refusing))
        let port = proxy.hostPort
        // Closed without an answer (or reset while sending).
        #expect((Self.exchange(port: port, payload: Array("hello".utf8)) ?? []).isEmpty)
        proxy.stop()
        // The listener is closed when stop() returns.
        let after = Sockets.connect(to: Self.loopback, port: port)
        if let after { close(after) }
        #expect(after == nil)
    }

    /// A socket connected to [::1]:port (TCP or UDP).
    static func connectIPv6Loopback(_ type: Int32, port: Int) -> Int32? {
        let fd = socket(AF_INET6, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = UInt16(port).bigEndian
        address.sin6_addr.__in6_u.__u6_addr8.15 = 1
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard result == 0 else { close(fd); return nil }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Answers every datagram with the same bytes, until the socket is shut down.
    static func udpEchoServer(_ fd: Int32) {
        Sockets.spawn {
            var buffer = [UInt8](repeating: 0, count: 2048)
            while true {
                var client = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let count = withUnsafeMutablePointer(to: &client) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
                }
                if count <= 0 { return }
                _ = withUnsafePointer(to: &client) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, buffer, count, 0, $0, length) }
                }
            }
        }
    }

    /// What dockerd's proxy does for a port published on all addresses: a second listener on
    /// [::] at the same port, forwarding IPv6 clients to the container's IPv4 address.
    @Test(.enabled(if: Sockets.hostHasIPv6, "the host has no IPv6"))
    func theIPv6ListenerForwardsTCPAndUDPToAnIPv4Target() throws {
        let server = try Self.listener()
        defer { close(server.fd) }
        Self.echoServer(server.fd, connections: 1)
        let tcp4 = try PortProxy(proto: "tcp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: server.port)
        defer { tcp4.stop() }
        let tcp6 = try PortProxy(ipv6Proto: "tcp", hostPort: tcp4.hostPort, targetIP: Self.loopback, targetPort: server.port)
        defer { tcp6.stop() }
        #expect(tcp6.hostPort == tcp4.hostPort && tcp6.hostIP == "::")
        let client = try #require(Self.connectIPv6Loopback(Int32(SOCK_STREAM.rawValue), port: tcp6.hostPort))
        #expect(Self.sendAll(client, Array("hi".utf8)))
        shutdown(client, Int32(SHUT_WR))
        let answer = Self.readToEnd(client)
        close(client)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(answer == Array("2\nhi".utf8))

        let udpServer = try Sockets.bound("udp", ip: Self.loopback, port: 0)
        defer { close(udpServer) }
        Self.udpEchoServer(udpServer)
        let udp6 = try PortProxy(ipv6Proto: "udp", hostPort: 0, targetIP: Self.loopback, targetPort: Sockets.localPort(udpServer))
        defer { udp6.stop() }
        let datagrams = try #require(Self.connectIPv6Loopback(Int32(SOCK_DGRAM.rawValue), port: udp6.hostPort))
        defer { close(datagrams) }
        _ = send(datagrams, "ping6", 5, 0)
        let got = recv(datagrams, &buffer, buffer.count, 0)
        #expect(got == 5 && Array(buffer[0..<max(got, 0)]) == Array("ping6".utf8))
        // The IPv4 relay, whose client addresses are kept the same way.
        let udp4 = try PortProxy(proto: "udp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: Sockets.localPort(udpServer))
        defer { udp4.stop() }
        let client4 = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(client4) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client4, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = Sockets.address(Self.loopback, port: udp4.hostPort)
        _ = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(client4, "ping4", 5, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let got4 = recv(client4, &buffer, buffer.count, 0)
        #expect(got4 == 5 && Array(buffer[0..<max(got4, 0)]) == Array("ping4".utf8))
        shutdown(udpServer, Int32(SHUT_RDWR))
    }
}
