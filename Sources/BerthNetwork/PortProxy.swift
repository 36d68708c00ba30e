import BerthOCI
import CSystemShims
import Glibc

/// The userland proxy of one published port, like docker-proxy: it holds the host port (so
/// no other program can take it) and forwards the connections that the DNAT rules do not
/// catch: those to 127.0.0.1 and from the container's own bridge. TCP connections are
/// served by epoll loops that splice both directions (proxy.c), one loop per CPU up to four,
/// so connections cost no thread and many of them still spread over the cores; UDP
/// datagrams are relayed per client.
final class PortProxy: @unchecked Sendable {
    let proto: String
    /// "0.0.0.0", an IPv4 address, or "::" for the IPv6 listener of a port published on all addresses.
    let hostIP: String
    let hostPort: Int
    let target: (IPv4Address, Int)
    /// The listening socket (the tests find the loops' epoll sets by it).
    let fd: Int32
    /// TCP: a pipe whose read end, once written to, stops the loops, and what closes the
    /// fds once they and stop() are done (so none is closed while another may still use it).
    private let stopPipe: (read: Int32, write: Int32)
    private let closing: Countdown?

    /// Binds the host address; `hostPort` 0 takes a free port.
    convenience init(proto: String, hostIP: IPv4Address, hostPort: Int, targetIP: IPv4Address, targetPort: Int) throws {
        try self.init(proto: proto, hostIP: hostIP.description, fd: Sockets.bound(proto, ip: hostIP, port: hostPort),
                      targetIP: targetIP, targetPort: targetPort)
    }

    /// Listens on an IPv6 address (nil: [::]) and forwards to the container's IPv4 address.
    convenience init(ipv6Proto proto: String, hostIP: IPv6Address? = nil, hostPort: Int, targetIP: IPv4Address, targetPort: Int) throws {
        try self.init(proto: proto, hostIP: hostIP?.description ?? "::", fd: Sockets.boundIPv6(proto, ip: hostIP, port: hostPort),
                      targetIP: targetIP, targetPort: targetPort)
    }

    private init(proto: String, hostIP: String, fd: Int32, targetIP: IPv4Address, targetPort: Int) throws {
        self.proto = proto
        self.hostIP = hostIP
        self.fd = fd
        self.hostPort = Sockets.localPort(fd)
        target = (targetIP, targetPort)
        let fd = self.fd
        if proto == "udp" {
            stopPipe = (-1, -1)
            closing = nil
            Sockets.spawn { [target] in UDPRelay(fd: fd, target: target).run() }
            return
        }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            let code = errno
            close(fd)
            throw NetworkError.errno("pipe", code)
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }  // berthd spawns shims
        stopPipe = (ends[0], ends[1])
        let loops = min(max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1), 4)
        let closing = Countdown(loops + 1) {
            close(fd)
            close(ends[0])
            close(ends[1])
        }
        self.closing = closing
        let stop = ends[0]
        for _ in 0..<loops {
            Sockets.spawn { [target] in
                var address = Sockets.address(target.0, port: target.1)
                _ = berth_proxy_serve(fd, stop, &address)
                closing.finish()
            }
        }
    }

    /// Ends the proxy: the loops close their connections and return; a UDP relay's
    /// socket wakes and closes.
    func stop() {
        if let closing {
            _ = write(stopPipe.write, "x", 1)
            closing.finish()
        } else {
            shutdown(fd, Int32(SHUT_RDWR))
        }
    }
}

/// Runs `body` when `finish()` has been called `count` times, from whichever thread is last.
final class Countdown: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var remaining: Int
    private let body: () -> Void
    init(_ count: Int, body: @escaping () -> Void) {
        remaining = count
        self.body = body
        pthread_mutex_init(&mutex, nil)
    }
    deinit { pthread_mutex_destroy(&mutex) }
    func finish() {
        pthread_mutex_lock(&mutex)
        remaining -= 1
        let last = remaining == 0
        pthread_mutex_unlock(&mutex)
        if last { body() }
    }
}
