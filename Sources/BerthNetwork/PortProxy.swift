import BerthOCI
import CSystemShims
import Glibc

/// The userland proxy of one published port, like docker-proxy: it holds the host port (so
/// no other program can take it) and forwards the connections that the DNAT rules do not
/// catch: those to 127.0.0.1 and from the container's own bridge. TCP connections are
/// served by the daemon's shared epoll loops, which splice both directions (proxy.c): one
/// loop per CPU up to four for every port together, so neither a port nor a connection
/// costs a thread. UDP ports are served the same way by the shared UDP loops (udp_proxy.c):
/// each client's datagrams go through a socket of its own toward the container, closed
/// once the container has been silent for `udpIdleSeconds`.
final class PortProxy: @unchecked Sendable {
    let proto: String
    /// "0.0.0.0", an IPv4 address, or "::" for the IPv6 listener of a port published on all addresses.
    let hostIP: String
    let hostPort: Int
    let target: (IPv4Address, Int)
    /// The listening socket (the tests find the loops' epoll sets by it).
    let fd: Int32
    /// The listener on the shared TCP or UDP loops, which closes the fd when it is unpublished.
    private let listener: OpaquePointer
    /// Whether stop() has run: the listener is freed by the first.
    private var stopped = false
    private let lock = Lock()

    /// How long a UDP client's flow lasts without an answer from the container: docker-proxy's
    /// UDP connection-tracking timeout.
    static let udpIdleSeconds = 90

    /// Binds the host address; `hostPort` 0 takes a free port. `udpIdleSeconds`: shorter in tests.
    convenience init(proto: String, hostIP: IPv4Address, hostPort: Int, targetIP: IPv4Address, targetPort: Int,
                     udpIdleSeconds: Int = PortProxy.udpIdleSeconds) throws {
        try self.init(proto: proto, hostIP: hostIP.description, fd: Sockets.bound(proto, ip: hostIP, port: hostPort),
                      targetIP: targetIP, targetPort: targetPort, udpIdleSeconds: udpIdleSeconds)
    }

    /// Listens on an IPv6 address (nil: [::]) and forwards to the container's IPv4 address.
    convenience init(ipv6Proto proto: String, hostIP: IPv6Address? = nil, hostPort: Int, targetIP: IPv4Address, targetPort: Int) throws {
        try self.init(proto: proto, hostIP: hostIP?.description ?? "::", fd: Sockets.boundIPv6(proto, ip: hostIP, port: hostPort),
                      targetIP: targetIP, targetPort: targetPort)
    }

    private init(proto: String, hostIP: String, fd: Int32, targetIP: IPv4Address, targetPort: Int,
                 udpIdleSeconds: Int = PortProxy.udpIdleSeconds) throws {
        self.proto = proto
        self.hostIP = hostIP
        self.fd = fd
        self.hostPort = Sockets.localPort(fd)
        target = (targetIP, targetPort)
        var address = Sockets.address(targetIP, port: targetPort)
        var listener: OpaquePointer?
        let result = proto == "udp"
            ? berth_udp_proxy_listen(fd, &address, Int32(udpIdleSeconds), &listener)
            : berth_proxy_listen(fd, &address, &listener)
        guard result == 0, let listener else {
            close(fd)
            throw NetworkError.errno("proxy", -result)
        }
        self.listener = listener
    }

    /// How many loops serve every published TCP port.
    static var loopCount: Int { Int(berth_proxy_loop_count()) }
    /// How many loops serve every published UDP port.
    static var udpLoopCount: Int { Int(berth_udp_proxy_loop_count()) }

    /// Ends the proxy: its connections (UDP: its flows) are closed and the port is free when
    /// this returns.
    func stop() {
        guard lock.withLock({ () -> Bool in
            defer { stopped = true }
            return !stopped
        }) else { return }
        if proto == "udp" {
            berth_udp_proxy_unlisten(listener)
        } else {
            berth_proxy_unlisten(listener)
        }
    }
}
