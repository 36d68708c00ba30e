import BerthOCI

/// Go's url.ParseQuery, for its errors only: the query of a request is read leniently by
/// HTTPHandler.parse, but dockerd refuses what Go cannot parse, with the first error found
/// (`invalid URL escape "%zz"`, `invalid semicolon separator in query`).
enum GoQueryCheck {
    static func error(_ uri: String) -> String? {
        guard let mark = uri.firstIndex(of: "?") else { return nil }
        var escapeError: String?
        for pair in uri[uri.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
            // Go sets this one whatever came before, and goes on.
            if pair.contains(";") { return "invalid semicolon separator in query" }
            let key = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if escapeError == nil, let bad = badEscape(key) ?? badEscape(pair.dropFirst(key.count)) {
                escapeError = "invalid URL escape " + GoStrconv.quote(bad)
            }
        }
        return escapeError
    }

    /// The first `%` not followed by two hex digits, with up to two characters after it.
    static func badEscape(_ text: Substring) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else {
                    return String(decoding: bytes[index..<min(index + 3, bytes.count)], as: UTF8.self)
                }
                index += 3
            } else {
                index += 1
            }
        }
        return nil
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
