import BerthOCI
import FoundationEssentials
import Glibc

/// Blobs by digest under `<root>/content/blobs/sha256`. A blob is written to `<root>/ingest`
/// while it is hashed, synced, and renamed into place only once complete: a crash leaves a
/// stray ingest file (removed at the next start), never a partial blob.
final class ContentStore: @unchecked Sendable {
    let blobs: String
    let ingest: String

    init(root: String) throws {
        blobs = root + "/content/blobs/sha256"
        ingest = root + "/ingest"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: ingest)
        try FileManager.default.createDirectory(atPath: ingest, withIntermediateDirectories: true)
    }

    func path(_ digest: String) -> String? {
        digestHex(digest).map { blobs + "/" + $0 }
    }

    func exists(_ digest: String) -> Bool {
        path(digest).map { FileManager.default.fileExists(atPath: $0) } ?? false
    }

    func read(_ digest: String) throws -> Data {
        guard let path = path(digest), let data = FileManager.default.contents(atPath: path) else {
            throw BerthError.notFound("content \(digest) not found")
        }
        return data
    }

    func size(_ digest: String) -> Int64 {
        var info = stat()
        guard let path = path(digest), stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }

    /// Writes what `produce` yields (it calls the writer with each chunk) and commits the blob.
    /// When `expected` is given, a different digest is refused and nothing is kept.
    func write(expected: String? = nil, _ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> (digest: String, size: Int64) {
        try ingestFile(flags: O_WRONLY) { fd, temp in
            let hasher = SHA256Hasher()
            var size: Int64 = 0
            try produce { chunk in
                hasher.update(chunk)
                guard DescriptorIO.writeAll(fd, chunk) else {
                    throw BerthError.internalError("write \(temp): \(String(cString: strerror(errno)))")
                }
                size += Int64(chunk.count)
            }
            let digest = hasher.finish()
            if let expected, expected != digest {
                throw BerthError.invalidArgument("digest mismatch: expected \(expected), got \(digest)")
            }
            return (digest, size)
        }
    }

    /// Commits what `produce` writes into the file descriptor it is given (for writers that
    /// want a file, such as libarchive's): hashed by reading the file back once complete.
    func write(intoFileDescriptor produce: (Int32) throws -> Void) throws -> (digest: String, size: Int64) {
        try ingestFile(flags: O_RDWR) { fd, temp in
            try produce(fd)
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw BerthError.internalError("seek \(temp): \(String(cString: strerror(errno)))") }
            let hasher = SHA256Hasher()
            var size: Int64 = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = Glibc.read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw BerthError.internalError("read \(temp): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                size += Int64(n)
            }
            return (hasher.finish(), size)
        }
    }

    /// A new file in the ingest directory, filled by `fill` (which answers the content's digest
    /// and size), then flushed and renamed to the blob's path; removed if anything fails.
    private func ingestFile(flags: Int32, _ fill: (Int32, String) throws -> (digest: String, size: Int64)) throws -> (digest: String, size: Int64) {
        let temp = ingest + "/" + UUID().uuidString
        let fd = open(temp, O_CREAT | flags | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BerthError.internalError("cannot create \(temp): \(String(cString: strerror(errno)))") }
        var committed = false
        defer {
            close(fd)
            if !committed { unlink(temp) }
        }
        let (digest, size) = try fill(fd, temp)
        guard fsync(fd) == 0, let target = path(digest) else { throw BerthError.internalError("fsync \(temp) failed") }
        guard rename(temp, target) == 0 else { throw BerthError.internalError("rename \(temp): \(String(cString: strerror(errno)))") }
        committed = true
        return (digest, size)
    }

    func write(_ data: Data) throws -> String {
        try write { sink in try data.withUnsafeBytes { try sink($0) } }.digest
    }

    func remove(_ digest: String) {
        if let path = path(digest) { unlink(path) }
    }
}
