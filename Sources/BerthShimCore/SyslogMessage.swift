/// One syslog message as dockerd's syslog log driver writes it: one message per record, in
/// one of its four layouts, ending in `\n`. Pure, so that every byte is unit-tested.
///
/// - `unix` (no `syslog-format`): `<PRI>Mmm _d hh:mm:ss TAG[PID]: MSG`
/// - `rfc3164`: `<PRI>Mmm _d hh:mm:ss HOST TAG[PID]: MSG`
/// - `rfc5424`: `<PRI>1 TIME HOST TAG PID TAG - MSG`, TIME in RFC 3339 to the second
/// - `rfc5424micro`: the same with microseconds, trailing zeros dropped (Go's `.999999`)
///
/// Times are the host's local time, as dockerd's are.
public enum SyslogMessage {
    public enum Format: Equatable, Sendable {
        case unix, rfc3164, rfc5424, rfc5424micro

        /// The `--syslog-format` word the shim is given.
        public init?(word: String) {
            switch word.utf8 {
            case "unix": self = .unix
            case "rfc3164": self = .rfc3164
            case "rfc5424": self = .rfc5424
            case "rfc5424micro": self = .rfc5424micro
            default: return nil
            }
        }
    }

    /// A moment in local time, broken down (as localtime_r gives it).
    public struct LocalTime: Equatable, Sendable {
        public var year, month, day, hour, minute, second: Int
        public var microsecond: Int
        /// Seconds east of UTC.
        public var utcOffset: Int

        public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, microsecond: Int, utcOffset: Int) {
            self.year = year
            self.month = month
            self.day = day
            self.hour = hour
            self.minute = minute
            self.second = second
            self.microsecond = microsecond
            self.utcOffset = utcOffset
        }
    }

    /// The priority of a record: the facility (0-23) and info (6) for stdout, err (3) for stderr.
    public static func priority(facility: Int, stderr: Bool) -> Int {
        facility * 8 + (stderr ? 3 : 6)
    }

    /// The message's text out of a record: without the line's `\n`; nil for an empty line,
    /// which dockerd's driver does not send.
    public static func text(of line: UnsafeBufferPointer<UInt8>, partial: Bool) -> UnsafeBufferPointer<UInt8>? {
        var text = line
        if !partial, text.last == 0x0A { text = UnsafeBufferPointer(rebasing: text.dropLast()) }
        return text.isEmpty ? nil : text
    }

    public static func append(format: Format, priority: Int, time: LocalTime, hostname: [UInt8], tag: [UInt8], pid: Int32,
                              message: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "<"))
        appendNumber(priority, to: &out)
        out.append(UInt8(ascii: ">"))
        switch format {
        case .unix, .rfc3164:
            appendStamp(time, to: &out)
            out.append(UInt8(ascii: " "))
            if format == .rfc3164 {
                out.append(contentsOf: hostname)
                out.append(UInt8(ascii: " "))
            }
            out.append(contentsOf: tag)
            out.append(UInt8(ascii: "["))
            appendNumber(Int(pid), to: &out)
            out.append(contentsOf: "]: ".utf8)
        case .rfc5424, .rfc5424micro:
            out.append(contentsOf: "1 ".utf8)
            appendRFC3339(time, microseconds: format == .rfc5424micro, to: &out)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: hostname)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: tag)
            out.append(UInt8(ascii: " "))
            appendNumber(Int(pid), to: &out)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: tag)
            out.append(contentsOf: " - ".utf8)
        }
        out.append(contentsOf: message)
        if message.last != 0x0A { out.append(0x0A) }
    }

    public static func string(format: Format, priority: Int, time: LocalTime, hostname: String, tag: String, pid: Int32,
                              message: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(message.utf8)
        bytes.withUnsafeBufferPointer {
            append(format: format, priority: priority, time: time, hostname: Array(hostname.utf8), tag: Array(tag.utf8),
                   pid: pid, message: $0, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Go's `time.Stamp`: `Jan _2 15:04:05` (the day padded with a space).
    static func appendStamp(_ time: LocalTime, to out: inout [UInt8]) {
        months[(time.month - 1) % 12].withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: " "))
        if time.day < 10 { out.append(UInt8(ascii: " ")) }
        appendNumber(time.day, to: &out)
        out.append(UInt8(ascii: " "))
        appendClock(time, to: &out)
    }

    /// Go's `time.RFC3339` (or, with microseconds, `2006-01-02T15:04:05.999999Z07:00`).
    static func appendRFC3339(_ time: LocalTime, microseconds: Bool, to out: inout [UInt8]) {
        Timestamp.appendDigits(&out, Int64(time.year), width: 4)
        out.append(UInt8(ascii: "-"))
        Timestamp.appendDigits(&out, Int64(time.month), width: 2)
        out.append(UInt8(ascii: "-"))
        Timestamp.appendDigits(&out, Int64(time.day), width: 2)
        out.append(UInt8(ascii: "T"))
        appendClock(time, to: &out)
        if microseconds && time.microsecond > 0 {
            out.append(UInt8(ascii: "."))
            Timestamp.appendDigits(&out, Int64(time.microsecond), width: 6)
            while out.last == UInt8(ascii: "0") { out.removeLast() }
        }
        if time.utcOffset == 0 {
            out.append(UInt8(ascii: "Z"))
        } else {
            let minutes = abs(time.utcOffset) / 60
            out.append(UInt8(ascii: time.utcOffset < 0 ? "-" : "+"))
            Timestamp.appendDigits(&out, Int64(minutes / 60), width: 2)
            out.append(UInt8(ascii: ":"))
            Timestamp.appendDigits(&out, Int64(minutes % 60), width: 2)
        }
    }

    static func appendClock(_ time: LocalTime, to out: inout [UInt8]) {
        Timestamp.appendDigits(&out, Int64(time.hour), width: 2)
        out.append(UInt8(ascii: ":"))
        Timestamp.appendDigits(&out, Int64(time.minute), width: 2)
        out.append(UInt8(ascii: ":"))
        Timestamp.appendDigits(&out, Int64(time.second), width: 2)
    }

    /// A non-negative decimal number.
    public static func appendNumber(_ value: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            appendNumber(-value, to: &out)
            return
        }
        if value >= 10 { appendNumber(value / 10, to: &out) }
        out.append(UInt8(48 + value % 10))
    }
}
