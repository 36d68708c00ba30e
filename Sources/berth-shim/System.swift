import CBerthShim

// Small wrappers over libc used throughout the shim.

/// errno, as Glibc's Swift overlay spells it (Embedded Swift has no such overlay).
var errno: Int32 {
    get { berth_errno() }
    set { berth_set_errno(newValue) }
}

/// open(2) and fcntl(2) as Glibc's overlay spells them (the C functions are variadic).
func open(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    berth_open(path, flags, mode)
}

func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int32 = 0) -> Int32 {
    berth_fcntl(fd, command, argument)
}

func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Nanoseconds since the epoch (wall clock), for exit records.
func wallClockNanos() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Milliseconds of a clock that never jumps, for deadlines.
func monotonicMillis() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// Writes all of `bytes` to a blocking descriptor; false on error.
@discardableResult
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}

@discardableResult
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { writeAll(fd, $0) }
}

@discardableResult
func writeAll(_ fd: Int32, _ text: String) -> Bool {
    writeAll(fd, Array(text.utf8))
}

/// The whole content of a small file, or nil when it cannot be read.
func readFile(_ path: String, from offset: Int = 0) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    if offset > 0 { lseek(fd, off_t(offset), SEEK_SET) }
    var content: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        content += chunk[0..<n]
    }
    return content
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
}

/// A pipe whose ends are close-on-exec (berth_spawn maps the child's copies itself).
func makePipe() -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return (fds[0], fds[1])
}

/// A connected pair of close-on-exec unix stream sockets.
func makeSocketPair() -> (Int32, Int32)? {
    var fds: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else { return nil }
    return (fds[0], fds[1])
}

func closeIfOpen(_ fd: inout Int32) {
    if fd >= 0 { close(fd) }
    fd = -1
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Shell-style status of a wait status: the exit code, or 128 + the signal.
func shellStatus(_ waitStatus: Int32) -> Int32 {
    berth_wifexited(waitStatus) != 0 ? berth_wexitstatus(waitStatus) : 128 + berth_wtermsig(waitStatus)
}
