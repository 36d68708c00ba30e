import FoundationEssentials
import Glibc

/// Files replaced whole: write a temporary file, fsync, rename over the old one, so that a
/// crash leaves the old or the new content (DESIGN rule 5).
public enum AtomicFile {
    /// A crash leaves the old or the new content. With `durable` the new content is also on
    /// disk before it replaces the old (fsync): for state that is not made again.
    public static func write(_ data: Data, to path: String, durable: Bool = true) throws {
        let temp = try prepare(data, for: path, durable: durable)
        try commit(temp, to: path)
    }

    /// write's first half: the new content in a file of its own next to `path` (returned).
    public static func prepare(_ data: Data, for path: String, durable: Bool = true) throws -> String {
        let temp = path + ".tmp"
        let fd = open(temp, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BerthError.internalError("cannot write \(temp): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = durable ? fsync(fd) : 0
        close(fd)
        guard written == data.count, synced == 0 else {
            let code = written < 0 || synced != 0 ? errno : EIO
            unlink(temp)
            throw BerthError.internalError("cannot write \(path): \(String(cString: strerror(code)))")
        }
        return temp
    }

    /// write's second half: the prepared file replaces `path`.
    public static func commit(_ temp: String, to path: String) throws {
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw BerthError.internalError("cannot write \(path): \(String(cString: strerror(code)))")
        }
    }
}
