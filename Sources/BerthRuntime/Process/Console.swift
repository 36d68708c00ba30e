import BerthOCI
import CSystemShims
import Glibc

/// A container's terminal: a pty made inside the container (from its own devpts instance),
/// whose master goes to the caller over the console socket, as runc does.
enum Console {
    /// Connects to the caller's console socket (a unix stream socket path).
    static func connect(socketPath: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ConfigError("console socket path is too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let failure = errno
            close(fd)
            throw SystemError("connect to console socket \(socketPath)", errno: failure)
        }
        return fd
    }

    /// In the container (after pivot_root and setsid): opens a pty, sends the master to the
    /// console socket, makes the slave the controlling terminal and stdio, and binds it on
    /// /dev/console when `bindConsole` is set.
    static func setUp(consoleSocket: Int32, size: Spec.ConsoleSize?, bindConsole: Bool) throws {
        var master: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        try check("open pty", berth_openpty(&master, &name, name.count))
        defer { close(master) }
        let slavePath = name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        if let size {
            try check("set console size", berth_set_winsize(master, size.height, size.width))
        }
        if bindConsole {
            try FileSystem.makeFile("/dev/console")
            try check("bind \(slavePath) on /dev/console", berth_mount(slavePath, "/dev/console", nil, UInt(MS_BIND), nil))
        }
        let slave = open(slavePath, O_RDWR | O_CLOEXEC)
        if slave < 0 { throw SystemError("open \(slavePath)") }
        try check("send console fd", berth_send_fd(consoleSocket, master, "console"))
        try check("set controlling tty", berth_set_controlling_tty(slave))
        for target in Int32(0)...2 {
            try check("dup2 console", dup2(slave, target))
        }
        close(slave)
    }
}
