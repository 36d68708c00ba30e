import CBerthShim

/// Listening unix sockets in the state directory.
enum UnixSocket {
    /// Binds and listens on `path` (an old socket file there is removed first). Non-blocking,
    /// close-on-exec. Returns the fd, or nil with errno set.
    static func listen(path: String, mode: mode_t = 0o600) -> Int32? {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        guard var address = address(path) else {
            close(fd)
            errno = ENAMETOOLONG
            return nil
        }
        // The socket file is created with the umask; tighten it before anyone can connect.
        let old = umask(0o077)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(old)
        guard bound == 0, chmod(path, mode) == 0, CBerthShim.listen(fd, 64) == 0 else {
            let failure = errno
            close(fd)
            errno = failure
            return nil
        }
        return fd
    }

    /// Accepts one connection, non-blocking and close-on-exec; -1 when none is waiting.
    static func accept(_ listener: Int32) -> Int32 {
        let fd = CBerthShim.accept(listener, nil, nil)
        guard fd >= 0 else { return -1 }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        setNonBlocking(fd)
        return fd
    }

    static func address(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return address
    }

    /// A path for `name` in the state directory that fits a socket address: the absolute one
    /// when it is short enough, else the name alone (the shim and the runtime it spawns both
    /// run with the state directory as their working directory).
    static func path(stateDir: String, name: String) -> String {
        let absolute = stateDir + "/" + name
        return absolute.utf8.count < 108 ? absolute : name
    }
}
