import BerthOCI
import CSystemShims
import Glibc

/// One thread that waits (epoll) on the listening sockets of every DNS server and serves
/// those that are ready, so that a server costs two descriptors rather than two threads of
/// its own: each running container on a user network has one. A query the host's resolvers
/// must answer, and a TCP connection, still get a thread while they last.
final class DNSLoop: @unchecked Sendable {
    static let shared = DNSLoop()

    private let epoll: Int32
    /// Held while a handler runs and while a socket is taken out, so that a socket is never
    /// closed under a handler that is reading it.
    private let lock = Lock()
    private var handlers: [Int32: @Sendable () -> Void] = [:]

    private init() {
        epoll = berth_epoll_create()
        if epoll >= 0 { Sockets.spawn { [self] in run() } }
    }

    /// Calls `handler` on the loop's thread whenever `fd` (non-blocking) is readable.
    func watch(_ fd: Int32, _ handler: @escaping @Sendable () -> Void) throws {
        guard epoll >= 0 else { throw NetworkError("epoll_create1: \(String(cString: strerror(errno)))") }
        lock.withLock { handlers[fd] = handler }
        guard berth_epoll_watch(epoll, fd) == 0 else {
            let failure = errno
            lock.withLock { handlers[fd] = nil }
            throw NetworkError("epoll_ctl: \(String(cString: strerror(failure)))")
        }
    }

    /// Stops watching `fd` and closes it, once no handler is using it.
    func close(_ fd: Int32) {
        lock.withLock {
            berth_epoll_unwatch(epoll, fd)
            handlers[fd] = nil
            Glibc.close(fd)
        }
    }

    private func run() {
        var ready = [Int32](repeating: -1, count: 64)
        while true {
            let count = berth_epoll_wait(epoll, &ready, Int32(ready.count))
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            for fd in ready.prefix(Int(count)) {
                // A socket closed since epoll_wait returned has no handler any more.
                lock.withLock { handlers[fd]?() }
            }
        }
    }
}
