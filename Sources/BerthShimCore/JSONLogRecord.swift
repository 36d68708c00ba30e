/// One line of Docker's json-file log:
/// `{"log":"text\n","stream":"stdout","time":"2026-11-29T11:00:00.123456789Z"}` + `\n`.
public enum JSONLogRecord {
    static let head: [UInt8] = Array("{\"log\":\"".utf8)
    static let stdoutMiddle: [UInt8] = Array("\",\"stream\":\"stdout\",\"time\":\"".utf8)
    static let stderrMiddle: [UInt8] = Array("\",\"stream\":\"stderr\",\"time\":\"".utf8)
    static let tail: [UInt8] = Array("\"}\n".utf8)

    /// Appends the record for `line` (raw bytes, with its `\n` unless partial).
    /// `time` is the 30-byte timestamp (see `Timestamp`); it is written as dockerd's json-file
    /// writes it, in Go's `RFC3339Nano`: the fraction without its trailing zeros (nor its dot
    /// when it is zero).
    public static func append(line: UnsafeBufferPointer<UInt8>, stderr: Bool, time: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: head)
        JSONEscape.append(line, to: &out)
        out.append(contentsOf: stderr ? stderrMiddle : stdoutMiddle)
        var end = time.count - 1  // the "Z"
        while end > 0, time[end - 1] == UInt8(ascii: "0") { end -= 1 }
        if end > 0, time[end - 1] == UInt8(ascii: ".") { end -= 1 }
        out.append(contentsOf: time[..<end])
        out.append(UInt8(ascii: "Z"))
        out.append(contentsOf: tail)
    }

    public static func encode(line: [UInt8], stderr: Bool, time: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        line.withUnsafeBufferPointer { append(line: $0, stderr: stderr, time: time, to: &out) }
        return out
    }
}
