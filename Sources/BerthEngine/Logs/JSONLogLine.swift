import BerthOCI

/// One line of Docker's json-file log format:
/// `{"log":"text\n","stream":"stdout","time":"2026-11-29T11:00:00.123456789Z"}`.
///
/// The decoder is a hand-written scanner over the raw bytes: it reads the object's keys in any
/// order, unescapes the `log` string (every JSON escape, surrogate pairs included), skips keys
/// it does not know (`attrs`, ...), and rejects anything that is not one complete object, so a
/// half-written last line or a corrupt one is skipped by the reader instead of misread.
public enum JSONLogLine {
    /// Decodes one line (without its newline; surrounding whitespace is allowed).
    /// Returns nil for a corrupt or truncated line, or one without a valid stream or time.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> LogRecord? {
        var scanner = Scanner(bytes: bytes)
        return scanner.record()
    }

    public static func decode(_ bytes: [UInt8]) -> LogRecord? {
        bytes.withUnsafeBytes { decode($0) }
    }

    public static func decode(_ text: String) -> LogRecord? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }
}

// MARK: - the scanner

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

private struct Scanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    @inline(__always) var atEnd: Bool { index >= bytes.count }

    @inline(__always) mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    @inline(__always) mutating func expect(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    enum Key { case log, stream, time, other }

    mutating func record() -> LogRecord? {
        guard expect(UInt8(ascii: "{")) else { return nil }
        var line: [UInt8]?
        var stream: LogStream?
        var time: LogTimestamp?
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            return nil  // {} has neither stream nor time
        }
        while true {
            guard let key = readKey(), expect(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            switch key {
            case .log:
                guard index < bytes.count, bytes[index] == quote else { return nil }
                index += 1
                var out: [UInt8] = []
                guard readString(into: &out) else { return nil }
                line = out
            case .stream:
                guard let range = rawString() else { return nil }
                stream = matchStream(range)
            case .time:
                guard let range = rawString() else { return nil }
                time = LogTimestamp.parseRFC3339(UnsafeRawBufferPointer(rebasing: bytes[range]))
            case .other:
                guard skipValue(depth: 0) else { return nil }
            }
            skipSpace()
            guard index < bytes.count else { return nil }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            guard byte == UInt8(ascii: "}") else { return nil }
            break
        }
        skipSpace()
        guard atEnd, let stream, let time else { return nil }
        return LogRecord(stream: stream, timestamp: time, line: line ?? [])
    }

    /// Reads `"key"` and classifies it. Keys with escapes take the slow path.
    mutating func readKey() -> Key? {
        skipSpace()
        guard index < bytes.count, bytes[index] == quote else { return nil }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == quote {
                let length = index - start
                index += 1
                if length == 3, bytes[start] == UInt8(ascii: "l"), bytes[start + 1] == UInt8(ascii: "o"), bytes[start + 2] == UInt8(ascii: "g") {
                    return .log
                }
                if length == 4, bytes[start] == UInt8(ascii: "t"), bytes[start + 1] == UInt8(ascii: "i"),
                   bytes[start + 2] == UInt8(ascii: "m"), bytes[start + 3] == UInt8(ascii: "e") {
                    return .time
                }
                if length == 6, equals(start, "stream") { return .stream }
                return .other
            }
            if byte == backslash {
                index = start
                var out: [UInt8] = []
                guard readString(into: &out) else { return nil }
                switch out {
                case Array("log".utf8): return .log
                case Array("stream".utf8): return .stream
                case Array("time".utf8): return .time
                default: return .other
                }
            }
            index += 1
        }
        return nil
    }

    func equals(_ start: Int, _ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard start + length <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for offset in 0 ..< length where bytes[start + offset] != pointer[offset] { return false }
        return true
    }

    func matchStream(_ range: Range<Int>) -> LogStream? {
        guard range.count == 6, equals(range.lowerBound, "std") else { return nil }
        let start = range.lowerBound + 3
        if bytes[start] == UInt8(ascii: "o"), bytes[start + 1] == UInt8(ascii: "u"), bytes[start + 2] == UInt8(ascii: "t") {
            return .stdout
        }
        if bytes[start] == UInt8(ascii: "e"), bytes[start + 1] == UInt8(ascii: "r"), bytes[start + 2] == UInt8(ascii: "r") {
            return .stderr
        }
        return nil
    }

    /// A string value without escapes, as the range of its bytes (stream, time). A value that
    /// has escapes is unescaped into a scratch buffer and matched from there.
    mutating func rawString() -> Range<Int>? {
        guard index < bytes.count, bytes[index] == quote else { return nil }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == quote {
                index += 1
                return start ..< index - 1
            }
            if byte == backslash { return nil }  // "stdout" and times never need escapes
            index += 1
        }
        return nil
    }

    /// Reads the rest of a string whose opening quote was consumed, unescaping into `out`.
    mutating func readString(into out: inout [UInt8]) -> Bool {
        let count = bytes.count
        out.reserveCapacity(count - index)
        while true {
            let runStart = index
            while index < count {
                let byte = bytes[index]
                if byte == quote || byte == backslash { break }
                index += 1
            }
            if index > runStart {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart ..< index]))
            }
            guard index < count else { return false }  // truncated
            if bytes[index] == quote {
                index += 1
                return true
            }
            // escape
            index += 1
            guard index < count else { return false }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "\""): out.append(quote)
            case UInt8(ascii: "\\"): out.append(backslash)
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return false }
                if scalar >= 0xD800, scalar < 0xDC00 {
                    // A high surrogate: combine with a following low one, else U+FFFD (as Go).
                    let save = index
                    if index + 1 < count, bytes[index] == backslash, bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        if let low = hex4(), low >= 0xDC00, low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    scalar = 0xFFFD  // a lone low surrogate
                }
                appendUTF8(scalar, to: &out)
            default:
                return false
            }
        }
    }

    mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 0x30 ... 0x39: digit = UInt32(byte - 0x30)
            case 0x41 ... 0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61 ... 0x66: digit = UInt32(byte - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0 ..< 0x80:
            out.append(UInt8(scalar))
        case 0x80 ..< 0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800 ..< 0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Skips any JSON value (for keys the reader does not use, such as `attrs`).
    mutating func skipValue(depth: Int) -> Bool {
        guard depth < 64 else { return false }
        skipSpace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case quote:
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == backslash { index += 1 } else if byte == quote { return true }
            }
            return false
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == close { index += 1; return true }
            while true {
                if isObject {
                    guard readKey() != nil, expect(UInt8(ascii: ":")) else { return false }
                }
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                guard index < bytes.count else { return false }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: ",") { continue }
                return byte == close
            }
        default:
            // number, true, false, null: a run of their characters
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                     UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "a") ... UInt8(ascii: "z"):
                    index += 1
                default:
                    return index > start
                }
            }
            return index > start
        }
    }
}
