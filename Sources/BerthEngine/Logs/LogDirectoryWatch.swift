import BerthOCI
import CSystemShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tells log followers when their log's directory changes (inotify): a line the shim appends,
/// a rotation, a compressed file. So `docker logs -f` sees a line as soon as it is written,
/// where a poll would see it only at its next look. One inotify descriptor and one thread
/// serve the whole daemon; each directory has one watch, shared by its followers, and loses
/// it when the last one leaves.
final class LogDirectoryWatch: Sendable {
    /// The daemon's watch; nil where inotify cannot be set up (then followers poll).
    static let shared: LogDirectoryWatch? = LogDirectoryWatch()

    /// A follower's place in a directory's watch, to give up with `leave`.
    struct Subscription: Sendable {
        fileprivate let directory: String
        fileprivate let token: UInt64
    }

    private struct Watched {
        var descriptor: Int32
        var bells: [UInt64: WakeBell] = [:]
    }

    private struct Watches {
        var byDirectory: [String: Watched] = [:]
        var directoryOf: [Int32: String] = [:]
        var nextToken: UInt64 = 0
    }

    private let inotifyFD: Int32
    private let watches = Mutex(Watches())

    /// Changes that concern a follower: data appended, files created, renamed or closed, and
    /// the directory's own removal.
    private static let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF)

    private init?() {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        inotifyFD = fd
        guard DetachedThread.start(name: "log-watch", { [self] in self.readEvents() }) == 0 else {
            close(fd)
            return nil
        }
    }

    /// Rings `bell` at every change in `directory` until `leave`; nil when the directory
    /// cannot be watched (it is gone, or the host's inotify watches are used up).
    func join(directory: String, bell: WakeBell) -> Subscription? {
        watches.withLock { watches -> Subscription? in
            let token = watches.nextToken
            watches.nextToken &+= 1
            if watches.byDirectory[directory] == nil {
                let descriptor = inotify_add_watch(inotifyFD, directory, Self.mask)
                guard descriptor >= 0 else { return nil }
                watches.byDirectory[directory] = Watched(descriptor: descriptor)
                watches.directoryOf[descriptor] = directory
            }
            watches.byDirectory[directory]!.bells[token] = bell
            return Subscription(directory: directory, token: token)
        }
    }

    func leave(_ subscription: Subscription) {
        watches.withLock { watches in
            guard var watched = watches.byDirectory[subscription.directory] else { return }
            watched.bells[subscription.token] = nil
            guard watched.bells.isEmpty else {
                watches.byDirectory[subscription.directory] = watched
                return
            }
            watches.byDirectory[subscription.directory] = nil
            watches.directoryOf[watched.descriptor] = nil
            // The kernel answers with IN_IGNORED for the descriptor, which finds nothing.
            _ = inotify_rm_watch(inotifyFD, watched.descriptor)
        }
    }

    /// The thread: reads events and rings the bells of their directories.
    private func readEvents() {
        let capacity = 64 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(inotifyFD, buffer, capacity)
            if count < 0 {
                if errno == EINTR { continue }
                return  // cannot happen with a valid descriptor; followers keep their poll
            }
            // struct inotify_event: wd, mask, cookie, len (4 bytes each), then len bytes of name.
            var changed: Set<Int32> = []
            var gone: Set<Int32> = []
            var overflowed = false
            var offset = 0
            while offset + 16 <= count {
                let descriptor = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let eventMask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let nameLength = buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
                if eventMask & UInt32(IN_Q_OVERFLOW) != 0 {
                    overflowed = true  // events were lost: every follower looks
                } else if eventMask & UInt32(IN_IGNORED) != 0 {
                    gone.insert(descriptor)
                } else {
                    changed.insert(descriptor)
                }
                offset += 16 + Int(nameLength)
            }
            let bells = watches.withLock { watches -> [WakeBell] in
                var bells: [WakeBell] = []
                if overflowed { changed.formUnion(watches.directoryOf.keys) }
                for descriptor in changed.union(gone) {
                    guard let directory = watches.directoryOf[descriptor] else { continue }
                    if let watched = watches.byDirectory[directory] { bells += watched.bells.values }
                    if gone.contains(descriptor) {
                        // The directory went (its container was removed): its followers poll.
                        watches.directoryOf[descriptor] = nil
                        watches.byDirectory[directory] = nil
                    }
                }
                return bells
            }
            for bell in bells { bell.ring() }
        }
    }
}
