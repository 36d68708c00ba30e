import BerthOCI
import BerthStore
import FoundationEssentials
import Glibc

/// `docker save` as a stream: the store writes the archive into a pipe on a worker thread and
/// the reader takes it out as the client accepts it. Nothing is staged on disk, and a slow
/// client slows the writer (the pipe fills) instead of growing memory.
public final class ImageExport: @unchecked Sendable {
    private let lock = Lock()
    private var readEnd: Int32
    private let writer: Task<Void, Error>

    init(names: [String], engine: Engine) throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw BerthError.internalError("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // Glibc's Swift module has no pipe2
        // A bigger pipe means fewer hops between the two threads; the default is 64 KiB.
        let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ, which Glibc's Swift module does not export
        _ = fcntl(ends[1], setPipeSize, Int32(Self.chunkSize))
        readEnd = ends[0]
        let writeEnd = ends[1]
        writer = Task {
            try await engine.blocking {
                defer { Glibc.close(writeEnd) }  // the reader sees the end of the archive
                try engine.images.save(names, to: writeEnd)
                engine.emitSaved(names)
            }
        }
    }

    deinit { close() }

    /// Bytes worth reading at once.
    public static let chunkSize = 1 << 20

    /// Blocks until the store has written something: the byte count read into `buffer`, or 0
    /// at the end. At the end the store's error, if it failed, is thrown by `finish()`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let fd = lock.withLock { readEnd }
        guard fd >= 0 else { throw BerthError.internalError("the image export was closed") }
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw BerthError.internalError("read image export: \(String(cString: strerror(errno)))") }
        }
    }

    /// Waits for the store to finish writing; throws what it threw (e.g. "No such image: x").
    public func finish() async throws {
        try await writer.value
    }

    /// Stops reading: a writer still running fails with EPIPE and ends.
    public func close() {
        lock.withLock {
            if readEnd >= 0 { Glibc.close(readEnd) }
            readEnd = -1
        }
    }
}

extension Engine {
    /// Starts writing the images as one archive; read it with `ImageExport.read(into:)`.
    public func exportImages(_ names: [String]) throws -> ImageExport {
        guard !names.isEmpty else { throw BerthError.invalidArgument("no image names given") }
        return try ImageExport(names: names, engine: self)
    }
}
