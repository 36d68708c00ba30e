import BerthOCI
import FoundationEssentials
import Glibc

/// The times dockerd's `until` / `since` filters take (its GetTimestamp): a Go duration back
/// from now ("10m", "1h30m"), a date or RFC 3339 time with or without a zone ("2024-01-02",
/// "2024-01-02T15:04", "2024-01-02T15:04:05.5Z", "2024-01-02T15:04:05+02:00"; no zone is
/// the daemon's local time), or Unix seconds with an optional fraction.
public enum DockerTimestamp {
    /// Seconds since the epoch; nil for what dockerd refuses.
    public static func seconds(_ text: String, now: Double = Date().timeIntervalSince1970) -> Double? {
        if text != "0", let nanoseconds = GoDuration.nanoseconds(text) { return now - Double(nanoseconds) / 1e9 }
        if text.contains("-") { return calendarTime(text) }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        return Double(text)
    }

    /// "YYYY-MM-DD[THH[:MM[:SS[.fraction]]]][Z|±hh:mm]".
    private static func calendarTime(_ text: String) -> Double? {
        var rest = Substring(text)
        func number(_ digits: Int) -> Int? {
            let field = rest.prefix(digits)
            guard field.count == digits, field.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            rest = rest.dropFirst(digits)
            return Int(field)
        }
        func skip(_ character: Character) -> Bool {
            guard rest.first == character else { return false }
            rest = rest.dropFirst()
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, fraction = 0.0
        if skip("T") {
            guard let h = number(2), h < 24 else { return nil }
            hour = h
            if skip(":") {
                guard let m = number(2), m < 60 else { return nil }
                minute = m
                if skip(":") {
                    guard let s = number(2), s < 60 else { return nil }
                    second = s
                    if skip(".") {
                        let digits = rest.prefix { $0.isASCII && $0.isNumber }
                        guard !digits.isEmpty, let value = Double("0." + digits) else { return nil }
                        fraction = value
                        rest = rest.dropFirst(digits.count)
                    }
                }
            }
        }
        var offset: Int?
        if skip("Z") || skip("z") {
            offset = 0
        } else if let sign = rest.first, sign == "+" || sign == "-" {
            rest = rest.dropFirst()
            guard let h = number(2), skip(":"), let m = number(2) else { return nil }
            offset = (sign == "-" ? -1 : 1) * (h * 3600 + m * 60)
        }
        guard rest.isEmpty else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(hour)
        fields.tm_min = Int32(minute)
        fields.tm_sec = Int32(second)
        fields.tm_isdst = -1
        let base: time_t
        if let offset {
            base = timegm(&fields) - time_t(offset)
        } else {
            base = mktime(&fields)
        }
        return Double(base) + fraction
    }

    /// A prune filter's `until`, or current dockerd's error.
    public static func until(_ text: String) throws -> Double {
        guard let seconds = seconds(text) else {
            throw BerthError.invalidArgument("failed to parse value as time or duration: \"\(text)\"")
        }
        return seconds
    }
}
