import BerthOCI
import Glibc

/// Decompression of a whole file from one descriptor to another (gzip, zstd, xz; plain data
/// is copied as it is), for readers of compressed files that are not archives: the json-file
/// log's rotated `.gz` files.
public enum StreamDecompression {
    /// Reads `input` from its current offset to the end; writes the data to `output`.
    public static func copy(from input: Int32, to output: Int32) throws(BerthError) {
        do {
            try ArchiveReader.decompress(fd: input) { chunk in
                var offset = 0
                while offset < chunk.count {
                    let written = write(output, chunk.baseAddress! + offset, chunk.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw BerthError.internalError("write: \(String(cString: strerror(errno)))") }
                    offset += written
                }
            }
        } catch let error as BerthError {
            throw error
        } catch {
            throw BerthError.internalError("\(error)")
        }
    }
}
