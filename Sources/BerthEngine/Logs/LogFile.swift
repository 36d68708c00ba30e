import BerthOCI
import BerthStore
#if canImport(Glibc)
import Glibc
#endif

/// A file's identity: renaming keeps it, a new file at the same path has another.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The identity of the file at `path` now, or nil when there is none.
    static func of(path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(info)
    }
}

/// One open log file and a read buffer over it, handing out complete records as views into
/// the buffer: json-file's lines (without the newline), or the `local` driver's framed records
/// (without their lengths; see LocalLogEntry). Memory is the buffer alone: 256 KiB, grown for
/// a longer record up to `maxLine`; a line longer than that is skipped.
final class LogFile {
    /// How the file's records are cut: told by its first byte, `{` for JSON lines and 0 for
    /// a record's length (below 16 MiB). Nil while the file is empty.
    enum Framing { case lines, lengths }
    private(set) var framing: Framing?
    /// A record length no writer makes: the rest of the file is not read.
    private var corrupt = false

    /// The descriptor read; for a compressed file -1 until it is decompressed.
    private var fd: Int32
    let identity: FileIdentity
    /// A compressed file not decompressed yet (its `.gz`, open): that is done when its
    /// content is first needed, so a `--tail` that the newer files satisfy never pays for it.
    private var pendingGzip: (fd: Int32, path: String)?
    private var openedSize: Int64
    /// Lines that start at or after this offset are not handed out (a snapshot end for a read
    /// without follow: a line being written when the read began is still completed).
    var lineStartLimit: Int64 = .max

    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    /// The file offset of `storage[start]`.
    private var bufferOffset: Int64 = 0
    /// The file offset of the next read.
    private(set) var readOffset: Int64 = 0
    /// Skipping the rest of an over-long line.
    private var discarding = false

    static let initialCapacity = 256 << 10
    static let maxLine = 8 << 20

    /// Opens `path`; nil when it does not exist.
    convenience init?(path: String) throws(BerthError) {
        guard let (fd, info) = try LogFile.open(path) else { return nil }
        self.init(fd: fd, identity: FileIdentity(info), size: Int64(info.st_size))
    }

    /// Reads `fd` (which it closes) as the file `identity`, `size` bytes long now.
    init(fd: Int32, identity: FileIdentity, size: Int64) {
        self.fd = fd
        self.identity = identity
        openedSize = size
        capacity = LogFile.initialCapacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// The size when it was opened (a compressed file's: decompressed).
    var sizeAtOpen: Int64 {
        get throws(BerthError) {
            try decompress()
            return openedSize
        }
    }

    /// A compressed rotated file: final, never appended to.
    private(set) var isCompressed = false

    /// The rotated file `<path>.<index>`, or once compressed `<path>.<index>.gz`; nil when
    /// neither exists. A compressed one is decompressed (when first read) into an unnamed
    /// file beside it and read from there; its identity is the `.gz` file's.
    static func rotated(_ path: String, index: Int) throws(BerthError) -> LogFile? {
        if let file = try LogFile(path: "\(path).\(index)") { return file }
        let compressed = "\(path).\(index).gz"
        guard let (input, info) = try open(compressed) else { return nil }
        let file = LogFile(fd: -1, identity: FileIdentity(info), size: 0)
        file.pendingGzip = (input, compressed)
        file.isCompressed = true
        return file
    }

    private func decompress() throws(BerthError) {
        guard let (input, compressed) = pendingGzip else { return }
        pendingGzip = nil
        defer { close(input) }
        var template = Array((compressed + ".read-XXXXXX").utf8CString)
        let output = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard output >= 0 else { throw BerthError.internalError("create a file beside \(compressed): \(String(cString: strerror(errno)))") }
        _ = fcntl(output, F_SETFD, FD_CLOEXEC)
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        do throws(BerthError) {
            try StreamDecompression.copy(from: input, to: output)
        } catch {
            close(output)
            throw BerthError.internalError("read \(compressed): \(error.message)")
        }
        var decompressed = stat()
        _ = fstat(output, &decompressed)
        fd = output
        openedSize = Int64(decompressed.st_size)
    }

    /// The identity of rotated file `index` as `rotated` would give it, without reading it.
    static func rotatedIdentity(_ path: String, index: Int) -> FileIdentity? {
        FileIdentity.of(path: "\(path).\(index)") ?? FileIdentity.of(path: "\(path).\(index).gz")
    }

    /// Whether rotated file `index` is the file `identity`: that file itself, or the `.gz`
    /// berth-shim made of it (its gzip header names the plain file it came from). A source
    /// named by a header may be gone and its inode number reused by a newer file, so a
    /// search for a file that is still open must look from the newest index up.
    static func rotated(_ path: String, index: Int, is identity: FileIdentity) -> Bool {
        if let plain = FileIdentity.of(path: "\(path).\(index)") {
            if plain == identity { return true }
        }
        let fd = Glibc.open("\(path).\(index).gz", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return FileIdentity(info) == identity || GzipHeader(readPrefix(fd))?.source == identity
    }

    /// A descriptor and its stat for `path`; nil when it does not exist.
    private static func open(_ path: String) throws(BerthError) -> (Int32, stat)? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw BerthError.internalError("open \(path): \(String(cString: strerror(code)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw BerthError.internalError("stat \(path): \(String(cString: strerror(code)))")
        }
        return (fd, info)
    }

    /// The first bytes of a file (enough for a gzip header), leaving its offset at 0.
    private static func readPrefix(_ fd: Int32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return Array(bytes.prefix(max(0, count)))
    }

    deinit {
        if fd >= 0 { close(fd) }
        if let (input, _) = pendingGzip { close(input) }
        storage.deallocate()
    }

    /// The file's size now (asked of the live file only, never of a `.gz`).
    func currentSize() -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }

