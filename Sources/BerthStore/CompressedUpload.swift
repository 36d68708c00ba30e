import BerthOCI
import Glibc

/// Uploads that may come compressed (a build context sent with `--compress`).
public enum CompressedUpload {
    /// Whether the file starts like gzip, bzip2, xz or zstd data.
    public static func isCompressed(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 6)
        guard magic.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 6, 0) }) > 0 else { return false }
        return magic.starts(with: [0x1F, 0x8B]) || magic.starts(with: [0x42, 0x5A, 0x68])
            || magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) || magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD])
    }

    /// Writes the decompressed contents of `path` to `output` (made, mode 0600).
    public static func decompress(_ path: String, to output: String) throws {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BerthError.internalError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let out = open(output, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw BerthError.internalError("open \(output): \(String(cString: strerror(errno)))") }
        defer { close(out) }
        try StreamDecompression.copy(from: input, to: out)
    }
}
