/// Docker's log timestamp: RFC 3339 in UTC with exactly nine fraction digits
/// (`2026-11-29T11:00:00.123456789Z`), always 30 bytes.
public enum Timestamp {
    public static let length = 30

    /// Writes the timestamp for `seconds`.`nanoseconds` since the epoch into `out`. With
    /// `trimmingZeros` the fraction loses its trailing zeros (and its dot when it is zero), as
    /// Go's `RFC3339Nano` layout writes it.
    public static func append(to out: inout [UInt8], seconds: Int64, nanoseconds: Int64, trimmingZeros: Bool = false) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        appendDigits(&out, year, width: 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, month, width: 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, day, width: 2)
        out.append(UInt8(ascii: "T"))
        appendDigits(&out, secondOfDay / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secondOfDay / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secondOfDay % 60, width: 2)
        out.append(UInt8(ascii: "."))
        appendDigits(&out, nanoseconds, width: 9)
        if trimmingZeros {
            while out.last == UInt8(ascii: "0") { out.removeLast() }
            if out.last == UInt8(ascii: ".") { out.removeLast() }
        }
        out.append(UInt8(ascii: "Z"))
    }

    public static func string(seconds: Int64, nanoseconds: Int64) -> String {
        var out: [UInt8] = []
        append(to: &out, seconds: seconds, nanoseconds: nanoseconds)
        return String(decoding: out, as: UTF8.self)
    }

    /// Year, month, day of the proleptic Gregorian calendar for a day count from 1970-01-01.
    /// Works in 400-year eras, which repeat exactly, counting years from March so that the
    /// leap day falls at the end of a year.
    static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let shifted = daysSinceEpoch + 719_468          // days since 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097          // 0 ... 146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0 = March ... 11 = February
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func appendDigits(_ out: inout [UInt8], _ value: Int64, width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(48 + rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
