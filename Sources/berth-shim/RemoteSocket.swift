import CBerthShim

/// The connection of a remote log driver (syslog, fluentd, gelf) to its server. Made when the
/// log opens, so that a server that does not answer fails the start as dockerd's dial does.
/// Afterwards a send never blocks the shim for long: every send has a short timeout, after
/// which the server is left alone for ten seconds; a stream that breaks is reconnected at once
/// (as dockerd's syslog writer does), then at most once a second; the records meanwhile are
/// dropped (counted in the shim's log). dockerd's blocking mode would stall the container
/// instead; its output must go on.
final class RemoteSocket {
    let address: RemoteAddress
    private var fd: Int32 = -1
    private var nextAttempt: Int64 = 0
    private var dropped = 0

    /// How long a send may wait for a busy server.
    static let sendTimeoutMillis = 1000
    /// How long a connect may take at start, and later.
    static let startConnectMillis: Int64 = 10_000
    static let reconnectMillis: Int64 = 1000

    init(address: RemoteAddress) {
        self.address = address
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    var isConnected: Bool { fd >= 0 }

    /// Connects; nil, or Go's dial error (`dial tcp 127.0.0.1:1: connect: connection refused`).
    func connect(timeoutMillis: Int64 = RemoteSocket.startConnectMillis) -> String? {
        if fd >= 0 { close(fd) }
        fd = -1
        let type = address.transport.isStream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue
        let family: Int32
        switch address.transport {
        case .unix, .unixgram: family = AF_UNIX
        case .tcp, .udp: family = address.isIPv6 ? AF_INET6 : AF_INET
        }
        let socketFD = socket(family, Int32(type) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard socketFD >= 0 else { return failure("socket", errno) }
        let result = withSocketAddress { connectAddress, length in CBerthShim.connect(socketFD, connectAddress, length) }
        guard let result else {
            close(socketFD)
            return "dial \(address.transport.name) \(address.display): invalid address"
        }
        if result != 0 {
            let code = errno
            guard code == EINPROGRESS else {
                close(socketFD)
                return failure("connect", code)
            }
            var poller = pollfd(fd: socketFD, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, Int32(timeoutMillis)) == 1 else {
                close(socketFD)
                return "dial \(address.transport.name) \(address.display): i/o timeout"
            }
            var pending: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(socketFD, SOL_SOCKET, SO_ERROR, &pending, &length)
            if pending != 0 {
                close(socketFD)
                return failure("connect", pending)
            }
        }
        // Blocking from now on, but never for longer than the send timeout.
        _ = fcntl(socketFD, F_SETFL, fcntl(socketFD, F_GETFL) & ~Int32(O_NONBLOCK))
        var timeout = timeval(tv_sec: RemoteSocket.sendTimeoutMillis / 1000, tv_usec: (RemoteSocket.sendTimeoutMillis % 1000) * 1000)
        _ = setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        fd = socketFD
        return nil
    }

    /// Sends one message (a datagram, or bytes on the stream). False when it was dropped.
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // A server that stopped taking records is given a rest: nothing is tried meanwhile.
        guard monotonicMillis() >= resumeAt else { return drop() }
        if fd >= 0 {
            switch sendAll(bytes) {
            case .sent:
                return true
            case .timedOut:
                resumeAt = monotonicMillis() + RemoteSocket.stuckRetryMillis
                // Part of a message may have gone: the stream is not reused. A datagram socket is.
                if address.transport.isStream {
                    close(fd)
                    fd = -1
                }
                return drop()
            case .failed where !address.transport.isStream:
                // A datagram that did not go (no receiver) is lost, as with dockerd.
                return drop()
            case .failed:
                // The stream broke: reconnected at once, as dockerd's writers do.
                close(fd)
                fd = -1
                nextAttempt = 0
            }
        }
        let now = monotonicMillis()
        guard now >= nextAttempt else { return drop() }
        nextAttempt = now + RemoteSocket.reconnectMillis
        guard case .none = connect(timeoutMillis: RemoteSocket.reconnectMillis) else { return drop() }
        guard case .sent = sendAll(bytes) else {
            close(fd)
            fd = -1
            return drop()
        }
        return true
    }

    /// Reads the server's answer until `count` bytes came or `timeoutMillis` passed; nil when
    /// it did not come (the server is then left alone, as after a send that timed out).
    func receive(count: Int, timeoutMillis: Int64) -> [UInt8]? {
        guard fd >= 0 else { return nil }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: count)
        let deadline = monotonicMillis() + timeoutMillis
        while answer.count < count {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - monotonicMillis()
            guard left > 0, poll(&poller, 1, Int32(left)) == 1 else { break }
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count - answer.count, 0) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            answer += buffer[..<got]
        }
        guard answer.count == count else {
            close(fd)
            fd = -1
            resumeAt = monotonicMillis() + RemoteSocket.stuckRetryMillis
            return nil
        }
        return answer
    }

    /// After a send timed out, sending waits this long: a server that takes nothing costs the
    /// container at most one send timeout in this time.
    static let stuckRetryMillis: Int64 = 10_000
    private var resumeAt: Int64 = 0

    private enum SendResult { case sent, failed, timedOut }

    private func sendAll(_ bytes: UnsafeRawBufferPointer) -> SendResult {
        var offset = 0
        while offset < bytes.count {
            let sent = CBerthShim.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .timedOut }
                return .failed
            }
            guard address.transport.isStream || sent == bytes.count else { return .failed }
            offset += sent
        }
        return .sent
    }

    private func drop() -> Bool {
        dropped += 1
        if dropped == 1 || dropped % 10_000 == 0 {
            writeAll(2, "berth-shim: log server \(address.transport.name)://\(address.display) is not taking records: \(dropped) dropped\n")
        }
        return false
    }

    private func failure(_ operation: String, _ code: Int32) -> String {
        "dial \(address.transport.name) \(address.display): \(operation): \(goErrorText(code))"
    }

    /// Calls `body` with the socket address; nil when the address does not fit one.
    private func withSocketAddress(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32? {
        switch address.transport {
        case .unix, .unixgram:
            guard var unixAddress = UnixSocket.address(address.path) else { return nil }
            return withUnsafePointer(to: &unixAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        case .tcp, .udp:
            // An empty host is this host, as Go dials it.
            if address.isIPv6 {
                var inet6 = sockaddr_in6()
                inet6.sin6_family = sa_family_t(AF_INET6)
                inet6.sin6_port = address.port.bigEndian
                guard inet_pton(AF_INET6, address.host, &inet6.sin6_addr) == 1 else { return nil }
                return withUnsafePointer(to: &inet6) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                }
            }
            var inet = sockaddr_in()
            inet.sin_family = sa_family_t(AF_INET)
            inet.sin_port = address.port.bigEndian
            guard inet_pton(AF_INET, address.host.utf8.isEmpty ? "127.0.0.1" : address.host, &inet.sin_addr) == 1 else { return nil }
            return withUnsafePointer(to: &inet) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }
}

/// An errno's text as Go writes it: strerror's, its first letter in lower case.
func goErrorText(_ code: Int32) -> String {
    var bytes = Array(errnoText(code).utf8)
    if let first = bytes.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") { bytes[0] = first + 32 }
    return String(decoding: bytes, as: UTF8.self)
}
