/// The kinds of frame on an attach or exec connection. 1 and 2 are Docker's stdcopy stream
/// numbers, so berthd can forward output frames to a multiplexed stream unchanged.
public enum FrameKind: UInt8, Sendable {
    case stdout = 1
    case stderr = 2
    /// An exec's process ended; the payload is "STATUS PID" in ASCII decimal.
    case execExit = 16
    /// An exec's process could not be started; the payload is the reason.
    case execFailed = 17
    /// An exec's process has exec'd; the payload is its pid in ASCII decimal.
    case execStarted = 18
}

/// The 8-byte frame header: kind, three zero bytes, then the payload length big-endian.
public struct FrameHeader: Sendable {
    public var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    public init(kind: UInt8, length: Int) {
        let n = UInt32(truncatingIfNeeded: length)
        bytes = (kind, 0, 0, 0, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF))
    }

    public init(kind: FrameKind, length: Int) {
        self.init(kind: kind.rawValue, length: length)
    }

    public static let size = 8

    public var array: [UInt8] {
        [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5, bytes.6, bytes.7]
    }

    /// Decodes a header (for tests and clients): the kind and the payload length.
    public static func decode<C: Collection>(_ bytes: C) -> (kind: UInt8, length: Int)? where C.Element == UInt8 {
        guard bytes.count >= size else { return nil }
        let b = Array(bytes.prefix(size))
        let length = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
        return (b[0], length)
    }
}

/// A whole frame as bytes: header then payload.
public func encodeFrame(kind: FrameKind, payload: [UInt8]) -> [UInt8] {
    FrameHeader(kind: kind, length: payload.count).array + payload
}