    /// Continues reading at `offset` (a line start), dropping what is buffered.
    func seek(to offset: Int64) {
        readOffset = offset
        bufferOffset = offset
        start = 0
        end = 0
        discarding = false
    }

    enum Status {
        /// `budget` bytes of lines were handed out; more may follow at once.
        case budget
        /// The end of the file: no complete line is left (a fragment may be).
        case endOfFile
        /// The next line starts at or after `lineStartLimit`.
        case limit
        /// The body asked to stop.
        case stopped
    }

    /// Hands each complete line to `body` (which returns false to stop), reading as needed,
    /// until `budget` bytes were consumed or the end of the file.
    func readLines(budget: Int, _ body: (UnsafeRawBufferPointer) -> Bool) throws(BerthError) -> Status {
        try decompress()
        guard let framing = try detectFraming() else { return .endOfFile }
        var consumed = 0
        while true {
            while start < end, let (record, size) = nextRecord(framing) {
                if bufferOffset >= lineStartLimit { return .limit }
                let keepGoing: Bool
                if discarding {
                    discarding = false
                    keepGoing = true
                } else {
                    keepGoing = body(record)
                }
                start += size
                bufferOffset += Int64(size)
                consumed += size
                if !keepGoing { return .stopped }
                if consumed >= budget { return .budget }
            }
            if bufferOffset >= lineStartLimit { return .limit }
            if corrupt { return .endOfFile }
            // Make room: move the fragment to the front, grow, or give up on an over-long line.
            if start == end {
                start = 0
                end = 0
            } else if start > 0 {
                (storage).copyMemory(from: storage + start, byteCount: end - start)
                end -= start
                start = 0
            }
            if end == capacity {
                if capacity < LogFile.maxLine {
                    let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                    grown.copyMemory(from: storage, byteCount: end)
                    storage.deallocate()
                    storage = grown
                    capacity *= 2
                } else {
                    discarding = true
                    bufferOffset += Int64(end)
                    end = 0
                }
            }
            let count = pread(fd, storage + end, capacity - end, off_t(readOffset))
            if count < 0 {
                if errno == EINTR { continue }
                throw BerthError.internalError("read log: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return .endOfFile }
            end += count
            readOffset += Int64(count)
        }
    }

    /// The framing, read from the first byte once there is one.
    private func detectFraming() throws(BerthError) -> Framing? {
        if let framing { return framing }
        var first: UInt8 = 0
        let count = pread(fd, &first, 1, 0)
        if count < 0 { throw BerthError.internalError("read log: \(String(cString: strerror(errno)))") }
        guard count == 1 else { return nil }
        framing = first == 0 ? .lengths : .lines
        return framing
    }

    /// The next complete record in the buffer, and how many bytes of the file it takes.
    private func nextRecord(_ framing: Framing) -> (UnsafeRawBufferPointer, Int)? {
        switch framing {
        case .lines:
            guard let newline = memchr(storage + start, 0x0A, end - start) else { return nil }
            let length = newline - storage - start
            return (UnsafeRawBufferPointer(start: storage + start, count: length), length + 1)
        case .lengths:
            guard end - start >= 4 else { return nil }
            let length = Self.bigEndian32(storage + start)
            guard length <= LogFile.maxLine - 8 else {
                corrupt = true
                return nil
            }
            guard end - start >= length + 8 else { return nil }
            return (UnsafeRawBufferPointer(start: storage + start + 4, count: length), length + 8)
        }
    }

    private static func bigEndian32(_ bytes: UnsafeRawPointer) -> Int {
        let byte = bytes.assumingMemoryBound(to: UInt8.self)
        return Int(byte[0]) << 24 | Int(byte[1]) << 16 | Int(byte[2]) << 8 | Int(byte[3])
    }

    /// The bytes after the last newline, if they start before the limit: a last line without
    /// its newline, usually half-written. (A framed record is whole or not there.)
    func fragment() -> UnsafeRawBufferPointer? {
        guard framing == .lines, start < end, !discarding, bufferOffset < lineStartLimit else { return nil }
        return UnsafeRawBufferPointer(start: storage + start, count: end - start)
    }

    /// Forgets the fragment (after it was tried once the file is final).
    func dropFragment() {
        bufferOffset += Int64(end - start)
        start = end
    }

    /// Where the `need`-th line from the end of the file starts (`need` ≥ 1), reading backwards
    /// in blocks; or, when the file has fewer lines, how many it has. A last line without
    /// a newline counts as a line.
    func lineStart(fromEnd need: Int, size: Int64) throws(BerthError) -> (offset: Int64?, lines: Int) {
        try decompress()
        guard size > 0 else { return (nil, 0) }
        if try detectFraming() == .lengths { return try frameStart(fromEnd: need, size: size) }
        let blockSize = 64 << 10
        let block = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { block.deallocate() }
        var found = 0
        var position = size  // bytes before `position` are still to scan
        var skipLastNewline = true
        while position > 0 {
            let length = Int(min(Int64(blockSize), position))
            let blockStart = position - Int64(length)
            var got = 0
            while got < length {
                let count = pread(fd, block + got, length - got, off_t(blockStart) + off_t(got))
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw BerthError.internalError("read log backwards: short read") }
                got += count
            }
            let bytes = block.assumingMemoryBound(to: UInt8.self)
            var index = length - 1
            if skipLastNewline {
                skipLastNewline = false
                if bytes[index] == 0x0A { index -= 1 }  // it ends the last line
            }
            while index >= 0 {
                if bytes[index] == 0x0A {
                    found += 1
                    if found == need { return (blockStart + Int64(index) + 1, found) }
                }
                index -= 1
            }
            position = blockStart
        }
        found += 1  // the first line of the file
        if found == need { return (0, found) }
        return (nil, found)
    }

    /// `lineStart` for framed records: each record's length also follows it, so the records
    /// are counted back from the end one length at a time. Where the lengths disagree (a
    /// record still being written at `size`), the records are counted forwards instead.
    private func frameStart(fromEnd need: Int, size: Int64) throws(BerthError) -> (offset: Int64?, lines: Int) {
        var found = 0
        var position = size
        while position >= 8 {
            let length = Int64(try lengthAt(position - 4))
            let recordStart = position - 8 - length
            guard recordStart >= 0, try lengthAt(recordStart) == Int(length) else {
                return try frameStartCountingForward(fromEnd: need, size: size)
            }
            found += 1
            if found == need { return (recordStart, found) }
            position = recordStart
        }
        return (nil, found)
    }

    private func frameStartCountingForward(fromEnd need: Int, size: Int64) throws(BerthError) -> (offset: Int64?, lines: Int) {
        var starts: [Int64] = []
        var position: Int64 = 0
        while position + 8 <= size {
            let length = Int64(try lengthAt(position))
            guard position + 8 + length <= size else { break }
            starts.append(position)
            position += 8 + length
        }
        return starts.count >= need ? (starts[starts.count - need], need) : (nil, starts.count)
    }

    private func lengthAt(_ offset: Int64) throws(BerthError) -> Int {
        var bytes: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        let count = withUnsafeMutableBytes(of: &bytes) { pread(fd, $0.baseAddress, 4, off_t(offset)) }
        guard count == 4 else { throw BerthError.internalError("read log backwards: short read") }
        return withUnsafeBytes(of: bytes) { Self.bigEndian32($0.baseAddress!) }
    }
}
