import BerthOCI
import Glibc

/// Decompression of a whole file from one descriptor to another (gzip, zstd, xz; plain data
/// is copied as it is), for readers of compressed files that are not archives: the json-file
/// log's rotated `.gz` files and compressed build-context uploads.
public enum StreamDecompression {
    /// Reads `input` from its current offset to the end; writes the data to `output`.
    public static func copy(from input: Int32, to output: Int32) throws(BerthError) {
        do {
            try ArchiveReader.decompress(fd: input) { chunk in
                guard DescriptorIO.writeAll(output, chunk) else {
                    throw BerthError.internalError("write: \(String(cString: strerror(errno)))")
                }
            }
        } catch let error as BerthError {
            throw error
        } catch {
            throw BerthError.internalError("\(error)")
        }
    }
}
