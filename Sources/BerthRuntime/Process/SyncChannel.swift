import Glibc

/// The parent↔init handshake: a SOCK_SEQPACKET pair, one message per write.
/// The parent sends "go" once the child sits in its cgroup (and has its id maps); the child
/// answers "ready", or "error <step>: <reason>" and exits (also before "go", when it fails
/// building its root meanwhile).
struct SyncChannel {
    let parentEnd: Int32
    let childEnd: Int32

    static func make() throws -> SyncChannel {
        var fds: [Int32] = [-1, -1]
        try check("socketpair", socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds))
        return SyncChannel(parentEnd: fds[0], childEnd: fds[1])
    }

    /// False when the message could not go (the other end is gone).
    @discardableResult
    static func send(_ fd: Int32, _ message: String) -> Bool {
        var bytes = Array(message.utf8)
        return Glibc.send(fd, &bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count
    }

    /// Nil when the other end closed without a message (the child died); without `wait`, also
    /// when no message is there yet.
    static func receive(_ fd: Int32, wait: Bool = true) -> String? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = recv(fd, &buffer, buffer.count, wait ? 0 : Int32(MSG_DONTWAIT))
            if n > 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }
}
