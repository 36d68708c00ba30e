import BerthShimCore
import Testing

/// Frames, requests, rotation naming, journald datagrams and the runtime's log.
struct ShimProtocolTests {
    @Test func frameHeaderIsDockersStdcopyHeader() {
        #expect(FrameHeader(kind: .stdout, length: 5).array == [1, 0, 0, 0, 0, 0, 0, 5])
        #expect(FrameHeader(kind: .stderr, length: 0x0102_0304).array == [2, 0, 0, 0, 1, 2, 3, 4])
        #expect(encodeFrame(kind: .execExit, payload: Array("143".utf8)) == [16, 0, 0, 0, 0, 0, 0, 3, 49, 52, 51])
        #expect(FrameKind.execFailed.rawValue == 17)
        #expect(FrameKind.execStarted.rawValue == 18)
        let decoded = FrameHeader.decode([2, 0, 0, 0, 0, 1, 0, 0])
        #expect(decoded?.kind == 2 && decoded?.length == 65536)
        #expect(FrameHeader.decode([1, 0, 0]) == nil)
    }

    @Test func requestsParse() throws {
        #expect(try Request.parse("start").get() == .start)
        #expect(try Request.parse("wait").get() == .wait)
        #expect(try Request.parse("state\r").get() == .state)
        #expect(try Request.parse("attach 1 0 1").get() == .attach(stdin: true, stdout: false, stderr: true))
        #expect(try Request.parse("exec e-1 1 0 312").get() == .exec(id: "e-1", tty: true, stdin: false, planLength: 312))
        #expect(try Request.parse("resize 24 80").get() == .resize(rows: 24, cols: 80))
        #expect(try Request.parse("resize-exec abc 30 120").get() == .resizeExec(id: "abc", rows: 30, cols: 120))
        #expect(try Request.parse("kill 15").get() == .kill(signal: 15))
    }

    @Test func badRequestsAreRefused() {
        #expect(Request.parse("hello") == .failure(.unknown))
        #expect(Request.parse("") == .failure(.unknown))
        #expect(Request.parse("attach 1 1") == .failure(.usage("attach STDIN STDOUT STDERR")))
        #expect(Request.parse("attach 1 2 1") == .failure(.usage("attach STDIN STDOUT STDERR")))
        #expect(Request.parse("kill TERM") == .failure(.usage("kill SIGNUM")))
        #expect(Request.parse("kill 0") == .failure(.usage("kill SIGNUM")))
        #expect(Request.parse("resize 24") == .failure(.usage("resize ROWS COLS")))
        // Exec ids become file names: no path tricks.
        #expect(Request.parse("exec ../x 0 0 10") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(Request.parse("exec a/b 0 0 10") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        // The plan's length: a positive decimal, at most maxPlanLength.
        #expect(Request.parse("exec e 0 0 /p.json") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(Request.parse("exec e 0 0 0") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(Request.parse("exec e 0 0 -5") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(Request.parse("exec e 0 0 \(Request.maxPlanLength + 1)") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(Request.parse("exec e 0 0 10 more") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(RequestError.unknown.message == "unknown request")
    }

    /// Requests are split and matched on their bytes (the shim cannot compare Strings): words
    /// are exact.
    @Test func requestsAreMatchedOnTheirBytes() throws {
        #expect(try Request.parse("exec e.1 0 1  7\r").get() == .exec(id: "e.1", tty: false, stdin: true, planLength: 7))
        #expect(Request.parse("exec e.1 0 1 ٧") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(try Request.parse("  wait  ").get() == .wait)
        #expect(Request.parse("   ") == .failure(.unknown))
        #expect(Request.parse("STATE") == .failure(.unknown))
        #expect(Request.parse("start now") == .failure(.usage("start")))
        #expect(Request.parse("exec . 0 0 7") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(Request.parse("exec .. 0 0 7") == .failure(.usage("exec EXECID TTY STDIN PLANLENGTH")))
        #expect(Request.parse("attach 1 0 ١") == .failure(.usage("attach STDIN STDOUT STDERR")))
    }

