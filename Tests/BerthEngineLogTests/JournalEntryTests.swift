import BerthOCI
import BerthEngine
import Testing

/// What the journald reader takes from an entry's fields.
struct JournalEntryTests {
    func entry(_ fields: [String]) -> JournalEntry {
        var entry = JournalEntry()
        for field in fields { entry.take(field) }
        return entry
    }

    let time = LogTimestamp(seconds: 1_764_414_000, nanoseconds: 123_000)

    @Test func messagesGetTheirNewlineBackAndTheStreamFromThePriority() {
        let out = entry(["MESSAGE=hello", "PRIORITY=6", "CONTAINER_ID_FULL=abc", "_PID=12"])
        #expect(out.record(at: time) == LogRecord(stream: .stdout, timestamp: time, text: "hello\n"))
        let err = entry(["PRIORITY=3", "MESSAGE=oops"])
        #expect(err.record(at: time) == LogRecord(stream: .stderr, timestamp: time, text: "oops\n"))
        // A value may hold '=' and be empty.
        #expect(entry(["MESSAGE=a=b", "PRIORITY=6"]).record(at: time)?.text == "a=b\n")
        #expect(entry(["MESSAGE=", "PRIORITY=6"]).record(at: time)?.text == "\n")
    }

    @Test func piecesOfALongLineStayUnterminated() {
        let piece = entry(["MESSAGE=abc", "PRIORITY=6", "CONTAINER_PARTIAL_MESSAGE=true"])
        #expect(piece.record(at: time)?.text == "abc")
        #expect(entry(["MESSAGE=abc", "PRIORITY=6", "CONTAINER_PARTIAL_MESSAGE=false"]).record(at: time)?.text == "abc\n")
    }

    @Test func entriesFromNoStreamOrWithoutAMessageAreNotRecords() {
        #expect(entry(["MESSAGE=debug", "PRIORITY=7"]).record(at: time) == nil)
        #expect(entry(["MESSAGE=no priority"]).record(at: time) == nil)
        #expect(entry(["PRIORITY=6"]).record(at: time) == nil)
        #expect(entry(["MESSAGEX=1", "PRIORITY=6"]).record(at: time) == nil)
    }

    @Test func theWritersEpochAndOrdinal() {
        let numbered = entry(["CONTAINER_LOG_EPOCH=e1", "CONTAINER_LOG_ORDINAL=42", "MESSAGE=x", "PRIORITY=6"])
        #expect(numbered.epoch == "e1" && numbered.ordinal == 42)
        #expect(entry(["CONTAINER_LOG_ORDINAL=4x"]).ordinal == nil)
        #expect(entry(["CONTAINER_LOG_ORDINAL="]).ordinal == nil)
    }
}
