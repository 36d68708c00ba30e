import BerthEngine
import FoundationEssentials
import Glibc

extension APIServer.Listener {
    /// dockerd's -H values: unix://PATH, tcp://HOST:PORT, fd:// (every socket systemd passed)
    /// or fd://N. `environment` and `pid` are the process's own, passed in for tests.
    public static func parse(_ hosts: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                             pid: Int32 = getpid()) throws -> [APIServer.Listener] {
        try hosts.flatMap { host -> [APIServer.Listener] in
            if host.hasPrefix("unix://") {
                let path = String(host.dropFirst(7))
                guard path.hasPrefix("/") else { throw DaemonOptions.Failure("invalid unix socket path in \(host): want an absolute path") }
                return [.unix(path: path)]
            }
            if host.hasPrefix("tcp://") {
                let address = host.dropFirst(6)
                guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
                      (1...65535).contains(port) else {
                    throw DaemonOptions.Failure("invalid tcp address \(host): want tcp://HOST:PORT")
                }
                var hostName = String(address[..<colon])
                if hostName.hasPrefix("[") && hostName.hasSuffix("]") { hostName = String(hostName.dropFirst().dropLast()) }
                return [.tcp(host: hostName.isEmpty ? "0.0.0.0" : hostName, port: port)]
            }
            if host.hasPrefix("fd://") {
                return try systemdSockets(String(host.dropFirst(5)), environment: environment, pid: pid)
            }
            throw DaemonOptions.Failure("invalid host \(host): want unix://, tcp:// or fd://")
        }
    }

    /// sd_listen_fds(3): LISTEN_PID must be this process; LISTEN_FDS sockets start at fd 3.
    static func systemdSockets(_ which: String, environment: [String: String], pid: Int32) throws -> [APIServer.Listener] {
        guard environment["LISTEN_PID"] == String(pid), let count = Int32(environment["LISTEN_FDS"] ?? ""), count > 0 else {
            throw DaemonOptions.Failure("no sockets found via socket activation: make sure the service was started by systemd")
        }
        let passed = 3..<(3 + count)
        if which.isEmpty { return passed.map { .descriptor($0) } }
        guard let fd = Int32(which), passed.contains(fd) else {
            throw DaemonOptions.Failure("too few socket activated files passed in by systemd: no fd \(which)")
        }
        return [.descriptor(fd)]
    }
}
