import BerthOCI
import Glibc

/// Small wrappers around IPv4 sockets for the proxy and the DNS server.
enum Sockets {
    static func address(_ ip: IPv4Address, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = ip.value.bigEndian
        return address
    }

    /// A bound socket (listening, for TCP); throws with the errno of the failed step.
    /// `make` makes the socket from its type (by default here; berth_netns_socket for one
    /// in a container's network namespace).
    static func bound(_ proto: String, ip: IPv4Address, port: Int, freebind: Bool = false,
                      make: (Int32) -> Int32 = { socket(AF_INET, $0, 0) }) throws -> Int32 {
        let type = proto == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = make(type | Int32(SOCK_CLOEXEC.rawValue))
        guard fd >= 0 else { throw BindFailure(code: errno) }
        var one: Int32 = 1
        if proto != "udp" { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if freebind { setsockopt(fd, Int32(IPPROTO_IP), 15 /* IP_FREEBIND */, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var address = Self.address(ip, port: port)
        return try bindAndListen(fd, proto, &address)
    }

    /// Binds `fd` to `address` and, for TCP, listens; closes it when either fails.
    ///
    /// A port in use is tried again for up to 20 ms: a port that was just let go (a restart
    /// publishes it again at once) stays held by a process that this one spawns at that moment
    /// until its exec closes the copy, and spawns (shims) happen at any time.
    private static func bindAndListen<Address>(_ fd: Int32, _ proto: String, _ address: inout Address) throws -> Int32 {
        var result: Int32 = -1
        for attempt in 0..<11 {
            if attempt > 0 { usleep(2_000) }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
            }
            if result == 0 || errno != EADDRINUSE { break }
        }
        guard result == 0, proto == "udp" || listen(fd, 1024) == 0 else {
            let code = errno
            close(fd)
            throw BindFailure(code: code)
        }
        return fd
    }

    /// A socket bound to an IPv6 address (nil: every one, [::]) and only IPv6 (the IPv4 side
    /// has its own), listening for TCP: `-p [::1]:8080:80`, and the second listener dockerd's
    /// proxy opens for a port published on all addresses.
    static func boundIPv6(_ proto: String, ip: IPv6Address?, port: Int) throws -> Int32 {
        let type = proto == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET6, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BindFailure(code: errno) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        if proto != "udp" { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = UInt16(port).bigEndian
        if let ip {
            withUnsafeMutableBytes(of: &address.sin6_addr) { raw in
                for (index, byte) in ip.bytes.enumerated() { raw[index] = byte }
            }
        }
        return try bindAndListen(fd, proto, &address)
    }

    /// Whether this host has IPv6 to listen on: dockerd publishes on [::] too only then.
    static let hostHasIPv6: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        close(fd)
        let disabled = (try? String(contentsOfFile: "/proc/sys/net/ipv6/conf/all/disable_ipv6", encoding: .utf8))?.hasPrefix("1") ?? true
        return !disabled
    }()

    struct BindFailure: Error {
        let code: Int32
        /// Go's wording, which Docker's messages carry ("bind: address already in use").
        var message: String { goErrorText(code) }
    }

    /// accept, with the new socket close-on-exec (berthd spawns shims).
    static func accept(_ fd: Int32) -> Int32 {
        let client = Glibc.accept(fd, nil, nil)
        if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
        return client
    }

    /// The IPv4 address of a connected socket's peer (nil if it has none).
    static func peerAddress(_ fd: Int32) -> IPv4Address? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard result == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        return IPv4Address(UInt32(bigEndian: address.sin_addr.s_addr))
    }

    /// The port a socket of either family is bound to (sin_port and sin6_port share their place).
    static func localPort(_ fd: Int32) -> Int {
        var address = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin6_port))
    }

    static func connect(to ip: IPv4Address, port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = Self.address(ip, port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Runs `body` on a new detached thread with a small stack (proxy connections, servers).
    static func spawn(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, 256 * 1024)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
            box.body()
            return nil
        }, box)
        pthread_attr_destroy(&attributes)
        if rc != 0 {
            Unmanaged<AnyObject>.fromOpaque(box).release()
        }
    }
}
