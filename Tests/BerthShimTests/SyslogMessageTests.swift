import BerthShimCore
import Testing

/// The syslog driver's messages byte for byte, as dockerd 20.10's were seen to be, and the
/// addresses berthd hands the shim.
struct SyslogMessageTests {
    let utc = SyslogMessage.LocalTime(year: 2026, month: 11, day: 3, hour: 9, minute: 7, second: 5, microsecond: 120_300, utcOffset: 0)

    func message(_ format: SyslogMessage.Format, stderr: Bool = false, facility: Int = 3, time: SyslogMessage.LocalTime? = nil,
                 _ text: String = "hello") -> String {
        SyslogMessage.string(format: format, priority: SyslogMessage.priority(facility: facility, stderr: stderr),
                             time: time ?? utc, hostname: "vm", tag: "0513b11a4f1f", pid: 19692, message: text)
    }

    @Test func theFourLayouts() {
        #expect(message(.unix) == "<30>Nov  3 09:07:05 0513b11a4f1f[19692]: hello\n")
        #expect(message(.rfc3164) == "<30>Nov  3 09:07:05 vm 0513b11a4f1f[19692]: hello\n")
        #expect(message(.rfc5424) == "<30>1 2026-11-03T09:07:05Z vm 0513b11a4f1f 19692 0513b11a4f1f - hello\n")
        #expect(message(.rfc5424micro) == "<30>1 2026-11-03T09:07:05.1203Z vm 0513b11a4f1f 19692 0513b11a4f1f - hello\n")
    }

    @Test func priorityIsFacilityAndStream() {
        #expect(message(.unix, stderr: true).hasPrefix("<27>"))
        #expect(message(.unix, facility: 19).hasPrefix("<158>"))
        #expect(message(.unix, stderr: true, facility: 0).hasPrefix("<3>"))
        #expect(message(.unix, stderr: true, facility: 23).hasPrefix("<187>"))
    }

    @Test func timesOfOtherZonesAndDays() {
        var time = utc
        time.day = 30
        time.utcOffset = 3600 + 1800
        #expect(message(.unix, time: time) == "<30>Nov 30 09:07:05 0513b11a4f1f[19692]: hello\n")
        #expect(message(.rfc5424, time: time).contains(" 2026-11-30T09:07:05+01:30 "))
        time.utcOffset = -8 * 3600
        time.microsecond = 0
        time.month = 1
        #expect(message(.rfc5424micro, time: time).contains(" 2026-01-30T09:07:05-08:00 "))
        time.microsecond = 5
        #expect(message(.rfc5424micro, time: time).contains(" 2026-01-30T09:07:05.000005-08:00 "))
        #expect(message(.unix, time: time).hasPrefix("<30>Jan 30 "))
    }

    @Test func aNewlineEndsEveryMessageOnce() {
        #expect(message(.unix, "a\n") == "<30>Nov  3 09:07:05 0513b11a4f1f[19692]: a\n")
        #expect(message(.unix, "  spaced  ") == "<30>Nov  3 09:07:05 0513b11a4f1f[19692]:   spaced  \n")
    }

    @Test func theTextOfARecord() {
        func text(_ line: String, partial: Bool) -> String? {
            let bytes = Array(line.utf8)
            return bytes.withUnsafeBufferPointer { SyslogMessage.text(of: $0, partial: partial).map { String(decoding: $0, as: UTF8.self) } }
        }
        #expect(text("hello\n", partial: false) == "hello")
        #expect(text("\n", partial: false) == nil)  // dockerd sends no empty message
        #expect(text("end", partial: false) == "end")
        #expect(text("piece", partial: true) == "piece")
    }

    @Test func formatWords() {
        #expect(SyslogMessage.Format(word: "unix") == .unix)
        #expect(SyslogMessage.Format(word: "rfc5424micro") == .rfc5424micro)
        #expect(SyslogMessage.Format(word: "RFC5424") == nil)
    }

    @Test func localTimesFromTheOffsetsBerthdGives() throws {
        let utc = try #require(UTCOffsets(parsing: "0"))
        #expect(utc.localTime(seconds: 1_796_036_746, nanoseconds: 198_765_432)
                == SyslogMessage.LocalTime(year: 2026, month: 11, day: 30, hour: 11, minute: 5, second: 46, microsecond: 198_765, utcOffset: 0))
        // Berlin around its change to summer time on 2027-03-28 at 01:00 UTC.
        let berlin = try #require(UTCOffsets(parsing: "3600,1806195600,7200,1824944400,3600"))
        #expect(berlin.offset(at: 1_806_195_599) == 3600 && berlin.offset(at: 1_806_195_600) == 7200)
        #expect(berlin.offset(at: 1_824_944_400) == 3600 && berlin.offset(at: 0) == 3600)
        let before = berlin.localTime(seconds: 1_806_195_599, nanoseconds: 0)
        #expect((before.day, before.hour, before.minute, before.second, before.utcOffset) == (28, 1, 59, 59, 3600))
        let after = berlin.localTime(seconds: 1_806_195_600, nanoseconds: 0)
        #expect((after.day, after.hour, after.minute, after.utcOffset) == (28, 3, 0, 7200))
        let west = try #require(UTCOffsets(parsing: "-28800"))
        let night = west.localTime(seconds: 1_796_000_000, nanoseconds: 0)  // 2026-11-30T00:53:20Z
        #expect((night.day, night.hour, night.minute, night.utcOffset) == (29, 16, 53, -28800))
        for bad in ["", "x", "0,1", "0,5,1,4,2", "1,,2", "--1"] {
            #expect(UTCOffsets(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func remoteAddresses() throws {
        let tcp = try #require(RemoteAddress(parsing: "tcp://127.0.0.1:514"))
        #expect(tcp.transport == .tcp && tcp.host == "127.0.0.1" && tcp.port == 514 && tcp.display == "127.0.0.1:514")
        let v6 = try #require(RemoteAddress(parsing: "udp://[::1]:12201"))
        #expect(v6.transport == .udp && v6.host == "::1" && v6.isIPv6 && v6.display == "[::1]:12201")
        let local = try #require(RemoteAddress(parsing: "tcp://:24224"))
        #expect(local.host == "" && local.display == ":24224")
        let gram = try #require(RemoteAddress(parsing: "unixgram:///tmp/a b.sock"))
        #expect(gram.transport == .unixgram && gram.path == "/tmp/a b.sock" && gram.display == "/tmp/a b.sock")
        #expect(RemoteAddress(parsing: "unix:///dev/log")?.transport == .unix)
        for bad in ["tcp://127.0.0.1", "tcp://127.0.0.1:x", "tcp://1.2.3.4:65536", "http://a:1", "unix://", "tcp//a:1", "udp://[::1:5"] {
            #expect(RemoteAddress(parsing: bad) == nil, "\(bad)")
        }
    }
}

extension UTCOffsets? {
    static func == (lhs: UTCOffsets?, rhs: UTCOffsets?) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): true
        case let (.some(a), .some(b)): a.changes.map(\.start) == b.changes.map(\.start) && a.changes.map(\.offset) == b.changes.map(\.offset)
        default: false
        }
    }
}

extension RemoteAddress? {
    static func == (lhs: RemoteAddress?, rhs: RemoteAddress?) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): true
        case let (.some(a), .some(b)): a.transport == b.transport && a.host == b.host && a.port == b.port && a.path == b.path
        default: false
        }
    }
}
