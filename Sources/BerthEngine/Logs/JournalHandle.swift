import BerthOCI
import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// One open sd-journal reader (libsystemd): the local journal, or the journal files of one
/// directory. Every call may block on file I/O, and libsystemd requires a handle to be used
/// only from the thread that opened it for its whole life: a handle lives on a
/// `JournalThread` and never leaves it.
final class JournalHandle {
    private let journal: OpaquePointer

    /// Opens the local journal (this machine's system and user journals), or with
    /// `directory` the journal files found in it and in its machine-id subdirectories.
    init(directory: String? = nil) throws(BerthError) {
        guard berth_sd_load() == 0 else {
            throw BerthError.internalError("journald: cannot read the journal: libsystemd.so.0 is not installed")
        }
        var opened: OpaquePointer?
        let result: Int32
        if let directory {
            result = berth_sd_journal_open_directory(&opened, directory, 0)
        } else {
            result = berth_sd_journal_open(&opened, Int32(SD_JOURNAL_LOCAL_ONLY))
        }
        guard result >= 0, let opened else { throw Self.error("open the journal", result) }
        journal = opened
        // Field values are read whole (the default cuts them at 64 KiB).
        _ = berth_sd_journal_set_data_threshold(journal, 0)
    }

    deinit {
        berth_sd_journal_close(journal)
    }

    static func error(_ what: String, _ result: Int32) -> BerthError {
        BerthError.internalError("journald: \(what): \(String(cString: strerror(-result)))")
    }

    /// Only entries with `field=value` are visited.
    func addMatch(field: String, value: String) throws(BerthError) {
        let match = Array((field + "=" + value).utf8)
        let result = match.withUnsafeBytes { berth_sd_journal_add_match(journal, $0.baseAddress, $0.count) }
        guard result >= 0 else { throw Self.error("add a match", result) }
    }

    func seekHead() throws(BerthError) {
        let result = berth_sd_journal_seek_head(journal)
        guard result >= 0 else { throw Self.error("seek to the head", result) }
    }

    func seekTail() throws(BerthError) {
        let result = berth_sd_journal_seek_tail(journal)
        guard result >= 0 else { throw Self.error("seek to the tail", result) }
    }

    /// Moves to the conceptual position of this time (microseconds since the epoch); the next
    /// `next()` lands on the first entry at or after it, `previous()` on the last before it.
    func seekRealtime(microseconds: UInt64) throws(BerthError) {
        let result = berth_sd_journal_seek_realtime_usec(journal, microseconds)
        guard result >= 0 else { throw Self.error("seek to a time", result) }
    }

    /// Advances to the next entry; false at the end.
    func next() throws(BerthError) -> Bool {
        let result = berth_sd_journal_next(journal)
        guard result >= 0 else { throw Self.error("read the next entry", result) }
        return result > 0
    }

    /// Steps back one entry; false at the start.
    func previous() throws(BerthError) -> Bool {
        let result = berth_sd_journal_previous(journal)
        guard result >= 0 else { throw Self.error("read the previous entry", result) }
        return result > 0
    }

    /// Steps back up to `count` entries; returns how many it went.
    func previous(skipping count: Int) throws(BerthError) -> Int {
        let result = berth_sd_journal_previous_skip(journal, UInt64(count))
        guard result >= 0 else { throw Self.error("skip back", result) }
        return Int(result)
    }

    /// When journald received the current entry, in microseconds since the epoch.
    func realtime() throws(BerthError) -> UInt64 {
        var microseconds: UInt64 = 0
        let result = berth_sd_journal_get_realtime_usec(journal, &microseconds)
        guard result >= 0 else { throw Self.error("read an entry's time", result) }
        return microseconds
    }

    /// Hands each `NAME=value` field of the current entry to `body`. Fields libsystemd cannot
    /// read (compressed with an algorithm it lacks) are skipped.
    func forEachField(_ body: (UnsafeRawBufferPointer) -> Void) {
        berth_sd_journal_restart_data(journal)
        var data: UnsafeRawPointer?
        var length = 0
        while berth_sd_journal_enumerate_available_data(journal, &data, &length) > 0 {
            if let data { body(UnsafeRawBufferPointer(start: data, count: length)) }
        }
    }

    /// The descriptor to poll for changes (inotify on the journal directories, set up by the
    /// first call: call it before positioning, so no change after that is missed).
    func fileDescriptor() throws(BerthError) -> Int32 {
        let fd = berth_sd_journal_get_fd(journal)
        guard fd >= 0 else { throw Self.error("watch the journal", fd) }
        return fd
    }

    /// The poll events to wait for on `fileDescriptor()`.
    func events() -> Int16 {
        let events = berth_sd_journal_get_events(journal)
        return events > 0 ? Int16(truncatingIfNeeded: events) : Int16(POLLIN)
    }

    /// How long libsystemd may wait at most before it must look at the files again (it polls
    /// where inotify is not available); nil when it need not.
    func timeoutMilliseconds() -> Int? {
        var deadline: UInt64 = 0
        guard berth_sd_journal_get_timeout(journal, &deadline) >= 0, deadline != UInt64.max else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nowMicroseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        return deadline <= nowMicroseconds ? 0 : Int((deadline - nowMicroseconds + 999) / 1000)
    }

    /// Takes in what the watch saw (new entries, new or removed files).
    func process() throws(BerthError) {
        let result = berth_sd_journal_process(journal)
        guard result >= 0 else { throw Self.error("follow the journal", result) }
    }
}
