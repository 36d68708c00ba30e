import Glibc

/// readlink(2) with its buffer handled once.
public enum SymbolicLink {
    /// The link's target as stored (a target need not be UTF-8); nil, with errno set, when
    /// `path` is not a link or cannot be read.
    public static func targetBytes(_ path: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count - 1) }
        guard count >= 0 else { return nil }
        return Array(buffer[0..<count])
    }

    /// The target as text.
    public static func target(_ path: String) -> String? {
        targetBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }
}
