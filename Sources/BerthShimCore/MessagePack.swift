/// The few MessagePack encodings fluentd's forward protocol needs, each in its smallest form
/// as Go's msgp writes it (so the bytes match dockerd's).
public enum MessagePack {
    /// A str: fixstr up to 31 bytes, then str8, str16, str32.
    public static func appendString<Bytes: Collection<UInt8>>(_ bytes: Bytes, to out: inout [UInt8]) {
        let count = bytes.count
        if count < 32 {
            out.append(0xA0 | UInt8(count))
        } else if count <= 0xFF {
            out.append(0xD9)
            out.append(UInt8(count))
        } else if count <= 0xFFFF {
            out.append(0xDA)
            appendBigEndian(UInt64(count), bytes: 2, to: &out)
        } else {
            out.append(0xDB)
            appendBigEndian(UInt64(count), bytes: 4, to: &out)
        }
        out.append(contentsOf: bytes)
    }

    public static func appendString(_ text: String, to out: inout [UInt8]) {
        appendString(text.utf8, to: &out)
    }

    public static func appendArrayHeader(_ count: Int, to out: inout [UInt8]) {
        appendHeader(count, fix: 0x90, wide16: 0xDC, wide32: 0xDD, to: &out)
    }

    public static func appendMapHeader(_ count: Int, to out: inout [UInt8]) {
        appendHeader(count, fix: 0x80, wide16: 0xDE, wide32: 0xDF, to: &out)
    }

    /// An array's or a map's header: its fix form up to 15 members, else a 16- or 32-bit count.
    private static func appendHeader(_ count: Int, fix: UInt8, wide16: UInt8, wide32: UInt8, to out: inout [UInt8]) {
        if count < 16 {
            out.append(fix | UInt8(count))
        } else if count <= 0xFFFF {
            out.append(wide16)
            appendBigEndian(UInt64(count), bytes: 2, to: &out)
        } else {
            out.append(wide32)
            appendBigEndian(UInt64(count), bytes: 4, to: &out)
        }
    }

    /// A signed integer as msgp's AppendInt64 writes it: a fixint, or the smallest signed width.
    public static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        if value >= 0 {
            if value <= 0x7F {
                out.append(UInt8(value))
            } else if value <= Int64(Int16.max) {
                out.append(0xD1)
                appendBigEndian(UInt64(value), bytes: 2, to: &out)
            } else if value <= Int64(Int32.max) {
                out.append(0xD2)
                appendBigEndian(UInt64(value), bytes: 4, to: &out)
            } else {
                out.append(0xD3)
                appendBigEndian(UInt64(value), bytes: 8, to: &out)
            }
        } else if value >= -32 {
            out.append(UInt8(truncatingIfNeeded: value))
        } else if value >= Int64(Int8.min) {
            out.append(0xD0)
            out.append(UInt8(truncatingIfNeeded: value))
        } else if value >= Int64(Int16.min) {
            out.append(0xD1)
            appendBigEndian(UInt64(bitPattern: value), bytes: 2, to: &out)
        } else if value >= Int64(Int32.min) {
            out.append(0xD2)
            appendBigEndian(UInt64(bitPattern: value), bytes: 4, to: &out)
        } else {
            out.append(0xD3)
            appendBigEndian(UInt64(bitPattern: value), bytes: 8, to: &out)
        }
    }

    /// fluentd's EventTime: the extension of type 0, eight bytes of seconds and nanoseconds.
    public static func appendEventTime(seconds: Int64, nanoseconds: Int64, to out: inout [UInt8]) {
        out.append(0xD7)
        out.append(0x00)
        appendBigEndian(UInt64(UInt32(truncatingIfNeeded: seconds)), bytes: 4, to: &out)
        appendBigEndian(UInt64(UInt32(truncatingIfNeeded: nanoseconds)), bytes: 4, to: &out)
    }

    static func appendBigEndian(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        var shift = (bytes - 1) * 8
        while shift >= 0 {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }
}
