#if canImport(Glibc)
import Glibc
#endif

/// journald's native socket, where the shims of journald-driver containers send entries.
public enum JournaldSocket {
    public static let path = "/run/systemd/journal/socket"

    /// Whether journald listens: a datagram socket connects to it (as dockerd's driver checks
    /// before it starts a container; without journald the entries would be lost).
    public static func isListening(path: String = JournaldSocket.path) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}
