/// Go's strconv.Quote (`%q`), which dockerd's messages use for the values a client sent:
/// quotes and backslashes escaped, control characters as \n, \t or \x1b, printable
/// Unicode kept as it is.
enum GoQuote {
    static func quote(_ text: String) -> String {
        "\"" + text.unicodeScalars.map(escaped).joined() + "\""
    }

    /// One character as Go writes it inside a quoted string.
    static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\u{07}": return "\\a"
        case "\u{08}": return "\\b"
        case "\u{0C}": return "\\f"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{0B}": return "\\v"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                return "\\x" + hex(scalar.value, width: 2)
            }
            if scalar.value >= 0x80 && (scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
                || scalar.properties.generalCategory == .unassigned) {
                return scalar.value > 0xFFFF ? "\\U" + hex(scalar.value, width: 8) : "\\u" + hex(scalar.value, width: 4)
            }
            return String(scalar)
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
