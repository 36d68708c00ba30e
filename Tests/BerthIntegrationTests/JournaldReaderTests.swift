import BerthOCI
import BerthEngine
import BerthShimCore
import Foundation
import Glibc
import Synchronization
import Testing

/// The engine's journald reader against a real journal: a private journald gets entries in
/// berth-shim's format (JournalDatagram), and `JournaldLog` reads its journal files from
/// outside its namespace (under /proc/PID/root).
@Suite(.enabled(if: Harness.isRoot, "journald runs as root"), .serialized)
struct JournaldReaderTests {
    /// Sends entries for one container as one run of berth-shim does.
    final class Writer {
        let socketPath: String
        let epoch: String
        let fields: [UInt8]
        private(set) var ordinal: UInt64 = 0
        private let fd: Int32

        init(_ journald: PrivateJournald, id: String) {
            socketPath = "/proc/\(journald.pid)/root/run/systemd/journal/socket"
            epoch = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
            fields = JournalDatagram.containerFields(id: id, name: "reader-test", epoch: epoch)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }

        deinit { close(fd) }

        func send(_ text: String, stderr: Bool = false, partial: JournalDatagram.Partial? = nil) {
            ordinal += 1
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let datagram = Array(text.utf8).withUnsafeBufferPointer {
                JournalDatagram.entry(line: $0, stderr: stderr, partial: partial, seconds: Int64(now.tv_sec),
                                      nanoseconds: Int64(now.tv_nsec), ordinal: ordinal, containerFields: fields)
            }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
            let sent = datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
            precondition(sent == datagram.count, "sendto \(socketPath): \(String(cString: strerror(errno)))")
        }

        /// Where this writer is now, as the end of its run; readers wait for it up to `drainTime`.
        func end(drainTime: Duration = JournaldReaderTests.drainTime) -> JournalLogEnd {
            JournalLogEnd(epoch: epoch, ordinal: ordinal, drainTime: drainTime)
        }
    }

    /// Other suites run beside these, some with long synchronous work on the cooperative pool
    /// (the 2M-line throughput test): waits are long, and a reader that waits out the drain
    /// time is told apart from one that saw the end by giving it far more than the bounds.
    /// (A full run beside two builds once took 21 s to let the follower see its last entry.)
    static let patience: Duration = .seconds(30)
    static let drainTime: Duration = .seconds(120)
    static let bound: Duration = .seconds(50)

    static func newID() -> String {
        (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
    }

    static func log(_ journald: PrivateJournald, _ id: String) -> JournaldLog {
        JournaldLog(containerID: id, directory: "/proc/\(journald.pid)/root/run/log/journal")
    }

    static func read(_ log: JournaldLog, _ options: LogReadOptions = LogReadOptions(),
                     end: JournalLogEnd? = nil) async throws -> [LogRecord] {
        var records: [LogRecord] = []
        try await log.read(options: options, end: end) { records.append($0) }
        return records
    }

    /// Reads until `count` records are there: journald takes datagrams in asynchronously.
    static func settled(_ log: JournaldLog, count: Int) async throws -> [LogRecord] {
        let deadline = ContinuousClock.now + patience
        var records: [LogRecord] = []
        while ContinuousClock.now < deadline {
            // Until journald has written its first file, the journal cannot be opened (ENOENT).
            if let read = try? await read(log) {
                records = read
                if records.count >= count { return records }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await read(log)
    }

    @Test func theShimsEntriesReadBackWithStreamsPiecesAndFilters() async throws {
        let journald = try PrivateJournald()
        let id = Self.newID()
        let writer = Writer(journald, id: id)
        let other = Writer(journald, id: Self.newID())
        // The entries are stamped between here and the read, however long a loaded machine
        // makes that (a fixed window of 60 s failed once in CI).
        let before = LogTimestamp.now()
        writer.send("one\n")
        other.send("not ours\n")
        writer.send("two\n", stderr: true)
        usleep(20_000)
        writer.send("abc", partial: JournalDatagram.Partial(id: "p1", ordinal: 1, last: false))
        writer.send("def\n", partial: JournalDatagram.Partial(id: "p1", ordinal: 2, last: true))
        writer.send("tail", partial: JournalDatagram.Partial(id: "p2", ordinal: 1, last: false))
        let log = Self.log(journald, id)
        let all = try await Self.settled(log, count: 5)
        #expect(all.map(\.text) == ["one\n", "two\n", "abc", "def\n", "tail"], "\(all) \(journald.log())")
        #expect(all.map(\.stream) == [.stdout, .stderr, .stdout, .stdout, .stdout])
        // What follows indexes the five: a short read ends the test here, not the whole run.
        try #require(all.count == 5)
        let now = LogTimestamp.now()
        #expect(all.allSatisfy { $0.timestamp.seconds >= before.seconds - 1 && $0.timestamp <= now && $0.timestamp.nanoseconds % 1000 == 0 },
                "\(all.map(\.timestamp)) between \(before) and \(now)")
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp })

        #expect(try await Self.read(log, LogReadOptions(stderr: false)).map(\.text) == ["one\n", "abc", "def\n", "tail"])
        #expect(try await Self.read(log, LogReadOptions(stdout: false)).map(\.text) == ["two\n"])
        // The tail counts entries of both streams before the stream filter, as dockerd's.
        #expect(try await Self.read(log, LogReadOptions(tail: 2)).map(\.text) == ["def\n", "tail"])
        #expect(try await Self.read(log, LogReadOptions(stdout: false, tail: 3)).isEmpty)
        #expect(try await Self.read(log, LogReadOptions(tail: 0)).isEmpty)
        #expect(try await Self.read(log, LogReadOptions(tail: 50)).count == 5)
        // since / until go by the entries' times; until ends the read, since skips.
        let since = try await Self.read(log, LogReadOptions(since: all[2].timestamp))
        #expect(since.map(\.text) == ["abc", "def\n", "tail"])
        let until = try await Self.read(log, LogReadOptions(until: all[1].timestamp))
        #expect(until.map(\.text) == ["one\n", "two\n"])
        let window = try await Self.read(log, LogReadOptions(tail: 1, since: all[1].timestamp, until: all[2].timestamp))
        #expect(window.map(\.text) == ["abc"])
        #expect(try await Self.read(Self.log(journald, Self.newID())).isEmpty)
    }

