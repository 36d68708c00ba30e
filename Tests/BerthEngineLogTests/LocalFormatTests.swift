import BerthEngine
import BerthOCI
import BerthShimCore
import Testing

/// The `local` driver's files: berth-shim's framed records (LocalLogRecord) as the daemon's
/// reader gives them back, and the layout dockerd's own reader expects.
struct LocalFormatTests {
    static let base: Int64 = 1_764_414_000

    static func frame(_ number: Int, stderr: Bool = false, piece: JournalDatagram.Partial? = nil, text: String? = nil) -> [UInt8] {
        LocalLogRecord.encode(line: Array((text ?? "line \(number)\n").utf8), stderr: stderr,
                              timeNanoseconds: (base + Int64(number)) * 1_000_000_000 + Int64(number), piece: piece)
    }

    @Test func aRecordIsAMessageBetweenTwoLengths() {
        let bytes = Self.frame(7)
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        #expect(bytes.count == length + 8)
        #expect(Array(bytes.suffix(4)) == Array(bytes.prefix(4)))
        // source = "stdout" first; the line is kept without its newline.
        #expect(Array(bytes[4 ..< 12]) == [0x0A, 6] + Array("stdout".utf8))
        #expect(Array(bytes[(bytes.count - 4 - 8) ..< (bytes.count - 4)]) == [0x1A, 6] + Array("line 7".utf8))
    }

    @Test func theReaderGivesBackStreamsTimesAndNewlines() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/container.log"
        let writer = TestLogWriter(path: path)
        writer.write(Self.frame(1))
        writer.write(Self.frame(2, stderr: true))
        // A line cut into two pieces, and a stream's unfinished end (a piece, not the last).
        writer.write(Self.frame(3, piece: .init(id: "p1", ordinal: 1, last: false), text: "long "))
        writer.write(Self.frame(4, piece: .init(id: "p1", ordinal: 2, last: true), text: "line\n"))
        writer.write(Self.frame(5, piece: .init(id: "p2", ordinal: 1, last: false), text: "no end"))
        let records = try JSONFileLog(path: path).readAll()
        #expect(records.map(\.text) == ["line 1\n", "line 2\n", "long ", "line\n", "no end"])
        #expect(records.map(\.stream) == [.stdout, .stderr, .stdout, .stdout, .stdout])
        #expect(records[1].timestamp == LogTimestamp(seconds: Self.base + 2, nanoseconds: 2))
        let stderrOnly = try JSONFileLog(path: path).readAll(options: LogReadOptions(stdout: false))
        #expect(stderrOnly.map(\.text) == ["line 2\n"])
    }

    @Test func aTailCountsRecordsBackAcrossFilesAndSkipsOneHalfWritten() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/container.log"
        let writer = TestLogWriter(path: path)
        for number in 0 ..< 50 { writer.write(Self.frame(number)) }
        writer.rotate()
        for number in 50 ..< 53 { writer.write(Self.frame(number)) }
        let log = JSONFileLog(path: path)
        #expect(numbers(try log.readAll(options: LogReadOptions(tail: 5))) == Array(48 ..< 53))
        #expect(numbers(try log.readAll()) == Array(0 ..< 53))
        // A record being written: the lengths around the end disagree, so the records are
        // counted from the start; the unfinished one is no record.
        writer.write(Array(Self.frame(53).prefix(10)))
        #expect(numbers(try log.readAll(options: LogReadOptions(tail: 2))) == [51, 52])
        #expect(numbers(try log.readAll()) == Array(0 ..< 53))
    }

    @Test func aFollowerReadsRecordsAsTheyComeAndAFileOfJSONLinesStillReads() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/container.log"
        let writer = TestLogWriter(path: path)
        writer.write(Self.frame(0))
        let done = Signal()
        let writing = Task.detached {
            let writer = TestLogWriter(path: path)
            for number in 1 ..< 200 {
                let bytes = Self.frame(number)
                // Each record in two writes: the reader must wait for the rest.
                writer.write(Array(bytes.prefix(5)))
                writer.write(Array(bytes.dropFirst(5)))
                if number % 50 == 0 { try? await Task.sleep(for: .milliseconds(20)) }
            }
            await done.fire()
        }
        var seen: [Int] = []
        try await JSONFileLog(path: path).read(options: LogReadOptions(follow: true), stop: { await done.wait() }) {
            seen += numbers([$0])
        }
        await writing.value
        #expect(seen == Array(0 ..< 200))

        // A file a json-file writer made is told apart by its first byte.
        let jsonPath = dir.path + "/old.log"
        TestLogWriter(path: jsonPath).append(record(9))
        #expect(numbers(try JSONFileLog(path: jsonPath).readAll()) == [9])
    }
}
