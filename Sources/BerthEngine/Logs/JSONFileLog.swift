import BerthOCI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A container's json-file log: `<dir>/<id>-json.log`, with older rotated files
/// `<id>-json.log.1` (newest) … `.N` (oldest), as the shim writes them; with compress=true a
/// rotated file is `.K.gz` once the shim has gzipped it (until then it is `.K`), and is read
/// decompressed.
///
/// Reading is what `docker logs` asks for (`LogReadOptions`): `tail` counts lines from the
/// end across the files reading backwards, `since` / `until` filter by time, and `follow`
/// goes on with what is appended — through a rotation (the file renamed to `.1` and a new one
/// created: the old one is read to its end first, so nothing is lost or repeated) — until the
/// caller's stop condition, then drains what is left. Records are handed out in batches as
/// they are read, and the reader waits for each hand-off, so a slow consumer slows the reader
/// and memory stays at one read buffer and one batch, whatever the size of the log.
///
/// The `local` driver's files (and remote drivers' caches) are read the same way: LogFile
/// tells their framed records from JSON lines by the first byte.
///
/// The files are read with blocking `pread`s of at most 256 KiB (page cache reads) on the
/// caller's executor.
public struct JSONFileLog: Sendable {
    public let path: String
    /// How often a follower looks for new data once it has caught up, when the log's
    /// directory cannot be watched; a watched one wakes it at each change.
    public var pollInterval: Duration = .milliseconds(50)
    /// How often a follower whose directory is watched looks all the same.
    public var watchedPollInterval: Duration = .milliseconds(500)
    /// About how many bytes of log file go into one batch.
    public var batchBytes: Int = 256 << 10

    public init(path: String) {
        self.path = path
    }

    /// The log of container `id` in its directory (`<directory>/<id>-json.log`).
    public init(directory: String, containerID: String) {
        self.path = directory + "/" + containerID + "-json.log"
    }

