import BerthOCI
import FoundationEssentials
import Glibc

/// dockerd's copy-up: an empty volume mounted where the image has content gets a copy of it
/// (files, directories, symlinks, device nodes, with owners, modes and times), and the
/// volume's top directory takes the owner, mode and times of the image's directory.
enum VolumeCopyUp {
    /// Copies `source` (a directory in the container's root) into the volume directory when
    /// the volume is empty. Answers whether anything was copied.
    @discardableResult
    static func fill(volume: String, from source: String) throws -> Bool {
        var info = stat()
        guard lstat(source, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return false }
        guard isEmpty(volume) else { return false }
        try copyChildren(of: source, into: volume)
        _ = lchown(volume, info.st_uid, info.st_gid)
        _ = chmod(volume, info.st_mode & 0o7777)
        var times = [info.st_atim, info.st_mtim]  // last: the copies inside changed them
        _ = utimensat(AT_FDCWD, volume, &times, 0)
        return true
    }

    static func isEmpty(_ directory: String) -> Bool {
        guard let handle = opendir(directory) else { return true }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = entryName(entry)
            if name != "." && name != ".." { return false }
        }
        return true
    }

    static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func copyChildren(of source: String, into destination: String) throws {
        guard let handle = opendir(source) else { throw failure("open", source) }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = entryName(entry)
            if name == "." || name == ".." { continue }
            try copy(source + "/" + name, to: destination + "/" + name)
        }
    }

    private static func copy(_ source: String, to destination: String) throws {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw failure("stat", source) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            guard mkdir(destination, 0o700) == 0 || errno == EEXIST else { throw failure("mkdir", destination) }
            try copyChildren(of: source, into: destination)
        case S_IFREG:
            try copyFile(source, to: destination, size: Int(info.st_size))
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(source, &buffer, buffer.count - 1)
            guard length >= 0 else { throw failure("readlink", source) }
            buffer[length] = 0
            guard symlink(buffer, destination) == 0 else { throw failure("symlink", destination) }
        default:
            // Device nodes, fifos and sockets: made again, not read.
            guard mknod(destination, info.st_mode, info.st_rdev) == 0 else { throw failure("mknod", destination) }
        }
        _ = lchown(destination, info.st_uid, info.st_gid)
        if info.st_mode & S_IFMT != S_IFLNK { _ = chmod(destination, info.st_mode & 0o7777) }
        var times = [info.st_atim, info.st_mtim]
        _ = utimensat(AT_FDCWD, destination, &times, AT_SYMLINK_NOFOLLOW)
    }

    private static func copyFile(_ source: String, to destination: String, size: Int) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("open", source) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw failure("create", destination) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(input, &buffer, buffer.count)
            if count < 0 { if errno == EINTR { continue }; throw failure("read", source) }
            if count == 0 { break }
            var written = 0
            while written < count {
                let result = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
                if result < 0 { if errno == EINTR { continue }; throw failure("write", destination) }
                written += result
            }
        }
    }

    private static func failure(_ operation: String, _ path: String) -> BerthError {
        .internalError("copying image content into the volume: \(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
