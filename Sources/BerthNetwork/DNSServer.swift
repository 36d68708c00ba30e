import BerthOCI
import CSystemShims
import FoundationEssentials
import Glibc

/// A DNS server (UDP and TCP port 53) that answers for a user network's containers and
/// forwards other names to the host's resolvers. One listens on each user network's gateway
/// address; and one per container on user networks listens at 127.0.0.11 in the container's
/// own network namespace, the address dockerd's containers ask (and nginx's `resolver
/// 127.0.0.11` names). Its sockets are made there and served from berthd's DNS thread
/// (DNSLoop), which forwards from the host's namespace as the gateway's server does.
final class DNSServer: @unchecked Sendable {
    /// Where containers ask dockerd's embedded DNS server.
    static let containerAddress = IPv4Address("127.0.0.11")!

    /// The network a server answers for first: its ID, its name (the domain of PTR answers,
    /// as Docker's "name.network") and its subnet (whose reverse names never leave the host).
    struct Network: Sendable {
        var id: String
        var name: String
        var subnet: IPv4Subnet
    }

    let table: DNSTable
    let upstreams: [IPv4Address]
    private let udp: Int32
    private let tcp: Int32
    private let lock = Lock()
    private var asked: (network: Network, container: IPv4Address?)
    /// Set by `stop`: a late forwarded answer is not sent on a closed socket.
    private var stopped = false

    var network: Network { lock.withLock { asked.network } }
    /// A container's own server: the container, by its address on `network` (its queries
    /// come from 127.0.0.1); nil for a network's server.
    var container: IPv4Address? { lock.withLock { asked.container } }

    /// After `docker network connect/disconnect`: the container's server answers as the
    /// container's address on another of its networks.
    func retarget(network: Network, container: IPv4Address) {
        lock.withLock { asked = (network, container) }
    }

    /// `namespaceFD`: the container's network namespace, for its own server at 127.0.0.11;
    /// nil for the network's server at `address`.
    init(network: Network, address: IPv4Address, table: DNSTable, upstreams: [IPv4Address],
         container: IPv4Address? = nil, namespaceFD: Int32? = nil) throws {
        asked = (network, container)
        self.table = table
        self.upstreams = upstreams
        let make: (Int32) -> Int32 = { type in
            guard let namespaceFD else { return socket(AF_INET, type, 0) }
            // berth_netns_socket answers -errno; Sockets.bound reports errno.
            let fd = berth_netns_socket(namespaceFD, AF_INET, type, 0)
            if fd < 0 { errno = -fd }
            return fd < 0 ? -1 : fd
        }
        do {
            udp = try Sockets.bound("udp", ip: address, port: 53, freebind: true, make: make)
        } catch let failure as Sockets.BindFailure {
            throw NetworkError("DNS server on \(address):53: \(failure.message)")
        }
        do {
            tcp = try Sockets.bound("tcp", ip: address, port: 53, freebind: true, make: make)
        } catch let failure as Sockets.BindFailure {
            close(udp)
            throw NetworkError("DNS server on \(address):53/tcp: \(failure.message)")
        }
        do {
            for fd in [udp, tcp] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            try DNSLoop.shared.watch(udp) { [self] in receiveUDP() }
            try DNSLoop.shared.watch(tcp) { [self] in acceptTCP() }
        } catch {
            DNSLoop.shared.close(udp)
            DNSLoop.shared.close(tcp)
            throw error
        }
    }

    func stop() {
        lock.withLock { stopped = true }
        DNSLoop.shared.close(udp)
        DNSLoop.shared.close(tcp)
    }

    /// The local answer, or nil when the question is for the host's resolvers. `client`: the
    /// asking container's address, whose other networks' names are answered too.
    func answer(_ query: DNSQuery, client: IPv4Address? = nil) -> [UInt8]? {
        Self.answer(query, network: network, table: table, client: client)
    }

