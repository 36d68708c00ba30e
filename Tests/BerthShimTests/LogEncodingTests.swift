import BerthShimCore
import Testing

/// json-file records, their escaping and timestamps, and the cutting of output into lines.
struct LogEncodingTests {
    func escaped(_ bytes: [UInt8], style: JSONEscape.Style = .jsonFile) -> String {
        var out: [UInt8] = []
        JSONEscape.append(bytes, style: style, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func plainTextIsCopied() {
        #expect(escaped(Array("hello, world 123 ~".utf8)) == "hello, world 123 ~")
        #expect(escaped([]) == "")
    }

    @Test func specialCharactersAreEscapedAsDockerDoes() {
        #expect(escaped(Array("a\"b\\c\n".utf8)) == #"a\"b\\c\n"#)
        // json-file's writer has short forms for \n and \r only; Go's encoder (GELF) for more.
        #expect(escaped(Array("\r\t\u{8}\u{C}".utf8)) == #"\r\u0009\u0008\u000c"#)
        #expect(escaped(Array("\r\t\u{8}\u{C}\u{1}".utf8), style: .goEncoder) == #"\r\t\b\f\u0001"#)
        #expect(escaped([0x01, 0x1B, 0x7F]) == #"\u0001\u001b"# + "\u{7F}")
        #expect(escaped(Array("<a&b>".utf8)) == #"\u003ca\u0026b\u003e"#)
        #expect(escaped(Array("x\u{2028}y\u{2029}".utf8)) == #"x\u2028y\u2029"#)
    }

    @Test func validUTF8IsKept() {
        #expect(escaped(Array("héllo ✓ 😀".utf8)) == "héllo ✓ 😀")
    }

    /// Each byte that is not part of well-formed UTF-8 is written as the escape \ufffd, as Go does.
    @Test func invalidUTF8BecomesReplacementCharacters() {
        let r = #"\ufffd"#
        #expect(escaped([0x61, 0xFF, 0x62]) == "a\(r)b")
        #expect(escaped([0x80]) == r)
        #expect(escaped([0xC0, 0xAF]) == r + r)                     // overlong '/'
        #expect(escaped([0xE2, 0x82]) == r + r)                     // cut short
        #expect(escaped([0xED, 0xA0, 0x80]) == r + r + r)           // surrogate
        #expect(escaped([0xF4, 0x90, 0x80, 0x80]) == String(repeating: r, count: 4))
        #expect(escaped([0xE2, 0x82, 0xAC, 0xE2]) == "€" + r)
        #expect(escaped([0xFF], style: .goEncoder) == r)
    }

    @Test func recordHasDockersShape() {
        let time = Array("2026-11-29T11:00:00.123456789Z".utf8)
        let out = JSONLogRecord.encode(line: Array("hi \"there\"\n".utf8), stderr: false, time: time)
        #expect(String(decoding: out, as: UTF8.self)
            == #"{"log":"hi \"there\"\n","stream":"stdout","time":"2026-11-29T11:00:00.123456789Z"}"# + "\n")
        let err = JSONLogRecord.encode(line: Array("partial".utf8), stderr: true, time: time)
        #expect(String(decoding: err, as: UTF8.self)
            == #"{"log":"partial","stream":"stderr","time":"2026-11-29T11:00:00.123456789Z"}"# + "\n")
        // RFC3339Nano, as dockerd's json-file writer: trailing zeros of the fraction dropped.
        func written(_ time: String) -> String {
            let out = JSONLogRecord.encode(line: Array("x".utf8), stderr: false, time: Array(time.utf8))
            return String(decoding: out, as: UTF8.self)
        }
        #expect(written("2026-11-29T11:00:00.120000000Z").hasSuffix(#""time":"2026-11-29T11:00:00.12Z"}"# + "\n"))
        #expect(written("2026-11-29T11:00:00.000000000Z").hasSuffix(#""time":"2026-11-29T11:00:00Z"}"# + "\n"))
        #expect(written("2026-11-29T11:00:10.000000001Z").hasSuffix(#""time":"2026-11-29T11:00:10.000000001Z"}"# + "\n"))
    }

    @Test func timestampsAreRFC3339WithNineDigits() {
        #expect(Timestamp.string(seconds: 0, nanoseconds: 0) == "1970-01-01T00:00:00.000000000Z")
        #expect(Timestamp.string(seconds: 1_795_950_789, nanoseconds: 5) == "2026-11-29T11:13:09.000000005Z")
        #expect(Timestamp.string(seconds: 951_782_400, nanoseconds: 123_456_789) == "2000-02-29T00:00:00.123456789Z")
        #expect(Timestamp.string(seconds: 1_709_211_661, nanoseconds: 999_999_999) == "2024-02-29T13:01:01.999999999Z")
        #expect(Timestamp.string(seconds: -1, nanoseconds: 0) == "1969-12-31T23:59:59.000000000Z")
        #expect(Timestamp.string(seconds: 1_709_211_661, nanoseconds: 1).utf8.count == Timestamp.length)
    }

    /// Feeds chunks and returns the records as (text, partial).
    func split(_ chunks: [String], maxRecord: Int = LineSplitter.defaultMaxRecord, finish: Bool = true) -> [(String, Bool)] {
        var splitter = LineSplitter(maxRecord: maxRecord)
        var records: [(String, Bool)] = []
        for chunk in chunks {
            Array(chunk.utf8).withUnsafeBufferPointer { buffer in
                splitter.feed(buffer) { records.append((String(decoding: $0, as: UTF8.self), $1)) }
            }
        }
        if finish { splitter.finish { records.append((String(decoding: $0, as: UTF8.self), $1)) } }
        return records
    }

    @Test func linesAreSplitAtNewlines() {
        let records = split(["a\nbb\n", "ccc\n"])
        #expect(records.map(\.0) == ["a\n", "bb\n", "ccc\n"])
        #expect(records.allSatisfy { !$0.1 })
    }

    @Test func aLineCutAcrossChunksIsJoined() {
        let records = split(["hel", "lo\nwor", "ld\n"])
        #expect(records.map(\.0) == ["hello\n", "world\n"])
    }

    @Test func anUnfinishedLineIsFlushedAtEndOfStream() {
        let records = split(["one\ntwo"])
        #expect(records.map(\.0) == ["one\n", "two"])
        #expect(records.map(\.1) == [false, true])
        #expect(split(["x"], finish: false).isEmpty)
    }

    @Test func longLinesGoOutInPiecesOfTheMaximum() {
        // Across chunks: full pieces go as soon as they are full.
        let pieces = split(["abcdefg", "hij\n"], maxRecord: 4)
        #expect(pieces.map(\.0) == ["abcd", "efgh", "ij\n"])
        #expect(pieces.map(\.1) == [true, true, false])
        // Within one chunk: the same cut.
        let inOne = split(["abcdefghij\nk\n"], maxRecord: 4)
        #expect(inOne.map(\.0) == ["abcd", "efgh", "ij\n", "k\n"])
        // The default is Docker's 16 KiB.
        let long = String(repeating: "x", count: 40_000) + "\n"
        #expect(split([long]).map { $0.0.utf8.count } == [16384, 16384, 7233])
    }
}
