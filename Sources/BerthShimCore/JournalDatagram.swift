/// journald's native protocol: one datagram per entry, one field after another. A value
/// without a newline is `NAME=value\n`; any other value is `NAME\n`, its length as a 64-bit
/// little-endian number, the bytes, and `\n`.
public enum JournalDatagram {
    public static func appendField(_ name: String, _ value: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        if value.contains(0x0A) {
            out.append(0x0A)
            var length = UInt64(value.count).littleEndian
            withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
            out.append(contentsOf: value)
        } else {
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: value)
        }
        out.append(0x0A)
    }

    public static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        let bytes = Array(value.utf8)
        bytes.withUnsafeBufferPointer { appendField(name, $0, to: &out) }
    }

    /// The fields every entry of a container carries, encoded once.
    public static func containerFields(id: String, name: String?) -> [UInt8] {
        var out: [UInt8] = []
        let short = String(Substring(id.utf8.prefix(12)))  // ids are hex: bytes are characters
        appendField("CONTAINER_ID", short, to: &out)
        appendField("CONTAINER_ID_FULL", id, to: &out)
        if let name { appendField("CONTAINER_NAME", name, to: &out) }
        appendField("CONTAINER_TAG", short, to: &out)
        appendField("SYSLOG_IDENTIFIER", short, to: &out)
        return out
    }

    /// One entry: MESSAGE is the line without its `\n`; PRIORITY is 6 (info) for stdout and
    /// 3 (err) for stderr; a piece of a longer line is marked CONTAINER_PARTIAL_MESSAGE=true.
    public static func entry(line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool,
                             containerFields: [UInt8]) -> [UInt8] {
        var message = line
        if !partial, let last = line.last, last == 0x0A {
            message = UnsafeBufferPointer(rebasing: line.dropLast())
        }
        var out: [UInt8] = []
        out.reserveCapacity(message.count + containerFields.count + 64)
        appendField("MESSAGE", message, to: &out)
        out.append(contentsOf: containerFields)
        out.append(contentsOf: stderr ? Array("PRIORITY=3\n".utf8) : Array("PRIORITY=6\n".utf8))
        if partial { out.append(contentsOf: "CONTAINER_PARTIAL_MESSAGE=true\n".utf8) }
        return out
    }
}
