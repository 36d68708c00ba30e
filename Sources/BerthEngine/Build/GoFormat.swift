import BerthOCI

/// The few Go formatting rules that show in the history and config of a built image, where
/// dockerd writes values with `%q` (`CMD ["cat" "/hi"]`).
enum GoFormat {
    /// Go's strconv.Quote.
    static func quote(_ text: String) -> String { GoStrconv.quote(text) }

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
        GoDuration.describe(nanoseconds: nanoseconds)
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
