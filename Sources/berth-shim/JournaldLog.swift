import CBerthShim

/// The journald log driver: each record is one datagram on journald's native socket. When
/// journald is not there the records are dropped (the container must not stall on it).
final class JournaldLog: LogBackend {
    static let socketPath = "/run/systemd/journal/socket"

    private let fields: [UInt8]
    private let fd: Int32
    private var address: sockaddr_un

    init(id: String, name: String?) {
        fields = JournalDatagram.containerFields(id: id, name: name)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address = UnixSocket.address(Self.socketPath)!
        // A busy journald may slow the container down, but never hang it.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    func beginChunk() {}
    func endChunk() {}
    func releaseMemory() {}

    func record(_ line: UnsafeBufferPointer<UInt8>, stderr: Bool, partial: Bool) {
        let datagram = JournalDatagram.entry(line: line, stderr: stderr, partial: partial, containerFields: fields)
        _ = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }
}
