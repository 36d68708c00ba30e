import BerthOCI
#if canImport(Glibc)
import Glibc
#endif

/// What `docker logs` takes from one journal entry written by the journald log driver
/// (berth-shim, or dockerd's own driver: they write the same fields).
///
/// - `MESSAGE`: the line without its newline; a record gets the newline back unless
///   `CONTAINER_PARTIAL_MESSAGE=true` marks it as a piece of a longer line.
/// - `PRIORITY`: 6 (info) for stdout, 3 (err) for stderr; an entry with another priority
///   came from no stream and is not shown, as dockerd does.
/// - `CONTAINER_LOG_EPOCH` / `CONTAINER_LOG_ORDINAL`: which writer (one per container start)
///   and its sequence number, so that a reader knows when it has seen a writer's last entry.
public struct JournalEntry: Sendable, Equatable {
    public var message: [UInt8]?
    public var priority: Int?
    public var partial = false
    public var epoch: String?
    public var ordinal: UInt64?

    public init() {}

    /// Takes in one `NAME=value` field (as sd-journal hands them out); other fields are ignored.
    public mutating func take(_ field: UnsafeRawBufferPointer) {
        guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { return }
        let name = UnsafeRawBufferPointer(rebasing: field[..<equals])
        let value = UnsafeRawBufferPointer(rebasing: field[(equals + 1)...])
        if Self.equal(name, "MESSAGE") {
            message = Array(value)
        } else if Self.equal(name, "PRIORITY") {
            priority = Self.number(value).map { Int($0) }
        } else if Self.equal(name, "CONTAINER_PARTIAL_MESSAGE") {
            partial = Self.equal(value, "true")
        } else if Self.equal(name, "CONTAINER_LOG_EPOCH") {
            epoch = String(decoding: value, as: UTF8.self)
        } else if Self.equal(name, "CONTAINER_LOG_ORDINAL") {
            ordinal = Self.number(value)
        }
    }

    public mutating func take(_ field: String) {
        var field = field
        field.withUTF8 { take(UnsafeRawBufferPointer($0)) }
    }

    /// The stream the entry was written from, by its priority.
    public var stream: LogStream? {
        switch priority {
        case 6: return .stdout
        case 3: return .stderr
        default: return nil
        }
    }

    /// The log record, stamped with the entry's time; nil for an entry without a message or
    /// a stream.
    public func record(at timestamp: LogTimestamp) -> LogRecord? {
        guard var line = message, let stream else { return nil }
        if !partial { line.append(0x0A) }
        return LogRecord(stream: stream, timestamp: timestamp, line: line)
    }

    private static func equal(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount
            && (bytes.count == 0 || memcmp(bytes.baseAddress!, text.utf8Start, bytes.count) == 0)
    }

    private static func number(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + UInt64(byte - 0x30)
        }
        return value
    }
}
