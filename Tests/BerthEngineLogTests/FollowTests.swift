import BerthOCI
import BerthEngine
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Signals once; waiters resume at once when it was signalled before.
actor Signal {
    private var signalled = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func fire() {
        signalled = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func wait() async {
        if signalled { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

@Suite(.serialized) struct FollowTests {
    /// A writer appends `count` lines with pauses, rotating every `rotateEvery`; the reader
    /// follows from the start and stops when the writer says it is done (the container exited).
    func followWhileWriting(count: Int, rotateEvery: Int, pauseEvery: Int, maxFiles: Int = 5,
                            options: LogReadOptions = LogReadOptions(follow: true)) async throws -> [Int] {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let path = log.path
        // The first lines exist before the reader starts.
        let writer = TestLogWriter(path: path, maxFiles: maxFiles)
        for number in 0 ..< 10 { writer.append(record(number)) }
        let done = Signal()
        let writing = Task.detached {
            let writer = TestLogWriter(path: path, maxFiles: maxFiles)
            for number in 10 ..< count {
                if number % rotateEvery == 0 { writer.rotate() }
                writer.append(record(number))
                if number % pauseEvery == 0 { try? await Task.sleep(for: .milliseconds(15)) }
            }
            // Half of a last line, completed just before exit.
            let last = record(count).jsonFileLine
            writer.write(Array(last.prefix(20)))
            try? await Task.sleep(for: .milliseconds(120))
            writer.write(Array(last.dropFirst(20).dropLast()))  // no newline at all
            await done.fire()
        }
        var seen: [Int] = []
        try await log.read(options: options, stop: { await done.wait() }) { record in
            seen += numbers([record])
        }
        _ = await writing.value
        return seen
    }

    @Test func followAcrossRotations() async throws {
        let seen = try await followWhileWriting(count: 3000, rotateEvery: 700, pauseEvery: 100)
        #expect(seen == Array(0 ... 3000))
    }

    @Test func followAcrossSeveralRotationsBetweenPolls() async throws {
        // Rotations every 40 lines with pauses every 150: several rotations between two polls.
        let seen = try await followWhileWriting(count: 2000, rotateEvery: 40, pauseEvery: 150, maxFiles: 100)
        #expect(seen == Array(0 ... 2000))
    }

    @Test func followWithTail() async throws {
        let seen = try await followWhileWriting(count: 500, rotateEvery: 200, pauseEvery: 50,
                                                options: LogReadOptions(tail: 3, follow: true))
        #expect(seen == Array(7 ... 500))
    }

    @Test func followEndsAtUntil() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        for number in 0 ..< 5 { writer.append(record(number)) }
        let path = log.path
        let writing = Task.detached {
            let writer = TestLogWriter(path: path)
            try? await Task.sleep(for: .milliseconds(100))
            for number in 5 ..< 20 { writer.append(record(number)) }
        }
        var seen: [Int] = []
        let until = LogTimestamp(seconds: 1_764_414_000 + 12)
        try await log.read(options: LogReadOptions(until: until, follow: true)) { seen += numbers([$0]) }
        await writing.value
        #expect(seen == Array(0 ... 11))
    }

    @Test func followWaitsForTheFileAndHandlesTruncation() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let path = log.path
        let done = Signal()
        let readFive = Signal()
        let writing = Task.detached {
            try? await Task.sleep(for: .milliseconds(100))
            let writer = TestLogWriter(path: path, maxFiles: 1)
            for number in 0 ..< 5 { writer.append(record(number)) }
            await readFive.wait()
            writer.rotate()  // max-file 1: truncated in place
            for number in 5 ..< 8 { writer.append(record(number)) }
            try? await Task.sleep(for: .milliseconds(200))
            await done.fire()
        }
        var seen: [Int] = []
        try await log.read(options: LogReadOptions(follow: true), stop: { await done.wait() }) { item in
            seen += numbers([item])
            if seen.count == 5 { await readFive.fire() }
        }
        await writing.value
        #expect(seen == Array(0 ..< 8))
    }

    @Test func cancellingTheReaderEndsTheFollow() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        writer.append(record(1))
        let reading = Task {
            var count = 0
            try await log.read(options: LogReadOptions(follow: true)) { _ in count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(150))
        reading.cancel()
        await #expect(throws: CancellationError.self) { try await reading.value }
    }

    /// A follower whose polls are a minute apart: only the directory's watch (a line written)
    /// and the stop can wake it, so each test fails by its time limit without them.
    func sleepyLog(_ dir: TempDir) -> JSONFileLog {
        var log = JSONFileLog(directory: dir.path, containerID: "abc")
        log.pollInterval = .seconds(60)
        log.watchedPollInterval = .seconds(60)
        return log
    }

    @Test func aLineWrittenWakesTheFollowerAtOnce() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = sleepyLog(dir)
        let writer = TestLogWriter(path: log.path)
        writer.append(record(0))
        let firstRead = Signal()
        let secondRead = Signal()
        let reading = Task {
            try await log.read(options: LogReadOptions(follow: true)) { item in
                if numbers([item]) == [0] { await firstRead.fire() }
                if numbers([item]) == [1] { await secondRead.fire() }
            }
        }
        defer { reading.cancel() }
        await firstRead.wait()
        try await Task.sleep(for: .milliseconds(50))  // the follower waits now
        let written = ContinuousClock.now
        writer.append(record(1))
        let timeLimit = Task {
            try? await Task.sleep(for: .seconds(10))
            await secondRead.fire()
        }
        await secondRead.wait()
        timeLimit.cancel()
        #expect(ContinuousClock.now - written < .seconds(1))
    }

    @Test func theStopEndsAWaitingFollowerAtOnce() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = sleepyLog(dir)
        TestLogWriter(path: log.path).append(record(0))
        let stopped = Signal()
        let reading = Task {
            var seen: [Int] = []
            try await log.read(options: LogReadOptions(follow: true), stop: { await stopped.wait() }) { seen += numbers([$0]) }
            return seen
        }
        try await Task.sleep(for: .milliseconds(100))
        let stop = ContinuousClock.now
        await stopped.fire()
        let seen = try await reading.value
        #expect(seen == [0])
        #expect(ContinuousClock.now - stop < .seconds(1))
    }

    @Test func slowConsumerSlowsTheReader() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        for number in 0 ..< 20000 { writer.append(record(number)) }
        var batches = 0
        var largest = 0
        var log2 = log
        log2.batchBytes = 64 << 10
        try await log2.readBatches(options: LogReadOptions()) { batch in
            batches += 1
            largest = max(largest, batch.count)
            try await Task.sleep(for: .milliseconds(1))
        }
        // ~1.5 MB of log in batches of 64 KiB: the reader never ran ahead with all of it.
        #expect(batches > 10)
        #expect(largest < 2000)
    }
}
