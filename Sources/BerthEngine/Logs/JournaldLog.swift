import BerthOCI
import Synchronization

/// A container's log in the journal (the journald log driver): the entries with
/// `CONTAINER_ID_FULL=<id>`, read through libsystemd's sd-journal as `docker logs` asks
/// (`LogReadOptions`), the way dockerd's journald reader does: `tail` counts entries back
/// from the end, `since` / `until` go by the time journald received each entry (also the
/// time `timestamps` shows), the stream comes from the entry's priority, and `follow` goes on
/// with new entries until the caller's stop condition.
///
/// journald stores entries asynchronously: when the container has stopped, the reader also
/// waits for its writer's last entry (`JournalLogEnd`), for at most `JournalLogEnd.drainTime`
/// after the stop, so neither `docker logs` right after `docker run` nor the end of
/// `docker logs -f` misses the last lines.
///
/// All sd-journal work runs on a thread of the read's own (`JournalThread`); batches are
/// handed out as they are read, and the reader waits for each hand-off.
public struct JournaldLog: Sendable {
    public let containerID: String
    /// Read the journal files in this directory instead of the local journal.
    public var directory: String?
    /// How long a follower sleeps at most between looks at the journal (its changes wake it
    /// sooner).
    public var pollInterval: Duration = .seconds(1)

    public init(containerID: String, directory: String? = nil) {
        self.containerID = containerID
        self.directory = directory
    }

    /// Reads the entries `options` select, in journal order, handing out records in batches.
    /// `end` is where the writer ended when the container is known to have stopped: the read
    /// goes on until that entry is in. Otherwise with `options.follow`, after the end it goes
    /// on with new entries until `stop` returns (the container stopped; it answers with its
    /// writer's end), then drains what is left; without `stop` it follows until `until`
    /// passes or the task is cancelled (a cancelled read throws `CancellationError`).
    public func readBatches(
        options: LogReadOptions,
        end: JournalLogEnd? = nil,
        stop: (@Sendable () async -> JournalLogEnd?)? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ onBatch: ([LogRecord]) async throws -> Void
    ) async throws {
        let (id, directory) = (containerID, self.directory)
        let watch = options.follow || end != nil
        let thread = try JournalThread { wakeFD throws(BerthError) in
            try JournalCursor(containerID: id, directory: directory, options: options, watch: watch, wakeFD: wakeFD)
        }
        defer { thread.finish() }
        // A known end means the container has stopped; otherwise a follower waits for the stop.
        let stopState = Mutex<StopState>(options.follow && end == nil ? .running : .stopped(end))
        var stopTask: Task<Void, Never>?
        if options.follow, end == nil, let stop {
            stopTask = Task {
                let end = await stop()
                stopState.withLock { $0 = .stopped(end) }
                thread.wake()
            }
        }
        defer { stopTask?.cancel() }
        let pollInterval = self.pollInterval
        while true {
            try Task.checkCancellation()
            // Read before the pass: everything journald had when the stop was seen is read by it.
            let state = stopState.withLock { $0 }
            var step: JournalCursor.Step
            repeat {
                let (records, next) = try await thread.perform { cursor throws(BerthError) in try cursor.step() }
                step = next
                if !records.isEmpty { try await onBatch(records) }
            } while step == .progress
            if step == .finished { return }
            var wait = pollInterval
            if case .stopped(let end) = state {
                guard let end, end.ordinal > 0 else { return }
                let remaining = end.deadline - .now
                if remaining <= .zero { return }
                if try await thread.perform({ $0.hasSeen(end) }) { return }
                // A change wakes the wait; a short one also covers changes made before the
                // watch was set up (a read without follow sets it up at its start).
                wait = min(remaining, .milliseconds(250))
            }
            let milliseconds = Int(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
            try await thread.perform { cursor throws(BerthError) in try cursor.wait(milliseconds: milliseconds) }
        }
    }

    private enum StopState: Sendable {
        case running
        case stopped(JournalLogEnd?)
    }

    /// Like `readBatches`, one record at a time.
    public func read(
        options: LogReadOptions,
        end: JournalLogEnd? = nil,
        stop: (@Sendable () async -> JournalLogEnd?)? = nil,
        isolation: isolated (any Actor)? = #isolation,
        emit: (LogRecord) async throws -> Void
    ) async throws {
        try await readBatches(options: options, end: end, stop: stop) { batch in
            for record in batch { try await emit(record) }
        }
    }

    /// Reads the log and hands out the bytes of the `GET /containers/{id}/logs` response body,
    /// as `JSONFileLog.readFormatted` does.
    public func readFormatted(
        options: LogReadOptions,
        tty: Bool,
        end: JournalLogEnd? = nil,
        stop: (@Sendable () async -> JournalLogEnd?)? = nil,
        chunkBytes: Int = 64 << 10,
        isolation: isolated (any Actor)? = #isolation,
        emit: ([UInt8]) async throws -> Void
    ) async throws {
        var chunker = LogChunker(formatter: LogFormatter(tty: tty, options: options), chunkBytes: chunkBytes,
                                 joinsFrames: options.joinsFrames)
        try await readBatches(options: options, end: end, stop: stop) { batch in
            try await chunker.add(batch, emit: emit)
        }
    }
}
