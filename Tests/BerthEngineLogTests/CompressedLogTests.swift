import BerthOCI
@testable import BerthEngine
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A gzip member of `data` in stored (uncompressed) deflate blocks, with a comment: valid
/// gzip that any reader takes, made without zlib.
func storedGzip(_ data: [UInt8], comment: String? = nil) -> [UInt8] {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
        crc ^= UInt32(byte)
        for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc ^= 0xFFFF_FFFF
    func little(_ value: UInt32, _ count: Int) -> [UInt8] { (0 ..< count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    var out: [UInt8] = [0x1F, 0x8B, 8, comment == nil ? 0 : 0x10, 0, 0, 0, 0, 0, 3]
    if let comment { out += Array(comment.utf8) + [0] }
    var offset = 0
    repeat {
        let length = min(65535, data.count - offset)
        let final: UInt8 = offset + length == data.count ? 1 : 0
        out += [final] + little(UInt32(length), 2) + little(~UInt32(length) & 0xFFFF, 2)
        out += data[offset ..< offset + length]
        offset += length
    } while offset < data.count
    return out + little(crc, 4) + little(UInt32(truncatingIfNeeded: data.count), 4)
}

func readWhole(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { return bytes }
        bytes += chunk[0 ..< count]
    }
}

/// Gzips `path.index` into `path.index.gz` as berth-shim does (its header names the plain
/// file), then removes the plain file.
func compressRotated(_ path: String, _ index: Int) {
    let plain = "\(path).\(index)"
    var info = stat()
    guard stat(plain, &info) == 0 else { return }
    let gzip = storedGzip(readWhole(plain), comment: "berth-log-source \(info.st_dev):\(info.st_ino)")
    let fd = open(plain + ".gz.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
    precondition(fd >= 0)
    gzip.withUnsafeBytes { precondition(write(fd, $0.baseAddress, $0.count) == $0.count) }
    close(fd)
    rename(plain + ".gz.tmp", plain + ".gz")
    unlink(plain)
}

/// Rotates as berth-shim does with compress=true: `.k.gz` → `.k+1.gz`, the file → `.1`, and
/// `.1` gzipped at once (the worst case for a follower of the file just rotated).
func rotateCompressed(_ writer: TestLogWriter, path: String, maxFiles: Int, compress: Bool = true) {
    unlink("\(path).\(maxFiles - 1).gz")
    var index = maxFiles - 2
    while index >= 1 {
        rename("\(path).\(index).gz", "\(path).\(index + 1).gz")
        index -= 1
    }
    writer.rotate()  // (no plain `.k` to move: all are compressed)
    if compress { compressRotated(path, 1) }
}

@Suite(.serialized) struct CompressedLogTests {
    @Test func gzipHeaderFieldsAreParsed() {
        let plain = storedGzip(Array("x\n".utf8))
        #expect(GzipHeader(plain)?.comment == nil)
        let named = storedGzip([], comment: "berth-log-source 2049:77")
        #expect(GzipHeader(named)?.comment == "berth-log-source 2049:77")
        #expect(GzipHeader(named)?.source == FileIdentity(device: 2049, inode: 77))
        // FEXTRA and FNAME come before the comment (moby writes its JSON in FEXTRA).
        let extra: [UInt8] = [0x1F, 0x8B, 8, 0x04 | 0x08 | 0x10, 1, 0, 0, 0, 0, 3, 3, 0, 0x7B, 0x7D, 0x20]
            + Array("name".utf8) + [0] + Array("berth-log-source 1:2".utf8) + [0]
        #expect(GzipHeader(extra)?.modificationTime == 1)
        #expect(GzipHeader(extra)?.comment == "berth-log-source 1:2")
        #expect(GzipHeader(extra)?.source == FileIdentity(device: 1, inode: 2))
        #expect(GzipHeader(storedGzip([], comment: "other"))?.source == nil)
        #expect(GzipHeader(storedGzip([], comment: "berth-log-source 1"))?.source == nil)
        #expect(GzipHeader(Array("{\"log\":1}".utf8)) == nil)
        #expect(GzipHeader(Array(named.prefix(14))) == nil)  // ends inside the comment
    }

    /// Lines 0..<30 over `.2.gz` (0..<10), `.1` or `.1.gz` (10..<20) and the current file.
    func compressedLog(_ dir: TempDir, compressNewest: Bool) -> JSONFileLog {
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let writer = TestLogWriter(path: log.path)
        for number in 0 ..< 30 {
            // Without compressNewest, `.1` is still waiting for its compression: plain.
            if number == 10 || number == 20 {
                rotateCompressed(writer, path: log.path, maxFiles: 3, compress: number == 10 || compressNewest)
            }
            writer.append(record(number, number % 3 == 0 ? .stderr : .stdout))
        }
        return log
    }

    @Test func readsCompressedAndPlainFilesInOrder() throws {
        for compressNewest in [true, false] {
            let dir = TempDir()
            defer { dir.remove() }
            let log = compressedLog(dir, compressNewest: compressNewest)
            #expect(log.files() == [log.path + ".2.gz", log.path + (compressNewest ? ".1.gz" : ".1"), log.path])
            #expect(numbers(try log.readAll()) == Array(0 ..< 30))
            #expect(numbers(try log.readAll(options: LogReadOptions(stdout: false))) == (0 ..< 30).filter { $0 % 3 == 0 })
            for tail in [0, 1, 10, 11, 25, 30, 31] {
                #expect(numbers(try log.readAll(options: LogReadOptions(tail: tail))) == Array(max(0, 30 - tail) ..< 30), "tail \(tail)")
            }
            let since = LogTimestamp(seconds: 1_764_414_000 + 5)
            let until = LogTimestamp(seconds: 1_764_414_000 + 14, nanoseconds: 500_000_000)
            #expect(numbers(try log.readAll(options: LogReadOptions(since: since, until: until))) == Array(5 ... 14))
            // The decompressed copies are unnamed: nothing is left beside the log.
            let names = listDirectory(dir.path)
            #expect(names.allSatisfy { $0.hasPrefix("abc-json.log") && !$0.contains("read") }, "\(names)")
        }
    }

    @Test func compressedFilesAreDecompressedOnlyWhenRead() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = compressedLog(dir, compressNewest: true)
        // `.2.gz` cut short: reading it fails, so only a read that reaches it can fail.
        let whole = readWhole(log.path + ".2.gz")
        let fd = open(log.path + ".2.gz", O_WRONLY | O_TRUNC | O_CLOEXEC)
        Array(whole.prefix(whole.count / 2)).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(numbers(try log.readAll(options: LogReadOptions(tail: 15))) == Array(15 ..< 30))
        #expect(throws: BerthError.self) { try log.readAll() }
    }

    @Test func followAcrossRotationsWhileFilesAreCompressed() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = JSONFileLog(directory: dir.path, containerID: "abc")
        let path = log.path
        let writer = TestLogWriter(path: path, maxFiles: 100)
        for number in 0 ..< 10 { writer.append(record(number)) }
        let done = Signal()
        let writing = Task.detached {
            let writer = TestLogWriter(path: path, maxFiles: 100)
            for number in 10 ..< 1500 {
                // Several rotations, each compressed at once, between two polls of the reader.
                if number % 40 == 0 { rotateCompressed(writer, path: path, maxFiles: 100) }
                writer.append(record(number))
                if number % 150 == 0 { try? await Task.sleep(for: .milliseconds(15)) }
            }
            try? await Task.sleep(for: .milliseconds(100))
            await done.fire()
        }
        var seen: [Int] = []
        try await log.read(options: LogReadOptions(follow: true), stop: { await done.wait() }) { seen += numbers([$0]) }
        _ = await writing.value
        #expect(seen == Array(0 ..< 1500))
        #expect(numbers(try log.readAll()) == Array(0 ..< 1500))
    }
}

func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}
