/// A record of dockerd's `local` log driver: a protocol buffers `LogEntry` (the log driver
/// plugin message: source = 1, time_nano = 2, line = 3, partial = 4, partial_log_metadata = 5
/// with last = 1, id = 2, ordinal = 3), framed by its length as a 4-byte big-endian number
/// before and after it, so that the file reads forwards and, for a tail, backwards. The line
/// is kept without its newline; a reader adds it back unless the record is a piece of a
/// longer line that is not its last.
public enum LocalLogRecord {
    /// Appends the framed record for `line` (raw bytes; its trailing newline is dropped).
    /// `piece`: its place in a line longer than one record (nil: a whole line).
    public static func append(line: UnsafeBufferPointer<UInt8>, stderr: Bool, timeNanoseconds: Int64,
                              piece: JournalDatagram.Partial?, to out: inout [UInt8]) {
        var text = line
        // (No `==` on the piece: comparing its String id needs Unicode tables the shim lacks.)
        if piece.map({ $0.last }) ?? true, let last = text.last, last == 0x0A {
            text = UnsafeBufferPointer(rebasing: text.dropLast())
        }
        let frameStart = out.count
        out.append(contentsOf: [0, 0, 0, 0])  // the length, filled in below
        let messageStart = out.count
        appendBytes(field: 1, Array(stderr ? "stderr".utf8 : "stdout".utf8), to: &out)
        appendTag(field: 2, wireType: 0, to: &out)
        appendVarint(UInt64(bitPattern: timeNanoseconds), to: &out)
        appendTag(field: 3, wireType: 2, to: &out)
        appendVarint(UInt64(text.count), to: &out)
        out.append(contentsOf: text)
        if let piece {
            appendTag(field: 4, wireType: 0, to: &out)
            out.append(1)
            var metadata: [UInt8] = []
            if piece.last {
                appendTag(field: 1, wireType: 0, to: &metadata)
                metadata.append(1)
            }
            appendBytes(field: 2, Array(piece.id.utf8), to: &metadata)
            appendTag(field: 3, wireType: 0, to: &metadata)
            appendVarint(UInt64(piece.ordinal), to: &metadata)
            appendBytes(field: 5, metadata, to: &out)
        }
        let length = UInt32(out.count - messageStart)
        let bigEndian = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        out.replaceSubrange(frameStart ..< messageStart, with: bigEndian)
        out.append(contentsOf: bigEndian)
    }

    public static func encode(line: [UInt8], stderr: Bool, timeNanoseconds: Int64, piece: JournalDatagram.Partial? = nil) -> [UInt8] {
        var out: [UInt8] = []
        line.withUnsafeBufferPointer { append(line: $0, stderr: stderr, timeNanoseconds: timeNanoseconds, piece: piece, to: &out) }
        return out
    }

    private static func appendTag(field: UInt64, wireType: UInt64, to out: inout [UInt8]) {
        appendVarint(field << 3 | wireType, to: &out)
    }

    private static func appendBytes(field: UInt64, _ bytes: [UInt8], to out: inout [UInt8]) {
        appendTag(field: field, wireType: 2, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }
}
