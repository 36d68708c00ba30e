import BerthEngine
import BerthOCI
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0, 0),
        ("2026-11-29T11:00:00Z", 1_795_950_000, 0),
        ("2026-11-29T11:00:00.1Z", 1_795_950_000, 100_000_000),
        ("2026-11-29T11:00:00.123456789Z", 1_795_950_000, 123_456_789),
        ("2026-11-29T11:00:00.1234567891234Z", 1_795_950_000, 123_456_789),
        ("2026-11-29T13:30:00.5+02:30", 1_795_950_000, 500_000_000),
        ("2026-11-29T08:00:00-03:00", 1_795_950_000, 0),
        ("2024-02-29T00:00:00Z", 1_709_164_800, 0),
        ("1969-12-31T23:59:59.25Z", -1, 250_000_000),
        ("2000-01-01t00:00:00z", 946_684_800, 0),
    ] as [(String, Int64, Int32)])
    func parsesRFC3339(text: String, seconds: Int64, nanoseconds: Int32) {
        #expect(LogTimestamp(rfc3339: text) == LogTimestamp(seconds: seconds, nanoseconds: nanoseconds))
    }

    @Test(arguments: [
        "2026-11-29", "2026-11-29T11:00:00", "2026-11-29 11:00:00Z", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T11:60:00Z", "2026-11-29T11:00:00.Z",
        "2026-11-29T11:00:00+0200", "2026-11-29T11:00:00ZZ", "2026-1l-29T11:00:00Z",
    ])
    func rejectsBadRFC3339(text: String) {
        #expect(LogTimestamp(rfc3339: text) == nil)
    }

    @Test func formatsAsDockerd() {
        let time = LogTimestamp(seconds: 1_795_950_000, nanoseconds: 120_000_000)
        // docker logs --timestamps: RFC3339NanoFixed, nine digits always.
        #expect(time.rfc3339(fixedFraction: true) == "2026-11-29T11:00:00.120000000Z")
        // json-file's "time": RFC3339Nano, trailing zeros trimmed.
        #expect(time.rfc3339(fixedFraction: false) == "2026-11-29T11:00:00.12Z")
        #expect(LogTimestamp(seconds: 1_795_950_000).rfc3339(fixedFraction: false) == "2026-11-29T11:00:00Z")
        #expect(LogTimestamp(seconds: 1_795_950_000).rfc3339(fixedFraction: true) == "2026-11-29T11:00:00.000000000Z")
        #expect(LogTimestamp(seconds: -1, nanoseconds: 1).rfc3339(fixedFraction: true) == "1969-12-31T23:59:59.000000001Z")
        #expect(LogTimestamp(seconds: 951_782_400).rfc3339(fixedFraction: false) == "2000-02-29T00:00:00Z")
    }

    @Test func roundTripsOverManyDays() {
        var seconds: Int64 = -5_000_000_000
        while seconds < 10_000_000_000 {
            let time = LogTimestamp(seconds: seconds, nanoseconds: 987_654_321)
            #expect(LogTimestamp(rfc3339: time.rfc3339(fixedFraction: true)) == time)
            seconds += 86_399 * 37 + 13
        }
    }

    @Test func dockerQueryValues() throws {
        #expect(try LogTimestamp.parseDockerTimestamp("") == nil)
        #expect(try LogTimestamp.parseDockerTimestamp("1732870000.000000000") == LogTimestamp(seconds: 1_732_870_000))
        #expect(try LogTimestamp.parseDockerTimestamp("1732870000") == LogTimestamp(seconds: 1_732_870_000))
        #expect(try LogTimestamp.parseDockerTimestamp("1732870000.5") == LogTimestamp(seconds: 1_732_870_000, nanoseconds: 500_000_000))
        #expect(try LogTimestamp.parseDockerTimestamp("1732870000.000000123") == LogTimestamp(seconds: 1_732_870_000, nanoseconds: 123))
        #expect(try LogTimestamp.parseDockerTimestamp("0") == LogTimestamp(seconds: 0))
        #expect(try LogTimestamp.parseDockerTimestamp("2026-11-29T11:00:00.5Z") == LogTimestamp(seconds: 1_795_950_000, nanoseconds: 500_000_000))
        #expect(throws: BerthError.invalidArgument(#"strconv.ParseInt: parsing "10m": invalid syntax"#)) {
            try LogTimestamp.parseDockerTimestamp("10m")
        }
        #expect(throws: BerthError.invalidArgument(#"strconv.ParseInt: parsing "x": invalid syntax"#)) {
            try LogTimestamp.parseDockerTimestamp("1.x")
        }
        #expect(throws: BerthError.self) { try LogTimestamp.parseDockerTimestamp("12.x") }
        #expect(throws: BerthError.self) { try LogTimestamp.parseDockerTimestamp("12.") }
    }

    @Test func ordering() {
        #expect(LogTimestamp(seconds: 1, nanoseconds: 5) < LogTimestamp(seconds: 1, nanoseconds: 6))
        #expect(LogTimestamp(seconds: 1, nanoseconds: 999_999_999) < LogTimestamp(seconds: 2))
        #expect(LogTimestamp(seconds: 1, nanoseconds: 1_500_000_000) == LogTimestamp(seconds: 2, nanoseconds: 500_000_000))
    }
}

