// Words of the shim's command line and protocol, matched byte by byte. berth-shim is built as
// Embedded Swift, where String's ==, hasPrefix and Character-based operations need the
// Unicode data tables, a library SwiftPM cannot name portably. These words are ASCII, and for
// ASCII the bytes compare exactly as the Strings do.

/// `case "word":` over the UTF-8 bytes of a string or a part of one.
func ~= (pattern: StaticString, value: Substring.UTF8View) -> Bool {
    pattern.withUTF8Buffer { value.elementsEqual($0) }
}

func ~= (pattern: StaticString, value: String.UTF8View) -> Bool {
    pattern.withUTF8Buffer { value.elementsEqual($0) }
}

extension StringProtocol {
    /// Whether the two hold the same UTF-8 bytes.
    func hasSameBytes<Other: StringProtocol>(as other: Other) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}
