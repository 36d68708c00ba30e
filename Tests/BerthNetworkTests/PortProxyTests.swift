import Foundation
import Glibc
import Testing
@testable import BerthNetwork

/// The TCP proxy's loops against a server of the test's own on 127.0.0.1: bytes arrive
/// whole and in order both ways, a half-close passes through, many connections share the
/// loops, a refused target closes the client, and stop() frees the port.
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
                    var received: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = recv(client, &buffer, buffer.count, 0)
                        if count <= 0 { break }
                        received += buffer[0..<count]
                    }
                    // The client's half-close arrived: answer after it, then close (shut down
                    // first: a forked child may hold the socket too).
                    _ = sendAll(client, Array("\(received.count)\n".utf8) + received)
                    shutdown(client, Int32(SHUT_RDWR))
                    close(client)
                }
            }
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
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { break }
                received.bytes += buffer[0..<count]
            }
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
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.compactMap { name -> [Int32]? in
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)) == "anon_inode:[eventpoll]",
                  let info = try? String(contentsOfFile: "/proc/self/fdinfo/" + name, encoding: .utf8) else { return nil }
            let watched = info.split(separator: "\n").compactMap { line -> Int32? in
                guard line.hasPrefix("tfd:") else { return nil }
                return Int32(line.dropFirst(4).split(separator: " ").first ?? "")
            }
            return watched.contains(fd) ? watched : nil
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
        let client = try #require(Sockets.connect(to: Self.loopback, port: proxy.hostPort))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Until the proxy has accepted and connected, a loop watches more than its own two.
        for _ in 0..<100 where Self.epollSetsWatching(proxy.fd).allSatisfy({ $0.count == 2 }) { usleep(10_000) }
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
        var buffer = [UInt8](repeating: 0, count: 64)
        var answer: [UInt8] = []
        while true {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        close(client)
        #expect(answer == Array("3\nbye".utf8))
        // Both directions ended: the loop is back to its listener and its stop pipe.
        var sets = Self.epollSetsWatching(proxy.fd)
        for _ in 0..<100 where !sets.allSatisfy({ $0.count == 2 }) {
            usleep(10_000)
            sets = Self.epollSetsWatching(proxy.fd)
        }
        #expect(!sets.isEmpty && sets.allSatisfy { $0.count == 2 }, "\(sets)")
    }

    @Test func aRefusedTargetClosesTheClientAndStopFreesThePort() throws {
        // A port with nothing behind it: bound, then closed.
        let gone = try Self.listener()
        close(gone.fd)
        let proxy = try PortProxy(proto: "tcp", hostIP: Self.loopback, hostPort: 0, targetIP: Self.loopback, targetPort: gone.port)
        let port = proxy.hostPort
        // Closed without an answer (or reset while sending).
        #expect((Self.exchange(port: port, payload: Array("hello".utf8)) ?? []).isEmpty)
        proxy.stop()
        // The loops close the listener once they have all seen the stop.
        var refused = false
        for _ in 0..<100 {
            if let fd = Sockets.connect(to: Self.loopback, port: port) {
                close(fd)
                usleep(10_000)
            } else {
                refused = true
                break
            }
        }
        #expect(refused)
    }
}
