/// JSON string escaping of raw output bytes, the way dockerd's log drivers write them: `"` and
/// `\` escaped, control characters and `<` `>` `&` as \u00XX (a few short, by `Style`),
/// U+2028/U+2029 as \u2028/\u2029, and each byte of invalid UTF-8 as \ufffd.
/// Works on raw bytes: runs of plain bytes are copied in one piece.
public enum JSONEscape {
    /// Which control characters get a short escape.
    public enum Style: Sendable {
        /// json-file's own writer: \n and \r only (a tab is \u0009).
        case jsonFile
        /// Go's encoding/json (GELF): \n \r \t, and \b \f (Go 1.22 and later).
        case goEncoder
    }

    /// Bytes that go out as they are (printable ASCII except `"` `\` `<` `>` `&`).
    static let plain: [Bool] = (0..<256).map { b in
        b >= 0x20 && b < 0x80 && b != 0x22 && b != 0x5C && b != 0x3C && b != 0x3E && b != 0x26
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    static let replacement: [UInt8] = Array("\\ufffd".utf8)

    public static func append(_ bytes: UnsafeBufferPointer<UInt8>, style: Style = .jsonFile, to out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var runStart = 0
        var i = 0
        plain.withUnsafeBufferPointer { plain in
            while i < count {
                let b = base[i]
                if plain[Int(b)] {
                    i += 1
                    continue
                }
                var sequence = 0
                if b >= 0x80 {
                    sequence = validSequenceLength(base, i, count)
                    // A valid character other than U+2028/U+2029 is copied as it is.
                    if sequence > 0 && !(sequence == 3 && b == 0xE2 && base[i + 1] == 0x80 && (base[i + 2] | 1) == 0xA9) {
                        i += sequence
                        continue
                    }
                }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart)) }
                if b < 0x80 {
                    appendEscaped(ascii: b, style: style, to: &out)
                    i += 1
                } else if sequence == 0 {
                    out.append(contentsOf: replacement)
                    i += 1
                } else {
                    out.append(contentsOf: base[i + 2] == 0xA8 ? Array("\\u2028".utf8) : Array("\\u2029".utf8))
                    i += 3
                }
                runStart = i
            }
        }
        if runStart < count { out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart)) }
    }

    public static func append(_ bytes: [UInt8], style: Style = .jsonFile, to out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0, style: style, to: &out) }
    }

    static func appendEscaped(ascii b: UInt8, style: Style, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch (b, style) {
        case (0x22, _): out.append(0x22)
        case (0x5C, _): out.append(0x5C)
        case (0x0A, _): out.append(UInt8(ascii: "n"))
        case (0x0D, _): out.append(UInt8(ascii: "r"))
        case (0x09, .goEncoder): out.append(UInt8(ascii: "t"))
        case (0x08, .goEncoder): out.append(UInt8(ascii: "b"))
        case (0x0C, .goEncoder): out.append(UInt8(ascii: "f"))
        default:
            out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(b >> 4)], hexDigits[Int(b & 0xF)]])
        }
    }

    /// Length of the well-formed UTF-8 sequence starting at `i` (2...4), or 0 when it is not
    /// one (stray continuation byte, overlong form, surrogate, above U+10FFFF, or cut short).
    static func validSequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int {
        let b = p[i]
        func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            i + k < count && p[i + k] >= low && p[i + k] <= high
        }
        switch b {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE, 0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }
}
