import BerthOCI
import FoundationEssentials

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

    /// For a removal: drops what waits, lets a write in progress end, and takes no more.
    func close(_ id: String) async {
        lock.withLock {
            var queue = queues[id] ?? Queue()
            queue.closed = true
            queue.waiting = nil
            queues[id] = queue
        }
        await flushed(id)
    }

    /// After a removal, once nothing can ask to write the container's record any more.
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
            do {
                try writeAtomically(next, to: paths.config(id))
            } catch {
                failed("container \(id): cannot save its state: \(error)")
            }
        }
    }
}
