import BerthOCI
import FoundationEssentials
import Glibc

/// Writes containers' records (config.v2.json, fsync included) off the service's actor, in
/// order for each container.
///
/// The service is one actor for every container: an fsync there (a few milliseconds, more
/// when the disk is busy) held up every other container's work, so that `docker rm -f` of
/// 50 took as long as 50 fsyncs one after the other. Here each container's writes follow
/// one another on a thread of their own, and a record that arrives while an earlier one is
/// being written replaces any that still waits: only the newest is worth writing.
final class ContainerRecordWriter: @unchecked Sendable {
    private struct Queue {
        var waiting: Data?
        var writing = false
        /// Removed: what comes later is dropped, so that no write brings the file back.
        var closed = false
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    private let lock = Lock()
    private var queues: [String: Queue] = [:]
    private let paths: ContainerPaths
    /// Told of a record that could not be written.
    private let failed: @Sendable (String) -> Void

    init(paths: ContainerPaths, failed: @escaping @Sendable (String) -> Void) {
        self.paths = paths
        self.failed = failed
    }

    /// Queues the record's JSON; it is on disk once `flushed` returns.
    func write(_ id: String, _ data: Data) {
        let start: Bool = lock.withLock {
            var queue = queues[id] ?? Queue()
            if queue.closed { return false }
            queue.waiting = data
            let start = !queue.writing
            queue.writing = true
            queues[id] = queue
            return start
        }
        if start { BlockingWork.start { self.drain(id) } }
    }

    /// Returns once everything queued for the container before the call is on disk.
    func flushed(_ id: String) async {
        await withCheckedContinuation { continuation in
            let ready: Bool = lock.withLock {
                guard queues[id]?.writing == true else { return true }
                queues[id]!.idle.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// For a removal: drops what waits and takes no more, and runs `remove` (which takes the
    /// record away) in the same step, without waiting for a write in progress: that write
    /// replaces the record only if it comes first (see drain), and otherwise leaves it be.
    /// When `remove` throws, the writer takes writes again.
    func close(_ id: String, removing remove: () throws -> Void) throws {
        try lock.withLock {
            var queue = queues[id] ?? Queue()
            queue.closed = true
            queue.waiting = nil
            queues[id] = queue
            do {
                try remove()
            } catch {
                queues[id]?.closed = false
                throw error
            }
        }
    }

    /// After a removal, once nothing can ask to write the container's record any more and a
    /// write in progress has ended (`flushed`).
    func forget(_ id: String) {
        lock.withLock { queues[id] = nil }
    }

    /// At shutdown: every record queued is on disk.
    func flushAll() async {
        let ids = lock.withLock { Array(queues.keys) }
        for id in ids { await flushed(id) }
    }

    private func drain(_ id: String) {
        while true {
            let (next, waiters): (Data?, [CheckedContinuation<Void, Never>]) = lock.withLock {
                guard var queue = queues[id] else { return (nil, []) }
                if let data = queue.waiting {
                    queue.waiting = nil
                    queues[id] = queue
                    return (data, [])
                }
                queue.writing = false
                let idle = queue.idle
                queue.idle = []
                queues[id] = queue
                return (nil, idle)
            }
            guard let next else {
                for waiter in waiters { waiter.resume() }
                return
            }
            let path = paths.config(id)
            do {
                let temporary = try AtomicFile.prepare(next, for: path)
                // The record being replaced stays open over the rename, so that its blocks are
                // freed when it is closed, later and elsewhere: on a file system mounted with
                // `discard`, freeing waits for the disk, and the lock (which a removal waits
                // for) and this container's `flushed` would wait with it.
                let previous = open(path, O_RDONLY | O_CLOEXEC)
                defer { if previous >= 0 { BlockingWork.start { _ = Glibc.close(previous) } } }
                // Renamed under the lock, so that a removal's close comes wholly before or after.
                let kept = try lock.withLock {
                    guard queues[id]?.closed == false else { return false }
                    try AtomicFile.commit(temporary, to: path)
                    return true
                }
                if !kept { unlink(temporary) }
            } catch {
                failed("container \(id): cannot save its state: \(error)")
            }
        }
    }
}