    /// Reads the log as `options` say, handing out records in batches in file order, and
    /// waiting for `onBatch` before reading on. With `options.follow`, after the end it keeps
    /// reading what is appended until `stop` returns (e.g. "the container exited"), then
    /// drains what is left and returns; without `stop` it follows until `until` passes or the
    /// task is cancelled (a cancelled read throws `CancellationError`).
    public func readBatches(
        options: LogReadOptions,
        stop: (@Sendable () async -> Void)? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ onBatch: ([LogRecord]) async throws -> Void
    ) async throws {
        // Watched before the first read, so that nothing written after it goes unnoticed.
        let bell = WakeBell()
        let watch = options.follow ? LogDirectoryWatch.shared : nil
        let subscription = watch?.join(directory: Self.directory(of: path), bell: bell)
        defer { if let subscription { watch?.leave(subscription) } }
        let cursor = try LogCursor(path: path, options: options)
        let stopFlag = StopFlag()
        var stopTask: Task<Void, Never>?
        if options.follow, let stop {
            stopTask = Task {
                await stop()
                stopFlag.set()
                bell.ring()
            }
        }
        defer { stopTask?.cancel() }
        let idleWait = subscription == nil ? pollInterval : watchedPollInterval
        while true {
            try Task.checkCancellation()
            // Read the flag before the pass, so that everything written before the stop was
            // signalled is read by this pass.
            let stopping = stopFlag.isSet
            var step: LogCursor.Step
            repeat {
                step = try cursor.step(budget: batchBytes)
                if !cursor.batch.isEmpty { try await onBatch(cursor.takeBatch()) }
            } while step == .progress
            if step == .finished { return }
            if try cursor.followRotation() { continue }
            if stopping {
                cursor.finishLiveFragment()
                if !cursor.batch.isEmpty { try await onBatch(cursor.takeBatch()) }
                return
            }
            await bell.wait(upTo: idleWait)
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Like `readBatches`, one record at a time.
    public func read(
        options: LogReadOptions,
        stop: (@Sendable () async -> Void)? = nil,
        isolation: isolated (any Actor)? = #isolation,
        emit: (LogRecord) async throws -> Void
    ) async throws {
        try await readBatches(options: options, stop: stop) { batch in
            for record in batch { try await emit(record) }
        }
    }

    /// Reads the log and hands out the bytes of the `GET /containers/{id}/logs` response body
    /// (stdcopy frames, or raw for `tty`, with the timestamps / details prefixes the options
    /// ask for), in chunks of about `chunkBytes`; a chunk is also handed out whenever the
    /// reader has caught up with the writer, so a follower sees new lines at once.
    public func readFormatted(
        options: LogReadOptions,
        tty: Bool,
        stop: (@Sendable () async -> Void)? = nil,
        chunkBytes: Int = 64 << 10,
        isolation: isolated (any Actor)? = #isolation,
        emit: ([UInt8]) async throws -> Void
    ) async throws {
        var chunker = LogChunker(formatter: LogFormatter(tty: tty, options: options), chunkBytes: chunkBytes,
                                 joinsFrames: options.joinsFrames)
        try await readBatches(options: options, stop: stop) { batch in
            try await chunker.add(batch, emit: emit)
        }
    }

    /// Every record `options` select, at once (no follow). For tests and small logs: its
    /// memory grows with the log.
    public func readAll(options: LogReadOptions = LogReadOptions()) throws -> [LogRecord] {
        var options = options
        options.follow = false
        let cursor = try LogCursor(path: path, options: options)
        var records: [LogRecord] = []
        while try cursor.step(budget: batchBytes) != .finished {
            records.append(contentsOf: cursor.takeBatch())
        }
        records.append(contentsOf: cursor.takeBatch())
        return records
    }

    /// The paths of the log's files that exist, oldest first (`.K.gz` for a compressed one).
    public func files() -> [String] {
        var paths: [String] = []
        if FileIdentity.of(path: path) != nil { paths.append(path) }
        var index = 1
        while index <= LogCursor.maxRotated {
            let plain = "\(path).\(index)"
            if FileIdentity.of(path: plain) != nil {
                paths.insert(plain, at: 0)
            } else if FileIdentity.of(path: plain + ".gz") != nil {
                paths.insert(plain + ".gz", at: 0)
            } else {
                break
            }
            index += 1
        }
        return paths
    }
}

private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// The synchronous part of a read: which files are left, where in them, and the filters.
final class LogCursor {
    static let maxRotated = 1000

    let path: String
    let options: LogReadOptions
    /// Files to read to their end, oldest first (rotated files, and without follow all).
    private var queue: [LogFile] = []
    /// The file being followed (follow only); nil until it exists.
    private var live: LogFile?
    private var finished = false
    private(set) var batch: [LogRecord] = []

    enum Step { case progress, caughtUp, finished }

    init(path: String, options: LogReadOptions) throws(BerthError) {
        self.path = path
        self.options = options
        var (current, rotated) = try LogCursor.openAll(path: path)  // rotated: newest first

        // Newest first, with the sizes as they are now: the tail is counted over these.
        var newestFirst: [LogFile] = []
        if let current { newestFirst.append(current) }
        newestFirst.append(contentsOf: rotated)
        if let tail = options.tail {
            var need = tail
            var keep = newestFirst.count
            if tail == 0 {
                keep = min(1, newestFirst.count)
                if let newest = newestFirst.first { newest.seek(to: try newest.sizeAtOpen) }
            } else {
                for (index, file) in newestFirst.enumerated() {
                    let (offset, lines) = try file.lineStart(fromEnd: need, size: try file.sizeAtOpen)
                    if let offset {
                        file.seek(to: offset)
                        keep = index + 1
                        break
                    }
                    need -= lines
                }
            }
            newestFirst.removeSubrange(keep...)
            if current != nil, newestFirst.isEmpty { current = nil }
            rotated = current != nil ? Array(newestFirst.dropFirst()) : newestFirst
        }
        if options.follow {
            queue = rotated.reversed()
            live = current
        } else {
            queue = newestFirst.reversed()
            // (A compressed file is final: it needs no limit, and is decompressed when read.)
            for file in queue where !file.isCompressed { file.lineStartLimit = try file.sizeAtOpen }
        }
    }

    /// Opens the current file and the rotated ones (newest first) as one consistent set:
    /// if a rotation happens while they are opened, it starts again.
    static func openAll(path: String) throws(BerthError) -> (LogFile?, [LogFile]) {
        var attempt = 0
        while true {
            attempt += 1
            let current = try LogFile(path: path)
            var rotated: [LogFile] = []
            var index = 1
            var misses = 0  // a rotation under way leaves one index empty for a moment
            while index <= maxRotated && misses < 3 {
                if let file = try LogFile.rotated(path, index: index) {
                    if !rotated.contains(where: { $0.identity == file.identity }) { rotated.append(file) }
                    misses = 0
                } else {
                    misses += 1
                }
                index += 1
            }
            // Consistent when the path still names the file we opened and no rotated file is it.
            let stillCurrent = FileIdentity.of(path: path) == current?.identity
            let firstStill = rotated.isEmpty || LogFile.rotatedIdentity(path, index: 1) == rotated[0].identity
            let distinct = current.map { file in !rotated.contains { $0.identity == file.identity } } ?? true
            if (stillCurrent && firstStill && distinct) || attempt >= 5 {
                return (current, rotated)
            }
        }
    }

    func takeBatch() -> [LogRecord] {
        defer { batch = [] }
        return batch
    }

    /// Decodes and filters one record of `file`; false once `until` is passed (reading ends).
    private func handle(_ bytes: UnsafeRawBufferPointer, of file: LogFile) -> Bool {
        let decoded = file.framing == .lengths ? LocalLogEntry.decode(bytes) : JSONLogLine.decode(bytes)
        guard let record = decoded else { return true }  // corrupt: skipped
        if let until = options.until, record.timestamp > until {
            finished = true
            return false
        }
        if let since = options.since, record.timestamp < since { return true }
        guard options.wants(record.stream) else { return true }
        batch.append(record)
        return true
    }

    /// Reads on for about `budget` bytes of log.
    func step(budget: Int) throws(BerthError) -> Step {
        if finished { return .finished }
        if let file = queue.first {
            let status = try file.readLines(budget: budget) { handle($0, of: file) }
            switch status {
            case .budget:
                return .progress
            case .stopped:
                return .finished
            case .endOfFile, .limit:
                // The file is complete: a last line without newline is tried once.
                if status == .endOfFile, let fragment = file.fragment() { _ = handle(fragment, of: file) }
                queue.removeFirst()
                return finished ? .finished : .progress
            }
        }
        guard options.follow else {
            finished = true
            return .finished
        }
        guard let live else { return .caughtUp }
        switch try live.readLines(budget: budget, { handle($0, of: live) }) {
        case .budget: return .progress
        case .stopped, .limit: return .finished
        case .endOfFile: return .caughtUp
        }
    }

    /// Once caught up while following: notices a rotation (the followed file renamed away
    /// and a new one at the path) or a truncation, and moves on. True when there may be
    /// more to read now.
    func followRotation() throws(BerthError) -> Bool {
        guard let current = live else {
            live = try LogFile(path: path)  // the log appears
            return live != nil
        }
        guard let atPath = FileIdentity.of(path: path) else {
            return false  // renamed, and the new file is not there yet: keep the old one
        }
        if atPath == current.identity {
            if current.currentSize() < current.readOffset {  // truncated in place
                current.seek(to: 0)
                return true
            }
            return false
        }
        // Rotated: the old file is final. Read its rest (queue), then the file that followed it.
        // A rotation renames `.k` to `.k+1` from the oldest down, then the current file to
        // `.1`: the file after ours is always one place newer than ours, and that pair is a
        // consistent view when ours has not moved while we looked at its neighbour.
        for _ in 0..<50 {
            guard let place = LogCursor.place(of: current.identity, path: path) else {
                // Ours is gone (removed as the oldest): every file left is newer; start at the oldest.
                queue.append(current)
                if let oldest = try LogCursor.oldest(path: path) {
                    live = oldest
                } else {
                    live = try LogFile(path: path)
                }
                return true
            }
            if place == 0 { return false }  // still at the path: not rotated after all
            let next = place == 1 ? try LogFile(path: path) : try LogFile.rotated(path, index: place - 1)
            guard let next else { return false }  // not created yet
            if LogFile.rotated(path, index: place, is: current.identity) {
                queue.append(current)
                live = next
                return true
            }
        }
        return false
    }

    /// Where the file is now: 0 for the current path, k for `.k` (or `.k.gz` made from it);
    /// nil when it is not found. A rotation under way leaves one index empty for a moment, so
    /// gaps do not end the search. The newest match wins: a compressed file's source may have
    /// been removed and its inode number reused, but never while a reader holds it open.
    static func place(of identity: FileIdentity, path: String) -> Int? {
        if FileIdentity.of(path: path) == identity { return 0 }
        var misses = 0
        var index = 1
        while index <= maxRotated && misses < 3 {
            if LogFile.rotatedIdentity(path, index: index) != nil {
                if LogFile.rotated(path, index: index, is: identity) { return index }
                misses = 0
            } else {
                misses += 1
            }
            index += 1
        }
        return nil
    }

    /// The oldest rotated file there is.
    static func oldest(path: String) throws(BerthError) -> LogFile? {
        var index = 1
        var last: Int?
        var misses = 0
        while index <= maxRotated && misses < 3 {
            if LogFile.rotatedIdentity(path, index: index) != nil {
                last = index
                misses = 0
            } else {
                misses += 1
            }
            index += 1
        }
        guard let last else { return nil }
        return try LogFile.rotated(path, index: last)
    }

    /// When the follow ends: the followed file's last line without newline is tried once.
    func finishLiveFragment() {
        guard let live, !finished, let fragment = live.fragment() else { return }
        _ = handle(fragment, of: live)
        live.dropFragment()
    }
}
