import BerthOCI
import Glibc

/// Relays datagrams from clients of the host port to the container, and the answers back,
/// with one upstream socket per client address. A flow whose container has not answered for
/// 90 s (docker-proxy's UDP timeout) ends: its thread returns and its socket is closed, so
/// that a port queried from ever new source ports (DNS clients) does not hold a descriptor
/// for each of them as long as the container runs. At stop every flow ends the same way.
final class UDPRelay: @unchecked Sendable {
    static let idleSeconds = 90
    let fd: Int32
    let target: (IPv4Address, Int)
    /// Guards the flows, and makes a send to a flow's socket and its close exclusive (a
    /// closed number can be reused at once by another socket of the daemon).
    private let lock = Lock()
    private var upstreams: [[UInt8]: Int32] = [:]
    /// The flows' threads still running, and whether the relay has stopped: the listening
    /// socket, which they answer through, is closed after the last of them.
    private var flowThreads = 0
    private var stopped = false

    init(fd: Int32, target: (IPv4Address, Int)) {
        self.fd = fd
        self.target = target
    }

    func run() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            // Clients of either family: the [::] listener's are IPv6.
            var client = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &client) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            let key = withUnsafeBytes(of: &client) { Array($0.prefix(Int(length))) }
            lock.withLock {
                let upstream = upstreams[key] ?? startFlow(key, client: client, length: length)
                if upstream >= 0 { _ = send(upstream, buffer, count, 0) }
            }
        }
        // Each flow's thread wakes, closes its socket and leaves.
        let last = lock.withLock {
            stopped = true
            for (_, upstream) in upstreams { shutdown(upstream, Int32(SHUT_RDWR)) }
            return flowThreads == 0
        }
        if last { close(fd) }
    }

    /// A socket connected to the container for one client, and the thread that relays its
    /// answers. Called with the lock held.
    private func startFlow(_ key: [UInt8], client: sockaddr_storage, length: socklen_t) -> Int32 {
        let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { return -1 }
        var address = Sockets.address(target.0, port: target.1)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        upstreams[key] = socketFD
        flowThreads += 1
        Sockets.spawn { [self] in relayAnswers(key, socketFD, to: client, length: length) }
        return socketFD
    }

    private func relayAnswers(_ key: [UInt8], _ socketFD: Int32, to client: sockaddr_storage, length: socklen_t) {
        var answer = [UInt8](repeating: 0, count: 65536)
        var timeout = timeval(tv_sec: Self.idleSeconds, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var destination = client
        while true {
            let got = recv(socketFD, &answer, answer.count, 0)
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            _ = withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, answer, got, 0, $0, length) }
            }
        }
        let closeListener = lock.withLock {
            if upstreams[key] == socketFD { upstreams[key] = nil }
            close(socketFD)
            flowThreads -= 1
            return stopped && flowThreads == 0
        }
        if closeListener { close(fd) }
    }
}
