/// The few Go formatting rules that show in the history and config of a built image, where
/// dockerd writes values with `%q` (`CMD ["cat" "/hi"]`).
enum GoFormat {
    /// Go's strconv.Quote for the common case: printable characters as they are, `"` and
    /// `\` escaped, control characters as escapes.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{0B}": out += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `%q` of a []string: `["a" "b"]`.
    static func quote(_ list: [String]) -> String {
        "[" + list.map { quote($0) }.joined(separator: " ") + "]"
    }

    /// `%q` of an int: a quoted character ('\x03', 'A').
    static func quoteRune(_ value: Int) -> String {
        if value == 39 { return "'\\''" }
        if value == 92 { return "'\\\\'" }
        if value >= 0x20 && value < 0x7F, let scalar = Unicode.Scalar(value) { return "'" + String(Character(scalar)) + "'" }
        if value < 0x100 { return "'\\x" + hex(UInt32(value), width: 2) + "'" }
        return "'\\u" + hex(UInt32(value), width: 4) + "'"
    }

    /// Go's time.Duration.String(): "0s", "1.5s", "1m30s", "500ms", "2h0m0s".
    static func duration(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        var value = UInt64(negative ? -nanoseconds : nanoseconds)
        if value < 1_000_000_000 {
            // Below a second: the largest unit that keeps the value at least 1.
            let (unit, size): (String, UInt64) = value < 1_000 ? ("ns", 1) : value < 1_000_000 ? ("µs", 1_000) : ("ms", 1_000_000)
            return (negative ? "-" : "") + decimal(value, unitSize: size) + unit
        }
        var text = ""
        let hours = value / 3_600_000_000_000
        value %= 3_600_000_000_000
        let minutes = value / 60_000_000_000
        value %= 60_000_000_000
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        text += decimal(value, unitSize: 1_000_000_000) + "s"
        return (negative ? "-" : "") + text
    }

    /// value / unitSize with the fraction's trailing zeros dropped.
    private static func decimal(_ value: UInt64, unitSize: UInt64) -> String {
        let whole = value / unitSize
        var fraction = value % unitSize
        guard fraction > 0 else { return String(whole) }
        var digits = String(unitSize).count - 1
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let padded = String(repeating: "0", count: max(0, digits - String(fraction).count)) + String(fraction)
        return "\(whole).\(padded)"
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
