import Foundation
import Glibc

/// A log server for the remote log drivers' tests: a socket on loopback (udp, tcp) or at a
/// private path (unixgram, unix) that keeps what it receives — each datagram, or the bytes of
/// every stream connection — until it is closed. A thread polls it; nothing leaves the host.
final class LogListener: @unchecked Sendable {
    enum Kind { case udp, tcp, unixgram, unix }

    let kind: Kind
    /// tcp/udp: the port it listens on (chosen by the kernel).
    private(set) var port: UInt16 = 0
    /// unix/unixgram: its path.
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [[UInt8]] = []
    private var streams: [Int32: Int] = [:]
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)
    /// What a stream's server answers to the bytes it just read (nil: nothing).
    private var answer: (([UInt8]) -> [UInt8]?)?

    func answer(with reply: @escaping ([UInt8]) -> [UInt8]?) {
        lock.lock()
        answer = reply
        lock.unlock()
    }

    /// Whether connections are accepted and datagrams read (false: a server that takes nothing).
    let accepting: Bool

    init(_ kind: Kind, directory: String = NSTemporaryDirectory(), accepting: Bool = true) throws {
        self.kind = kind
        self.accepting = accepting
        path = directory + "/log-\(UUID().uuidString.prefix(8)).sock"
        let type = (kind == .udp || kind == .unixgram) ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        fd = socket(kind == .udp || kind == .tcp ? AF_INET : AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var bound: Int32
        if kind == .udp || kind == .tcp {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
            }
            port = UInt16(bigEndian: address.sin_port)
        } else {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        guard bound == 0 else {
            close(fd)
            throw TestFailure("bind: \(errno)")
        }
        if type == Int32(SOCK_STREAM.rawValue) { listen(fd, 16) }
        Thread.detachNewThread { [self] in serve() }
    }

    /// The address for the drivers' options.
    var address: String {
        switch kind {
        case .udp: "udp://127.0.0.1:\(port)"
        case .tcp: "tcp://127.0.0.1:\(port)"
        case .unixgram: "unixgram://" + path
        case .unix: "unix://" + path
        }
    }

    /// What came so far: one element per datagram; for streams, per connection.
    var messages: [[UInt8]] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Waits until `condition` holds for what came (or `seconds` pass) and answers it.
    func wait(_ seconds: Double = 10, until condition: ([[UInt8]]) -> Bool) -> [[UInt8]] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(messages) { return messages }
            usleep(20_000)
        }
        return messages
    }

    /// The datagrams (or streams) as text.
    var texts: [String] { messages.map { String(decoding: $0, as: UTF8.self) } }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        done.wait()
        close(fd)
        if kind == .unix || kind == .unixgram { unlink(path) }
    }

    deinit {
        lock.lock()
        let running = !stopped
        lock.unlock()
        if running { stop() }
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            lock.lock()
            let finished = stopped
            let open = Array(streams.keys)
            lock.unlock()
            if finished { break }
            var polled = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            polled += open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if !accepting { polled[0].events = 0 }
            guard poll(&polled, nfds_t(polled.count), 50) > 0 else { continue }
            for entry in polled where entry.revents != 0 {
                if entry.fd == fd {
                    if kind == .udp || kind == .unixgram {
                        let count = recv(fd, &buffer, buffer.count, 0)
                        if count >= 0 { append(Array(buffer[..<count]), stream: nil) }
                    } else {
                        let connection = accept(fd, nil, nil)
                        if connection >= 0 {
                            lock.lock()
                            streams[connection] = received.count
                            received.append([])
                            lock.unlock()
                        }
                    }
                } else {
                    let count = recv(entry.fd, &buffer, buffer.count, 0)
                    if count > 0 {
                        append(Array(buffer[..<count]), stream: entry.fd)
                        lock.lock()
                        let reply = answer
                        lock.unlock()
                        if let bytes = reply?(Array(buffer[..<count])) { _ = bytes.withUnsafeBytes { send(entry.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
                    } else {
                        lock.lock()
                        streams[entry.fd] = nil
                        lock.unlock()
                        close(entry.fd)
                    }
                }
            }
        }
        lock.lock()
        for connection in streams.keys { close(connection) }
        streams = [:]
        lock.unlock()
        done.signal()
    }

    private func append(_ bytes: [UInt8], stream: Int32?) {
        lock.lock()
        defer { lock.unlock() }
        if let stream, let index = streams[stream] {
            received[index] += bytes
        } else {
            received.append(bytes)
        }
    }
}