    /// The exec helper's report: NUL-terminated records; a record still being written is
    /// not taken.
    @Test func execReportRecords() {
        let records = ExecReport.records(in: Array("pid 4242".utf8) + [0] + Array("error exec: \"x\": permission denied".utf8) + [0] + Array("pid 7".utf8))
        #expect(records.count == 2)
        #expect(ExecReport.pid(in: records[0]) == 4242)
        #expect(ExecReport.error(in: records[0]) == nil)
        #expect(ExecReport.error(in: records[1]) == "exec: \"x\": permission denied")
        #expect(ExecReport.pid(in: records[1]) == nil)
        for bad in ["pid ", "pid -1", "pid 0", "pid 12a", "pid 99999999999", "pid4", "PID 4"] {
            #expect(ExecReport.pid(in: Array(bad.utf8)[...]) == nil, "\(bad)")
        }
        #expect(ExecReport.records(in: []).isEmpty)
    }

    @Test func rotationKeepsAtMostMaxFiles() {
        let three = LogRotation(maxSize: 100, maxFiles: 3)
        let steps = three.steps(path: "/l/c-json.log")
        #expect(steps.removals == ["/l/c-json.log.2"])
        #expect(steps.renames.map(\.from) == ["/l/c-json.log.1", "/l/c-json.log"])
        #expect(steps.renames.map(\.to) == ["/l/c-json.log.2", "/l/c-json.log.1"])

        let two = LogRotation(maxSize: 100, maxFiles: 2).steps(path: "f")
        #expect(two.removals == ["f.1"])
        #expect(two.renames.map(\.from) == ["f"])

        let one = LogRotation(maxSize: 100, maxFiles: 1).steps(path: "f")
        #expect(one.removals.isEmpty && one.renames.isEmpty)  // truncate in place
    }

    @Test func compressedRotationMovesGzippedAndPendingFiles() {
        let three = LogRotation(maxSize: 100, maxFiles: 3, compress: true)
        let steps = three.steps(path: "f")
        // The oldest goes whether it is compressed yet or not.
        #expect(steps.removals == ["f.2.gz", "f.2"])
        #expect(steps.renames.map(\.from) == ["f.1.gz", "f.1", "f"])
        #expect(steps.renames.map(\.to) == ["f.2.gz", "f.2", "f.1"])

        let two = LogRotation(maxSize: 100, maxFiles: 2, compress: true).steps(path: "f")
        #expect(two.removals == ["f.1.gz", "f.1"])
        #expect(two.renames.map(\.from) == ["f"])

        // One file: nothing is ever rotated out, so nothing is compressed.
        #expect(!LogRotation(maxSize: 100, maxFiles: 1, compress: true).compress)
    }

    @Test func rotationHappensOnceTheFileHasReachedTheLimit() {
        // dockerd's rule: the record that reaches max-size is still written; the next rotates.
        let rotation = LogRotation(maxSize: 100, maxFiles: 2)
        #expect(!rotation.shouldRotate(currentSize: 99))
        #expect(rotation.shouldRotate(currentSize: 100))
        #expect(rotation.shouldRotate(currentSize: 150))
        #expect(!rotation.shouldRotate(currentSize: 0))  // an empty file takes any record
        #expect(!LogRotation(maxSize: 0, maxFiles: 5).shouldRotate(currentSize: 1 << 40))
        #expect(LogRotation(maxSize: 10, maxFiles: 0).maxFiles == 1)
    }

