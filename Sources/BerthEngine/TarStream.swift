import BerthOCI
import Dispatch
import FoundationEssentials
import Glibc

/// A tar written on a worker thread into a pipe and read out as the client takes it
/// (`docker save`, `docker cp` out, `docker export`): nothing is staged on disk or held whole
/// in memory, and a slow client slows the writer (the pipe fills). `onEnd` runs once the
/// writer is done and before the reader sees the end (e.g. releases a container's root).
public final class TarStream: @unchecked Sendable {
    private let lock = Lock()
    private var readEnd: Int32
    private let writer: Task<Void, Error>

    public static let chunkSize = 1 << 20

    init(write: @escaping @Sendable (Int32) throws -> Void, onEnd: @escaping @Sendable () -> Void = {}) throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            onEnd()
            throw BerthError.internalError("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // Glibc's Swift module has no pipe2
        // A bigger pipe means fewer hops between the two threads; the default is 64 KiB.
        let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ, not exported by Glibc's Swift module
        _ = fcntl(ends[1], setPipeSize, Int32(Self.chunkSize))
        readEnd = ends[0]
        let writeEnd = ends[1]
        // Off the task pool: the writer blocks while the pipe is full.
        writer = Task {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                BlockingWork.start {
                    defer {
                        // Before the reader sees the end, as dockerd releases a copy's mounts
                        // (and tells of it) before its response ends.
                        onEnd()
                        Glibc.close(writeEnd)
                    }
                    continuation.resume(with: Result { try write(writeEnd) })
                }
            }
        }
    }

    deinit { close() }

    /// Blocks until something was written: the byte count read, 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let fd = lock.withLock { readEnd }
        guard fd >= 0 else { throw BerthError.internalError("the archive stream was closed") }
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw BerthError.internalError("read archive stream: \(String(cString: strerror(errno)))") }
        }
    }

    /// Waits for the writer; throws what it threw (e.g. "No such image: x").
    public func finish() async throws { try await writer.value }

    /// Stops reading: a writer still at work fails with EPIPE and ends.
    public func close() {
        lock.withLock {
            if readEnd >= 0 { Glibc.close(readEnd) }
            readEnd = -1
        }
    }
}
