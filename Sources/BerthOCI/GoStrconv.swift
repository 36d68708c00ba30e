/// Go's strconv in the words dockerd's messages carry: its Quote (`%q`) of a value a client
/// sent, and the errors of its number parsers (`strconv.Atoi: parsing "x": invalid syntax`).
/// One copy for every module that writes them.
public enum GoStrconv {
    /// strconv.Quote: quotes and backslashes escaped, control characters as \n, \t or \x1b,
    /// printable Unicode kept as it is.
    public static func quote(_ text: String) -> String {
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

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Which of strconv's two errors Go gives for a text that is no integer: digits that
    /// overflow are "value out of range", anything else "invalid syntax".
    public static func failure(_ text: String) -> String {
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        let decimal = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        return decimal ? "value out of range" : "invalid syntax"
    }

    /// The error of a failed integer parse: `strconv.Atoi: parsing "x": invalid syntax`.
    public static func numberError(_ function: String, _ text: String) -> String {
        "strconv.\(function): parsing \(quote(text)): \(failure(text))"
    }

    /// The error of a failed strconv.ParseBool.
    public static func boolError(_ text: String) -> String {
        "strconv.ParseBool: parsing \(quote(text)): invalid syntax"
    }

    /// dockerd passes a strconv error on as it is, with no errdefs type: a 500 in Go's words
    /// (`events?since=x`, `logs?until=x`), where Berth's parsers call it an invalid argument.
    public static func passedOn<T>(_ parse: () throws -> T) throws -> T {
        do {
            return try parse()
        } catch let error as BerthError where error.code == .invalidArgument && error.message.hasPrefix("strconv.") {
            throw BerthError.internalError(error.message)
        }
    }
}
