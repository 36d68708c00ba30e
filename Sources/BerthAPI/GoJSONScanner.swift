import BerthOCI

/// Finds the first JSON value of a request body as Go's json.Decoder reads it, failing with
/// Go's words: dockerd hands them to the client (`invalid JSON: unexpected EOF`,
/// `invalid character 'x' looking for beginning of value`), and what follows the value is
/// left for the caller (dockerd's "unexpected content after JSON").
struct GoJSONScanner {
    enum Failure: Error, Equatable {
        /// Nothing but white space: Go's io.EOF.
        case endOfInput
        /// A value cut short: io.ErrUnexpectedEOF.
        case unexpectedEnd
        /// A syntax error, in Go's words.
        case syntax(String)

        var text: String {
            switch self {
            case .endOfInput: return "EOF"
            case .unexpectedEnd: return "unexpected EOF"
            case .syntax(let text): return text
            }
        }
    }

    private let bytes: [UInt8]
    private var position = 0

    /// The byte range of the first value: its end, and whether anything but white space, `]`
    /// or `}` follows it (Go's Decoder.More).
    static func firstValue(_ bytes: [UInt8]) throws(Failure) -> (end: Int, more: Bool) {
        var scanner = GoJSONScanner(bytes: bytes)
        scanner.skipSpace()
        guard scanner.position < bytes.count else { throw .endOfInput }
        try scanner.value()
        let end = scanner.position
        scanner.skipSpace()
        let more = scanner.position < bytes.count && bytes[scanner.position] != UInt8(ascii: "]")
            && bytes[scanner.position] != UInt8(ascii: "}")
        return (end, more)
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    /// The next byte, or the end of the input as Go's unexpected EOF.
    private func peek() throws(Failure) -> UInt8 {
        guard position < bytes.count else { throw .unexpectedEnd }
        return bytes[position]
    }

    private func invalid(_ byte: UInt8, _ context: String) -> Failure {
        .syntax("invalid character \(Self.quoteChar(byte)) \(context)")
    }

    /// Go's quoteChar: the byte in single quotes, escaped as strconv.Quote would; a byte of
    /// 0x80 or more is read as the code point of that number (a UTF-8 BOM's first is 'ï').
    static func quoteChar(_ byte: UInt8) -> String {
        if byte == UInt8(ascii: "'") { return "'\\''" }
        if byte == UInt8(ascii: "\"") { return "'\"'" }
        let quoted = GoStrconv.quote(String(Unicode.Scalar(byte)))
        return "'" + quoted.dropFirst().dropLast() + "'"
    }

    private mutating func value() throws(Failure) {
        skipSpace()
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): try object()
        case UInt8(ascii: "["): try array()
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: throw invalid(byte, "looking for beginning of value")
        }
    }

    private mutating func object() throws(Failure) {
        position += 1
        skipSpace()
        if try peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            skipSpace()
            let keyStart = try peek()
            guard keyStart == UInt8(ascii: "\"") else { throw invalid(keyStart, "looking for beginning of object key string") }
            try string()
            skipSpace()
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw invalid(colon, "after object key") }
            position += 1
            try value()
            skipSpace()
            let next = try peek()
            position += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw invalid(next, "after object key:value pair") }
        }
    }

    private mutating func array() throws(Failure) {
        position += 1
        skipSpace()
        if try peek() == UInt8(ascii: "]") { position += 1; return }
        while true {
            try value()
            skipSpace()
            let next = try peek()
            position += 1
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw invalid(next, "after array element") }
        }
    }

    private mutating func string() throws(Failure) {
        position += 1
        while true {
            let byte = try peek()
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return
            case UInt8(ascii: "\\"):
                let escape = try peek()
                position += 1
                if escape == UInt8(ascii: "u") {
                    for _ in 0..<4 {
                        let digit = try peek()
                        guard Self.isHexDigit(digit) else { throw invalid(digit, "in \\u hexadecimal character escape") }
                        position += 1
                    }
                } else if !Array("\"\\/bfnrt".utf8).contains(escape) {
                    throw invalid(escape, "in string escape code")
                }
            case 0..<0x20: throw invalid(byte, "in string literal")
            default: continue
            }
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// A number ends at the first byte that cannot continue it; what that byte means is
    /// for the enclosing value to say. At the end of the input a whole number is complete.
    private mutating func number() throws(Failure) {
        if bytes[position] == UInt8(ascii: "-") {
            position += 1
            let first = try peek()
            guard Self.isDigit(first) else { throw invalid(first, "in numeric literal") }
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            let first = try peek()
            guard Self.isDigit(first) else { throw invalid(first, "after decimal point in numeric literal") }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if try peek() == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            let first = try peek()
            guard Self.isDigit(first) else { throw invalid(first, "in exponent of numeric literal") }
            while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        for expected in word.utf8 {
            let byte = try peek()
            guard byte == expected else {
                throw invalid(byte, "in literal \(word) (expecting \(Self.quoteChar(expected)))")
            }
            position += 1
        }
    }
}
