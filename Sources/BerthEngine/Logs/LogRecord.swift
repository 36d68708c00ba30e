import BerthOCI
#if canImport(Glibc)
import Glibc
#endif

/// Which of a container's output streams a log line came from. The raw values are the
/// stdcopy stream bytes Docker uses in a multiplexed frame header.
public enum LogStream: UInt8, Sendable, Hashable, CustomStringConvertible {
    case stdout = 1
    case stderr = 2

    public var description: String { self == .stdout ? "stdout" : "stderr" }
}

/// One entry of a container's log: one line (or a part of a long line) as the container wrote
/// it, with the time the shim read it.
public struct LogRecord: Sendable, Hashable {
    public var stream: LogStream
    public var timestamp: LogTimestamp
    /// The bytes, with the trailing newline when the record ends a line (a partial record,
    /// cut at the logger's size limit or at exit, has none).
    public var line: [UInt8]

    public init(stream: LogStream, timestamp: LogTimestamp, line: [UInt8]) {
        self.stream = stream
        self.timestamp = timestamp
        self.line = line
    }

    public init(stream: LogStream, timestamp: LogTimestamp, text: String) {
        self.init(stream: stream, timestamp: timestamp, line: Array(text.utf8))
    }

    public var text: String { String(decoding: line, as: UTF8.self) }
}
