import BerthOCI

/// A record of the `local` log driver's files, as berth-shim writes them and dockerd does: a
/// protocol buffers `LogEntry` (source = 1, time_nano = 2, line = 3, partial = 4,
/// partial_log_metadata = 5 holding last = 1), the line without its newline. The newline comes
/// back unless the record is a piece of a longer line and not its last, as dockerd reads it.
enum LocalLogEntry {
    /// The record in `bytes` (the message, without its framing lengths); nil when corrupt.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> LogRecord? {
        var reader = ProtobufReader(bytes: bytes)
        var stderr = false
        var nanoseconds: Int64 = 0
        var line: [UInt8] = []
        var partial = false
        var last = false
        while !reader.atEnd {
            guard let (field, wireType) = reader.tag() else { return nil }
            switch (field, wireType) {
            case (1, 2):
                guard let source = reader.lengthDelimited() else { return nil }
                stderr = source.elementsEqual("stderr".utf8)
            case (2, 0):
                guard let value = reader.varint() else { return nil }
                nanoseconds = Int64(bitPattern: value)
            case (3, 2):
                guard let text = reader.lengthDelimited() else { return nil }
                line = Array(text)
            case (4, 0):
                guard let value = reader.varint() else { return nil }
                partial = value != 0
            case (5, 2):
                guard let metadata = reader.lengthDelimited() else { return nil }
                last = metadata.withUnsafeBytes { Self.lastFlag(of: $0) }
            default:
                guard reader.skip(wireType: wireType) else { return nil }
            }
        }
        if !partial || last { line.append(0x0A) }
        let (seconds, fraction) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        // (LogTimestamp brings a negative fraction, before 1970, into range.)
        return LogRecord(stream: stderr ? .stderr : .stdout, timestamp: LogTimestamp(seconds: seconds, nanoseconds: Int32(fraction)),
                         line: line)
    }

    /// PartialLogEntryMetadata's `last` (field 1).
    private static func lastFlag(of bytes: UnsafeRawBufferPointer) -> Bool {
        var reader = ProtobufReader(bytes: bytes)
        var last = false
        while !reader.atEnd {
            guard let (field, wireType) = reader.tag() else { return last }
            if field == 1 && wireType == 0 {
                last = (reader.varint() ?? 0) != 0
            } else if !reader.skip(wireType: wireType) {
                return last
            }
        }
        return last
    }
}

/// Reads the protocol buffers wire format, field by field.
private struct ProtobufReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var atEnd: Bool { offset >= bytes.count }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    mutating func tag() -> (UInt64, UInt64)? {
        guard let key = varint() else { return nil }
        return (key >> 3, key & 7)
    }

    mutating func lengthDelimited() -> [UInt8]? {
        guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
        defer { offset += Int(length) }
        return Array(bytes[offset ..< offset + Int(length)])
    }

    /// Steps over a field of a type this reader does not use.
    mutating func skip(wireType: UInt64) -> Bool {
        switch wireType {
        case 0: return varint() != nil
        case 1: offset += 8
        case 2: return lengthDelimited() != nil
        case 5: offset += 4
        default: return false
        }
        return offset <= bytes.count
    }
}