    /// The answer of a server for `first` (see the instance's).
    static func answer(_ query: DNSQuery, network first: Network, table: DNSTable, client: IPv4Address?) -> [UInt8]? {
        let name = query.question.name
        if let address = reverseLookupAddress(name) {
            if let target = table.reverseLookup(network: first.id, address: address) {
                return query.response(.pointer(target + "." + first.name))
            }
            // Reverse names of this network's subnet never leave the host.
            return first.subnet.contains(address) ? query.response(nil) : nil
        }
        let networks = table.networks(answering: client, at: first.id)
        func networkName(_ id: String) -> String? { id == first.id ? first.name : table.networkName(id) }
        // The name on all the asker's networks; then, as dockerd reads a name ending in a
        // network's name, "a.b" on its network "c", "a" on its network "b.c", and so on.
        var candidates = [(networks: networks, name: name)]
        let whole = name.hasSuffix(".") ? String(name.dropLast()) : name
        var rest = Substring(whole)
        while let dot = rest.lastIndex(of: ".") {
            let suffix = whole[whole.index(after: dot)...]
            rest = whole[..<dot]
            let named = networks.filter { networkName($0).map { $0 == suffix } ?? false }
            if !named.isEmpty { candidates.append((named, String(rest))) }
        }
        for candidate in candidates {
            // The asker's link aliases come first, on any of its networks, then the names
            // everyone sees (libnetwork's order).
            let aliased = candidate.networks.compactMap { network in
                table.linkTarget(client: client, network: network, name: candidate.name).map { (network: network, name: $0) }
            }
            for (network, name) in aliased + candidate.networks.map({ (network: $0, name: candidate.name) }) {
                guard let addresses = table.lookup(network: network, name: name) else { continue }
                switch query.question.type {
                case DNSQuestion.typeA: return query.response(.addresses(addresses))
                case DNSQuestion.typeAAAA: return query.response(.addresses6(table.lookup6(network: network, name: name)))
                default: return query.response(.addresses([]))
                }
            }
        }
        return nil
    }

    /// The queries waiting on the UDP socket (on the DNS thread).
    private func receiveUDP() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var client = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &client) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, &buffer, buffer.count, 0, $0, &length) }
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }  // EAGAIN: nothing more for now
            let packet = Array(buffer[0..<count])
            guard let query = DNSQuery(packet) else { continue }
            if let reply = answer(query, client: container ?? IPv4Address(UInt32(bigEndian: client.sin_addr.s_addr))) {
                send(reply, to: client)
            } else {
                // On this thread: a socket and a timer per resolver asked, not a thread.
                let destination = client
                DNSForward.start(packet, query: query, upstreams: upstreams) { [self] reply in
                    send(reply, to: destination)
                }
            }
        }
    }

    private func send(_ reply: [UInt8], to client: sockaddr_in) {
        var destination = client
        // Under the lock, so that `stop` cannot close the socket meanwhile.
        lock.withLock {
            guard !stopped else { return }
            _ = withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(udp, reply, reply.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The connections waiting on the TCP socket (on the DNS thread), each served by a
    /// thread of its own while it lasts.
    private func acceptTCP() {
        while true {
            let client = Sockets.accept(tcp)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // EAGAIN: nothing more for now
            }
            Sockets.spawn { [self] in
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let peer = container ?? Sockets.peerAddress(client)
                while let packet = Self.readFramed(client), let query = DNSQuery(packet) {
                    let reply = answer(query, client: peer) ?? forwardTCP(packet, query: query)
                    let framed = UInt16(reply.count).bigBytes + reply
                    guard Glibc.send(client, framed, framed.count, Int32(MSG_NOSIGNAL)) == framed.count else { break }
                }
                close(client)
            }
        }
    }

    static func readFramed(_ fd: Int32) -> [UInt8]? {
        func readExactly(_ count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
                if n <= 0 { return nil }
                got += n
            }
            return bytes
        }
        guard let length = readExactly(2) else { return nil }
        return readExactly(Int(length[0]) << 8 | Int(length[1]))
    }

    /// Asks the upstream resolvers in turn over TCP, as dockerd forwards a query that came
    /// over TCP (2 s each to connect, send and answer), on the connection's own thread; the
    /// answers are read as DNSForward reads them, SERVFAIL when none answers.
    private func forwardTCP(_ packet: [UInt8], query: DNSQuery) -> [UInt8] {
        for upstream in upstreams {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            // SO_SNDTIMEO bounds connect too.
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
                setsockopt(fd, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
            }
            var address = Sockets.address(upstream, port: 53)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let framed = UInt16(packet.count).bigBytes + packet
            guard connected == 0, Glibc.send(fd, framed, framed.count, Int32(MSG_NOSIGNAL)) == framed.count,
                  let reply = Self.readFramed(fd) else { continue }
            if DNSForward.verdict(reply, id: query.id) == .final { return reply }
        }
        return query.failure(DNSQuery.serverFailure)
    }
}
