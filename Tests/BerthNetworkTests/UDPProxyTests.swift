import Foundation
import Glibc
import Testing
@testable import BerthNetwork

/// The UDP proxy's shared loops against an echo server of the test's own on 127.0.0.1: every
/// published UDP port is served by the same few loops (no thread per port or per client),
/// each client has a flow of its own whose answers come back to it alone, a silent flow ends
/// after its idle time, and stop() frees the port before it returns.
@Suite(.serialized)
struct UDPProxyTests {
    static let loopback = IPv4Address("127.0.0.1")!

    /// A UDP socket with a 5 s receive timeout.
    static func client() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Sends `text` from `fd` to 127.0.0.1:`port` and returns the answer.
    static func exchange(_ fd: Int32, port: Int, _ text: String) -> String? {
        var target = Sockets.address(loopback, port: port)
        let bytes = Array(text.utf8)
        let sent = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard sent == bytes.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let got = recv(fd, &buffer, buffer.count, 0)
        return got < 0 ? nil : String(decoding: buffer[0..<got], as: UTF8.self)
    }

    static func threadCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).count
    }

    /// With hundreds of published UDP ports, a relay thread per port (and one per client)
    /// made hundreds of idle threads: every port is on the same few loops, traffic goes
    /// through each, and unpublishing one frees its port before stop() returns.
    @Test func everyPortSharesTheSameLoopsAndStopFreesItsPortAtOnce() throws {
        let server = try Sockets.bound("udp", ip: Self.loopback, port: 0)
        defer { close(server) }
        PortProxyTests.udpEchoServer(server)
        #expect(PortProxy.udpLoopCount >= 1)
        let threadsBefore = Self.threadCount()
        var proxies: [PortProxy] = []
        defer { for proxy in proxies { proxy.stop() } }
        for _ in 0..<20 {
            proxies.append(try PortProxy(proto: "udp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback,
                                         targetPort: Sockets.localPort(server)))
        }
        var loops: Set<Int32> = []
        let client = Self.client()
        defer { close(client) }
        for proxy in proxies {
            let sets = PortProxyTests.epollSets(watching: proxy.fd).map(\.set)
            #expect(sets.count == 1)    // a port's flows live on its one loop
            loops.formUnion(sets)
            #expect(Self.exchange(client, port: proxy.hostPort, "via \(proxy.hostPort)") == "via \(proxy.hostPort)")
        }
        #expect(loops.count <= PortProxy.udpLoopCount)
        #expect(Self.threadCount() <= threadsBefore + 5)  // other suites may run meanwhile; a thread per port made 20 more
        for proxy in proxies {
            proxy.stop()
            proxy.stop()  // a second stop does nothing
            // Bound again at once (UDP has no SO_REUSEADDR here: this fails while the proxy holds it).
            let again = try Sockets.bound("udp", ip: Self.loopback, port: proxy.hostPort)
            close(again)
        }
        shutdown(server, Int32(SHUT_RDWR))
    }

    /// Two clients of one port each get the container's answers to their own datagrams, from
    /// a socket of their own toward the container; the flows end once the container has been
    /// silent for the idle time, and the next datagram starts a new one.
    @Test func eachClientHasAFlowThatEndsWhenIdle() throws {
        let server = try Sockets.bound("udp", ip: Self.loopback, port: 0)
        defer { close(server) }
        PortProxyTests.udpEchoServer(server)
        let proxy = try PortProxy(proto: "udp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback,
                                  targetPort: Sockets.localPort(server), udpIdleSeconds: 1)
        defer { proxy.stop() }
        let idle = try #require(PortProxyTests.epollSetsWatching(proxy.fd).first).count
        let first = Self.client(), second = Self.client()
        defer { close(first); close(second) }
        #expect(Self.exchange(first, port: proxy.hostPort, "one") == "one")
        #expect(Self.exchange(second, port: proxy.hostPort, "two") == "two")
        #expect(Self.exchange(first, port: proxy.hostPort, "three") == "three")
        #expect(PortProxyTests.epollSetsWatching(proxy.fd).first?.count == idle + 2)
        // Silent for more than a second: both flows are closed (the sweep runs each second).
        var watched = idle + 2
        for _ in 0..<50 where watched != idle {
            usleep(100_000)
            watched = PortProxyTests.epollSetsWatching(proxy.fd).first?.count ?? -1
        }
        #expect(watched == idle)
        #expect(Self.exchange(second, port: proxy.hostPort, "again") == "again")
        shutdown(server, Int32(SHUT_RDWR))
    }

    /// Nothing listens behind the port yet: the refused datagram does not end the flow, and
    /// once the container listens, the client's next datagram is answered.
    @Test func aRefusedDatagramKeepsTheFlowUntilTheContainerListens() throws {
        let placeholder = try Sockets.bound("udp", ip: Self.loopback, port: 0)
        let port = Sockets.localPort(placeholder)
        close(placeholder)
        let proxy = try PortProxy(proto: "udp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: port)
        defer { proxy.stop() }
        let client = Self.client()
        defer { close(client) }
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #expect(Self.exchange(client, port: proxy.hostPort, "early") == nil)
        let server = try Sockets.bound("udp", ip: Self.loopback, port: port)
        defer { close(server) }
        PortProxyTests.udpEchoServer(server)
        timeout.tv_sec = 5
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #expect(Self.exchange(client, port: proxy.hostPort, "late") == "late")
        shutdown(server, Int32(SHUT_RDWR))
    }
}