    func entry(_ line: String, stderr: Bool, partial: JournalDatagram.Partial? = nil, ordinal: UInt64 = 1,
               fields: [UInt8] = []) -> String {
        let bytes = Array(line.utf8).withUnsafeBufferPointer {
            JournalDatagram.entry(line: $0, stderr: stderr, partial: partial, seconds: 1_764_414_000,
                                  nanoseconds: 120_000_000, ordinal: ordinal, containerFields: fields)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func journaldDatagramUsesTheNativeProtocolAndDockerdsFields() {
        let id = String(repeating: "ab", count: 32)
        let epoch = String(repeating: "e", count: 64)
        let fields = JournalDatagram.containerFields(id: id, name: "web", epoch: epoch)
        #expect(String(decoding: fields, as: UTF8.self) == "CONTAINER_ID=abababababab\n"
            + "CONTAINER_ID_FULL=\(id)\nCONTAINER_NAME=web\nCONTAINER_TAG=abababababab\n"
            + "SYSLOG_IDENTIFIER=abababababab\nCONTAINER_LOG_EPOCH=\(epoch)\n")
        let tagged = JournalDatagram.containerFields(id: id, name: nil, tag: "web-tag", imageName: "busybox:latest", epoch: "1")
        #expect(String(decoding: tagged, as: UTF8.self) == "CONTAINER_ID=abababababab\nCONTAINER_ID_FULL=\(id)\n"
            + "CONTAINER_TAG=web-tag\nIMAGE_NAME=busybox:latest\nSYSLOG_IDENTIFIER=web-tag\nCONTAINER_LOG_EPOCH=1\n")
        // Log attributes follow; a value with a newline takes the binary form.
        let attributes = JournalDatagram.containerFields(id: id, name: nil, epoch: "1",
                                                         extraFields: [("TIER", "web"), ("NOTE", "a\nb")])
        #expect(Array(attributes.suffix(26)) == Array("TIER=web\nNOTE\n".utf8) + [3, 0, 0, 0, 0, 0, 0, 0] + Array("a\nb\n".utf8))

        // MESSAGE without the newline, the stream as a priority, the shim's time as Go's
        // RFC3339Nano, the writer's sequence number.
        #expect(entry("hello\n", stderr: false, ordinal: 7) == "MESSAGE=hello\nPRIORITY=6\n"
            + "SYSLOG_TIMESTAMP=2025-11-29T11:00:00.12Z\nCONTAINER_LOG_ORDINAL=7\n")
        #expect(entry("oops\n", stderr: true).hasPrefix("MESSAGE=oops\nPRIORITY=3\n"))
        // The pieces of a long line: all but the last are partial messages.
        let first = entry("abc", stderr: false, partial: JournalDatagram.Partial(id: "p", ordinal: 1, last: false), ordinal: 2)
        #expect(first == "MESSAGE=abc\nPRIORITY=6\nSYSLOG_TIMESTAMP=2025-11-29T11:00:00.12Z\n"
            + "CONTAINER_PARTIAL_ID=p\nCONTAINER_PARTIAL_ORDINAL=1\nCONTAINER_PARTIAL_LAST=false\n"
            + "CONTAINER_PARTIAL_MESSAGE=true\nCONTAINER_LOG_ORDINAL=2\n")
        let last = entry("def\n", stderr: false, partial: JournalDatagram.Partial(id: "p", ordinal: 2, last: true), ordinal: 3)
        #expect(last == "MESSAGE=def\nPRIORITY=6\nSYSLOG_TIMESTAMP=2025-11-29T11:00:00.12Z\n"
            + "CONTAINER_PARTIAL_ID=p\nCONTAINER_PARTIAL_ORDINAL=2\nCONTAINER_PARTIAL_LAST=true\nCONTAINER_LOG_ORDINAL=3\n")
        // The container fields come after MESSAGE.
        #expect(entry("x\n", stderr: false, fields: fields).hasPrefix("MESSAGE=x\nCONTAINER_ID=abababababab\n"))

        // A value holding a newline: name, newline, 64-bit little-endian length, bytes, newline.
        let binary = Array("a\nb\n".utf8).withUnsafeBufferPointer {
            JournalDatagram.entry(line: $0, stderr: false, partial: nil, seconds: 0, nanoseconds: 0, ordinal: 1, containerFields: [])
        }
        #expect(Array(binary.prefix(20)) == Array("MESSAGE\n".utf8) + [3, 0, 0, 0, 0, 0, 0, 0] + Array("a\nb\n".utf8))
        #expect(String(decoding: binary.dropFirst(20), as: UTF8.self) == "PRIORITY=6\nSYSLOG_TIMESTAMP=1970-01-01T00:00:00Z\nCONTAINER_LOG_ORDINAL=1\n")
    }

    @Test func runtimeErrorsAreReadFromItsLog() {
        let log = """
            time="2026-11-29T11:00:00Z" level=error msg="first"
            time="2026-11-29T11:00:01Z" level=info msg="not an error"
            time="2026-11-29T11:00:02Z" level=error msg="exec: "nope": executable file not found in $PATH"

            """
        #expect(RuntimeLog.lastError(in: Array(log.utf8)) == #"exec: "nope": executable file not found in $PATH"#)
        #expect(RuntimeLog.lastError(in: []) == nil)
        #expect(RuntimeLog.lastError(in: Array("garbage\n".utf8)) == nil)
    }
}
