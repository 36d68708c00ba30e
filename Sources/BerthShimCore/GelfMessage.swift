/// One GELF 1.1 message as dockerd's gelf driver sends it: the JSON object
/// `{"version":"1.1","host":…,"short_message":…,"timestamp":…,"level":…,` then the extra
/// fields (`_container_id`, `_command`, … and the log attributes, each named with a leading
/// `_`) in Go's sorted key order `}`. The timestamp is seconds with milliseconds (Go's
/// shortest float text); level 6 (info) for stdout, 3 (error) for stderr.
public enum GelfMessage {
    /// The part after the level that every message of a container shares: `,"_k":"v"…}`,
    /// `fields` already sorted (berthd sorts them as Go's encoder does).
    public static func extraFields(_ fields: [(name: String, value: String)]) -> [UInt8] {
        var out: [UInt8] = []
        for field in fields {
            out.append(UInt8(ascii: ","))
            appendString(Array(field.name.utf8), to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(Array(field.value.utf8), to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The prefix every message of a host shares: `{"version":"1.1","host":"NAME","short_message":`.
    public static func head(hostname: [UInt8]) -> [UInt8] {
        var out = Array(#"{"version":"1.1","host":"#.utf8)
        appendString(hostname, to: &out)
        out.append(contentsOf: #","short_message":"#.utf8)
        return out
    }

    /// The message's text out of a record: without the line's `\n`; nil for an empty line,
    /// which dockerd's driver does not send.
    public static func text(of line: UnsafeBufferPointer<UInt8>, partial: Bool) -> UnsafeBufferPointer<UInt8>? {
        SyslogMessage.text(of: line, partial: partial)
    }

    public static func append(head: [UInt8], message: UnsafeBufferPointer<UInt8>, milliseconds: Int64, stderr: Bool,
                              extra: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: head)
        out.append(UInt8(ascii: "\""))
        JSONEscape.append(message, style: .goEncoder, to: &out)
        out.append(contentsOf: #"","timestamp":"#.utf8)
        appendSeconds(milliseconds: milliseconds, to: &out)
        out.append(contentsOf: stderr ? Array(#","level":3"#.utf8) : Array(#","level":6"#.utf8))
        out.append(contentsOf: extra)
    }

    /// Milliseconds as Go's JSON writes their float of seconds: `1796036746.198`,
    /// `1796036746.2`, `1796036746` (three decimals are always exact at this size).
    public static func appendSeconds(milliseconds: Int64, to out: inout [UInt8]) {
        SyslogMessage.appendNumber(Int(milliseconds / 1000), to: &out)
        var fraction = Int(milliseconds % 1000)
        guard fraction > 0 else { return }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        out.append(UInt8(ascii: "."))
        Timestamp.appendDigits(&out, Int64(fraction), width: digits)
    }

    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        bytes.withUnsafeBufferPointer { JSONEscape.append($0, style: .goEncoder, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: - UDP chunks

    /// A datagram holds at most this much (go-gelf's chunk size).
    public static let chunkSize = 1420
    static let chunkHeaderSize = 12
    public static let maxChunks = 128

    /// The datagrams of one message: itself when it fits, else GELF chunks (magic 0x1e 0x0f,
    /// the message id, the chunk's number and the count, then its part); nil when it would
    /// need more than 128 chunks (go-gelf refuses such a message).
    public static func datagrams(_ payload: [UInt8], id: UInt64) -> [[UInt8]]? {
        guard payload.count > chunkSize else { return [payload] }
        let part = chunkSize - chunkHeaderSize
        // go-gelf's count, one more than needed when the parts fill exactly (the last is empty).
        let count = payload.count / part + 1
        guard count <= maxChunks else { return nil }
        var chunks: [[UInt8]] = []
        for index in 0..<count {
            var chunk: [UInt8] = [0x1E, 0x0F]
            var rest = id
            for _ in 0..<8 {
                chunk.append(UInt8(truncatingIfNeeded: rest >> 56))
                rest <<= 8
            }
            chunk.append(UInt8(index))
            chunk.append(UInt8(count))
            chunk.append(contentsOf: payload[min(payload.count, index * part)..<min(payload.count, (index + 1) * part)])
            chunks.append(chunk)
        }
        return chunks
    }
}
