import BerthOCI
import CSystemShims
import Glibc

/// One thread that waits (epoll) on the listening sockets of every DNS server and on the
/// sockets of the queries they forward, and serves those that are ready, so that a server
/// costs two descriptors rather than two threads of its own (each running container on a
/// user network has one) and a query asked of a slow resolver costs a descriptor and a timer
/// rather than a thread. A TCP connection still gets a thread while it lasts.
final class DNSLoop: @unchecked Sendable {
    static let shared = DNSLoop()

    private let epoll: Int32
    /// Held while a handler runs and while a socket is taken out, so that a socket is never
    /// closed under a handler that is reading it. Handlers run holding it: what they change
    /// here they change through the `…OnLoop` methods, which do not take it again.
    private let lock = Lock()
    private var handlers: [Int32: @Sendable () -> Void] = [:]
    private var timers: [Int: (deadline: UInt64, fire: @Sendable () -> Void)] = [:]
    private var nextTimer = 0
    /// Forwarded queries waiting for a resolver (see DNSForward), bounded as dockerd bounds them.
    var forwardsInFlight = 0

    private init() {
        epoll = berth_epoll_create()
        if epoll >= 0 { Sockets.spawn { [self] in run() } }
    }

    /// Calls `handler` on the loop's thread whenever `fd` (non-blocking) is readable.
    func watch(_ fd: Int32, _ handler: @escaping @Sendable () -> Void) throws {
        try lock.withLock { try watchOnLoop(fd, handler) }
    }

    /// `watch` from a handler, on the loop's thread.
    func watchOnLoop(_ fd: Int32, _ handler: @escaping @Sendable () -> Void) throws {
        guard epoll >= 0 else { throw NetworkError("epoll_create1: \(String(cString: strerror(errno)))") }
        handlers[fd] = handler
        guard berth_epoll_watch(epoll, fd) == 0 else {
            let failure = errno
            handlers[fd] = nil
            throw NetworkError("epoll_ctl: \(String(cString: strerror(failure)))")
        }
    }

    /// Stops watching `fd` and closes it, once no handler is using it.
    func close(_ fd: Int32) {
        lock.withLock { closeOnLoop(fd) }
    }

    /// `close` from a handler, on the loop's thread.
    func closeOnLoop(_ fd: Int32) {
        berth_epoll_unwatch(epoll, fd)
        handlers[fd] = nil
        Glibc.close(fd)
    }

    /// Calls `fire` on the loop's thread once `milliseconds` have passed, unless cancelled
    /// first; from a handler, on the loop's thread. Returns what `cancelOnLoop` takes.
    func afterOnLoop(milliseconds: UInt64, _ fire: @escaping @Sendable () -> Void) -> Int {
        nextTimer += 1
        timers[nextTimer] = (Self.now() + milliseconds, fire)
        return nextTimer
    }

    func cancelOnLoop(_ timer: Int) {
        timers[timer] = nil
    }

    /// Milliseconds on the monotonic clock.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }

    /// How long epoll may wait: until the nearest timer, or for ever without one.
    private func waitMilliseconds() -> Int32 {
        guard let nearest = timers.values.lazy.map(\.deadline).min() else { return -1 }
        let now = Self.now()
        return nearest <= now ? 0 : Int32(min(nearest - now, 60_000))
    }

    private func fireDueTimers() {
        let now = Self.now()
        for (key, timer) in timers where timer.deadline <= now {
            // A timer fired before may have cancelled this one.
            guard timers.removeValue(forKey: key) != nil else { continue }
            timer.fire()
        }
    }

    private func run() {
        var ready = [Int32](repeating: -1, count: 64)
        while true {
            let timeout = lock.withLock { waitMilliseconds() }
            let count = berth_epoll_wait(epoll, &ready, Int32(ready.count), timeout)
            if count < 0 && errno != EINTR { return }
            lock.withLock {
                for fd in ready.prefix(Int(max(count, 0))) {
                    // A socket closed since epoll_wait returned has no handler any more.
                    let handler = handlers[fd]
                    handler?()
                }
                fireDueTimers()
            }
        }
    }
}