@Suite struct OptionsAndFormatTests {
    @Test func queryAsDockerd() throws {
        let options = try LogReadOptions(query: ["stdout": "1", "stderr": "true", "tail": "all", "follow": "1",
                                                 "timestamps": "0", "since": "1732870000.000000000"])
        #expect(options == LogReadOptions(stdout: true, stderr: true, tail: nil, since: LogTimestamp(seconds: 1_732_870_000),
                                          follow: true, timestamps: false))
        #expect(try LogReadOptions(query: ["stdout": "1", "tail": "10"]).tail == 10)
        #expect(try LogReadOptions(query: ["stdout": "1", "tail": "0"]).tail == 0)
        #expect(try LogReadOptions(query: ["stdout": "1", "tail": "-3"]).tail == nil)
        #expect(try LogReadOptions(query: ["stdout": "1", "tail": "bogus"]).tail == nil)
        #expect(try LogReadOptions(query: ["stderr": "yes"]).stdout == false)
        #expect(try LogReadOptions(query: ["stdout": "1", "until": "1732870000.5"]).until == LogTimestamp(seconds: 1_732_870_000, nanoseconds: 500_000_000))
        // As dockerd: until=0 is no limit, not the epoch.
        #expect(try LogReadOptions(query: ["stdout": "1", "until": "0"]).until == nil)
        #expect(throws: BerthError.invalidArgument("Bad parameters: you must choose at least one stream")) {
            try LogReadOptions(query: ["stdout": "false", "stderr": "no", "follow": "1"])
        }
        #expect(throws: BerthError.self) { try LogReadOptions(query: ["stdout": "1", "since": "nope"]) }
    }

    @Test func stdcopyFrames() {
        let out = LogRecord(stream: .stdout, timestamp: LogTimestamp(seconds: 1_795_950_000), text: "hi\n")
        let err = LogRecord(stream: .stderr, timestamp: LogTimestamp(seconds: 1_795_950_000, nanoseconds: 120_000_000), text: "oops\n")
        let plain = LogFormatter(tty: false)
        #expect(plain.format(out) == [1, 0, 0, 0, 0, 0, 0, 3] + Array("hi\n".utf8))
        #expect(plain.format(err) == [2, 0, 0, 0, 0, 0, 0, 5] + Array("oops\n".utf8))
        var long = out
        long.line = [UInt8](repeating: 0x61, count: 70_000)
        #expect(Array(plain.format(long).prefix(8)) == [1, 0, 0, 0, 0, 0x01, 0x11, 0x70])
        #expect(plain.format(LogRecord(stream: .stdout, timestamp: out.timestamp, line: [])) == [])

        let stamped = LogFormatter(tty: false, timestamps: true)
        let payload = Array("2026-11-29T11:00:00.120000000Z oops\n".utf8)
        #expect(stamped.format(err) == [2, 0, 0, 0, 0, 0, 0, UInt8(payload.count)] + payload)

        let tty = LogFormatter(tty: true, timestamps: true)
        #expect(tty.format(out) == Array("2026-11-29T11:00:00.000000000Z hi\n".utf8))
        #expect(LogFormatter(tty: true).format(out) == Array("hi\n".utf8))
        // details with no attributes: dockerd prefixes an empty attribute list and a space.
        #expect(LogFormatter(tty: true, details: true).format(out) == Array(" hi\n".utf8))
        #expect(LogFormatter(tty: true, timestamps: true, details: true).format(out) == Array("2026-11-29T11:00:00.000000000Z  hi\n".utf8))
    }
}
