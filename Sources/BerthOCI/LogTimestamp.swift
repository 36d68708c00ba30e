#if canImport(Glibc)
import Glibc
#endif

/// A point in time as seconds and nanoseconds since the Unix epoch (UTC), with RFC 3339
/// formatting and parsing written out by hand: Foundation's date formatters load ICU, which
/// costs a daemon several MiB of resident memory. Log records, containers, images and
/// networks carry their times in this form. Exact to the nanosecond, no floating point.
public struct LogTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        // Normalise so that nanoseconds is always in range.
        var s = seconds
        var n = Int64(nanoseconds)
        if n >= 1_000_000_000 || n < 0 {
            s += n / 1_000_000_000
            n %= 1_000_000_000
            if n < 0 { n += 1_000_000_000; s -= 1 }
        }
        self.seconds = s
        self.nanoseconds = Int32(n)
    }

    public static func < (lhs: LogTimestamp, rhs: LogTimestamp) -> Bool {
        lhs.seconds != rhs.seconds ? lhs.seconds < rhs.seconds : lhs.nanoseconds < rhs.nanoseconds
    }

    /// The wall clock now.
    public static func now() -> LogTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return LogTimestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    public var description: String { rfc3339(fixedFraction: true) }

    // MARK: RFC 3339

    /// Parses an RFC 3339 date-time: `2026-11-29T11:00:00Z`, with an optional fraction of
    /// any number of digits (nanoseconds kept, the rest dropped) and `Z` or a `±hh:mm` offset.
    public init?(rfc3339 text: String) {
        var text = text
        guard let value = text.withUTF8({ LogTimestamp.parseRFC3339(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    /// Parses RFC 3339 from raw bytes (the whole buffer must be the date-time).
    public static func parseRFC3339(_ bytes: UnsafeRawBufferPointer) -> LogTimestamp? {
        let count = bytes.count
        guard count >= 20 else { return nil }
        @inline(__always) func digit(_ index: Int) -> Int64? {
            let byte = bytes[index]
            return byte >= 0x30 && byte <= 0x39 ? Int64(byte &- 0x30) : nil
        }
        @inline(__always) func number(_ from: Int, _ length: Int) -> Int64? {
            var value: Int64 = 0
            for index in from ..< from + length {
                guard let d = digit(index) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"),
              let month = number(5, 2), bytes[7] == UInt8(ascii: "-"),
              let day = number(8, 2), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let hour = number(11, 2), bytes[13] == UInt8(ascii: ":"),
              let minute = number(14, 2), bytes[16] == UInt8(ascii: ":"),
              let second = number(17, 2)
        else { return nil }
        guard (1 ... 12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if index < count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            index += 1
            var digits = 0
            while index < count, let d = digit(index) {
                if digits < 9 { nanos = nanos * 10 + d }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            var scale = digits
            while scale < 9 { nanos *= 10; scale += 1 }
        }
        guard index < count else { return nil }
        var offset: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard count - index == 6, let hours = number(index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                  let minutes = number(index + 4, 2), hours < 24, minutes < 60
            else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
            index += 6
        default:
            return nil
        }
        guard index == count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return LogTimestamp(seconds: seconds, nanoseconds: Int32(nanos))
    }

    /// Appends the time as RFC 3339 in UTC. `fixedFraction` writes all nine fraction digits, as
    /// dockerd's `RFC3339NanoFixed` does for `docker logs --timestamps`
    /// (`2026-11-29T11:00:00.120000000Z`); otherwise trailing zeros are dropped, and the fraction
    /// with them when it is zero, as Go's `RFC3339Nano` does (`2026-11-29T11:00:00.12Z`).
    public func appendRFC3339(to out: inout [UInt8], fixedFraction: Bool) {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        let (year, month, day) = LogTimestamp.civilFromDays(days)
        @inline(__always) func two(_ value: Int64) {
            out.append(UInt8(truncatingIfNeeded: 0x30 + value / 10))
            out.append(UInt8(truncatingIfNeeded: 0x30 + value % 10))
        }
        let y = max(0, min(9999, year))
        two(y / 100); two(y % 100)
        out.append(UInt8(ascii: "-")); two(month)
        out.append(UInt8(ascii: "-")); two(day)
        out.append(UInt8(ascii: "T")); two(secondOfDay / 3600)
        out.append(UInt8(ascii: ":")); two(secondOfDay / 60 % 60)
        out.append(UInt8(ascii: ":")); two(secondOfDay % 60)
        var digits = 9
        var fraction = Int64(nanoseconds)
        if !fixedFraction {
            while digits > 0, fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        }
        if digits > 0 {
            out.append(UInt8(ascii: "."))
            let start = out.count
            for _ in 0 ..< digits { out.append(0) }
            var index = out.count - 1
            while index >= start {
                out[index] = UInt8(truncatingIfNeeded: 0x30 + fraction % 10)
                fraction /= 10
                index -= 1
            }
        }
        out.append(UInt8(ascii: "Z"))
    }

    public func rfc3339(fixedFraction: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(30)
        appendRFC3339(to: &bytes, fixedFraction: fixedFraction)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Docker's since / until query values

    /// Parses a `since` / `until` value as dockerd's API receives it. The docker CLI turns
    /// durations (`10m`) and dates into Unix `seconds[.fraction]` before it sends them
    /// (`1732870000.000000000`); a fraction of fewer or more than nine digits is scaled to
    /// nanoseconds as dockerd does. RFC 3339 date-times are accepted as well, for other
    /// clients. Returns nil for an empty value (no bound).
    public static func parseDockerTimestamp(_ value: String) throws(BerthError) -> LogTimestamp? {
        if value.isEmpty { return nil }
        if let unix = parseUnix(value) { return unix }
        if let date = LogTimestamp(rfc3339: value) { return date }
        // dockerd answers with Go's strconv error for the part that is not a number.
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let bad = Int64(parts[0]) == nil || parts.count == 1 ? parts[0] : parts[1]
        // Digits that overflow an int64 are Go's other error.
        let digits = bad.first == "-" || bad.first == "+" ? bad.dropFirst() : bad
        let reason = !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) ? "value out of range" : "invalid syntax"
        throw BerthError.invalidArgument("strconv.ParseInt: parsing \"\(bad)\": \(reason)")
    }

    private static func parseUnix(_ value: String) -> LogTimestamp? {
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0]) else { return nil }
        guard parts.count == 2 else { return LogTimestamp(seconds: seconds) }
        let fraction = parts[1]
        guard !fraction.isEmpty, fraction.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        // dockerd: n * 10^(9 - digits); keep the first nine digits (the same for ≤ 18 digits).
        var nanos: Int64 = 0
        var digits = 0
        for byte in fraction.utf8 where digits < 9 {
            nanos = nanos * 10 + Int64(byte - 0x30)
            digits += 1
        }
        while digits < 9 { nanos *= 10; digits += 1 }
        // A negative whole part ("-5.5") is read like Go's time.Unix(-5, 500000000).
        return LogTimestamp(seconds: seconds, nanoseconds: Int32(nanos))
    }

    // MARK: calendar (proleptic Gregorian, Howard Hinnant's algorithms)

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
