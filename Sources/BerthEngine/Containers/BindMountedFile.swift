import Glibc

/// A container's generated /etc files are bind-mounted into it: a new file renamed into
/// their place would not be seen there, so a running container's are rewritten in place.
enum BindMountedFile {
    /// false when the file cannot be opened or written in full.
    @discardableResult
    static func rewrite(_ path: String, with text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}
