/// journald's native protocol: one datagram per entry, one field after another. A value
/// without a newline is `NAME=value\n`; any other value is `NAME\n`, its length as a 64-bit
/// little-endian number, the bytes, and `\n`.
///
/// The fields are those of dockerd's journald log driver, so that `journalctl` filters and
/// `docker logs` readers work the same on either daemon's entries.
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

    /// The fields every entry of one run of a container carries, encoded once. `tag` (the
    /// `tag` log option, by default the short ID) is also the syslog identifier; `epoch`
    /// names this writer, whose entries are numbered from 1 (`CONTAINER_LOG_ORDINAL`);
    /// `extraFields` are the log attributes, as dockerd adds them.
    public static func containerFields(id: String, name: String?, tag: String? = nil, imageName: String? = nil,
                                       epoch: String, extraFields: [(name: String, value: String)] = []) -> [UInt8] {
        var out: [UInt8] = []
        let short = String(Substring(id.utf8.prefix(12)))  // ids are hex: bytes are characters
        let tag = tag ?? short
        appendField("CONTAINER_ID", short, to: &out)
        appendField("CONTAINER_ID_FULL", id, to: &out)
        if let name { appendField("CONTAINER_NAME", name, to: &out) }
        appendField("CONTAINER_TAG", tag, to: &out)
        if let imageName { appendField("IMAGE_NAME", imageName, to: &out) }
        appendField("SYSLOG_IDENTIFIER", tag, to: &out)
        appendField("CONTAINER_LOG_EPOCH", epoch, to: &out)
        for field in extraFields { appendField(field.name, field.value, to: &out) }
        return out
    }

    /// Where a record stands in a line longer than one record: every piece of the line has
    /// the same `id` and counts `ordinal` from 1; the piece that ends the line is `last`.
    public struct Partial: Equatable {
        public var id: String
        public var ordinal: Int
        public var last: Bool

        public init(id: String, ordinal: Int, last: Bool) {
            self.id = id
            self.ordinal = ordinal
            self.last = last
        }
    }

    /// One entry: MESSAGE is the line without its `\n`; PRIORITY is 6 (info) for stdout and
    /// 3 (err) for stderr; SYSLOG_TIMESTAMP the time the shim read it (RFC 3339, as Go's
    /// `RFC3339Nano`); `ordinal` the entry's number in this writer's sequence. A piece of a
    /// longer line that is not its end is marked CONTAINER_PARTIAL_MESSAGE=true.
    public static func entry(line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Partial?,
                             seconds: Int64, nanoseconds: Int64, ordinal: UInt64,
                             containerFields: [UInt8]) -> [UInt8] {
        var message = line
        if partial?.last ?? true, let last = line.last, last == 0x0A {
            message = UnsafeBufferPointer(rebasing: line.dropLast())
        }
        var out: [UInt8] = []
        out.reserveCapacity(message.count + containerFields.count + 256)
        appendField("MESSAGE", message, to: &out)
        out.append(contentsOf: containerFields)
        out.append(contentsOf: stderr ? Array("PRIORITY=3\n".utf8) : Array("PRIORITY=6\n".utf8))
        out.append(contentsOf: "SYSLOG_TIMESTAMP=".utf8)
        Timestamp.append(to: &out, seconds: seconds, nanoseconds: nanoseconds, trimmingZeros: true)
        out.append(0x0A)
        if let partial {
            appendField("CONTAINER_PARTIAL_ID", partial.id, to: &out)
            appendField("CONTAINER_PARTIAL_ORDINAL", String(partial.ordinal), to: &out)
            appendField("CONTAINER_PARTIAL_LAST", partial.last ? "true" : "false", to: &out)
            if !partial.last { out.append(contentsOf: "CONTAINER_PARTIAL_MESSAGE=true\n".utf8) }
        }
        appendField("CONTAINER_LOG_ORDINAL", String(ordinal), to: &out)
        return out
    }
}
