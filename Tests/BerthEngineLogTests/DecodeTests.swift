import BerthOCI
import BerthEngine
import Testing

@Suite struct DecodeTests {
    @Test func plainLine() throws {
        let line = #"{"log":"hello world\n","stream":"stdout","time":"2026-11-29T11:00:00.123456789Z"}"#
        let record = try #require(JSONLogLine.decode(line))
        #expect(record.stream == .stdout)
        #expect(record.text == "hello world\n")
        #expect(record.timestamp == LogTimestamp(seconds: 1_795_950_000, nanoseconds: 123_456_789))
    }

    @Test func stderrAndKeyOrderAndSpaces() throws {
        let line = #"  { "time" : "2026-11-29T11:00:00Z" , "stream":"stderr",  "log" : "x" }  "#
        let record = try #require(JSONLogLine.decode(line))
        #expect(record.stream == .stderr)
        #expect(record.text == "x")  // a partial line: no newline
        #expect(record.timestamp.nanoseconds == 0)
    }

    @Test func everyEscape() throws {
        let line = #"{"log":"q\" b\\ s\/ \b\f\n\r\t A\u0041 \u00e9 \u20AC \ud83d\ude00 \u003chtml\u003e\u0026","stream":"stdout","time":"2026-11-29T11:00:00Z"}"#
        let record = try #require(JSONLogLine.decode(line))
        let expected: [UInt8] = Array("q\" b\\ s/ ".utf8) + [0x08, 0x0C, 0x0A, 0x0D, 0x09] + Array(" AA é € 😀 <html>&".utf8)
        #expect(record.line == expected)
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        let line = #"{"log":"a\ud83db\ude00c\ud83d\u0041","stream":"stdout","time":"2026-11-29T11:00:00Z"}"#
        let record = try #require(JSONLogLine.decode(line))
        #expect(record.text == "a\u{FFFD}b\u{FFFD}c\u{FFFD}A")
    }

    @Test func rawUTF8AndOtherKeysAreKept() throws {
        let line = #"{"log":"grüße ✓\n","stream":"stdout","attrs":{"tag":"a\"b","n":[1,2.5e3,{"x":null}],"t":true},"time":"2026-11-29T11:00:00.5Z","extra":-1}"#
        let record = try #require(JSONLogLine.decode(line))
        #expect(record.text == "grüße ✓\n")
        #expect(record.timestamp.nanoseconds == 500_000_000)
    }

    @Test func escapedKeys() throws {
        let line = #"{"l\u006fg":"k\n","stream":"stdout","time":"2026-11-29T11:00:00Z"}"#
        #expect(JSONLogLine.decode(line)?.text == "k\n")
    }

    @Test(arguments: [
        "",
        "{}",
        "not json",
        #"{"log":"half a li"#,
        #"{"log":"x\n","stream":"stdout","time":"2026-11-29T11:00:00.12"#,
        #"{"log":"x\n","stream":"stdout","time":"2026-11-29T11:00:00Z""#,
        #"{"log":"x\n","stream":"stdout","time":"2026-11-29T11:00:00Z"} trailing"#,
        #"{"log":"x\n","stream":"stdout"}"#,
        #"{"log":"x\n","time":"2026-11-29T11:00:00Z"}"#,
        #"{"log":"x\n","stream":"stdin","time":"2026-11-29T11:00:00Z"}"#,
        #"{"log":"x\n","stream":"stdout","time":"yesterday"}"#,
        #"{"log":"bad \q escape","stream":"stdout","time":"2026-11-29T11:00:00Z"}"#,
        #"{"log":"bad \u12 escape","stream":"stdout","time":"2026-11-29T11:00:00Z"}"#,
        #"{"log":"x","stream":"stdout","time":"2026-11-29T11:00:00Z",}"#,
        #"{"log":"x" "stream":"stdout","time":"2026-11-29T11:00:00Z"}"#,
        #"{"log":1,"stream":"stdout","time":"2026-11-29T11:00:00Z"}"#,
        #"{"log":"x","stream":"stdout","time":"2026-11-29T11:00:00Z","attrs":{"a":}"#,
    ])
    func corruptLinesAreRejected(line: String) {
        #expect(JSONLogLine.decode(line) == nil)
    }

    /// What berth-shim writes reads back as it was, and is written as dockerd writes it.
    @Test func shimRecordsRoundTrip() throws {
        var bytes: [UInt8] = Array("tab\t quote\" back\\ <a&b> ctl\u{01} é 😀 \u{2028}".utf8)
        bytes += [0xFF, 0xC3, 0x41, 0x0A]  // invalid UTF-8, then "A\n"
        let original = LogRecord(stream: .stderr, timestamp: LogTimestamp(seconds: 1_795_950_000, nanoseconds: 120_000_000), line: bytes)
        let encoded = original.jsonFileLine
        let text = String(decoding: encoded, as: UTF8.self)
        #expect(text.hasSuffix(#"","stream":"stderr","time":"2026-11-29T11:00:00.12Z"}"# + "\n"))
        #expect(text.hasPrefix(#"{"log":"tab\u0009 quote\" back\\ \u003ca\u0026b\u003e ctl\u0001"#))
        #expect(text.contains(#"\u2028\ufffd\ufffdA\n"#))
        let decoded = try #require(JSONLogLine.decode(Array(encoded.dropLast())))
        var expected = Array("tab\t quote\" back\\ <a&b> ctl\u{01} é 😀 \u{2028}".utf8)
        expected += Array("\u{FFFD}\u{FFFD}A\n".utf8)
        #expect(decoded.line == expected)
        #expect(decoded.timestamp == original.timestamp)
        #expect(decoded.stream == .stderr)
    }
}
