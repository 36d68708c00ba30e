import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own, for work that blocks in the kernel and so fits neither Swift's
/// cooperative pool nor a dispatch queue (a journal handle, an inotify read).
enum DetachedThread {
    /// Starts `body` on a new detached thread named `name` (at most 15 bytes, as /proc shows
    /// it). Answers 0, or pthread_create's error number when the thread cannot be made.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Int32 {
        let start = ThreadStart {
            // PR_SET_NAME (15) names the calling thread.
            _ = name.withCString { berth_prctl(15, UInt(bitPattern: $0), 0, 0, 0) }
            body()
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(start).toOpaque()
        let created = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            return created
        }
        pthread_detach(thread)
        return 0
    }
}

/// The body of a new pthread, passed through its `void *` argument.
private final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
