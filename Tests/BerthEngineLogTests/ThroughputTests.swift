import BerthEngine
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ThroughputTests {
    /// Writes 2,000,000 json-file lines (as `seq 1 2000000` in a container would leave them,
    /// over 3 files) and times reading them back as `docker logs` does. Printed, not asserted:
    /// run in a release build for the real figure.
    @Test func twoMillionLines() async throws {
        let total = Int(getenv("BERTH_LOG_BENCH_LINES").map { String(cString: $0) } ?? "") ?? 2_000_000
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "bench")
        let writer = TestLogWriter(path: log.path)
        let prefix = Array(#"{"log":""#.utf8)
        let middle = Array(#"\n","stream":"stdout","time":"2026-11-29T11:"#.utf8)
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 20)
        var digits = [UInt8](repeating: 0, count: 20)
        func appendNumber(_ value: Int, width: Int = 0) {
            var value = value
            var count = 0
            repeat {
                digits[count] = UInt8(0x30 + value % 10)
                value /= 10
                count += 1
            } while value > 0 || count < width
            for index in stride(from: count - 1, through: 0, by: -1) { chunk.append(digits[index]) }
        }
        for number in 1 ... total {
            if number == total / 3 || number == 2 * total / 3 {
                writer.write(chunk)
                chunk.removeAll(keepingCapacity: true)
                writer.rotate()
            }
            chunk.append(contentsOf: prefix)
            appendNumber(number)
            chunk.append(contentsOf: middle)
            appendNumber(number / 1_000_000 % 60, width: 2)
            chunk.append(UInt8(ascii: ":"))
            appendNumber(number / 10000 % 60, width: 2)
            chunk.append(UInt8(ascii: "."))
            appendNumber(number * 1000 % 1_000_000_000, width: 9)
            chunk.append(contentsOf: "Z\"}\n".utf8)
            if chunk.count >= 1 << 20 {
                writer.write(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        writer.write(chunk)

        var clock = ContinuousClock().now
        var count = 0
        var bytes = 0
        var lastLine: [UInt8] = []
        try await log.read(options: LogReadOptions()) { record in
            count += 1
            bytes += record.line.count
            lastLine = record.line
        }
        let readTime = ContinuousClock().now - clock
        #expect(count == total)
        #expect(lastLine == Array("\(total)\n".utf8))

        clock = ContinuousClock().now
        var body = 0
        var joined = LogReadOptions()
        joined.joinsFrames = true
        try await log.readFormatted(options: joined, tty: false) { body += $0.count }
        let formatTime = ContinuousClock().now - clock
        // Every byte of every line, and one 8-byte header per frame (frames join lines of a stream).
        #expect(body > bytes && body < bytes + 8 * total)
        #expect((body - bytes) % 8 == 0)
        // As dockerd frames them: one frame per line.
        var framed = 0
        try await log.readFormatted(options: LogReadOptions(), tty: false) { framed += $0.count }
        #expect(framed == bytes + 8 * total)

        clock = ContinuousClock().now
        let tail = try log.readAll(options: LogReadOptions(tail: 10))
        let tailTime = ContinuousClock().now - clock
        #expect(tail.count == 10)
        print("log read-back of \(total) lines (\(bytes) bytes of output): records \(readTime), stdcopy body \(formatTime), tail 10 \(tailTime)")
    }
}
