import BerthOCI
import CSystemShims
import Glibc

/// The userland proxy of one published port, like docker-proxy: it holds the host port (so
/// no other program can take it) and forwards the connections that the DNAT rules do not
/// catch: those to 127.0.0.1 and from the container's own bridge. TCP connections are
/// pumped with splice on a thread per direction; UDP datagrams are relayed per client.
final class PortProxy: @unchecked Sendable {
    let proto: String
    let hostIP: IPv4Address
    let hostPort: Int
    let target: (IPv4Address, Int)
    private let fd: Int32

    /// Binds the host address; `hostPort` 0 takes a free port.
    init(proto: String, hostIP: IPv4Address, hostPort: Int, targetIP: IPv4Address, targetPort: Int) throws {
        self.proto = proto
        self.hostIP = hostIP
        fd = try Sockets.bound(proto, ip: hostIP, port: hostPort)
        self.hostPort = Sockets.localPort(fd)
        target = (targetIP, targetPort)
        let fd = self.fd
        if proto == "udp" {
            Sockets.spawn { [target] in UDPRelay(fd: fd, target: target).run() }
        } else {
            Sockets.spawn { [target] in Self.acceptLoop(fd, target: target) }
        }
    }

    /// Wakes the accept loop, which then closes the socket.
    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private static func acceptLoop(_ fd: Int32, target: (IPv4Address, Int)) {
        while true {
            let client = Sockets.accept(fd)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE { continue }
                break
            }
            Sockets.spawn {
                guard let upstream = Sockets.connect(to: target.0, port: target.1) else {
                    close(client)
                    return
                }
                var one: Int32 = 1
                setsockopt(upstream, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                let done = DoneCounter()
                Sockets.spawn {
                    _ = berth_splice_pump(upstream, client)
                    if done.finish() { close(client); close(upstream) }
                }
                _ = berth_splice_pump(client, upstream)
                if done.finish() { close(client); close(upstream) }
            }
        }
        close(fd)
    }
}

/// Two pumps share a connection's sockets: the second to finish closes them.
final class DoneCounter: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var count = 0
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func finish() -> Bool {
        pthread_mutex_lock(&mutex)
        count += 1
        let last = count == 2
        pthread_mutex_unlock(&mutex)
        return last
    }
}

/// Relays datagrams from clients of the host port to the container, and the answers back,
/// with one upstream socket per client address.
final class UDPRelay: @unchecked Sendable {
    let fd: Int32
    let target: (IPv4Address, Int)
    init(fd: Int32, target: (IPv4Address, Int)) {
        self.fd = fd
        self.target = target
    }

    func run() {
        var upstreams: [UInt64: Int32] = [:]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var client = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &client) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            let key = UInt64(client.sin_addr.s_addr) << 16 | UInt64(client.sin_port)
            var upstream = upstreams[key]
            if upstream == nil {
                let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                var address = Sockets.address(target.0, port: target.1)
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                upstreams[key] = socketFD
                upstream = socketFD
                let listener = fd
                let reply = client
                Sockets.spawn {
                    var answer = [UInt8](repeating: 0, count: 65536)
                    var timeout = timeval(tv_sec: 90, tv_usec: 0)
                    setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    var destination = reply
                    while true {
                        let got = recv(socketFD, &answer, answer.count, 0)
                        if got <= 0 { break }
                        _ = withUnsafePointer(to: &destination) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(listener, answer, got, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                            }
                        }
                    }
                }
            }
            _ = send(upstream!, buffer, count, 0)
        }
        for (_, upstream) in upstreams { shutdown(upstream, Int32(SHUT_RDWR)) }
        close(fd)
    }
}
