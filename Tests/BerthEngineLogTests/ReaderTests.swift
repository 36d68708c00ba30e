import BerthOCI
import BerthEngine
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ReaderTests {
    /// Lines 0..<30 over `.2` (0..<10), `.1` (10..<20) and the current file (20..<30).
    func rotatedLog(_ dir: TempDir) -> JSONFileLog {
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        for number in 0 ..< 30 {
            if number == 10 || number == 20 { writer.rotate() }
            writer.append(record(number, number % 3 == 0 ? .stderr : .stdout))
        }
        return log
    }

    @Test func readsAllFilesInOrder() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = rotatedLog(dir)
        #expect(log.files() == [log.path + ".2", log.path + ".1", log.path])
        #expect(numbers(try log.readAll()) == Array(0 ..< 30))
        #expect(numbers(try log.readAll(options: LogReadOptions(stderr: false))) == (0 ..< 30).filter { $0 % 3 != 0 })
        #expect(numbers(try log.readAll(options: LogReadOptions(stdout: false))) == (0 ..< 30).filter { $0 % 3 == 0 })
        #expect(try log.readAll().first == record(0, .stderr))
    }

    @Test func tailAcrossRotatedFiles() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = rotatedLog(dir)
        for tail in [0, 1, 5, 10, 11, 15, 20, 21, 29, 30, 31, 1000] {
            #expect(numbers(try log.readAll(options: LogReadOptions(tail: tail))) == Array(max(0, 30 - tail) ..< 30), "tail \(tail)")
        }
        // The tail counts lines of both streams, then the stream filter applies (as dockerd).
        #expect(numbers(try log.readAll(options: LogReadOptions(stdout: false, tail: 4))) == [27])
    }

    @Test func tailWhenTheCurrentFileIsEmptyOrMissing() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        #expect(try log.readAll(options: LogReadOptions(tail: 3)).isEmpty)  // no file at all
        let writer = TestLogWriter(path: log.path)
        for number in 0 ..< 5 { writer.append(record(number)) }
        writer.rotate()
        #expect(numbers(try log.readAll(options: LogReadOptions(tail: 3))) == [2, 3, 4])
        #expect(numbers(try log.readAll()) == [0, 1, 2, 3, 4])
    }

    @Test func corruptAndTruncatedLinesAreSkipped() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        writer.append(record(1))
        writer.write("garbage\n\n{\"log\":\"x\"}\n")
        writer.append(record(2))
        writer.write(String(decoding: record(3).jsonFileLine.prefix(30), as: UTF8.self))  // half-written
        #expect(numbers(try log.readAll()) == [1, 2])
        #expect(numbers(try log.readAll(options: LogReadOptions(tail: 2))) == [2])
        // A complete last record without its newline is read.
        let dir2 = TempDir()
        defer { dir2.remove() }
        let log2 = JSONFileLog(directory: dir2.path, containerID: "abc")
        let writer2 = TestLogWriter(path: log2.path)
        writer2.append(record(1))
        writer2.write(Array(record(2).jsonFileLine.dropLast()))
        #expect(numbers(try log2.readAll()) == [1, 2])
        #expect(numbers(try log2.readAll(options: LogReadOptions(tail: 1))) == [2])
    }

    @Test func partialRecordsKeepTheirBytes() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        let time = LogTimestamp(seconds: 1_795_950_000)
        writer.append(LogRecord(stream: .stdout, timestamp: time, text: "first part, "))
        writer.append(LogRecord(stream: .stdout, timestamp: time, text: "second part\n"))
        let records = try log.readAll()
        #expect(records.map(\.text) == ["first part, ", "second part\n"])
        var body: [UInt8] = []
        for record in records { LogFormatter(tty: true).append(record, to: &body) }
        #expect(String(decoding: body, as: UTF8.self) == "first part, second part\n")
    }

    @Test func longLinesGrowTheBuffer() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        let big = String(repeating: "0123456789\"", count: 100_000) + "\n"  // ~1.3 MB escaped
        writer.append(record(1))
        writer.append(LogRecord(stream: .stdout, timestamp: LogTimestamp(seconds: 5), text: big))
        writer.append(record(2))
        let records = try log.readAll()
        #expect(records.count == 3)
        #expect(records[1].text == big)
    }

    @Test func sinceAndUntil() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = rotatedLog(dir)
        let base: Int64 = 1_764_414_000
        // record(n) is at base + n seconds + n µs
        let since = LogTimestamp(seconds: base + 12, nanoseconds: 12_000)  // exactly record 12: included
        let until = LogTimestamp(seconds: base + 25)  // record 25 is 25 µs later: excluded
        #expect(numbers(try log.readAll(options: LogReadOptions(since: since))) == Array(12 ..< 30))
        #expect(numbers(try log.readAll(options: LogReadOptions(until: until))) == Array(0 ..< 25))
        #expect(numbers(try log.readAll(options: LogReadOptions(since: since, until: until))) == Array(12 ..< 25))
        #expect(numbers(try log.readAll(options: LogReadOptions(tail: 5, since: since))) == Array(25 ..< 30))
        #expect(numbers(try log.readAll(options: LogReadOptions(tail: 20, since: since))) == Array(12 ..< 30))
        let options = try LogReadOptions(query: ["stdout": "1", "stderr": "1", "since": "\(base + 28)", "until": "\(base + 29).000100"])
        #expect(numbers(try log.readAll(options: options)) == [28, 29])
    }

    @Test func formattedBody() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = rotatedLog(dir)
        var body: [UInt8] = []
        var options = LogReadOptions(tail: 2, timestamps: true)
        try await log.readFormatted(options: options, tty: false) { body += $0 }
        let first = "2025-11-29T11:00:28.000028000Z line 28\n"
        let second = "2025-11-29T11:00:29.000029000Z line 29\n"
        // A frame per record, as dockerd sends them.
        #expect(body == [1, 0, 0, 0, 0, 0, 0, UInt8(first.utf8.count)] + Array(first.utf8)
                + [1, 0, 0, 0, 0, 0, 0, UInt8(second.utf8.count)] + Array(second.utf8))
        // Joined: records of one stream in a row share a frame.
        body = []
        options.joinsFrames = true
        try await log.readFormatted(options: options, tty: false) { body += $0 }
        #expect(body == [1, 0, 0, 0, 0, 0, 0, UInt8(first.utf8.count + second.utf8.count)] + Array(first.utf8) + Array(second.utf8))
    }

    @Test func framesSplitWhereTheStreamChanges() {
        let formatter = LogFormatter(tty: false)
        var out: [UInt8] = []
        var frame: Int?
        for (index, stream) in [LogStream.stdout, .stdout, .stderr, .stdout].enumerated() {
            formatter.append(LogRecord(stream: stream, timestamp: LogTimestamp(seconds: 0), text: "\(index)\n"), to: &out, joining: &frame)
        }
        #expect(out == [1, 0, 0, 0, 0, 0, 0, 4] + Array("0\n1\n".utf8) + [2, 0, 0, 0, 0, 0, 0, 2] + Array("2\n".utf8)
            + [1, 0, 0, 0, 0, 0, 0, 2] + Array("3\n".utf8))
    }

    @Test func nonFollowReadStopsAtTheSizeItSaw() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        for number in 0 ..< 10 { writer.append(record(number)) }
        var seen: [Int] = []
        try await log.read(options: LogReadOptions()) { item in
            seen += numbers([item])
            if seen.count == 1 { for number in 10 ..< 20 { writer.append(record(number)) } }
        }
        // Lines appended during the read may or may not be in the first buffer; none past it.
        #expect(seen.count >= 10 && seen == Array(0 ..< seen.count))
        #expect(numbers(try log.readAll()) == Array(0 ..< 20))
    }
}
