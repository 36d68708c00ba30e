#if canImport(Glibc)
import Glibc
#endif

/// The few string helpers the daemon needs that FoundationEssentials lacks (the full
/// Foundation they come from costs several MiB of resident memory).
extension StringProtocol {
    /// Without leading and trailing whitespace; newlines count as whitespace unless told not to.
    public func trimmed(newlines: Bool = true) -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace && (newlines || !$0.isNewline) }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }

    /// Without any of `characters` at either end.
    public func trimmed(of characters: Set<Character>) -> String {
        guard let first = firstIndex(where: { !characters.contains($0) }) else { return "" }
        let last = lastIndex(where: { !characters.contains($0) })!
        return String(self[first...last])
    }
}

extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits a byte.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
public func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

extension StringProtocol {
    /// With `%XX` escapes decoded (as a URL path or query); nil when an escape is malformed
    /// or the bytes are not UTF-8.
    public var percentDecoded: String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        func hexValue(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case .some(let b) where b >= 0x30 && b <= 0x39: return b - 0x30
            case .some(let b) where b >= 0x41 && b <= 0x46: return b - 0x41 + 10
            case .some(let b) where b >= 0x61 && b <= 0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = hexValue(iterator.next()), let low = hexValue(iterator.next()) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// `value` with at most `significant` significant digits and no trailing zeros, as C's `%g`
/// writes numbers below 10^significant (Go's units.HumanSize uses `%.4g`).
public func formatSignificant(_ value: Double, digits significant: Int) -> String {
    guard value.isFinite, value != 0 else { return "0" }
    let magnitude = Int((abs(value)).rounded(.down) == 0 ? 0 : Int(log10(abs(value)).rounded(.down)) + 1)
    let decimals = max(0, significant - max(magnitude, 1))
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    var digits = String(Int64(scaled))
    if decimals > 0 {
        while digits.count <= decimals { digits = "0" + digits }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        while digits.hasSuffix("0") { digits.removeLast() }
        if digits.hasSuffix(".") { digits.removeLast() }
    }
    return (value < 0 ? "-" : "") + digits
}

extension StringProtocol {
    /// The text as a JSON string written as Go's encoding/json writes it: quotes, backslashes
    /// and control characters escaped (\b and \f by name, as Go 1.22 and later), and also <, >,
    /// & and U+2028/U+2029 (as \uXXXX).
    /// For JSON whose bytes must match dockerd's.
    public var goJSONQuoted: String {
        func hex4(_ value: UInt32) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
        }
        var out = "\""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"  // Go 1.22 and later
            case "\u{C}": out += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}": out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 { out += "\\u" + hex4(scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// An errno as Go's syscall.Errno prints it (and so dockerd's and runc's errors): glibc's
/// text, lower case first. The docker CLI reads "no such file or directory" and "permission
/// denied" in a failed start to exit with 127 or 126.
public func goErrorText(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    return text.prefix(1).lowercased() + text.dropFirst()
}
