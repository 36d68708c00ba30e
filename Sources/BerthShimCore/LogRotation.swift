/// json-file rotation as Docker does it: the live file is `path`, older ones `path.1` (newest)
/// up to `path.(maxFiles-1)`; at most `maxFiles` files in all. With `compress`, rotated files
/// are `path.K.gz` once gzipped; until then (the compression runs in the background) a rotated
/// file stays `path.K`, and moves up with the others.
public struct LogRotation: Equatable, Sendable {
    public var maxSize: Int64     // 0: never rotate
    public var maxFiles: Int      // 1: truncate the live file in place
    public var compress: Bool

    public init(maxSize: Int64, maxFiles: Int, compress: Bool = false) {
        self.maxSize = maxSize
        self.maxFiles = max(1, maxFiles)
        self.compress = compress && self.maxFiles > 1
    }

    /// Whether the live file must be rotated before the next record is written: as dockerd's
    /// json-file, once it has reached the limit. The record that reaches it still goes into
    /// the file (so a full file ends a little past max-size), and a record is never split.
    public func shouldRotate(currentSize: Int64) -> Bool {
        maxSize > 0 && currentSize >= maxSize
    }

    /// What to do to rotate: the oldest files to remove, then renames, in order (a missing
    /// source is no error: with compress, `.K` or `.K.gz` may not exist). Empty when the live
    /// file is to be truncated in place (`maxFiles` = 1).
    public func steps(path: String) -> (removals: [String], renames: [(from: String, to: String)]) {
        guard maxFiles > 1 else { return ([], []) }
        var renames: [(from: String, to: String)] = []
        var k = maxFiles - 1
        while k >= 2 {
            if compress { renames.append(("\(path).\(k - 1).gz", "\(path).\(k).gz")) }
            renames.append(("\(path).\(k - 1)", "\(path).\(k)"))
            k -= 1
        }
        renames.append((path, "\(path).1"))
        let oldest = "\(path).\(maxFiles - 1)"
        return (compress ? [oldest + ".gz", oldest] : [oldest], renames)
    }
}
