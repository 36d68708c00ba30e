import BerthOCI
#if canImport(Glibc)
import Glibc
#endif

/// The synchronous part of a journald read, on its `JournalThread`: the handle matched to
/// one container's entries, the read position, the filters, and which entries of each
/// writer it has seen.
///
/// Positioning follows dockerd's journald reader: `tail` counts entries back from the end
/// (or from `until`) before the other filters, `since` seeks by time, and a tail that went
/// back past `since` starts at `since` instead.
final class JournalCursor {
    let handle: JournalHandle
    let options: LogReadOptions
    /// The journal's change descriptor, when the read follows or may wait for late entries.
    private let watchFD: Int32?
    private let wakeFD: Int32
    /// The read pointer is on an entry not handed out yet (a tail start).
    private var pending = false
    private var finished = false
    /// The highest `CONTAINER_LOG_ORDINAL` seen of each writer (`CONTAINER_LOG_EPOCH`).
    private var ordinals: [String: UInt64] = [:]

    enum Step: Sendable { case progress, caughtUp, finished }

    init(containerID: String, directory: String?, options: LogReadOptions, watch: Bool, wakeFD: Int32) throws(BerthError) {
        handle = try JournalHandle(directory: directory)
        self.options = options
        self.wakeFD = wakeFD
        // Watched before positioning, so that nothing written after it is missed.
        watchFD = watch ? try handle.fileDescriptor() : nil
        try handle.addMatch(field: "CONTAINER_ID_FULL", value: containerID)
        // What the journal holds already is seen: its newest entry tells how far its writer got.
        try handle.seekTail()
        if try handle.previous() { note(try entry()) }
        try position()
    }

    private func position() throws(BerthError) {
        guard let tail = options.tail else {
            if let since = options.since {
                try handle.seekRealtime(microseconds: since.microsecondsRoundedDown)
            } else {
                try handle.seekHead()
            }
            return
        }
        if let until = options.until {
            try handle.seekRealtime(microseconds: until.microsecondsRoundedDown + 1)
        } else {
            try handle.seekTail()
        }
        if tail == 0 {
            // On the last entry to leave out (or, in an empty journal, before what comes).
            if try !handle.previous() { try handle.seekHead() }
            return
        }
        guard try handle.previous(skipping: tail) > 0 else {
            try handle.seekHead()
            return
        }
        pending = true
        if let since = options.since, LogTimestamp(microseconds: try handle.realtime()) < since {
            try handle.seekRealtime(microseconds: since.microsecondsRoundedDown)
            pending = false
        }
    }

    private func entry() throws(BerthError) -> JournalEntry {
        var entry = JournalEntry()
        handle.forEachField { entry.take($0) }
        return entry
    }

    private func note(_ entry: JournalEntry) {
        guard let epoch = entry.epoch, let ordinal = entry.ordinal else { return }
        if ordinal > ordinals[epoch, default: 0] { ordinals[epoch] = ordinal }
    }

    /// Whether the entry `end` names (a writer's last) has been read, or was in the journal
    /// when the read began.
    func hasSeen(_ end: JournalLogEnd) -> Bool {
        ordinals[end.epoch, default: 0] >= end.ordinal
    }

    /// Reads on for up to `maxRecords` records or about `maxBytes` bytes of them.
    func step(maxRecords: Int = 4096, maxBytes: Int = 256 << 10) throws(BerthError) -> ([LogRecord], Step) {
        if finished { return ([], .finished) }
        // Lets go of deleted journal files and takes in new ones.
        if watchFD != nil { try handle.process() }
        var records: [LogRecord] = []
        var bytes = 0
        var visited = 0
        while records.count < maxRecords && bytes < maxBytes && visited < 4 * maxRecords {
            if pending {
                pending = false
            } else if try !handle.next() {
                return (records, .caughtUp)
            }
            visited += 1
            let timestamp = LogTimestamp(microseconds: try handle.realtime())
            if let until = options.until, timestamp > until {
                finished = true
                return (records, .finished)
            }
            let entry = try entry()
            note(entry)
            if let since = options.since, timestamp < since { continue }
            guard let record = entry.record(at: timestamp), options.wants(record.stream) else { continue }
            bytes += record.line.count
            records.append(record)
        }
        return (records, .progress)
    }

    /// Sleeps until the journal changes, the thread is woken, or `milliseconds` pass. (Only
    /// reads that watch wait: followers, and reads that wait for a stopped writer's end.)
    func wait(milliseconds: Int) throws(BerthError) {
        guard let watchFD else { return }
        var timeout = milliseconds
        if let needed = handle.timeoutMilliseconds() { timeout = min(timeout, needed) }
        var fds = [pollfd(fd: watchFD, events: handle.events(), revents: 0),
                   pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        if poll(&fds, 2, Int32(clamping: max(0, timeout))) > 0, fds[1].revents & Int16(POLLIN) != 0 {
            var bytes = [UInt8](repeating: 0, count: 64)
            while read(wakeFD, &bytes, bytes.count) > 0 {}
        }
        try handle.process()
    }
}

/// Where a journald writer (one run of a container) ended: its epoch and the ordinal of its
/// last entry. journald takes entries in asynchronously, so a reader that starts or goes on
/// after the container stopped reads until it has seen that entry, or until the drain time
/// after the stop has passed (an entry journald dropped never comes).
public struct JournalLogEnd: Sendable, Equatable {
    public var epoch: String
    /// 0 when the writer sent nothing.
    public var ordinal: UInt64
    /// When readers stop waiting for the last entry.
    public var deadline: ContinuousClock.Instant

    /// How long after the stop journald is given, as dockerd gives it.
    public static let drainTime: Duration = .seconds(5)

    public init(epoch: String, ordinal: UInt64, stoppedAt: ContinuousClock.Instant = .now,
                drainTime: Duration = JournalLogEnd.drainTime) {
        self.epoch = epoch
        self.ordinal = ordinal
        deadline = stoppedAt + drainTime
    }
}

extension LogTimestamp {
    /// From journald's microseconds since the epoch.
    init(microseconds: UInt64) {
        self.init(seconds: Int64(microseconds / 1_000_000), nanoseconds: Int32(microseconds % 1_000_000) * 1000)
    }

    /// The journal's time unit, rounded down (0 for times before the epoch).
    var microsecondsRoundedDown: UInt64 {
        seconds < 0 ? 0 : UInt64(seconds) * 1_000_000 + UInt64(nanoseconds / 1000)
    }
}
