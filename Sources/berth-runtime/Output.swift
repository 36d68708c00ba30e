import Glibc

/// Unbuffered writes to stdout/stderr (no Foundation FileHandle in this lean binary).
struct FileHandleWriter {
    let fd: Int32
    static let standardOutput = FileHandleWriter(fd: 1)
    static let standardError = FileHandleWriter(fd: 2)

    func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
