/// Reading the runtime's `--log` file, where each failure is a line
/// `time="..." level=error msg="MESSAGE"`. The message is not escaped, so it ends at the
/// line's last quote.
public enum RuntimeLog {
    /// The message of the last error line in `text`, or nil when there is none.
    public static func lastError(in text: [UInt8]) -> String? {
        var result: String?
        var start = 0
        while start < text.count {
            var end = start
            while end < text.count && text[end] != 0x0A { end += 1 }
            if let message = message(in: text[start..<end]) { result = message }
            start = end + 1
        }
        return result
    }

    static func message(in line: ArraySlice<UInt8>) -> String? {
        guard find(Array("level=error".utf8), in: line) != nil,
              let open = find(Array("msg=\"".utf8), in: line) else { return nil }
        var body = line[(open + 5)...]
        if body.last == UInt8(ascii: "\"") { body = body.dropLast() }
        return String(decoding: body, as: UTF8.self)
    }

    /// Index of the first occurrence of `needle` in `haystack`.
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        while i + needle.count <= haystack.endIndex {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
