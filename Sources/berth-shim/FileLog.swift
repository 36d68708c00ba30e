import CBerthShim

/// A log file as Docker's file drivers write it: json-file's JSON lines, or the `local`
/// driver's framed records (LocalLogRecord). Records are gathered in one buffer per chunk of
/// output and written with one write(2); rotated by size, record by record; rotated files
/// gzipped with compress.
final class FileLog: LogBackend {
    enum Format { case json, local }

    let path: String
    let rotation: LogRotation
    let format: Format
    /// `local` marks the pieces of long lines, and stamps each record (as dockerd's copier does).
    private var pieces = LinePieces()
    private let compressor: LogCompressor?
    private var fd: Int32
    private var size: Int64
    private var buffer: [UInt8] = []
    /// json-file's timestamp text, and the second it was written for.
    private var time: [UInt8] = []
    private var stampedSecond: Int64 = .min
    private var reportedFailure = false

    init?(path: String, rotation: LogRotation, format: Format = .json) {
        self.path = path
        self.rotation = rotation
        self.format = format
        compressor = rotation.compress ? LogCompressor(path: path, maxFiles: rotation.maxFiles) : nil
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return nil }
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
        if format == .local && size > 0 && !startsWithLength(path) {
            // json-file records that an earlier Berth wrote for the local driver: they become a
            // rotated file (read by its own framing) rather than mix with framed records.
            rotate()
            return
        }
        // Rotated files a previous shim left plain (it stops at most one compression at its exit).
        compressor?.startNext()
    }

    /// Whether the file's first byte is 0, as a framed record's length starts (below 16 MiB).
    private func startsWithLength(_ path: String) -> Bool {
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { return true }
        defer { close(reader) }
        var first: UInt8 = 1
        return read(reader, &first, 1) == 1 && first == 0
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Each record is stamped as it is cut from the output, as dockerd's copier stamps each
    /// message. Within one second only the fraction's nine digits change.
    private func stampJSONTime() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        if Int64(now.tv_sec) != stampedSecond || time.count != Timestamp.length {
            time.removeAll(keepingCapacity: true)
            Timestamp.append(to: &time, seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
            stampedSecond = Int64(now.tv_sec)
            return
        }
        var fraction = Int(now.tv_nsec)
        for index in stride(from: 28, through: 20, by: -1) {  // "…:SS." then nine digits, then "Z"
            time[index] = UInt8(48 + fraction % 10)
            fraction /= 10
        }
    }

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        let start = buffer.count
        switch format {
        case .json:
            stampJSONTime()
            JSONLogRecord.append(line: line, stderr: stderr, time: time, to: &buffer)
        case .local:
            let place = pieces.place(stderr: stderr, partial: partial)
            LocalLogRecord.append(line: line, stderr: stderr, timeNanoseconds: place.seconds * 1_000_000_000 + place.nanoseconds,
                                  piece: place.piece, to: &buffer)
        }
        if rotation.shouldRotate(currentSize: size + Int64(start)) {
            buffer.withUnsafeBytes { writeOut(UnsafeRawBufferPointer(rebasing: $0[..<start])) }
            buffer.removeFirst(start)
            rotate()
        }
    }

    func endChunk() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { writeOut($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    func releaseMemory() {
        buffer = []
        time = []
    }

    func childExited(_ pid: pid_t, status: Int32) -> Bool {
        compressor?.childExited(pid, status: status) ?? false
    }

    func outputEnded() {
        compressor?.finishAll()
    }

    func finish() {
        compressor?.finishRunning()
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if writeAll(fd, bytes) {
            size += Int64(bytes.count)
        } else if !reportedFailure {
            reportedFailure = true
            writeAll(2, "berth-shim: writing log \(path): \(errnoText())\n")
        }
    }

    /// `path.(N-1)` is dropped, every other file moves one number up, and a new live file starts;
    /// with compress, the file just rotated out is gzipped in the background. With a single file
    /// the live one is emptied in place.
    private func rotate() {
        let steps = rotation.steps(path: path)
        if steps.renames.isEmpty {
            _ = ftruncate(fd, 0)
        } else {
            close(fd)
            for oldest in steps.removals { unlink(oldest) }
            for step in steps.renames { rename(step.from, step.to) }
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        }
        size = 0
        compressor?.startNext()
    }
}
