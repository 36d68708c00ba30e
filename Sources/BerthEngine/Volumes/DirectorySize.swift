import Glibc

/// Bytes of the regular files under a directory, each inode counted once (what dockerd
/// reports as the space a pruned volume gave back).
enum DirectorySize {
    static func of(_ path: String) -> Int64 {
        var seen = Set<UInt64>()
        return walk(path, seen: &seen)
    }

    private static func walk(_ path: String, seen: inout Set<UInt64>) -> Int64 {
        guard let directory = opendir(path) else { return 0 }
        defer { closedir(directory) }
        var total: Int64 = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: total += walk(child, seen: &seen)
            case S_IFREG: if seen.insert(UInt64(info.st_ino)).inserted { total += Int64(info.st_size) }
            default: break
            }
        }
        return total
    }
}
