/// One record in fluentd's forward protocol as dockerd's fluentd driver sends it: a
/// MessagePack array `[tag, time, record, option]`. The time is whole seconds, or fluentd's
/// EventTime with `fluentd-sub-second-precision`; the record's string fields are
/// container_id (full), container_name (with its slash), source (stdout, stderr) and log (the
/// line without its newline; empty lines are sent too), then the log attributes (which win
/// over the fields of the same name, as dockerd's map does), then the partial-message fields;
/// the option is an empty map.
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
                              line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Partial?, to out: inout [UInt8]) {
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
        MessagePack.appendMapHeader(0, to: &out)
    }
}
