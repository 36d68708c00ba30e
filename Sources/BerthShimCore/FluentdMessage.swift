/// One record in fluentd's forward protocol as dockerd's fluentd driver sends it: a
/// MessagePack array `[tag, time, record, option]`. The time is whole seconds, or fluentd's
/// EventTime with `fluentd-sub-second-precision`; the record's string fields are
/// container_id (full), container_name (with its slash), source (stdout, stderr) and log (the
/// line without its newline; empty lines are sent too), then the log attributes (which win
/// over the fields of the same name, as dockerd's map does), then the partial-message fields;
/// the option is an empty map, or with fluentd-request-ack `{"chunk": ID}`, which fluentd
/// answers with `{"ack": ID}`.
public enum FluentdMessage {
    /// The fields of every record of one container, encoded once: its id and name and the
    /// extra fields (attributes). A field named like one of the record's own replaces it.
    public struct Container {
        public var id: [UInt8]
        public var name: [UInt8]
        public var extra: [(name: [UInt8], value: [UInt8])]

        public init(id: String, name: String, extra: [(name: String, value: String)]) {
            self.id = Array(id.utf8)
            self.name = Array(name.utf8)
            self.extra = extra.map { (Array($0.name.utf8), Array($0.value.utf8)) }
        }

        func overrides(_ field: StaticString) -> Bool {
            field.withUTF8Buffer { own in extra.contains { $0.name.elementsEqual(own) } }
        }
    }

    /// Where a record stands in a line longer than one record (as JournalDatagram.Partial).
    public typealias Partial = JournalDatagram.Partial

    public static func append(tag: [UInt8], seconds: Int64, nanoseconds: Int64, subSecond: Bool, container: Container,
                              line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Partial?, chunk: [UInt8]? = nil,
                              to out: inout [UInt8]) {
        var text = line
        if partial?.last ?? true, text.last == 0x0A { text = UnsafeBufferPointer(rebasing: text.dropLast()) }
        MessagePack.appendArrayHeader(4, to: &out)
        MessagePack.appendString(tag, to: &out)
        if subSecond {
            MessagePack.appendEventTime(seconds: seconds, nanoseconds: nanoseconds, to: &out)
        } else {
            MessagePack.appendInt(seconds, to: &out)
        }
        let own: [(StaticString, Bool)] = [("container_id", container.overrides("container_id")),
                                           ("container_name", container.overrides("container_name")),
                                           ("source", container.overrides("source")), ("log", container.overrides("log"))]
        let ownCount = own.filter { !$0.1 }.count
        MessagePack.appendMapHeader(ownCount + container.extra.count + (partial.map { _ in 4 } ?? 0), to: &out)
        func key(_ name: StaticString) { name.withUTF8Buffer { MessagePack.appendString($0, to: &out) } }
        if !own[0].1 {
            key("container_id")
            MessagePack.appendString(container.id, to: &out)
        }
        if !own[1].1 {
            key("container_name")
            MessagePack.appendString(container.name, to: &out)
        }
        if !own[2].1 {
            key("source")
            key(stderr ? "stderr" : "stdout")
        }
        if !own[3].1 {
            key("log")
            MessagePack.appendString(text, to: &out)
        }
        for field in container.extra {
            MessagePack.appendString(field.name, to: &out)
            MessagePack.appendString(field.value, to: &out)
        }
        if let partial {
            key("partial_message")
            key("true")
            key("partial_id")
            MessagePack.appendString(partial.id, to: &out)
            key("partial_ordinal")
            var ordinal: [UInt8] = []
            SyslogMessage.appendNumber(partial.ordinal, to: &ordinal)
            MessagePack.appendString(ordinal, to: &out)
            key("partial_last")
            key(partial.last ? "true" : "false")
        }
        if let chunk {
            MessagePack.appendMapHeader(1, to: &out)
            key("chunk")
            MessagePack.appendString(chunk, to: &out)
        } else {
            MessagePack.appendMapHeader(0, to: &out)
        }
    }

    /// A chunk id as fluent-logger makes one: 16 random bytes in standard base64 (24 bytes).
    public static func chunkID(random: (UInt64, UInt64)) -> [UInt8] {
        var bytes: [UInt8] = []
        for word in [random.0, random.1] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let rest = bytes.count - index
            let group = (UInt32(bytes[index]) << 16) | (rest > 1 ? UInt32(bytes[index + 1]) << 8 : 0) | (rest > 2 ? UInt32(bytes[index + 2]) : 0)
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            out.append(rest > 1 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
            out.append(rest > 2 ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return out
    }

    /// fluentd's answer to a message with `chunk`: the map `{"ack": chunk}`.
    public static func ack(for chunk: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        MessagePack.appendMapHeader(1, to: &out)
        MessagePack.appendString("ack", to: &out)
        MessagePack.appendString(chunk, to: &out)
        return out
    }
}
