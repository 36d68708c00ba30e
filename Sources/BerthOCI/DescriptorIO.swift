#if canImport(Glibc)
import Glibc
#endif

/// Whole reads and writes on a file descriptor (a pipe to or from a child process), retried
/// on EINTR and short transfers.
public enum DescriptorIO {
    /// Everything until end of file (or an error).
    public static func readToEnd(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// Writes all of `bytes`; false when the descriptor stopped taking them.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Writes all of `bytes`; false when the descriptor stopped taking them (errno says why).
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }
}

/// A small file's text (nil when it cannot be opened), read with plain open/read.
/// FoundationEssentials' `String(contentsOfFile:)` and `Data(contentsOf:)` lose the 4 KiB
/// buffer they read an empty file into: a base layer's empty `lower`, read at every create
/// and start, grew the daemon by 4 KiB each time.
public func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return String(decoding: DescriptorIO.readToEnd(fd), as: UTF8.self)
}

/// A /proc file's text, read to its end. Its size reads as 0, and FoundationEssentials'
/// `String(contentsOfFile:)` then stops after the first read, which a seq_file answers with
/// one page: /proc/self/mountinfo or /proc/net/route came back cut at about 4 KB.
public func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return String(decoding: DescriptorIO.readToEnd(fd), as: UTF8.self)
}
