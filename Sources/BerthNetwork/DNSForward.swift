import BerthOCI
import Glibc

/// A query the embedded DNS server cannot answer, asked of the upstream resolvers in turn
/// over UDP from the DNS loop's thread: a non-blocking socket of its own per resolver (so the
/// answer carries the client's query ID and comes from where it was asked) and a timer, not a
/// thread. Everything here runs on the loop's thread. The rules are dockerd's: a resolver
/// answering SERVFAIL or REFUSED is passed over for the next; when none answers, the client
/// is told SERVFAIL rather than left to time out.
final class DNSForward: @unchecked Sendable {
    /// How long each resolver has to answer.
    static let timeoutMilliseconds: UInt64 = 2000
    /// dockerd's bound on queries waiting for resolvers; beyond it a query is answered REFUSED.
    static let limit = 1024

    private let packet: [UInt8]
    private let query: DNSQuery
    private let id: UInt16
    private var upstreams: ArraySlice<IPv4Address>
    private var fd: Int32 = -1
    private var timer: Int?

    /// Asks `upstreams` for `packet` (`query`, read) and calls `done` with the answer to relay.
    /// On the loop's thread (from a handler).
    static func start(_ packet: [UInt8], query: DNSQuery, upstreams: [IPv4Address], done: @escaping @Sendable ([UInt8]) -> Void) {
        let loop = DNSLoop.shared
        guard loop.forwardsInFlight < limit else { return done(query.failure(DNSQuery.refused)) }
        loop.forwardsInFlight += 1
        DNSForward(packet, query: query, upstreams: upstreams, done: done).next()
    }

    private let done: @Sendable ([UInt8]) -> Void

    private init(_ packet: [UInt8], query: DNSQuery, upstreams: [IPv4Address], done: @escaping @Sendable ([UInt8]) -> Void) {
        self.packet = packet
        self.query = query
        id = query.id
        self.upstreams = upstreams[...]
        self.done = done
    }

    /// Leaves the resolver asked (if any) and asks the next one.
    private func next() {
        release()
        while let upstream = upstreams.popFirst() {
            if ask(upstream) { return }
        }
        DNSLoop.shared.forwardsInFlight -= 1
        done(query.failure(DNSQuery.serverFailure))
    }

    private func release() {
        if let timer { DNSLoop.shared.cancelOnLoop(timer) }
        timer = nil
        if fd >= 0 { DNSLoop.shared.closeOnLoop(fd) }
        fd = -1
    }

    private func ask(_ upstream: IPv4Address) -> Bool {
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let socket = Glibc.socket(AF_INET, type, 0)
        guard socket >= 0 else { return false }
        // Connected: only the resolver's datagrams are read, and its refusal (ICMP) is seen.
        var address = Sockets.address(upstream, port: 53)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0, Glibc.send(socket, packet, packet.count, 0) == packet.count else {
            Glibc.close(socket)
            return false
        }
        do {
            try DNSLoop.shared.watchOnLoop(socket) { [self] in receive() }
        } catch {
            Glibc.close(socket)
            return false
        }
        fd = socket
        timer = DNSLoop.shared.afterOnLoop(milliseconds: Self.timeoutMilliseconds) { [self] in
            timer = nil
            next()
        }
        return true
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 65535)
        while fd >= 0 {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            guard count > 0 else { return next() }  // refused, unreachable
            let reply = Array(buffer[0..<count])
            switch Self.verdict(reply, id: id) {
            case .final:
                release()
                DNSLoop.shared.forwardsInFlight -= 1
                return done(reply)
            case .tryNext:
                return next()
            case .notOurs:
                continue
            }
        }
    }

    enum Verdict { case final, tryNext, notOurs }

    /// What an upstream's message means for query `id`, as dockerd reads it: SERVFAIL and
    /// REFUSED are worth asking the next resolver; anything else (NXDOMAIN too) is the answer;
    /// a message that is not an answer to this query is ignored. A truncated answer is the
    /// answer: the client asks again over TCP, which is forwarded over TCP.
    static func verdict(_ reply: [UInt8], id: UInt16) -> Verdict {
        guard reply.count >= 12, UInt16(reply[0]) << 8 | UInt16(reply[1]) == id, reply[2] & 0x80 != 0 else { return .notOurs }
        let code = reply[3] & 0x0f
        return code == DNSQuery.serverFailure || code == DNSQuery.refused ? .tryNext : .final
    }
}