    @Test func aFollowerEndsOnceTheWritersLastEntryIsIn() async throws {
        let journald = try PrivateJournald()
        let id = Self.newID()
        let writer = Writer(journald, id: id)
        for number in 1...3 { writer.send("line \(number)\n") }
        let log = Self.log(journald, id)
        _ = try await Self.settled(log, count: 3)

        let stopped = AsyncStream<JournalLogEnd>.makeStream()
        let seen = Mutex<[String]>([])
        let follower = Task {
            try await log.read(options: LogReadOptions(follow: true), stop: {
                for await end in stopped.stream { return end }
                return nil
            }) { record in seen.withLock { $0.append(record.text) } }
        }
        // New entries reach the follower while it waits.
        writer.send("line 4\n")
        let began = ContinuousClock.now
        while seen.withLock({ $0.count }) < 4 && ContinuousClock.now - began < Self.patience {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(seen.withLock { $0 } == ["line 1\n", "line 2\n", "line 3\n", "line 4\n"])
        // The container stops with its last two entries still on their way to the journal.
        let stop = ContinuousClock.now
        stopped.continuation.yield(JournalLogEnd(epoch: writer.epoch, ordinal: writer.ordinal + 2, drainTime: Self.drainTime))
        try await Task.sleep(for: .milliseconds(300))
        writer.send("line 5\n")
        writer.send("line 6\n")
        try await follower.value
        #expect(seen.withLock { $0 }.count == 6, "\(seen.withLock { $0 })")
        #expect(ContinuousClock.now - stop < Self.bound, "it waited out the drain time instead of seeing the last entry")

        // Read after the stop: the end was in the journal before the read began.
        let after = ContinuousClock.now
        let again = try await Self.read(log, LogReadOptions(follow: true), end: writer.end())
        #expect(again.count == 6)
        #expect(ContinuousClock.now - after < Self.bound)
    }

    @Test func aReadAfterTheStopWaitsForLateEntriesButNotPastTheDrainTime() async throws {
        let journald = try PrivateJournald()
        let id = Self.newID()
        let writer = Writer(journald, id: id)
        writer.send("early\n")
        let log = Self.log(journald, id)
        _ = try await Self.settled(log, count: 1)

        // The last entry is sent after the read began: it is waited for.
        let end = JournalLogEnd(epoch: writer.epoch, ordinal: 2, drainTime: Self.drainTime)
        let late = Task {
            try await Task.sleep(for: .milliseconds(300))
            writer.send("late\n")
        }
        let records = try await Self.read(log, end: end)
        try await late.value
        #expect(records.map(\.text) == ["early\n", "late\n"])

        // An entry that never comes (dropped by journald): the read gives up at the drain time,
        // and once that has passed, a read ends at the journal's end.
        let began = ContinuousClock.now
        let lost = JournalLogEnd(epoch: writer.epoch, ordinal: 3, drainTime: .seconds(1))
        #expect(try await Self.read(log, end: lost).count == 2)
        let waited = ContinuousClock.now - began
        #expect(waited > .milliseconds(900) && waited < Self.bound, "\(waited)")
        #expect(try await Self.read(log, end: lost).count == 2)
        // A writer that sent nothing has nothing to wait for.
        #expect(try await Self.read(log, end: JournalLogEnd(epoch: "none", ordinal: 0)).count == 2)
    }

    @Test func aCancelledFollowerEndsAndLetsGoOfItsThread() async throws {
        let journald = try PrivateJournald()
        let id = Self.newID()
        let writer = Writer(journald, id: id)
        writer.send("only\n")
        let log = Self.log(journald, id)
        _ = try await Self.settled(log, count: 1)
        // The reader's threads, by the name it gives them (only this suite reads journals in
        // this process); the reads above end theirs just after they return.
        func threads() -> Int {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.filter {
                (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) == "journal-reader\n"
            }.count
        }
        func settledThreads() async throws -> Int {
            for _ in 0..<2000 where threads() > 0 { try await Task.sleep(for: .milliseconds(10)) }
            return threads()
        }
        #expect(try await settledThreads() == 0)

        // A wait that the cancellation did not wake would last a minute.
        var patientLog = log
        patientLog.pollInterval = .seconds(60)
        let follower = Task { [patientLog] in
            var count = 0
            try await patientLog.read(options: LogReadOptions(follow: true)) { _ in count += 1 }
            return count
        }
        for _ in 0..<3000 where threads() == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(threads() == 1)
        let cancelled = ContinuousClock.now
        follower.cancel()
        await #expect(throws: CancellationError.self) { _ = try await follower.value }
        #expect(ContinuousClock.now - cancelled < Self.bound)
        let after = try await settledThreads()
        #expect(after == 0, "\(after) reader threads left")
    }
}
