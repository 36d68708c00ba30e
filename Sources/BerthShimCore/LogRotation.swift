/// json-file rotation as Docker does it: the live file is `path`, older ones `path.1` (newest)
/// up to `path.(maxFiles-1)`; at most `maxFiles` files in all.
public struct LogRotation: Equatable, Sendable {
    public var maxSize: Int64     // 0: never rotate
    public var maxFiles: Int      // 1: truncate the live file in place

    public init(maxSize: Int64, maxFiles: Int) {
        self.maxSize = maxSize
        self.maxFiles = max(1, maxFiles)
    }

    /// Whether writing `incoming` bytes to a file of `currentSize` would take it past the
    /// limit. A file that is still empty takes the record anyway (a record is never split).
    public func shouldRotate(currentSize: Int64, incoming: Int) -> Bool {
        maxSize > 0 && currentSize > 0 && currentSize + Int64(incoming) > maxSize
    }

    /// What to do to rotate: the oldest file to remove, then renames, in order.
    /// Empty when the live file is to be truncated in place (`maxFiles` = 1).
    public func steps(path: String) -> (remove: String?, renames: [(from: String, to: String)]) {
        guard maxFiles > 1 else { return (nil, []) }
        var renames: [(from: String, to: String)] = []
        var k = maxFiles - 1
        while k >= 2 {
            renames.append(("\(path).\(k - 1)", "\(path).\(k)"))
            k -= 1
        }
        renames.append((path, "\(path).1"))
        return ("\(path).\(maxFiles - 1)", renames)
    }
}
