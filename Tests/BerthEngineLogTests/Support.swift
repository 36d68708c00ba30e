import BerthOCI
import BerthEngine
import BerthShimCore
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory removed by `remove()`.
struct TempDir {
    let path: String

    init() {
        var template = Array("/tmp/berth-logtest.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() {
        guard let dir = opendir(path) else { return }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { unlink(path + "/" + name) }
        }
        closedir(dir)
        rmdir(path)
    }
}

/// Writes a json-file log the way the shim does: appends lines, rotates by renaming.
final class TestLogWriter {
    let path: String
    let maxFiles: Int
    private var fd: Int32

    init(path: String, maxFiles: Int = 5) {
        self.path = path
        self.maxFiles = maxFiles
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        precondition(fd >= 0)
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            precondition(count > 0)
            done += count
        }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func append(_ record: LogRecord) { write(record.jsonFileLine) }

    /// `.k` → `.k+1` (the oldest dropped), the file → `.1`, and a new empty file.
    func rotate() {
        close(fd)
        if maxFiles > 1 {
            unlink("\(path).\(maxFiles - 1)")
            var index = maxFiles - 2
            while index >= 1 {
                rename("\(path).\(index)", "\(path).\(index + 1)")
                index -= 1
            }
            rename(path, "\(path).1")
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o640)
        precondition(fd >= 0)
    }
}

func record(_ number: Int, _ stream: LogStream = .stdout, base: Int64 = 1_764_414_000) -> LogRecord {
    LogRecord(stream: stream, timestamp: LogTimestamp(seconds: base + Int64(number), nanoseconds: Int32(number % 1000) * 1000),
              text: "line \(number)\n")
}

func numbers(_ records: [LogRecord]) -> [Int] {
    records.map { Int($0.text.dropFirst(5).dropLast())! }
}

func writeFile(_ path: String, _ text: String) {
    let writer = TestLogWriter(path: path)
    writer.write(text)
}

extension LogRecord {
    /// The record as berth-shim's json-file writer writes it.
    var jsonFileLine: [UInt8] {
        var time: [UInt8] = []
        Timestamp.append(to: &time, seconds: timestamp.seconds, nanoseconds: Int64(timestamp.nanoseconds))
        return JSONLogRecord.encode(line: line, stderr: stream == .stderr, time: time)
    }
}
