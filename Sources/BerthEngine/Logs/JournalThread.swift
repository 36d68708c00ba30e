import BerthOCI
import CSystemShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own for one journal read. libsystemd wants an sd-journal handle used
/// from the one thread that opened it, and its reads and waits block: neither fits Swift's
/// cooperative pool (nor a dispatch queue, whose jobs move between threads). The thread
/// makes the cursor first, then runs the jobs `perform` queues, in order, until `finish`.
///
/// `wake()` interrupts a cursor's wait at once (a stop, a cancelled request): the cursor
/// polls the read end of the thread's wake pipe along with the journal's descriptor.
final class JournalThread: Sendable {
    private typealias Job = @Sendable (Result<JournalCursor, BerthError>) -> Void

    private struct Queue {
        var jobs: [Job] = []
        var finishing = false
        /// The wake pipe's write end; -1 once the thread has ended and closed the pipe.
        var wakeFD: Int32
    }

    private let queue: Mutex<Queue>
    private let signal = ThreadSignal()

    /// Starts the thread, which makes its cursor with `makeCursor(wakeFD)` (the wake pipe's
    /// read end).
    init(makeCursor: @escaping @Sendable (Int32) throws(BerthError) -> JournalCursor) throws(BerthError) {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            throw BerthError.internalError("journald: pipe: \(String(cString: strerror(errno)))")
        }
        for fd in pipeFDs {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        let (readFD, writeFD) = (pipeFDs[0], pipeFDs[1])
        queue = Mutex(Queue(wakeFD: writeFD))
        let created = DetachedThread.start(name: Self.threadName) { [self] in
            self.run(makeCursor: makeCursor, wakeFD: readFD)
        }
        guard created == 0 else {
            close(readFD)
            close(writeFD)
            throw BerthError.internalError("journald: cannot start a reader thread: \(String(cString: strerror(created)))")
        }
    }

    /// Runs `job` on the thread with its cursor, and returns its result. A cancelled task
    /// wakes the cursor from a wait; the job still ends normally.
    func perform<T: Sendable>(_ job: @escaping @Sendable (JournalCursor) throws(BerthError) -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let queued = queue.withLock { queue -> Bool in
                    guard !queue.finishing else { return false }
                    queue.jobs.append { cursor in
                        continuation.resume(with: Result { () throws(BerthError) -> T in try job(cursor.get()) })
                    }
                    return true
                }
                if queued {
                    signal.post()
                } else {
                    continuation.resume(throwing: BerthError.internalError("journald: the reader has finished"))
                }
            }
        } onCancel: {
            wake()
        }
    }

    /// Interrupts the cursor's wait, now or, when it is not waiting, its next one.
    func wake() {
        queue.withLock { queue in
            guard queue.wakeFD >= 0 else { return }
            var byte: UInt8 = 1
            _ = write(queue.wakeFD, &byte, 1)  // a full pipe is awake already
        }
    }

    /// The thread ends after the jobs already queued; the cursor is closed on it.
    func finish() {
        queue.withLock { $0.finishing = true }
        signal.post()
    }

    private enum Next {
        case job(Job)
        case sleep
        case finish
    }

    /// The name the thread shows in /proc (at most 15 bytes).
    static let threadName = "journal-reader"

    private func run(makeCursor: (Int32) throws(BerthError) -> JournalCursor, wakeFD: Int32) {
        var cursor = Result { () throws(BerthError) -> JournalCursor in try makeCursor(wakeFD) }
        loop: while true {
            let next = queue.withLock { queue -> Next in
                if !queue.jobs.isEmpty { return .job(queue.jobs.removeFirst()) }
                return queue.finishing ? .finish : .sleep
            }
            switch next {
            case .job(let job): job(cursor)
            case .sleep: signal.wait()
            case .finish: break loop
            }
        }
        cursor = .failure(BerthError.internalError("journald: closed"))  // the handle closes here, on its thread
        queue.withLock { queue in
            close(queue.wakeFD)
            queue.wakeFD = -1
        }
        close(wakeFD)
    }
}

/// A counting semaphore for the thread to sleep on while its queue is empty.
private final class ThreadSignal: @unchecked Sendable {
    private let semaphore: UnsafeMutablePointer<sem_t>

    init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func post() { sem_post(semaphore) }

    func wait() {
        while sem_wait(semaphore) != 0 && errno == EINTR {}
    }
}
