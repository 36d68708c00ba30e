import BerthOCI
import BerthAPI
import BerthEngine
import FoundationEssentials
import Dispatch
import Glibc
import Logging
import Synchronization

extension Logger.Level {
    /// dockerd's level names.
    init(dockerName: String) {
        switch dockerName {
        case "debug": self = .debug
        case "warn": self = .warning
        case "error": self = .error
        case "fatal": self = .critical
        default: self = .info
        }
    }
}

/// The daemon's log level, changed by SIGHUP while the event loops log.
enum LogLevel {
    private static let index = Atomic<Int>(Logger.Level.allCases.firstIndex(of: .info)!)

    static var current: Logger.Level {
        get { Logger.Level.allCases[index.load(ordering: .relaxed)] }
        set { index.store(Logger.Level.allCases.firstIndex(of: newValue)!, ordering: .relaxed) }
    }
}

/// A log handler whose level follows `LogLevel.current`.
struct ReloadableLogHandler: LogHandler {
    var inner: StreamLogHandler
    init(_ inner: StreamLogHandler) {
        self.inner = inner
        self.inner.logLevel = .trace
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    var logLevel: Logger.Level {
        get { LogLevel.current }
        set { LogLevel.current = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
    func log(event: LogEvent) {
        inner.log(event: event)
    }
}

/// The unix sockets' owner and mode.
enum Listeners {
    /// 0660 root:<group> when the group exists (dockerd's default is the `docker` group).
    static func secureSocket(_ path: String, group: String, logger: Logger) {
        chmod(path, 0o660)
        if let entry = getgrnam(group) {
            chown(path, 0, entry.pointee.gr_gid)
        } else if group != "docker" {
            logger.warning("group \(group) not found; the socket stays root:root")
        }
    }
}

/// A locked file holding our pid: the pid file, and the data root's lock (one berthd per data root).
final class PidFile: Sendable {
    let path: String
    let fd: Int32

    init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DaemonOptions.Failure("cannot open pid file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw DaemonOptions.Failure(path.hasSuffix("/berthd.lock")
                ? "the data root \(directory) is in use by another berthd"
                : "pid file found, ensure berthd is not running or delete \(path)")
        }
        self.path = path
        ftruncate(fd, 0)
        let text = "\(getpid())\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }

    func remove() {
        unlink(path)
        close(fd)
    }
}

/// A stable daemon ID, kept in the data root.
enum DaemonIdentity {
    static func load(dataRoot: String) -> String {
        let path = dataRoot + "/engine-id"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8), !existing.isEmpty {
            return existing.trimmed()
        }
        let id = UUID().uuidString.lowercased()
        try? id.write(toFile: path, atomically: true, encoding: .utf8)
        return id
    }
}

/// READY=1 to systemd (Type=notify), sent straight to $NOTIFY_SOCKET.
enum SystemdNotify {
    static func ready() {
        guard var path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        if path.hasPrefix("@") { path = "\0" + path.dropFirst() }  // abstract socket
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array("READY=1".utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message, message.count, 0, $0, length) }
        }
    }
}

/// Waits for SIGTERM or SIGINT; calls `reload` on each SIGHUP meanwhile.
final class SignalWaiter: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    func waitForTermination(reload: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "berthd.signals")
            let resumed = Lock()
            var done = false
            for sig in [SIGTERM, SIGINT, SIGHUP] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler {
                    if sig == SIGHUP { reload(); return }
                    resumed.lock()
                    defer { resumed.unlock() }
                    if !done {
                        done = true
                        continuation.resume()
                    }
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
