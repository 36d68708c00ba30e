import BerthShimCore
import Testing

/// Frames, requests, rotation naming, journald datagrams and the runtime's log.
struct ShimProtocolTests {
    @Test func frameHeaderIsDockersStdcopyHeader() {
        #expect(FrameHeader(kind: .stdout, length: 5).array == [1, 0, 0, 0, 0, 0, 0, 5])
        #expect(FrameHeader(kind: .stderr, length: 0x0102_0304).array == [2, 0, 0, 0, 1, 2, 3, 4])
        #expect(encodeFrame(kind: .execExit, payload: Array("143".utf8)) == [16, 0, 0, 0, 0, 0, 0, 3, 49, 52, 51])
        #expect(FrameKind.execFailed.rawValue == 17)
        let decoded = FrameHeader.decode([2, 0, 0, 0, 0, 1, 0, 0])
        #expect(decoded?.kind == 2 && decoded?.length == 65536)
        #expect(FrameHeader.decode([1, 0, 0]) == nil)
    }

    @Test func requestsParse() throws {
        #expect(try Request.parse("start").get() == .start)
        #expect(try Request.parse("wait").get() == .wait)
        #expect(try Request.parse("state\r").get() == .state)
        #expect(try Request.parse("attach 1 0 1").get() == .attach(stdin: true, stdout: false, stderr: true))
        #expect(try Request.parse("exec e-1 1 0 /tmp/a b/process.json").get()
            == .exec(id: "e-1", tty: true, stdin: false, processPath: "/tmp/a b/process.json"))
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
        #expect(Request.parse("exec ../x 0 0 /p.json") == .failure(.usage("exec EXECID TTY STDIN PROCESSJSONPATH")))
        #expect(Request.parse("exec a/b 0 0 /p.json") == .failure(.usage("exec EXECID TTY STDIN PROCESSJSONPATH")))
        #expect(RequestError.unknown.message == "unknown request")
    }

    /// Requests are split and matched on their bytes (the shim cannot compare Strings): words
    /// are exact, and the process path comes back byte for byte, spaces and all.
    @Test func requestsAreMatchedOnTheirBytes() throws {
        #expect(try Request.parse("exec e.1 0 1 /tmp/ü  x/e\u{301}.json\r").get()
            == .exec(id: "e.1", tty: false, stdin: true, processPath: "/tmp/ü  x/e\u{301}.json"))
        #expect(try Request.parse("  wait  ").get() == .wait)
        #expect(Request.parse("   ") == .failure(.unknown))
        #expect(Request.parse("STATE") == .failure(.unknown))
        #expect(Request.parse("start now") == .failure(.usage("start")))
        #expect(Request.parse("exec . 0 0 /p.json") == .failure(.usage("exec EXECID TTY STDIN PROCESSJSONPATH")))
        #expect(Request.parse("exec .. 0 0 /p.json") == .failure(.usage("exec EXECID TTY STDIN PROCESSJSONPATH")))
        #expect(Request.parse("attach 1 0 ١") == .failure(.usage("attach STDIN STDOUT STDERR")))
    }

    @Test func rotationKeepsAtMostMaxFiles() {
        let three = LogRotation(maxSize: 100, maxFiles: 3)
        let steps = three.steps(path: "/l/c-json.log")
        #expect(steps.remove == "/l/c-json.log.2")
        #expect(steps.renames.map(\.from) == ["/l/c-json.log.1", "/l/c-json.log"])
        #expect(steps.renames.map(\.to) == ["/l/c-json.log.2", "/l/c-json.log.1"])

        let two = LogRotation(maxSize: 100, maxFiles: 2).steps(path: "f")
        #expect(two.remove == "f.1")
        #expect(two.renames.map(\.from) == ["f"])

        let one = LogRotation(maxSize: 100, maxFiles: 1).steps(path: "f")
        #expect(one.remove == nil && one.renames.isEmpty)  // truncate in place
    }

    @Test func rotationHappensWhenTheFileWouldPassTheLimit() {
        let rotation = LogRotation(maxSize: 100, maxFiles: 2)
        #expect(!rotation.shouldRotate(currentSize: 50, incoming: 50))
        #expect(rotation.shouldRotate(currentSize: 50, incoming: 51))
        #expect(!rotation.shouldRotate(currentSize: 0, incoming: 500))  // a record is never split
        #expect(!LogRotation(maxSize: 0, maxFiles: 5).shouldRotate(currentSize: 1 << 40, incoming: 1))
        #expect(LogRotation(maxSize: 10, maxFiles: 0).maxFiles == 1)
    }

    func entry(_ line: String, stderr: Bool, partial: Bool, fields: [UInt8]) -> [UInt8] {
        Array(line.utf8).withUnsafeBufferPointer {
            JournalDatagram.entry(line: $0, stderr: stderr, partial: partial, containerFields: fields)
        }
    }

    @Test func journaldDatagramUsesTheNativeProtocol() {
        let id = String(repeating: "ab", count: 32)
        let fields = JournalDatagram.containerFields(id: id, name: "web")
        let text = String(decoding: fields, as: UTF8.self)
        #expect(text == "CONTAINER_ID=abababababab\n"
            + "CONTAINER_ID_FULL=\(id)\nCONTAINER_NAME=web\nCONTAINER_TAG=abababababab\nSYSLOG_IDENTIFIER=abababababab\n")

        let out = entry("hello\n", stderr: false, partial: false, fields: [])
        #expect(String(decoding: out, as: UTF8.self) == "MESSAGE=hello\nPRIORITY=6\n")
        let err = entry("oops", stderr: true, partial: true, fields: [])
        #expect(String(decoding: err, as: UTF8.self) == "MESSAGE=oops\nPRIORITY=3\nCONTAINER_PARTIAL_MESSAGE=true\n")

        // A value holding a newline: name, newline, 64-bit little-endian length, bytes, newline.
        let binary = entry("a\nb\n", stderr: false, partial: false, fields: [])
        #expect(binary == Array("MESSAGE\n".utf8) + [3, 0, 0, 0, 0, 0, 0, 0] + Array("a\nb\nPRIORITY=6\n".utf8))
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
